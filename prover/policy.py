"""Tactic policies: map proof states to ranked (tactic, log-probability) candidates.

Three implementations share the `Policy` protocol:

* `PortfolioPolicy` needs no model: it proposes standard automation and goal-shaped tactics with a
  fixed prior, so the prover works (and can bootstrap training data) before any model exists.
* `TransformerPolicy` wraps a local Hugging Face checkpoint, or a tiny GPT-2 built from scratch with a
  byte-level tokenizer (nothing is downloaded).  Generation is batched over all states in one call.
* `MixturePolicy` merges several policies with weights.

This module must stay importable with only torch + transformers installed (the GPU benchmark machine
has nothing else), so it never imports the `lean` package.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import torch

from prover.premises import NoRewrite

__all__ = [
    "Policy",
    "Candidates",
    "GoalView",
    "parse_goals",
    "is_forbidden",
    "PortfolioPolicy",
    "ByteTokenizer",
    "PolicyModelConfig",
    "MODEL_SIZES",
    "DecodingConfig",
    "TransformerPolicy",
    "MixturePolicy",
    "build_prompt_text",
    "resolve_device",
]

Candidates = list[tuple[str, float]]


@runtime_checkable
class Policy(Protocol):
    """Anything that proposes tactics for a batch of proof states."""

    def generate(
        self, states: list[str], k: int, premises: list[list[str]] | None = None
    ) -> list[Candidates]:
        """For each state, up to `k` distinct (tactic, logprob) pairs, best first."""
        ...


# --------------------------------------------------------------------------------------------------
# Safety screen shared by every policy
# --------------------------------------------------------------------------------------------------

# Words that give up on a proof, bypass the kernel, or call an expensive search.  A policy never
# proposes them; `lean.safety` screens again before Lean sees a tactic, this is the first filter.
_FORBIDDEN_RE = re.compile(r"(?<![\w.'])(sorry|admit|native_decide|exact\?|apply\?|rw\?)(?![\w'])")


_BAD_TEXT = re.compile(r"[\ufffd\x00-\x08\x0b-\x1f\x7f]")


def _check_premises(states: list[str], premises: list[list[str]] | None) -> None:
    if premises is not None and len(premises) != len(states):
        raise ValueError(f"premises has {len(premises)} entries for {len(states)} states; pass one list per state or None")


def is_forbidden(tactic: str) -> bool:
    """True if a policy must never emit `tactic` (sorry/admit/native_decide/search tactics)."""
    return bool(_FORBIDDEN_RE.search(tactic))


def _clean_candidates(cands: Sequence[tuple[str, float]], k: int) -> Candidates:
    """Strip, drop empty/forbidden, dedup keeping the best score, sort best first, cut to k."""
    best: dict[str, float] = {}
    for tac, lp in cands:
        t = tac.strip()
        if not t or is_forbidden(t):
            continue
        if t not in best or lp > best[t]:
            best[t] = float(lp)
    # ties broken by text so results are deterministic
    ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))
    return ranked[: max(k, 0)]


# --------------------------------------------------------------------------------------------------
# Goal text parsing (lean-dojo pretty-printed format)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoalView:
    """One goal of a lean-dojo state: case tag, hypotheses as (names, type), and the target."""

    tag: str | None
    hypotheses: tuple[tuple[tuple[str, ...], str], ...]
    target: str

    def hypothesis_names(self) -> list[str]:
        return [n for names, _ in self.hypotheses for n in names]


def _join_continuations(lines: list[str]) -> list[str]:
    """Lean wraps long hypotheses/targets onto indented lines; glue them to the line they continue."""
    out: list[str] = []
    for ln in lines:
        if out and ln[:1].isspace() and not ln.lstrip().startswith("⊢"):
            out[-1] += "\n" + ln
        else:
            out.append(ln)
    return out


def parse_goals(state: str) -> list[GoalView]:
    """Parse a pretty-printed state; goals are separated by blank lines.  Goals without `⊢` are skipped."""
    goals: list[GoalView] = []
    for chunk in re.split(r"\n\s*\n", state.strip()):
        if not chunk.strip():
            continue
        lines = _join_continuations(chunk.strip("\n").split("\n"))
        tag = None
        if lines and lines[0].startswith("case "):
            tag = lines[0][5:].strip() or None
            lines = lines[1:]
        t_idx = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("⊢")), None)
        if t_idx is None:
            continue
        hyps: list[tuple[tuple[str, ...], str]] = []
        for ln in lines[:t_idx]:
            names, sep, ty = ln.partition(" : ")
            if not sep:
                continue
            hyps.append((tuple(names.split()), " ".join(ty.split())))
        target = " ".join("\n".join(lines[t_idx:]).lstrip()[1:].split())
        goals.append(GoalView(tag, tuple(hyps), target))
    return goals


# --------------------------------------------------------------------------------------------------
# PortfolioPolicy
# --------------------------------------------------------------------------------------------------

# Fixed prior, in log-probability.  Rough order: cheap decision procedures that close many easy
# goals first, then structural moves, then hypothesis/premise-specific guesses.
_PRIOR: dict[str, float] = {
    "rfl": math.log(0.10),
    "simp": math.log(0.10),
    "omega": math.log(0.08),
    "decide": math.log(0.05),
    "simp_all": math.log(0.06),
    "grind": math.log(0.07),
    "intro": math.log(0.09),
    "intros": math.log(0.04),
    "induction": math.log(0.06),
    "cases": math.log(0.04),
    "cases_prop": math.log(0.03),
    "constructor": math.log(0.04),
    "exact_hyp": math.log(0.20),
    "assumption": math.log(0.03),
    "simp_hyp": math.log(0.02),
    "contradiction": math.log(0.015),
    "trivial": math.log(0.015),
    "premise_simp": math.log(0.03),
    "premise_rw": math.log(0.025),
    "premise_rw_rev": math.log(0.012),  # right to left: `rw [← mul_assoc]` regroups before a cancellation
    "premise_exact": math.log(0.02),
    "premise_apply": math.log(0.02),
    "premise_simp_all": math.log(0.05),
    "premise_unfold": math.log(0.02),
    "induction_simp": math.log(0.09),
    "induction_split": math.log(0.065),
    "induction_plain": math.log(0.03),  # without generalizing, when the generalized one is offered too
    "cases_simp": math.log(0.03),
    "cases2_simp": math.log(0.05),
    "split": math.log(0.05),  # the target branches (`if`/`match`): one goal per branch
    "split_simp": math.log(0.08),
    "instance_simpa": math.log(0.04),  # `simpa [..] using h t`: a ∀-hypothesis at a term of the goal
    "instance_have": math.log(0.02),
}
_BRANCHES = re.compile(r"\bif\b.*\bthen\b|\bmatch\b")

_IDENT = re.compile(r"^[^\W\d][\w'.!?]*$")
# Types whose hypotheses are data (induction targets) rather than propositions.
_PROP_MARKERS = re.compile(r"[=<>≤≥≠∧∨¬↔→∀∃∣∈∉⊆]|\bTrue\b|\bFalse\b")
_INDUCTIVE_HEADS = {"Nat", "ℕ", "List", "Int", "ℤ", "Bool", "Option", "Fin", "Tree", "Array", "Prod", "Sum"}


def _fresh(base: str, taken: set[str]) -> str:
    """A name not in `taken` (Lean accepts `h`, `h1`, `h2`, ...); records it as taken."""
    name, i = base, 1
    while name in taken:
        name = f"{base}{i}"
        i += 1
    taken.add(name)
    return name


def _forall_binders(target: str) -> list[str]:
    """Names bound by a leading `∀ x y, ...` / `∀ (x : α) {y : β}, ...` of the target."""
    m = re.match(r"^∀\s*([^,]*),", target)
    if not m:
        return []
    binder = m.group(1)
    if re.search(r"[({⦃\[]", binder):
        groups = re.findall(r"[({⦃\[]([^:(){}⦃⦄\[\]]*)(?::[^(){}⦃⦄\[\]]*)?[)}⦄\]]", binder)
        words = [w for g in groups for w in g.split()]
    else:
        words = binder.split(":")[0].split()
    return [w for w in words if _IDENT.match(w) and w != "_"]


def _arrow_count(target: str) -> int:
    """Top-level implications of the target (arrows outside brackets). `lean.source.top_level` scans the
    same way; this module does not import `lean` (see the module docstring)."""
    depth, count = 0, 0
    for ch in target:
        if ch in "([{⟨":
            depth += 1
        elif ch in ")]}⟩":
            depth -= 1
        elif ch == "→" and depth == 0:
            count += 1
    return count


def _is_universe(ty: str) -> bool:
    """`α : Type u`, `P : Prop`: type/proposition variables, not data and not facts."""
    return bool(re.match(r"^(Prop|Type|Sort)(\b|\*|_)", ty))


def _is_data_type(ty: str) -> bool:
    """Heuristic: an inductive-looking type (Nat, List α, a user structure), not a proposition.

    A function (`P : Nat → Prop`, `f : α → β`) is not: `induction P` fails in Lean, a wasted slot."""
    if "→" in re.sub(r"\([^()]*\)", "", ty):  # an arrow outside parentheses: `Nat → Prop`, not `List (α → β)`
        return False
    head = ty.split()[0] if ty.split() else ""
    return head in _INDUCTIVE_HEADS or (not _PROP_MARKERS.search(ty) and head[:1].isupper() and not _is_universe(ty))


@dataclass(frozen=True)
class PortfolioPolicy:
    """Model-free policy: automation and goal-shaped tactics ranked by a fixed prior.

    Deterministic: the same state gives the same candidates in the same order.
    `max_premises` caps how many retrieved premises become candidates per state; the first `simp_set`
    of them also go into one combined `simp [..]` (alone, and after `induction`/`cases`).
    """

    max_premises: int = 8
    simp_set: int = 8  # premises in the combined `simp [..]` candidates (definitions first, then lemmas)

    def generate(
        self, states: list[str], k: int, premises: list[list[str]] | None = None
    ) -> list[Candidates]:
        _check_premises(states, premises)
        out: list[Candidates] = []
        for i, state in enumerate(states):
            prem = premises[i] if premises is not None else None
            out.append(_clean_candidates(self.candidates(state, prem or []), k))
        return out

    def candidates(self, state: str, premises: Sequence[str] = ()) -> Candidates:
        """All candidates for `state` with prior scores (unsorted, may contain duplicates)."""
        goals = parse_goals(state)
        branches = bool(goals) and bool(_BRANCHES.search(goals[0].target))
        cands: list[tuple[str, float]] = [
            (t, _PRIOR[t]) for t in ("rfl", "decide", "omega", "simp", "simp_all", "grind")
        ]
        cands += [("assumption", _PRIOR["assumption"]), ("contradiction", _PRIOR["contradiction"]),
                  ("trivial", _PRIOR["trivial"]), ("constructor", _PRIOR["constructor"])]
        if goals:
            g = goals[0]
            taken = set(g.hypothesis_names())
            tgt = g.target
            binders = _forall_binders(tgt)
            body = tgt.split(",", 1)[1] if binders else tgt
            arrows = _arrow_count(body)
            if binders or arrows:
                names = [_fresh(b, taken) for b in binders]
                names += [_fresh("h", taken) for _ in range(min(arrows, 4))]
                cands.append(("intro " + " ".join(names), _PRIOR["intro"]))
                if len(names) > 1:
                    cands.append((f"intro {names[0]}", _PRIOR["intro"] - 1.0))
                cands.append(("intros", _PRIOR["intros"]))
            # `P : Prop` makes `hp : P` a fact, not data to induct on, and `P : Nat → Prop` makes `hx : P x` one
            prop_vars = {n for names, ty in g.hypotheses if ty == "Prop" or ty.endswith("→ Prop") for n in names}
            for rank, (names, ty) in enumerate(reversed(g.hypotheses)):
                is_data = _is_data_type(ty) and ty.split()[0] not in prop_vars
                # later hypotheses are usually the relevant ones: small bonus by recency
                bonus = -0.05 * rank
                for n in names:
                    if not _IDENT.match(n) or n.startswith("inst") or _is_universe(ty):
                        continue
                    if ty == tgt:
                        cands.append((f"exact {n}", _PRIOR["exact_hyp"] + bonus))
                    if is_data:
                        cands.append((f"induction {n}", _PRIOR["induction"] + bonus))
                        cands.append((f"cases {n}", _PRIOR["cases"] + bonus))
                    elif ty:
                        cands.append((f"simp [{n}]", _PRIOR["simp_hyp"] + bonus))
                        if re.search(r"[∧∨∃↔]", ty):
                            cands.append((f"cases {n}", _PRIOR["cases_prop"] + bonus))
            if branches:
                cands += [("split", _PRIOR["split"]), ("split <;> simp_all", _PRIOR["split_simp"] - 0.5)]
        # rewriting sets leave out what matches every term (NoRewrite): it makes each simp call crawl
        clean = [p.strip() for p in list(premises)[: self.max_premises]
                 if p.strip() and not any(c.isspace() for c in p.strip()) and not isinstance(p, NoRewrite)]
        if clean:
            # the first premises are usually the definitions the goal mentions, then the lemmas about what
            # they unfold to: unfold and rewrite with them together, and after a case split, in every branch
            lemmas = ", ".join(clean[: self.simp_set])
            cands += [(f"simp [{lemmas}]", _PRIOR["premise_simp_all"] + 0.3),
                      (f"simp_all [{lemmas}]", _PRIOR["premise_simp_all"]),
                      (f"simp [{lemmas}] <;> omega", _PRIOR["premise_simp_all"] - 0.5),
                      (f"unfold {clean[0]}", _PRIOR["premise_unfold"])]
            if branches:
                cands.append((f"split <;> simp_all [{lemmas}]", _PRIOR["split_simp"]))
            if goals:
                # data variables the target mentions are what a structural proof splits on
                in_target = set(re.findall(r"[\w'.]+", goals[0].target))
                data = [n for names, ty in goals[0].hypotheses for n in names
                        if _IDENT.match(n) and _is_data_type(ty) and not n.startswith("inst")]
                left_summands = {n for names, ty in goals[0].hypotheses if ty in ("Nat", "ℕ") for n in names
                                 if re.search(rf"(?<![\w'.]){re.escape(n)} \+ ", goals[0].target)}
                for i, n in enumerate(data):
                    bonus = 0.0 if n in in_target else -1.0
                    # a function with an accumulator (`exec env p s` runs `p` from stack `s`) needs its
                    # induction hypothesis for every accumulator: generalize the later variables the target
                    # uses (a more general hypothesis, which simp_all uses where it would use the plain one)
                    later = [m for m in data[i + 1:] if m in in_target]
                    gen = f" generalizing {' '.join(later)}" if later and n in in_target else ""
                    cands.append((f"induction {n}{gen} <;> simp_all [{lemmas}]", _PRIOR["induction_simp"] + bonus))
                    if n in left_summands:
                        # induction on `m` in `f (m + n)` leaves `f (k + 1 + n)`, which `f`'s equations only
                        # match once the successor is outside: `(k + n) + 1` (`Monoid'.pow_add`)
                        cands.append((f"induction {n}{gen} <;> simp_all [{lemmas}, Nat.succ_add]", _PRIOR["induction_simp"] - 0.2))
                    if gen:
                        cands.append((f"induction {n} <;> simp_all [{lemmas}]", _PRIOR["induction_plain"]))
                    cands.append((f"cases {n} <;> simp_all [{lemmas}]", _PRIOR["cases_simp"] + bonus))
                targeted = [n for n in data if n in in_target]
                if targeted:
                    # a definition with `if` in an arm (insert into a search tree) leaves an `if` per case after
                    # unfolding: split each (twice, for an `else if`) and simplify every branch; only on the last
                    # variable the target mentions (the structure; earlier ones are usually its parameters)
                    n = targeted[-1]
                    cands.append((f"induction {n} <;> simp_all [{lemmas}] <;> (try split) <;> (try split) <;> "
                                  f"(try simp_all [{lemmas}]) <;> (try omega)", _PRIOR["induction_split"]))
                pair = targeted[:2]
                if len(pair) == 2:  # a definition by matching on two arguments (`mkPlus a b`) splits on both
                    a, b = pair
                    cands.append((f"cases {a} <;> cases {b} <;> simp_all [{lemmas}]", _PRIOR["cases2_simp"]))
        if goals:
            cands += _instances(goals[0], clean[: self.simp_set])
        for rank, p in enumerate(list(premises)[: self.max_premises]):
            apply_only = isinstance(p, NoRewrite)
            p = p.strip()
            if not _IDENT.match(p):  # only plain names: anything else could inject tactic syntax
                continue
            bonus = -0.1 * rank
            if apply_only:
                cands += [(f"exact {p}", _PRIOR["premise_exact"] + bonus), (f"apply {p}", _PRIOR["premise_apply"] + bonus)]
                continue
            cands += [
                (f"simp [{p}]", _PRIOR["premise_simp"] + bonus),
                (f"rw [{p}]", _PRIOR["premise_rw"] + bonus),
                (f"rw [← {p}]", _PRIOR["premise_rw_rev"] + bonus),
                (f"exact {p}", _PRIOR["premise_exact"] + bonus),
                (f"apply {p}", _PRIOR["premise_apply"] + bonus),
            ]
        return cands


def _instances(g: GoalView, lemmas: Sequence[str], max_terms: int = 3) -> list[tuple[str, float]]:
    """A ∀-hypothesis is a lemma about the goal's own terms: `h : ∀ a, M.mul e a = a` at `M.one`, the
    term in `⊢ e = M.one`, says `M.mul e M.one = M.one`, which the structure law `mul_one` turns into the
    goal. The terms tried are the locals and the locals' fields (`M.one`) the target mentions."""
    local_names = {n for names, _ in g.hypotheses for n in names}
    # locals that are terms (`e : α`, `M : Monoid' α`), not proofs or types
    values = {n for names, ty in g.hypotheses for n in names if not _is_universe(ty) and not _PROP_MARKERS.search(ty)}
    terms: list[str] = []
    for t in re.findall(r"[\w'.]+", g.target):
        head = t.split(".")[0]
        if t not in terms and _IDENT.match(t) and (t in values or ("." in t and head in values)):
            terms.append(t)
    using = f"simpa [{', '.join(lemmas)}] using" if lemmas else "simpa using"
    out: list[tuple[str, float]] = []
    for names, ty in g.hypotheses:
        if not ty.startswith("∀"):
            continue
        for n in names:
            if not _IDENT.match(n):
                continue
            fresh = _fresh(n, set(local_names))
            for rank, t in enumerate(terms[:max_terms]):
                out.append((f"{using} {n} {t}", _PRIOR["instance_simpa"] - 0.1 * rank))
                out.append((f"have {fresh} := {n} {t}", _PRIOR["instance_have"] - 0.1 * rank))
    return out


# --------------------------------------------------------------------------------------------------
# Byte-level tokenizer (no download needed)
# --------------------------------------------------------------------------------------------------


class ByteTokenizer:
    """Bytes 0..255 plus pad/bos/eos/sep: covers any UTF-8 text (Lean's ⊢ ∀ → ...) with no vocab file."""

    FILE_NAME = "byte_tokenizer.json"
    SPECIALS = ("<pad>", "<bos>", "<eos>", "<sep>")

    def __init__(self) -> None:
        self.pad_token_id = 256
        self.bos_token_id = 257
        self.eos_token_id = 258
        self.sep_token_id = 259
        self.vocab_size = 260

    def encode(self, text: str) -> list[int]:
        return list(text.encode("utf-8"))

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = True) -> str:
        """Invalid UTF-8 (a byte model can emit any bytes) becomes U+FFFD."""
        data = bytearray()
        for i in ids:
            i = int(i)
            if i < 256:
                data.append(i)
            elif not skip_special_tokens:
                data += self.SPECIALS[i - 256].encode()
        return data.decode("utf-8", errors="replace")

    def save(self, directory: str | Path) -> Path:
        path = Path(directory) / self.FILE_NAME
        path.write_text(json.dumps({"type": "byte", "vocab_size": self.vocab_size,
                                    "specials": dict(zip(self.SPECIALS, range(256, 260)))}, indent=1))
        return path

    @classmethod
    def load(cls, directory: str | Path) -> ByteTokenizer:
        path = Path(directory) / cls.FILE_NAME
        meta = json.loads(path.read_text())
        if meta.get("type") != "byte" or meta.get("vocab_size") != 260:
            raise ValueError(f"{path} is not a ByteTokenizer file (type={meta.get('type')!r}); re-save the checkpoint")
        return cls()


_BYTE_SUPPRESS = [b for b in range(32) if b != 10] + [127, 0xC0, 0xC1, *range(0xF5, 0x100), 256, 257, 259]


class _HFTokenizerAdapter:
    """Gives a Hugging Face tokenizer the small interface the policy uses (encode/decode/ids)."""

    def __init__(self, tok: Any) -> None:
        self.tok = tok
        self.eos_token_id = tok.eos_token_id
        self.pad_token_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        if self.pad_token_id is None:
            self.pad_token_id = 0
        self.bos_token_id = tok.bos_token_id
        self.vocab_size = len(tok)

    def encode(self, text: str) -> list[int]:
        return list(self.tok(text, add_special_tokens=False)["input_ids"])

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = True) -> str:
        return self.tok.decode(list(ids), skip_special_tokens=skip_special_tokens)

    def save(self, directory: str | Path) -> None:
        self.tok.save_pretrained(str(directory))


# --------------------------------------------------------------------------------------------------
# Prompt construction and truncation
# --------------------------------------------------------------------------------------------------


def build_prompt_text(state: str, premises: Sequence[str] | None = None) -> str:
    """`[PREMISES] p1, p2 [GOAL] <state> [PROOFSTEP]` (premise section omitted when empty)."""
    head = f"[PREMISES] {', '.join(premises)} " if premises else ""
    return f"{head}[GOAL] {state} [PROOFSTEP]"


def _state_units(state: str) -> tuple[list[str], list[str], list[str]]:
    """Split a state into (lines before the first target, the first target's lines, the rest).

    Hypotheses keep their continuation lines so a cut never splits one.
    """
    chunks = re.split(r"(\n\s*\n)", state.strip("\n"))
    first = chunks[0] if chunks else ""
    rest = "".join(chunks[1:]).strip("\n")
    lines = _join_continuations(first.split("\n"))
    t_idx = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("⊢")), None)
    if t_idx is None:
        return lines, [], [rest] if rest else []
    return lines[:t_idx], lines[t_idx:], [rest] if rest else []


def truncate_state(state: str, budget: int, count: Any) -> str:
    """Shorten `state` to at most `budget` tokens (as measured by `count(text)`).

    Priority: the first goal's `⊢` target, then its last hypotheses; the front of the state (early
    hypotheses, case tag) and later goals are dropped first.  A target longer than the budget keeps
    its beginning.
    """
    if count(state) <= budget:
        return state
    before, target, _rest = _state_units(state)
    if not target:  # no ⊢ line: keep the tail, where Lean prints the target
        lo, hi = 0, len(state)
        while lo < hi:
            mid = (lo + hi) // 2
            if count(state[mid:]) <= budget:
                hi = mid
            else:
                lo = mid + 1
        return state[lo:]
    tgt = "\n".join(target)
    if count(tgt) > budget:
        lo, hi = 0, len(tgt)
        while lo < hi:  # longest prefix that fits
            mid = (lo + hi + 1) // 2
            if count(tgt[:mid]) <= budget:
                lo = mid
            else:
                hi = mid - 1
        return tgt[:lo]
    # per-line counts are (nearly) additive; one exact check at the end fixes tokenizer merges
    kept: list[str] = []
    used = count(tgt)
    for hyp in reversed(before):
        cost = count(hyp + "\n")
        if used + cost > budget:
            break
        kept.insert(0, hyp)
        used += cost
    while kept and count("\n".join([*kept, tgt])) > budget:
        kept.pop(0)
    return "\n".join([*kept, tgt])


# --------------------------------------------------------------------------------------------------
# TransformerPolicy
# --------------------------------------------------------------------------------------------------


def resolve_device(device: str) -> tuple[torch.device, torch.dtype]:
    """`auto` = CUDA with bf16 when available, else CPU fp32; explicit devices use fp32 on CPU."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available; use device='auto' or 'cpu'")
    return dev, (torch.bfloat16 if dev.type == "cuda" else torch.float32)


@dataclass(frozen=True)
class PolicyModelConfig:
    """Size of the from-scratch GPT-2 policy and its prompt limits."""

    n_layer: int = 2
    n_embd: int = 128
    n_head: int = 4
    n_positions: int = 512
    max_prompt_len: int = 384
    max_new_tokens: int = 64
    max_premises: int = 8
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        for f in ("n_layer", "n_embd", "n_head", "n_positions", "max_prompt_len", "max_new_tokens"):
            if getattr(self, f) < 1:
                raise ValueError(f"PolicyModelConfig.{f} must be >= 1, got {getattr(self, f)}")
        if self.n_embd % self.n_head:
            raise ValueError(f"PolicyModelConfig.n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")
        if self.max_prompt_len + self.max_new_tokens > self.n_positions:
            raise ValueError(
                f"max_prompt_len + max_new_tokens = {self.max_prompt_len + self.max_new_tokens} exceeds "
                f"n_positions = {self.n_positions}; lower one of them or raise n_positions"
            )

    @classmethod
    def preset(cls, size: str, **overrides: Any) -> PolicyModelConfig:
        """A named size from `MODEL_SIZES` ("tiny" is the CPU default; "small"/"base" suit a GPU)."""
        if size not in MODEL_SIZES:
            raise ValueError(f"unknown model size {size!r}; choose one of {', '.join(MODEL_SIZES)}")
        return cls(**{**MODEL_SIZES[size], **overrides})


# Named from-scratch sizes: (layers, width, heads).  tiny ≈ 0.5M parameters, small ≈ 3.3M, base ≈ 25M.
MODEL_SIZES: dict[str, dict[str, int]] = {
    "tiny": {"n_layer": 2, "n_embd": 128, "n_head": 4},
    "small": {"n_layer": 4, "n_embd": 256, "n_head": 8},
    "base": {"n_layer": 8, "n_embd": 512, "n_head": 8},
}


@dataclass(frozen=True)
class DecodingConfig:
    """How candidates are decoded: beam search (deterministic) or nucleus sampling."""

    strategy: str = "beam"  # "beam" | "sample"
    temperature: float = 1.0
    top_p: float = 0.95
    # generate `oversample * k` sequences so that k remain after dedup / filtering
    oversample: int = 1
    max_new_tokens: int = 64

    def __post_init__(self) -> None:
        if self.strategy not in ("beam", "sample"):
            raise ValueError(f"DecodingConfig.strategy must be 'beam' or 'sample', got {self.strategy!r}")
        if self.temperature <= 0:
            raise ValueError(f"DecodingConfig.temperature must be > 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"DecodingConfig.top_p must be in (0, 1], got {self.top_p}")
        if self.oversample < 1 or self.max_new_tokens < 1:
            raise ValueError("DecodingConfig.oversample and max_new_tokens must be >= 1")


_META_FILE = "policy_meta.json"


class TransformerPolicy:
    """A causal-LM or seq2seq checkpoint used as a tactic generator.

    Holds the model in inference dtype (bf16 on CUDA); `SFTTrainer` switches it to fp32 for training.
    """

    expensive = True  # search may answer from a mixture's cheaper members when this one takes too long

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        max_prompt_len: int = 384,
        max_premises: int = 8,
        decoding: DecodingConfig | None = None,
        device: str = "auto",
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer if isinstance(tokenizer, ByteTokenizer) else (
            tokenizer if isinstance(tokenizer, _HFTokenizerAdapter) else _HFTokenizerAdapter(tokenizer)
        )
        self.is_seq2seq = bool(getattr(model.config, "is_encoder_decoder", False))
        self.max_prompt_len = max_prompt_len
        self.max_premises = max_premises
        self.decoding = decoding or DecodingConfig()
        self.meta = dict(meta or {})
        self.device, self.dtype = resolve_device(device)
        self.model.to(device=self.device, dtype=self.dtype)
        self.model.eval()

    # ---- construction / persistence -------------------------------------------------------------

    @classmethod
    def from_scratch(cls, config: PolicyModelConfig | None = None, decoding: DecodingConfig | None = None) -> TransformerPolicy:
        """A tiny randomly initialised GPT-2 with the byte tokenizer (deterministic given config.seed)."""
        from transformers import GPT2Config, GPT2LMHeadModel

        config = config or PolicyModelConfig()
        tok = ByteTokenizer()
        gcfg = GPT2Config(
            vocab_size=tok.vocab_size, n_positions=config.n_positions, n_embd=config.n_embd,
            n_layer=config.n_layer, n_head=config.n_head, bos_token_id=tok.bos_token_id,
            eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
        )
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            model = GPT2LMHeadModel(gcfg)
        dec = decoding or DecodingConfig(max_new_tokens=config.max_new_tokens)
        return cls(model, tok, max_prompt_len=config.max_prompt_len, max_premises=config.max_premises,
                   decoding=dec, device=config.device, meta={"from_scratch": asdict(config)})

    @classmethod
    def load(cls, path: str | Path, *, device: str = "auto", decoding: DecodingConfig | None = None) -> TransformerPolicy:
        """Load a local checkpoint directory (ours, or any HF causal-LM / seq2seq checkpoint)."""
        from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

        p = Path(path)
        if not (p / "config.json").is_file():
            raise FileNotFoundError(f"{p} is not a model checkpoint directory (no config.json); pass a saved policy dir")
        meta: dict[str, Any] = json.loads((p / _META_FILE).read_text()) if (p / _META_FILE).is_file() else {}
        cfg = AutoConfig.from_pretrained(str(p), local_files_only=True)
        auto = AutoModelForSeq2SeqLM if getattr(cfg, "is_encoder_decoder", False) else AutoModelForCausalLM
        model = auto.from_pretrained(str(p), local_files_only=True)
        tok: Any
        if (p / ByteTokenizer.FILE_NAME).is_file():
            tok = ByteTokenizer.load(p)
        else:
            tok = AutoTokenizer.from_pretrained(str(p), local_files_only=True)
        if decoding is None and "decoding" in meta:
            known = {f.name for f in fields(DecodingConfig)}
            decoding = DecodingConfig(**{k: v for k, v in meta["decoding"].items() if k in known})
        return cls(model, tok, max_prompt_len=int(meta.get("max_prompt_len", 384)),
                   max_premises=int(meta.get("max_premises", 8)), decoding=decoding, device=device, meta=meta)

    from_pretrained = load

    def save(self, path: str | Path) -> Path:
        """Write model, tokenizer and `policy_meta.json` to `path` (created if missing)."""
        p = Path(path)
        p.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(str(p))
        self.tokenizer.save(p)
        meta = {**self.meta, "max_prompt_len": self.max_prompt_len, "max_premises": self.max_premises,
                "decoding": asdict(self.decoding), "seq2seq": self.is_seq2seq}
        (p / _META_FILE).write_text(json.dumps(meta, indent=1, sort_keys=True))
        return p

    def to(self, device: torch.device | str, dtype: torch.dtype | None = None) -> TransformerPolicy:
        self.device = torch.device(device)
        self.dtype = dtype or self.dtype
        self.model.to(device=self.device, dtype=self.dtype)
        return self

    # ---- prompts ------------------------------------------------------------------------------

    def _max_positions(self) -> int | None:
        cfg = self.model.config
        return getattr(cfg, "n_positions", None) or getattr(cfg, "max_position_embeddings", None)

    def encode_prompt(self, state: str, premises: Sequence[str] | None = None, budget: int | None = None) -> list[int]:
        """Token ids of the prompt, truncated to `budget` (default `max_prompt_len`) tokens.

        Premises are capped (count and a quarter of the budget); the state is cut from the front,
        keeping the `⊢` target and the last hypotheses.
        """
        tok = self.tokenizer
        budget = self.max_prompt_len if budget is None else budget
        lead = [tok.bos_token_id] if (tok.bos_token_id is not None and not self.is_seq2seq) else []
        avail = budget - len(lead)
        prem = [p for p in (premises or []) if p.strip()][: self.max_premises]
        bare = len(tok.encode(build_prompt_text("", [])))
        while prem and len(tok.encode(build_prompt_text("", prem))) - bare > avail // 4:
            prem.pop()  # premises get at most a quarter of the prompt; the goal matters more
        frame = len(tok.encode(build_prompt_text("", prem)))
        text_budget = max(avail - frame - 1, 1)
        st = truncate_state(state, text_budget, lambda s: len(tok.encode(s)))
        ids = lead + tok.encode(build_prompt_text(st, prem))
        if len(ids) > budget:  # tokenizer merges across boundaries can overshoot slightly
            ids = ids[:len(lead)] + ids[len(ids) - (budget - len(lead)):] if budget > len(lead) else ids[:budget]
        return ids

    def encode_tactic(self, tactic: str, max_tokens: int | None = None) -> list[int]:
        """Target ids: the tactic followed by eos."""
        ids = self.tokenizer.encode(" " + tactic.strip()) if not self.is_seq2seq else self.tokenizer.encode(tactic.strip())
        if max_tokens is not None:
            ids = ids[: max(max_tokens - 1, 0)]
        return ids + [self.tokenizer.eos_token_id]

    def collate(self, prompts: Sequence[list[int]], targets: Sequence[list[int]]) -> dict[str, torch.Tensor]:
        """Right-padded batch whose `labels` cover only the target tokens (prompt masked with -100)."""
        pad = self.tokenizer.pad_token_id
        if self.is_seq2seq:
            lp = max(len(p) for p in prompts)
            lt = max(len(t) for t in targets)
            ids = torch.full((len(prompts), lp), pad, dtype=torch.long)
            mask = torch.zeros((len(prompts), lp), dtype=torch.long)
            labels = torch.full((len(prompts), lt), -100, dtype=torch.long)
            for i, (p, t) in enumerate(zip(prompts, targets)):
                ids[i, : len(p)] = torch.tensor(p)
                mask[i, : len(p)] = 1
                labels[i, : len(t)] = torch.tensor(t)
            return {"input_ids": ids, "attention_mask": mask, "labels": labels}
        length = max(len(p) + len(t) for p, t in zip(prompts, targets))
        ids = torch.full((len(prompts), length), pad, dtype=torch.long)
        mask = torch.zeros((len(prompts), length), dtype=torch.long)
        labels = torch.full((len(prompts), length), -100, dtype=torch.long)
        for i, (p, t) in enumerate(zip(prompts, targets)):
            seq = list(p) + list(t)
            ids[i, : len(seq)] = torch.tensor(seq)
            mask[i, : len(seq)] = 1
            labels[i, len(p): len(seq)] = torch.tensor(t)
        return {"input_ids": ids, "attention_mask": mask, "labels": labels}

    def token_logprobs(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-token log-probs of the labels and their mask, both (batch, len); grads flow if enabled."""
        batch = {k: v.to(self.device) for k, v in batch.items()}
        labels = batch["labels"]
        if self.is_seq2seq:
            logits = self.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=labels).logits
            tgt = labels
        else:
            mask = batch["attention_mask"]
            pos = (mask.cumsum(-1) - 1).clamp(min=0)
            logits = self.model(input_ids=batch["input_ids"], attention_mask=mask, position_ids=pos).logits[:, :-1]
            tgt = labels[:, 1:]
        valid = tgt != -100
        lp = torch.log_softmax(logits.float(), dim=-1)
        tok_lp = lp.gather(-1, tgt.clamp(min=0).unsqueeze(-1)).squeeze(-1)
        return tok_lp * valid, valid

    # ---- generation ---------------------------------------------------------------------------

    @torch.no_grad()
    def generate(
        self, states: list[str], k: int, premises: list[list[str]] | None = None
    ) -> list[Candidates]:
        """One batched `model.generate` call over all states (left padded), then exact rescoring."""
        _check_premises(states, premises)
        if not states or k <= 0:
            return [[] for _ in states]
        from transformers import GenerationConfig

        dec = self.decoding
        n = k * dec.oversample
        max_new = dec.max_new_tokens
        budget = self.max_prompt_len
        maxpos = self._max_positions()
        if maxpos and not self.is_seq2seq:
            budget = min(budget, maxpos - max_new)
        prompts = [self.encode_prompt(s, premises[i] if premises else None, budget) for i, s in enumerate(states)]
        tok = self.tokenizer
        width = max(len(p) for p in prompts)
        ids = torch.full((len(prompts), width), tok.pad_token_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for i, p in enumerate(prompts):  # left padding so every prompt ends where generation starts
            ids[i, width - len(p):] = torch.tensor(p)
            mask[i, width - len(p):] = 1
        gen_kwargs: dict[str, Any] = dict(
            max_new_tokens=max_new, num_return_sequences=n, pad_token_id=tok.pad_token_id,
            eos_token_id=tok.eos_token_id, bos_token_id=tok.bos_token_id,
        )
        if dec.strategy == "beam":
            gen_kwargs.update(do_sample=False, num_beams=n, early_stopping=True, length_penalty=0.0)
        else:
            gen_kwargs.update(do_sample=True, num_beams=1, temperature=dec.temperature, top_p=dec.top_p, top_k=0)
        if isinstance(tok, ByteTokenizer):
            # a byte model can emit bytes that are never valid in a tactic: control bytes, bytes
            # that never occur in UTF-8, and the non-eos specials
            gen_kwargs["suppress_tokens"] = _BYTE_SUPPRESS
        gcfg = GenerationConfig(**gen_kwargs)
        self.model.eval()
        out = self.model.generate(input_ids=ids.to(self.device), attention_mask=mask.to(self.device), generation_config=gcfg)
        out = out.cpu()
        new = out[:, 1:] if self.is_seq2seq else out[:, width:]  # drop decoder start / prompt
        raw: list[list[int]] = []
        for row in new.tolist():
            cut: list[int] = []
            for t in row:
                if t == tok.eos_token_id:
                    cut.append(t)
                    break
                if t == tok.pad_token_id and tok.pad_token_id != tok.eos_token_id:
                    break
                cut.append(t)
            raw.append(cut)
        # exact sequence log-probs by one forward pass (sampling scores are temperature-warped)
        texts: list[str] = []
        keep: list[int] = []
        for j, seq in enumerate(raw):
            if not seq or seq[-1] != tok.eos_token_id:
                continue  # cut off at max_new_tokens: a tactic missing its end never elaborates
            body = [t for t in seq if t != tok.eos_token_id]
            text = tok.decode(body).strip()
            if text and not _BAD_TEXT.search(text) and not is_forbidden(text):
                texts.append(text)
                keep.append(j)
        scores = self._score([prompts[j // n] for j in keep], [raw[j] for j in keep])
        per_state: list[list[tuple[str, float]]] = [[] for _ in states]
        for j, text, sc in zip(keep, texts, scores):
            per_state[j // n].append((text, sc))
        return [_clean_candidates(c, k) for c in per_state]

    def _score(self, prompts: list[list[int]], targets: list[list[int]], batch_size: int = 64) -> list[float]:
        scores: list[float] = []
        for s in range(0, len(prompts), batch_size):
            batch = self.collate(prompts[s:s + batch_size], targets[s:s + batch_size])
            with self._autocast():
                tok_lp, _ = self.token_logprobs(batch)
            scores += tok_lp.sum(-1).tolist()
        return scores

    def _autocast(self) -> Any:
        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return torch.autocast("cpu", enabled=False)


# --------------------------------------------------------------------------------------------------
# MixturePolicy
# --------------------------------------------------------------------------------------------------


@dataclass
class MixturePolicy:
    """Weighted union of policies: score = logprob + log(weight); duplicates keep their best score.

    Each member is guaranteed its weight's share of the slots (rounded down) for its own best
    candidates; the remaining slots go to the best scores overall.  Without the guarantee a member
    whose scores run high (a memory recalling loosely similar states) crowds out the others entirely.
    `extra` widens the mixture to k + extra candidates, so that adding a member does not take slots
    from the others: with run_tacs a few more candidates per state cost little Lean time.
    """

    policies: list[tuple[Policy, float]] = field(default_factory=list)
    extra: int = 0

    def __post_init__(self) -> None:
        if not self.policies:
            raise ValueError("MixturePolicy needs at least one (policy, weight) pair")
        for _, w in self.policies:
            if not w > 0:
                raise ValueError(f"MixturePolicy weights must be > 0, got {w}; drop the policy instead")
        if self.extra < 0:
            raise ValueError(f"MixturePolicy extra must be >= 0 slots, got {self.extra}")

    def cheap(self) -> MixturePolicy | None:
        """The mixture without its expensive members (neural models), for when search must not wait
        on them; None when nothing would change or nothing would be left."""
        kept = [(p, w) for p, w in self.policies if not getattr(p, "expensive", False)]
        return MixturePolicy(kept, self.extra) if kept and len(kept) < len(self.policies) else None

    def generate(
        self, states: list[str], k: int, premises: list[list[str]] | None = None
    ) -> list[Candidates]:
        total = sum(w for _, w in self.policies)
        k = k + self.extra if k > 0 else 0
        per_member = [[_clean_candidates([(t, lp + math.log(w)) for t, lp in c], k) for c in policy.generate(states, k, premises)]
                      for policy, w in self.policies]
        out: list[Candidates] = []
        for i in range(len(states)):
            chosen: dict[str, float] = {}
            for (_, w), cands in zip(self.policies, per_member):
                quota = int(k * w / total)
                for t, lp in [c for c in cands[i] if c[0] not in chosen][:quota]:
                    chosen[t] = lp
            merged = _clean_candidates([c for cands in per_member for c in cands[i]], len(chosen) + k)
            best = dict(merged)
            for t, lp in merged:
                if len(chosen) >= k:
                    break
                chosen.setdefault(t, lp)
            out.append(_clean_candidates([(t, best.get(t, lp)) for t, lp in chosen.items()], k))
        return out
