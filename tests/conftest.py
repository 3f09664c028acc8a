"""Shared fixtures. One Lean server for the whole session: each worker costs ~10-30 s and ~3 GB."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def lean_config():
    from lean.config import LeanConfig

    return LeanConfig(num_workers=int(os.environ.get("LEAN_AGENT_TEST_WORKERS", "2")), tactic_timeout=20.0)


@pytest.fixture(scope="session")
def lean_server(lean_config):
    from lean.server import LeanServer

    server = LeanServer(lean_config)
    yield server
    _WORKER_STATS.update(server.restart_counts())
    server.close()


_WORKER_STATS: dict[str, int] = {}


def pytest_terminal_summary(terminalreporter):
    """How often the session's Lean workers were restarted, and how many of those were stalls (a worker
    idle with a request pending, or one silent at a start; three tests make them on purpose): the rare wasm
    hang shows up here."""
    if _WORKER_STATS:
        # tests that make stalls on purpose, and how many
        own = {"test_stalled_worker_is_replaced_without_waiting_out_the_timeout": 1,
               "test_a_start_that_goes_silent_is_replaced_then_named": 2,
               "test_a_start_silent_while_importing_is_replaced_within_import_silence": 1}
        done = [r.nodeid for r in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", [])]
        ran = [f"{n} from {name}" for name, n in own.items() if any(i.endswith(name) for i in done)]
        terminalreporter.write_line(f"lean workers: {_WORKER_STATS['restarts']} process restarts, {_WORKER_STATS['stalls']} of them "
                                    f"stalls" + (f" (made on purpose: {', '.join(ran)})" if ran else ""))


def slow_omega() -> str:
    """A one-line tactic that works honestly for ~20 s on a 2-core CPU (on a held state, with no info
    trees): `omega` over 50 disequalities. Its result, if it ever came, is a new hypothesis."""
    xs = [f"x{i}" for i in range(50)]
    return f"have : ∀ {' '.join(xs)} : Nat, {' → '.join(f'{x} ≠ 1' for x in xs)} → {' + '.join(xs)} ≠ 1 := by omega"


@pytest.fixture
def demo_file(tmp_path) -> Path:
    """A standalone copy of the demo file (tests may rewrite it)."""
    dst = tmp_path / "Demo.lean"
    dst.write_text((FIXTURES / "Demo.lean").read_text())
    return dst
