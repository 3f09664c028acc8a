"""Seen/target split and the open view (pure Python)."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from curriculum.project import ProjectError, list_modules, list_theorems
from curriculum.splits import Split, make_split, open_view, read_split, sorry_out, write_split

LAKEFILE = "import Lake\nopen Lake DSL\n\npackage p\n\nlean_lib P where\n  roots := #[`P.B]\n"
A = """module
@[expose] public section

namespace P

theorem one (n : Nat) : n + 0 = n := by
  simp

-- a comment that stays
theorem two : True ∧ True := ⟨trivial,
  trivial⟩

end P
"""
B = """module
public import P.A
@[expose] public section

theorem P.three (a : Nat) : a = a := by
  rfl
"""


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "proj"
    (root / "P").mkdir(parents=True)
    (root / "lakefile.lean").write_text(LAKEFILE)
    (root / "lean-toolchain").write_text("leanprover/lean4:v4.28.0\n")
    (root / "P/A.lean").write_text(A)
    (root / "P/B.lean").write_text(B)
    return root


def test_make_split_deterministic():
    names = [f"t{i}" for i in range(10)]
    s = make_split(names, 0.6)
    assert s == make_split(list(names), 0.6)
    assert s.seen == names[:6] and s.target == names[6:]
    assert make_split(names, 0.0).seen == [] and make_split(names, 1.0).target == []
    with pytest.raises(ValueError):
        make_split(names, 1.5)


@given(st.lists(st.text(min_size=1, max_size=5), unique=True), st.floats(0, 1))
def test_make_split_partitions(names, frac):
    s = make_split(names, frac)
    assert s.seen + s.target == names
    assert len(s.seen) == round(len(names) * frac)


def test_write_read_split(tmp_path):
    s = Split(["a", "b"], ["c"], 0.6)
    write_split(tmp_path / "s/split.json", s)
    assert read_split(tmp_path / "s/split.json") == s
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ProjectError, match="bad.json"):
        read_split(tmp_path / "bad.json")


def test_sorry_out_keeps_formatting():
    new, done = sorry_out(A, {"P.one", "P.two"})
    assert done == {"P.one", "P.two"}
    assert "theorem one (n : Nat) : n + 0 = n := by\n  sorry\n\n-- a comment that stays\n" in new
    assert "theorem two : True ∧ True := by\n  sorry\n\nend P\n" in new


def test_open_view(project, tmp_path):
    out = open_view(project, tmp_path / "view", ["P.two", "P.three"])
    assert (out / "lakefile.lean").read_text() == LAKEFILE
    assert (out / "lean-toolchain").exists()
    thms = {t.full_name: t for t in list_theorems(out)}
    assert not thms["P.one"].is_sorry and thms["P.one"].proof == "by\n  simp"
    assert thms["P.two"].is_sorry and thms["P.three"].is_sorry
    assert [m.name for m in list_modules(out)] == ["P.A", "P.B"]
    assert (project / "P/A.lean").read_text() == A  # the original is untouched
    # a second open view into the same folder replaces the first
    out2 = open_view(project, tmp_path / "view", ["P.one"])
    thms = {t.full_name: t for t in list_theorems(out2)}
    assert thms["P.one"].is_sorry and not thms["P.two"].is_sorry


def test_open_view_errors(project, tmp_path):
    with pytest.raises(ProjectError, match="P.nope"):
        open_view(project, tmp_path / "v", ["P.nope"])
    (tmp_path / "occupied").mkdir()
    (tmp_path / "occupied/file.txt").write_text("x")
    with pytest.raises(ProjectError, match="not an open view"):
        open_view(project, tmp_path / "occupied", ["P.one"])
    with pytest.raises(ProjectError, match="overwrite"):
        open_view(project, project, ["P.one"])
