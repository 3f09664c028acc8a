"""Trace the human tactic proofs of a project into training rows.

For each proved theorem whose proof is `by` followed by top-level tactics (see
`curriculum.project.tactic_blocks`), the theorem is opened with `lean.Dojo` (which replaces its proof,
so later `sorry`s in the file do not matter) and the tactics are replayed one by one with `run_tac`.
Each replayed step becomes one JSONL row

    {"theorem", "state", "tactic", "state_after", "source": "human", "file"}

with `state_after` null when the step finished the proof. Replay stops at the first LeanError (or
give-up); the theorem then counts as failed and the steps before it are kept.
"""
from __future__ import annotations

import json
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
