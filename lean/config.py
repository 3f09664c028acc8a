"""All knobs of the Lean environment in one place, validated with messages that say what to change."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from lean.errors import LeanConfigError

BACKENDS = ("auto", "wasm", "native")


def default_cache_dir() -> Path:
    """`$LEAN_AGENT_CACHE`, else `$XDG_CACHE_HOME/lean-agent`, else `~/.cache/lean-agent`."""
    if os.environ.get("LEAN_AGENT_CACHE"):
        return Path(os.environ["LEAN_AGENT_CACHE"]).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return (Path(xdg) / "lean-agent").resolve()


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise LeanConfigError(f"environment variable {name}={raw!r} is not an integer; set it to a whole number or unset it")


def default_search_workers() -> int:
    """Lean workers for proof search (`prover attack`, a curriculum round) unless told otherwise:
    `LEAN_AGENT_WORKERS` if set, else one per two cores. (`LeanConfig.num_workers`, the pool's size for the
    Dojo API, stays one per core.)

    A search pays a worker start at each file (other imports), and a start keeps ~1.6 cores busy, so
    starts that share cores are slow: ~15 s for one worker on 2 cores, ~25-30 s for two. And two workers
    on one theorem found nothing one did not: `benchmarks/search.py` on 2 cores proved the same 84 of 115
    at 6 s per theorem (80 vs 81 at 2 s), with less wall per proof. The main job (1 round, 3 s, 240 s)
    proved 73 with one worker against 54 with two (benchmarks/results/main_job_cpu_budget_workers.json,
    search_cpu_all115x*_workers.json)."""
    return _env_int("LEAN_AGENT_WORKERS", max(1, (os.cpu_count() or 1) // 2))


@dataclass(frozen=True)
class LeanConfig:
    """How to run Lean. Every limit is enforced from outside the Lean process as well as inside."""

    backend: str = field(default_factory=lambda: os.environ.get("LEAN_AGENT_BACKEND", "auto"))
    cache_dir: Path = field(default_factory=default_cache_dir)
    # wall-clock seconds one tactic may take before the worker is killed and replayed
    tactic_timeout: float = 20.0
    # seconds a worker may take to start and elaborate the file up to the theorem
    init_timeout: float = 300.0
    # a worker that uses no CPU for this many seconds while a request is pending is deadlocked: it is
    # restarted and the request replayed at once, instead of waiting out the limits above (0 turns this off)
    stall_seconds: float = 5.0
    # a start (the imports, then the file up to the theorem) during which Lean says nothing at all (no
    # message, no line on stderr) for this many seconds is taken for the rare wasm hang, which keeps a core
    # busy (so the stall check above misses it) and held a start for the whole `init_timeout`: the worker
    # is replaced and the start replayed once. A normal start speaks every few seconds (at most ~7 s of
    # silence, Node's own start, with two starting on 2 cores); raise this if a single command before
    # your theorems runs longer. 0 turns this off
    init_silence: float = 60.0
    # the same check while the runtime traces that it is loading the imports (wasm only), where every hang
    # seen so far sat: no user command runs there, and a normal import phase (~3.5 s) is never silent for
    # more than ~2 s, so a short limit is safe. At most `init_silence`; 0 leaves only `init_silence`
    import_silence: float = 20.0
    # Lean's own deterministic limit (maxHeartbeats, in thousands), so loops stop inside Lean first
    max_heartbeats: int = 200000
    # resident memory cap per worker process; above it the worker is restarted
    memory_limit_mb: int = field(default_factory=lambda: _env_int("LEAN_AGENT_MEMORY_MB", 6144))
    # parallel workers (one per core by default)
    num_workers: int = field(default_factory=lambda: _env_int("LEAN_AGENT_WORKERS", os.cpu_count() or 1))
    # threads inside one Lean worker
    lean_threads: int = 1
    # elaborate the file's text before the theorem without info trees (`#lean_agent_prefix`), so a step's
    # cost does not grow with the theorem's place in the file; off: the text as written, as Lean shows it
    load_prefix: bool = True
    # run tactics on proof states held inside Lean, by RPC (~1 ms a call), instead of editing the
    # document (~8-25 ms an edit); a finished proof is still re-elaborated whole and audited by edit
    rpc_steps: bool = True
    # longest tactic text accepted, in characters
    max_tactic_chars: int = 4096
    # compiled project modules kept in the cache (`builds/`), least recently used dropped first
    build_cache_mb: int = field(default_factory=lambda: _env_int("LEAN_AGENT_BUILD_CACHE_MB", 2048))

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise LeanConfigError(f"backend {self.backend!r} is unknown; use one of {', '.join(BACKENDS)} (LEAN_AGENT_BACKEND)")
        for name in ("tactic_timeout", "init_timeout"):
            if getattr(self, name) <= 0:
                raise LeanConfigError(f"{name} must be positive seconds, got {getattr(self, name)}")
        if self.stall_seconds < 0:
            raise LeanConfigError(f"stall_seconds must be >= 0 seconds (0 turns stall detection off), got {self.stall_seconds}")
        if self.init_silence < 0:
            raise LeanConfigError(f"init_silence must be >= 0 seconds (0 turns it off), got {self.init_silence}")
        if self.import_silence < 0:
            raise LeanConfigError(f"import_silence must be >= 0 seconds (0 leaves only init_silence), got {self.import_silence}")
        if self.num_workers < 1:
            raise LeanConfigError(f"num_workers must be at least 1, got {self.num_workers} (LEAN_AGENT_WORKERS)")
        if self.memory_limit_mb < 512:
            raise LeanConfigError(f"memory_limit_mb={self.memory_limit_mb} is too small for Lean; give at least 512 (a wasm worker needs ~3000)")
        if self.build_cache_mb < 64:
            raise LeanConfigError(f"build_cache_mb={self.build_cache_mb} is too small to hold a project's compiled modules; "
                                  f"give at least 64 (LEAN_AGENT_BUILD_CACHE_MB)")
        if self.max_heartbeats < 0:
            raise LeanConfigError("max_heartbeats must be >= 0 (0 disables Lean's own limit)")
        object.__setattr__(self, "cache_dir", Path(self.cache_dir).expanduser().resolve())

    def with_(self, **changes) -> "LeanConfig":
        return replace(self, **changes)
