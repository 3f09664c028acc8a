"""Result types of `Dojo.run_tac`, in lean-dojo's vocabulary: frozen dataclasses and one Union."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Union


@dataclass(frozen=True)
class Goal:
    """One goal: its case tag (if any), hypotheses as (names, type) pairs, and the target."""

    tag: str | None
    hypotheses: tuple[tuple[str, str], ...]
    target: str

    def pp(self) -> str:
        lines = [f"case {self.tag}"] if self.tag else []
        lines += [f"{names} : {ty}" for names, ty in self.hypotheses]
        lines.append(f"⊢ {self.target}")
        return "\n".join(lines)


def _join_continuations(lines: list[str]) -> list[str]:
    """Lean wraps long hypotheses/targets onto indented continuation lines; glue them back."""
    out: list[str] = []
    for ln in lines:
        if out and ln.startswith(" ") and not ln.startswith("⊢"):
            out[-1] += "\n" + ln
        else:
            out.append(ln)
    return out


def parse_goal(text: str) -> Goal:
    lines = _join_continuations(text.strip("\n").split("\n"))
    tag = None
    if lines and lines[0].startswith("case "):
        tag = lines[0][5:].strip()
        lines = lines[1:]
    hyps: list[tuple[str, str]] = []
    target_idx = next((i for i, l in enumerate(lines) if l.startswith("⊢")), None)
    if target_idx is None:
        raise ValueError(f"goal text has no ⊢ line: {text[:200]!r}")
    for ln in lines[:target_idx]:
        m = re.match(r"^(.*?) :(?: |\n)(.*)$", ln, re.S)
        names, ty = (m.group(1), m.group(2)) if m else (ln, "")
        hyps.append((names.strip(), ty.strip()))
    target = "\n".join(lines[target_idx:])[1:].strip()
    return Goal(tag, tuple(hyps), target)


def split_goals(pp: str) -> list[str]:
    """Goals in a pretty-printed state are separated by blank lines (lean-dojo's convention)."""
    return [g for g in re.split(r"\n\s*\n", pp.strip()) if g.strip()]


def parse_goals(pp: str) -> list[Goal]:
    return [parse_goal(g) for g in split_goals(pp)]


@dataclass(frozen=True)
class TacticState:
    """An open proof state. `pp` is lean-dojo's text format; `id` is a handle valid in every Dojo of the
    same theorem (the state is replayed from `tactics`)."""

    pp: str
    id: int = field(compare=False)
    message: str | None = field(default=None, compare=False)
    tactics: tuple[str, ...] = field(default=(), compare=False, repr=False)

    @property
    def num_goals(self) -> int:
        return len(split_goals(self.pp))

    @property
    def goals(self) -> list[Goal]:
        return parse_goals(self.pp)

    @property
    def key(self) -> str:
        """Hashable identity for deduplicating states: whitespace-normalised goal text."""
        return "\n".join(l.rstrip() for l in self.pp.strip().splitlines())


@dataclass(frozen=True)
class ProofFinished:
    """No goals remain, the theorem as written was elaborated and kernel-checked in its file, and Lean's
    axiom audit found no sorry and no non-standard axiom. `Dojo.check_proof` additionally re-elaborates
    the whole theorem from scratch, for a proof written by other means."""

    tactic_state_id: int
    message: str | None = field(default=None, compare=False)
    tactics: tuple[str, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class LeanError:
    error: str


@dataclass(frozen=True)
class NotAudited(LeanError):
    """A tactic of a `run_tacs(..., first_proof=True)` call left unaudited (it also finished the proof) or,
    away from the initial state, not run, because an earlier tactic of the call already gave an audited
    proof. It is no proof: search drops it."""


@dataclass(frozen=True)
class ProofGivenUp:
    """The tactic gave up (sorry/admit)."""


TacticResult = Union[TacticState, ProofFinished, LeanError, ProofGivenUp]
