"""The bundled development: every file elaborates in the embedded Lean, with no sorry, and has the size
and shape the project promises."""
from __future__ import annotations

from pathlib import Path

import pytest

from curriculum.project import list_modules, list_theorems
from curriculum.splits import read_split

ROOT = Path(__file__).resolve().parent.parent


def test_shape_and_split():
    modules = [m for m in list_modules(ROOT) if m.name.startswith("Dev.")]
    theorems = list_theorems(ROOT)
    assert len(modules) >= 8
    assert len(theorems) >= 200
    assert not [t.full_name for t in theorems if t.is_sorry]
    assert max(t.num_tactic_steps for t in theorems) >= 10  # capstones, not only one-liners
    split = read_split(ROOT / "data" / "split.json")
    names = [t.full_name for t in theorems]
    assert set(split.seen) | set(split.target) == set(names) and not set(split.seen) & set(split.target)
    # the split is the dependency order: every seen theorem comes before every target
    assert max(names.index(n) for n in split.seen) < min(names.index(n) for n in split.target)


@pytest.mark.lean
@pytest.mark.slow
def test_every_file_elaborates_without_sorry(lean_config):
    from lean.build import ensure_built

    res = ensure_built(ROOT / "Dev.lean", lean_config, quiet=True)
    assert res is not None
    assert {m for m in res.modules} >= {m.name for m in list_modules(ROOT) if m.name.startswith("Dev.")}
    assert res.sorry_decls == ()
