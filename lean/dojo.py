"""The research API, in lean-dojo's vocabulary.

    with Dojo(Theorem("Foo.lean", "foo"), timeout=20) as (dojo, init_state):
        result = dojo.run_tac(init_state, "intro h")

How it works: the theorem's file, cut just after the theorem, is one document in a warm Lean worker.
A state *is* the list of tactics that led to it, so any earlier state can be extended again
(backtracking is free), and a worker that crashed or hung is replaced and the state replayed without
the caller noticing. Lean holds the proof states themselves too: the document's theorem saves its
initial state in Lean (`leanmeta.HOLD_TACTIC`), and a step is an RPC call that runs the tactic on a
held state (a few milliseconds) instead of an edit of the proof text (8-25 ms of file-worker pipeline
before any elaboration). A step that finishes the proof is checked whole: the theorem re-elaborated as
written and audited decides every `ProofFinished`, by RPC from the command state saved just before the
theorem when it passes, and by an edit of the document (whose messages stand) when it does not.
"""
from __future__ import annotations

import itertools
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from lean import leanmeta, safety
from lean.build import BuildResult, ensure_built, find_package_root, module_file, source_dirs
from lean.config import LeanConfig
from lean.errors import DojoCrashError, DojoInitError, DojoSilenceError, DojoStallError, DojoTimeoutError, InvalidStateError
from lean.lsp import Diagnostic, Position, utf16_len
from lean.results import LeanError, NotAudited, ProofFinished, ProofGivenUp, TacticResult, TacticState
from lean.server import LeanServer, default_server
from lean.source import Declaration, declarations, find_theorem, parse_header, theorem_names
from lean.worker import Elaboration, LeanWorker

_ids = itertools.count(1)
log = logging.getLogger("lean.dojo")


@dataclass(frozen=True)
class Theorem:
    """A theorem by file and (full or unambiguous short) name. Its proof may be `sorry`."""

    path: Path
    name: str

    def __post_init__(self):
        object.__setattr__(self, "path", Path(self.path))


@dataclass
class _Doc:
    """The document for one theorem, and where things are in it."""

    header: str  # import block (+ `import Lean`)
    before: str  # header + the audit command and the candidate runner (`leanmeta`) + file text up to the theorem
    head: str  # `set_option … in` + theorem statement up to `:=`
    decl: Declaration
    theorem_line: int  # 0-based line of the `set_option … in` that opens the theorem
    by_line: int  # 0-based line of `by`
    by_col: int  # UTF-16 column of `by`
    runner_lines: range  # 0-based lines of the candidate runner (`leanmeta.TRY_ELAB`)
    rpc_lines: range  # 0-based lines of the held states' definitions (`leanmeta.RPC_ELAB`)
    prefix_lines: range  # 0-based lines of the `#lean_agent_prefix` commands (empty: the text as written)
    scope_line: int | None  # 0-based line of the command that saves the state before the theorem (`leanmeta.SCOPE_COMMAND`)

    def text(self, tactics: tuple[str, ...], heartbeats: int, check: str = "") -> str:
        return f"{self.before}{self._copy(self.head, tactics, heartbeats)}{check}"

    @staticmethod
    def _copy(head: str, tactics: tuple[str, ...], heartbeats: int) -> str:
        # linters only produce style warnings, and they re-run on the theorem at every step
        return f"set_option linter.all false in\nset_option maxHeartbeats {heartbeats} in\n{head} by\n{step_block(tactics)}\n"

    def holds(self, d: Diagnostic) -> bool:
        """Whether a diagnostic is about the theorem (rather than the text before it)."""
        return d.start.line >= self.theorem_line

    def in_tactics(self, d: Diagnostic) -> bool:
        return d.start.line > self.by_line or (d.start.line == self.by_line and d.start.character > self.by_col + 1)


def tactic_block(tactics) -> str:
    """Tactics as the indented lines of a `by` block (multi-line tactics keep their relative indentation)."""
    return "\n".join(_indented(t) for t in tactics)


def _indented(tactic: str) -> str:
    return "  " + "\n  ".join(tactic.strip("\n").split("\n"))


def step_block(tactics) -> str:
    """`tactic_block` as the Dojo's documents write it: every tactic closed by `;`.

    Lean reuses a tactic's elaboration from the previous version of the document only when the tactic
    and the separator after it are unchanged. Without the `;`, the last tactic of a state has no
    separator, gains one when the next step appends a tactic, and is elaborated again at every step
    (measured: the step after a 65 ms `induction` cost 80 ms instead of 25 ms). `;` and a line break are
    the same separator in a tactic block, and a trailing `;` is allowed, so the proof means the same."""
    lines = [_indented(t) for t in tactics]
    return "\n".join(line if line.rstrip().endswith(";") else line + ";" for line in lines)


def document_header(text: str) -> tuple[str, int]:
    """The file's import block plus `import Lean` and the compiled helpers (`lean.leanmeta`, on every
    toolchain's LEAN_PATH), and where the body starts. Every document of a file shares this header, so
    one warm worker serves all its theorems."""
    hdr = parse_header(text)
    header = text[:hdr.end]
    if header and not header.endswith("\n"):
        header += "\n"
    if hdr.is_module:
        # the audit's elaborator (`leanmeta.AUDIT_ELAB`) must be public in a module, and so must what its
        # type and body name; a second import of Lean is allowed, and theorem proofs are private either way
        header += f"public import Lean\npublic {leanmeta.IMPORT_LINE}"
        return header, hdr.end
    if "Lean" not in hdr.imports:
        header += "import Lean\n"
    if leanmeta.MODULE not in hdr.imports:
        header += leanmeta.IMPORT_LINE
    return header, hdr.end


def project_context(path: Path, config: LeanConfig) -> tuple[BuildResult | None, tuple[Path, ...], tuple[Path, ...]]:
    """Build what `path` imports; return (build, LEAN_PATH additions, extra folders Lean must see).

    A worker receives its document over LSP and reads only `.olean`s (LEAN_PATH is mounted), so it
    needs no source folders: workers then depend only on LEAN_PATH and stay warm across files."""
    build = ensure_built(path, config)
    return build, ((build.out_dir,) if build else ()), ()


def file_errors(path: Path, text: str, config: LeanConfig | None = None, server: LeanServer | None = None) -> list[Diagnostic]:
    """Elaborate a whole file text (as it would be written to `path`) and return its errors."""
    config = config or LeanConfig()
    header, body_start = document_header(text)
    doc = header + text[body_start:]
    elab = _elaborate_whole(path, doc, header, config, server)
    shift = doc.count("\n", 0, len(doc) - len(text) + body_start) - text.count("\n", 0, body_start)
    return [Diagnostic(type(d.start)(d.start.line - shift, d.start.character), type(d.end)(d.end.line - shift, d.end.character),
                       d.severity, d.message) for d in elab.diagnostics if d.is_error]


def loaded_file_errors(path: Path, text: str, config: LeanConfig | None = None,
                       server: LeanServer | None = None) -> list[Diagnostic]:
    """`file_errors` for a file a Dojo has just searched in: the same check, with the text loaded as a
    Dojo loads the text before its theorem (the candidate runner, then `#lean_agent_prefix` a piece per
    declaration). The worker that searched the file's last theorem has elaborated all of it up to that
    theorem, and reuses it: checking a file of the bundled development then took 0.1-0.3 s instead of
    2-9 s, and the next file's Dojo found the runner still loaded. The errors carry the file's lines
    (column 0). If the loader itself fails, the text is checked as written (`file_errors`)."""
    config = config or LeanConfig()
    header, body_start = document_header(text)
    helpers = _helpers(header)
    pieces = _prefix_pieces(text, body_start, len(text))
    doc = helpers + "".join(leanmeta.prefix_command(p) for _, p in pieces)
    first = helpers.count("\n")
    elab = _elaborate_whole(path, doc, header, config, server)
    errors: list[Diagnostic] = []
    for d in elab.diagnostics:
        if not (d.is_error or leanmeta.PREFIX_ERROR in d.message):
            continue
        i = d.start.line - first
        found = leanmeta.parse_prefix_errors(d.message) if 0 <= i < len(pieces) else None
        if found is None:
            # an error in the runner's definitions, or the loader's own command failed (a Lean without
            # them): the loader is not there to trust, so the text is checked as written
            return file_errors(path, text, config, server)
        line0 = text.count("\n", 0, pieces[i][0])
        errors += [Diagnostic(Position(line0 + line - 1, 0), Position(line0 + line - 1, 0), 1, msg) for line, msg in found]
    return errors


def _elaborate_whole(path: Path, doc: str, header: str, config: LeanConfig, server: LeanServer | None) -> Elaboration:
    """Elaborate a whole document for the file at `path` in a pooled worker with that header."""
    _, lean_path, mounts = project_context(path, config)
    server = server or default_server(config)
    w = server.acquire(lean_path, mounts, header)
    try:
        return w.elaborate(doc, config.init_timeout, header=header)
    finally:
        server.release(w)


def _helpers(header: str) -> str:
    """The header and what every Dojo document loads after it: the audit, the candidate runner, held states."""
    return header + leanmeta.AUDIT_ELAB + leanmeta.TRY_ELAB + leanmeta.RPC_ELAB


def _prefix_pieces(text: str, start: int, end: int) -> list[tuple[int, str]]:
    """`text[start:end]` cut before each declaration (with its `… in` lines), as (offset, piece); the
    cuts of a longer span begin with those of a shorter one, so the pieces a Dojo loaded are reused."""
    cuts = [_with_in_prefixes(text, d.start) for d in declarations(text) if start < d.start < end]
    bounds = [start, *cuts, end]
    return [(a, text[a:b]) for a, b in zip(bounds, bounds[1:]) if text[a:b].strip()]


def _sorry_decls(build: BuildResult | None, root: Path | None) -> frozenset[str]:
    """Imported project declarations whose own proofs use sorry, from the build's warnings."""
    if build is None or root is None or not build.sorry_decls:
        return frozenset()
    dirs = source_dirs(root)
    bad: set[str] = set()
    for mod in {m for m, _ in build.sorry_decls}:
        lines = {l for m, l in build.sorry_decls if m == mod}
        f = module_file(mod, dirs)
        if f is None:
            continue
        text = f.read_text()
        for d in declarations(text):
            first, last = d.line, text.count("\n", 0, d.end) + 1
            if any(first <= l <= last for l in lines):
                bad.add(d.full_name)
    return frozenset(bad)


def _with_in_prefixes(text: str, start: int) -> int:
    """Where the command of the declaration at `start` begins: `open … in` / `set_option … in` lines
    above it belong to it."""
    while start > 0:
        line_start = text.rfind("\n", 0, start - 1) + 1
        if not re.search(r"(^|\s)in\s*$", text[line_start:start]):
            return start
        start = line_start
    return start


def _goals_from_unsolved(msg: str) -> str:
    return msg.split("\n", 1)[1] if "\n" in msg else ""


class Dojo:
    """Context manager owning (borrowing from the pool) one Lean worker for one theorem."""

    def __init__(self, theorem: Theorem, timeout: float | None = None, *, config: LeanConfig | None = None,
                 server: LeanServer | None = None, allowed_premises: tuple[str, ...] = (),
                 replace_file_text: str | None = None):
        self.theorem = theorem
        self.config = config or (server.config if server else LeanConfig())
        if timeout is not None:
            self.config = self.config.with_(tactic_timeout=float(timeout))
        self._server = server
        self.allowed_premises = tuple(allowed_premises)
        self._file_text = replace_file_text
        self.worker: LeanWorker | None = None
        self._states: dict[int, tuple[str, ...]] = {}
        self._lock = threading.Lock()
        self.untrusted: frozenset[str] = frozenset()
        self.runner = True  # run_tacs runs a state's tactics in Lean together (`leanmeta.TRY_ELAB`)
        self.rpc = self.config.rpc_steps  # tactics run on states held in Lean, by RPC (`leanmeta._RPC_DEFS`)
        self._held: dict[tuple[str, ...], int] = {}  # tactics -> the state's entry in Lean's table
        self.rpc_check = True  # finished proofs are checked by RPC first (`_check_by_rpc`), with the held states
        self.stats = {"steps": 0, "lean_s": 0.0, "audit_s": 0.0, "restarts": 0, "timeouts": 0, "stalls": 0}

    # ---- lifecycle -----------------------------------------------------------------------------
    def __enter__(self) -> tuple["Dojo", TacticState]:
        init = self.start()
        return self, init

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> TacticState:
        path = self.theorem.path.expanduser()
        if not path.exists():
            raise DojoInitError(f"file {path} does not exist; pass the path of a .lean file")
        if path.suffix != ".lean":
            raise DojoInitError(f"{path} is not a .lean file")
        raw = path.read_bytes() if self._file_text is None else self._file_text.encode()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise DojoInitError(f"{path} is not UTF-8 (byte {e.start}); Lean sources must be UTF-8 — re-save the file as UTF-8")
        decl = find_theorem(text, self.theorem.name)
        if decl is None:
            names = theorem_names(text)
            near = [n for n in names if self.theorem.name.split(".")[-1] in n][:5]
            hint = f" Did you mean: {', '.join(near)}?" if near else f" The file has {len(names)} theorems."
            raise DojoInitError(f"no theorem named {self.theorem.name!r} in {path}.{hint}")
        if decl.assign is None:
            raise DojoInitError(f"theorem {decl.full_name} in {path}:{decl.line} has no `:=` proof to replace "
                                f"(equation-style proofs are not supported)")
        build, lean_path, mounts = project_context(path, self.config)
        self.build: BuildResult | None = build
        self.untrusted = _sorry_decls(build, find_package_root(path.parent))
        load_prefix = self.config.load_prefix
        self._doc = self._make_doc(text, decl, load_prefix=load_prefix, scope=self.rpc)
        self._server = self._server or default_server(self.config)
        self.worker = self._server.acquire(lean_path, mounts, self._doc.header)
        # the held tactic leaves the goals as `skip` does, and holds the initial state in Lean for the steps
        first = (leanmeta.HOLD_TACTIC,) if self.rpc else ("skip",)
        try:
            try:
                elab = self._elaborate(first, initial=True)
            except DojoTimeoutError as e:
                # the wasm runtime hangs, rarely, while a fresh worker loads (seen at stop 22: a curriculum
                # round lost a whole file to one such start); not the file's fault, so one more try, on the
                # fresh worker the timeout left
                log.warning("%s; trying once more on a fresh worker", str(e).split(" Worker stderr")[0][:400])
                elab = self._elaborate(first, initial=True)
            if self._doc.prefix_lines and not self._prefix_loaded(elab):
                # an error before the theorem (or a file the loader cannot take apart): elaborate the text as
                # written, so that Lean's own messages, at their lines, say what is wrong
                load_prefix = False
                self._doc = self._make_doc(text, decl, load_prefix=False, scope=self.rpc)
                elab = self._elaborate(first, initial=True)
            runner_errors = [d for d in elab.diagnostics if d.is_error and d.start.line in self._doc.runner_lines]
            rpc_errors = [d for d in elab.diagnostics if d.is_error and
                          (d.start.line in self._doc.rpc_lines or d.start.line == self._doc.scope_line)]
            if runner_errors or rpc_errors:
                # a Lean whose API differs from the pinned one: tactics then run by edit (the runner's k
                # tactics in one edit, if it elaborates; else one edit each)
                self.rpc = False
                self.runner = not runner_errors
                log.warning("the %s does not elaborate in this Lean (%s); tactics run by edit",
                            "candidate runner" if runner_errors else "held states' RPC method",
                            (runner_errors or rpc_errors)[0].message[:300])
                if first != ("skip",):
                    self._doc = self._make_doc(text, decl, load_prefix=load_prefix, scope=False)
                    elab = self._elaborate(("skip",), initial=True)
        except BaseException:
            self.close()
            raise
        prefix_errors = [d for d in elab.diagnostics if d.is_error and d.start.line < self._doc.theorem_line
                         and d.start.line not in self._doc.runner_lines and d.start.line not in self._doc.rpc_lines]
        if prefix_errors:
            d = prefix_errors[0]
            line = d.start.line - self._line_shift + 1
            self.close()
            raise DojoInitError(f"{path} does not elaborate before theorem {decl.full_name}: line {line}: {d.message[:400]}\n"
                                f"Fix the file (or prove earlier theorems) first.")
        head_errors = [d for d in elab.diagnostics if d.is_error and self._doc.theorem_line <= d.start.line <= self._doc.by_line
                       and not (d.start.line == self._doc.by_line and d.start.character == self._doc.by_col and d.message.startswith("unsolved goals"))]
        if head_errors:
            self.close()
            raise DojoInitError(f"the statement of {decl.full_name} does not elaborate: {head_errors[0].message[:400]}")
        res = self._classify(elab, ("skip",), initial=True)
        if not isinstance(res, TacticState):
            self.close()
            raise DojoInitError(f"could not read the initial proof state of {decl.full_name}: {res}")
        init = TacticState(res.pp, 0, None, ())
        self._states[0] = ()
        self._held = {(): 0} if self.rpc else {}
        return init

    def close(self) -> None:
        w, self.worker = self.worker, None
        if w is not None and self._server is not None:
            self._server.release(w)

    # ---- documents -----------------------------------------------------------------------------
    def _make_doc(self, text: str, decl: Declaration, load_prefix: bool = True, scope: bool = True) -> _Doc:
        """The document: header, helpers, the file's text before the theorem, the theorem. With
        `load_prefix`, that text is elaborated through `#lean_agent_prefix`, a piece per declaration,
        which keeps its info trees out of the references the file worker recomputes at every edit
        (`leanmeta.TRY_ELAB`). With `scope`, a command just before the theorem saves the command state
        there, in which `_check_by_rpc` elaborates the finished theorem."""
        header, body_start = document_header(text)
        helpers = _helpers(header)
        runner_start = (header + leanmeta.AUDIT_ELAB).count("\n")
        runner_lines = range(runner_start, runner_start + leanmeta.TRY_ELAB.count("\n"))
        rpc_lines = range(runner_lines.stop, runner_lines.stop + leanmeta.RPC_ELAB.count("\n"))
        prefix = text[body_start:decl.start]
        if load_prefix:
            prefix = "".join(leanmeta.prefix_command(p) for _, p in _prefix_pieces(text, body_start, decl.start))
        prefix_lines = range(helpers.count("\n"), helpers.count("\n") + prefix.count("\n")) if load_prefix else range(0)
        before = helpers + prefix
        if not before.endswith("\n"):
            before += "\n"
        # (the file's line of an error before the theorem, as written: the scope line comes after them)
        self._line_shift = before.count("\n") - text[:decl.start].count("\n")
        scope_line = None
        if scope:
            scope_line = before.count("\n")
            before += leanmeta.SCOPE_COMMAND + "\n"
        head = text[decl.start:decl.assign].rstrip() + " :="
        theorem_line = before.count("\n")
        by_line = theorem_line + 2 + head.count("\n")  # two `set_option … in` lines
        by_col = utf16_len(head.split("\n")[-1]) + 1
        return _Doc(header, before, head, decl, theorem_line, by_line, by_col, runner_lines, rpc_lines, prefix_lines,
                    scope_line)

    def _prefix_loaded(self, elab: Elaboration) -> bool:
        """Whether the loaded text before the theorem elaborated without an error."""
        lines = self._doc.prefix_lines
        mine = [d for d in elab.diagnostics if d.start.line in lines]
        return not any(d.is_error or leanmeta.PREFIX_ERROR in d.message for d in mine)

    def _elaborate(self, tactics: tuple[str, ...], initial: bool = False, check: str = "", heartbeats: int | None = None,
                   timeout: float | None = None, text: str | None = None) -> Elaboration:
        hb = self.config.max_heartbeats if heartbeats is None else heartbeats
        text = self._doc.text(tactics, hb, check) if text is None else text
        for attempt in range(2):
            w = self.worker
            if w is None:
                raise DojoCrashError("this Dojo is closed; open a new one with `with Dojo(...)`")
            # a start: the worker loads the imports and everything before the theorem first
            starting = initial or w.text is None or w.header != self._doc.header or not w.alive()
            limit = self.config.init_timeout if starting else (timeout or self.config.tactic_timeout)
            try:
                t0 = time.time()
                silence, import_silence = (self.config.init_silence, self.config.import_silence) if starting else (0.0, 0.0)
                elab = w.elaborate(text, limit, header=self._doc.header, silence=silence, import_silence=import_silence)
                self.stats["lean_s"] += time.time() - t0
                return elab
            except DojoTimeoutError as e:
                self.stats["timeouts"] += 1
                # a start that hangs is rare and not understood yet: say what was loading and what the
                # worker last wrote, before the restart replaces its log
                tail = w.stderr_tail(600) if starting else ""
                w.start()  # the hung process is already killed; the next request replays from scratch
                self.stats["restarts"] += 1
                if starting:
                    raise DojoTimeoutError(f"{e} while loading {self.theorem.path.name} up to {self._doc.decl.full_name} "
                                           f"(its imports and everything before the theorem); raise LeanConfig.init_timeout "
                                           f"if the file is that slow. Worker stderr tail:\n{tail or '(empty)'}") from e
                raise
            except DojoCrashError as e:
                # a crash, or a stall (the worker sat idle with the request pending, or said nothing for
                # `init_silence` while it started): replay once on a fresh worker; the request itself is not
                # to blame
                self.stats["restarts"] += 1
                self.stats["stalls"] += isinstance(e, DojoStallError)
                if attempt == 1:
                    if isinstance(e, DojoSilenceError):
                        raise DojoSilenceError(f"{e} while loading {self.theorem.path.name} up to {self._doc.decl.full_name}, "
                                             f"twice; if a command before the theorem is that slow, raise "
                                             f"LeanConfig.init_silence (0 turns the check off; import_silence is "
                                             f"its limit while the imports load)") from e
                    raise
                w.start()
        raise AssertionError("unreachable")

    # ---- classification ------------------------------------------------------------------------
    def _classify(self, elab: Elaboration, tactics: tuple[str, ...], initial: bool = False) -> TacticResult:
        diags = [d for d in elab.diagnostics if self._doc.holds(d)]
        errors = [d for d in diags if d.is_error]
        tactic_errors = [d for d in errors if self._doc.in_tactics(d)]
        if tactic_errors:
            return LeanError("\n".join(d.message for d in tactic_errors))
        unsolved = [d for d in errors if d.message.startswith("unsolved goals")]
        other = [d for d in errors if d not in unsolved]
        if other:
            return LeanError("\n".join(d.message for d in other))
        if any(d.severity == 2 and "sorry" in d.message for d in diags):
            return ProofGivenUp()
        if unsolved:
            pp = "\n\n".join(_goals_from_unsolved(d.message).strip() for d in unsolved)
            return TacticState(pp, next(_ids), None, tactics)
        if initial:
            return LeanError("the theorem is already closed by `skip`")
        return ProofFinished(next(_ids), None, tactics)

    # ---- API -----------------------------------------------------------------------------------
    def _tactics_of(self, state: TacticState) -> tuple[str, ...]:
        if not isinstance(state, TacticState):
            raise InvalidStateError(f"run_tac needs a TacticState, got {type(state).__name__}")
        if state.id in self._states:
            return self._states[state.id]
        if state.tactics or state.id == 0:
            return state.tactics  # a state from another Dojo of the same theorem
        raise InvalidStateError(f"state id {state.id} was not produced by a Dojo of {self.theorem.name}")

    def _screened(self, tactic: str) -> TacticResult | None:
        """The verdict on a tactic that never reaches Lean (escapes the proof, gives up), else None."""
        why = safety.screen(tactic, self.config.max_tactic_chars)
        if why:
            return LeanError(f"rejected: {why}")
        return ProofGivenUp() if safety.gives_up(tactic) else None

    def run_tac(self, state: TacticState, tactic: str, timeout: float | None = None) -> TacticResult:
        """The result of `tactic` in `state`. `timeout` (seconds) tightens `LeanConfig.tactic_timeout` for
        this call, e.g. to the time a search has left."""
        tactics = self._tactics_of(state)
        limit = self.config.tactic_timeout if timeout is None else max(0.1, min(timeout, self.config.tactic_timeout))
        early = self._screened(tactic)
        if early is not None:
            return early
        new = tactics + (tactic,)
        with self._lock:
            self.stats["steps"] += 1
            if self.rpc:
                try:
                    answer = self._rpc_run(tactics, [tactic], limit, limit)
                except DojoTimeoutError:
                    return LeanError(f"Timeout: the tactic did not finish within {limit:.1f} s "
                                     f"(Lean was restarted; other states are unaffected)")
                if answer is not None:
                    kind, text = answer[0]
                    if kind == "E":
                        return LeanError(text)
                    if kind == "F":  # the theorem, elaborated whole as written and audited, decides
                        return self._check_by_rpc(new) or self._finish_by_edit(new)
                    res = TacticState(text, next(_ids), None, new)
                    self._states[res.id] = new
                    return res
                # no answer: the edit below runs the tactic
            try:
                elab = self._elaborate(new, timeout=limit)
            except DojoTimeoutError:
                return LeanError(f"Timeout: the tactic did not finish within {limit:.1f} s "
                                 f"(Lean was restarted; other states are unaffected)")
            except DojoCrashError as e:
                return LeanError(f"Lean crashed on this tactic and was restarted: {str(e)[:300]}")
            res = self._classify(elab, new)
            if isinstance(res, ProofFinished):
                verdict = self._verify(new)
                if verdict is not None:
                    return LeanError(f"proof rejected by the whole-theorem check: {verdict}")
            if isinstance(res, TacticState):
                self._states[res.id] = new
            elif isinstance(res, ProofFinished):
                self._states[res.tactic_state_id] = new
            return res

    @property
    def stops_in_lean(self) -> bool:
        """Whether a tactic past its limit is interrupted by Lean itself, the worker staying warm (states
        held in Lean: `leanmeta`'s watchdog), rather than by a restart of the worker (states by edit)."""
        return self.rpc

    def run_tacs(self, state: TacticState, tactics: list[str] | tuple[str, ...],
                 timeout: float | None = None, first_proof: bool = False, grace: float = 0.0) -> list[TacticResult]:
        """`[run_tac(state, t) for t in tactics]`, in one Lean round trip.

        Search asks the policy for k tactics per state. One edit of the document runs them all in Lean
        (`leanmeta.TRY_ELAB`: each from the same saved state, the state restored in between), which saves
        k-1 edits of ~20 ms each (LSP round trip, file-worker pipeline) and elaborates the state's own
        tactics once. A tactic that finishes the proof there is re-run alone through `run_tac`, so a
        `ProofFinished` has had the same whole-theorem check and audit; so are multi-line tactics (their
        layout matters to the parser) and every tactic when the runner gives no usable answer (it timed
        out or crashed, or a tactic printed into its output); each then gets its own limit. `timeout`
        caps the whole call: tactics not started within it get a Timeout error without running (inside
        Lean too: the runner checks the clock before each tactic), and a tactic already running then may
        go on for `grace` seconds more before Lean is stopped (a stop restarts the worker). With
        `first_proof` (what search wants: one proof ends it), once a finisher has passed the audit, the
        later finishers are not audited (each audit costs about as much as a few steps) and the tactics
        not yet run are not run: both come back as `NotAudited`, a `LeanError` that says so."""
        end = None if timeout is None else time.time() + timeout
        base = self._tactics_of(state)
        results: list[TacticResult | None] = [self._screened(t) for t in tactics]
        finishers: set[int] = set()
        together = [i for i, r in enumerate(results) if r is None and "\n" not in tactics[i].strip()]
        if len(together) > 1 and self.runner:
            with self._lock:
                self.stats["batches"] = self.stats.get("batches", 0) + 1
                # without a deadline: candidates may start for 2x tactic_timeout, and the last one started
                # may then run for its own tactic_timeout (3x in all, the most one call can hold a worker)
                budget = self.config.tactic_timeout * 2
                if end is not None:
                    budget = max(0.0, min(budget, end - time.time()))
                answers = self._try_in_lean(base, [tactics[i] for i in together], budget,
                                            max(0.1, budget + (grace if end is not None else self.config.tactic_timeout)),
                                            first=first_proof)
                for i, (kind, text) in zip(together, answers or ()):
                    new = base + (tactics[i],)
                    if kind == "S":
                        results[i] = TacticState(text, next(_ids), None, new)
                        self._states[results[i].id] = new
                    elif kind == "E":
                        results[i] = LeanError(text)
                    elif kind == "F":
                        finishers.add(i)
                    # N: not run, after a finisher (first_proof); below, they are run only if it fails the check
                # a step counts once: finishers (and an unanswered runner's tactics) count in their run_tac
                self.stats["steps"] += sum(kind in ("S", "E") for kind, _ in answers or ())
        proof_at: int | None = None  # the audited finisher, with first_proof
        for i, tactic in enumerate(tactics):
            if results[i] is not None:
                continue
            if proof_at is not None:
                self.stats["steps"] += i in finishers
                results[i] = NotAudited(f"not {'audited' if i in finishers else 'run'}: tactic {proof_at} of this call "
                                       f"({tactics[proof_at]!r}) already finished the proof (run_tacs first_proof=True)")
                continue
            # a tactic known to finish the proof gets its full limit for the audited re-run: a found
            # proof is worth more than the seconds past a deadline
            left = None if end is None or i in finishers else end - time.time()
            if left is not None and left <= 0:
                results[i] = LeanError(leanmeta.NOT_STARTED)
            else:
                results[i] = self.run_tac(state, tactic, timeout=None if left is None else left + grace)
                if first_proof and isinstance(results[i], ProofFinished):
                    proof_at = i
        return results  # type: ignore[return-value]

    def _try_in_lean(self, base: tuple[str, ...], tactics: list[str], budget: float, limit: float,
                     first: bool = False) -> list[tuple[str, str]] | None:
        """Each tactic's outcome from `base` as (kind, text), by one RPC call on the held state (`_rpc_run`),
        else by one run of the candidate runner: S with the goals it left, F when none are left, E with its
        error (`leanmeta.NOT_STARTED` for the tactics not started within `budget` seconds). With `first`, on
        held states, the tactics after the first F are not run (N). None when Lean gave no usable answer
        (Lean is stopped at `limit`)."""
        if self.rpc:
            try:
                return self._rpc_run(base, tactics, budget, limit, first)
            except DojoTimeoutError:
                return None
        try:
            elab = self._elaborate(base + (leanmeta.try_tactic(tactics, budget),), timeout=limit)
        except (DojoTimeoutError, DojoCrashError):
            return None
        diags = [d for d in elab.diagnostics if self._doc.holds(d)]
        if not any(d.is_error and d.message == leanmeta.TRY_END for d in diags):
            return None  # the state's own tactics failed here, or the runner did not finish
        output = "".join(d.message for d in diags if d.severity == 3 and d.message.startswith("LA-TRY "))
        return leanmeta.parse_try(output, len(tactics))

    # ---- states held in Lean (RPC) ---------------------------------------------------------------
    def _rpc_ready(self) -> bool:
        """Make the held document current (after an edit replaced it, or a restart): every earlier
        held state is then gone, and states are held again as they are used."""
        # the document whose theorem holds its initial proof state (`leanmeta.HOLD_TACTIC`)
        text = self._doc.text((leanmeta.HOLD_TACTIC,), self.config.max_heartbeats)
        w = self.worker
        if w is not None and w.alive() and w.text == text and self._held:
            return True
        self._held = {}
        elab = self._elaborate((leanmeta.HOLD_TACTIC,), initial=w is None or w.text is None)
        bad = [d for d in elab.diagnostics if d.is_error and self._doc.holds(d) and not d.message.startswith("unsolved goals")]
        if bad:
            self.rpc = False
            log.warning("the held proof state does not elaborate (%s); tactics run by edit", bad[0].message[:300])
            return False
        self._held = {(): 0}
        return True

    def _rpc_call(self, base_index: int, tactics: list[str], budget: float, limit: float, first: bool = False) -> list[dict]:
        line = self._doc.by_line + 1  # the held tactic's line
        # Lean interrupts a tactic still running at `limit`, or at its own tactic_timeout (then this worker
        # needs no restart). A tactic notices the interrupt at its next `checkSystem`: omega took up to
        # 0.5 s, so a Lean that has not answered by then is waited for a little longer before the restart
        # (with 10% of a 2 s limit, the restart won the race)
        params = {"line": line, "col": 2, "from": base_index, "ms": max(0, round(budget * 1000)), "first": first,
                  "kill": max(1, round(1000 * limit)), "each": max(1, round(1000 * self.config.tactic_timeout)),
                  "tactics": [leanmeta.rpc_tactic(t) for t in tactics]}
        t0 = time.time()
        try:
            out = self.worker.rpc_call(leanmeta.RPC_RUN, params, Position(self._doc.theorem_line, 0),
                                       limit + 2.0 + 0.1 * limit)
        finally:
            self.stats["lean_s"] += time.time() - t0
        if not isinstance(out, list) or len(out) != len(tactics):
            raise DojoCrashError(f"the RPC runner gave no usable answer: {str(out)[:300]}")
        return out

    def _rpc_run(self, base: tuple[str, ...], tactics: list[str], budget: float, limit: float,
                 first: bool = False) -> list[tuple[str, str]] | None:
        """Each tactic's outcome from the state `base` as (kind, text), as `_try_in_lean` gives them, by
        RPC on the states held in Lean. A state not held yet is reached from the longest held prefix of
        its tactics (a worker restart or an edit drops them all). None when Lean gave no usable answer;
        DojoTimeoutError when it ran past `limit` (the worker is then restarted)."""
        try:
            if not self._rpc_ready():
                return None
            k = len(base)
            while base[:k] not in self._held:
                k -= 1
            for j in range(k, len(base)):  # replay, one tactic at a time
                (r,) = self._rpc_call(self._held[base[:j]], [base[j]], self.config.tactic_timeout * 2, limit)
                if r.get("k") != "S":
                    return None
                self._held[base[:j + 1]] = int(r["i"])
            out = self._rpc_call(self._held[base], tactics, budget, limit, first)
        except DojoTimeoutError as e:
            self._rpc_failed(e)
            raise
        except DojoCrashError as e:
            # a crash or a stall: the edit path replays the state on a fresh worker
            if not self._rpc_failed(e):  # Lean answered, but not as the held states do: stop paying for calls that cannot work
                self.rpc = False
                log.warning("held proof states do not answer (%s); tactics run by edit", str(e)[:300])
            return None
        answers = []
        for t, r in zip(tactics, out):
            kind, text = str(r.get("k")), str(r.get("t", ""))
            if kind == "S":
                self._held[base + (t,)] = int(r["i"])
            elif text == leanmeta.INTERRUPTED:
                self.stats["timeouts"] += 1
                self.stats["interrupts"] = self.stats.get("interrupts", 0) + 1
            answers.append((kind, text))
        return answers

    def _rpc_failed(self, e: DojoTimeoutError | DojoCrashError) -> bool:
        """After an RPC call that got no usable answer: the held states are gone. A timeout (the worker was
        killed) or a dead worker is restarted (True); a live worker that answered unusably is left as it is
        (False: the caller turns off what does not work)."""
        self._held = {}
        if isinstance(e, DojoTimeoutError):
            self.stats["timeouts"] += 1
        elif self.worker is None or self.worker.alive():
            return False
        else:
            self.stats["stalls"] += isinstance(e, DojoStallError)
        self.stats["restarts"] += 1
        self.worker.start()
        return True

    def _check_by_rpc(self, tactics: tuple[str, ...]) -> TacticResult | None:
        """`ProofFinished` if the theorem with `tactics` passes the whole-theorem check in Lean without an
        edit: `leanmeta.RPC_CHECK` parses the theorem's text exactly as the document writes it (one
        command, nothing after it), elaborates it from the command state the document saved just before
        the theorem (`leanmeta.SCOPE_COMMAND`: same environment, namespaces, options, variables),
        kernel-checks it (synchronously: no async tasks) and reports its axioms, which pass the same
        audit as by edit. An error, a `sorry`, a failed audit or an unusable answer give None: the edit
        path (`_finish_by_edit`, `check_proof`) then decides, so every rejection and its message come
        from the document as before; only acceptance is faster (~10 ms instead of one ~40 ms edit)."""
        doc, w = self._doc, self.worker
        if not (self.rpc and self.rpc_check) or doc.scope_line is None:
            return None
        # any document of this Dojo has the saved state (the held one, or one an edit left)
        if w is None or not w.alive() or not (w.text or "").startswith(doc.before):
            try:
                if not self._rpc_ready():
                    return None
            except (DojoTimeoutError, DojoCrashError):
                return None
        params = {"line": doc.scope_line, "col": 0, "text": doc._copy(doc.head, tactics, self.config.max_heartbeats),
                  "name": doc.decl.full_name, "stops": list(self.allowed_premises)}
        limit = self.config.tactic_timeout * (len(tactics) + 1) + 30.0
        t0 = time.time()
        try:
            out = self.worker.rpc_call(leanmeta.RPC_CHECK, params, Position(doc.scope_line, 0), limit)
        except DojoTimeoutError as e:
            self._rpc_failed(e)
            return LeanError(f"proof rejected by the whole-theorem check: the re-check did not complete ({e})")
        except DojoCrashError as e:
            if not self._rpc_failed(e):  # Lean answered, but not as the check does: stop paying for calls that cannot work
                self.rpc_check = False
                log.warning("the whole-theorem check by RPC does not answer (%s); finished proofs are checked by edit",
                            str(e)[:300])
            return None
        finally:
            self.stats["audit_s"] += time.time() - t0
        self.stats["rpc_checks"] = self.stats.get("rpc_checks", 0) + 1
        if not isinstance(out, dict) or not isinstance(out.get("msgs"), list) or not isinstance(out.get("report"), str):
            return None  # Lean could not take the text as one theorem (its reason is out["error"])
        msgs = [m for m in out["msgs"] if isinstance(m, dict)]
        if len(msgs) != len(out["msgs"]) or any(m.get("s") == 1 or (m.get("s") == 2 and "sorry" in str(m.get("t")))
                                                for m in msgs):
            return None
        reports = leanmeta.parse_report("LA-AXIOMS", out["report"])
        if len(reports) != 1:
            return None
        leaves = next(iter(reports.values()))
        if safety.axiom_verdict(leaves, frozenset(self.allowed_premises), self.untrusted) is not None:
            return None
        self.stats["rpc_accepted"] = self.stats.get("rpc_accepted", 0) + 1
        res = ProofFinished(next(_ids), None, tactics)
        self._states[res.tactic_state_id] = tactics
        return res

    def _verify(self, tactics: tuple[str, ...], fresh: bool = False) -> str | None:
        """Collect the finished theorem's axioms in Lean; with `fresh`, first re-elaborate the whole
        theorem as written (a changed `set_option` forces a fresh elaboration of the command).
        None means accepted."""
        return self._audited(tactics, fresh)[1]

    def _finish_by_edit(self, tactics: tuple[str, ...]) -> TacticResult:
        """The verdict on `tactics`, which closed the goals on a held state: one edit elaborates the
        theorem with them as written and audits it (`_audited`)."""
        res, verdict = self._audited(tactics)
        if isinstance(res, TacticState):
            self._states[res.id] = tactics  # as written, goals are left (the held run was more lenient)
            return res
        if res is not None and not isinstance(res, ProofFinished):
            return res
        if verdict is not None:
            return LeanError(f"proof rejected by the whole-theorem check: {verdict}")
        self._states[res.tactic_state_id] = tactics
        return res

    def _audited(self, tactics: tuple[str, ...], fresh: bool = False) -> tuple[TacticResult | None, str | None]:
        """`_verify`'s work: the theorem with `tactics` classified (None if the check did not complete)
        and the verdict (None: accepted)."""
        stop = tuple(self.allowed_premises)
        # closing the theorem's namespaces/sections puts the report at the top level of the file; any
        # error in it (say, a clash with the file's names) leaves no report, and the proof is rejected
        check = self._doc.decl.closing_commands() + leanmeta.axioms_command(self._doc.decl.full_name, stop)
        try:
            # fresh: a changed `set_option` re-elaborates the whole theorem; otherwise only the report runs
            # (the theorem was just elaborated and kernel-checked in this very document)
            limit = self.config.tactic_timeout * (len(tactics) + 1) + 30.0
            hb = self.config.max_heartbeats + (1 if fresh else 0)
            t0 = time.time()
            elab = self._elaborate(tactics, check=check, heartbeats=hb, timeout=limit)
            self.stats["audit_s"] += time.time() - t0
        except (DojoTimeoutError, DojoCrashError) as e:
            return None, f"the re-check did not complete ({e})"
        res = self._classify(elab, tactics)
        if not isinstance(res, ProofFinished):
            return res, f"re-elaboration gave {type(res).__name__}: {getattr(res, 'error', '')[:300]}"
        infos = "\n".join(d.message for d in elab.diagnostics if not d.is_error)
        reports = leanmeta.parse_report("LA-AXIOMS", infos)
        if len(reports) != 1:
            errs = [d.message for d in elab.diagnostics if d.is_error]
            return res, f"Lean produced no axiom report for the theorem ({'; '.join(errs)[:300] or 'missing output'})"
        leaves = next(iter(reports.values()))
        return res, safety.axiom_verdict(leaves, frozenset(self.allowed_premises), self.untrusted)

    def check_proof(self, tactics: list[str] | tuple[str, ...]) -> TacticResult:
        """Verdict on a whole tactic proof, replayed from the initial state as one text."""
        tactics = tuple(tactics)
        for t in tactics:
            early = self._screened(t)
            if early is not None:
                return early
        with self._lock:
            accepted = self._check_by_rpc(tactics)
            if accepted is not None:
                return accepted
            try:
                elab = self._elaborate(tactics)
            except (DojoTimeoutError, DojoCrashError) as e:
                return LeanError(str(e))
            res = self._classify(elab, tactics)
            if isinstance(res, ProofFinished):
                verdict = self._verify(tactics, fresh=True)
                if verdict is not None:
                    return LeanError(f"proof rejected by the whole-theorem check: {verdict}")
            return res

    def proof_text(self, tactics: tuple[str, ...]) -> str:
        """The proof as it would be written into the file (after `:=`)."""
        return f"by\n{tactic_block(tactics)}"
