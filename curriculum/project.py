"""Read a Lake project without running Lean: its libraries, modules and theorems.

    spec = read_lakefile(root)          # PackageSpec(name, libraries=(LeanLib(name, src_dir, roots, globs), ...))
    mods = list_modules(root)           # [ModuleInfo(name, path, imports)], dependencies first
    thms = list_theorems(root)          # [TheoremInfo(...)], module order, then file order

`lakefile.lean` is read with a small scanner for the forms used in practice: `package foo where …`,
`lean_lib Name where roots := #[`A, `B] / globs := #[.submodules `Foo, .one `Bar, .andSubmodules `X] /
srcDir := "src"`, the older `lean_lib Name { … }`, a bare `lean_lib Foo` (roots `#[`Foo]`) and
`@[default_target]`. `lakefile.toml` is read with `tomllib` (`[[lean_lib]]` tables; globs are strings
`"Foo"` (one), `"Foo.+"` (submodules), `"Foo.*"` (module and submodules)).

Module selection follows Lake: a library's modules are its globs (by default one glob per root), and
everything those import from the project, transitively.
"""
from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from lean.build import module_file
from lean.source import THEOREM_KEYWORDS, _mask, declarations, parse_header

LAKEFILES = ("lakefile.lean", "lakefile.toml")
GLOB_KINDS = ("one", "submodules", "andSubmodules")


class ProjectError(Exception):
    """The project cannot be read as given; the message names the file (and line) and what to change."""


@dataclass(frozen=True)
class Glob:
    kind: str  # one | submodules | andSubmodules
    module: str

    def matches(self, module: str) -> bool:
        if self.kind == "one":
            return module == self.module
        inside = module.startswith(self.module + ".")
        return inside or (self.kind == "andSubmodules" and module == self.module)


@dataclass(frozen=True)
class LeanLib:
    name: str
    src_dir: str = "."  # relative to the package's srcDir, as in Lake
    roots: tuple[str, ...] = ()
    globs: tuple[Glob, ...] = ()  # as written; `effective_globs` adds Lake's default
    default_target: bool = False

    @property
    def effective_globs(self) -> tuple[Glob, ...]:
        return self.globs if self.globs else tuple(Glob("one", r) for r in self.roots)

    # Alias spelled like the lakefile field.
    @property
    def srcDir(self) -> str:  # noqa: N802
        return self.src_dir


@dataclass(frozen=True)
class PackageSpec:
    name: str
    root: Path
    lakefile: Path
    src_dir: str = "."  # the package's srcDir
    libraries: tuple[LeanLib, ...] = ()
    default_targets: tuple[str, ...] = ()

    def lib_dir(self, lib: LeanLib) -> Path:
        return (self.root / self.src_dir / lib.src_dir).resolve()

    def source_dirs(self) -> list[Path]:
        dirs: list[Path] = []
        for lib in self.libraries:
            d = self.lib_dir(lib)
            if d not in dirs:
                dirs.append(d)
        root = self.root.resolve()
        if root not in dirs:
            dirs.append(root)
        return dirs


@dataclass(frozen=True)
class ModuleInfo:
    name: str
    path: Path
    imports: tuple[str, ...]  # as written (project and external)
    library: str = ""


@dataclass(frozen=True)
class TheoremInfo:
    full_name: str
    module: str
    file: Path
    line: int  # 1-based line where the declaration starts (doc comment / attributes included)
    statement: str
    is_sorry: bool
    proof: str | None
    num_tactic_steps: int  # top-level tactics of a `by` proof; 0 for term proofs
    kind: str = "theorem"


# ---------------------------------------------------------------------------------------------
# lakefile.lean
# ---------------------------------------------------------------------------------------------

_NAME_PART = r"(?:«[^»]*»|[^\s.,`\[\]{}()\"«»:=#@]+)"
_NAME = rf"{_NAME_PART}(?:\.{_NAME_PART})*"
_COMMANDS = ("package", "lean_lib", "lean_exe", "require", "target", "extern_lib", "input_file", "input_dir",
             "script", "def", "open", "import", "@[", "meta", "module_facet", "package_facet", "library_facet")


def _unquote(name: str) -> str:
    return ".".join(p[1:-1] if p.startswith("«") and p.endswith("»") else p for p in _split_name(name))


def _split_name(name: str) -> list[str]:
    return re.findall(_NAME_PART, name)


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _bracket_end(masked: str, start: int, open_: str, close: str) -> int:
    depth, i = 0, start
    while i < len(masked):
        if masked[i] == open_:
            depth += 1
        elif masked[i] == close:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return -1


def _parse_names(text: str, masked: str, start: int, end: int, where: str) -> tuple[str, ...]:
    """`#[`A, `B.C]` (or a single `` `A ``) → ("A", "B.C")."""
    body = masked[start:end]
    names = re.findall(r"`+(" + _NAME + ")", body)
    return tuple(_unquote(n) for n in names)


def _parse_globs(text: str, masked: str, start: int, end: int, where: str) -> tuple[Glob, ...]:
    body = masked[start:end]
    globs = []
    for m in re.finditer(r"(?:Glob)?\.(one|submodules|andSubmodules)\s+`+(" + _NAME + ")|`+(" + _NAME + ")", body):
        if m.group(1):
            globs.append(Glob(m.group(1), _unquote(m.group(2))))
        else:  # a bare name coerces to `.one`
            globs.append(Glob("one", _unquote(m.group(3))))
    leftovers = re.sub(r"(?:Glob)?\.(one|submodules|andSubmodules)\s+`+" + _NAME + "|`+" + _NAME + r"|[#\[\],\s]", "", body)
    if leftovers:
        raise ProjectError(f"{where}: cannot read the globs {text[start:end].strip()!r}; write them as "
                           f"#[.one `A, .submodules `B, .andSubmodules `C]")
    return tuple(globs)


def _field_value_span(masked: str, start: int, stop: int) -> tuple[int, int]:
    """The extent of a field value starting at `start`: an array/struct literal or the rest of the line."""
    i = start
    while i < stop and masked[i] in " \t":
        i += 1
    if masked.startswith("#[", i) or masked.startswith("[", i):
        j = _bracket_end(masked, masked.index("[", i), "[", "]")
        return i, (stop if j < 0 else j)
    nl = masked.find("\n", i)
    nl = stop if nl < 0 or nl > stop else nl
    comma = masked.find(",", i, nl)  # `{ a := x, b := y }` style
    brace = masked.find("}", i, nl)
    cut = min([c for c in (comma, brace) if c >= 0], default=nl)
    return i, cut


def _parse_fields(text: str, masked: str, start: int, end: int, where_line) -> dict[str, tuple[int, int]]:
    fields: dict[str, tuple[int, int]] = {}
    for m in re.finditer(r"(?<![\w.])(srcDir|roots|globs|name)\s*:=", masked[start:end]):
        vs, ve = _field_value_span(masked, start + m.end(), end)
        fields[m.group(1)] = (vs, ve)
    return fields


def _string_value(text: str, span: tuple[int, int], where: str) -> str:
    raw = text[span[0]:span[1]].strip()
    m = re.match(r'^"((?:[^"\\]|\\.)*)"', raw)
    if not m:
        raise ProjectError(f"{where}: expected a string literal like \"src\", found {raw[:60]!r}")
    return m.group(1).replace('\\"', '"').replace("\\\\", "\\")


def _parse_lakefile_lean(path: Path) -> PackageSpec:
    text = path.read_text(encoding="utf-8", errors="replace")
    masked = _mask(text)
    root = path.parent
    # column-0 lines that start a command; a declaration block runs to the next one
    starts = [m.start() for m in re.finditer(r"(?m)^(?=\S)", masked) if masked[m.start()] not in " \t\n"]
    starts.append(len(text))
    pkg_name, pkg_src = root.name, "."
    libs: list[LeanLib] = []
    defaults: list[str] = []
    pending_default = False
    for si in range(len(starts) - 1):
        s, e = starts[si], starts[si + 1]
        block = masked[s:e]
        where = f"{path}:{_line_of(text, s)}"
        attr = re.match(r"@\[([^\]]*)\]\s*", block)
        if attr:
            is_default = "default_target" in attr.group(1)
            rest = block[attr.end():]
            if not rest.strip():  # attribute on its own line: applies to the next command
                pending_default = pending_default or is_default
                continue
            s2 = s + attr.end()
            pending_default = pending_default or is_default
        else:
            s2 = s
        kw = re.match(r"(package|lean_lib|lean_exe)\s+(" + _NAME + r")?", masked[s2:e])
        if not kw:
            pending_default = False
            continue
        kind = kw.group(1)
        if not kw.group(2):
            raise ProjectError(f"{where}: `{kind}` without a name; write e.g. `{kind} Foo`")
        name = _unquote(text[s2 + kw.start(2):s2 + kw.end(2)])
        fields = _parse_fields(text, masked, s2 + kw.end(), e, where)
        src = _string_value(text, fields["srcDir"], where) if "srcDir" in fields else "."
        if kind == "package":
            pkg_name, pkg_src = name, src
        elif kind == "lean_lib":
            roots = (_parse_names(text, masked, *fields["roots"], where) if "roots" in fields else (name,))
            globs = _parse_globs(text, masked, *fields["globs"], where) if "globs" in fields else ()
            if "roots" in fields and not roots:
                raise ProjectError(f"{where}: lean_lib {name} has empty or unreadable roots "
                                   f"{text[fields['roots'][0]:fields['roots'][1]]!r}; write roots := #[`A, `B]")
            libs.append(LeanLib(name, src, roots, globs, pending_default))
            if pending_default:
                defaults.append(name)
        elif pending_default:
            defaults.append(name)
        pending_default = False
    return PackageSpec(pkg_name, root, path, pkg_src, tuple(libs), tuple(defaults))


# ---------------------------------------------------------------------------------------------
# lakefile.toml
# ---------------------------------------------------------------------------------------------

def _toml_glob(value, where: str) -> Glob:
    if isinstance(value, str):
        if value.endswith(".+"):
            return Glob("submodules", value[:-2])
        if value.endswith(".*"):
            return Glob("andSubmodules", value[:-2])
        if value and not value.endswith("."):
            return Glob("one", value)
    raise ProjectError(f"{where}: glob {value!r} is not a module glob; use \"Foo\", \"Foo.+\" or \"Foo.*\"")


def _toml_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _parse_lakefile_toml(path: Path) -> PackageSpec:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ProjectError(f"{path}: not valid TOML: {e}")
    name = str(data.get("name", path.parent.name))
    pkg_src = str(data.get("srcDir", "."))
    defaults = tuple(str(d) for d in _toml_list(data.get("defaultTargets", [])))
    libs = []
    for i, t in enumerate(_toml_list(data.get("lean_lib", []))):
        where = f"{path}: [[lean_lib]] #{i + 1}"
        if not isinstance(t, dict) or "name" not in t:
            raise ProjectError(f"{where} has no `name = \"…\"`")
        lname = str(t["name"])
        roots = tuple(str(r) for r in _toml_list(t.get("roots", [lname])))
        globs = tuple(_toml_glob(g, f"{where} ({lname})") for g in _toml_list(t.get("globs", [])))
        libs.append(LeanLib(lname, str(t.get("srcDir", ".")), roots, globs, lname in defaults))
    return PackageSpec(name, path.parent, path, pkg_src, tuple(libs), defaults)


def read_lakefile(root: Path | str) -> PackageSpec:
    """The package's libraries from `lakefile.lean` (preferred, as Lake does) or `lakefile.toml`."""
    root = Path(root)
    if root.is_file():
        root = root.parent
    for name in LAKEFILES:
        p = root / name
        if p.exists():
            return _parse_lakefile_lean(p) if name.endswith(".lean") else _parse_lakefile_toml(p)
    raise ProjectError(f"no lakefile in {root.resolve()}: a Lake project needs a `lakefile.lean` or `lakefile.toml` "
                       f"at its root (e.g. `import Lake\\nopen Lake DSL\\npackage foo\\nlean_lib Foo`)")


# ---------------------------------------------------------------------------------------------
# modules
# ---------------------------------------------------------------------------------------------

def _submodules(base: Path, prefix: str) -> list[str]:
    folder = base / Path(*prefix.split("."))
    if not folder.is_dir():
        return []
    out = []
    for f in sorted(folder.rglob("*.lean")):
        rel = f.relative_to(base).with_suffix("")
        if all(p and not p.startswith(".") for p in rel.parts):
            out.append(".".join(rel.parts))
    return out


def list_modules(root: Path | str) -> list[ModuleInfo]:
    """The project's modules (library globs plus what they import from the project), dependencies first."""
    spec = read_lakefile(root)
    dirs = spec.source_dirs()
    seeds: list[tuple[str, Path, str]] = []  # (module, file, library)
    for lib in spec.libraries:
        base = spec.lib_dir(lib)
        for g in lib.effective_globs:
            found: list[str] = []
            if g.kind in ("one", "andSubmodules") and (base / Path(*g.module.split("."))).with_suffix(".lean").is_file():
                found.append(g.module)
            if g.kind in ("submodules", "andSubmodules"):
                found += _submodules(base, g.module)
            if g.kind == "one" and not found and (base / Path(*g.module.split("."))).is_dir():
                # `lean_lib Foo` with a Foo/ folder but no Foo.lean: Lake would fail to build the root;
                # take the folder's modules so the project is still usable
                found += _submodules(base, g.module)
            if not found:
                raise ProjectError(f"{spec.lakefile}: library {lib.name} names module {g.module} "
                                   f"({g.kind}), but there is no {Path(*g.module.split('.'))}.lean under {base}; "
                                   f"create it or fix the library's roots/globs")
            for m in found:
                seeds.append((m, (base / Path(*m.split("."))).with_suffix(".lean"), lib.name))
    infos: dict[str, ModuleInfo] = {}
    state: dict[str, int] = {}
    order: list[str] = []

    def visit(mod: str, path: Path, lib: str, chain: tuple[str, ...]) -> None:
        if state.get(mod) == 2:
            return
        if state.get(mod) == 1:
            cyc = chain[chain.index(mod):] + (mod,)
            raise ProjectError(f"import cycle: {' -> '.join(cyc)} ({path}); break the cycle")
        state[mod] = 1
        text = path.read_text(encoding="utf-8", errors="replace")
        imports = parse_header(text).imports
        for imp in imports:
            f = module_file(imp, dirs)
            if f is not None:  # external modules (Init, Std, Lean, dependencies) are not ours
                visit(imp, f, lib, chain + (mod,))
        infos[mod] = ModuleInfo(mod, path.resolve(), imports, lib)
        state[mod] = 2
        order.append(mod)

    for mod, path, lib in seeds:
        visit(mod, path, lib, ())
    return [infos[m] for m in order]


# ---------------------------------------------------------------------------------------------
# theorems
# ---------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=8)
def _mask_comments_only(text: str) -> str:
    """Like `lean.source._mask`, but only comments are blanked: string literals are kept."""
    return _mask(text, literals=False)


def trimmed_end(text: str, decl, masked: str | None = None) -> int:
    """`decl.end` without trailing comment-only lines (lean.source counts column-0 comments that follow
    a declaration as part of it)."""
    masked = _mask(text) if masked is None else masked
    end = decl.end
    while end > decl.keyword_start and masked[end - 1] in " \t\r\n":
        end -= 1
    return end


def proof_text(text: str, decl, masked: str | None = None) -> str | None:
    """The proof after `:=`, stripped, without trailing comment lines; None without `:=`."""
    if decl.assign is None:
        return None
    return text[decl.assign + 2:trimmed_end(text, decl, masked)].strip()


_CONTINUATION = ("|", "<;>", ")", "]", "}", "⟩")


def tactic_blocks(text: str, assign: int | None, end: int) -> list[str] | None:
    """The top-level tactics of the proof `text[assign+2:end]` when it is `by` + tactics, else None.

    A new tactic starts at a line with the block's base indentation (the column of the first tactic);
    more-indented lines, and base-indented lines starting with `|` or `<;>`, continue the previous
    one. Comment-only lines are dropped. Each tactic is returned dedented, so that its first line has
    no indentation and continuation lines keep their indentation relative to it. None when a line is
    indented less than the base (the tactic block ended early: e.g. `termination_by`)."""
    if assign is None:
        return None
    clean = _mask_comments_only(text)
    body_start = assign + 2
    m = re.match(r"\s*by(?![\w'!?])", clean[body_start:end])
    if not m:
        return None
    pos = body_start + m.end()
    # the first tactic is either on the `by` line or on the next non-blank line
    lines: list[tuple[int, str]] = []  # (column, text) of each non-blank line, columns in the original file
    line_start = clean.rfind("\n", 0, pos) + 1
    first_line_end = clean.find("\n", pos)
    first_line_end = end if first_line_end < 0 or first_line_end > end else first_line_end
    tail = clean[pos:first_line_end]
    if tail.strip():
        col = pos - line_start + (len(tail) - len(tail.lstrip()))
        lines.append((col, tail.strip()))
    off = first_line_end + 1
    while off <= end:
        nl = clean.find("\n", off)
        nl = end if nl < 0 or nl > end else nl
        ln = clean[off:nl].rstrip()
        if ln.strip():
            lines.append((len(ln) - len(ln.lstrip()), ln))
        off = nl + 1
    if not lines:
        return None
    base = lines[0][0]
    blocks: list[list[str]] = []
    for col, ln in lines:
        body = ln.strip()
        if col < base:
            return None
        if col == base and not (blocks and body.startswith(_CONTINUATION)):
            blocks.append([body])
        else:
            blocks[-1].append(" " * (col - base) + body)
    return ["\n".join(b) for b in blocks]


def list_theorems(root: Path | str, modules: list[ModuleInfo] | None = None) -> list[TheoremInfo]:
    """Every `theorem`/`lemma` of the project, modules in dependency order, then file order.
    Raises ProjectError on a declaration name defined twice."""
    modules = list_modules(root) if modules is None else modules
    seen: dict[str, tuple[Path, int, bool]] = {}  # full name → (file, line, private)
    out: list[TheoremInfo] = []
    for mod in modules:
        text = mod.path.read_text(encoding="utf-8", errors="replace")
        masked = _mask(text)
        for d in declarations(text):
            if not d.full_name or d.kind in ("example", "instance"):
                continue
            private = bool(re.match(r"(?:@\[[^\]]*\]\s*)?(?:/--.*?-/\s*)?(?:\w+\s+)*?private\b", text[d.start:d.keyword_start], re.S))
            prev = seen.get(d.full_name)
            if prev is not None and not (private and prev[2] and prev[0] != mod.path):
                raise ProjectError(f"{d.full_name} is declared twice: {prev[0]}:{prev[1]} and {mod.path}:{d.line}; "
                                   f"rename one of them")
            seen[d.full_name] = (mod.path, d.line, private)
            if d.kind not in THEOREM_KEYWORDS:
                continue
            end = trimmed_end(text, d, masked)
            blocks = tactic_blocks(text, d.assign, end)
            out.append(TheoremInfo(d.full_name, mod.name, mod.path, d.line, d.statement(text), d.is_sorry(text),
                                   proof_text(text, d, masked), len(blocks) if blocks else 0, d.kind))
    return out


def all_declarations(root: Path | str, modules: list[ModuleInfo] | None = None) -> list[tuple[ModuleInfo, object]]:
    """(module, lean.source.Declaration) for every named declaration, in module then file order."""
    modules = list_modules(root) if modules is None else modules
    out = []
    for mod in modules:
        text = mod.path.read_text(encoding="utf-8", errors="replace")
        out += [(mod, d) for d in declarations(text) if d.full_name and d.kind != "example"]
    return out
