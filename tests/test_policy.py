"""Policies: goal parsing, the model-free portfolio, the transformer policy, and mixtures."""
from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from prover.policy import (
    ByteTokenizer,
    DecodingConfig,
    MixturePolicy,
    Policy,
    PolicyModelConfig,
    PortfolioPolicy,
    TransformerPolicy,
    build_prompt_text,
    is_forbidden,
    parse_goals,
    truncate_state,
)
from prover.search import SearchConfig

torch.set_num_threads(1)  # the test machine is shared; one thread is much faster under contention

TINY = PolicyModelConfig(n_layer=1, n_embd=64, n_head=2, n_positions=256, max_prompt_len=160, max_new_tokens=24)

idents = st.from_regex(r"[a-z][a-z0-9_]{0,5}", fullmatch=True).filter(lambda s: s not in {"case", "fun"})
types = st.sampled_from(["Nat", "ℕ", "List α", "a = b", "x ≤ y + 1", "P n → Q n", "Bool"])


@st.composite
def goals(draw):
    tag = draw(st.one_of(st.none(), idents))
    hyps = draw(st.lists(st.tuples(st.lists(idents, min_size=1, max_size=3), types), max_size=5))
    target = draw(st.sampled_from(["n + 0 = n", "∀ (x : Nat), x = x", "a ∧ b → b ∧ a", "True"]))
    return tag, [(tuple(ns), ty) for ns, ty in hyps], target


def pp(tag, hyps, target):
    lines = [f"case {tag}"] if tag else []
    lines += [f"{' '.join(ns)} : {ty}" for ns, ty in hyps]
    return "\n".join(lines + [f"⊢ {target}"])


# ---- parsing ---------------------------------------------------------------------------------


@given(st.lists(goals(), min_size=1, max_size=3))
def test_parse_goals_roundtrip(gs):
    text = "\n\n".join(pp(*g) for g in gs)
    parsed = parse_goals(text)
    assert [(g.tag, list(g.hypotheses), g.target) for g in parsed] == [(t, h, tg) for t, h, tg in gs]


def test_parse_goals_joins_continuation_lines():
    (g,) = parse_goals("h : a <\n    b\n⊢ a\n    < b")
    assert g.hypotheses == ((("h",), "a < b"),)
    assert g.target == "a < b"


# ---- portfolio --------------------------------------------------------------------------------


def test_portfolio_proposes_induction_on_nat_var():
    p = PortfolioPolicy()
    (cands,) = p.generate(["n : Nat\n⊢ n + 0 = n"], 50)
    tactics = [t for t, _ in cands]
    assert "induction n" in tactics and "cases n" in tactics
    assert "omega" in tactics and "rfl" in tactics
    scores = [s for _, s in cands]
    assert scores == sorted(scores, reverse=True)
    assert len(set(tactics)) == len(tactics)
    assert all(s <= 0 for s in scores)


def test_portfolio_moves_the_successor_out_of_a_left_summand():
    """Induction on `m` in `pow a (m + n)` leaves `pow a (k + 1 + n)`, which `pow`'s equations match only as
    `(k + n) + 1`: the induction also gets `Nat.succ_add`, for a Nat variable on the left of a `+` only."""
    p = PortfolioPolicy()
    state = "α : Type\nM : Mon α\na : α\nm n : Nat\n⊢ M.pow a (m + n) = M.mul (M.pow a m) (M.pow a n)"
    tactics = [t for t, _ in p.candidates(state, ["Mon.pow", "Mon.mul_assoc"])]
    with_succ = [t for t in tactics if "Nat.succ_add" in t]
    assert with_succ == ["induction m generalizing n <;> simp_all [Mon.pow, Mon.mul_assoc, Nat.succ_add]"], with_succ
    tactics = [t for t, _ in p.candidates("m n : Nat\nf : Nat → Nat\n⊢ f (1 + m) = f (n * m)", ["f"])]
    assert not [t for t in tactics if "Nat.succ_add" in t]


def test_portfolio_exact_hypothesis_and_intro_fresh_names():
    p = PortfolioPolicy()
    (c1,) = p.generate(["h : p ∧ q\n⊢ p ∧ q"], 3)
    assert c1[0][0] == "exact h"
    (c2,) = p.generate(["h x : Nat\n⊢ ∀ (x y : Nat), x = y → y = x"], 50)
    tactics = [t for t, _ in c2]
    assert "intro x1 y h1" in tactics and "intros" in tactics
    (c3,) = p.generate(["⊢ True"], 50)
    assert not any(t.startswith("intro ") for t, _ in c3)


def test_portfolio_premises_and_k_and_determinism():
    p = PortfolioPolicy()
    states = ["a b : Nat\n⊢ a + b = b + a", "⊢ True"]
    prem = [["Nat.add_comm"], []]
    out = p.generate(states, 100, prem)
    tactics = [t for t, _ in out[0]]
    for t in ("simp [Nat.add_comm]", "rw [Nat.add_comm]", "exact Nat.add_comm", "apply Nat.add_comm"):
        assert t in tactics
    assert not any("Nat.add_comm" in t for t, _ in out[1])
    assert p.generate(states, 100, prem) == out
    assert [len(c) for c in p.generate(states, 3, prem)] == [3, 3]
    with pytest.raises(ValueError, match="one list per state"):
        p.generate(states, 3, [[]])


def test_portfolio_splits_on_target_variables_with_the_premise_set():
    """Structural proofs in one step: induction (or a case split on both arguments of a two-argument
    match) followed by simp with the retrieved definitions and lemmas, ranked into the first k = 8."""
    p = PortfolioPolicy()
    prem = ["Dev.eval", "Dev.mkPlus", "Dev.mem_append", "Dev.mem_cons"]
    state = "env : Nat\na b : Expr\nn : Nat\n⊢ eval (mkPlus a b) = eval a + eval b"
    (top,) = p.generate([state], 8, [prem])
    tactics = [t for t, _ in top]
    assert "induction a generalizing b <;> simp_all [Dev.eval, Dev.mkPlus, Dev.mem_append, Dev.mem_cons]" in tactics
    (every,) = p.generate([state], 200, [prem])
    every = dict(every)
    both = "cases a <;> cases b <;> simp_all [Dev.eval, Dev.mkPlus, Dev.mem_append, Dev.mem_cons]"
    assert both in every
    # a variable the target does not mention is a worse thing to split on
    assert every["induction n <;> simp_all [Dev.eval, Dev.mkPlus, Dev.mem_append, Dev.mem_cons]"] < \
        every["induction b <;> simp_all [Dev.eval, Dev.mkPlus, Dev.mem_append, Dev.mem_cons]"]
    assert not any("cases env <;> cases" in t for t in every)
    # the premise set holds at most simp_set names
    (small,) = PortfolioPolicy(simp_set=2).generate([state], 200, [prem])
    assert "simp [Dev.eval, Dev.mkPlus]" in dict(small)


def test_portfolio_does_not_induct_on_functions_or_on_proofs_of_predicates():
    """`P : Nat → Prop` is a function and `hx : P x` a proof: `induction P` / `induction hx` only fail in
    Lean, and they used to take two of the first eight slots of `forallT_insert`."""
    state = "P : Nat → Prop\nx : Nat\nt : Tree Nat\nhx : P x\nfs : List (Nat → Nat)\n⊢ ForallT P (insert x t)"
    (every,) = PortfolioPolicy().generate([state], 200)
    tactics = [t for t, _ in every]
    assert "induction t" in tactics and "induction x" in tactics
    assert "induction fs" in tactics  # a list of functions is still data
    for bad in ("induction P", "cases P", "induction hx", "cases hx"):
        assert bad not in tactics, bad


def test_portfolio_instantiates_forall_hypotheses_at_the_goals_terms():
    """`h : ∀ a, M.mul e a = a` at `M.one` is `M.mul e M.one = M.one`, which `mul_one` turns into the goal
    `e = M.one`: the hypothesis is instantiated at the locals and locals' fields the target mentions, never
    at a type or a proof, and only ∀-hypotheses are."""
    prem = ["Monoid'.mul_one", "Monoid'.one_mul"]
    state = "α : Type\nM : Monoid' α\ne : α\nhe : e = e\nh : ∀ (a : α), M.mul e a = a\n⊢ e = M.one"
    (every,) = PortfolioPolicy().generate([state], 200, [prem])
    tactics = [t for t, _ in every]
    assert "simpa [Monoid'.mul_one, Monoid'.one_mul] using h M.one" in tactics[:32]
    assert "have h1 := h M.one" in tactics and "have h1 := h e" in tactics
    assert not any(t.endswith(("h α", "h he")) or " he " in t and "using" in t for t in tactics)
    (bare,) = PortfolioPolicy().generate([state], 200)
    assert "simpa using h M.one" in [t for t, _ in bare]


def test_portfolio_generalizes_accumulators_in_an_induction():
    """`exec env (append p q) s` needs `induction p generalizing q s`: the hypothesis for the tail must hold
    for the stack the head leaves, not only for `s`."""
    prem = ["Dev.exec", "Dev.append"]
    state = "p q : MyList Instr\ns : MyList Nat\n⊢ exec (append p q) s = exec q (exec p s)"
    (every,) = PortfolioPolicy().generate([state], 200, [prem])
    tactics = [t for t, _ in every]
    assert "induction p generalizing q s <;> simp_all [Dev.exec, Dev.append]" in tactics[:8]
    assert "induction p <;> simp_all [Dev.exec, Dev.append]" in tactics  # still offered, lower
    assert not any(t.startswith("induction s generalizing") for t in tactics)  # nothing after it to generalize


def test_portfolio_splits_a_branching_target():
    """An `if`/`match` left in the target after unfolding is split, with the premise set in every branch."""
    prem = ["Dev.insert", "Dev.ForallT"]
    state = "x v : Nat\nl r : Tree Nat\n⊢ ForallT P (if x < v then (insert x l).node v r else l.node v r)"
    (every,) = PortfolioPolicy().generate([state], 200, [prem])
    every = dict(every)
    assert "split" in every and "split <;> simp_all [Dev.insert, Dev.ForallT]" in every
    (top,) = PortfolioPolicy().generate([state], 8, [prem])
    assert "split <;> simp_all [Dev.insert, Dev.ForallT]" in dict(top)
    (plain,) = PortfolioPolicy().generate(["x v : Nat\n⊢ x + v = v + x"], 200, [prem])
    assert not any(t.startswith("split") for t, _ in plain)


@settings(max_examples=60)
@given(st.text(max_size=200), st.lists(st.text(max_size=20), max_size=3))
def test_portfolio_never_gives_up(state, premises):
    (cands,) = PortfolioPolicy().generate([state], 100, [premises + ["sorry", "admit"]])
    for t, _ in cands:
        assert not is_forbidden(t)
        assert "sorry" not in t and "admit" not in t and "native_decide" not in t and "exact?" not in t


def test_is_forbidden():
    assert is_forbidden("sorry") and is_forbidden("simp; admit") and is_forbidden("exact?")
    assert is_forbidden("native_decide")
    assert not is_forbidden("exact sorry_free_lemma") and not is_forbidden("simp [h.admits]")


def test_portfolio_satisfies_protocol():
    assert isinstance(PortfolioPolicy(), Policy)


# ---- tokenizer and prompts ----------------------------------------------------------------------


@given(st.text())
def test_byte_tokenizer_roundtrip(text):
    tok = ByteTokenizer()
    ids = tok.encode(text)
    assert all(0 <= i < 256 for i in ids)
    assert tok.decode(ids) == text


def test_byte_tokenizer_save_load(tmp_path):
    ByteTokenizer().save(tmp_path)
    tok = ByteTokenizer.load(tmp_path)
    assert (tok.pad_token_id, tok.bos_token_id, tok.eos_token_id, tok.vocab_size) == (256, 257, 258, 260)
    assert tok.decode([257, 104, 258], skip_special_tokens=False) == "<bos>h<eos>"


def test_prompt_format():
    assert build_prompt_text("⊢ True", ["a", "b"]) == "[PREMISES] a, b [GOAL] ⊢ True [PROOFSTEP]"
    assert build_prompt_text("⊢ True") == "[GOAL] ⊢ True [PROOFSTEP]"


@given(st.lists(st.tuples(idents, types), min_size=1, max_size=40), st.integers(20, 200))
def test_truncation_keeps_target_and_last_hypotheses(hyps, budget):
    target = "⊢ foo n = bar n"
    state = "\n".join(f"{n} : {t}" for n, t in hyps) + "\n" + target
    count = lambda s: len(s.encode())
    out = truncate_state(state, budget, count)
    assert count(out) <= budget
    assert out.endswith(target)
    kept = out.split("\n")[:-1]
    assert kept == state.split("\n")[:-1][len(state.split("\n")) - 1 - len(kept):]  # a suffix of the hyps


def test_truncation_drops_later_goals_and_cuts_long_target():
    state = "x : Nat\n⊢ P x\n\ny : Nat\n⊢ " + "Q " * 100
    out = truncate_state(state, 20, lambda s: len(s.encode()))
    assert "⊢ P x" in out and "Q" not in out
    long = "⊢ " + "a + " * 100 + "b"
    out = truncate_state(long, 30, lambda s: len(s.encode()))
    assert out.startswith("⊢ a + ") and len(out.encode()) <= 30


def test_encode_prompt_fits_budget_with_premises():
    pol = TransformerPolicy.from_scratch(TINY)
    state = "\n".join(f"h{i} : x{i} = y{i}" for i in range(100)) + "\n⊢ goal_target"
    ids = pol.encode_prompt(state, [f"Lemma.number_{i}" for i in range(50)])
    assert len(ids) <= pol.max_prompt_len
    text = pol.tokenizer.decode(ids)
    assert "⊢ goal_target [PROOFSTEP]" in text and "h99 : x99 = y99" in text and "h0 :" not in text
    assert "Lemma.number_0" in text and "Lemma.number_49" not in text


# ---- transformer policy ----------------------------------------------------------------------------

TRAIN_STATES = [
    ("n : Nat\n⊢ n + 0 = n", "simp"),
    ("a b : Nat\n⊢ a + b = b + a", "omega"),
    ("⊢ True", "trivial"),
    ("h : p\n⊢ p", "exact h"),
]


@pytest.fixture(scope="module")
def trained_policy():
    """A tiny model fitted for a few steps so it emits text (random weights emit junk bytes)."""
    pol = TransformerPolicy.from_scratch(TINY, DecodingConfig(max_new_tokens=12, oversample=3))
    model = pol.model
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=5e-3)
    prompts = [pol.encode_prompt(s) for s, _ in TRAIN_STATES]
    targets = [pol.encode_tactic(t) for _, t in TRAIN_STATES]
    batch = pol.collate(prompts, targets)
    torch.manual_seed(0)
    for _ in range(40):
        lp, valid = pol.token_logprobs(batch)
        loss = -lp.sum() / valid.sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    return pol


def test_batched_generate_k_distinct_in_order(trained_policy):
    states = [s for s, _ in TRAIN_STATES]
    out = trained_policy.generate(states, 3)
    assert len(out) == len(states)
    for cands in out:
        assert len(cands) == 3
        texts = [t for t, _ in cands]
        assert len(set(texts)) == 3 and all(t == t.strip() and t for t in texts)
        scores = [s for _, s in cands]
        assert scores == sorted(scores, reverse=True) and all(s <= 0 for s in scores)
    # the fitted tactic is the top candidate for its own state
    assert [c[0][0] for c in out] == [t for _, t in TRAIN_STATES]


def test_truncated_candidates_are_dropped(trained_policy):
    """A sequence cut off at max_new_tokens is half a tactic: it is not proposed."""
    short = TransformerPolicy(trained_policy.model, trained_policy.tokenizer, device="cpu",
                              decoding=DecodingConfig(max_new_tokens=3, oversample=3))
    out = short.generate([s for s, _ in TRAIN_STATES], 3)
    for (_, tactic), cands in zip(TRAIN_STATES, out):  # without the cut, the top one is the fitted tactic's head
        assert not any(t == tactic[:n] for t, _ in cands for n in range(2, len(tactic))), cands


def test_batched_matches_unbatched(trained_policy):
    states = [s for s, _ in TRAIN_STATES]
    batched = trained_policy.generate(states, 1)
    for s, b in zip(states, batched):
        (single,) = trained_policy.generate([s], 1)
        assert single[0][0] == b[0][0]
        assert math.isclose(single[0][1], b[0][1], abs_tol=1e-3)


def test_sampling_and_premises(trained_policy):
    pol = TransformerPolicy(trained_policy.model, trained_policy.tokenizer, device="cpu",
                            decoding=DecodingConfig(strategy="sample", temperature=0.7, max_new_tokens=12))
    torch.manual_seed(0)
    out = pol.generate(["⊢ True", "h : p\n⊢ p"], 4, [["foo"], []])
    for cands in out:
        assert 1 <= len(cands) <= 4
        assert len({t for t, _ in cands}) == len(cands)
    assert pol.generate([], 3) == []


def test_save_load_roundtrip_same_greedy_generations(trained_policy, tmp_path):
    states = [s for s, _ in TRAIN_STATES] + ["x y : Nat\n⊢ x * y = y * x"]
    greedy = TransformerPolicy(trained_policy.model, trained_policy.tokenizer, device="cpu",
                               max_prompt_len=trained_policy.max_prompt_len,
                               decoding=DecodingConfig(max_new_tokens=12))
    before = greedy.generate(states, 1)
    greedy.save(tmp_path / "ckpt")
    assert (tmp_path / "ckpt" / "byte_tokenizer.json").is_file()
    assert (tmp_path / "ckpt" / "policy_meta.json").is_file()
    loaded = TransformerPolicy.load(tmp_path / "ckpt", device="cpu")
    assert loaded.decoding == greedy.decoding and loaded.max_prompt_len == greedy.max_prompt_len
    assert loaded.generate(states, 1) == before


def test_load_bad_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        TransformerPolicy.load(tmp_path)


def test_config_validation():
    with pytest.raises(ValueError, match="divisible"):
        PolicyModelConfig(n_embd=100, n_head=3)
    with pytest.raises(ValueError, match="n_positions"):
        PolicyModelConfig(n_positions=64)
    with pytest.raises(ValueError, match="strategy"):
        DecodingConfig(strategy="greedy")


# ---- mixture --------------------------------------------------------------------------------------


class _Fixed:
    def __init__(self, cands):
        self.cands = cands

    def generate(self, states, k, premises=None):
        return [list(self.cands)[:k] for _ in states]


def test_mixture_merges_with_weights():
    a = _Fixed([("simp", math.log(0.5)), ("rfl", math.log(0.4))])
    b = _Fixed([("rfl", math.log(0.9)), ("omega", math.log(0.1))])
    mix = MixturePolicy([(a, 0.5), (b, 0.5)])
    (out,) = mix.generate(["⊢ x"], 3)
    assert [t for t, _ in out] == ["rfl", "simp", "omega"]
    assert math.isclose(out[0][1], math.log(0.9 * 0.5))
    assert len(mix.generate(["⊢ x", "⊢ y"], 1)) == 2
    with pytest.raises(ValueError, match="weights"):
        MixturePolicy([(a, 0.0)])
    mix2 = MixturePolicy([(PortfolioPolicy(), 1.0), (a, 2.0)])
    assert isinstance(mix2, Policy)
    assert mix2.generate(["⊢ True"], 2)[0][0][0] == "simp"


def test_mixture_keeps_each_members_share_of_the_slots():
    loud = _Fixed([(f"loud{i}", -0.1 * i) for i in range(8)])
    quiet = _Fixed([(f"quiet{i}", -5.0 - i) for i in range(8)])
    (out,) = MixturePolicy([(loud, 0.6), (quiet, 0.4)]).generate(["⊢ x"], 5)
    tacs = [t for t, _ in out]
    # quiet's scores are far lower, yet its weight's share (int(5 * 0.4) = 2) of the slots is its own
    assert tacs == ["loud0", "loud1", "loud2", "quiet0", "quiet1"]
    assert [lp for _, lp in out] == sorted((lp for _, lp in out), reverse=True)
    # `extra` slots: the loud member keeps what it had at k (int(7 * 0.6) = 4), the quiet one gets 2
    (wide,) = MixturePolicy([(loud, 0.6), (quiet, 0.4)], extra=2).generate(["⊢ x"], 5)
    assert [t for t, _ in wide] == ["loud0", "loud1", "loud2", "loud3", "loud4", "quiet0", "quiet1"]
    with pytest.raises(ValueError, match="extra"):
        MixturePolicy([(loud, 1.0)], extra=-1)


def test_mixture_cheap_drops_expensive_members():
    a, b = _Fixed([("simp", -1.0)]), _Fixed([("rfl", -0.5)])
    b.expensive = True
    mix = MixturePolicy([(a, 0.6), (b, 0.4)])
    cheap = mix.cheap()
    assert cheap is not None and [p for p, _ in cheap.policies] == [a]
    assert [t for t, _ in cheap.generate(["⊢ x"], 4)[0]] == ["simp"]
    assert MixturePolicy([(a, 1.0)]).cheap() is None  # nothing to drop
    assert MixturePolicy([(b, 1.0)]).cheap() is None  # nothing would be left
    assert TransformerPolicy.expensive and not getattr(PortfolioPolicy(), "expensive", False)
    with pytest.raises(ValueError, match="max_model_share"):
        SearchConfig(max_model_share=0)


def test_seq2seq_checkpoint_roundtrip(tmp_path):
    """Any local encoder-decoder checkpoint loads through AutoModelForSeq2SeqLM and generates."""
    from transformers import T5Config, T5ForConditionalGeneration

    torch.manual_seed(0)
    cfg = T5Config(vocab_size=260, d_model=32, d_ff=64, num_layers=1, num_decoder_layers=1, num_heads=2,
                   d_kv=16, pad_token_id=256, eos_token_id=258, decoder_start_token_id=256)
    pol = TransformerPolicy(T5ForConditionalGeneration(cfg), ByteTokenizer(), device="cpu",
                            decoding=DecodingConfig(max_new_tokens=8))
    states = ["⊢ True", "n : Nat\n⊢ n = n"]
    before = pol.generate(states, 2)
    pol.save(tmp_path / "s2s")
    loaded = TransformerPolicy.load(tmp_path / "s2s", device="cpu")
    assert loaded.is_seq2seq
    assert loaded.generate(states, 2) == before


def test_policy_module_does_not_import_lean():
    import subprocess
    import sys

    code = "import sys, prover.policy, prover.premises; assert 'lean' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_portfolio_combines_premises_for_unfolding_and_case_splits():
    state = "t : Tree Nat\n⊢ size (mirror t) = size t"
    cands = [t for t, _ in PortfolioPolicy().generate([state], 60, [["Dev.Tree.size", "Dev.Tree.mirror"]])[0]]
    assert "simp [Dev.Tree.size, Dev.Tree.mirror]" in cands
    assert "induction t <;> simp_all [Dev.Tree.size, Dev.Tree.mirror]" in cands
    assert "unfold Dev.Tree.size" in cands
    assert not any("sorry" in c for c in cands)
