"""Attack the theorems of one file: search each target, reuse found proofs for later ones, write back.

This is what `prover attack` and the curriculum manager call. A proof is written to disk only after
(1) search found it, (2) the Dojo re-checked it as a whole theorem (elaborated, kernel-checked, axioms
audited: what `ProofFinished` means), and (3) the whole new file elaborated without errors. The write is
atomic and refused if the file changed since it was read.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable

from lean.config import LeanConfig
from lean.dojo import Dojo, Theorem, loaded_file_errors, tactic_block
from lean.errors import DojoInitError, LeanAgentError
from lean.server import LeanServer, default_server
from lean.source import THEOREM_KEYWORDS, declarations, find_theorem
from prover.search import BestFirstSearch, SearchConfig, SearchResult


class AttackError(LeanAgentError):
    """Bad input to an attack: unknown theorem, unreadable file, file changed underneath us."""


@dataclass
class AttackReport:
    path: Path
    results: list[SearchResult] = field(default_factory=list)
    written: bool = False
    new_text: str | None = None


def replace_proof(text: str, name: str, proof: str) -> str:
    """Put `proof` (text after `:=`) in place of theorem `name`'s proof, keeping everything else."""
    decl = find_theorem(text, name)
    if decl is None or decl.assign is None:
        raise AttackError(f"theorem {name!r} not found while writing its proof")
    return text[:decl.assign] + ":= " + proof + text[decl.end:]


def proof_text(tactics: Iterable[str]) -> str:
    return f"by\n{tactic_block(tactics)}"


def open_theorems(text: str) -> list[str]:
    return [d.full_name for d in declarations(text) if d.kind in THEOREM_KEYWORDS and d.is_sorry(text)]


def _digest(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def atomic_write(path: Path, text: str, expected_digest: str) -> None:
    """Replace `path` with `text` unless someone changed it since we read it (digest mismatch)."""
    current = path.read_bytes()
    if _digest(current) != expected_digest:
        raise AttackError(f"{path} changed since it was read; not overwriting a person's edit. Re-run to attack the new version")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, os.stat(path).st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def attack_file(path: Path, targets: list[str] | None, policy, *, search_config: SearchConfig | None = None,
                lean_config: LeanConfig | None = None, server: LeanServer | None = None, num_workers: int = 1,
                write: bool = False, premises_for_file: Callable[[str, str], Callable[[str], list[str]]] | None = None,
                on_result: Callable[[SearchResult], None] | None = None, on_start: Callable[[str], None] | None = None,
                deadline: float | None = None) -> AttackReport:
    """Search proofs for `targets` (None: every theorem whose proof is `sorry`, in file order).
    Targets not started by `deadline` (a `time.time()` value) are left for later."""
    path = Path(path)
    if not path.exists():
        raise AttackError(f"file {path} does not exist")
    raw = path.read_bytes()
    digest = _digest(raw)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise AttackError(f"{path} is not UTF-8 (byte {e.start}); re-save it as UTF-8")
    all_names = [d.full_name for d in declarations(text) if d.kind in THEOREM_KEYWORDS]
    if targets is None:
        targets = open_theorems(text)
    else:
        resolved = []
        for t in targets:
            d = find_theorem(text, t)
            if d is None:
                near = [n for n in all_names if t.split(".")[-1] in n][:5]
                raise AttackError(f"no theorem named {t!r} in {path}" + (f"; did you mean {', '.join(near)}?" if near else
                                                                           f"; it has {len(all_names)} theorems"))
            resolved.append(d.full_name)
        targets = resolved
    lean_config = lean_config or LeanConfig()
    server = server or default_server(lean_config)
    base_config = search_config or SearchConfig()
    search = BestFirstSearch(policy, base_config)
    report = AttackReport(path)
    current = text
    for name in targets:
        if deadline is not None and time.time() >= deadline:
            break
        if on_start:
            on_start(name)
        dojos: list[Dojo] = []
        try:
            dojos, init = _open_dojos(path, name, current, lean_config, server, max(1, min(num_workers, server.capacity)))
            search.premises_for = premises_for_file(current, name) if premises_for_file else None
            if deadline is not None:
                left = max(1.0, deadline - time.time())
                search.config = replace(base_config, time_budget=min(base_config.time_budget, left))
            result = search.search(dojos, init, name)
        finally:
            for d in dojos:
                d.close()
        report.results.append(result)
        if result.proved:
            current = replace_proof(current, name, proof_text(result.proof))
        if on_result:
            on_result(result)
    report.new_text = current
    if write and current != text:
        errors = loaded_file_errors(path, current, lean_config, server)
        if errors:
            e = errors[0]
            raise AttackError(f"the file with the new proofs does not elaborate (line {e.start.line + 1}: {e.message[:300]}); "
                              f"nothing was written")
        atomic_write(path, current, digest)
        report.written = True
    return report


def _open_dojos(path: Path, name: str, text: str, config: LeanConfig, server: LeanServer, n: int):
    """Open `n` Dojos on the same theorem (one worker each), starting them in parallel."""
    dojos = [Dojo(Theorem(path, name), config=config, server=server, replace_file_text=text) for _ in range(n)]
    inits: list = [None] * n
    errors: list = []

    def start(i: int) -> None:
        try:
            inits[i] = dojos[i].start()
        except BaseException as e:  # re-raised below in the caller's thread
            errors.append(e)

    threads = [threading.Thread(target=start, args=(i,)) for i in range(1, n)]
    for t in threads:
        t.start()
    start(0)
    for t in threads:
        t.join()
    if errors:
        for d in dojos:
            d.close()
        raise errors[0]
    return dojos, inits[0]
