module
public import Dev.Expr
@[expose] public section

/-!
# A verified compiler

Expressions are compiled to code for a stack machine whose stack is a
`MyList Nat`. The main theorem states that running compiled code pushes
exactly the value of the expression; combined with constant folding this
also verifies an optimising compiler.
-/

namespace Dev

inductive Instr where
  | push : Nat → Instr
  | load : Nat → Instr
  | add : Instr
  | mul : Instr

namespace Instr

open MyList
open Expr

/-- One step of the stack machine. Ill-formed steps leave the stack alone. -/
def step (env : Env) : Instr → MyList Nat → MyList Nat
  | push n, s => cons n s
  | load i, s => cons (env i) s
  | add, cons b (cons a s) => cons (a + b) s
  | mul, cons b (cons a s) => cons (a * b) s
  | add, s => s
  | mul, s => s

def exec (env : Env) : MyList Instr → MyList Nat → MyList Nat
  | nil, s => s
  | cons i is, s => exec env is (step env i s)

noncomputable def compile : Expr → MyList Instr
  | const n => cons (push n) nil
  | var i => cons (load i) nil
  | plus a b => append (compile a) (append (compile b) (cons add nil))
  | times a b => append (compile a) (append (compile b) (cons mul nil))

theorem exec_nil (env : Env) (s : MyList Nat) : exec env nil s = s := by
  rfl

theorem exec_cons (env : Env) (i : Instr) (is : MyList Instr) (s : MyList Nat) :
    exec env (cons i is) s = exec env is (step env i s) := by
  rfl

theorem step_push (env : Env) (n : Nat) (s : MyList Nat) :
    step env (push n) s = cons n s := by
  rfl

theorem step_add (env : Env) (a b : Nat) (s : MyList Nat) :
    step env add (cons b (cons a s)) = cons (a + b) s := by
  rfl

theorem step_mul (env : Env) (a b : Nat) (s : MyList Nat) :
    step env mul (cons b (cons a s)) = cons (a * b) s := by
  rfl

theorem exec_append (env : Env) (p q : MyList Instr) (s : MyList Nat) :
    exec env (append p q) s = exec env q (exec env p s) := by
  induction p generalizing s with
  | nil => rfl
  | cons i is ih =>
    rw [cons_append, exec_cons, exec_cons, ih]

/-- Capstone (generalised form): compiled code pushes the value of the
expression onto any stack and then continues with the rest of the program. -/
theorem compile_correct_gen (env : Env) (e : Expr) (p : MyList Instr) (s : MyList Nat) :
    exec env (append (compile e) p) s = exec env p (cons (eval env e) s) := by
  induction e generalizing p s with
  | const n => rfl
  | var i => rfl
  | plus a b iha ihb =>
    simp only [compile]
    rw [append_assoc, iha, append_assoc, ihb]
    rw [cons_append, nil_append, exec_cons, step_add]
    rfl
  | times a b iha ihb =>
    simp only [compile]
    rw [append_assoc, iha, append_assoc, ihb]
    rw [cons_append, nil_append, exec_cons, step_mul]
    rfl

theorem compile_correct (env : Env) (e : Expr) :
    exec env (compile e) nil = cons (eval env e) nil := by
  have h := compile_correct_gen env e nil nil
  rw [append_nil] at h
  rw [h]
  rfl

theorem compile_correct_stack (env : Env) (e : Expr) (s : MyList Nat) :
    exec env (compile e) s = cons (eval env e) s := by
  have h := compile_correct_gen env e nil s
  rw [append_nil] at h
  exact h

theorem length_compile (e : Expr) : length (compile e) = size e := by
  induction e with
  | const n => rfl
  | var i => rfl
  | plus a b iha ihb =>
    simp only [compile, size]
    rw [length_append, length_append, iha, ihb]
    rfl
  | times a b iha ihb =>
    simp only [compile, size]
    rw [length_append, length_append, iha, ihb]
    rfl

/-- Capstone: the optimising compiler (constant folding, then code
generation) computes the same value as the plain one, and its code is no
longer. -/
theorem optimized_compile_correct (env : Env) (e : Expr) (s : MyList Nat) :
    exec env (compile (cfold e)) s = exec env (compile e) s ∧
      length (compile (cfold e)) ≤ length (compile e) := by
  constructor
  · rw [compile_correct_stack, compile_correct_stack]
    rw [cfold_correct]
  · rw [length_compile, length_compile]
    exact cfold_size_le e

theorem compile_closed_const (e : Expr) (h : closed e = true) (env : Env) :
    compile (cfold e) = cons (push (eval env e)) nil := by
  rw [cfold_closed e h env]
  rfl

theorem exec_compile_sequence (env : Env) (e1 e2 : Expr) (s : MyList Nat) :
    exec env (append (compile e1) (compile e2)) s =
      cons (eval env e2) (cons (eval env e1) s) := by
  rw [exec_append, compile_correct_stack, compile_correct_stack]

theorem compile_plus_comm_value (env : Env) (a b : Expr) :
    exec env (compile (plus a b)) nil = exec env (compile (plus b a)) nil := by
  rw [compile_correct, compile_correct]
  simp only [eval]
  rw [Nat.add_comm]

/-- Only the top of the stack is touched by compiled code. -/
theorem exec_compile_append_stack (env : Env) (e : Expr) (s t : MyList Nat) :
    exec env (compile e) (append s t) = append (exec env (compile e) s) t := by
  rw [compile_correct_stack, compile_correct_stack]
  rfl

end Instr
end Dev
end
