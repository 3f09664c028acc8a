"""Read the shape of a Lean source file: header, namespaces and declarations, without running Lean.

This only *locates* text (where a theorem starts, where its proof is); Lean itself decides whether any
of it is valid. The scanner understands comments (nested), strings, char literals and «quoted» names,
so a `:=` or `theorem` inside them is never mistaken for code.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

DECL_KEYWORDS = ("theorem", "lemma", "def", "abbrev", "instance", "example", "structure", "inductive", "class",
                 "axiom", "opaque", "noncomputable", "private", "protected", "partial", "unsafe", "public", "nonrec")
THEOREM_KEYWORDS = ("theorem", "lemma")
MODIFIERS = ("private", "protected", "noncomputable", "partial", "unsafe", "public", "nonrec")
# tokens that begin a new top-level command when they start a line at column 0
COMMAND_STARTS = DECL_KEYWORDS + (
    "namespace", "section", "end", "open", "variable", "universe", "set_option", "attribute", "@[", "/--", "#",
    "mutual", "import", "module", "deriving", "macro", "syntax", "macro_rules", "elab", "notation", "infix",
    "infixl", "infixr", "prefix", "postfix", "initialize", "export", "local", "scoped", "termination_by", "decreasing_by",
)

_IDENT = r"[^\s()\[\]{}:,⟨⟩`@]+"


@dataclass(frozen=True)
class Declaration:
    kind: str  # theorem | lemma | def | ...
    name: str  # as written
    full_name: str  # with enclosing namespaces
    start: int  # offset of the first character of the declaration (doc comment / attributes included)
    keyword_start: int  # offset of the keyword (after modifiers)
    end: int  # offset just past the declaration's text (trailing blank lines excluded)
    assign: int | None  # offset of the top-level `:=` (None for pattern-matching or structures)
    line: int  # 1-based line of the keyword (where Lean reports the declaration)
    scopes: tuple[tuple[str, str], ...] = ()  # (namespace|section, name) open around it, outermost first

    def closing_commands(self) -> str:
        """`end …` lines that close every namespace and section open at this declaration, so text
        appended after it (the Dojo's audit helpers) starts at the top level of the file."""
        return "".join(f"end {name}\n" if name else "end\n" for _, name in reversed(self.scopes))

    def statement(self, text: str) -> str:
        stop = self.assign if self.assign is not None else self.end
        return text[self.keyword_start:stop].strip()

    def proof(self, text: str) -> str | None:
        return None if self.assign is None else text[self.assign + 2:self.end].strip()

    def is_sorry(self, text: str) -> bool:
        p = self.proof(text)
        return p is not None and bool(re.search(r"(?<![\w.'])(sorry|admit)(?![\w'])", strip_comments(p)))


@dataclass(frozen=True)
class Header:
    is_module: bool
    imports: tuple[str, ...]
    end: int  # offset just past the header (module + imports)


def _mask(text: str, literals: bool = True) -> str:
    """Same length as `text`, with comments (and, if `literals`, string/char literal contents) replaced
    by spaces."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("--", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            for k in range(i, j):
                out[k] = " "
            i = j
        elif text.startswith("/-", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/-", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("-/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            for k in range(i, j):
                if out[k] != "\n":
                    out[k] = " "
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            if literals:
                for k in range(i + 1, min(j, n)):
                    if out[k] != "\n":
                        out[k] = " "
            i = j + 1
        elif c == "«":
            j = text.find("»", i)
            i = n if j < 0 else j + 1
        elif c == "'" and i + 2 < n and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] in "_'!?.")):
            # char literal 'a' or '\n' (a prime after an identifier char is part of the name)
            m = re.match(r"'(\\.|[^\\'])'", text[i:i + 4])
            if m:
                if literals:
                    for k in range(i + 1, i + m.end() - 1):
                        out[k] = " "
                i += m.end()
            else:
                i += 1
        else:
            i += 1
    return "".join(out)


def strip_comments(text: str) -> str:
    return _mask(text)


def parse_header(text: str) -> Header:
    masked = _mask(text)
    is_module, imports, end = False, [], 0
    for m in re.finditer(r"[^\n]*\n?", masked):
        line = m.group(0).strip()
        if not line:
            if m.end() == m.start():
                break
            continue
        if line == "module":
            is_module, end = True, m.end()
        elif re.match(r"^(public\s+|private\s+)?(meta\s+)?import\b", line):
            words = line.split()
            imports.extend(w for w in words[words.index("import") + 1:] if w not in ("all",))
            end = m.end()
        elif line.startswith("prelude"):
            end = m.end()
        else:
            break
    return Header(is_module, tuple(imports), end)


def top_level(text: str, start: int = 0, end: int | None = None):
    """Offsets in text[start:end] of the characters outside every bracket (`()[]{}⟨⟩`), brackets
    themselves excluded: where a separator (`:=`, `:`, `→`, `=`) belongs to the term as a whole."""
    depth = 0
    for i in range(start, len(text) if end is None else end):
        c = text[i]
        if c in "([{⟨":
            depth += 1
        elif c in ")]}⟩":
            depth -= 1
        elif depth == 0:
            yield i


def _top_level_assign(masked: str, start: int, end: int, equations: bool = True) -> int | None:
    """Offset of the first `:=` outside brackets in masked[start:end]. With `equations`, a `|` at the
    top level first means pattern-matching equations, and there is no such `:=` (None)."""
    for i in top_level(masked, start, end - 1):
        c = masked[i]
        if c == ":" and masked[i + 1] == "=":
            return i
        if equations and c == "|" and (i == 0 or masked[i - 1] in " \n"):
            return None  # equation-compiler style
    return None


def declarations(text: str) -> list[Declaration]:
    """All declarations in file order, with fully qualified names."""
    masked = _mask(text)
    lines = masked.split("\n")
    offsets, pos = [], 0
    for ln in lines:
        offsets.append(pos)
        pos += len(ln) + 1
    starts: list[tuple[int, int]] = []  # (line index, kind of command) for column-0 command starts
    for idx, ln in enumerate(lines):
        if ln and not ln[0].isspace() and ln.strip():
            starts.append((idx, 0))
    ns_stack: list[tuple[str, str]] = []  # (kind, name)
    decls: list[Declaration] = []
    pending_start: int | None = None  # doc comment / attribute line that belongs to the next declaration
    for si, (idx, _) in enumerate(starts):
        ln = lines[idx].strip()
        next_idx = starts[si + 1][0] if si + 1 < len(starts) else len(lines)
        body_end = offsets[next_idx] if next_idx < len(lines) else len(text)
        first = ln.split()[0] if ln.split() else ""
        if first == "namespace":
            ns_stack.append(("namespace", ln.split()[1] if len(ln.split()) > 1 else ""))
            pending_start = None
            continue
        sec = re.match(r"^(?:@\[[^\]]*\]\s*)?(?:public\s+|private\s+)?(?:noncomputable\s+)?section\b\s*(\S*)", ln)
        if sec:
            ns_stack.append(("section", sec.group(1)))
            pending_start = None
            continue
        if first == "end":
            if ns_stack:
                ns_stack.pop()
            pending_start = None
            continue
        # a doc comment or attribute on its own line attaches to the next declaration: _mask blanks the
        # doc comment, so detect it in the raw text
        raw = text[offsets[idx]:body_end]
        m = re.match(r"^((?:/--.*?-/\s*)?(?:@\[[^\]]*\]\s*)*)((?:(?:" + "|".join(MODIFIERS) + r")\s+)*)(" + "|".join(
            k for k in DECL_KEYWORDS if k not in MODIFIERS) + r")\b", raw, re.S)
        if not m:
            if ln.startswith("@[") or raw.lstrip().startswith("/--") or not ln:
                pending_start = offsets[idx] if pending_start is None else pending_start
            else:
                pending_start = None
            continue
        kind = m.group(3)
        kw_start = offsets[idx] + m.start(3)
        after = masked[kw_start + len(kind):body_end]
        nm = re.match(r"\s+(" + _IDENT + ")", after)
        name = nm.group(1) if nm and kind != "example" else ""
        start = pending_start if pending_start is not None else offsets[idx]
        pending_start = None
        # a doc comment right above belongs to the declaration (the mask blanks it, so look at the text)
        doc = re.search(r"/--(?:(?!-/).)*-/\s*$", text[:start], re.S)
        if doc and not masked[doc.start():start].strip():
            start = doc.start()
        end = body_end
        while end > kw_start and text[end - 1] in " \n\t\r":
            end -= 1
        prefix = ".".join(n for k, n in ns_stack if k == "namespace" and n)
        if name.startswith("_root_."):
            full = name[len("_root_."):]
        else:
            full = f"{prefix}.{name}" if prefix and name else name
        assign = _top_level_assign(masked, kw_start + len(kind) + (nm.end() if nm else 0), end)
        decls.append(Declaration(kind, name, full, start, kw_start, end, assign, text.count("\n", 0, kw_start) + 1,
                                 tuple(ns_stack)))
    return decls


def find_theorem(text: str, name: str) -> Declaration | None:
    """Find a theorem by full name, or by a suffix of it when that is unambiguous."""
    decls = [d for d in declarations(text) if d.kind in THEOREM_KEYWORDS]
    exact = [d for d in decls if d.full_name == name]
    if exact:
        return exact[0]
    suffix = [d for d in decls if d.full_name.endswith("." + name) or d.name == name]
    return suffix[0] if len(suffix) == 1 else None


def theorem_names(text: str) -> list[str]:
    return [d.full_name for d in declarations(text) if d.kind in THEOREM_KEYWORDS]


STRUCTURE_KEYWORDS = ("structure", "class")
_FIELD = re.compile(r"^((?:[^\W\d][\w'!?]*\s+)*[^\W\d][\w'!?]*)\s*((?:[({\[⦃][^:]*:[^)}\]⦄]*[)}\]⦄]\s*)*):(?!=)(.*)$", re.S)


def structure_fields(text: str, decl: Declaration) -> list[tuple[str, str]]:
    """The fields a `structure`/`class` declares after `where`, as (full name, type with the field's
    binders). Inherited fields (`extends`) belong to the parent's declaration, and `mk ::` is skipped.

    Why: a field that states a law (`mul_assoc : ∀ a b c, …`) is a lemma the development proves things
    with, through a local `G : Group' α` (`rw [G.mul_assoc]`), just like a theorem."""
    if decl.kind not in STRUCTURE_KEYWORDS or not decl.full_name:
        return []
    masked = _mask(text[decl.keyword_start:decl.end])  # no comment or string is open at a keyword
    body = re.search(r"(?<![\w'.])where(?![\w'])", masked)
    if body is None:
        return []
    region = re.sub(r"^\s*[^\W\d][\w'.]*\s*::", "", masked[body.end():])  # `where mk ::`
    first, _, rest = region.partition("\n")
    lines = rest.split("\n")
    indent = min((len(l) - len(l.lstrip()) for l in lines if l.strip()), default=0)
    fields: list[list[str]] = [[first.strip()]] if first.strip() else []
    for l in lines:
        if not l.strip():
            continue
        # after a field on the `where` line, a line that continues its type may be the least indented
        starts = len(l) - len(l.lstrip()) <= indent and (not first.strip() or _FIELD.match(l.strip().lstrip("(")))
        if starts:
            fields.append([l.strip()])
        elif fields:
            fields[-1].append(l.strip())
    out: list[tuple[str, str]] = []
    for chunk in fields:
        src = " ".join(chunk)
        if src.startswith("(") and src.endswith(")"):  # `(h : p (q x))`: only the binder's own parentheses
            src = src[1:-1].strip()
        m = _FIELD.match(src)
        if m is None:
            continue
        names, binders, ty = m.group(1).split(), m.group(2).strip(), m.group(3)
        cut = _top_level_assign(ty, 0, len(ty), equations=False)  # a default value (`:= …`) is not part of the type
        ty = " ".join(ty[:cut].split())
        if binders:
            ty = f"∀ {binders}, {ty}"
        out += [(f"{decl.full_name}.{n}", ty) for n in names if ty]
    return out
