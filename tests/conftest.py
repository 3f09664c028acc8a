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
    server.close()


@pytest.fixture
def demo_file(tmp_path) -> Path:
    """A standalone copy of the demo file (tests may rewrite it)."""
    dst = tmp_path / "Demo.lean"
    dst.write_text((FIXTURES / "Demo.lean").read_text())
    return dst
