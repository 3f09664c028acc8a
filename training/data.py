"""Training data: (state, tactic) steps stored as JSONL, and a replay buffer of older steps.

One JSON object per line::

    {"theorem": str, "state": str, "tactic": str, "state_after": str | null,
     "source": "human" | "search", "file": str | null}
"""
from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["Example", "DataError", "load_examples", "save_examples", "ReplayBuffer", "SOURCES", "with_first_steps"]

SOURCES = ("human", "search")
_REQUIRED = ("theorem", "state", "tactic")


class DataError(ValueError):
    """A dataset file is malformed; the message names the file and line."""


@dataclass(frozen=True)
class Example:
    """One proof step: in `state`, `tactic` was run (leading to `state_after`)."""

    theorem: str
    state: str
    tactic: str
    state_after: str | None = None
    source: str = "human"
    file: str | None = None

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"Example.source must be one of {SOURCES}, got {self.source!r}")
        for name in _REQUIRED:
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"Example.{name} must be a string, got {type(getattr(self, name)).__name__}")
        if not self.tactic.strip():
            raise ValueError("Example.tactic must be non-empty")

    @property
    def key(self) -> tuple[str, str]:
        """Identity for deduplication: the same tactic in the same state is one example."""
        return (self.state, self.tactic.strip())

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, obj: Any) -> Example:
        if not isinstance(obj, dict):
            raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
        missing = [k for k in _REQUIRED if k not in obj]
        if missing:
            raise ValueError(f"missing field(s) {', '.join(missing)} (required: {', '.join(_REQUIRED)})")
        unknown = set(obj) - {"theorem", "state", "tactic", "state_after", "source", "file"}
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(sorted(unknown))}")
        return cls(
            theorem=obj["theorem"], state=obj["state"], tactic=obj["tactic"],
            state_after=obj.get("state_after"), source=obj.get("source", "human"), file=obj.get("file"),
        )


def load_examples(paths: str | Path | Sequence[str | Path]) -> list[Example]:
    """Read one or more JSONL files; blank lines are skipped, anything else malformed raises DataError."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    out: list[Example] = []
    for path in paths:
        p = Path(path)
        if not p.is_file():
            raise DataError(f"{p}: no such data file")
        with p.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as e:
                    raise DataError(f"{p}:{lineno}: invalid JSON ({e.msg} at column {e.colno})") from None
                try:
                    out.append(Example.from_json(obj))
                except ValueError as e:
                    raise DataError(f"{p}:{lineno}: {e}") from None
    return out


def save_examples(path: str | Path, examples: Iterable[Example]) -> int:
    """Write examples as JSONL (UTF-8, one per line); returns how many were written."""
    n = 0
    with Path(path).open("w", encoding="utf-8") as fh:
        for ex in examples:
            fh.write(json.dumps(ex.to_json(), ensure_ascii=False) + "\n")
            n += 1
    return n


def with_first_steps(examples: Iterable[Example]) -> list[Example]:
    """The examples, plus (state -> first step) for each structured tactic (`induction xs with | … => …`
    -> `induction xs`): a short target a small model can learn to generalise, where whole multi-line
    scripts are only memorised."""
    from prover.memory import first_step

    out = []
    for e in examples:
        out.append(e)
        head = first_step(e.tactic)
        if head:
            out.append(Example(e.theorem, e.state, head, None, e.source, e.file))
    return dedup(out)


def dedup(examples: Iterable[Example]) -> list[Example]:
    """First occurrence of each (state, tactic), order kept."""
    seen: set[tuple[str, str]] = set()
    out = []
    for ex in examples:
        if ex.key not in seen:
            seen.add(ex.key)
            out.append(ex)
    return out


class ReplayBuffer:
    """Older examples, replayed alongside new ones so fine-tuning does not forget them."""

    def __init__(self, examples: Iterable[Example] = (), max_size: int | None = None) -> None:
        if max_size is not None and max_size < 1:
            raise ValueError(f"ReplayBuffer.max_size must be >= 1 or None, got {max_size}")
        self.max_size = max_size
        self._items: list[Example] = []
        self._keys: set[tuple[str, str]] = set()
        self.add(examples)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._items)

    def add(self, examples: Iterable[Example]) -> int:
        """Add unseen examples (dedup by (state, tactic)); the oldest are evicted past max_size."""
        added = 0
        for ex in examples:
            if ex.key in self._keys:
                continue
            self._items.append(ex)
            self._keys.add(ex.key)
            added += 1
        if self.max_size is not None and len(self._items) > self.max_size:
            drop = self._items[: len(self._items) - self.max_size]
            self._items = self._items[len(drop):]
            self._keys -= {ex.key for ex in drop}
        return added

    def mix(self, new: Sequence[Example], old_fraction: float = 0.5, seed: int = 0) -> list[Example]:
        """All (deduplicated) new examples plus sampled old ones making up `old_fraction` of the result.

        Old examples that duplicate a new one are not counted; if the buffer is too small, all of
        it is used.  The result is shuffled deterministically by `seed`.
        """
        if not 0.0 <= old_fraction < 1.0:
            raise ValueError(f"old_fraction must be in [0, 1), got {old_fraction}; use 0 for no replay")
        fresh = dedup(new)
        keys = {ex.key for ex in fresh}
        pool = [ex for ex in self._items if ex.key not in keys]
        rng = random.Random(seed)
        want = round(len(fresh) * old_fraction / (1.0 - old_fraction)) if fresh else 0
        if not fresh and old_fraction > 0:
            want = len(pool)
        picked = rng.sample(pool, min(want, len(pool)))
        out = fresh + picked
        rng.shuffle(out)
        return out
