module
public import Dev.ListMore
@[expose] public section

/-!
# Monoids and groups

Monoids and groups as explicit structures (no type classes), the standard
elementary lemmas (uniqueness of identity and inverses, cancellation,
`inv_inv`, inverse of a product), powers, folding a `MyList` in a monoid,
and a few concrete instances.
-/

namespace Dev

structure Monoid' (α : Type) where
  mul : α → α → α
  one : α
  mul_assoc : ∀ a b c : α, mul (mul a b) c = mul a (mul b c)
  one_mul : ∀ a : α, mul one a = a
  mul_one : ∀ a : α, mul a one = a

structure Group' (α : Type) extends Monoid' α where
  inv : α → α
  inv_mul : ∀ a : α, mul (inv a) a = one

namespace Monoid'

variable {α : Type} (M : Monoid' α)

theorem one_unique (e : α) (h : ∀ a, M.mul e a = a) : e = M.one := by
  have h1 : M.mul e M.one = M.one := h M.one
  rw [M.mul_one] at h1
  exact h1

theorem one_unique_right (e : α) (h : ∀ a, M.mul a e = a) : e = M.one := by
  have h1 : M.mul M.one e = M.one := h M.one
  rw [M.one_mul] at h1
  exact h1

theorem mul_assoc4 (a b c d : α) :
    M.mul (M.mul (M.mul a b) c) d = M.mul a (M.mul b (M.mul c d)) := by
  rw [M.mul_assoc, M.mul_assoc]

/-- Natural-number powers in a monoid. -/
def pow (a : α) : Nat → α
  | 0 => M.one
  | n + 1 => M.mul a (pow a n)

theorem pow_zero (a : α) : M.pow a 0 = M.one := by
  rfl

theorem pow_succ (a : α) (n : Nat) : M.pow a (n + 1) = M.mul a (M.pow a n) := by
  rfl

theorem pow_one (a : α) : M.pow a 1 = a := by
  rw [pow_succ, pow_zero, M.mul_one]

theorem one_pow (n : Nat) : M.pow M.one n = M.one := by
  induction n with
  | zero => rfl
  | succ k ih =>
    rw [pow_succ, ih, M.one_mul]

theorem pow_add (a : α) (m n : Nat) : M.pow a (m + n) = M.mul (M.pow a m) (M.pow a n) := by
  induction m with
  | zero =>
    rw [Nat.zero_add, pow_zero, M.one_mul]
  | succ k ih =>
    rw [Nat.succ_add, pow_succ, pow_succ, ih, M.mul_assoc]

theorem pow_mul_comm (a : α) (n : Nat) : M.mul a (M.pow a n) = M.mul (M.pow a n) a := by
  induction n with
  | zero =>
    rw [pow_zero, M.mul_one, M.one_mul]
  | succ k ih =>
    rw [pow_succ]
    rw [M.mul_assoc]
    rw [← ih]

theorem pow_succ' (a : α) (n : Nat) : M.pow a (n + 1) = M.mul (M.pow a n) a := by
  rw [pow_succ, pow_mul_comm]

theorem pow_mul (a : α) (m n : Nat) : M.pow a (m * n) = M.pow (M.pow a m) n := by
  induction n with
  | zero => rfl
  | succ k ih =>
    rw [Nat.mul_succ, pow_add, ih, pow_succ]
    have h := pow_mul_comm M (M.pow a m) k
    rw [h]

/-- Folding a list in a monoid. -/
def mconcat : MyList α → α
  | MyList.nil => M.one
  | MyList.cons x xs => M.mul x (mconcat xs)

theorem mconcat_nil : M.mconcat MyList.nil = M.one := by
  rfl

theorem mconcat_cons (x : α) (xs : MyList α) :
    M.mconcat (MyList.cons x xs) = M.mul x (M.mconcat xs) := by
  rfl

theorem mconcat_append (xs ys : MyList α) :
    M.mconcat (MyList.append xs ys) = M.mul (M.mconcat xs) (M.mconcat ys) := by
  induction xs with
  | nil =>
    rw [MyList.nil_append, mconcat_nil, M.one_mul]
  | cons x xs ih =>
    rw [MyList.cons_append, mconcat_cons, mconcat_cons, ih, M.mul_assoc]

theorem mconcat_singleton (x : α) : M.mconcat (MyList.singleton x) = x := by
  unfold MyList.singleton
  rw [mconcat_cons, mconcat_nil, M.mul_one]

theorem mconcat_eq_foldr (xs : MyList α) : M.mconcat xs = MyList.foldr M.mul M.one xs := by
  induction xs with
  | nil => rfl
  | cons x xs ih =>
    rw [mconcat_cons, MyList.foldr_cons, ih]

/-- A monoid is commutative when its multiplication commutes. -/
def IsComm : Prop := ∀ a b : α, M.mul a b = M.mul b a

theorem mconcat_reverse (hc : M.IsComm) (xs : MyList α) :
    M.mconcat (MyList.reverse xs) = M.mconcat xs := by
  induction xs with
  | nil => rfl
  | cons x xs ih =>
    rw [MyList.reverse_cons, mconcat_append, ih, mconcat_cons, mconcat_cons, mconcat_nil]
    rw [M.mul_one, hc]

theorem pow_mul_distrib (hc : M.IsComm) (a b : α) (n : Nat) :
    M.pow (M.mul a b) n = M.mul (M.pow a n) (M.pow b n) := by
  induction n with
  | zero =>
    rw [pow_zero, pow_zero, pow_zero, M.one_mul]
  | succ k ih =>
    rw [pow_succ, pow_succ, pow_succ, ih]
    rw [M.mul_assoc, M.mul_assoc]
    rw [← M.mul_assoc b (M.pow a k) (M.pow b k)]
    rw [hc b (M.pow a k)]
    rw [M.mul_assoc]

end Monoid'

namespace Group'

variable {α : Type} (G : Group' α)

theorem mul_assoc' (a b c : α) : G.mul (G.mul a b) c = G.mul a (G.mul b c) := by
  exact G.mul_assoc a b c

theorem one_mul' (a : α) : G.mul G.one a = a := by
  exact G.one_mul a

theorem mul_one' (a : α) : G.mul a G.one = a := by
  exact G.mul_one a

theorem mul_left_cancel {a b c : α} (h : G.mul a b = G.mul a c) : b = c := by
  calc b = G.mul G.one b := (G.one_mul b).symm
    _ = G.mul (G.mul (G.inv a) a) b := by rw [G.inv_mul]
    _ = G.mul (G.inv a) (G.mul a b) := by rw [G.mul_assoc]
    _ = G.mul (G.inv a) (G.mul a c) := by rw [h]
    _ = G.mul (G.mul (G.inv a) a) c := by rw [G.mul_assoc]
    _ = G.mul G.one c := by rw [G.inv_mul]
    _ = c := G.one_mul c

/-- Capstone: a left inverse is also a right inverse. -/
theorem mul_inv (a : α) : G.mul a (G.inv a) = G.one := by
  apply mul_left_cancel G (a := G.inv a)
  rw [← G.mul_assoc]
  rw [G.inv_mul]
  rw [G.one_mul]
  rw [G.mul_one]

theorem mul_right_cancel {a b c : α} (h : G.mul b a = G.mul c a) : b = c := by
  have h1 : G.mul (G.mul b a) (G.inv a) = G.mul (G.mul c a) (G.inv a) := by
    rw [h]
  rw [G.mul_assoc, G.mul_assoc, mul_inv, G.mul_one, G.mul_one] at h1
  exact h1

theorem inv_unique_left {a b : α} (h : G.mul b a = G.one) : b = G.inv a := by
  apply mul_right_cancel G (a := a)
  rw [h, G.inv_mul]

theorem inv_unique_right {a b : α} (h : G.mul a b = G.one) : b = G.inv a := by
  apply mul_left_cancel G (a := a)
  rw [h, mul_inv]

theorem inv_inv (a : α) : G.inv (G.inv a) = a := by
  have h : G.mul a (G.inv a) = G.one := mul_inv G a
  have h2 := inv_unique_left G h
  exact h2.symm

theorem inv_one : G.inv G.one = G.one := by
  have h : G.mul G.one G.one = G.one := G.one_mul G.one
  have h2 := inv_unique_left G h
  exact h2.symm

theorem inv_mul_rev (a b : α) : G.inv (G.mul a b) = G.mul (G.inv b) (G.inv a) := by
  symm
  apply inv_unique_left G
  rw [G.mul_assoc]
  rw [← G.mul_assoc (G.inv a) a b]
  rw [G.inv_mul, G.one_mul, G.inv_mul]

theorem inv_injective {a b : α} (h : G.inv a = G.inv b) : a = b := by
  rw [← inv_inv G a, ← inv_inv G b, h]

theorem mul_inv_cancel_left (a b : α) : G.mul a (G.mul (G.inv a) b) = b := by
  rw [← G.mul_assoc, mul_inv, G.one_mul]

theorem inv_mul_cancel_left (a b : α) : G.mul (G.inv a) (G.mul a b) = b := by
  rw [← G.mul_assoc, G.inv_mul, G.one_mul]

theorem mul_inv_cancel_right (a b : α) : G.mul (G.mul a b) (G.inv b) = a := by
  rw [G.mul_assoc, mul_inv, G.mul_one]

theorem inv_mul_cancel_right (a b : α) : G.mul (G.mul a (G.inv b)) b = a := by
  rw [G.mul_assoc, G.inv_mul, G.mul_one]

theorem mul_eq_one_iff_eq_inv (a b : α) : G.mul a b = G.one ↔ a = G.inv b := by
  constructor
  · intro h
    exact inv_unique_left G h
  · intro h
    rw [h, G.inv_mul]

/-- Solving `a * x = b`. -/
theorem eq_inv_mul_of_mul_eq {a x b : α} (h : G.mul a x = b) : x = G.mul (G.inv a) b := by
  rw [← h]
  rw [inv_mul_cancel_left]

theorem mul_eq_of_eq_inv_mul {a x b : α} (h : x = G.mul (G.inv a) b) : G.mul a x = b := by
  rw [h]
  exact mul_inv_cancel_left G a b

theorem one_unique_group (e : α) (h : G.mul e e = e) : e = G.one := by
  have h1 : G.mul e e = G.mul e G.one := by
    rw [h, G.mul_one]
  exact mul_left_cancel G h1

/-- Conjugation by `g`. -/
def conj (g a : α) : α := G.mul (G.mul g a) (G.inv g)

theorem conj_one (g : α) : G.conj g G.one = G.one := by
  unfold conj
  rw [G.mul_one, mul_inv]

theorem conj_mul (g a b : α) :
    G.conj g (G.mul a b) = G.mul (G.conj g a) (G.conj g b) := by
  unfold conj
  simp only [G.mul_assoc]
  rw [inv_mul_cancel_left]

theorem conj_inv (g a : α) : G.conj g (G.inv a) = G.inv (G.conj g a) := by
  unfold conj
  rw [inv_mul_rev, inv_mul_rev, inv_inv]
  rw [G.mul_assoc]

theorem conj_conj_inv (g a : α) : G.conj (G.inv g) (G.conj g a) = a := by
  unfold conj
  rw [inv_inv]
  rw [G.mul_assoc, G.mul_assoc, G.inv_mul, G.mul_one]
  rw [← G.mul_assoc, G.inv_mul, G.one_mul]

end Group'

/-! ## Instances -/

noncomputable def natAddMonoid : Monoid' Nat where
  mul := fun a b => a + b
  one := 0
  mul_assoc := by
    intro a b c
    exact Nat.add_assoc a b c
  one_mul := by
    intro a
    exact Nat.zero_add a
  mul_one := by
    intro a
    exact Nat.add_zero a

noncomputable def natMulMonoid : Monoid' Nat where
  mul := fun a b => a * b
  one := 1
  mul_assoc := Nat.mul_assoc
  one_mul := Nat.one_mul
  mul_one := Nat.mul_one

noncomputable def listMonoid (α : Type) : Monoid' (MyList α) where
  mul := MyList.append
  one := MyList.nil
  mul_assoc := MyList.append_assoc
  one_mul := MyList.nil_append
  mul_one := MyList.append_nil

noncomputable def intAddGroup : Group' Int where
  mul := fun a b => a + b
  one := 0
  inv := fun a => -a
  mul_assoc := Int.add_assoc
  one_mul := Int.zero_add
  mul_one := Int.add_zero
  inv_mul := by
    intro a
    show -a + a = 0
    omega

theorem natAddMonoid_comm : natAddMonoid.IsComm := by
  intro a b
  show a + b = b + a
  omega

theorem natMulMonoid_comm : natMulMonoid.IsComm := by
  intro a b
  show a * b = b * a
  exact Nat.mul_comm a b

theorem natAdd_mconcat_eq_sum (xs : MyList Nat) : natAddMonoid.mconcat xs = MyList.sum xs := by
  induction xs with
  | nil => rfl
  | cons x xs ih =>
    rw [Monoid'.mconcat_cons, MyList.sum_cons, ← ih]
    rfl

theorem natAdd_pow_eq_mul (a n : Nat) : natAddMonoid.pow a n = n * a := by
  induction n with
  | zero =>
    show 0 = 0 * a
    omega
  | succ k ih =>
    rw [Monoid'.pow_succ, ih]
    show a + k * a = (k + 1) * a
    rw [Nat.succ_mul]
    omega

theorem natMul_pow_two (n : Nat) : natMulMonoid.pow 2 n = pow2 n := by
  induction n with
  | zero => rfl
  | succ k ih =>
    rw [Monoid'.pow_succ, ih]
    rfl

theorem listMonoid_mconcat_length (xss : MyList (MyList Nat)) :
    MyList.length ((listMonoid Nat).mconcat xss) =
      MyList.sum (MyList.map MyList.length xss) := by
  induction xss with
  | nil => rfl
  | cons xs xss ih =>
    rw [Monoid'.mconcat_cons, MyList.map_cons, MyList.sum_cons, ← ih]
    exact MyList.length_append xs _

theorem mconcat_reverse_sum (xs : MyList Nat) : MyList.sum (MyList.reverse xs) = MyList.sum xs := by
  rw [← natAdd_mconcat_eq_sum, ← natAdd_mconcat_eq_sum]
  exact Monoid'.mconcat_reverse natAddMonoid natAddMonoid_comm xs

theorem intAddGroup_inv_inv (a : Int) : -(-a) = a := by
  have h := Group'.inv_inv intAddGroup a
  exact h

end Dev
end
