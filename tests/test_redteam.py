"""Attempts to make the environment accept a false proof. Every one must be rejected."""
from __future__ import annotations

import pytest

from lean import Dojo, ProofFinished, Theorem

pytestmark = pytest.mark.lean

ATTACKS = [
    "sorry",
    "admit",
    "exact sorry",
    "native_decide",
    "decide +native",
    "exact Lean.ofReduceBool _ _ rfl",
    "exact?",
    "apply?",
    "omega\ntheorem t2 : False := sorry",
    "exact absurd\n\naxiom cheat : (2 : Nat) + 2 = 5",
    "exact cheat\naxiom cheat : (2 : Nat) + 2 = 5",
    "run_tac Lean.Elab.Tactic.closeMainGoal (Lean.mkConst ``True.intro)",
    "set_option debug.skipKernelTC true in rfl",
    "exact (by decide : (2 : Nat) + 2 = 5)",
    "#exit",
    "/-",
    "rfl -/ theorem x : False := sorry /-",
    "exact unsafe_cast ()",
    "@[implemented_by id] def f := 1",
    "decreasing_by sorry",
    "elab \"cheat\" : tactic => pure ()",
    "macro \"cheat\" : tactic => `(tactic| sorry)",
    "exact (two_plus_two_five)",
    "end\ntheorem z : (2 : Nat) + 2 = 5 := sorry",
    "exact uses_false",
    "simp only [show (2 : Nat) + 2 = 5 from sorry]",
    "first | sorry | rfl",
    "all_goals admit",
    "exact Classical.choice ⟨sorry⟩",
    "exact (False.elim (by sorry))",
    "nofun",
    "exact Nat.lt_irrefl _ (by omega)",
]


@pytest.fixture(scope="module")
def false_dojo(tmp_path_factory, lean_server):
    from tests.conftest import FIXTURES

    path = tmp_path_factory.mktemp("redteam") / "Demo.lean"
    path.write_text((FIXTURES / "Demo.lean").read_text())
    with Dojo(Theorem(path, "two_plus_two_five"), server=lean_server) as (dojo, s0):
        yield dojo, s0


def test_enough_attacks():
    assert len(ATTACKS) >= 25


@pytest.mark.parametrize("attack", ATTACKS)
def test_attack_is_rejected(false_dojo, attack):
    dojo, s0 = false_dojo
    r = dojo.run_tac(s0, attack)
    assert not isinstance(r, ProofFinished), f"accepted a false proof with {attack!r}"
    verdict = dojo.check_proof([attack])
    assert not isinstance(verdict, ProofFinished)


@pytest.mark.parametrize("attack", ATTACKS)
def test_attack_is_rejected_by_the_check_without_an_edit(false_dojo, attack):
    """The whole-theorem check that accepts proofs without an edit (`Dojo._check_by_rpc`) rejects every
    attack on its own, without the screen that stops many of them before Lean (a rejection there hands
    the verdict to the edit path)."""
    dojo, _ = false_dojo
    assert dojo.rpc
    checks = dojo.stats.get("rpc_checks", 0)
    verdict = dojo._check_by_rpc((attack,))
    assert not isinstance(verdict, ProofFinished), f"the check without an edit accepted {attack!r}"
    assert dojo.stats.get("rpc_checks", 0) == checks + 1  # Lean answered: the check ran


def test_earlier_sorry_theorem_is_caught_unless_allowed(tmp_path, lean_server):
    f = tmp_path / "Chain.lean"
    f.write_text("theorem helper : (2 : Nat) + 2 = 5 := by\n  sorry\n\n"
                 "theorem target : (2 : Nat) + 2 = 5 := by\n  sorry\n")
    with Dojo(Theorem(f, "target"), server=lean_server) as (dojo, s0):
        r = dojo.run_tac(s0, "exact helper")
        assert not isinstance(r, ProofFinished) and "sorryAx" in r.error
    with Dojo(Theorem(f, "target"), server=lean_server, allowed_premises=("helper",)) as (dojo, s0):
        assert isinstance(dojo.run_tac(s0, "exact helper"), ProofFinished)
