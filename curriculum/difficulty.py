"""Per-theorem difficulty from measurable features.

Proved theorems (LeanAgent's baseline): ``difficulty = exp(S)`` with ``S`` the number of proof steps
(top-level tactics of a `by` proof; 0 for a term proof). See `baseline_exp_steps`.

Open (sorry) theorems have no proof to count, so their number of steps is *estimated* from their
statement and their place in the dependency graph, and put through the same exp so that both kinds
are on one scale:

    S_est = 1
          + 0.50 · ln(1 + tokens)          statement size (identifiers, numbers, symbols)
          + 0.30 · binders                 ∀/∃/λ-bound names and binder groups `(x y : T)`, `{…}`, `[…]`
          + 0.25 · deps                    project declarations the theorem uses directly (graph out-degree)
          + 0.50 · depth                   longest chain of project dependencies below it in the graph
          + 0.70 · failures                earlier failed attempts at it (passed in)
    difficulty = exp(min(S_est, 50))

Without a graph, deps and depth are 0. The weights are hand-set: size and nesting grow the search
slowly (log), every recorded failure is strong evidence.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Mapping

import networkx as nx

from curriculum.project import TheoremInfo
from lean.source import strip_comments

W_TOKENS, W_BINDERS, W_DEPS, W_DEPTH, W_FAILURES = 0.50, 0.30, 0.25, 0.50, 0.70
MAX_EXPONENT = 50.0

_TOKEN = re.compile(r"[A-Za-z_\u00C0-\u024F\u0370-\u03FF\U0001D400-\U0001D7FF][\w'.!?\u00C0-\u024F\u0370-\u03FF₀-₉]*|\d+|\S")
_QUANT = re.compile(r"(?:∀|∃!?|λ|fun|Π|Σ|∑|∏|⋃|⋂)\s*([^,:=>↦]*)")
_GROUP = re.compile(r"[(\[{⦃]\s*([^()\[\]{}⦃⦄:]*?)\s*:[^=]")


def baseline_exp_steps(steps: int) -> float:
    """LeanAgent's difficulty of a proved theorem: e^(number of proof steps)."""
    return math.exp(min(float(steps), MAX_EXPONENT))


@dataclass(frozen=True)
class Features:
    tokens: int
    binders: int
    deps: int
    depth: int
    failures: int


def statement_tokens(statement: str) -> int:
    return len(_TOKEN.findall(strip_comments(statement)))


def count_binders(statement: str) -> int:
    s = strip_comments(statement)
    n = 0
    for m in _QUANT.finditer(s):
        names = [w for w in re.split(r"[\s()]+", m.group(1)) if w and w not in ("_",)]
        n += max(1, len(names))
    for m in _GROUP.finditer(s):
        n += max(1, len(m.group(1).split()))
    return n


def graph_depth(graph: nx.DiGraph, node: str, _memo: dict | None = None) -> int:
    """Length of the longest chain of dependencies starting at `node` (0 for a leaf); cycles are cut."""
    memo = {} if _memo is None else _memo
    if node not in graph:
        return 0
    stack = [(node, iter(graph.successors(node)))]
    on_path = {node}
    while stack:
        n, it = stack[-1]
        nxt = next(it, None)
        if nxt is None:
            stack.pop()
            on_path.discard(n)
            d = 0
            for s in graph.successors(n):
                if s in memo:
                    d = max(d, memo[s] + 1)
            memo[n] = d
            continue
        if nxt in memo or nxt in on_path:
            continue
        on_path.add(nxt)
        stack.append((nxt, iter(graph.successors(nxt))))
    return memo[node]


def features(thm: TheoremInfo, graph: nx.DiGraph | None = None, failures: int = 0,
             _memo: dict | None = None) -> Features:
    deps = graph.out_degree(thm.full_name) if graph is not None and thm.full_name in graph else 0
    depth = graph_depth(graph, thm.full_name, _memo) if graph is not None else 0
    return Features(statement_tokens(thm.statement), count_binders(thm.statement), deps, depth, failures)


def estimated_steps(f: Features) -> float:
    return (1.0 + W_TOKENS * math.log1p(f.tokens) + W_BINDERS * f.binders + W_DEPS * f.deps
            + W_DEPTH * f.depth + W_FAILURES * f.failures)


def difficulty(thm: TheoremInfo, graph: nx.DiGraph | None = None, failures: int = 0, _memo: dict | None = None) -> float:
    """exp(steps) for a proved theorem, exp(estimated steps) for an open one (see the module docstring)."""
    if not thm.is_sorry and thm.proof is not None:
        return baseline_exp_steps(thm.num_tactic_steps) * math.exp(min(W_FAILURES * failures, MAX_EXPONENT)) \
            if failures else baseline_exp_steps(thm.num_tactic_steps)
    return math.exp(min(estimated_steps(features(thm, graph, failures, _memo)), MAX_EXPONENT))


def difficulties(theorems: list[TheoremInfo], graph: nx.DiGraph | None = None,
                 failures: Mapping[str, int] | None = None) -> dict[str, float]:
    failures = failures or {}
    memo: dict = {}
    return {t.full_name: difficulty(t, graph, failures.get(t.full_name, 0), memo) for t in theorems}
