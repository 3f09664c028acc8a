module
public import Dev.ListMore
@[expose] public section

/-!
# Arithmetic expressions

A small expression language with constants, variables, addition and
multiplication; an evaluator; substitution; and a constant-folding
optimiser proven to preserve meaning.
-/

namespace Dev

inductive Expr where
  | const : Nat → Expr
  | var : Nat → Expr
  | plus : Expr → Expr → Expr
  | times : Expr → Expr → Expr

namespace Expr

/-- Environments assign a value to every variable index. -/
abbrev Env := Nat → Nat

def eval (env : Env) : Expr → Nat
  | const n => n
  | var i => env i
  | plus a b => eval env a + eval env b
  | times a b => eval env a * eval env b

def size : Expr → Nat
  | const _ => 1
  | var _ => 1
  | plus a b => size a + size b + 1
  | times a b => size a + size b + 1

/-- Does the expression mention no variables? -/
def closed : Expr → Bool
  | const _ => true
  | var _ => false
  | plus a b => closed a && closed b
  | times a b => closed a && closed b

/-- Does variable `i` occur in the expression? -/
def occurs (i : Nat) : Expr → Bool
  | const _ => false
  | var j => i == j
  | plus a b => occurs i a || occurs i b
  | times a b => occurs i a || occurs i b

def subst (i : Nat) (e : Expr) : Expr → Expr
  | const n => const n
  | var j => if i = j then e else var j
  | plus a b => plus (subst i e a) (subst i e b)
  | times a b => times (subst i e a) (subst i e b)

def update (env : Env) (i v : Nat) : Env := fun j => if i = j then v else env j

/-- Smart constructor for addition: folds constants and drops zeros. -/
def mkPlus : Expr → Expr → Expr
  | const x, const y => const (x + y)
  | a, b => plus a b

/-- Smart constructor for multiplication: folds constants. -/
def mkTimes : Expr → Expr → Expr
  | const x, const y => const (x * y)
  | a, b => times a b

def cfold : Expr → Expr
  | const n => const n
  | var i => var i
  | plus a b => mkPlus (cfold a) (cfold b)
  | times a b => mkTimes (cfold a) (cfold b)

theorem eval_const (env : Env) (n : Nat) : eval env (const n) = n := by
  rfl

theorem eval_var (env : Env) (i : Nat) : eval env (var i) = env i := by
  rfl

theorem eval_plus (env : Env) (a b : Expr) :
    eval env (plus a b) = eval env a + eval env b := by
  rfl

theorem eval_times (env : Env) (a b : Expr) :
    eval env (times a b) = eval env a * eval env b := by
  rfl

theorem size_pos (e : Expr) : 0 < size e := by
  cases e with
  | const n => exact Nat.one_pos
  | var i => exact Nat.one_pos
  | plus a b =>
    simp only [size]
    omega
  | times a b =>
    simp only [size]
    omega

theorem eval_mkPlus (env : Env) (a b : Expr) :
    eval env (mkPlus a b) = eval env a + eval env b := by
  cases a <;> cases b <;> rfl

theorem eval_mkTimes (env : Env) (a b : Expr) :
    eval env (mkTimes a b) = eval env a * eval env b := by
  cases a <;> cases b <;> rfl

theorem size_mkPlus_le (a b : Expr) : size (mkPlus a b) ≤ size a + size b + 1 := by
  cases a <;> cases b <;> simp [mkPlus, size]

theorem size_mkTimes_le (a b : Expr) : size (mkTimes a b) ≤ size a + size b + 1 := by
  cases a <;> cases b <;> simp [mkTimes, size]

/-- Constant folding preserves the meaning of expressions. -/
theorem cfold_correct (env : Env) (e : Expr) : eval env (cfold e) = eval env e := by
  induction e with
  | const n => rfl
  | var i => rfl
  | plus a b iha ihb =>
    simp only [cfold]
    rw [eval_mkPlus, iha, ihb]
    rfl
  | times a b iha ihb =>
    simp only [cfold]
    rw [eval_mkTimes, iha, ihb]
    rfl

theorem cfold_size_le (e : Expr) : size (cfold e) ≤ size e := by
  induction e with
  | const n => exact Nat.le_refl _
  | var i => exact Nat.le_refl _
  | plus a b iha ihb =>
    simp only [cfold]
    have h := size_mkPlus_le (cfold a) (cfold b)
    simp only [size]
    omega
  | times a b iha ihb =>
    simp only [cfold]
    have h := size_mkTimes_le (cfold a) (cfold b)
    simp only [size]
    omega

/-- Capstone: a closed expression folds to the constant it evaluates to. -/
theorem cfold_closed (e : Expr) (h : closed e = true) :
    ∀ env, cfold e = const (eval env e) := by
  induction e with
  | const n =>
    intro env
    rfl
  | var i =>
    simp [closed] at h
  | plus a b iha ihb =>
    intro env
    simp only [closed, Bool.and_eq_true] at h
    obtain ⟨ha, hb⟩ := h
    simp only [cfold]
    rw [iha ha env, ihb hb env]
    rfl
  | times a b iha ihb =>
    intro env
    simp only [closed, Bool.and_eq_true] at h
    obtain ⟨ha, hb⟩ := h
    simp only [cfold]
    rw [iha ha env, ihb hb env]
    rfl

theorem eval_closed (e : Expr) (h : closed e = true) (env1 env2 : Env) :
    eval env1 e = eval env2 e := by
  have h1 := cfold_closed e h env1
  have h2 := cfold_closed e h env2
  rw [h1] at h2
  simp only [const.injEq] at h2
  exact h2

theorem cfold_idem (e : Expr) (env : Env) :
    eval env (cfold (cfold e)) = eval env e := by
  rw [cfold_correct, cfold_correct]

theorem update_same (env : Env) (i v : Nat) : update env i v i = v := by
  simp [update]

theorem update_other (env : Env) {i j : Nat} (h : i ≠ j) (v : Nat) :
    update env i v j = env j := by
  simp [update, h]

/-- Evaluating a substitution is evaluating in an updated environment. -/
theorem eval_subst (env : Env) (i : Nat) (e' e : Expr) :
    eval env (subst i e' e) = eval (update env i (eval env e')) e := by
  induction e with
  | const n => rfl
  | var j =>
    by_cases hij : i = j
    · subst hij
      simp [subst, eval, update]
    · simp [subst, eval, update, hij]
  | plus a b iha ihb =>
    simp only [subst, eval]
    rw [iha, ihb]
  | times a b iha ihb =>
    simp only [subst, eval]
    rw [iha, ihb]

theorem subst_not_occurs (i : Nat) (e' e : Expr) (h : occurs i e = false) :
    subst i e' e = e := by
  induction e with
  | const n => rfl
  | var j =>
    simp only [occurs, beq_eq_false_iff_ne, ne_eq] at h
    simp [subst, h]
  | plus a b iha ihb =>
    simp only [occurs, Bool.or_eq_false_iff] at h
    simp only [subst]
    rw [iha h.1, ihb h.2]
  | times a b iha ihb =>
    simp only [occurs, Bool.or_eq_false_iff] at h
    simp only [subst]
    rw [iha h.1, ihb h.2]

theorem eval_update_not_occurs (env : Env) (i v : Nat) (e : Expr)
    (h : occurs i e = false) : eval (update env i v) e = eval env e := by
  induction e with
  | const n => rfl
  | var j =>
    simp only [occurs, beq_eq_false_iff_ne, ne_eq] at h
    simp only [eval]
    exact update_other env h v
  | plus a b iha ihb =>
    simp only [occurs, Bool.or_eq_false_iff] at h
    simp only [eval]
    rw [iha h.1, ihb h.2]
  | times a b iha ihb =>
    simp only [occurs, Bool.or_eq_false_iff] at h
    simp only [eval]
    rw [iha h.1, ihb h.2]

theorem closed_not_occurs (i : Nat) (e : Expr) (h : closed e = true) : occurs i e = false := by
  induction e with
  | const n => rfl
  | var j =>
    simp [closed] at h
  | plus a b iha ihb =>
    simp only [closed, Bool.and_eq_true] at h
    simp only [occurs]
    rw [iha h.1, ihb h.2]
    rfl
  | times a b iha ihb =>
    simp only [closed, Bool.and_eq_true] at h
    simp only [occurs]
    rw [iha h.1, ihb h.2]
    rfl

theorem size_subst_var (i j : Nat) (e : Expr) : size (subst i (var j) e) = size e := by
  induction e with
  | const n => rfl
  | var k =>
    by_cases hik : i = k
    · simp [subst, hik, size]
    · simp [subst, hik, size]
  | plus a b iha ihb =>
    simp only [subst, size]
    rw [iha, ihb]
  | times a b iha ihb =>
    simp only [subst, size]
    rw [iha, ihb]

/-- Variables of an expression, left to right, as a `MyList`. -/
noncomputable def vars : Expr → MyList Nat
  | const _ => MyList.nil
  | var i => MyList.cons i MyList.nil
  | plus a b => MyList.append (vars a) (vars b)
  | times a b => MyList.append (vars a) (vars b)

theorem length_vars_lt_size (e : Expr) : MyList.length (vars e) < size e + 1 := by
  induction e with
  | const n =>
    simp [vars, size, MyList.length]
  | var i =>
    simp [vars, size, MyList.length]
  | plus a b iha ihb =>
    simp only [vars, size]
    rw [MyList.length_append]
    omega
  | times a b iha ihb =>
    simp only [vars, size]
    rw [MyList.length_append]
    omega

theorem closed_iff_vars_nil (e : Expr) : closed e = true ↔ vars e = MyList.nil := by
  induction e with
  | const n => simp [closed, vars]
  | var i => simp [closed, vars]
  | plus a b iha ihb =>
    simp only [closed, vars, Bool.and_eq_true]
    rw [iha, ihb, MyList.append_eq_nil_iff]
  | times a b iha ihb =>
    simp only [closed, vars, Bool.and_eq_true]
    rw [iha, ihb, MyList.append_eq_nil_iff]

end Expr
end Dev
end
