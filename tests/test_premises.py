"""Premise retrieval: BM25 ranking, incremental updates, JSON round trip."""
from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prover.premises import PremiseIndex, tokenize

LEMMAS = {
    "List.reverse_append": "∀ (as bs : List α), (as ++ bs).reverse = bs.reverse ++ as.reverse",
    "Nat.add_comm": "∀ (n m : Nat), n + m = m + n",
    "Nat.mul_comm": "∀ (n m : Nat), n * m = m * n",
    "Nat.le_refl": "∀ (n : Nat), n ≤ n",
    "List.length_append": "∀ (as bs : List α), (as ++ bs).length = as.length + bs.length",
}


def make_index() -> PremiseIndex:
    idx = PremiseIndex()
    for name, stmt in LEMMAS.items():
        idx.add(name, stmt)
    return idx


def test_tokenize_splits_dotted_names_and_keeps_operators():
    toks = tokenize("(xs ++ ys).reverse ≤ Nat.succ n")
    assert "Nat.succ" in toks and "succ" in toks and "Nat" in toks
    assert "≤" in toks and "reverse" in toks


def test_retrieve_ranks_relevant_first():
    idx = make_index()
    assert idx.retrieve("xs ys : List Nat\n⊢ (xs ++ ys).reverse = ys.reverse ++ xs.reverse", 1) == ["List.reverse_append"]
    assert idx.retrieve("a b : Nat\n⊢ a * b = b * a", 1) == ["Nat.mul_comm"]
    assert idx.retrieve("⊢ (xs ++ ys).length = xs.length + ys.length", 2)[0] == "List.length_append"
    assert idx.retrieve("⊢ zzz", 3) == []
    assert len(idx.retrieve("n : Nat ⊢ n + n = n", 10)) <= len(LEMMAS)
    assert "Nat.mul_comm" not in idx.retrieve("⊢ a * b = b * a", 5, exclude={"Nat.mul_comm"})


def test_add_replace_remove():
    idx = make_index()
    idx.remove("Nat.mul_comm")
    assert "Nat.mul_comm" not in idx and len(idx) == len(LEMMAS) - 1
    assert "Nat.mul_comm" not in idx.retrieve("⊢ a * b = b * a", 5)
    with pytest.raises(KeyError, match="not in the index"):
        idx.remove("Nat.mul_comm")
    idx.add("Nat.add_comm", "something else entirely")
    assert len(idx) == len(LEMMAS) - 1
    with pytest.raises(ValueError):
        idx.add("", "x")


def test_incremental_equals_fresh_build():
    idx = make_index()
    idx.add("Extra.thing", "foo = bar")
    idx.remove("Extra.thing")
    fresh = make_index()
    q = "⊢ (xs ++ ys).length = n + m"
    assert idx.scores(q) == pytest.approx(fresh.scores(q))


names = st.from_regex(r"[A-Z][a-z]{0,4}(\.[a-z_]{1,6}){0,2}", fullmatch=True)


@given(st.dictionaries(names, st.text(max_size=60), max_size=8), st.text(max_size=60))
def test_json_roundtrip(premises, query):
    idx = PremiseIndex()
    for n, s in premises.items():
        idx.add(n, s)
    back = PremiseIndex.from_json(json.loads(json.dumps(idx.to_json())))
    assert back.names() == idx.names()
    assert back.retrieve(query, 5) == idx.retrieve(query, 5)


def test_save_load_file(tmp_path):
    idx = make_index()
    idx.save(tmp_path / "premises.json")
    back = PremiseIndex.load(tmp_path / "premises.json")
    assert back.retrieve("⊢ a * b = b * a", 2) == idx.retrieve("⊢ a * b = b * a", 2)
    with pytest.raises(ValueError, match="premises"):
        PremiseIndex.from_json({"nope": 1})


def test_file_context_retrieves_lemmas_about_what_a_definition_unfolds_to(tmp_path):
    """`flatten` unfolds to `append` and `cons`: the lemmas about those (what the human proof rewrites
    with) are retrieved for a goal that mentions only `flatten`, ahead of lemmas sharing only its words."""
    from prover.context import premise_provider

    f = tmp_path / "T.lean"
    fillers = "\n".join(f"theorem filler{i} (x : α) (t : Tree α) (h : TMem x t ∧ Mem x (flatten t)) : TMem x t := h.1"
                        for i in range(3))
    f.write_text(f"""universe u
variable {{α : Type u}}
inductive MyList (α : Type u) where
  | nil : MyList α
  | cons : α → MyList α → MyList α
inductive Tree (α : Type u) where
  | leaf : Tree α
  | node : Tree α → α → Tree α → Tree α
def append : MyList α → MyList α → MyList α
  | .nil, ys => ys
  | .cons x xs, ys => .cons x (append xs ys)
def Mem (a : α) : MyList α → Prop
  | .nil => False
  | .cons x xs => a = x ∨ Mem a xs
def TMem (a : α) : Tree α → Prop
  | .leaf => False
  | .node l v r => TMem a l ∨ a = v ∨ TMem a r
theorem mem_append (a : α) (xs ys : MyList α) : Mem a (append xs ys) ↔ Mem a xs ∨ Mem a ys := by
  induction xs <;> simp_all [append, Mem]
def flatten : Tree α → MyList α
  | .leaf => .nil
  | .node l v r => append (flatten l) (.cons v (flatten r))
def mirror : Tree α → Tree α
  | .leaf => .leaf
  | .node l v r => .node (mirror r) v (mirror l)
theorem mirror_node (l r : Tree α) (v : α) : mirror (.node l v r) = .node (mirror r) v (mirror l) := rfl
theorem mirror_leaf : mirror (.leaf : Tree α) = .leaf := rfl
{fillers}
theorem tmem_iff_mem_flatten (x : α) (t : Tree α) : TMem x t ↔ Mem x (flatten t) := by
  sorry
""")
    goal = "α : Type u\\nx : α\\nt : Tree α\\n⊢ TMem x t ↔ Mem x (flatten t)"
    got = premise_provider(f, k=5)(f.read_text(), "tmem_iff_mem_flatten")(goal)
    assert got[:3] == ["Mem", "TMem", "flatten"]  # the definitions the goal mentions come first
    assert "mem_append" in got, got
    # `mirror_node` shares `node l v r` with flatten's body but is about `mirror`, which the goal never meets
    assert "mirror_node" not in got and "mirror_leaf" not in got, got


IDENT = st.from_regex(r"[a-z][a-z0-9_']{0,6}", fullmatch=True).filter(lambda s: s not in ("fun", "by", "at"))


@given(binders=st.lists(IDENT, min_size=1, max_size=4, unique=True), i=st.integers(0, 3), rhs=IDENT,
       sep=st.sampled_from(["=", "↔"]), implicit=st.booleans())
def test_a_conclusion_with_a_bare_variable_on_the_left_is_no_rewrite_rule(binders, i, rhs, sep, implicit):
    """`x = …` with `x` bound by the lemma matches every term; `f x = …` or `x + 0 = …` does not."""
    from prover.context import rewrites_a_variable

    x = binders[i % len(binders)]
    group = ("{" if implicit else "(") + " ".join(binders) + " : α" + ("}" if implicit else ")")
    assert rewrites_a_variable(f"theorem t {group} (h : f {x} = {rhs}) : {x} {sep} g {rhs}")
    assert not rewrites_a_variable(f"theorem t {group} (h : f {x} = {rhs}) : f {x} {sep} {rhs}")
    assert not rewrites_a_variable(f"theorem t {group} : ({x} + 0) {sep} {x}")
    # a variable bound in the conclusion's own ∀ counts too; a constant of that name does not
    assert rewrites_a_variable(f"theorem t : ∀ {x} : Nat, {x} = {x} + 0")
    assert not rewrites_a_variable(f"theorem t (zz_other : α) : {x} = zz_other")  # x: at most 7 letters


def test_no_rewrite_lemmas_are_offered_to_apply_but_kept_out_of_every_rewriting_set(tmp_path):
    """Proved `one_unique … : e = M.one` in a simp set made each later `simp_all [..]` of the bundled
    Algebra file take 5-17 s instead of 0.3 s: it is retrieved as a NoRewrite premise, and the portfolio
    only applies it."""
    from prover.context import premise_provider
    from prover.policy import PortfolioPolicy
    from prover.premises import NoRewrite

    f = tmp_path / "M.lean"
    f.write_text("""structure Mon (α : Type) where
  mul : α → α → α
  one : α
  mul_one : ∀ a, mul a one = a
theorem one_unique (M : Mon α) (e : α) (h : ∀ a, M.mul e a = a) : e = M.one := by
  have h1 := h M.one
  rw [M.mul_one] at h1
  exact h1
theorem mul_one' (M : Mon α) (a : α) : M.mul a M.one = a := M.mul_one a
theorem target (M : Mon α) (e : α) (h : ∀ a, M.mul e a = a) : M.mul e M.one = M.one := by
  sorry
""")
    goal = "α : Type\nM : Mon α\ne : α\nh : ∀ (a : α), M.mul e a = a\n⊢ M.mul e M.one = M.one"
    got = premise_provider(f)(f.read_text(), "target")(goal)
    assert "one_unique" in got and "mul_one'" in got, got
    assert [type(p) for p in got if p == "one_unique"] == [NoRewrite]
    assert all(type(p) is not NoRewrite for p in got if p != "one_unique")
    tactics = [t for t, _ in PortfolioPolicy().candidates(goal, got)]
    assert "apply one_unique" in tactics and "exact one_unique" in tactics
    mentions = [t for t in tactics if "one_unique" in t]
    assert sorted(mentions) == ["apply one_unique", "exact one_unique"], mentions
    assert any("mul_one'" in t and t.startswith("simp [") for t in tactics)


ALGEBRA = """structure Mon (α : Type) where
  mul : α → α → α
  one : α
  mul_assoc : ∀ a b c : α, mul (mul a b) c = mul a (mul b c)
  one_mul : ∀ a : α, mul one a = a

structure Grp (α : Type) extends Mon α where
  inv : α → α
  inv_mul : ∀ a : α, mul (inv a) a = one

def Mon.pow (M : Mon α) (a : α) : Nat → α
  | 0 => M.one
  | n + 1 => M.mul a (M.pow a n)

theorem Mon.pow_succ (M : Mon α) (a : α) (n : Nat) : M.pow a (n + 1) = M.mul a (M.pow a n) := rfl
theorem Mon.pow_pow_pow (M : Mon α) (a : α) : M.pow a 0 = M.pow (M.pow a 0) 0 := rfl
theorem Mon.pow_pow_mul (M : Mon α) (a : α) : M.mul (M.pow a 0) (M.pow a 0) = M.pow a 0 := M.one_mul _
theorem Mon.pow_pow_one (M : Mon α) (a : α) : M.pow (M.pow a 0) 1 = M.mul (M.pow a 0) (M.pow (M.pow a 0) 0) := rfl

theorem Mon.pow_add (M : Mon α) (a : α) (m n : Nat) : M.pow a (m + n) = M.mul (M.pow a m) (M.pow a n) := by
  sorry
theorem Grp.target (G : Grp α) (a : α) : G.mul (G.inv a) a = G.one := by
  sorry
theorem plain (n : Nat) : n + 0 = n := by
  sorry
"""


def test_the_laws_of_the_goals_structures_come_right_after_its_definitions(tmp_path):
    """`M : Mon α` in a goal brings Mon's laws right after the definitions the goal names, ahead of
    lemmas that share more words with it; `G : Grp α` brings Grp's and its parent's; a goal with no
    such hypothesis gets none forced to the front. Ranked by similarity alone, `mul_assoc` came after `pow_*` lemmas that
    only look alike, and `pow_add` was not proved."""
    from prover.context import premise_provider, structure_laws

    f = tmp_path / "Alg.lean"
    f.write_text(ALGEBRA)
    provider = premise_provider(f, k=8)
    text = f.read_text()
    got = provider(text, "Mon.pow_add")("α : Type\nM : Mon α\na : α\nm n : Nat\n⊢ M.pow a (m + n) = M.mul (M.pow a m) (M.pow a n)")
    assert got[:3] == ["Mon.pow", "Mon.mul_assoc", "Mon.one_mul"], got
    got = provider(text, "Grp.target")("α : Type\nG : Grp α\na : α\n⊢ G.mul (G.inv a) a = G.one")
    assert got[:3] == ["Grp.inv_mul", "Mon.mul_assoc", "Mon.one_mul"], got
    laws = {"Grp": (["Mon"], ["Grp.inv_mul"]), "Mon": ([], ["Mon.mul_assoc"]), "Loop": (["Loop"], ["Loop.law"])}
    assert structure_laws("G : Grp α\nH : Loop α\nM : Mon α\n⊢ True", laws) == ["Grp.inv_mul", "Mon.mul_assoc", "Loop.law"]
    assert structure_laws("h : G = Grp\n⊢ Mon", laws) == [] and structure_laws("n : Nat\n⊢ n + 0 = n", laws) == []
