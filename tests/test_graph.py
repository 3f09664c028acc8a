"""The dependency graph from Lean's own report, on a tiny 2-file Lake package (hand-checked edges)."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from curriculum.graph import curriculum_order, dependency_graph
from curriculum.project import ProjectError, list_modules, list_theorems

pytestmark = pytest.mark.lean

LAKEFILE = "import Lake\nopen Lake DSL\n\npackage fix\n\n@[default_target]\nlean_lib Fix where\n  roots := #[`Fix.B]\n"
A = """module
@[expose] public section

namespace Fix

def double (n : Nat) : Nat := n + n

theorem lemma1 (n : Nat) : double n = 2 * n := by
  unfold double
  omega

private theorem helper : True := trivial

theorem lemma2 : True := helper

end Fix
"""
B = """module
public import Fix.A
@[expose] public section

namespace Fix

theorem thm2 (n : Nat) : double n + 0 = 2 * n := by
  rw [Nat.add_zero]
  exact lemma1 n

theorem thm3 (n : Nat) : n + 0 = n := by
  simp

theorem thm4 (n : Nat) : double (double n) = 4 * n := by
  sorry

theorem thm5 (n : Nat) : (n + 0) + 0 = n := by
  exact (thm3 (n + 0)).trans (thm3 n)

theorem thm6 (n : Nat) : double n + 0 + 0 = 2 * n := by
  sorry
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("graphproj")
    (root / "lakefile.lean").write_text(LAKEFILE)
    (root / "Fix").mkdir()
    (root / "Fix/A.lean").write_text(A)
    (root / "Fix/B.lean").write_text(B)
    return root


@pytest.fixture(scope="module")
def graph(project, lean_server):
    return dependency_graph(project, server=lean_server)


def test_edges(graph):
    assert ("Fix.thm2", "Fix.lemma1") in graph.edges  # cross-file theorem use
    assert ("Fix.thm2", "Fix.double") in graph.edges
    assert ("Fix.lemma1", "Fix.double") in graph.edges  # `unfold double` leaves `double` in the proof term
    assert ("Fix.lemma2", "Fix.helper") in graph.edges  # private name normalised
    assert ("Fix.thm5", "Fix.thm3") in graph.edges  # same-file use
    assert not graph.has_edge("Fix.thm3", "Fix.lemma1")
    assert graph.out_degree("Fix.thm3") == 0
    assert not graph.has_edge("Fix.thm4", "Fix.lemma1")  # sorry: uses nothing from its proof
    assert graph.graph["warnings"] == []


def test_node_attributes(graph, project):
    a = graph.nodes["Fix.lemma1"]
    assert a["kind"] == "theorem" and a["module"] == "Fix.A" and a["line"] == 8 and not a["is_sorry"]
    assert Path(a["file"]) == (project / "Fix/A.lean").resolve()
    assert graph.nodes["Fix.double"]["kind"] == "def"
    assert graph.nodes["Fix.thm4"]["is_sorry"]


def test_cached(graph, project):
    t0 = time.time()
    again = dependency_graph(project, server=None)  # a cache hit needs no Lean at all
    assert time.time() - t0 < 5
    assert sorted(again.edges) == sorted(graph.edges)
    assert dict(again.nodes(data=True)) == dict(graph.nodes(data=True))


def test_curriculum_order(graph, project):
    thms = list_theorems(project)
    assert curriculum_order(graph, thms) == ["Fix.thm4", "Fix.thm6"]
    # thm6 does not depend on thm4, so difficulty decides
    assert curriculum_order(graph, thms, {"Fix.thm4": 5.0, "Fix.thm6": 1.0}) == ["Fix.thm6", "Fix.thm4"]


def test_file_error_names_line(project, lean_server):
    """An error makes a ProjectError naming file:line (only B is elaborated: its worker is warm)."""
    bad = project / "Fix/B.lean"
    good = bad.read_text()
    try:
        bad.write_text(good.replace("  simp\n", "  exact Nat.not_a_lemma\n"))
        mods = [m for m in list_modules(project) if m.name == "Fix.B"]
        with pytest.raises(ProjectError, match=r"B\.lean:12: .*not_a_lemma"):
            dependency_graph(project, server=lean_server, modules=mods)
    finally:
        bad.write_text(good)
