"""The round's file order: dependencies first, then the files that are cheapest to open."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from curriculum.project import list_modules
from curriculum.schedule import next_file, project_closure
from lean.dojo import document_header

from curriculum.manager import REPO_ROOT


def by_imports(imports: dict) -> dict:
    """Headers for a made-up project: a file's header is its import list."""
    return {m: tuple(sorted(i)) for m, i in imports.items()}


def run_schedule(pending: list[str], imports: dict, written: set[str], headers: dict | None = None) -> list[str]:
    """Drive `next_file` as the manager does: every module in `written` is written when attacked."""
    closure, headers = project_closure(imports), headers or by_imports(imports)
    order, stale, previous, pending = [], set(), None, list(pending)
    while pending:
        mod = next_file(pending, closure, headers, stale=stale, previous=previous)
        pending.remove(mod)
        stale -= closure[mod]
        if mod in written:
            stale.add(mod)
        order.append(mod)
        previous = mod
    return order


def test_bundled_files_that_import_no_changed_file_come_first():
    mods = list_modules(REPO_ROOT)
    imports = {m.name: m.imports for m in mods}
    headers = {m.name: document_header(m.path.read_text())[0] for m in mods}  # what the server matches workers by
    assert headers["Dev.Tree"] == headers["Dev.Expr"] == headers["Dev.Algebra"] != headers["Dev.BST"]
    with_targets = ["Dev.Tree", "Dev.BST", "Dev.Expr", "Dev.Compiler", "Dev.Algebra"]
    pending = [m.name for m in mods if m.name in with_targets]
    assert pending == with_targets  # import order, as list_modules gives it
    assert run_schedule(pending, imports, set(pending), headers) == ["Dev.Tree", "Dev.Expr", "Dev.Algebra", "Dev.BST", "Dev.Compiler"]
    # nothing written: no compile to wait for, yet Expr and Algebra still share Tree's warm worker
    assert run_schedule(pending, imports, set(), headers) == ["Dev.Tree", "Dev.Expr", "Dev.Algebra", "Dev.BST", "Dev.Compiler"]


def test_a_file_that_imports_a_changed_file_waits():
    imports = {"A": (), "B": ("A",), "C": ("Y",), "Y": ()}
    closure, headers = project_closure(imports), by_imports(imports)
    assert next_file(["B", "C"], closure, headers, stale={"A"}) == "C"
    assert next_file(["B", "C"], closure, headers) == "B"
    assert next_file(["B", "C"], closure, headers, stale={"Y"}) == "B"


def test_a_file_with_the_previous_files_imports_goes_next():
    imports = {"A": ("Init",), "B": ("X",), "C": ("A",), "D": ("A",), "X": ()}
    closure, headers = project_closure(imports), by_imports(imports)
    # after C (imports A), D has the same header and comes before B
    assert next_file(["B", "D"], closure, headers, previous="C") == "D"
    assert next_file(["B", "D"], closure, headers, previous=None) == "B"


@st.composite
def dags(draw):
    n = draw(st.integers(1, 8))
    names = [f"M{i}" for i in range(n)]
    imports = {}
    for i, m in enumerate(names):  # a module imports only earlier ones: acyclic, listed in import order
        imports[m] = tuple(draw(st.lists(st.sampled_from(names[:i]), unique=True, max_size=3))) if i else ()
    pending = [m for m in names if draw(st.booleans())]
    written = {m for m in pending if draw(st.booleans())}
    return imports, pending, written


@settings(max_examples=200, deadline=None)
@given(dags())
def test_every_file_comes_once_and_after_the_pending_files_it_imports(case):
    imports, pending, written = case
    order = run_schedule(pending, imports, written)
    assert sorted(order) == sorted(pending)
    closure = project_closure(imports)
    for i, m in enumerate(order):
        assert not (closure[m] & set(order[i + 1:])), f"{m} came before a file it imports: {order}"


def test_an_import_cycle_is_named():
    with pytest.raises(ValueError, match="import cycle: A -> B -> A"):
        project_closure({"A": ("B",), "B": ("A",)})
