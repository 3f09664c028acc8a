"""What a theorem may use: the proved lemmas and definitions before it (its file and the project files
it imports), turned into per-goal premise lists for the policy.

Definitions whose names occur in the goal come first (unfolding them is the usual first move in a
development built from scratch), then lemmas ranked by BM25 similarity to the goal.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from lean.build import find_package_root, module_file, source_dirs
from lean.source import THEOREM_KEYWORDS, declarations, parse_header
from prover.premises import PremiseIndex

DEFINITION_KINDS = ("def", "abbrev")
_WORD = re.compile(r"[A-Za-z_][\w']*")


class FileContext:
    """Premises visible from a file: its project imports (transitively) and its own earlier declarations."""

    def __init__(self, path: Path, k: int = 8):
        self.path, self.k = Path(path), k
        root = find_package_root(self.path.parent)
        dirs = source_dirs(root) if root else []
        self.imported_lemmas: list[tuple[str, str]] = []
        self.imported_defs: list[str] = []
        seen: set[str] = set()

        def visit(text: str) -> None:
            for imp in parse_header(text).imports:
                f = module_file(imp, dirs) if dirs else None
                if f is None or imp in seen:
                    continue
                seen.add(imp)
                t = f.read_text(errors="replace")
                visit(t)
                self._collect(t, self.imported_lemmas, self.imported_defs, stop=None)

        visit(self.path.read_text(errors="replace"))

    @staticmethod
    def _collect(text: str, lemmas: list, defs: list, stop: str | None) -> None:
        for d in declarations(text):
            if stop is not None and d.full_name == stop:
                break
            if d.kind in THEOREM_KEYWORDS and not d.is_sorry(text):
                lemmas.append((d.full_name, d.statement(text)))
            elif d.kind in DEFINITION_KINDS and d.name:
                defs.append(d.full_name)

    def for_theorem(self, text: str, name: str) -> Callable[[str], list[str]]:
        """A goal -> premise-names function for theorem `name` of `text` (the file's current contents)."""
        lemmas, defs = list(self.imported_lemmas), list(self.imported_defs)
        self._collect(text, lemmas, defs, stop=name)
        index = PremiseIndex()
        for n, st in lemmas:
            index.add(n, st)
        by_short: dict[str, list[str]] = {}
        for d in defs:
            by_short.setdefault(d.split(".")[-1], []).append(d)

        def premises(goal: str) -> list[str]:
            words = set(_WORD.findall(goal.split("⊢")[-1])) | {w.split(".")[-1] for w in re.findall(r"[\w'.]+", goal)}
            mentioned = [d for w in sorted(words) for d in by_short.get(w, [])][:4]
            ranked = [p for p in index.retrieve(goal, self.k) if p not in mentioned]
            return (mentioned + ranked)[: self.k]

        return premises


def premise_provider(path: Path, k: int = 8) -> Callable[[str, str], Callable[[str], list[str]]]:
    ctx = FileContext(path, k)
    return ctx.for_theorem
