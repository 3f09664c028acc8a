module
public import Dev.Basic
@[expose] public section

/-!
# Lists

Our own list type `Dev.MyList` with append, length, reverse, map, filter
and their basic algebraic laws.
-/

namespace Dev

inductive MyList (α : Type) where
  | nil : MyList α
  | cons : α → MyList α → MyList α

namespace MyList

variable {α β γ : Type}

def append : MyList α → MyList α → MyList α
  | nil, ys => ys
  | cons x xs, ys => cons x (append xs ys)

def length : MyList α → Nat
  | nil => 0
  | cons _ xs => length xs + 1

def reverse : MyList α → MyList α
  | nil => nil
  | cons x xs => append (reverse xs) (cons x nil)

def map (f : α → β) : MyList α → MyList β
  | nil => nil
  | cons x xs => cons (f x) (map f xs)

def filter (p : α → Bool) : MyList α → MyList α
  | nil => nil
  | cons x xs => if p x then cons x (filter p xs) else filter p xs

def singleton (a : α) : MyList α := cons a nil

def snoc (xs : MyList α) (a : α) : MyList α := append xs (cons a nil)

theorem nil_append (ys : MyList α) : append nil ys = ys := by
  rfl

theorem cons_append (x : α) (xs ys : MyList α) :
    append (cons x xs) ys = cons x (append xs ys) := by
  rfl

theorem append_nil (xs : MyList α) : append xs nil = xs := by
  induction xs with
  | nil => rfl
  | cons x xs ih =>
    rw [cons_append, ih]

theorem append_assoc (xs ys zs : MyList α) :
    append (append xs ys) zs = append xs (append ys zs) := by
  induction xs with
  | nil => rfl
  | cons x xs ih =>
    simp only [cons_append]
    rw [ih]

theorem length_nil : length (nil : MyList α) = 0 := by
  rfl

theorem length_cons (x : α) (xs : MyList α) :
    length (cons x xs) = length xs + 1 := by
  rfl

theorem length_append (xs ys : MyList α) :
    length (append xs ys) = length xs + length ys := by
  induction xs with
  | nil =>
    rw [nil_append, length_nil]
    omega
  | cons x xs ih =>
    rw [cons_append, length_cons, length_cons, ih]
    omega

theorem length_singleton (a : α) : length (singleton a) = 1 := by
  rfl

theorem length_snoc (xs : MyList α) (a : α) : length (snoc xs a) = length xs + 1 := by
  unfold snoc
  rw [length_append]
  rfl

theorem length_eq_zero_iff (xs : MyList α) : length xs = 0 ↔ xs = nil := by
  cases xs with
  | nil => simp [length]
  | cons x xs => simp [length]

theorem append_eq_nil_iff (xs ys : MyList α) :
    append xs ys = nil ↔ xs = nil ∧ ys = nil := by
  cases xs with
  | nil => simp [append]
  | cons x xs => simp [append]

theorem reverse_nil : reverse (nil : MyList α) = nil := by
  rfl

theorem reverse_cons (x : α) (xs : MyList α) :
    reverse (cons x xs) = append (reverse xs) (cons x nil) := by
  rfl

theorem reverse_singleton (a : α) : reverse (singleton a) = singleton a := by
  rfl

theorem length_reverse (xs : MyList α) : length (reverse xs) = length xs := by
  induction xs with
  | nil => rfl
  | cons x xs ih =>
    rw [reverse_cons, length_append, ih]
    rfl

theorem reverse_append (xs ys : MyList α) :
    reverse (append xs ys) = append (reverse ys) (reverse xs) := by
  induction xs with
  | nil =>
    rw [nil_append, reverse_nil, append_nil]
  | cons x xs ih =>
    rw [cons_append, reverse_cons, reverse_cons, ih]
    rw [append_assoc]

theorem reverse_snoc (xs : MyList α) (a : α) :
    reverse (snoc xs a) = cons a (reverse xs) := by
  unfold snoc
  rw [reverse_append]
  rfl

theorem map_nil (f : α → β) : map f nil = nil := by
  rfl

theorem map_cons (f : α → β) (x : α) (xs : MyList α) :
    map f (cons x xs) = cons (f x) (map f xs) := by
  rfl

theorem length_map (f : α → β) (xs : MyList α) : length (map f xs) = length xs := by
  induction xs with
  | nil => rfl
  | cons x xs ih =>
    rw [map_cons, length_cons, length_cons, ih]

theorem map_id' (xs : MyList α) : map (fun x => x) xs = xs := by
  induction xs with
  | nil => rfl
  | cons x xs ih =>
    rw [map_cons, ih]

theorem map_map (f : α → β) (g : β → γ) (xs : MyList α) :
    map g (map f xs) = map (fun x => g (f x)) xs := by
  induction xs with
  | nil => rfl
  | cons x xs ih =>
    simp only [map_cons]
    rw [ih]

theorem map_congr' {f g : α → β} (h : ∀ x, f x = g x) (xs : MyList α) :
    map f xs = map g xs := by
  induction xs with
  | nil => rfl
  | cons x xs ih =>
    rw [map_cons, map_cons, h x, ih]

theorem filter_nil (p : α → Bool) : filter p nil = nil := by
  rfl

theorem filter_cons_true {p : α → Bool} {x : α} (h : p x = true) (xs : MyList α) :
    filter p (cons x xs) = cons x (filter p xs) := by
  simp [filter, h]

theorem filter_cons_false {p : α → Bool} {x : α} (h : p x = false) (xs : MyList α) :
    filter p (cons x xs) = filter p xs := by
  simp [filter, h]

theorem length_filter_le (p : α → Bool) (xs : MyList α) :
    length (filter p xs) ≤ length xs := by
  induction xs with
  | nil => exact Nat.le_refl 0
  | cons x xs ih =>
    cases h : p x with
    | true =>
      rw [filter_cons_true h, length_cons, length_cons]
      omega
    | false =>
      rw [filter_cons_false h, length_cons]
      omega

theorem filter_append (p : α → Bool) (xs ys : MyList α) :
    filter p (append xs ys) = append (filter p xs) (filter p ys) := by
  induction xs with
  | nil => rfl
  | cons x xs ih =>
    cases h : p x with
    | true =>
      rw [cons_append, filter_cons_true h, filter_cons_true h, ih]
      rfl
    | false =>
      rw [cons_append, filter_cons_false h, filter_cons_false h, ih]

theorem filter_true (xs : MyList α) : filter (fun _ => true) xs = xs := by
  induction xs with
  | nil => rfl
  | cons x xs ih =>
    rw [filter_cons_true rfl, ih]

theorem filter_false (xs : MyList α) : filter (fun _ => false) xs = nil := by
  induction xs with
  | nil => rfl
  | cons x xs ih =>
    rw [filter_cons_false rfl, ih]

theorem filter_filter (p q : α → Bool) (xs : MyList α) :
    filter p (filter q xs) = filter (fun x => q x && p x) xs := by
  induction xs with
  | nil => rfl
  | cons x xs ih =>
    cases hq : q x with
    | true =>
      cases hp : p x with
      | true =>
        rw [filter_cons_true hq, filter_cons_true hp, ih]
        rw [filter_cons_true (by simp [hq, hp])]
      | false =>
        rw [filter_cons_true hq, filter_cons_false hp, ih]
        rw [filter_cons_false (by simp [hq, hp])]
    | false =>
      rw [filter_cons_false hq, ih]
      rw [filter_cons_false (by simp [hq])]

theorem map_append (f : α → β) (xs ys : MyList α) :
    map f (append xs ys) = append (map f xs) (map f ys) := by
  induction xs with
  | nil => rfl
  | cons x xs ih =>
    rw [cons_append, map_cons, map_cons, ih]
    rfl

theorem append_left_cancel (xs ys zs : MyList α) (h : append xs ys = append xs zs) :
    ys = zs := by
  induction xs with
  | nil => exact h
  | cons x xs ih =>
    apply ih
    simp only [cons_append] at h
    injection h

theorem cons_ne_nil (x : α) (xs : MyList α) : cons x xs ≠ nil := by
  intro h
  cases h

theorem snoc_ne_nil (xs : MyList α) (a : α) : snoc xs a ≠ nil := by
  intro h
  unfold snoc at h
  rw [append_eq_nil_iff] at h
  exact cons_ne_nil a nil h.2

end MyList
end Dev
end
