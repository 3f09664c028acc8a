"""The compiled-module cache stays within its size limit, dropping what was used least recently."""
from __future__ import annotations

import os
import time

import pytest

from lean.build import prune_builds
from lean.config import LeanConfig
from lean.errors import LeanConfigError

MB = 1024 * 1024


def _entry(path, size_mb: int, age_days: float, lock: bool = False):
    path.mkdir(parents=True)
    with open(path / "X.olean", "wb") as f:
        f.truncate(size_mb * MB)  # sparse: counts its full size, uses no disk
    used = path / ".build.lock" if lock else path
    if lock:
        used.write_text("")
    t = time.time() - age_days * 86400
    os.utime(used, (t, t))
    return path


def test_prune_drops_least_recently_used_until_it_fits(tmp_path):
    config = LeanConfig(cache_dir=tmp_path, build_cache_mb=64)
    b = tmp_path / "builds"
    oldest = _entry(b / "objects" / "a", 40, 3)
    project = _entry(b / "proj-0123", 40, 2, lock=True)
    older = _entry(b / "objects" / "b", 40, 1)
    recent = _entry(b / "objects" / "c", 40, 0)
    kept = _entry(b / "proj-4567", 40, 5, lock=True)
    removed = prune_builds(config, keep=(kept,))
    assert removed == [oldest, project, older]
    assert recent.exists() and kept.exists()  # used within the hour / asked to be kept: never removed
    assert prune_builds(config, keep=(kept,)) == []  # the two left are protected, so nothing more goes


def test_prune_keeps_everything_under_the_limit(tmp_path):
    config = LeanConfig(cache_dir=tmp_path, build_cache_mb=200)
    entries = [_entry(tmp_path / "builds" / "objects" / n, 40, 9) for n in "abc"]
    assert prune_builds(config) == [] and all(e.exists() for e in entries)
    assert prune_builds(LeanConfig(cache_dir=tmp_path / "none")) == []  # no cache yet: nothing to do


def test_cache_limit_is_validated():
    with pytest.raises(LeanConfigError, match="build_cache_mb"):
        LeanConfig(build_cache_mb=10)


def test_audit_helpers_are_compiled_once_and_put_on_every_workers_path(monkeypatch):
    """The Lean helpers (axiom audit, dependency report) are a compiled module in the cache, on the
    toolchain's LEAN_PATH; asking again reuses it without starting Lean."""
    from lean import leanmeta
    from lean.dojo import document_header
    from lean.toolchain import get_toolchain

    tc = get_toolchain(LeanConfig())
    helpers = tc.lean_path[0]
    assert (helpers / f"{leanmeta.MODULE}.olean").is_file()
    assert helpers in tc.mounts  # the wasm Lean sees only mounted folders
    assert f"import {leanmeta.MODULE}" in document_header("theorem t : True := trivial\n")[0]

    def no_lean(*a, **k):
        raise AssertionError("the helpers were compiled again")
    monkeypatch.setattr(leanmeta.subprocess, "run", no_lean)
    assert leanmeta.build_helpers(tc, LeanConfig().cache_dir) == helpers
