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

Two elaborators live in every document instead (monadic code compiled into the module crashes the
interpreter): the audit command (`AUDIT_ELAB`) and the candidate runner (`TRY_ELAB`), a tactic that
runs k tactics from one proof state inside Lean and prints each one's outcome.
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

partial def idsOf (xs : Array Syntax) (i : Nat) (acc : List Name) : List Name :=
  if h : i < xs.size then idsOf xs (i + 1) (xs[i].getId :: acc) else acc

partial def resolveNames (env : Environment) : List Name → List Name → List Name
  | [], acc => acc
  | n :: ns, acc => resolveNames env ns (resolve env n :: acc)

def auditName (env : Environment) (c : Name) (stops : List Name) : String :=
  let r := resolve env c
  if env.contains r then axiomsLine env r (resolveNames env stops [])
  else String.append "LA-MISSING " (nameStr c)

def auditLine (env : Environment) (c : Name) (stops : Array Syntax) : String :=
  auditName env c (idsOf stops 0 [])

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


TRY_SYNTAX = "lean_agent_try"
PREFIX_SYNTAX = "#lean_agent_prefix"
TRY_END = "LA-TRY-END"  # the runner's closing error: it ran to the end
# the runner's answer for a candidate it did not start: its time had run out
NOT_STARTED = "Timeout: the time given to run_tacs ran out before this tactic was run"
# the held states' answer for a tactic still running at the call's hard limit: Lean interrupted it (no restart)
INTERRUPTED = "Timeout: the tactic ran past its time limit and was interrupted inside Lean"
PREFIX_ERROR = "LA-PREFIX-ERR "  # the prefix loader's report of an error, followed by its line and message

# The candidate runner: a tactic that runs each of its string arguments (a tactic's text) from the same
# proof state and prints what came of it, restoring the state in between; then it fails, so the theorem
# is never completed by it. Search asks for k tactics per state; one edit with this tactic replaces k
# edits (each ~20 ms of LSP and file-worker pipeline before any elaboration).
# - It must live in the document: compiled into `LeanAgentMeta`, monadic code crashes this Lean's
#   interpreter. It avoids library functions whose compiled code this Lean lacks (`saveState` and so
#   `try … catch` in TacticM, `withCurrHeartbeats`, `List.isEmpty`, String-to-MessageData): the state
#   is saved and restored layer by layer, errors are caught at the CoreM level (heartbeats included),
#   and each candidate gets the heartbeats it would have alone after the state's tactics: what the
#   earlier candidates used is not counted, what the state's own tactics used is (`maxHeartbeats` is
#   per declaration, so a candidate that runs out of it alone fails in the proof too).
# - A candidate's errors are the ones it logged (error recovery logs without throwing), else the
#   exception's message; its goals are printed as Lean prints unsolved goals.
# - Each result is `LA-TRY <index> <S|F|E> <length in characters>` and that many characters: S = the
#   goals it left, F = no goals left (to be re-run and audited alone), E = its error.
# - Its definitions are loaded by `#lean_agent_load`, which elaborates a command given as a string
#   with info trees off (and `Elab.async` off, whose tasks keep their own): the file worker sends the
#   references of every info tree of the document after each edit, and written out in the document
#   these definitions tripled that traffic and cost ~12 ms per step.
# - For the same reason the file's own text before the theorem is loaded the same way
#   (`#lean_agent_prefix`, one command per piece of the file, so that a later theorem of the same file
#   reuses the earlier pieces): a step at the end of a 425-line file cost 61 ms instead of 23 ms at its
#   start. Its errors are printed as `LA-PREFIX-ERR <line in the piece> <length>` and the message; its
#   other messages are dropped.
_TRY_DEFS = (
    f"""open Lean Elab Tactic Meta in
meta partial def {NAMESPACE}.Try.goals (gs : List MVarId) (acc : String) : MetaM String := do
  match gs with
  | [] => pure acc
  | g :: rest =>
    let f ← ppGoal g
    {NAMESPACE}.Try.goals rest (if acc.isEmpty then toString f else acc ++ "\\n\\n" ++ toString f)
""",
    f"""open Lean in
meta partial def {NAMESPACE}.errorsOf (ms : List Message) (render : Nat → String → String) (sep : String)
    (acc : String) : IO String := do
  match ms with
  | [] => pure acc
  | m :: rest =>
    if m.severity == .error then
      let r := render m.pos.line (← m.data.toString)
      {NAMESPACE}.errorsOf rest render sep (if acc.isEmpty then r else acc ++ sep ++ r)
    else {NAMESPACE}.errorsOf rest render sep acc
""",
    f"""open Lean Elab Tactic in
meta def {NAMESPACE}.Try.outcome (stx : Syntax) : TacticM (String × String) := do
  evalTactic stx
  let log := (← getThe Core.State).messages
  if log.hasErrors then pure ("E", ← {NAMESPACE}.errorsOf log.toList (fun _ s => s) "\\n" "")
  else
    let gs ← getUnsolvedGoals
    pure ((match gs with | [] => "F" | _ => "S"), ← {NAMESPACE}.Try.goals gs "")
""",
    f"""open Lean in
meta def {NAMESPACE}.Try.failure (log : MessageLog) (e : Exception) : IO String :=
  if log.hasErrors then {NAMESPACE}.errorsOf log.toList (fun _ s => s) "\\n" "" else e.toMessageData.toString
""",
    f"""meta def {NAMESPACE}.Try.emit (i : Nat) (kind : String) (payload : String) : IO Unit :=
  IO.println ("LA-TRY " ++ toString i ++ " " ++ kind ++ " " ++ toString payload.length ++ "\\n" ++ payload)
""",
    f"""open Lean Elab Tactic Meta in
meta partial def {NAMESPACE}.Try.loop (cs : Array Syntax) (i : Nat) (t : Tactic.State) (te : Term.State)
    (m : Meta.State) (c : Core.State) (hb0 : Nat) (stop : Nat) : TacticM Unit := do
  if h : i < cs.size then
    set {{ c with messages := {{}} }}
    -- `else (match` on one line: an `else` that ends its line opens a block that would take in the lines below
    if (← IO.monoMsNow) ≥ stop then {NAMESPACE}.Try.emit i "E" "{NOT_STARTED}" else (match Parser.runParserCategory c.env `tactic ((cs[i].isStrLit?).getD "") with
    | .error e => {NAMESPACE}.Try.emit i "E" e
    | .ok stx => do
      let hb ← IO.getNumHeartbeats
      tryCatchRuntimeEx (withTheReader Core.Context (fun ctx => {{ ctx with initHeartbeats := ctx.initHeartbeats + (hb - hb0) }}) do
        let (kind, text) ← {NAMESPACE}.Try.outcome stx
        {NAMESPACE}.Try.emit i kind text)
        (fun e => do {NAMESPACE}.Try.emit i "E" (← {NAMESPACE}.Try.failure (← getThe Core.State).messages e)))
    let ng := (← getThe Core.State).ngen
    set t; set te; set m; set {{ c with ngen := ng }}
    {NAMESPACE}.Try.loop cs (i + 1) t te m c hb0 stop
  else pure ()
""",
    f"""open Lean Elab Tactic in
elab "{TRY_SYNTAX} " ms:num cs:str* : tactic => do
  {NAMESPACE}.Try.loop cs.raw 0 (← get) (← getThe Term.State) (← getThe Meta.State) (← getThe Core.State)
    (← IO.getNumHeartbeats) ((← IO.monoMsNow) + ms.getNat)
  throwError "{TRY_END}"
""",
    f"""open Lean in
meta def {NAMESPACE}.Prefix.report (ms : List Message) : IO String :=
  {NAMESPACE}.errorsOf ms (fun line s => "{PREFIX_ERROR}" ++ toString line ++ " " ++ toString s.length ++ "\\n" ++ s ++ "\\n") "" ""
""",
    f"""open Lean Elab Command in
meta def {NAMESPACE}.Prefix.setAsync (b : Bool) : CommandElabM Unit :=
  modify fun st => {{ st with scopes := match st.scopes with
    | [] => []
    | h :: t => {{ h with opts := h.opts.setBool `Elab.async b }} :: t }}
""",
    f"""open Lean Elab Command in
meta partial def {NAMESPACE}.Prefix.loop (ictx : Parser.InputContext) (ps : Parser.ModuleParserState) : CommandElabM Unit := do
  let s ← get
  match s.scopes with
  | [] => pure ()
  | scope :: _ =>
    let pmctx : Parser.ParserModuleContext :=
      {{ env := s.env, options := scope.opts, currNamespace := scope.currNamespace, openDecls := scope.openDecls }}
    let (stx, ps', msgs) := Parser.parseCommand ictx pmctx ps {{}}
    if msgs.hasErrors then IO.print (← {NAMESPACE}.Prefix.report msgs.toList)
    else if stx.isOfKind ``Parser.Command.eoi then pure ()
    else
      let before := (← get).messages
      modify fun st => {{ st with messages := {{}} }}
      let async := scope.opts.getBool `Elab.async true
      {NAMESPACE}.Prefix.setAsync false
      withReader (fun ctx => {{ ctx with fileMap := ictx.fileMap }}) (Lean.Elab.Command.elabCommand stx)
      {NAMESPACE}.Prefix.setAsync async
      IO.print (← {NAMESPACE}.Prefix.report (← get).messages.toList)
      modify fun st => {{ st with messages := before }}
      {NAMESPACE}.Prefix.loop ictx ps'
""",
    f"""open Lean Elab Command in
elab "{PREFIX_SYNTAX} " s:str : command => do
  let input := (s.raw.isStrLit?).getD ""
  modifyInfoState fun st => {{ st with enabled := false }}
  {NAMESPACE}.Prefix.loop {{ inputString := input, fileName := "<prefix>", fileMap := input.toFileMap }} {{}}
  modifyInfoState fun st => {{ st with enabled := true }}
""",
)

HOLD_TACTIC = "lean_agent_hold"
RPC_RUN = f"{NAMESPACE}.Rpc.run"  # the RPC method that runs tactics from a held proof state
RPC_CHECK = f"{NAMESPACE}.Rpc.check"  # the RPC method that elaborates and audits a whole theorem
SCOPE_COMMAND = "#lean_agent_scope"  # saves the command state before the theorem, for RPC_CHECK

# Proof states held inside Lean, and tactics run on them by RPC, without editing the document.
# An edit costs ~8-25 ms of file-worker pipeline before any elaboration, an RPC call ~1 ms.
# - `lean_agent_hold`, the theorem's only tactic in the document, saves the whole elaboration state
#   (the contexts and states of CoreM/MetaM/TermElabM/TacticM) as entry 0 of a table (an `IO.Ref`) and
#   leaves the goals open. The table hangs in the theorem's info tree as a `CustomInfo`, so it lives as
#   long as the document's snapshot of the theorem, and every RPC call finds it there.
# - The RPC method `LeanAgentMeta.Rpc.run {line, col, from, tactics, ms, first}` (line and column of the
#   held tactic, which is how the info tree is found) runs each tactic from entry `from`
#   and answers, per tactic, `{k, t, i}`: k = S (goals left, printed as Lean prints unsolved goals;
#   the new state is entry i), F (no goals: the caller's whole-theorem check decides), E (its error),
#   N (not run: with `first`, the tactics after the first F). Tactics not started within `ms` get
#   `NOT_STARTED`. A watchdog task interrupts a tactic still running `each` ms after its start or `kill`
#   ms after the call's (Lean's `checkSystem` throws once the tactic's cancel token is set), which is
#   answered `INTERRUPTED`; only a tactic that never checks runs into the caller's limit, and a restart.
# - Each tactic gets the whole `maxHeartbeats` (counted from its start). In the proof the limit is per
#   declaration, so a held state may be reachable here and not in the proof; a finished proof is
#   re-elaborated whole, which decides. (Counting what a state's tactics used does not carry
#   over: the request's thread counts heartbeats its own way, and the counts came out ~10% above the
#   elaboration's, failing steps the proof allows.)
# - This Lean lacks the compiled code of much of its library, so: calls to functions whose callers would
#   use a `_redArg` variant go through `opaqueId` (a closure of the full function); the RPC procedure
#   is the handler itself (`unsafeCast`: `RpcProcedure` is a one-field structure), registered by hand
#   (`@[server_rpc_method]` compiles a wrapper this Lean cannot); trees are walked by hand.
# - The whole-theorem check without an edit: `#lean_agent_scope`, the document's last command before
#   the theorem, hangs the command state there (environment, namespaces, options, section variables)
#   in its info tree. `LeanAgentMeta.Rpc.check {line, col, text, name, stops}` parses `text` (the
#   theorem exactly as the document writes it; more than one command is refused), elaborates it from
#   that state with `Elab.async` off (so the kernel check runs before it returns; the messages of any
#   task it leaves are waited for and counted) and info trees off, and answers its messages and the
#   `LA-AXIOMS` report of `name`. The environment is a value: the document's own is unchanged.
_RPC_DEFS = (
    f"""@[noinline] public meta def {NAMESPACE}.Rpc.opaqueId {{α : Type}} (x : α) : α := x
""",
    f"""open Lean Elab in
-- hangs `d`, a (tag, value) pair, in an info tree, where `Rpc.findIn` finds it by its tag
public meta def {NAMESPACE}.Rpc.hang (trees : PersistentArray InfoTree) (d : Dynamic) : PersistentArray InfoTree :=
  {NAMESPACE}.Rpc.opaqueId (@PersistentArray.push InfoTree) trees (.node (.ofCustomInfo {{ stx := .missing, value := d }}) {{}})
""",
    f"""open Lean Elab in
public meta structure {NAMESPACE}.Rpc.Snap where
  coreCtx : Core.Context
  core : Core.State
  metaCtx : Meta.Context
  mst : Meta.State
  termCtx : Term.Context
  term : Term.State
  tacCtx : Tactic.Context
  tac : Tactic.State
""",
    f"""open Lean Elab Tactic in
elab "{HOLD_TACTIC}" : tactic => do
  let coreCtx ← readThe Core.Context
  let core ← getThe Core.State
  let metaCtx ← readThe Meta.Context
  let mst ← getThe Meta.State
  let termCtx ← readThe Term.Context
  let term ← getThe Term.State
  let tacCtx ← read
  let tac ← get
  let s : {NAMESPACE}.Rpc.Snap := {{ coreCtx, core, metaCtx, mst, termCtx, term, tacCtx, tac }}
  let table ← IO.mkRef #[s]
  let d : Dynamic := unsafe unsafeCast (``{NAMESPACE}.Rpc.Snap, table)
  modifyThe Core.State fun st => {{ st with infoState := {{ st.infoState with trees := {NAMESPACE}.Rpc.hang st.infoState.trees d }} }}
""",
    f"""open Lean Elab in
mutual
public meta partial def {NAMESPACE}.Rpc.findIn (tag : Name) (t : InfoTree) : Option Dynamic :=
  match t with
  | .context _ t' => {NAMESPACE}.Rpc.findIn tag t'
  | .node (.ofCustomInfo ci) cs =>
    -- every value this file hangs in a tree is a (tag, value) pair, which is how a `Dynamic` is laid out
    let (n, _) : Name × IO.Ref Nat := unsafe unsafeCast ci.value
    if n == tag then some ci.value
    else ({NAMESPACE}.Rpc.findArr tag cs.tail 0).orElse fun _ => {NAMESPACE}.Rpc.findNode tag cs.root
  | .node _ cs => ({NAMESPACE}.Rpc.findArr tag cs.tail 0).orElse fun _ => {NAMESPACE}.Rpc.findNode tag cs.root
  | .hole _ => none
public meta partial def {NAMESPACE}.Rpc.findNode (tag : Name) (n : PersistentArrayNode InfoTree) : Option Dynamic :=
  match n with
  | .leaf vs => {NAMESPACE}.Rpc.findArr tag vs 0
  | .node cs => {NAMESPACE}.Rpc.findNodes tag cs 0
public meta partial def {NAMESPACE}.Rpc.findNodes (tag : Name) (cs : Array (PersistentArrayNode InfoTree)) (i : Nat) : Option Dynamic :=
  if h : i < cs.size then ({NAMESPACE}.Rpc.findNode tag cs[i]).orElse fun _ => {NAMESPACE}.Rpc.findNodes tag cs (i + 1) else none
public meta partial def {NAMESPACE}.Rpc.findArr (tag : Name) (ts : Array InfoTree) (i : Nat) : Option Dynamic :=
  if h : i < ts.size then ({NAMESPACE}.Rpc.findIn tag ts[i]).orElse fun _ => {NAMESPACE}.Rpc.findArr tag ts (i + 1) else none
end
""",
    f"""open Lean Elab Tactic in
public meta def {NAMESPACE}.Rpc.runOne (s : {NAMESPACE}.Rpc.Snap) (src : String) (tk : IO.CancelToken) :
    IO (String × String × Option {NAMESPACE}.Rpc.Snap) := do
  match Parser.runParserCategory s.core.env `tactic src with
  | .error e => pure ("E", e, none)
  | .ok stx =>
    let hb ← IO.getNumHeartbeats
    -- Lean's own checks (`checkSystem`, as often as heartbeats) throw an interrupt once `tk` is set
    let coreCtx := {{ s.coreCtx with initHeartbeats := hb, cancelTk? := some tk }}
    let tr ← IO.mkRef s.tac
    let ter ← IO.mkRef s.term
    let mr ← IO.mkRef s.mst
    -- no info trees: nothing reads a held state's, and building them costs time and memory
    let cr ← IO.mkRef {{ s.core with messages := {{}}, infoState := {{ s.core.infoState with enabled := false }} }}
    let r ← ((((({NAMESPACE}.Try.outcome stx) s.tacCtx tr) s.termCtx ter) s.metaCtx mr) coreCtx cr).toBaseIO
    match r with
    | .ok (k, txt) =>
      if k == "S" then
        pure (k, txt, some {{ s with tac := ← tr.get, term := ← ter.get, mst := ← mr.get, core := ← cr.get }})
      else pure (k, txt, none)
    | .error e =>
      if ← tk.isSet then pure ("E", "{INTERRUPTED}", none)
      else pure ("E", ← {NAMESPACE}.Try.failure (← cr.get).messages e, none)
""",
    f"""open Lean in
public meta partial def {NAMESPACE}.Rpc.skipped (ts : List Json) (acc : Array Json) : Array Json :=
  match ts with
  | [] => acc
  | _ :: rest => {NAMESPACE}.Rpc.skipped rest (acc.push (Json.mkObj [("k", Json.str "N"), ("t", Json.str ""), ("i", Json.num 0)]))
""",
    f"""open Lean in
public meta partial def {NAMESPACE}.Rpc.runAll (table : IO.Ref (Array {NAMESPACE}.Rpc.Snap)) (s : {NAMESPACE}.Rpc.Snap)
    (ts : List Json) (stop kill each : Nat) (first : Bool) (cur : IO.Ref (IO.CancelToken × Nat)) (acc : Array Json) :
    IO (Array Json) := do
  match ts with
  | [] => pure acc
  | t :: rest =>
    let src := match t with | .str x => x | _ => ""
    let now ← IO.monoMsNow
    -- each tactic has its own token, set by the watchdog at its own limit or the call's, whichever is first
    let tk ← IO.CancelToken.new
    cur.set (tk, if now + each < kill then now + each else kill)
    let late := now ≥ stop || now ≥ kill
    let (k, txt, s') ← if late then pure ("E", "{NOT_STARTED}", none) else {NAMESPACE}.Rpc.runOne s src tk
    let idx ← match s' with
      | some ns => do
        let arr ← table.get
        table.set (arr.push ns)
        pure arr.size
      | none => pure 0
    let acc := acc.push (Json.mkObj [("k", Json.str k), ("t", Json.str txt), ("i", Json.num idx)])
    if first && k == "F" then pure ({NAMESPACE}.Rpc.skipped rest acc)
    else {NAMESPACE}.Rpc.runAll table s rest stop kill each first cur acc
""",
    f"""open Lean Server in
public meta def {NAMESPACE}.Rpc.hung (j : Json) (tag : Name) : RequestM (Option Dynamic) := do
  let line := (j.getObjValAs? Nat "line").toOption.getD 0
  let col := (j.getObjValAs? Nat "col").toOption.getD 0
  let doc := (← read).doc
  match (RequestM.findInfoTreeAtPos doc (doc.meta.text.lspPosToUtf8Pos ⟨line, col⟩) true).task.get with
  | none => pure none
  | some t => pure ({NAMESPACE}.Rpc.findIn tag t)
""",
    f"""open Lean in
public meta partial def {NAMESPACE}.Rpc.watch (cur : IO.Ref (IO.CancelToken × Nat)) (done : IO.Ref Bool) (last : Nat) :
    IO Unit := do
  let now ← IO.monoMsNow
  -- `last`: the call is over by then in any case (its tactics are all interrupted or not started)
  if (← done.get) || now ≥ last then pure ()
  else
    let (tk, limit) ← cur.get
    if now ≥ limit then tk.set
    IO.sleep 5
    {NAMESPACE}.Rpc.watch cur done last
""",
    f"""open Lean Server in
public meta def {NAMESPACE}.Rpc.runJ (_sid : UInt64) (j : Json) : RequestM (RequestTask Json) := do
  let src := (j.getObjValAs? Nat "from").toOption.getD 0
  let ms := (j.getObjValAs? Nat "ms").toOption.getD 0
  let kill := (j.getObjValAs? Nat "kill").toOption.getD 3600000
  let each := (j.getObjValAs? Nat "each").toOption.getD kill
  let first := (j.getObjValAs? Bool "first").toOption.getD false
  let tacs := match j.getObjVal? "tactics" with | .ok (.arr a) => a.toList | _ => []
  let fail := fun (m : String) => pure (.pure (Json.mkObj [("error", Json.str m)]))
  match ← {NAMESPACE}.Rpc.hung j ``{NAMESPACE}.Rpc.Snap with
  | none => fail "no held proof state at the position given"
  | some d =>
    let (_, table) : Name × IO.Ref (Array {NAMESPACE}.Rpc.Snap) := unsafe unsafeCast d
    let arr ← table.get
    if h : src < arr.size then
      let now ← IO.monoMsNow
      -- a watchdog interrupts a tactic still running `each` ms after its start, or `kill` ms after the
      -- call's (the caller's limits), so that a slow tactic costs no restart of the worker
      let cur ← IO.mkRef ((← IO.CancelToken.new), now + kill)
      let done ← IO.mkRef false
      let _ ← {NAMESPACE}.Rpc.opaqueId (@IO.asTask Unit) ({NAMESPACE}.Rpc.watch cur done (now + kill + 1000))
        Task.Priority.default
      let out ← {NAMESPACE}.Rpc.runAll table arr[src] tacs (now + ms) (now + kill) each first cur #[]
      done.set true
      pure (.pure (Json.arr out))
    else fail "no such held state"
""",
    f"""open Lean Server in
public meta unsafe def {NAMESPACE}.Rpc.runProc : RpcProcedure := unsafeCast {NAMESPACE}.Rpc.runJ
""",
    f"""open Lean Elab Command in
public meta structure {NAMESPACE}.Rpc.Scope where
  ctx : Command.Context
  st : Command.State
""",
    f"""open Lean Elab Command in
elab "{SCOPE_COMMAND}" : command => do
  let s : {NAMESPACE}.Rpc.Scope := {{ ctx := ← read, st := ← get }}
  let d : Dynamic := unsafe unsafeCast (``{NAMESPACE}.Rpc.Scope, s)
  modify fun st => {{ st with infoState := {{ st.infoState with trees := {NAMESPACE}.Rpc.hang st.infoState.trees d }} }}
""",
    f"""open Lean in
public meta partial def {NAMESPACE}.Rpc.messages (ms : List Message) (acc : Array Json) : IO (Array Json) := do
  match ms with
  | [] => pure acc
  | m :: rest =>
    let sev := match m.severity with | .error => 1 | .warning => 2 | .information => 3
    {NAMESPACE}.Rpc.messages rest (acc.push (Json.mkObj [("s", Json.num sev), ("l", Json.num m.pos.line),
      ("c", Json.num m.pos.column), ("t", Json.str (← m.data.toString))]))
""",
    f"""open Lean Language in
public meta partial def {NAMESPACE}.Rpc.taskMessages (ts : List (SnapshotTask SnapshotTree)) (acc : Array Json) : IO (Array Json) := do
  match ts with
  | [] => pure acc
  | t :: rest =>
    let tree := t.task.get
    let acc ← {NAMESPACE}.Rpc.messages tree.element.diagnostics.msgLog.toList acc
    let acc ← {NAMESPACE}.Rpc.taskMessages tree.children.toList acc
    {NAMESPACE}.Rpc.taskMessages rest acc
""",
    f"""open Lean Elab Command in
public meta def {NAMESPACE}.Rpc.checkIn (sc : {NAMESPACE}.Rpc.Scope) (src : String) (name : Name) (stops : List Name) : IO Json := do
  let ictx : Parser.InputContext := {{ inputString := src, fileName := "<check>", fileMap := src.toFileMap }}
  let unusable := fun (m : String) => pure (Json.mkObj [("error", Json.str m)])
  match sc.st.scopes with
  | [] => unusable "no scope"
  | scope :: rest =>
    let pmctx : Parser.ParserModuleContext :=
      {{ env := sc.st.env, options := scope.opts, currNamespace := scope.currNamespace, openDecls := scope.openDecls }}
    let (stx, ps, msgs) := Parser.parseCommand ictx pmctx {{}} {{}}
    let (next, _, _) := Parser.parseCommand ictx pmctx ps {{}}
    if msgs.hasErrors then unusable "the theorem does not parse" else
    if !next.isOfKind ``Parser.Command.eoi then unusable "the text is more than one command" else
    -- as the prefix loader does: no async tasks (their messages would not be in the log), no info trees
    let opts := (scope.opts.setBool `Elab.async false).setBool `linter.all false
    let st0 : Command.State := {{ sc.st with
      messages := {{}}, scopes := {{ scope with opts := opts }} :: rest, snapshotTasks := #[],
      infoState := {{ sc.st.infoState with enabled := false }} }}
    let ctx : Command.Context := {{ sc.ctx with
      fileName := "<check>", fileMap := ictx.fileMap, snap? := none, cancelTk? := none, cmdPos := 0 }}
    let r ← IO.mkRef st0
    match ← ((Command.elabCommandTopLevel stx) ctx r).toBaseIO with
    | .error e => unusable (← e.toMessageData.toString)
    | .ok () =>
      let st1 ← r.get
      -- the messages of the tasks the elaboration left (waited for) count as its own
      let msgs ← {NAMESPACE}.Rpc.messages st1.messages.toList #[]
      let msgs ← {NAMESPACE}.Rpc.taskMessages st1.snapshotTasks.toList msgs
      pure (Json.mkObj [("msgs", Json.arr msgs), ("report", Json.str ({NAMESPACE}.auditName st1.env name stops))])
""",
    f"""open Lean in
public meta partial def {NAMESPACE}.Rpc.names (js : List Json) (acc : List Name) : List Name :=
  match js with
  | [] => acc
  | .str x :: rest => {NAMESPACE}.Rpc.names rest (x.toName :: acc)
  | _ :: rest => {NAMESPACE}.Rpc.names rest acc
""",
    f"""open Lean Server in
public meta unsafe def {NAMESPACE}.Rpc.checkJ (_sid : UInt64) (j : Json) : RequestM (RequestTask Json) := do
  let text := (j.getObjValAs? String "text").toOption.getD ""
  let name := ((j.getObjValAs? String "name").toOption.getD "").toName
  let stops := match j.getObjVal? "stops" with | .ok (.arr a) => {NAMESPACE}.Rpc.names a.toList [] | _ => []
  match ← {NAMESPACE}.Rpc.hung j ``{NAMESPACE}.Rpc.Scope with
  | none => pure (.pure (Json.mkObj [("error", Json.str "no saved command state at the position given")]))
  | some d =>
    let (_, sc) : Name × {NAMESPACE}.Rpc.Scope := unsafeCast d  -- (unsafe: `Command.Context` is not `Nonempty`)
    pure (.pure (← {NAMESPACE}.Rpc.checkIn sc text name stops))
""",
    f"""open Lean Server in
public meta unsafe def {NAMESPACE}.Rpc.checkProc : RpcProcedure := unsafeCast {NAMESPACE}.Rpc.checkJ
""",
    f"""open Lean Elab Command in
elab "#lean_agent_rpc_register" : command => do
  let f := {NAMESPACE}.Rpc.opaqueId (@Lean.MapDeclarationExtension.insert Name)
  let env := f Lean.Server.userRpcProcedures (← getEnv) `{RPC_RUN} ``{NAMESPACE}.Rpc.runProc
  setEnv (f Lean.Server.userRpcProcedures env `{RPC_CHECK} ``{NAMESPACE}.Rpc.checkProc)
""",
    "#lean_agent_rpc_register\n",
)

# The loader of the helpers' definitions. A loaded command's positions are offsets into its string, so
# its messages are logged again at the loader's own line: an error then says which block of the
# document failed (`Dojo.start` tells the runner's from the held states').
_LOADER = """open Lean in
meta partial def LeanAgentMeta.relog (ms : List Message) (pos : Position) : Elab.Command.CommandElabM Unit := do
  match ms with
  | [] => pure ()
  | m :: rest =>
    modify fun st => { st with messages := st.messages.add { m with pos := pos, endPos := none } }
    LeanAgentMeta.relog rest pos

open Lean Elab Command in
elab "#lean_agent_load " s:str : command => do
  match Parser.runParserCategory (← getEnv) `command ((s.raw.isStrLit?).getD "") with
  | .error e => throw (Exception.error s (MessageData.ofFormat (Std.Format.text e)))
  | .ok stx =>
    let before := (← get).messages
    modify fun st => { st with messages := {} }
    modifyInfoState fun st => { st with enabled := false }
    Lean.Elab.Command.elabCommand stx
    modifyInfoState fun st => { st with enabled := true }
    let msgs := (← get).messages.toList
    modify fun st => { st with messages := before }
    LeanAgentMeta.relog msgs ((← getFileMap).toPosition (s.raw.getPos?.getD 0))
"""



def lean_string(text: str) -> str:
    """`text` as a Lean string literal."""
    out = []
    for ch in text:
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 32 or ord(ch) == 127:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _loaded(defs) -> str:
    return "".join(f"set_option Elab.async false in\n#lean_agent_load {lean_string(d)}\n" for d in defs)


# every line of it belongs to the runner: an error there (a Lean whose API differs) turns the runner and
# the held states off (`Dojo.start`), and the Dojo runs tactics one edit each
TRY_ELAB = _LOADER + _loaded(_TRY_DEFS)
# the held states, after the runner, whose helpers they use: an error here turns only them off
RPC_ELAB = _loaded(_RPC_DEFS)


def try_tactic(candidates, budget: float = 3600.0) -> str:
    """The runner's tactic line for `candidates` (one-line tactic texts). Each runs as `(tactic)`, so a
    trailing `;` or comment parses as it does in a proof. A candidate is started only within `budget`
    seconds of the runner's start; the later ones are answered `NOT_STARTED` without running."""
    ms = max(0, round(budget * 1000))
    return f"{TRY_SYNTAX} {ms} " + " ".join(lean_string(f"({c.strip()}\n)") for c in candidates)


def rpc_tactic(tactic: str) -> str:
    """A tactic's text as the RPC runner parses it: `(tactic\n)`, as `try_tactic` writes one-line tactics
    (a trailing `;` or comment then parses as in a proof), with the lines of a multi-line text shifted
    by the parenthesis' column, so that a sequence of tactics on several lines stays one sequence and
    an indented block keeps its layout."""
    lines = tactic.strip("\n").split("\n")
    if len(lines) == 1:
        return f"({lines[0].strip()}\n)"
    return "(" + "\n ".join(lines) + "\n)"


def prefix_command(piece: str) -> str:
    """One line that elaborates `piece` (whole commands of the file) with no info trees."""
    return f"{PREFIX_SYNTAX} {lean_string(piece)}\n"


def _framed_record(text: str, pos: int) -> tuple[list[str], str, int] | None:
    """The record at `pos` of a report in which Lean prints `<fields> <length>` on a line, then exactly that
    many characters: (the fields, the body, where the record ends), or None if either is cut short."""
    nl = text.find("\n", pos)
    if nl < 0:
        return None
    head = text[pos:nl].split(" ")
    if not head[-1].isdigit():
        return None
    size = int(head[-1])
    body = text[nl + 1:nl + 1 + size]
    if len(body) != size:
        return None
    return head[:-1], body, nl + 1 + size


def parse_prefix_errors(message: str) -> list[tuple[int, str]] | None:
    """The prefix loader's errors in one of its messages, as (1-based line in the piece, message); None
    when the message is not the loader's report."""
    out: list[tuple[int, str]] = []
    pos = 0
    while pos < len(message):
        record = _framed_record(message, pos)
        if record is None:
            return None
        fields, body, pos = record
        if len(fields) != 2 or fields[0] != PREFIX_ERROR.strip() or not fields[1].isdigit():
            return None
        out.append((int(fields[1]), body))
        while message[pos:pos + 1] == "\n":
            pos += 1
    return out or None


def parse_try(output: str, n: int) -> list[tuple[str, str]] | None:
    """The runner's `n` results as (kind, text) in order, or None unless `output` is exactly `n` records
    numbered 0..n-1 (anything else, such as a candidate that printed, makes the whole output unusable)."""
    out: list[tuple[str, str]] = []
    pos = 0
    for i in range(n):
        record = _framed_record(output, pos)
        if record is None:
            return None
        fields, body, pos = record
        if len(fields) != 3 or fields[0] != "LA-TRY" or fields[1] != str(i) or fields[2] not in ("S", "F", "E"):
            return None
        out.append((fields[2], body))
        if output[pos:pos + 1] == "\n":
            pos += 1
        elif pos != len(output):
            return None
    return out if output[pos:].strip() == "" else None


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
