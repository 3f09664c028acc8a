"""What a theorem may use: the proved lemmas and definitions before it (its file and the project files
it imports), turned into per-goal premise lists for the policy.

Definitions whose names occur in the goal come first (unfolding them is the usual first move in a
development built from scratch), then lemmas ranked by BM25 similarity to the goal, or to the goal
with those definitions' bodies, whichever scores higher: a lemma about what a definition unfolds to
(`mem_append` for a goal about `flatten`, whose body is an `append`) is what the proof rewrites with
next, as long as every function it mentions is in the goal or in those bodies.  On the bundled
development's target split this recalled 87% of the lemmas and definitions the human proofs use in the
first 8 premises (77% in the first 4), against 74% (66%) from the goal alone.  With structure laws as
premises (`G.mul_assoc` is `Monoid'.mul_assoc`), 72 target proofs use a visible premise instead of 50,
and 90% (78%) of what they use is recalled (`benchmarks/premises.py`).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from lean.build import find_package_root, module_file, source_dirs
from lean.source import STRUCTURE_KEYWORDS, THEOREM_KEYWORDS, declarations, parse_header, structure_fields, top_level
from prover.premises import NoRewrite, PremiseIndex

DEFINITION_KINDS = ("def", "abbrev")
UNFOLD_WEIGHT = 1.0  # benchmarks/premises.py: 0.8 recalls fewer (84% in the first 8), 1.5 about as many (88% vs 87%)
_WORD = re.compile(r"[A-Za-z_][\w']*")
# a structure field whose type relates things states a law (`mul_assoc : ∀ a b c, … = …`); `α → α → α` is data
_LAW = re.compile(r"[=≠↔≤<≥>∣¬∧∨∈∉⊆]|\bTrue\b|\bFalse\b")


def _top_level_split(text: str, seps: tuple[str, ...]) -> tuple[str, str, str] | None:
    """(left, separator, right) at the first separator outside brackets, else None."""
    for i in top_level(text):
        for sep in seps:
            if text.startswith(sep, i):
                return text[:i], sep, text[i + len(sep):]
    return None


def rewrites_a_variable(statement: str) -> bool:
    """Whether the lemma concludes `x = …` (or `x ↔ …`) with `x` one of its own variables.

    Such a lemma is no rewrite rule: as a simp lemma its left side matches every term of that type, and
    simp tries to discharge its hypotheses at each one. Proved `one_unique (e : α) (h : ∀ a, M.mul e a = a)
    : e = M.one` in a premise set made every later `simp_all [..]` of the file take 5-17 s instead of
    0.3 s (benchmarks/search.py, Algebra). Such lemmas are offered as `NoRewrite` premises: to apply,
    not to rewrite with."""
    names: set[str] = set()
    rest = statement.split(None, 2)[-1] if statement.split(None, 1)[0] in THEOREM_KEYWORDS else statement
    for m in re.finditer(r"[({]\s*([^:(){}]+?)\s*:", rest):
        names.update(m.group(1).split())
    head = _top_level_split(" " + rest, (" : ",))
    if head is None:
        return False
    concl = head[2].strip()
    while (q := re.match(r"∀\s*(.+?),\s*", concl)) is not None:  # `∀ x y, x = …`: x is a variable too
        names.update(w.strip("(){}") for w in re.split(r"[\s:]+", q.group(1)) if w)
        concl = concl[q.end():]
    eq = _top_level_split(concl, (" = ", " ↔ "))
    return eq is not None and eq[0].strip() in names


class FileContext:
    """Premises visible from a file: its project imports (transitively) and its own earlier declarations."""

    def __init__(self, path: Path, k: int = 8):
        self.path, self.k = Path(path), k
        root = find_package_root(self.path.parent)
        dirs = source_dirs(root) if root else []
        self.imported_lemmas: list[tuple[str, str]] = []
        self.imported_defs: list[tuple[str, str]] = []  # (name, whole text: its equations name what it unfolds to)
        self.imported_laws: dict[str, tuple[list[str], list[str]]] = {}  # structure -> (parents, its laws)
        seen: set[str] = set()

        def visit(text: str) -> None:
            for imp in parse_header(text).imports:
                f = module_file(imp, dirs) if dirs else None
                if f is None or imp in seen:
                    continue
                seen.add(imp)
                t = f.read_text(errors="replace")
                visit(t)
                self._collect(t, self.imported_lemmas, self.imported_defs, stop=None, laws=self.imported_laws)

        visit(self.path.read_text(errors="replace"))

    @staticmethod
    def _collect(text: str, lemmas: list, defs: list, stop: str | None, laws: dict | None = None) -> None:
        for d in declarations(text):
            if stop is not None and d.full_name == stop:
                break
            if d.kind in THEOREM_KEYWORDS and not d.is_sorry(text):
                lemmas.append((d.full_name, d.statement(text)))
            elif d.kind in DEFINITION_KINDS and d.name:
                defs.append((d.full_name, text[d.keyword_start:d.end]))
            elif d.kind in STRUCTURE_KEYWORDS:
                # its laws are lemmas: `rw [Monoid'.mul_assoc]` rewrites `G.mul` of any `G : Group' α` too
                mine = [(n, ty) for n, ty in structure_fields(text, d) if _LAW.search(ty)]
                lemmas += mine
                if laws is not None and d.name:
                    head = re.search(r"\bextends\b(.*?)(?:\bwhere\b|:=|$)", text[d.keyword_start:d.end], re.S)
                    parents = [p.split()[0].split(".")[-1] for p in head.group(1).split(",") if p.split()] if head else []
                    laws[d.name.split(".")[-1]] = (parents, [n for n, _ in mine])

    def visible(self, text: str, name: str, laws: dict | None = None) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """(proved lemmas as (name, statement), definitions as (name, text)) that theorem `name` of
        `text` (the file's current contents) may use: the imports', then the file's own before it.
        `laws`, when given, receives each visible structure's parents and laws."""
        lemmas, defs = list(self.imported_lemmas), list(self.imported_defs)
        if laws is not None:
            laws.update(self.imported_laws)
        self._collect(text, lemmas, defs, stop=name, laws=laws)
        return lemmas, defs

    def for_theorem(self, text: str, name: str) -> Callable[[str], list[str]]:
        """A goal -> premise-names function for theorem `name` of `text` (the file's current contents)."""
        laws: dict[str, tuple[list[str], list[str]]] = {}
        lemmas, defs = self.visible(text, name, laws)
        index = PremiseIndex()
        for n, st in lemmas:
            index.add(n, st)
        by_short: dict[str, list[tuple[str, str]]] = {}
        for d in defs:
            by_short.setdefault(d[0].split(".")[-1], []).append(d)
        # the definitions each lemma mentions, worked out once per theorem, not at every goal
        about = {n: {w for w in _WORD.findall(st) if w in by_short} for n, st in lemmas}
        no_rewrite = {n for n, st in lemmas if rewrites_a_variable(st)}

        def premises(goal: str) -> list[str]:
            words = set(_WORD.findall(goal.split("⊢")[-1])) | {w.split(".")[-1] for w in re.findall(r"[\w'.]+", goal)}
            mentioned = [d for w in sorted(words) for d in by_short.get(w, [])][:4]
            names = [n for n, _ in mentioned]
            # the laws of the structures the goal's hypotheses are (`M : Monoid' α`): the axioms every
            # proof about `M.mul` rewrites with, which similarity ranks below lemmas that share more words
            names += [n for n in structure_laws(goal, laws) if n not in names]
            scores = index.scores(goal)
            # what the goal's definitions unfold to: after `simp [f]` the goal speaks of f's body, so the
            # lemmas about those symbols (`mem_append` once `flatten` unfolds to `append`) are needed too
            unfolded = " ".join(body.split(":=", 1)[-1] for _, body in mentioned)
            if unfolded:
                # ... but only lemmas about functions the goal has or unfolds to: `mirror_node` shares
                # `node l v r` with `flatten`'s body, yet says nothing about `flatten`
                vocab = set(_WORD.findall(goal)) | set(_WORD.findall(unfolded))
                for n, s in index.scores(goal + " " + unfolded).items():
                    if about[n] <= vocab:
                        scores[n] = max(scores.get(n, 0.0), UNFOLD_WEIGHT * s)
            ranked = [NoRewrite(n) if n in no_rewrite else n
                      for _, n in sorted((-s, n) for n, s in scores.items()) if n not in names]
            return (names + ranked)[: self.k]

        return premises


def structure_laws(goal: str, laws: dict[str, tuple[list[str], list[str]]]) -> list[str]:
    """The laws of the structures that the goal's hypotheses are instances of, with their parents'."""
    out: list[str] = []
    todo = [m.group(1).split(".")[-1] for m in re.finditer(r"^[^⊢:\n]+ : @?([\w'.]+)", goal, re.M)]
    seen: set[str] = set()
    while todo:
        s = todo.pop(0)
        if s in seen or s not in laws:
            continue
        seen.add(s)
        parents, own = laws[s]
        out += [n for n in own if n not in out]
        todo[:0] = parents  # a structure's parents' laws right after its own
    return out


def premise_provider(path: Path, k: int = 8) -> Callable[[str, str], Callable[[str], list[str]]]:
    ctx = FileContext(path, k)
    return ctx.for_theorem
