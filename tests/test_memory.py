"""The tactic memory: features, renaming, recall, and a proof found by a recalled tactic in the real Lean."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prover.memory import MemoryPolicy, TacticMemory, adapt_tactic, first_step, recall_at_k, state_features
from prover.policy import is_forbidden

SRC = "α : Type\nxs ys : List α\n⊢ (xs ++ ys).length = xs.length + ys.length"
DST = "β : Type\nl m : List β\n⊢ (l ++ m).length = l.length + m.length"


def test_adapt_renames_locals_by_type_and_position():
    assert adapt_tactic("induction xs generalizing ys", SRC, DST) == "induction l generalizing m"
    # `List.xs`-like qualified names and primed names are not locals; `h.1` is
    src = "p q : Prop\nh : p ∧ q\n⊢ q"
    dst = "a b : Prop\nhab : a ∧ b\n⊢ b"
    assert adapt_tactic("exact h.2", src, dst) == "exact hab.2"
    assert adapt_tactic("exact Foo.h h' h", src, dst) == "exact Foo.h h' hab"
    # inaccessible names cannot be written: they are named first
    assert adapt_tactic("induction t", "t : Tree\n⊢ P t", "a✝ : Tree\n⊢ P a✝") == "rename_i t; induction t"
    # nothing to match: the tactic is unchanged
    assert adapt_tactic("simp", src, "⊢ True") == "simp"


def test_structured_tactics_also_teach_their_first_step():
    tac = "induction xs generalizing acc with\n| nil => rfl\n| cons x xs ih => simp [ih]"
    assert first_step(tac) == "induction xs generalizing acc"
    assert first_step("cases h with\n| inl h => exact h\n| inr h => exact h") == "cases h"
    assert first_step("simp [foo] at h") is None and first_step("exact fun x => match x with | 0 => rfl") is None
    mem = TacticMemory()
    mem.add(SRC, tac)
    assert len(mem) == 2
    assert "induction l generalizing acc" in [t for t, _ in MemoryPolicy(mem).generate([DST], 4)[0]]


def test_features_abstract_local_names():
    a, b = state_features(SRC), state_features(DST)
    assert a["t:++"] == 1 and a["t:·"] >= 2 and "t:xs" not in a
    # the same goal up to renaming (and the universe's name) has the same target features
    assert {k: v for k, v in a.items() if k.startswith("t")} == {k: v for k, v in b.items() if k.startswith("t")}


def test_nearest_prefers_the_same_shape_and_learn_adds_proofs():
    mem = TacticMemory()
    assert mem.add(SRC, "induction xs <;> simp_all", "len_append")
    assert not mem.add(SRC, "induction xs <;> simp_all", "len_append")  # duplicates are ignored
    mem.add("n : Nat\n⊢ n + 0 = n", "rfl", "add_zero")
    mem.add("p q : Prop\nhp : p\nhq : q\n⊢ q ∧ p", "exact ⟨hq, hp⟩", "and_swap")
    best = mem.nearest(DST, 3)
    assert best[0][1].theorem == "len_append" and best[0][0] > 0.9 > best[-1][0]

    class Result:
        proved, theorem = True, "t"
        proof = ["intro h", "exact h"]
        proof_states = ["p : Prop\n⊢ p → p", "p : Prop\nh : p\n⊢ p"]

    assert mem.learn(Result()) == 2 and len(mem) == 5
    Result.proved = False
    assert mem.learn(Result()) == 0


def test_policy_proposes_the_adapted_tactic_first():
    mem = TacticMemory()
    mem.add(SRC, "induction xs <;> simp_all", "len_append")
    mem.add("n : Nat\n⊢ n + 0 = n", "rfl", "add_zero")
    cands = MemoryPolicy(mem).generate([DST, "⊢ True"], 4)
    assert cands[0][0][0] == "induction l <;> simp_all"
    assert len(cands) == 2 and all(len(c) <= 4 for c in cands)


def test_memory_round_trips_through_a_file(tmp_path):
    mem = TacticMemory()
    mem.add(SRC, "simp", "a")
    mem.add("n : Nat\n⊢ n + 0 = n", "omega", "b")
    mem.add(SRC, "induction xs with\n| nil => rfl\n| cons x xs ih => simp", "c")
    mem.save(tmp_path / "m.jsonl")
    back = TacticMemory.load(tmp_path / "m.jsonl")
    assert len(back) == len(mem) == 4
    assert {e.tactic for _, e in back.nearest(SRC, 3)} == {e.tactic for _, e in mem.nearest(SRC, 3)} >= {"simp", "induction xs"}


_state = st.lists(st.sampled_from(list("abxy :→⊢∀,()=+\n_.'hp∧") + ["List", "Nat", "\n⊢ ", "h : "]), max_size=40).map("".join)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_state, st.sampled_from(["simp", "exact h", "sorry", "induction x", "rw [h] at x"])), max_size=12),
       _state, st.integers(0, 10))
def test_policy_invariants_on_arbitrary_states(rows, query, k):
    """Any text: no crash, at most k distinct candidates, never a forbidden tactic, deterministic."""
    mem = TacticMemory()
    for s, t in rows:
        mem.add(s, t)
    pol = MemoryPolicy(mem)
    out = pol.generate([query], k)
    assert out == pol.generate([query], k)
    tacs = [t for t, _ in out[0]]
    assert len(tacs) <= k and len(set(tacs)) == len(tacs) and not any(is_forbidden(t) for t in tacs)


def test_recall_on_the_traced_development_beats_nothing():
    """The features must carry signal: on the bundled development's human steps, replayed in order,
    the memory recalls the exact human tactic for a fair share of steps."""
    rows = [json.loads(x) for x in (Path(__file__).parent.parent / "data" / "trace.jsonl").read_text().splitlines() if x.strip()]
    r = recall_at_k(rows, k=8)
    assert r["steps"] == len(rows) and r["recall"] > 0.15, r


@pytest.mark.lean
def test_a_recalled_tactic_proves_a_new_theorem(demo_file, lean_server):
    """One remembered step from another theorem, renamed into this one, is a whole proof; Lean checks it."""
    from lean import Dojo, ProofFinished, Theorem
    from prover.search import BestFirstSearch, SearchConfig

    mem = TacticMemory()
    mem.add("a b : Prop\nha : a\nhb : b\n⊢ b ∧ a", "exact ⟨hb, ha⟩", "other")
    with Dojo(Theorem(demo_file, "and_swap"), server=lean_server) as (dojo, s0):
        res = BestFirstSearch(MemoryPolicy(mem), SearchConfig(time_budget=60, max_expansions=5)).search([dojo], s0, "and_swap")
        assert res.proved and res.proof == ["exact ⟨hq, hp⟩"], res.proof
        assert isinstance(dojo.check_proof(res.proof), ProofFinished)
        # and the memory learns it: the proof's own step is now recalled first for that state
        assert mem.learn(res) == 1
        assert MemoryPolicy(mem).generate([s0.pp], 1)[0][0][0] == "exact ⟨hq, hp⟩"


def test_recalled_tactic_names_inaccessible_hypotheses():
    """After a plain `induction`, the hypotheses a recalled tactic needs are inaccessible (`tail_ih✝`):
    the recall names them first with `rename_i` (which names the last inaccessible ones, in order)."""
    src = "ys : List Nat\nx : Nat\nxs : List Nat\nih : (xs ++ ys).length = xs.length + ys.length\n⊢ (x :: xs ++ ys).length = (x :: xs).length + ys.length"
    dst = ("case cons\nys : List Nat\nhead✝ : Nat\ntail✝ : List Nat\ntail_ih✝ : (tail✝ ++ ys).length = tail✝.length + ys.length\n"
           "⊢ (head✝ :: tail✝ ++ ys).length = (head✝ :: tail✝).length + ys.length")
    assert adapt_tactic("simp [ih]; omega", src, dst) == "rename_i ih; simp [ih]; omega"
    assert adapt_tactic("cases xs", src, dst) == "rename_i xs _; cases xs"
    assert adapt_tactic("omega", src, dst) == "omega"
    # a name already taken in the new state gets a fresh one
    taken = dst.replace("ys : List Nat", "ys ih : List Nat")
    assert adapt_tactic("simp [ih]", src, taken) == "rename_i ih1; simp [ih1]"


@pytest.mark.lean
def test_a_recalled_arm_closes_the_case_of_a_plain_induction(demo_file, lean_server):
    """A step remembered from a named `induction … with | cons x xs ih => …` arm closes the same case
    reached by search's own `induction xs`, in Lean."""
    from lean import Dojo, ProofFinished, Theorem

    mem = TacticMemory()
    mem.add("case cons\nys : List Nat\nx : Nat\nxs : List Nat\nih : (xs ++ ys).length = xs.length + ys.length\n"
            "⊢ (x :: xs ++ ys).length = (x :: xs).length + ys.length", "simp [ih]; omega", "other")
    with Dojo(Theorem(demo_file, "len_append"), server=lean_server) as (dojo, s0):
        cons = dojo.run_tac(dojo.run_tac(s0, "induction xs"), "simp")
        assert "tail_ih✝" in cons.pp, cons.pp
        tac = MemoryPolicy(mem).generate([cons.pp], 4)[0][0][0]
        assert tac == "rename_i ih; simp [ih]; omega"
        assert isinstance(dojo.run_tac(cons, tac), ProofFinished)
