"""Expert iteration: proofs found by search become new training examples (source="search")."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from training.data import Example, dedup

__all__ = ["examples_from_proof", "examples_from_edges"]


def examples_from_proof(
    theorem: str, states: Sequence[str], tactics: Sequence[str], file: str | None = None
) -> list[Example]:
    """One example per step of a found proof.

    `states[i]` is the state `tactics[i]` was run in; `states` may hold one extra final state (e.g.
    "no goals"), which becomes the last step's `state_after`.
    """
    if len(states) not in (len(tactics), len(tactics) + 1):
        raise ValueError(
            f"{len(states)} states for {len(tactics)} tactics; pass one state per tactic "
            "(optionally plus the final state)"
        )
    out = []
    for i, tac in enumerate(tactics):
        after = states[i + 1] if i + 1 < len(states) else None
        out.append(Example(theorem=theorem, state=states[i], tactic=tac, state_after=after, source="search", file=file))
    return out


def examples_from_edges(
    edges: Iterable[Mapping[str, Any]], theorem: str = "", file: str | None = None
) -> list[Example]:
    """Examples from search-graph edges that lie on a successful proof path (others are dropped).

    Each edge is a dict with `state`, `tactic`, `result_state` (str or None) and `on_proof_path`;
    an edge's own `theorem` key, if any, overrides the argument.
    """
    out = []
    for i, e in enumerate(edges):
        missing = [k for k in ("state", "tactic", "on_proof_path") if k not in e]
        if missing:
            raise ValueError(f"edge {i} lacks key(s) {', '.join(missing)}; edges need state, tactic, result_state, on_proof_path")
        if not e["on_proof_path"]:
            continue
        out.append(Example(
            theorem=str(e.get("theorem", theorem)), state=e["state"], tactic=e["tactic"],
            state_after=e.get("result_state"), source="search", file=e.get("file", file),
        ))
    return dedup(out)
