"""Trace the human tactic proofs of a project into training rows.

For each proved theorem whose proof is `by` followed by top-level tactics (see
`curriculum.project.tactic_blocks`), the theorem is opened with `lean.Dojo` (which replaces its proof,
so later `sorry`s in the file do not matter) and the tactics are replayed one by one with `run_tac`.
Each replayed step becomes one JSONL row

    {"theorem", "state", "tactic", "state_after", "source": "human", "file"}

with `state_after` null when the step finished the proof. Replay stops at the first LeanError (or
give-up); the theorem then counts as failed and the steps before it are kept.

A structured step (`induction t with | leaf => … | node l v r ihl ihr => …`, a `·` bullet) is also
traced inside (`descend`): its head (`induction t`), then per arm a `rename_i l v r ihl ihr` and the
arm's own tactics, one row each. Whole, such a script rarely fits another theorem; its inner steps are
what a policy meets after its own `induction t`, so they are the rows worth learning from.
"""
from __future__ import annotations

import json
import re
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from curriculum.project import TheoremInfo, list_theorems, tactic_blocks, trimmed_end
from lean.config import LeanConfig
from lean.dojo import Dojo, Theorem
from lean.errors import LeanAgentError
from lean.results import LeanError, ProofFinished, ProofGivenUp, TacticState
from lean.source import find_theorem

_UNVERIFIED = "proof rejected by the whole-theorem check"


@dataclass
class TraceStats:
    theorems: int = 0  # theorems attempted (proved, with a top-level tactic proof)
    steps: int = 0  # rows written
    failed: int = 0  # theorems whose replay stopped before the proof was finished
    seconds: float = 0.0
    replayed: dict[str, tuple[int, int]] = field(default_factory=dict)  # name → (steps replayed, tactics)
    errors: dict[str, str] = field(default_factory=dict)  # name → why the replay stopped
    skipped: list[str] = field(default_factory=list)  # proved theorems without a top-level tactic proof


def theorem_tactics(thm: TheoremInfo) -> list[str] | None:
    text = thm.file.read_text(encoding="utf-8")
    decl = find_theorem(text, thm.full_name)
    if decl is None:
        return None
    return tactic_blocks(text, decl.assign, trimmed_end(text, decl))


def trace_theorem(thm: TheoremInfo, root: Path, server=None, config: LeanConfig | None = None,
                  tactics: list[str] | None = None) -> tuple[list[dict], int, str | None]:
    """(rows, steps replayed, error or None when the proof was replayed to the end)."""
    tactics = theorem_tactics(thm) if tactics is None else tactics
    if not tactics:
        return [], 0, "no top-level tactic proof"
    try:
        rel = str(thm.file.resolve().relative_to(Path(root).resolve()))
    except ValueError:
        rel = str(thm.file)
    rows: list[dict] = []
    try:
        with Dojo(Theorem(thm.file, thm.full_name), config=config, server=server) as (dojo, state):
            for i, tac in enumerate(tactics):
                rows += descend(dojo, state, tac, lambda before, t, after: _row(thm, rel, before, t, after))
                res = dojo.run_tac(state, tac)
                if isinstance(res, LeanError) and res.error.startswith(_UNVERIFIED) and i == len(tactics) - 1:
                    # goals closed, but the theorem rests on a sorry'd or non-standard premise: still a
                    # valid human step for training
                    res = ProofFinished(-1, None, state.tactics + (tac,))
                if isinstance(res, TacticState):
                    rows.append(_row(thm, rel, state.pp, tac, res.pp))
                    state = res
                elif isinstance(res, ProofFinished):
                    rows.append(_row(thm, rel, state.pp, tac, None))
                    if i != len(tactics) - 1:
                        return rows, i + 1, f"proof finished after {i + 1} of {len(tactics)} tactics"
                    return rows, i + 1, None
                elif isinstance(res, ProofGivenUp):
                    return rows, i, f"tactic {i + 1} gives up: {tac!r}"
                else:
                    return rows, i, f"tactic {i + 1} {tac!r} failed: {res.error[:500]}"
            return rows, len(tactics), "goals remain after the last tactic"
    except LeanAgentError as e:
        return rows, len(rows), f"{type(e).__name__}: {str(e)[:500]}"


_ARM = re.compile(r"^(\s*)\|\s*[.@]?([^\s=]+)((?:\s+[^\s=]+)*)\s*=>(.*)$")


def split_tactics(body: str) -> list[str] | None:
    """The top-level tactics of a tactic block's text (as `tactic_blocks` splits a proof)."""
    text = ":= by\n" + "\n".join("  " + ln for ln in body.split("\n"))
    return tactic_blocks(text, 0, len(text))


def structured_parts(tactic: str) -> tuple[str, list[tuple[str, list[str], list[str]]]] | None:
    """`induction t with | leaf => A | node l v r ihl ihr => B` -> ("induction t", [("leaf", [], [A…]),
    ("node", ["l", "v", "r", "ihl", "ihr"], [B…])]); `· A\n  B` -> ("", [("", [], [A, B])]). None when
    the tactic is not structured (or its layout is not understood)."""
    from prover.memory import first_step

    lines = tactic.strip("\n").split("\n")
    if lines[0].startswith("· ") or lines[0].startswith(". "):
        inner = split_tactics("\n".join([lines[0][2:]] + [ln[2:] if ln.startswith("  ") else ln for ln in lines[1:]]))
        return ("", [("", [], inner)]) if inner else None
    head = first_step(lines[0])
    if head is None:
        return None
    arms: list[tuple[str, list[str], list[str]]] = []
    cur: list | None = None
    indent = None
    for ln in lines[1:] + ["| end =>"]:
        a = _ARM.match(ln)
        if a and (indent is None or len(a.group(1)) <= indent):
            if cur is not None:
                first, rest = cur[2]
                body = ([first.strip()] if first.strip() else []) + ([textwrap.dedent("\n".join(rest))] if any(r.strip() for r in rest) else [])
                inner = split_tactics("\n".join(body)) if body else None
                if not inner:
                    return None
                arms.append((cur[0], cur[1], inner))
            indent = len(a.group(1))
            cur = [a.group(2), a.group(3).split(), (a.group(4), [])]
        elif cur is None:
            return None
        else:
            cur[2][1].append(ln)
    return (head, arms) if arms else None


def descend(dojo, state: TacticState, tactic: str, row: Callable[[str, str, str | None], dict],
            depth: int = 3) -> list[dict]:
    """Rows for the inner steps of a structured `tactic` run in `state` (see the module docstring):
    replayed one by one, each arm on its own goal; stops quietly at the first step that does not
    replay as written (the whole tactic's own row is the caller's)."""
    from prover.memory import rename_i
    from prover.policy import parse_goals

    parts = structured_parts(tactic) if depth > 0 else None
    if parts is None:
        return []
    head, arms = parts
    rows: list[dict] = []

    def step(st: TacticState, tac: str) -> TacticState | ProofFinished | None:
        rows.extend(descend(dojo, st, tac, row, depth - 1))
        res = dojo.run_tac(st, tac)
        if isinstance(res, (TacticState, ProofFinished)):
            rows.append(row(st.pp, tac, res.pp if isinstance(res, TacticState) else None))
            return res
        return None

    cur: TacticState | ProofFinished | None = step(state, head) if head else state
    for tag, names, body in arms:
        if not isinstance(cur, TacticState):
            break
        goals = parse_goals(cur.pp)
        if tag and (not goals or (goals[0].tag or "").split(".")[-1] != tag):
            break  # arms written out of goal order: not replayable one by one
        naming = rename_i(names)
        if naming:
            cur = step(cur, naming)
        for tac in body:
            if not isinstance(cur, TacticState):
                break
            cur = step(cur, tac)
    return rows


def _row(thm: TheoremInfo, file: str, before: str, tactic: str, after: str | None) -> dict:
    return {"theorem": thm.full_name, "state": before, "tactic": tactic, "state_after": after,
            "source": "human", "file": file}


def trace_project(root: Path | str, out_path: Path | str, theorems: Iterable[str] | None = None, *,
                  server=None, config: LeanConfig | None = None,
                  progress: Callable[[str], None] | None = None) -> TraceStats:
    """Trace every proved tactic theorem of the project (or only the named ones) into `out_path` (JSONL)."""
    t0 = time.time()
    root = Path(root).resolve()
    config = config or (server.config if server is not None else LeanConfig())
    if server is None:
        from lean.server import default_server
        server = default_server(config)
    wanted = None if theorems is None else set(theorems)
    all_thms = list_theorems(root)
    if wanted is not None:
        missing = wanted - {t.full_name for t in all_thms}
        if missing:
            from curriculum.project import ProjectError
            raise ProjectError(f"not theorems of {root}: {', '.join(sorted(missing))}")
    stats = TraceStats()
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with open(out_path, "w", encoding="utf-8") as out:
        for thm in all_thms:
            if wanted is not None and thm.full_name not in wanted:
                continue
            if thm.is_sorry:
                continue
            tactics = theorem_tactics(thm)
            if not tactics:
                stats.skipped.append(thm.full_name)
                continue
            stats.theorems += 1
            rows, replayed, err = trace_theorem(thm, root, server, config, tactics)
            for r in rows:
                out.write(json.dumps(r, ensure_ascii=False) + "\n")
            out.flush()
            stats.steps += len(rows)
            stats.replayed[thm.full_name] = (replayed, len(tactics))
            if err is not None:
                stats.failed += 1
                stats.errors[thm.full_name] = err
            if progress:
                progress(f"{thm.full_name}: {replayed}/{len(tactics)} steps" + (f" ({err[:120]})" if err else ""))
    stats.seconds = time.time() - t0
    return stats


def read_trace(path: Path | str) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]
