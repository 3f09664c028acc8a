"""Tactic memory: a policy that learns from each proof step the moment it is seen.

A development's later lemmas look like its earlier ones (same types, same definitions, same proof
shapes), and the same tactic that closed one goal often closes its neighbour.  Tactician (Coq) and
TacticToe (HOL4) showed that recalling the tactics used on the most similar earlier proof states is a
strong policy on a user's own project, and it needs no gradient step: adding an example is learning.
So this is the part of the learned policy that pays off within a round, on a CPU, from a few dozen
proofs; the transformer (`prover.policy.TransformerPolicy`) is the part that needs more data.

A state is reduced to weighted features of its main goal (symbols and symbol pairs of the target,
symbols of the hypotheses, the case tag), with local names abstracted, and compared by TF-IDF cosine.
A recalled tactic is adapted before it is proposed: the local names of the state it came from are
renamed to the matching hypotheses of the new state (matched by type).

Pure Python, no `lean` import: like `prover.policy`, usable wherever the policies are.
"""
from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from prover.policy import Candidates, GoalView, _check_premises, _clean_candidates, _fresh, parse_goals

__all__ = ["TacticMemory", "MemoryPolicy", "state_features", "adapt_tactic", "rename_i", "first_step", "learned_mixture"]

# identifiers include Lean's inaccessible marks (`a✝¹`, `tail_ih✝`): they are locals too
_TOKEN = re.compile(r"[^\W\d][\w'.!?₀-₉✝⁰¹²³⁴⁵⁶⁷⁸⁹]*|\d+|[^\w\s(),\[\]{}⟨⟩]+")
_BINDER = re.compile(r"(?:∀|∃|fun|λ|∃!)\s+([^,:=>]+?)\s*(?::[^,]*)?(?:,|=>|↦)")
_LOCAL = "·"  # stands for any local name, so `xs ++ ys` and `l ++ m` share features


def _locals(goal: GoalView) -> set[str]:
    names = set(goal.hypothesis_names())
    for m in _BINDER.finditer(goal.target):
        names.update(n.strip("() ") for n in m.group(1).split())
    return names


def _tokens(text: str, local: set[str]) -> list[str]:
    out = []
    for t in _TOKEN.findall(text):
        head, dot, field = t.partition(".")
        if t in local:
            out.append(_LOCAL)
        elif dot and head in local:  # `xs.length`: a local and a field
            out += [_LOCAL, "." + field]
        else:
            out.append(t)
    return out


def state_features(state: str) -> Counter:
    """Weighted features of a state's main goal (and how many goals there are)."""
    goals = parse_goals(state)
    feats: Counter = Counter()
    if not goals:
        return feats
    g = goals[0]
    local = _locals(g)
    target = _tokens(g.target, local)
    for t in target:
        feats["t:" + t] += 1.0
    for a, b in zip(target, target[1:]):
        feats[f"t2:{a} {b}"] += 1.0
    if target:
        feats["head:" + target[0]] += 1.0
    for _, ty in g.hypotheses:
        for t in set(_tokens(ty, local)):
            feats["h:" + t] += 0.5
    if g.tag:
        feats["case:" + g.tag.split(".")[-1]] += 1.0
    feats[f"goals:{min(len(goals), 3)}"] += 0.5
    return feats


# --------------------------------------------------------------------------------------------------
# Renaming a recalled tactic into the new state
# --------------------------------------------------------------------------------------------------

def _skeleton(ty: str, local: set[str]) -> str:
    return " ".join(_tokens(ty, local))


def _head(ty: str) -> str:
    toks = _TOKEN.findall(ty)
    return toks[0] if toks else ""


def _rename_map(src: GoalView, dst: GoalView) -> dict[str, str]:
    """Local names of `src` -> hypotheses of `dst` with the same type shape (in order), then the
    same head symbol; names with no partner are left alone. A partner may be inaccessible (`ihl✝`):
    `adapt_tactic` names it first."""
    s_local, d_local = _locals(src), _locals(dst)
    s_hyps = [(n, ty) for names, ty in src.hypotheses for n in names]
    d_hyps = [(n, ty) for names, ty in dst.hypotheses for n in names]
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for same in (lambda a, b: _skeleton(a, s_local) == _skeleton(b, d_local), lambda a, b: _head(a) == _head(b)):
        for n, ty in s_hyps:
            if n in mapping:
                continue
            for n2, ty2 in d_hyps:
                if n2 not in used and same(ty, ty2):
                    mapping[n], used = n2, used | {n2}
                    break
    return {a: b for a, b in mapping.items() if a != b}


def adapt_tactic(tactic: str, src_state: str, dst_state: str) -> str:
    """`tactic` (used in `src_state`) with the source's local names replaced by their partners in
    `dst_state`: `induction xs` recalled for a goal about `l` becomes `induction l`."""
    src, dst = parse_goals(src_state), parse_goals(dst_state)
    if not src or not dst:
        return tactic
    mapping = _rename_map(src[0], dst[0])
    if not mapping:
        return tactic
    # whole identifiers only: not inside `List.xs` or `xs'`, but `h.1` and `xs.length` do rename
    pat = re.compile(r"(?<![\w.'])(" + "|".join(map(re.escape, sorted(mapping, key=len, reverse=True))) + r")(?![\w'])")
    used = set(pat.findall(tactic))
    mapping = {a: b for a, b in mapping.items() if a in used}
    if not mapping:
        return tactic
    # an inaccessible partner (`ihl✝` after a plain `induction`) cannot be written in a tactic: name it
    # first with `rename_i`, which names the goal's last inaccessible hypotheses in order
    inaccessible = [n for names, _ in dst[0].hypotheses for n in names if "✝" in n]
    named: dict[str, str] = {}
    if any("✝" in b for b in mapping.values()):
        taken = {n for names, _ in dst[0].hypotheses for n in names if "✝" not in n} | set(mapping.values())
        for a, b in list(mapping.items()):
            if "✝" in b:
                new = a if a not in taken else _fresh(a, taken)
                taken.add(new)
                named[b] = mapping[a] = new
    out = pat.sub(lambda m: mapping[m.group(1)], tactic)
    if named:
        out = f"{rename_i([named.get(n, '_') for n in inaccessible])}; {out}"
    return out


def rename_i(names: Sequence[str]) -> str | None:
    """`rename_i` naming the goal's last inaccessible hypotheses `names` in order (`_` leaves one
    unnamed; leading ones are dropped, they name nothing); None when no name is left."""
    names = list(names)
    while names and names[0] == "_":
        names.pop(0)
    return f"rename_i {' '.join(names)}" if names else None


# --------------------------------------------------------------------------------------------------
# The memory
# --------------------------------------------------------------------------------------------------

_STRUCTURED = re.compile(r"^((?:induction|cases)\s[^\n]*?)\s+with\s*(?:\n|$)")


def first_step(tactic: str) -> str | None:
    """`induction xs with | nil => … | cons x xs ih => …` -> `induction xs`: the step a structured
    tactic starts with.  Its arms rarely fit another theorem whole, but the split itself often does,
    and search (or the memory) can then close the cases one by one."""
    m = _STRUCTURED.match(tactic.strip())
    return m.group(1).strip() if m else None


@dataclass(frozen=True)
class _Entry:
    state: str
    tactic: str
    theorem: str


class TacticMemory:
    """Proof steps (state -> tactic), searchable by similarity of states.  Adding is instant."""

    def __init__(self) -> None:
        self._entries: list[_Entry] = []
        self._vectors: list[dict[str, float]] = []  # raw feature weights per entry
        self._norms: list[float] = []
        self._postings: dict[str, list[int]] = defaultdict(list)
        self._df: Counter = Counter()
        self._keys: set[tuple[str, str]] = set()

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, state: str, tactic: str, theorem: str = "") -> bool:
        """Remember that `tactic` was used in `state`; False when it was already known or unusable."""
        state, tactic = state.strip(), tactic.strip()
        if not state or not tactic or (state, tactic) in self._keys:
            return False
        feats = state_features(state)
        if not feats:
            return False
        self._keys.add((state, tactic))
        i = len(self._entries)
        self._entries.append(_Entry(state, tactic, theorem))
        self._vectors.append(dict(feats))
        for f in feats:
            self._postings[f].append(i)
            self._df[f] += 1
        self._norms.append(0.0)  # computed lazily: idf changes as entries arrive
        self._stale = True
        head = first_step(tactic)
        if head:
            self.add(state, head, theorem)
        return True

    def add_examples(self, rows: Iterable[dict | object]) -> int:
        """Add training rows (dicts or `training.Example`s with state/tactic/theorem); returns how many were new."""
        n = 0
        for r in rows:
            get = r.get if isinstance(r, dict) else (lambda k, d=None, r=r: getattr(r, k, d))
            n += self.add(get("state") or "", get("tactic") or "", get("theorem") or "")
        return n

    def add_proof(self, theorem: str, states: Sequence[str], tactics: Sequence[str]) -> int:
        """Remember every step of a found proof (`states[i]` is where `tactics[i]` was run)."""
        return sum(self.add(s, t, theorem) for s, t in zip(states, tactics))

    def learn(self, result) -> int:
        """Remember the steps of a `SearchResult` if it proved its theorem (the search's callback)."""
        if not getattr(result, "proved", False) or not result.proof:
            return 0
        return self.add_proof(result.theorem, result.proof_states, result.proof)

    def _idf(self, f: str) -> float:
        return math.log(1.0 + len(self._entries) / (1.0 + self._df.get(f, 0)))

    def _refresh(self) -> None:
        if getattr(self, "_stale", False):
            self._norms = [math.sqrt(sum((w * self._idf(f)) ** 2 for f, w in v.items())) or 1.0 for v in self._vectors]
            self._stale = False

    def nearest(self, state: str, n: int = 24, exclude_theorem: str | None = None) -> list[tuple[float, _Entry]]:
        """The `n` most similar remembered steps, as (cosine similarity, entry), best first."""
        if not self._entries:
            return []
        self._refresh()
        q = state_features(state)
        qw = {f: w * self._idf(f) for f, w in q.items() if f in self._df}
        qn = math.sqrt(sum(w * w for w in qw.values()))
        if not qn:
            return []
        acc: dict[int, float] = defaultdict(float)
        for f, w in qw.items():
            idf = self._idf(f)
            for i in self._postings[f]:
                acc[i] += w * self._vectors[i][f] * idf
        scored = [(s / (qn * self._norms[i]), self._entries[i]) for i, s in acc.items()
                  if exclude_theorem is None or self._entries[i].theorem != exclude_theorem]
        scored.sort(key=lambda x: (-x[0], x[1].tactic))
        return scored[:n]

    # ---- persistence (JSONL of the steps; features are recomputed) ----------------------------
    def save(self, path: str | Path) -> None:
        Path(path).write_text("".join(json.dumps({"state": e.state, "tactic": e.tactic, "theorem": e.theorem},
                                                 ensure_ascii=False) + "\n" for e in self._entries))

    @classmethod
    def load(cls, path: str | Path) -> TacticMemory:
        mem = cls()
        for line in Path(path).read_text().splitlines():
            if line.strip():
                mem.add_examples([json.loads(line)])
        return mem


@dataclass
class MemoryPolicy:
    """Policy over a `TacticMemory`: the one-line tactics of the nearest remembered states, renamed into
    the new state (a multi-line script is recalled through its first step).  A tactic's log-score is
    log(scale · similarity) of the best neighbour that used it, plus a small bonus for each further
    neighbour that agrees, so an exact recall ranks near the top of a mixture without crowding out the
    portfolio's automation. `scale` sets where recalls rank against the portfolio's priors (log-scores
    about -2.6 to -3.2): at 0.1 a recall needs a similarity of ~0.75 to outrank its best tactic. At 0.3
    a loose recall (similarity 0.25) outranked them all, so best-first search expanded the states of
    unhelpful recalls first: `benchmarks/search.py --budget 2 --policies portfolio,portfolio+memory` on
    the 115 targets proved 75 with the memory at 0.3, 78 at 0.1, and 79 with the portfolio alone (one
    machine, one after the other)."""

    memory: TacticMemory
    neighbours: int = 24
    scale: float = 0.1
    min_similarity: float = 0.15
    max_chars: int = 160
    expensive = False  # milliseconds per state: never skipped under `max_model_share`

    def generate(self, states: list[str], k: int, premises: list[list[str]] | None = None) -> list[Candidates]:
        _check_premises(states, premises)
        return [_clean_candidates(self.candidates(s), k) for s in states]

    def candidates(self, state: str) -> Candidates:
        votes: dict[str, list[float]] = defaultdict(list)
        for sim, e in self.memory.nearest(state, self.neighbours):
            if sim < self.min_similarity:
                break
            if "\n" in e.tactic or len(e.tactic) > self.max_chars:
                continue  # a whole structured script rarely fits another theorem and is slow to try
            adapted = adapt_tactic(e.tactic, e.state, state)
            votes[adapted].append(sim)
            if adapted != e.tactic:
                votes[e.tactic].append(sim * 0.5)  # the literal text, in case the renaming was wrong
        out: Candidates = []
        for tac, sims in votes.items():
            best = max(sims)
            out.append((tac, math.log(self.scale * best) + 0.1 * math.log(len(sims))))
        return out


def learned_mixture(portfolio, memory: TacticMemory | None = None, model=None):
    """The portfolio with the learned parts on top: its own best candidates keep (nearly) all of their
    slots, and the memory's recalls and the model's proposals get extra slots of their own (3 and 2 of
    k = 8), so a learned part that is wrong costs a little Lean time, not the portfolio's good tactics."""
    from prover.policy import MixturePolicy

    members, extra = [(portfolio, 0.7)], 0
    if memory is not None and len(memory):
        members.append((MemoryPolicy(memory), 0.3))
        extra += 3
    if model is not None:
        members.append((model, 0.2))
        extra += 2
    return portfolio if len(members) == 1 else MixturePolicy(members, extra=extra)


def recall_at_k(memory_rows: Sequence[dict], k: int = 8, order: Sequence[str] | None = None) -> dict:
    """How often the human tactic (as text) is among a `MemoryPolicy`'s top `k` when each theorem's steps
    are queried against the steps of the theorems before it (in `order`, default: row order), as the
    memory would have been when that theorem came up.  A cheap, Lean-free check of the features."""
    by_thm: dict[str, list[dict]] = defaultdict(list)
    for r in memory_rows:
        by_thm[r["theorem"]].append(r)
    names = list(order) if order is not None else list(by_thm)
    mem, pol = TacticMemory(), None
    hits = total = 0
    for name in names:
        rows = by_thm.get(name, [])
        pol = MemoryPolicy(mem)
        for r in rows:
            got = [t for t, _ in pol.generate([r["state"]], k)[0]]
            total += 1
            hits += r["tactic"].strip() in got
        mem.add_examples(rows)
    return {"steps": total, "hits": hits, "recall": round(hits / total, 4) if total else 0.0, "k": k}
