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
    idle with a request pending; the stall test makes one on purpose): the rare wasm hang shows up here."""
    if _WORKER_STATS:
        own = "test_stalled_worker_is_replaced_without_waiting_out_the_timeout"
        ran = any(r.nodeid.endswith(own) for r in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", []))
        terminalreporter.write_line(f"lean workers: {_WORKER_STATS['restarts']} process restarts, {_WORKER_STATS['stalls']} of them "
                                    f"stalls" + (f" (1 is {own}'s own)" if ran else ""))


@pytest.fixture
def demo_file(tmp_path) -> Path:
    """A standalone copy of the demo file (tests may rewrite it)."""
    dst = tmp_path / "Demo.lean"
    dst.write_text((FIXTURES / "Demo.lean").read_text())
    return dst
