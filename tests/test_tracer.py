"""Tracing human tactic proofs into training rows, and replaying a traced step through Dojo."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    assert stats.theorems == 2 and stats.failed == 0 and stats.steps == 6
    assert stats.skipped == ["Tr.term_proof"]
    assert [(r["theorem"], r["tactic"]) for r in rows] == [
        ("Tr.and_swap", "intro h"),
        # the structured step, traced inside: its head, the arm's names, the arm's own tactic …
        ("Tr.and_swap", "cases h"),
        ("Tr.and_swap", "rename_i hp hq"),
        ("Tr.and_swap", "exact ⟨hq, hp⟩"),
        # … and whole
        ("Tr.and_swap", "cases h with\n| intro hp hq =>\n  exact ⟨hq, hp⟩"),
        ("Tr.add_zero'", "simp"),
    ]
    for r in rows:
        assert set(r) == {"theorem", "state", "tactic", "state_after", "source", "file"}
        assert r["source"] == "human" and r["file"] == "Tr/A.lean"
    assert rows[0]["state"] == "p q : Prop\n⊢ p ∧ q → q ∧ p"
    assert rows[0]["state_after"] == rows[1]["state"] == rows[4]["state"] and "h : p ∧ q" in rows[0]["state_after"]
    assert rows[1]["state_after"] == rows[2]["state"] and "✝" in rows[2]["state"]  # `cases h` leaves the parts unnamed
    assert rows[2]["state_after"] == rows[3]["state"] and "hp : p" in rows[3]["state"] and "✝" not in rows[3]["state"]
    assert [r["state_after"] for r in rows[3:]] == [None, None, None]


def test_replay_reproduces_state_after(traced, lean_server):
    root, _, rows = traced
    with Dojo(Theorem(root / "Tr/A.lean", "Tr.and_swap"), server=lean_server) as (dojo, init):
        assert init.pp == rows[0]["state"]
        s1 = dojo.run_tac(init, rows[0]["tactic"])
        assert isinstance(s1, TacticState) and s1.pp == rows[0]["state_after"]
        s2 = dojo.run_tac(s1, rows[4]["tactic"])
        assert isinstance(s2, ProofFinished)


def test_structured_parts():
    from curriculum.tracer import structured_parts

    tac = ("induction t with\n| leaf =>\n  constructor\n  · intro h\n    exact h\n  · simp\n"
           "| node l v r ihl ihr =>\n  rw [ihl, ihr]")
    assert structured_parts(tac) == ("induction t", [("leaf", [], ["constructor", "· intro h\n  exact h", "· simp"]),
                                                     ("node", ["l", "v", "r", "ihl", "ihr"], ["rw [ihl, ihr]"])])
    assert structured_parts("cases h with\n| inl hp => exact hp\n| inr hq => exact hq") == \
        ("cases h", [("inl", ["hp"], ["exact hp"]), ("inr", ["hq"], ["exact hq"])])
    assert structured_parts("· intro h\n  exact h") == ("", [("", [], ["intro h", "exact h"])])
    assert structured_parts("simp") is None and structured_parts("induction t") is None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["induction t with", "cases h with", "| leaf =>", "| node l r ih =>", "  simp",
                                 "  · intro h", "    exact h", "· rfl", "rw [x]", "| _ => omega", "  ", ""]),
                min_size=1, max_size=8))
def test_structured_parts_never_crashes(lines):
    """Any layout: None, or a head and arms whose tactics are non-empty strings."""
    from curriculum.tracer import structured_parts

    out = structured_parts("\n".join(lines))
    if out is not None:
        head, arms = out
        assert isinstance(head, str) and arms
        assert all(isinstance(tag, str) and all(n.strip() for n in names) and body and all(t.strip() for t in body)
                   for tag, names, body in arms)
