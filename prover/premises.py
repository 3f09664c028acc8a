"""Premise retrieval: which proved lemmas look relevant to a goal.

BM25 over identifier tokens (pure Python, nothing to download): a lemma whose statement and name
share rare identifiers with the goal (`List.reverse`, `append`, `≤`) ranks high.  The index is
updated incrementally as the prover proves lemmas, and serializes to JSON.
"""
from __future__ import annotations

import json
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any


class NoRewrite(str):
    """A premise name to apply, not to rewrite with: its conclusion is `x = …` with `x` its own variable
    (`one_unique … : e = M.one`), so as a simp or rw rule it matches every term (see
    `prover.context.rewrites_a_variable`). Still a plain `str` to every other policy."""

    __slots__ = ()


__all__ = ["NoRewrite", "PremiseIndex", "tokenize"]

_IDENT = re.compile(r"[^\W\d][\w'.]*|[^\w\s(){}\[\],:⟨⟩]")
_STOP = frozenset({"fun", "by", "let", "have", "show", "from", "at", "with", "Type", "Prop", "Sort", "_", ":=", "."})


def tokenize(text: str) -> list[str]:
    """Identifier tokens: whole dotted names, their components, and operator symbols."""
    out: list[str] = []
    for m in _IDENT.finditer(text):
        tok = m.group(0).strip(".")
        if not tok or tok in _STOP:
            continue
        out.append(tok)
        if "." in tok:
            out += [part for part in tok.split(".") if part and part not in _STOP]
    return out


class PremiseIndex:
    """Incremental BM25 index from lemma name to statement text."""

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        if k1 < 0 or not 0 <= b <= 1:
            raise ValueError(f"BM25 needs k1 >= 0 and 0 <= b <= 1, got k1={k1}, b={b}")
        self.k1 = k1
        self.b = b
        self._statements: dict[str, str] = {}
        self._tf: dict[str, Counter[str]] = {}
        self._df: Counter[str] = Counter()
        self._total_len = 0

    def __len__(self) -> int:
        return len(self._statements)

    def __contains__(self, name: object) -> bool:
        return name in self._statements

    def names(self) -> list[str]:
        return list(self._statements)

    def add(self, name: str, statement: str) -> None:
        """Add or replace a premise; its name's components count as statement tokens."""
        if not name or not name.strip():
            raise ValueError("premise name must be non-empty")
        if name in self._statements:
            self.remove(name)
        tf = Counter(tokenize(statement) + tokenize(name))
        self._statements[name] = statement
        self._tf[name] = tf
        self._df.update(tf.keys())
        self._total_len += sum(tf.values())

    def remove(self, name: str) -> None:
        """Forget a premise (e.g. one found to depend on sorry); unknown names raise KeyError."""
        if name not in self._statements:
            raise KeyError(f"premise {name!r} is not in the index")
        tf = self._tf.pop(name)
        del self._statements[name]
        self._df.subtract(tf.keys())
        self._df = +self._df  # drop zero counts
        self._total_len -= sum(tf.values())

    def scores(self, goal_text: str) -> dict[str, float]:
        """BM25 score of every premise that shares at least one token with the goal."""
        n = len(self._statements)
        if n == 0:
            return {}
        query = set(tokenize(goal_text))
        avg = self._total_len / n if n else 1.0
        out: dict[str, float] = {}
        idf = {t: math.log(1 + (n - self._df[t] + 0.5) / (self._df[t] + 0.5)) for t in query if self._df.get(t)}
        if not idf:
            return {}
        for name, tf in self._tf.items():
            length = sum(tf.values()) or 1
            s = 0.0
            for t, w in idf.items():
                f = tf.get(t, 0)
                if f:
                    s += w * f * (self.k1 + 1) / (f + self.k1 * (1 - self.b + self.b * length / avg))
            if s > 0:
                out[name] = s
        return out

    def retrieve(self, goal_text: str, k: int, exclude: set[str] | frozenset[str] = frozenset()) -> list[str]:
        """Names of the `k` premises most similar to the goal, best first (ties by name)."""
        ranked = sorted(((-s, name) for name, s in self.scores(goal_text).items() if name not in exclude))
        return [name for _, name in ranked[: max(k, 0)]]

    # ---- serialization ------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {"version": 1, "k1": self.k1, "b": self.b, "premises": dict(self._statements)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PremiseIndex:
        if not isinstance(data, dict) or "premises" not in data:
            raise ValueError("premise index JSON must be an object with a 'premises' mapping of name -> statement")
        idx = cls(k1=float(data.get("k1", 1.2)), b=float(data.get("b", 0.75)))
        for name, stmt in data["premises"].items():
            idx.add(name, stmt)
        return idx

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1))

    @classmethod
    def load(cls, path: str | Path) -> PremiseIndex:
        return cls.from_json(json.loads(Path(path).read_text()))
