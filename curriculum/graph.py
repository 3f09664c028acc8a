"""The project's dependency graph, from what Lean says each declaration uses.

For every project module (dependencies first) one document is elaborated in a warm worker:

    <the file's header> + import Lean + import LeanAgentMeta (the compiled helpers) + <the whole file body>
    #eval … IO.println (LeanAgentMeta.depsLines (← getEnv) [``Full.name, …])   -- every named declaration, in one command

It prints, one line per declaration, `LA-DEPS <name> :: c@Module,…` (the constants the declaration's type and value
mention, with their modules; "." is the current file). An edge `d → c` is added for every such
constant that belongs to the project, mapped to the declaration it was generated from
(`Foo.bar.eq_1`, `Foo.bar.match_1`, `Foo.bar._proof_1` → `Foo.bar`; constructors and projections →
their type). Nodes are all named declarations, with attributes kind, module, file, line, is_sorry.
The result is cached per project and content hash under `<cache_dir>/graphs/`.

`curriculum_order` turns the graph into the order in which open (sorry) theorems should be attempted.
"""
from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import networkx as nx

from curriculum.project import ModuleInfo, ProjectError, TheoremInfo, list_modules
from lean import leanmeta
from lean.dojo import document_header, project_context
from lean.config import LeanConfig
from lean.errors import DojoCrashError, DojoInitError, DojoTimeoutError
from lean.source import declarations, parse_header

GRAPH_FORMAT = 2
_PRIVATE = re.compile(r"^_private\.(?:[^.]+\.)*?0\.")


def _normalise(name: str) -> str:
    """`_private.Dev.A.0.Dev.foo` → `Dev.foo`."""
    return _PRIVATE.sub("", name)


def _owner(name: str, known: set[str] | dict) -> str | None:
    """The declaration a (possibly auxiliary) constant belongs to."""
    name = _normalise(name)
    parts = name.split(".")
    for k in range(len(parts), 0, -1):
        cand = ".".join(parts[:k])
        if cand in known:
            return cand
    return None


def _cache_file(config: LeanConfig, root: Path) -> Path:
    tag = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:12]
    return config.cache_dir / "graphs" / f"{root.resolve().name}-{tag}.json"


def _content_key(root: Path, modules: list[ModuleInfo]) -> str:
    h = hashlib.sha256(f"format={GRAPH_FORMAT}\n".encode())
    h.update(leanmeta.PRELUDE.encode())
    for lf in ("lakefile.lean", "lakefile.toml"):
        if (root / lf).exists():
            h.update((root / lf).read_bytes())
    for m in modules:
        h.update(f"\0{m.name}\0{m.path}\0".encode())
        h.update(m.path.read_bytes())
    return h.hexdigest()


def make_document(text: str, names: Sequence[str]) -> tuple[str, str, int, int]:
    """(document, header, line shift, 0-based document line of the report's `#eval`) for one file."""
    header, body_start = document_header(text)  # the same header as Dojo's documents of this file
    doc = header  # it imports the compiled helpers
    shift = doc.count("\n") - text[:body_start].count("\n")
    doc += text[body_start:]
    if not doc.endswith("\n"):
        doc += "\n"
    doc += "\n"
    line = doc.count("\n")
    doc += leanmeta.deps_command(names)
    return doc, header, shift, line


def _elaborate_module(mod: ModuleInfo, root: Path, server, config: LeanConfig, names: list[str]):
    text = mod.path.read_text(encoding="utf-8")
    try:
        _build, lean_path, mounts = project_context(mod.path, config)  # as Dojo does: workers are shared
    except DojoInitError as e:
        raise ProjectError(f"{mod.path}: an imported module does not build: {e}") from None
    doc, header, shift, eval_line = make_document(text, names)
    worker = server.acquire(lean_path, mounts, header)
    try:
        try:
            elab = worker.elaborate(doc, config.init_timeout, header=header)
        except DojoTimeoutError:
            worker.start()
            raise ProjectError(f"{mod.path}: Lean did not finish elaborating the file within {config.init_timeout:.0f} s")
        except DojoCrashError as e:
            worker.start()
            raise ProjectError(f"{mod.path}: Lean crashed while elaborating the file: {str(e)[:500]}")
    finally:
        server.release(worker)
    return text, elab, shift, eval_line


def dependency_graph(root: Path | str, server=None, config: LeanConfig | None = None, *, use_cache: bool = True,
                     modules: list[ModuleInfo] | None = None, progress: Callable[[str], None] | None = None) -> nx.DiGraph:
    """Nodes: the project's named declarations; edges: declaration → project declaration it uses."""
    root = Path(root).resolve()
    modules = list_modules(root) if modules is None else modules
    config = config or (server.config if server is not None else LeanConfig())
    key = _content_key(root, modules)
    cache = _cache_file(config, root)
    if use_cache and cache.exists():
        try:
            data = json.loads(cache.read_text())
            if data.get("key") == key:
                return nx.node_link_graph(data["graph"], directed=True, edges="edges")
        except (json.JSONDecodeError, KeyError, TypeError):
            pass
    if server is None:
        from lean.server import default_server
        server = default_server(config)
    t0 = time.time()
    g = nx.DiGraph()
    g.graph["root"] = str(root)
    warnings: list[str] = []
    project_mods = {m.name for m in modules}
    decls_by_mod = {}
    for mod in modules:
        text = mod.path.read_text(encoding="utf-8")
        ds = [d for d in declarations(text) if d.full_name and d.kind != "example"]
        decls_by_mod[mod.name] = ds
        for d in ds:
            g.add_node(d.full_name, kind=d.kind, module=mod.name, file=str(mod.path), line=d.line,
                       is_sorry=d.is_sorry(text))
    known = set(g.nodes)
    for mod in modules:
        ds = decls_by_mod[mod.name]
        if not ds:
            continue
        if progress:
            progress(f"elaborating {mod.name} ({len(ds)} declarations)")
        names = [d.full_name for d in ds]
        text, elab, shift, eval_line = _elaborate_module(mod, root, server, config, names)
        body_first = text[:parse_header(text).end].count("\n") + shift
        errors = [d for d in elab.diagnostics if d.is_error and d.start.line < eval_line]
        if errors:
            d = errors[0]
            line = d.start.line - shift + 1 if d.start.line >= body_first else 1
            raise ProjectError(f"{mod.path}:{line}: {d.message[:600]}\n(fix the file; the dependency graph needs every "
                               f"project file to elaborate)")
        diags = [d for d in elab.diagnostics if d.start.line == eval_line]
        reports = leanmeta.parse_report("LA-DEPS", "\n".join(d.message for d in diags if not d.is_error))
        for decl in ds:
            used = reports.get(leanmeta.public_name(decl.full_name))
            if used is None:
                why = "; ".join(d.message for d in diags)[:300] or "no output"
                warnings.append(f"{mod.path}:{decl.line}: no dependency report for {decl.full_name} ({why})")
                continue
            for c, cmod in used:
                if cmod != "." and cmod not in project_mods:
                    continue
                target = _owner(c, known)
                if target is None or target == decl.full_name:
                    continue
                g.add_edge(decl.full_name, target)
    g.graph["warnings"] = warnings
    g.graph["seconds"] = time.time() - t0
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    tmp.write_text(json.dumps({"key": key, "graph": nx.node_link_data(g, edges="edges")}))
    tmp.replace(cache)
    return g


def curriculum_order(graph: nx.DiGraph, theorems: Iterable[TheoremInfo | str],
                     difficulty: Mapping[str, float] | Callable[[str], float] | None = None) -> list[str]:
    """Open (sorry) theorems, every theorem after the open theorems it depends on (directly or through
    proved ones); among those that are free to go next, the easiest first, then file order."""
    items = list(theorems)
    names = [t.full_name if isinstance(t, TheoremInfo) else t for t in items]
    open_: list[str] = []
    for t, n in zip(items, names):
        sorry = t.is_sorry if isinstance(t, TheoremInfo) else bool(graph.nodes.get(n, {}).get("is_sorry"))
        if sorry and n not in open_:
            open_.append(n)
    index = {n: i for i, n in enumerate(open_)}
    if difficulty is None:
        diff = lambda n: 0.0  # noqa: E731
    elif callable(difficulty):
        diff = difficulty
    else:
        diff = lambda n: float(difficulty.get(n, 0.0))  # noqa: E731
    keys = {n: (diff(n), index[n]) for n in open_}
    h = nx.DiGraph()
    h.add_nodes_from(open_)
    open_set = set(open_)
    for a in open_:
        if a in graph:
            for b in nx.descendants(graph, a) & open_set:
                h.add_edge(b, a)  # b must come before a
    if nx.is_directed_acyclic_graph(h):
        return list(nx.lexicographical_topological_sort(h, key=lambda n: keys[n]))
    c = nx.condensation(h)
    members = {i: sorted(c.nodes[i]["members"], key=lambda n: keys[n]) for i in c.nodes}
    order = nx.lexicographical_topological_sort(c, key=lambda i: keys[members[i][0]])
    return [n for i in order for n in members[i]]
