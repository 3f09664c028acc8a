"""Which file of a round to attack next.

Any order that attacks a file after the project files it imports (transitively) respects the
dependencies, but on the embedded Lean the orders differ a lot in what they cost before the first
tactic runs:
- a file whose import was written this round can only be opened after that import is compiled again
  (9-25 s for one module of the bundled development on a 2-core machine);
- a file whose document header (its imports) is that of the file before it can reuse that file's warm
  Lean worker, since a worker is bound to its document's header; another header costs a fresh start (~15 s).
So among the files whose dependencies are done, the next one is the first that needs no module
compiled again, then the first with the previous file's header, then the first in import order. On the
bundled development this attacks Tree, Expr and Algebra (all `import Dev.ListMore`) before BST and
Compiler, which import a file the round changed. README command 1 on a fresh cache (2 cores, 240 s)
proved 44 of 115 in import order, which never reached Algebra, the file with 50 of the open theorems
(two module compiles and four worker starts came first), and 55 in this order.
"""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence


def project_closure(imports: Mapping[str, Sequence[str]]) -> dict[str, frozenset[str]]:
    """For each module, the project modules it imports, directly or not (`imports` may name outside
    modules such as `Init`; they are left out)."""
    closure: dict[str, frozenset[str]] = {}

    def visit(mod: str, chain: tuple[str, ...]) -> frozenset[str]:
        if mod in closure:
            return closure[mod]
        if mod in chain:
            raise ValueError(f"import cycle: {' -> '.join(chain + (mod,))}")
        out: set[str] = set()
        for imp in imports.get(mod, ()):
            if imp in imports:
                out.add(imp)
                out |= visit(imp, chain + (mod,))
        closure[mod] = frozenset(out)
        return closure[mod]

    for m in imports:
        visit(m, ())
    return closure


def next_file(pending: Sequence[str], closure: Mapping[str, frozenset[str]], headers: Mapping[str, str], *,
              stale: Iterable[str] = (), previous: str | None = None) -> str | None:
    """The module of `pending` (in import order) to attack next, or None when `pending` is empty.

    `closure`: each module's project imports, transitively (`project_closure`); `headers`: the document
    header each module's worker is bound to (`lean.dojo.document_header`: the server reuses a warm worker
    only for the same header); `stale`: modules written this round and not compiled since (a file
    importing one waits for a compile); `previous`: the module attacked last, whose worker is warm. A
    pending module whose project imports include another pending module is not ready: its dependency's
    proofs come first. If none is ready (an import cycle), the first pending module is taken, so a round
    always moves on."""
    if not pending:
        return None
    waiting, stale = set(pending), set(stale)
    ready = [m for m in pending if not (closure.get(m, frozenset()) & waiting)]
    if not ready:
        return pending[0]
    position = {m: i for i, m in enumerate(pending)}
    return min(ready, key=lambda m: (bool(closure.get(m, frozenset()) & stale),
                                     previous is None or headers.get(m) != headers.get(previous), position[m]))
