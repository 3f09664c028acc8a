module
public import Dev.List
@[expose] public section

/-!
# More on lists

Double reversal, folds, membership, sums, `take`/`drop` and a
tail-recursive reverse proven equal to the naive one.
-/

namespace Dev
namespace MyList

variable {α β : Type}

theorem reverse_reverse (xs : MyList α) : reverse (reverse xs) = xs := by
  induction xs with
  | nil => rfl
  | cons x xs ih =>
    rw [reverse_cons, reverse_append, ih]
    rfl

theorem reverse_injective (xs ys : MyList α) (h : reverse xs = reverse ys) : xs = ys := by
  have h2 : reverse (reverse xs) = reverse (reverse ys) := by
    rw [h]
  rw [reverse_reverse, reverse_reverse] at h2
  exact h2

theorem map_reverse (f : α → β) (xs : MyList α) :
    map f (reverse xs) = reverse (map f xs) := by
  induction xs with
  | nil => rfl
  | cons x xs ih =>
    rw [reverse_cons, map_append, ih, map_cons f x xs, reverse_cons]
    rfl

/-! ## Folds -/

def foldr (f : α → β → β) (b : β) : MyList α → β
  | nil => b
  | cons x xs => f x (foldr f b xs)

def foldl (f : β → α → β) : β → MyList α → β
  | b, nil => b
  | b, cons x xs => foldl f (f b x) xs

theorem foldr_nil (f : α → β → β) (b : β) : foldr f b nil = b := by
  rfl

theorem foldr_cons (f : α → β → β) (b : β) (x : α) (xs : MyList α) :
    foldr f b (cons x xs) = f x (foldr f b xs) := by
  rfl

theorem foldr_append (f : α → β → β) (b : β) (xs ys : MyList α) :
    foldr f b (append xs ys) = foldr f (foldr f b ys) xs := by
  induction xs with
  | nil => rfl
  | cons x xs ih =>
    rw [cons_append, foldr_cons, foldr_cons, ih]

theorem foldl_append (f : β → α → β) (b : β) (xs ys : MyList α) :
    foldl f b (append xs ys) = foldl f (foldl f b xs) ys := by
  induction xs generalizing b with
  | nil => rfl
  | cons x xs ih =>
    rw [cons_append]
    simp only [foldl]
    rw [ih]

theorem foldl_eq_foldr_reverse (f : β → α → β) (b : β) (xs : MyList α) :
    foldl f b xs = foldr (fun x acc => f acc x) b (reverse xs) := by
  induction xs generalizing b with
  | nil => rfl
  | cons x xs ih =>
    rw [reverse_cons, foldr_append]
    simp only [foldl, foldr]
    rw [ih]

theorem foldr_cons_nil (xs : MyList α) : foldr cons nil xs = xs := by
  induction xs with
  | nil => rfl
  | cons x xs ih =>
    rw [foldr_cons, ih]

theorem length_eq_foldr (xs : MyList α) :
    length xs = foldr (fun _ n => n + 1) 0 xs := by
  induction xs with
  | nil => rfl
  | cons x xs ih =>
    rw [length_cons, foldr_cons, ih]

/-! ## Sums -/

def sum : MyList Nat → Nat
  | nil => 0
  | cons x xs => x + sum xs

theorem sum_nil : sum nil = 0 := by
  rfl

theorem sum_cons (x : Nat) (xs : MyList Nat) : sum (cons x xs) = x + sum xs := by
  rfl

theorem sum_append (xs ys : MyList Nat) : sum (append xs ys) = sum xs + sum ys := by
  induction xs with
  | nil =>
    rw [nil_append, sum_nil]
    omega
  | cons x xs ih =>
    rw [cons_append, sum_cons, sum_cons, ih]
    omega

theorem sum_reverse (xs : MyList Nat) : sum (reverse xs) = sum xs := by
  induction xs with
  | nil => rfl
  | cons x xs ih =>
    rw [reverse_cons, sum_append, ih, sum_cons, sum_cons, sum_nil]
    omega

theorem sum_eq_foldr (xs : MyList Nat) : sum xs = foldr (fun x acc => x + acc) 0 xs := by
  induction xs with
  | nil => rfl
  | cons x xs ih =>
    rw [sum_cons, foldr_cons, ih]

theorem sum_map_const_one (xs : MyList α) : sum (map (fun _ => 1) xs) = length xs := by
  induction xs with
  | nil => rfl
  | cons x xs ih =>
    rw [map_cons, sum_cons, ih, length_cons]
    omega

theorem sum_map_double (xs : MyList Nat) : sum (map double xs) = 2 * sum xs := by
  induction xs with
  | nil => rfl
  | cons x xs ih =>
    rw [map_cons, sum_cons, sum_cons, ih, double_eq]
    omega

/-! ## Membership -/

def Mem (a : α) : MyList α → Prop
  | nil => False
  | cons x xs => a = x ∨ Mem a xs

theorem not_mem_nil (a : α) : ¬ Mem a nil := by
  intro h
  exact h

theorem mem_cons (a x : α) (xs : MyList α) : Mem a (cons x xs) ↔ a = x ∨ Mem a xs := by
  rfl

theorem mem_cons_self (a : α) (xs : MyList α) : Mem a (cons a xs) := by
  rw [mem_cons]
  left
  rfl

theorem mem_cons_of_mem (a x : α) (xs : MyList α) (h : Mem a xs) : Mem a (cons x xs) := by
  rw [mem_cons]
  right
  exact h

theorem mem_append (a : α) (xs ys : MyList α) :
    Mem a (append xs ys) ↔ Mem a xs ∨ Mem a ys := by
  induction xs with
  | nil =>
    rw [nil_append]
    constructor
    · intro h
      exact Or.inr h
    · intro h
      cases h with
      | inl h => exact absurd h (not_mem_nil a)
      | inr h => exact h
  | cons x xs ih =>
    rw [cons_append, mem_cons, mem_cons, ih]
    constructor
    · intro h
      rcases h with h | h | h
      · exact Or.inl (Or.inl h)
      · exact Or.inl (Or.inr h)
      · exact Or.inr h
    · intro h
      rcases h with (h | h) | h
      · exact Or.inl h
      · exact Or.inr (Or.inl h)
      · exact Or.inr (Or.inr h)

theorem mem_append_left (a : α) (xs ys : MyList α) (h : Mem a xs) : Mem a (append xs ys) := by
  rw [mem_append]
  exact Or.inl h

theorem mem_append_right (a : α) (xs ys : MyList α) (h : Mem a ys) : Mem a (append xs ys) := by
  rw [mem_append]
  exact Or.inr h

theorem mem_reverse (a : α) (xs : MyList α) : Mem a (reverse xs) ↔ Mem a xs := by
  induction xs with
  | nil => exact Iff.rfl
  | cons x xs ih =>
    rw [reverse_cons, mem_append, ih, mem_cons, mem_cons]
    constructor
    · intro h
      rcases h with h | h | h
      · exact Or.inr h
      · exact Or.inl h
      · exact absurd h (not_mem_nil a)
    · intro h
      rcases h with h | h
      · exact Or.inr (Or.inl h)
      · exact Or.inl h

theorem mem_map_of_mem (f : α → β) (a : α) (xs : MyList α) (h : Mem a xs) :
    Mem (f a) (map f xs) := by
  induction xs with
  | nil => exact absurd h (not_mem_nil a)
  | cons x xs ih =>
    rw [map_cons, mem_cons]
    rw [mem_cons] at h
    cases h with
    | inl h =>
      left
      rw [h]
    | inr h =>
      right
      exact ih h

theorem exists_of_mem_map (f : α → β) (b : β) (xs : MyList α) (h : Mem b (map f xs)) :
    ∃ a, Mem a xs ∧ f a = b := by
  induction xs with
  | nil => exact absurd h (not_mem_nil b)
  | cons x xs ih =>
    rw [map_cons, mem_cons] at h
    cases h with
    | inl h =>
      exact ⟨x, mem_cons_self x xs, h.symm⟩
    | inr h =>
      obtain ⟨a, ha, hfa⟩ := ih h
      exact ⟨a, mem_cons_of_mem a x xs ha, hfa⟩

theorem mem_filter (p : α → Bool) (a : α) (xs : MyList α) :
    Mem a (filter p xs) ↔ Mem a xs ∧ p a = true := by
  induction xs with
  | nil =>
    simp [filter, Mem]
  | cons x xs ih =>
    cases hp : p x with
    | true =>
      rw [filter_cons_true hp, mem_cons, mem_cons, ih]
      constructor
      · intro h
        rcases h with h | ⟨h1, h2⟩
        · subst h
          exact ⟨Or.inl rfl, hp⟩
        · exact ⟨Or.inr h1, h2⟩
      · intro h
        rcases h with ⟨h | h, h2⟩
        · exact Or.inl h
        · exact Or.inr ⟨h, h2⟩
    | false =>
      rw [filter_cons_false hp, mem_cons, ih]
      constructor
      · intro h
        exact ⟨Or.inr h.1, h.2⟩
      · intro h
        rcases h with ⟨h | h, h2⟩
        · subst h
          rw [hp] at h2
          cases h2
        · exact ⟨h, h2⟩

theorem mem_singleton (a b : α) : Mem a (singleton b) ↔ a = b := by
  unfold singleton
  rw [mem_cons]
  constructor
  · intro h
    cases h with
    | inl h => exact h
    | inr h => exact absurd h (not_mem_nil a)
  · intro h
    exact Or.inl h

theorem length_pos_of_mem (a : α) (xs : MyList α) (h : Mem a xs) : 0 < length xs := by
  cases xs with
  | nil => exact absurd h (not_mem_nil a)
  | cons x xs =>
    rw [length_cons]
    omega

/-! ## All -/

def All (P : α → Prop) : MyList α → Prop
  | nil => True
  | cons x xs => P x ∧ All P xs

theorem all_iff_forall_mem (P : α → Prop) (xs : MyList α) :
    All P xs ↔ ∀ a, Mem a xs → P a := by
  induction xs with
  | nil =>
    constructor
    · intro _ a ha
      exact absurd ha (not_mem_nil a)
    · intro _
      trivial
  | cons x xs ih =>
    show (P x ∧ All P xs) ↔ _
    rw [ih]
    constructor
    · intro h a ha
      rw [mem_cons] at ha
      cases ha with
      | inl hx =>
        rw [hx]
        exact h.1
      | inr hm => exact h.2 a hm
    · intro h
      constructor
      · exact h x (mem_cons_self x xs)
      · intro a ha
        exact h a (mem_cons_of_mem a x xs ha)

theorem all_append (P : α → Prop) (xs ys : MyList α) :
    All P (append xs ys) ↔ All P xs ∧ All P ys := by
  rw [all_iff_forall_mem, all_iff_forall_mem, all_iff_forall_mem]
  constructor
  · intro h
    constructor
    · intro a ha
      exact h a (mem_append_left a xs ys ha)
    · intro a ha
      exact h a (mem_append_right a xs ys ha)
  · intro h a ha
    rw [mem_append] at ha
    cases ha with
    | inl hx => exact h.1 a hx
    | inr hy => exact h.2 a hy

/-! ## take and drop -/

def take : Nat → MyList α → MyList α
  | 0, _ => nil
  | _ + 1, nil => nil
  | n + 1, cons x xs => cons x (take n xs)

def drop : Nat → MyList α → MyList α
  | 0, xs => xs
  | _ + 1, nil => nil
  | n + 1, cons _ xs => drop n xs

theorem take_append_drop (n : Nat) (xs : MyList α) :
    append (take n xs) (drop n xs) = xs := by
  induction n generalizing xs with
  | zero => rfl
  | succ k ih =>
    cases xs with
    | nil => rfl
    | cons x xs =>
      simp only [take, drop, cons_append]
      rw [ih]

theorem length_take_le (n : Nat) (xs : MyList α) : length (take n xs) ≤ n := by
  induction n generalizing xs with
  | zero => exact Nat.le_refl 0
  | succ k ih =>
    cases xs with
    | nil => exact Nat.zero_le _
    | cons x xs =>
      simp only [take, length_cons]
      have := ih xs
      omega

theorem length_drop (n : Nat) (xs : MyList α) : length (drop n xs) = length xs - n := by
  induction n generalizing xs with
  | zero => rfl
  | succ k ih =>
    cases xs with
    | nil =>
      simp [drop, length]
    | cons x xs =>
      simp only [drop, length_cons]
      rw [ih]
      omega

theorem drop_length (xs : MyList α) : drop (length xs) xs = nil := by
  induction xs with
  | nil => rfl
  | cons x xs ih =>
    rw [length_cons]
    exact ih

theorem take_length (xs : MyList α) : take (length xs) xs = xs := by
  induction xs with
  | nil => rfl
  | cons x xs ih =>
    rw [length_cons]
    simp only [take]
    rw [ih]

/-! ## Tail-recursive reverse -/

def revAux : MyList α → MyList α → MyList α
  | nil, acc => acc
  | cons x xs, acc => revAux xs (cons x acc)

def fastReverse (xs : MyList α) : MyList α := revAux xs nil

theorem revAux_eq (xs acc : MyList α) : revAux xs acc = append (reverse xs) acc := by
  induction xs generalizing acc with
  | nil => rfl
  | cons x xs ih =>
    simp only [revAux]
    rw [ih, reverse_cons, append_assoc]
    rfl

theorem fastReverse_eq_reverse (xs : MyList α) : fastReverse xs = reverse xs := by
  unfold fastReverse
  rw [revAux_eq, append_nil]

theorem fastReverse_involutive (xs : MyList α) : fastReverse (fastReverse xs) = xs := by
  rw [fastReverse_eq_reverse, fastReverse_eq_reverse, reverse_reverse]

end MyList
end Dev
end
