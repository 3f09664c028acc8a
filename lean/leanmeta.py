"""Lean-side helpers: a small Lean module that every document imports, and the `#eval` reports that use it.

The embedded WebAssembly Lean ships only the exported half of each `.olean`, so `#print axioms` is
refused (every file counts as a `module`) and much compiled library code cannot be interpreted. These
helpers are written with plain recursion and `String.append` so that the interpreter only calls
exported, natively compiled functions. They report, for a constant:
- `LA-AXIOMS`: the leaves reached through the bodies of constants defined in this document or in
  imported project modules: axioms, imported theorems (whose bodies are not exported, so they look like
  axioms) and every constant of the core library (Init/Std/Lean/Lake, trusted: the walk stops there,
  which keeps the audit of an `omega` or `simp` proof short), each with its module;
- `LA-DEPS`: for each of a list of constants, the constants its type and value mention directly, each
  with its module (one line per constant).

They are compiled once per toolchain into the module `LeanAgentMeta` in the cache (`build_helpers`), which
every document imports: elaborating them inside the document instead cost ~0.6 s per audited proof,
as long as 16 steps (the interpreter compiles each `partial def` again).
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from lean.errors import ToolchainError
from lean.safety import CORE_MODULE_ROOTS

if TYPE_CHECKING:
    from lean.toolchain import Toolchain

NAMESPACE = "LeanAgentMeta"

PRELUDE = f"""
namespace {NAMESPACE}
open Lean Elab Command

partial def nameStr : Name → String
  | .anonymous => ""
  | .str .anonymous s => s
  | .str p s => String.append (String.append (nameStr p) ".") s
  | .num p n => String.append (String.append (nameStr p) ".") (Nat.repr n)

partial def elem : List Name → Name → Bool
  | [], _ => false
  | x :: xs, n => if Name.beq x n then true else elem xs n

partial def cat : List Name → List Name → List Name
  | [], ys => ys
  | x :: xs, ys => x :: cat xs ys

partial def rootStr : Name → String
  | .anonymous => ""
  | .str .anonymous s => s
  | .str p _ => rootStr p
  | .num p _ => rootStr p

def isCore (env : Environment) (c : Name) : Bool :=
  match env.getModuleIdxFor? c with
  | some i => match env.header.moduleNames[i.toNat]? with
    | some m => let r := rootStr m; {" || ".join(f'r == "{root}"' for root in CORE_MODULE_ROOTS)}
    | none => false
  | none => false

def modOf (env : Environment) (c : Name) : String :=
  match env.getModuleIdxFor? c with
  | some i => match env.header.moduleNames[i.toNat]? with
    | some m => nameStr m
    | none => "?"
  | none => "."

def used (info : ConstantInfo) : List Name :=
  cat info.type.getUsedConstants.toList
    (match info.value? (allowOpaque := true) with
     | some v => v.getUsedConstants.toList
     | none => [])

partial def leaves (env : Environment) (stop : List Name) : List Name → List Name → List Name → List Name
  | [], _, acc => acc
  | c :: rest, seen, acc =>
    if elem seen c then leaves env stop rest seen acc else
    if elem stop c then leaves env stop rest (c :: seen) (c :: acc) else
    match env.find? c with
    | some (.axiomInfo _) => leaves env stop rest (c :: seen) (c :: acc)
    | some info =>
      if isCore env c then leaves env stop rest (c :: seen) (c :: acc) else
      if (env.getModuleIdxFor? c).isSome then
        (match info with
         | .thmInfo _ => leaves env stop rest (c :: seen) (c :: acc)
         | _ => leaves env stop (cat (used info) rest) (c :: seen) acc)
      else leaves env stop (cat (used info) rest) (c :: seen) acc
    | none => leaves env stop rest (c :: seen) acc

partial def render (env : Environment) : List Name → String
  | [] => ""
  | [x] => String.append (String.append (nameStr x) "@") (modOf env x)
  | x :: xs => String.append (String.append (String.append (String.append (nameStr x) "@") (modOf env x)) ",") (render env xs)

def axiomsLine (env : Environment) (c : Name) (stop : List Name) : String :=
  String.append (String.append (String.append "LA-AXIOMS " (nameStr c)) " :: ") (render env (leaves env stop [c] [] []))

def depsLine (env : Environment) (c : Name) : String :=
  match env.find? c with
  | some info => String.append (String.append (String.append (String.append "LA-DEPS " (nameStr c)) " :: ") (render env (used info))) "\\n"
  | none => String.append (String.append "LA-DEPS-MISSING " (nameStr c)) "\\n"

partial def depsLines (env : Environment) : List Name → String
  | [] => ""
  | c :: cs => String.append (depsLine env c) (depsLines env cs)

def resolve (env : Environment) (n : Name) : Name :=
  let p := mkPrivateName env n
  if env.contains p then p else n

partial def resolveAll (env : Environment) (xs : Array Syntax) (i : Nat) (acc : List Name) : List Name :=
  if h : i < xs.size then resolveAll env xs (i + 1) (resolve env xs[i].getId :: acc) else acc

def auditLine (env : Environment) (c : Name) (stops : Array Syntax) : String :=
  let r := resolve env c
  if env.contains r then axiomsLine env r (resolveAll env stops 0 [])
  else String.append "LA-MISSING " (nameStr c)

end {NAMESPACE}
"""


MODULE = NAMESPACE
IMPORT_LINE = f"import {MODULE}\n"


def build_helpers(toolchain: "Toolchain", cache_dir: Path, timeout: float = 600.0) -> Path:
    """Compile the helpers into `<cache_dir>/helpers/<hash>/LeanAgentMeta.olean` (once per toolchain and
    helper source) and return that folder, for LEAN_PATH. Safe when processes race (a lock; the folder is
    renamed into place only when complete)."""
    # The embedded Lean makes every file a module: its declarations are private unless public, an
    # importer's `#eval` finds the IR only of `meta` ones, and not that of closed terms the compiler
    # extracts. A Lean without the module system rejects that syntax and gets the plain module.
    sources = (f"import Lean\nset_option compiler.extract_closed false\npublic meta section\n{PRELUDE}\nend\n",
               f"import Lean\n{PRELUDE}")
    tag = hashlib.sha256(f"{toolchain.kind}\0{toolchain.version}\0{sources[0]}".encode()).hexdigest()[:16]
    base = Path(cache_dir) / "helpers"
    out = base / tag
    if (out / f"{MODULE}.olean").is_file():
        return out
    base.mkdir(parents=True, exist_ok=True)
    with open(base / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (out / f"{MODULE}.olean").is_file():
            return out  # another process built it while we waited
        scratch = base / f".partial-{os.getpid()}"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir()
        try:
            print(f"compiling the audit helpers ({MODULE}) for {toolchain.kind} Lean {toolchain.version} (once) …",
                  file=sys.stderr, flush=True)
            for source in sources:
                detail = _compile(toolchain, scratch, source, timeout)
                if detail is None:
                    break
            else:
                raise ToolchainError(f"this Lean ({toolchain.version}) does not compile the audit helpers ({MODULE}): "
                                     f"{detail}. The helpers must match the toolchain; use the pinned embedded Lean "
                                     f"(backend 'wasm') or report the Lean version.")
            shutil.rmtree(out, ignore_errors=True)
            os.rename(scratch, out)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return out


def _compile(toolchain: "Toolchain", folder: Path, source: str, timeout: float) -> str | None:
    """Compile `source` as the helpers module in `folder`; None on success, else what Lean said."""
    (folder / f"{MODULE}.lean").write_text(source)
    olean = folder / f"{MODULE}.olean"
    olean.unlink(missing_ok=True)
    try:
        res = toolchain.compile(folder, f"{MODULE}.lean", olean, timeout, (folder,), (folder,))
    except subprocess.TimeoutExpired:
        raise ToolchainError(f"compiling the audit helpers ({MODULE}) took over {timeout:.0f} s; "
                             f"check that Lean starts (`lean-env check`)") from None
    if res.errors or res.returncode != 0 or not olean.is_file():
        return "; ".join(d.get("data", "")[:300] for d in res.errors[:3]) or res.stderr.strip()[-500:] or f"exit {res.returncode}"
    return None


def _print_command(expr: str) -> str:
    # the monadic part lives in the document: a compiled `CommandElabM` helper crashes this Lean's
    # interpreter when imported, pure helpers do not
    return f"#eval show Lean.Elab.Command.CommandElabM Unit from do IO.println ({expr})\n"


AUDIT_SYNTAX = "#lean_agent_axioms"

# The audit as a command of the document. An `#eval` compiles a fresh auxiliary definition each time
# (~60 ms of a ~100 ms audit in the embedded Lean); this elaborator is compiled once, where the document
# defines it (after the imports, so it is reused across theorems and steps), and then costs ~20 ms a call.
# It must live in the document: a compiled `CommandElabM` helper crashes this Lean's interpreter when
# imported. Names resolve in the helper (`resolve`): a file's own declarations carry private names here,
# and a private declaration of this file wins over an imported one of the same name.
AUDIT_ELAB = (
    "open Lean Elab Command in\n"
    f"elab \"{AUDIT_SYNTAX} \" c:ident stops:ident* : command => do\n"
    f"  IO.println ({NAMESPACE}.auditLine (← getEnv) c.getId stops.raw)\n"
)


def axioms_command(full_name: str, stop: tuple[str, ...] = ()) -> str:
    """The `LA-AXIOMS` report of `full_name`; needs `AUDIT_ELAB` earlier in the document. A name that does
    not resolve prints `LA-MISSING`, never an empty (acceptable) report."""
    return f"{AUDIT_SYNTAX} {' '.join((full_name, *stop))}\n"


def deps_command(full_names) -> str:
    """One `#eval` for many declarations: each `#eval` compiles an auxiliary definition, so a file's
    report is one command, not one per declaration."""
    names = ", ".join(f"``{n}" for n in full_names)
    return _print_command(f"{NAMESPACE}.depsLines (← Lean.getEnv) [{names}]")


def public_name(name: str) -> str:
    """`_private.<module>.0.foo` -> `foo`: this Lean treats every file as a module, so a file's own
    declarations carry private names."""
    if name.startswith("_private."):
        i = name.find(".0.")
        if i >= 0:
            return name[i + 3:]
    return name


def parse_report(kind: str, message: str) -> dict[str, list[tuple[str, str]]]:
    """Parse `LA-AXIOMS name :: a@mod,b@mod` lines (kind = 'LA-AXIOMS' or 'LA-DEPS')."""
    out: dict[str, list[tuple[str, str]]] = {}
    for line in message.splitlines():
        if not line.startswith(kind + " "):
            continue
        head, _, rest = line[len(kind) + 1:].partition(" :: ")
        items = []
        for item in filter(None, rest.strip().split(",")):
            name, _, mod = item.rpartition("@")
            items.append((public_name(name), mod))
        out[public_name(head.strip())] = items
    return out
