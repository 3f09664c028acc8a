"""Best-first search and `prover attack` against the real Lean."""
from __future__ import annotations

import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lean import Dojo, ProofFinished, Theorem
from lean.dojo import file_errors
from prover.attack import attack_file
from prover.cli import main as prover_main
from prover.policy import PortfolioPolicy
from prover.search import BestFirstSearch, SearchConfig
from tests.conftest import slow_omega

pytestmark = pytest.mark.lean


class WithoutClosers:
    """The portfolio minus its one-shot automation, so `and_swap` needs a real multi-step search."""

    CLOSERS = ("grind", "simp", "simp_all", "omega", "decide", "trivial", "rfl", "exact ⟨", "assumption", "constructor <;>")

    def __init__(self):
        self.base = PortfolioPolicy()

    def generate(self, states, k, premises=None):
        out = self.base.generate(states, 40, premises)
        return [[(t, lp) for t, lp in c if not t.startswith(self.CLOSERS)][:k] for c in out]


def test_search_finds_a_three_step_proof(demo_file, lean_server):
    search = BestFirstSearch(WithoutClosers(), SearchConfig(time_budget=90, max_expansions=50))
    with Dojo(Theorem(demo_file, "and_swap"), server=lean_server) as (dojo, s0):
        res = search.search([dojo], s0, "and_swap")
        assert res.proved and len(res.proof) >= 3, res.proof
        assert isinstance(dojo.check_proof(res.proof), ProofFinished)
        assert len(res.proof_states) == len(res.proof)
        kinds = {e.result for e in res.edges}
        assert "proved" in kinds and "state" in kinds
        on_path = [e for e in res.edges_json() if e["on_proof_path"]]
        assert [e["tactic"] for e in on_path][-1] == res.proof[-1]


class Scripted:
    """Fixed candidates for every state: a combinator first, by prior, then a one-step proof."""

    def generate(self, states, k, premises=None):
        return [[("constructor <;> assumption", -0.1), ("exact ⟨hq, hp⟩", -0.5)] for _ in states]


def test_quick_tactics_run_before_combinators_and_a_quick_proof_skips_them(demo_file, lean_server):
    with Dojo(Theorem(demo_file, "and_swap"), server=lean_server) as (dojo, s0):
        res = BestFirstSearch(Scripted(), SearchConfig(time_budget=60, max_expansions=5)).search([dojo], s0)
    assert res.proved and res.proof == ["exact ⟨hq, hp⟩"], res.proof
    assert [e.tactic for e in res.edges] == ["exact ⟨hq, hp⟩"]  # the combinator never reached Lean


def test_budgets_are_honoured(demo_file, lean_server):
    with Dojo(Theorem(demo_file, "two_plus_two_five"), server=lean_server) as (dojo, s0):
        res = BestFirstSearch(PortfolioPolicy(), SearchConfig(time_budget=600, max_expansions=2)).search([dojo], s0)
        assert not res.proved and res.expansions <= 2 and res.stop_reason in ("expansion budget", "queue exhausted")
        res = BestFirstSearch(PortfolioPolicy(), SearchConfig(time_budget=1.5, max_expansions=10_000)).search([dojo], s0)
        assert not res.proved and res.wall_s < 1.5 + 25  # one in-flight tactic may finish after the deadline


class SlowFirst:
    """A slow tactic ranked first for every state, and nothing else."""

    def generate(self, states, k, premises=None):
        return [[(slow_omega(), -0.1)] for _ in states]


def test_a_tactic_running_past_the_budget_is_stopped_after_the_overrun(demo_file, lean_server):
    """On a held state Lean interrupts the tactic itself, `overrun` seconds past the budget, and the
    worker stays warm; a search no longer waits out a tactic that can no longer help it."""
    cfg = SearchConfig(time_budget=1.0, overrun=1.0, max_expansions=10)
    with Dojo(Theorem(demo_file, "add_zero'"), server=lean_server) as (dojo, s0):
        assert dojo.stops_in_lean
        res = BestFirstSearch(SlowFirst(), cfg).search([dojo], s0)
        assert not res.proved and res.stop_reason == "time budget"
        assert [(e.tactic, e.result) for e in res.edges] == [(slow_omega(), "error")]
        assert res.wall_s < 1.0 + 1.0 + 3.0, res.wall_s  # the tactic alone takes ~20 s
        assert dojo.stats["interrupts"] == 1 and dojo.stats["restarts"] == 0
        assert isinstance(dojo.run_tac(s0, "simp"), ProofFinished)


class Ranked:
    """Nine failing tactics ranked above the one that proves `and_swap`; records the k it is asked for."""

    def __init__(self):
        self.asked: list[int] = []

    def generate(self, states, k, premises=None):
        self.asked.append(k)
        cands = [(f"exact nope{i}", -0.1 * i) for i in range(9)] + [("exact ⟨hq, hp⟩", -2.0)]
        return [cands[:k] for _ in states]


def test_a_search_that_runs_dry_draws_on_the_policys_reserve(demo_file, lean_server):
    """Once no open state is left, each expanded state is widened once to `max_samples` tactics and those
    not run yet are tried, best first: a search whose first ideas all fail does not stop with time left."""
    cfg = dict(time_budget=60, max_expansions=3, num_samples=4, batch_size=4)
    with Dojo(Theorem(demo_file, "and_swap"), server=lean_server) as (dojo, s0):
        narrow = BestFirstSearch(Ranked(), SearchConfig(**cfg, max_samples=4)).search([dojo], s0)
        policy = Ranked()
        wide = BestFirstSearch(policy, SearchConfig(**cfg, max_samples=12)).search([dojo], s0)
    assert not narrow.proved and narrow.stop_reason == "queue exhausted", narrow.stop_reason
    assert [e.tactic for e in narrow.edges] == [f"exact nope{i}" for i in range(4)]
    assert wide.proved and wide.proof == ["exact ⟨hq, hp⟩"], wide.stop_reason
    assert wide.expansions == 1 and policy.asked == [4, 12]
    tried = [e.tactic for e in wide.edges]
    assert tried[:4] == [f"exact nope{i}" for i in range(4)] and len(set(tried)) == len(tried)  # none ran twice
    with pytest.raises(ValueError, match="max_samples"):
        SearchConfig(max_samples=0)


class SlowModel:
    """Stands in for a neural policy that is slow on this machine (it proposes nothing useful)."""

    expensive = True

    def __init__(self, seconds: float):
        self.seconds, self.calls = seconds, 0

    def generate(self, states, k, premises=None):
        import time

        self.calls += 1
        time.sleep(self.seconds)
        return [[("skip", -0.1)] for _ in states]


def test_slow_model_does_not_starve_lean(demo_file, lean_server):
    """Past `max_model_share` of the wall time, the mixture answers from its cheap members only."""
    from prover.policy import MixturePolicy

    slow = SlowModel(2.0)
    cfg = SearchConfig(time_budget=20, max_expansions=40, batch_size=1, max_model_share=0.3)
    with Dojo(Theorem(demo_file, "and_swap"), server=lean_server) as (dojo, s0):
        res = BestFirstSearch(MixturePolicy([(WithoutClosers(), 0.6), (slow, 0.4)]), cfg).search([dojo], s0)
    assert res.proved, res.stop_reason
    assert res.expansions > slow.calls  # later expansions did not wait for the model
    assert res.model_s <= 0.3 * res.wall_s + slow.seconds  # at most one call past the share


class ShuffledPortfolio:
    """The portfolio's candidates in a random order: exercises many search paths."""

    def __init__(self, seed: int):
        self.rng, self.base = random.Random(seed), PortfolioPolicy()

    def generate(self, states, k, premises=None):
        out = []
        for cands in self.base.generate(states, 12, premises):
            cands = list(cands)
            self.rng.shuffle(cands)
            out.append([(t, -float(i)) for i, (t, _) in enumerate(cands[:k])])
        return out


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), name=st.sampled_from(["and_swap", "and_imp_comm", "two_plus_two_five", "add_zero'"]))
def test_search_invariants(seed, name, demo_file, lean_server):
    search = BestFirstSearch(ShuffledPortfolio(seed), SearchConfig(time_budget=30, max_expansions=6, num_samples=4, batch_size=2))
    with Dojo(Theorem(demo_file, name), server=lean_server) as (dojo, s0):
        res = search.search([dojo], s0, name)
        expanded = {e.state for e in res.edges}
        assert len(expanded) <= res.expansions  # no state expanded twice (each expansion adds edges from one state)
        if res.proved:
            assert isinstance(dojo.check_proof(res.proof), ProofFinished)
        if name == "two_plus_two_five":
            assert not res.proved


def test_attack_cli_writes_verified_proofs(demo_file, lean_server, capsys, monkeypatch):
    import prover.attack as attack_mod

    monkeypatch.setattr(attack_mod, "default_server", lambda config=None: lean_server)
    before = demo_file.read_text()
    code = prover_main(["attack", str(demo_file), "--theorem", "and_swap", "--theorem", "add_zero'",
                        "--budget", "60", "--json", "--write", "--workers", "1"])
    out = [json.loads(l) for l in capsys.readouterr().out.splitlines() if l.startswith("{")]
    assert code == 0
    assert [o["theorem"] for o in out] == ["and_swap", "add_zero'"]
    for o in out:
        assert set(o) == {"theorem", "proved", "proof", "expansions", "lean_s", "model_s", "wall_s"}
        assert o["proved"] and isinstance(o["proof"], str)
    after = demo_file.read_text()
    assert after != before and "theorem two_plus_two_five : (2 : Nat) + 2 = 5 := by\n  sorry" in after
    assert "/-! A small standalone file" in after  # formatting kept
    assert file_errors(demo_file, after, server=lean_server) == []


def test_attack_bad_inputs_leave_file_untouched(demo_file, tmp_path, capsys):
    before = demo_file.read_text()
    assert prover_main(["attack", str(demo_file), "--theorem", "no_such_theorem"]) == 2
    assert "no theorem named 'no_such_theorem'" in capsys.readouterr().err
    assert prover_main(["attack", str(tmp_path / "Nope.lean")]) == 2
    assert prover_main(["attack", str(demo_file), "--model", str(tmp_path / "no-model")]) == 2
    assert "model path" in capsys.readouterr().err
    assert demo_file.read_text() == before


def test_attack_all_uses_earlier_proofs(tmp_path, lean_server):
    f = tmp_path / "Chain.lean"
    f.write_text("theorem step1 (p q : Prop) (hp : p) (hq : q) : p ∧ q := by\n  sorry\n\n"
                 "theorem step2 (p q : Prop) (hp : p) (hq : q) : p ∧ q := by\n  sorry\n")
    report = attack_file(f, None, PortfolioPolicy(), search_config=SearchConfig(time_budget=60, max_expansions=30),
                         server=lean_server, write=False)
    assert [r.theorem for r in report.results] == ["step1", "step2"]
    assert all(r.proved for r in report.results)
    assert report.new_text.count("sorry") == 0


TREE = """\
inductive Tree where
  | leaf : Tree
  | node : Tree → Nat → Tree → Tree

namespace Tree

def insert (x : Nat) : Tree → Tree
  | leaf => node leaf x leaf
  | node l v r =>
    if x < v then node (insert x l) v r
    else if v < x then node l v (insert x r)
    else node l v r

def size : Tree → Nat
  | leaf => 0
  | node l _ r => size l + 1 + size r

theorem size_insert_le (x : Nat) (t : Tree) : size (insert x t) ≤ size t + 1 := by
  sorry

end Tree
"""


def test_one_expansion_splits_the_ifs_of_an_unfolded_definition(tmp_path, lean_server):
    """`insert` into a search tree has an `if … else if` in an arm: after induction and unfolding, each case
    must be split twice before simp and omega close it. The portfolio offers that as one candidate, so a
    single expansion proves it (a plain `induction t <;> simp_all [..]` leaves the `if`s)."""
    from prover.context import premise_provider

    f = tmp_path / "Tree.lean"
    f.write_text(TREE)
    report = attack_file(f, ["Tree.size_insert_le"], PortfolioPolicy(),
                         search_config=SearchConfig(time_budget=120, max_expansions=1),
                         server=lean_server, write=False, premises_for_file=premise_provider(f))
    (res,) = report.results
    assert res.proved, res
    assert "split" in "\n".join(res.proof), res.proof


LAWS = """\
structure Magma (α : Type) where
  op : α → α → α
  op_comm : ∀ a b : α, op a b = op b a

structure CMonoid (α : Type) extends Magma α where
  e : α
  e_op : ∀ a : α, op e a = a

theorem e_op' (M : CMonoid α) (a : α) : M.op M.e a = a := by
  sorry

theorem op_swap (M : CMonoid α) (a : α) : M.op a M.e = M.op M.e a := by
  sorry
"""


def test_laws_of_a_structure_are_premises(tmp_path, lean_server):
    """A development with explicit algebraic structures proves things with their fields (`M.op_comm`,
    `M.e_op`): those laws are premises like theorems, inherited ones included, and the search uses them."""
    from prover.context import premise_provider

    f = tmp_path / "Laws.lean"
    f.write_text(LAWS)
    prem = premise_provider(f)(LAWS, "op_swap")("α : Type\nM : CMonoid α\na : α\n⊢ M.op a M.e = M.op M.e a")
    assert {"Magma.op_comm", "CMonoid.e_op"} <= set(prem) and "Magma.op" not in prem, prem
    report = attack_file(f, ["e_op'", "op_swap"], PortfolioPolicy(), server=lean_server, write=False,
                         search_config=SearchConfig(time_budget=120, max_expansions=2, num_samples=16),
                         premises_for_file=premise_provider(f))
    assert [r.proved for r in report.results] == [True, True], report.results
    assert "CMonoid.e_op" in "\n".join(report.results[0].proof), report.results[0].proof
    assert "Magma.op_comm" in "\n".join(report.results[1].proof), report.results[1].proof


def test_one_expansion_proves_pow_add_with_the_monoids_laws(tmp_path, lean_server):
    """`pow a (m + n) = pow a m * pow a n` by induction on `m`: it needs the monoid's laws in the simp
    set (they come right after `pow`, `prover.context.structure_laws`) and `Nat.succ_add` to expose the
    successor of `k + 1 + n`; one expansion of the portfolio does it (the bundled `Monoid'.pow_add` failed
    in 3 s before)."""
    from prover.context import premise_provider
    from tests.test_premises import ALGEBRA

    f = tmp_path / "Alg.lean"
    f.write_text(ALGEBRA)
    report = attack_file(f, ["Mon.pow_add"], PortfolioPolicy(), server=lean_server, write=False,
                         search_config=SearchConfig(time_budget=120, max_expansions=1),
                         premises_for_file=premise_provider(f))
    (res,) = report.results
    assert res.proved, res
    assert "Nat.succ_add" in res.proof[0] and "Mon.mul_assoc" in res.proof[0], res.proof
