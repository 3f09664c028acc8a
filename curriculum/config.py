"""Curriculum configuration (YAML), validated with messages that say what to change.

Defaults fit a 2-core CPU machine; on a GPU machine raise `budget`, `num_samples` and the training sizes.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import yaml


class CurriculumConfigError(ValueError):
    pass


@dataclass(frozen=True)
class CurriculumConfig:
    rounds: int = 1
    budget: float = 20.0  # wall seconds of search per theorem
    # seconds per theorem of a quick first pass over all the round's files (0 = none); what it leaves
    # unproved gets `budget` in a second pass, so under a time limit the easy theorems of every file come
    # before the hard ones of any. Off by default: on the bundled development with a cold build cache
    # it proved as many as one pass (56 vs 55, benchmarks/results/main_job_cpu_first_pass.json)
    first_pass_budget: float = 0.0
    max_expansions: int = 200
    num_samples: int = 8
    time_limit: float = 0.0  # wall seconds for the whole run (0 = none)
    learning: bool = True
    workers: int = 0  # Lean workers; 0 = `lean.config.default_search_workers()`: LEAN_AGENT_WORKERS, else one per two cores
    forgetting_sample: int = 5  # theorems solved in earlier rounds re-attempted each round
    train_steps: int = 60
    train_batch_size: int = 8
    # the trained transformer joins the search once its top-k recall of the tactics of held-out new proofs
    # (not trained on) reaches this (0 = always; a checkpoint given by `model` is always used)
    model_gate: float = 0.1
    # the tactic memory joins the learned policy (off by default: at 2 s budgets on 2 CPU cores its extra
    # candidates cost more Lean time than they saved; see prover/memory.py and the stop-10 figures)
    memory: bool = False
    model: str | None = None  # starting checkpoint; None = from scratch
    human_data: str | None = None  # JSONL trace of human proofs (curriculum trace) to seed training
    device: str = "auto"
    seed: int = 0
    out: str = "runs/curriculum"
    write: bool = True

    def __post_init__(self):
        def bad(name, why):
            raise CurriculumConfigError(f"curriculum config: {name}={getattr(self, name)!r} {why}")
        if self.rounds < 1:
            bad("rounds", "must be at least 1")
        if self.budget <= 0:
            bad("budget", "must be positive seconds per theorem")
        if not 0 <= self.first_pass_budget < self.budget:
            bad("first_pass_budget", f"must be 0 (no first pass) or positive seconds below budget={self.budget}")
        for n in ("max_expansions", "num_samples", "train_batch_size"):
            if getattr(self, n) < 1:
                bad(n, "must be at least 1")
        for n in ("time_limit", "workers", "forgetting_sample", "train_steps"):
            if getattr(self, n) < 0:
                bad(n, "must be >= 0")
        if not 0 <= self.model_gate <= 1:
            bad("model_gate", "must be a recall between 0 and 1 (0 lets the trained model in at once)")
        if self.device not in ("auto", "cpu", "cuda"):
            bad("device", "must be one of auto, cpu, cuda")

    @classmethod
    def from_yaml(cls, path: Path | str, **overrides) -> "CurriculumConfig":
        p = Path(path)
        if not p.exists():
            raise CurriculumConfigError(f"config file {p} does not exist")
        try:
            data = yaml.safe_load(p.read_text()) or {}
        except yaml.YAMLError as e:
            raise CurriculumConfigError(f"config file {p} is not valid YAML: {e}")
        if not isinstance(data, dict):
            raise CurriculumConfigError(f"config file {p} must hold a mapping of settings, got {type(data).__name__}")
        return cls.from_dict(data, source=str(p), **overrides)

    @classmethod
    def from_dict(cls, data: dict, source: str = "config", **overrides) -> "CurriculumConfig":
        valid = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(valid))
        if unknown:
            raise CurriculumConfigError(f"{source}: unknown setting(s) {', '.join(unknown)}; valid settings are: {', '.join(valid)}")
        merged = {**data, **{k: v for k, v in overrides.items() if v is not None}}
        for k, v in merged.items():
            want = valid[k].type
            if want in ("int", int) and not (isinstance(v, int) and not isinstance(v, bool)):
                raise CurriculumConfigError(f"{source}: {k} must be a whole number, got {v!r}")
            if want in ("float", float) and not (isinstance(v, (int, float)) and not isinstance(v, bool)):
                raise CurriculumConfigError(f"{source}: {k} must be a number, got {v!r}")
            if want in ("bool", bool) and not isinstance(v, bool):
                raise CurriculumConfigError(f"{source}: {k} must be true or false, got {v!r}")
        return cls(**merged)

    def pass_budgets(self) -> tuple[float, ...]:
        """Seconds per theorem of each pass of a round over its files."""
        return (self.first_pass_budget, self.budget) if self.first_pass_budget else (self.budget,)

    def to_dict(self) -> dict:
        return asdict(self)
