"""Tracing human tactic proofs into training rows, and replaying a traced step through Dojo."""
from __future__ import annotations

from pathlib import Path

import pytest

from curriculum.tracer import read_trace, trace_project
from lean import Dojo, ProofFinished, TacticState, Theorem

pytestmark = pytest.mark.lean

LAKEFILE = "import Lake\nopen Lake DSL\n\npackage tr\n\nlean_lib Tr where\n  roots := #[`Tr.A]\n"
A = """module
@[expose] public section

namespace Tr

theorem and_swap (p q : Prop) : p ∧ q → q ∧ p := by
  intro h
  cases h with
  | intro hp hq =>
    exact ⟨hq, hp⟩

theorem add_zero' (n : Nat) : n + 0 = n := by simp

theorem term_proof : True := trivial

theorem later_open (a b : Nat) : a + b = b + a := by
  sorry

end Tr
"""


@pytest.fixture(scope="module")
def traced(tmp_path_factory, lean_server):
    root = tmp_path_factory.mktemp("traceproj")
    (root / "lakefile.lean").write_text(LAKEFILE)
    (root / "Tr").mkdir()
    (root / "Tr/A.lean").write_text(A)
    out = root / "trace.jsonl"
    stats = trace_project(root, out, server=lean_server)
    return root, stats, read_trace(out)


def test_rows(traced):
    root, stats, rows = traced
    assert stats.theorems == 2 and stats.failed == 0 and stats.steps == 3
    assert stats.skipped == ["Tr.term_proof"]
    assert [(r["theorem"], r["tactic"]) for r in rows] == [
        ("Tr.and_swap", "intro h"),
        ("Tr.and_swap", "cases h with\n| intro hp hq =>\n  exact ⟨hq, hp⟩"),
        ("Tr.add_zero'", "simp"),
    ]
    for r in rows:
        assert set(r) == {"theorem", "state", "tactic", "state_after", "source", "file"}
        assert r["source"] == "human" and r["file"] == "Tr/A.lean"
    assert rows[0]["state"] == "p q : Prop\n⊢ p ∧ q → q ∧ p"
    assert rows[0]["state_after"] == rows[1]["state"] and "h : p ∧ q" in rows[0]["state_after"]
    assert rows[1]["state_after"] is None and rows[2]["state_after"] is None


def test_replay_reproduces_state_after(traced, lean_server):
    root, _, rows = traced
    with Dojo(Theorem(root / "Tr/A.lean", "Tr.and_swap"), server=lean_server) as (dojo, init):
        assert init.pp == rows[0]["state"]
        s1 = dojo.run_tac(init, rows[0]["tactic"])
        assert isinstance(s1, TacticState) and s1.pp == rows[0]["state_after"]
        s2 = dojo.run_tac(s1, rows[1]["tactic"])
        assert isinstance(s2, ProofFinished)
