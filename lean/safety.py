"""What a tactic may not do, decided before Lean sees it, and which axioms a finished proof may use.

Two layers guard against false proofs: this lexical screen rejects tactic text that could leave the
proof (new commands, metaprograms, kernel bypasses); after that, every finished proof is re-elaborated
as a whole theorem and its axioms are collected by Lean (see `lean.leanmeta`).
"""
from __future__ import annotations

import re

STANDARD_AXIOMS = frozenset({"propext", "Classical.choice", "Quot.sound"})
# axioms of the core library that make a proof untrustworthy
FORBIDDEN_AXIOMS = frozenset({"sorryAx", "Lean.ofReduceBool", "Lean.ofReduceNat", "Lean.trustCompiler"})
CORE_MODULE_ROOTS = ("Init", "Std", "Lean", "Lake")

GIVE_UP = re.compile(r"(?<![\w.'?!])(sorry|admit)(?![\w'?!])")

# word tokens that never belong inside a tactic proof
_FORBIDDEN_WORDS = (
    "native_decide", "ofReduceBool", "ofReduceNat", "trustCompiler", "implemented_by", "extern", "unsafe",
    "axiom", "theorem", "lemma", "def", "abbrev", "instance", "example", "structure", "inductive", "class",
    "opaque", "namespace", "section", "mutual", "import", "attribute", "macro", "macro_rules", "syntax",
    "elab", "elab_rules", "notation", "infix", "infixl", "infixr", "prefix", "postfix", "run_tac", "run_cmd",
    "run_elab", "run_meta", "by_elab", "initialize", "builtin_initialize", "decreasing_by", "termination_by",
    "noncomputable", "private", "partial", "declare_syntax_cat", "deriving", "export", "universe", "variable",
    "set_option", "exact?", "apply?", "rw?", "hint", "omit", "include", "addDecl", "modifyEnv", "debug",
)
_FORBIDDEN_RE = re.compile(r"(?<![\w.'])(" + "|".join(re.escape(w) for w in _FORBIDDEN_WORDS) + r")(?![\w'])")
_FORBIDDEN_PATTERNS = (
    (re.compile(r"(?<![\w.'])Lean\.(Elab|Meta|Environment|Kernel|Compiler|IR|Parser)\b"), "Lean metaprogramming API"),
    (re.compile(r"#\w+"), "a `#` command"),
    (re.compile(r"@\["), "an attribute"),
    (re.compile(r"/-|-/"), "a block comment (it could swallow the rest of the file)"),
    (re.compile(r"`\("), "syntax quotation"),
    (re.compile(r"\bend\b(?!\s*\))"), "`end` (closes a namespace or section)"),
)


def gives_up(tactic: str) -> bool:
    return bool(GIVE_UP.search(_strip_strings(tactic)))


def _strip_strings(text: str) -> str:
    return re.sub(r'"(\\.|[^"\\])*"', '""', text)


def screen(tactic: str, max_chars: int) -> str | None:
    """Why `tactic` is rejected without running it, or None if Lean may try it."""
    if not isinstance(tactic, str):
        return f"tactic must be text, got {type(tactic).__name__}"
    try:
        tactic.encode("utf-8")
    except UnicodeEncodeError:
        return "tactic is not valid UTF-8 (it holds lone surrogates); decode the text properly"
    if not tactic.strip():
        return "empty tactic"
    if len(tactic) > max_chars:
        return f"tactic is {len(tactic)} characters, over the limit of {max_chars} (LeanConfig.max_tactic_chars)"
    if "\x00" in tactic or any(ord(c) < 32 and c not in "\n\t" for c in tactic):
        return "tactic contains control characters"
    code = _strip_strings(tactic)
    if not re.sub(r"--[^\n]*", "", code).strip():
        return "empty tactic (only a comment)"
    m = _FORBIDDEN_RE.search(code)
    if m:
        return f"tactic uses `{m.group(1)}`, which is not allowed inside a proof"
    for pat, what in _FORBIDDEN_PATTERNS:
        if pat.search(code):
            return f"tactic contains {what}, which is not allowed inside a proof"
    return None


def axiom_verdict(leaves: list[tuple[str, str]], allowed: frozenset[str], untrusted: frozenset[str]) -> str | None:
    """Why the collected axiom leaves (name, module) make the proof unacceptable, or None if fine.

    `allowed`: earlier theorems the caller explicitly accepts as premises even if they are unproved.
    `untrusted`: imported project theorems known to depend on sorry.
    """
    bad = []
    for name, module in leaves:
        if name in STANDARD_AXIOMS or name in allowed:
            continue
        if name in FORBIDDEN_AXIOMS or name in untrusted:
            bad.append(name)
        elif module.split(".")[0] in CORE_MODULE_ROOTS:
            continue  # a theorem of the core library (its body is not exported in this build)
        elif module in (".", "?"):
            bad.append(name)  # an axiom declared in this very document
        else:
            continue  # a theorem of an imported project module, compiled by Lean
    if bad:
        return "proof depends on " + ", ".join(sorted(set(bad)))
    return None
