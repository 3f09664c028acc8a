"""Lean-side helpers, as Lean source that is placed in the document after its imports.

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
"""
from __future__ import annotations

from lean.safety import CORE_MODULE_ROOTS

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

def axiomsReport (c : Name) (stop : List Name) : CommandElabM Unit := do
  let env ← getEnv
  IO.println (String.append (String.append (String.append "LA-AXIOMS " (nameStr c)) " :: ") (render env (leaves env stop [c] [] [])))

def depsLine (env : Environment) (c : Name) : String :=
  match env.find? c with
  | some info => String.append (String.append (String.append (String.append "LA-DEPS " (nameStr c)) " :: ") (render env (used info))) "\\n"
  | none => String.append (String.append "LA-DEPS-MISSING " (nameStr c)) "\\n"

partial def depsLines (env : Environment) : List Name → String
  | [] => ""
  | c :: cs => String.append (depsLine env c) (depsLines env cs)

def depsReport (cs : List Name) : CommandElabM Unit := do
  let env ← getEnv
  IO.println (depsLines env cs)

end {NAMESPACE}
"""


# The audit needs only the walker and `axiomsReport`: the Dojo appends this smaller text after the
# theorem at each audit, so it is elaborated (and compiled) once per finished proof, not at every step.
AUDIT_PRELUDE = PRELUDE[:PRELUDE.index("\ndef depsLine")] + f"\nend {NAMESPACE}\n"


def axioms_command(full_name: str, stop: tuple[str, ...] = ()) -> str:
    stops = ", ".join(f"``{s}" for s in stop)
    return f"#eval {NAMESPACE}.axiomsReport ``{full_name} [{stops}]\n"


def deps_command(full_names) -> str:
    """One `#eval` for many declarations: each `#eval` costs seconds in this Lean (it compiles an
    auxiliary definition), so a file's report is one command, not one per declaration."""
    names = ", ".join(f"``{n}" for n in full_names)
    return f"#eval {NAMESPACE}.depsReport [{names}]\n"


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
