module
@[expose] public section

/-!
# Basic

Elementary logic lemmas and a few natural-number helper functions defined
by structural recursion, together with their basic properties.
-/

namespace Dev

/-! ## Logic -/

theorem and_swap' (p q : Prop) : p ∧ q → q ∧ p := by
  intro h
  cases h with
  | intro hp hq =>
    constructor
    · exact hq
    · exact hp

theorem or_swap' (p q : Prop) : p ∨ q → q ∨ p := by
  intro h
  cases h with
  | inl hp => exact Or.inr hp
  | inr hq => exact Or.inl hq

theorem imp_trans' (p q r : Prop) (hpq : p → q) (hqr : q → r) : p → r := by
  intro hp
  apply hqr
  apply hpq
  exact hp

theorem not_not_intro' (p : Prop) (hp : p) : ¬¬p := by
  intro hn
  exact hn hp

theorem and_imp_iff' (p q r : Prop) : (p ∧ q → r) ↔ (p → q → r) := by
  constructor
  · intro h hp hq
    exact h ⟨hp, hq⟩
  · intro h hpq
    exact h hpq.1 hpq.2

theorem contrapositive' (p q : Prop) (h : p → q) : ¬q → ¬p := by
  intro hnq hp
  apply hnq
  exact h hp

theorem or_and_distrib' (p q r : Prop) : p ∧ (q ∨ r) → (p ∧ q) ∨ (p ∧ r) := by
  intro h
  obtain ⟨hp, hqr⟩ := h
  cases hqr with
  | inl hq => exact Or.inl ⟨hp, hq⟩
  | inr hr => exact Or.inr ⟨hp, hr⟩

theorem exists_imp_forall_not' {α : Type} (P : α → Prop) :
    (¬ ∃ x, P x) → ∀ x, ¬ P x := by
  intro h x hx
  apply h
  exact ⟨x, hx⟩

/-! ## Natural-number helpers -/

/-- Addition defined by recursion on the second argument. -/
def add' : Nat → Nat → Nat
  | n, 0 => n
  | n, m + 1 => (add' n m) + 1

/-- Doubling by recursion. -/
def double : Nat → Nat
  | 0 => 0
  | n + 1 => double n + 2

/-- Sum `0 + 1 + ... + n`. -/
def sumTo : Nat → Nat
  | 0 => 0
  | n + 1 => sumTo n + (n + 1)

/-- Factorial. -/
def fact : Nat → Nat
  | 0 => 1
  | n + 1 => (n + 1) * fact n

/-- Powers of two. -/
def pow2 : Nat → Nat
  | 0 => 1
  | n + 1 => 2 * pow2 n

/-- Boolean evenness by recursion. -/
def isEven : Nat → Bool
  | 0 => true
  | 1 => false
  | n + 2 => isEven n

/-- Maximum of two naturals, defined by hand. -/
def max' (a b : Nat) : Nat := if a ≤ b then b else a

theorem add'_zero (n : Nat) : add' n 0 = n := by
  rfl

theorem add'_succ (n m : Nat) : add' n (m + 1) = add' n m + 1 := by
  rfl

theorem add'_eq_add (n m : Nat) : add' n m = n + m := by
  induction m with
  | zero => rfl
  | succ k ih =>
    rw [add'_succ, ih]
    omega

theorem zero_add' (n : Nat) : add' 0 n = n := by
  rw [add'_eq_add]
  omega

theorem add'_comm (n m : Nat) : add' n m = add' m n := by
  rw [add'_eq_add, add'_eq_add]
  omega

theorem add'_assoc (a b c : Nat) : add' (add' a b) c = add' a (add' b c) := by
  simp only [add'_eq_add]
  omega

theorem double_eq (n : Nat) : double n = 2 * n := by
  induction n with
  | zero => rfl
  | succ k ih =>
    unfold double
    rw [ih]
    omega

theorem double_add (a b : Nat) : double (a + b) = double a + double b := by
  rw [double_eq, double_eq, double_eq]
  omega

theorem double_eq_add_self (n : Nat) : double n = n + n := by
  rw [double_eq]
  omega

theorem sumTo_succ (n : Nat) : sumTo (n + 1) = sumTo n + (n + 1) := by
  rfl

theorem sumTo_formula (n : Nat) : 2 * sumTo n = n * (n + 1) := by
  induction n with
  | zero => rfl
  | succ k ih =>
    rw [sumTo_succ, Nat.mul_add, ih]
    simp only [Nat.add_mul, Nat.mul_add, Nat.mul_one, Nat.one_mul]
    omega

theorem sumTo_mono (n : Nat) : sumTo n ≤ sumTo (n + 1) := by
  rw [sumTo_succ]
  omega

theorem le_sumTo (n : Nat) : n ≤ sumTo n := by
  cases n with
  | zero => exact Nat.le_refl 0
  | succ k =>
    rw [sumTo_succ]
    omega

theorem fact_pos (n : Nat) : 0 < fact n := by
  induction n with
  | zero => decide
  | succ k ih =>
    unfold fact
    exact Nat.mul_pos (Nat.succ_pos k) ih

theorem fact_succ (n : Nat) : fact (n + 1) = (n + 1) * fact n := by
  rfl

theorem fact_mono (n : Nat) : fact n ≤ fact (n + 1) := by
  rw [fact_succ]
  have h := fact_pos n
  have h2 : 1 * fact n ≤ (n + 1) * fact n := Nat.mul_le_mul_right _ (by omega)
  omega

theorem pow2_pos (n : Nat) : 0 < pow2 n := by
  induction n with
  | zero => decide
  | succ k ih =>
    unfold pow2
    omega

theorem pow2_succ (n : Nat) : pow2 (n + 1) = 2 * pow2 n := by
  rfl

theorem pow2_add (a b : Nat) : pow2 (a + b) = pow2 a * pow2 b := by
  induction b with
  | zero =>
    simp [pow2]
  | succ k ih =>
    rw [← Nat.add_assoc, pow2_succ, pow2_succ, ih]
    rw [Nat.mul_left_comm]

theorem pow2_eq_double (n : Nat) : pow2 (n + 1) = double (pow2 n) := by
  rw [double_eq]
  rfl

theorem lt_pow2 (n : Nat) : n < pow2 n := by
  induction n with
  | zero => decide
  | succ k ih =>
    unfold pow2
    have h := pow2_pos k
    omega

theorem isEven_add_two (n : Nat) : isEven (n + 2) = isEven n := by
  rfl

theorem isEven_double (n : Nat) : isEven (double n) = true := by
  induction n with
  | zero => rfl
  | succ k ih =>
    unfold double
    rw [isEven_add_two]
    exact ih

theorem isEven_succ (n : Nat) : isEven (n + 1) = !isEven n := by
  induction n using Nat.strongRecOn with
  | ind k ih =>
    match k with
    | 0 => rfl
    | 1 => rfl
    | j + 2 =>
      rw [isEven_add_two]
      rw [isEven_add_two]
      exact ih j (by omega)

theorem isEven_iff (n : Nat) : isEven n = true ↔ n % 2 = 0 := by
  induction n using Nat.strongRecOn with
  | ind k ih =>
    match k with
    | 0 => simp [isEven]
    | 1 => simp [isEven]
    | j + 2 =>
      rw [isEven_add_two]
      rw [ih j (by omega)]
      omega

theorem max'_comm (a b : Nat) : max' a b = max' b a := by
  unfold max'
  split <;> split <;> omega

theorem le_max'_left (a b : Nat) : a ≤ max' a b := by
  unfold max'
  split <;> omega

theorem le_max'_right (a b : Nat) : b ≤ max' a b := by
  unfold max'
  split <;> omega

theorem max'_self (a : Nat) : max' a a = a := by
  unfold max'
  simp

theorem max'_le {a b c : Nat} (ha : a ≤ c) (hb : b ≤ c) : max' a b ≤ c := by
  unfold max'
  split
  · exact hb
  · exact ha

end Dev
end
