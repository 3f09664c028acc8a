module
public import Dev.ListMore
@[expose] public section

/-!
# Insertion sort

Sortedness and permutation as inductive predicates on `MyList`, and
insertion sort on `MyList Nat` proven to produce a sorted permutation of
its input.
-/

namespace Dev
namespace MyList

/-! ## Permutations -/

inductive Perm {α : Type} : MyList α → MyList α → Prop where
  | nil : Perm nil nil
  | cons (x : α) (l1 l2 : MyList α) : Perm l1 l2 → Perm (cons x l1) (cons x l2)
  | swap (x y : α) (l : MyList α) : Perm (cons y (cons x l)) (cons x (cons y l))
  | trans (l1 l2 l3 : MyList α) : Perm l1 l2 → Perm l2 l3 → Perm l1 l3

variable {α : Type}

theorem perm_refl (l : MyList α) : Perm l l := by
  induction l with
  | nil => exact Perm.nil
  | cons x xs ih => exact Perm.cons x xs xs ih

theorem perm_symm {l1 l2 : MyList α} (h : Perm l1 l2) : Perm l2 l1 := by
  induction h with
  | nil => exact Perm.nil
  | cons x l1 l2 _ ih => exact Perm.cons x l2 l1 ih
  | swap x y l => exact Perm.swap y x l
  | trans l1 l2 l3 _ _ ih1 ih2 => exact Perm.trans l3 l2 l1 ih2 ih1

theorem perm_trans {l1 l2 l3 : MyList α} (h1 : Perm l1 l2) (h2 : Perm l2 l3) :
    Perm l1 l3 := by
  exact Perm.trans l1 l2 l3 h1 h2

theorem perm_length {l1 l2 : MyList α} (h : Perm l1 l2) : length l1 = length l2 := by
  induction h with
  | nil => rfl
  | cons x l1 l2 _ ih =>
    rw [length_cons, length_cons, ih]
  | swap x y l => rfl
  | trans l1 l2 l3 _ _ ih1 ih2 =>
    rw [ih1, ih2]

theorem perm_mem {l1 l2 : MyList α} (h : Perm l1 l2) (a : α) : Mem a l1 ↔ Mem a l2 := by
  induction h with
  | nil => exact Iff.rfl
  | cons x l1 l2 _ ih =>
    rw [mem_cons, mem_cons, ih]
  | swap x y l =>
    rw [mem_cons, mem_cons, mem_cons, mem_cons]
    constructor
    · intro h
      rcases h with h | h | h
      · exact Or.inr (Or.inl h)
      · exact Or.inl h
      · exact Or.inr (Or.inr h)
    · intro h
      rcases h with h | h | h
      · exact Or.inr (Or.inl h)
      · exact Or.inl h
      · exact Or.inr (Or.inr h)
  | trans l1 l2 l3 _ _ ih1 ih2 =>
    rw [ih1, ih2]

theorem perm_nil_left {l : MyList α} (h : Perm nil l) : l = nil := by
  have hl := perm_length h
  rw [length_nil] at hl
  exact (length_eq_zero_iff l).mp hl.symm

theorem perm_append_right {l1 l2 : MyList α} (h : Perm l1 l2) (l3 : MyList α) :
    Perm (append l1 l3) (append l2 l3) := by
  induction h with
  | nil => exact perm_refl l3
  | cons x l1 l2 _ ih =>
    rw [cons_append, cons_append]
    exact Perm.cons x _ _ ih
  | swap x y l =>
    simp only [cons_append]
    exact Perm.swap x y (append l l3)
  | trans l1 l2 l4 _ _ ih1 ih2 =>
    exact perm_trans ih1 ih2

theorem perm_append_left (l1 : MyList α) {l2 l3 : MyList α} (h : Perm l2 l3) :
    Perm (append l1 l2) (append l1 l3) := by
  induction l1 with
  | nil => exact h
  | cons x xs ih =>
    rw [cons_append, cons_append]
    exact Perm.cons x _ _ ih

theorem perm_middle (a : α) (l1 l2 : MyList α) :
    Perm (append l1 (cons a l2)) (cons a (append l1 l2)) := by
  induction l1 with
  | nil => exact perm_refl _
  | cons b l1 ih =>
    rw [cons_append, cons_append]
    have h1 : Perm (cons b (append l1 (cons a l2))) (cons b (cons a (append l1 l2))) :=
      Perm.cons b _ _ ih
    have h2 : Perm (cons b (cons a (append l1 l2))) (cons a (cons b (append l1 l2))) :=
      Perm.swap a b _
    exact perm_trans h1 h2

theorem perm_append_comm (l1 l2 : MyList α) : Perm (append l1 l2) (append l2 l1) := by
  induction l1 with
  | nil =>
    rw [nil_append, append_nil]
    exact perm_refl l2
  | cons a l1 ih =>
    rw [cons_append]
    have h1 : Perm (cons a (append l1 l2)) (cons a (append l2 l1)) :=
      Perm.cons a _ _ ih
    have h2 : Perm (cons a (append l2 l1)) (append l2 (cons a l1)) :=
      perm_symm (perm_middle a l2 l1)
    exact perm_trans h1 h2

theorem perm_reverse (l : MyList α) : Perm (reverse l) l := by
  induction l with
  | nil => exact Perm.nil
  | cons a l ih =>
    rw [reverse_cons]
    have h1 : Perm (append (reverse l) (cons a nil)) (cons a (append (reverse l) nil)) :=
      perm_middle a (reverse l) nil
    rw [append_nil] at h1
    have h2 : Perm (cons a (reverse l)) (cons a l) := Perm.cons a _ _ ih
    exact perm_trans h1 h2

theorem perm_map {β : Type} (f : α → β) {l1 l2 : MyList α} (h : Perm l1 l2) :
    Perm (map f l1) (map f l2) := by
  induction h with
  | nil => exact Perm.nil
  | cons x l1 l2 _ ih =>
    rw [map_cons, map_cons]
    exact Perm.cons (f x) _ _ ih
  | swap x y l =>
    simp only [map_cons]
    exact Perm.swap (f x) (f y) (map f l)
  | trans l1 l2 l3 _ _ ih1 ih2 =>
    exact perm_trans ih1 ih2

theorem perm_sum {l1 l2 : MyList Nat} (h : Perm l1 l2) : sum l1 = sum l2 := by
  induction h with
  | nil => rfl
  | cons x l1 l2 _ ih =>
    rw [sum_cons, sum_cons, ih]
  | swap x y l =>
    simp only [sum_cons]
    omega
  | trans l1 l2 l3 _ _ ih1 ih2 =>
    rw [ih1, ih2]

/-! ## Counting occurrences -/

def count (a : Nat) : MyList Nat → Nat
  | nil => 0
  | cons x xs => if x = a then count a xs + 1 else count a xs

theorem count_append (a : Nat) (l1 l2 : MyList Nat) :
    count a (append l1 l2) = count a l1 + count a l2 := by
  induction l1 with
  | nil =>
    simp [count, append]
  | cons x xs ih =>
    rw [cons_append]
    by_cases hx : x = a
    · simp [count, hx, ih]
      omega
    · simp [count, hx, ih]

theorem perm_count {l1 l2 : MyList Nat} (h : Perm l1 l2) (a : Nat) :
    count a l1 = count a l2 := by
  induction h with
  | nil => rfl
  | cons x l1 l2 _ ih =>
    by_cases hx : x = a
    · simp [count, hx, ih]
    · simp [count, hx, ih]
  | swap x y l =>
    by_cases hx : x = a <;> by_cases hy : y = a <;> simp [count, hx, hy]
  | trans l1 l2 l3 _ _ ih1 ih2 =>
    rw [ih1, ih2]

theorem count_le_length (a : Nat) (l : MyList Nat) : count a l ≤ length l := by
  induction l with
  | nil => exact Nat.le_refl 0
  | cons x xs ih =>
    rw [length_cons]
    unfold count
    split <;> omega

/-! ## Sortedness -/

inductive Sorted : MyList Nat → Prop where
  | nil : Sorted nil
  | single (a : Nat) : Sorted (cons a nil)
  | cons2 (a b : Nat) (l : MyList Nat) : a ≤ b → Sorted (cons b l) → Sorted (cons a (cons b l))

theorem sorted_tail {a : Nat} {l : MyList Nat} (h : Sorted (cons a l)) : Sorted l := by
  cases h with
  | single => exact Sorted.nil
  | cons2 _ b l _ hs => exact hs

theorem sorted_cons_le (a : Nat) (l : MyList Nat) (h : Sorted (cons a l)) :
    ∀ x, Mem x l → a ≤ x := by
  induction l generalizing a with
  | nil =>
    intro x hx
    exact absurd hx (not_mem_nil x)
  | cons b l ih =>
    intro x hx
    cases h with
    | cons2 _ _ _ hab hs =>
      rw [mem_cons] at hx
      cases hx with
      | inl hxb =>
        omega
      | inr hxl =>
        have hbx := ih b hs x hxl
        omega

theorem sorted_of_cons_le (a : Nat) (l : MyList Nat) (hs : Sorted l)
    (h : ∀ x, Mem x l → a ≤ x) : Sorted (cons a l) := by
  cases l with
  | nil => exact Sorted.single a
  | cons b l =>
    apply Sorted.cons2
    · exact h b (mem_cons_self b l)
    · exact hs

theorem sorted_cons_iff (a : Nat) (l : MyList Nat) :
    Sorted (cons a l) ↔ Sorted l ∧ ∀ x, Mem x l → a ≤ x := by
  constructor
  · intro h
    exact ⟨sorted_tail h, sorted_cons_le a l h⟩
  · intro h
    exact sorted_of_cons_le a l h.1 h.2

/-! ## Insertion sort -/

def orderedInsert (a : Nat) : MyList Nat → MyList Nat
  | nil => cons a nil
  | cons b l => if a ≤ b then cons a (cons b l) else cons b (orderedInsert a l)

def insertionSort : MyList Nat → MyList Nat
  | nil => nil
  | cons a l => orderedInsert a (insertionSort l)

theorem orderedInsert_nil (a : Nat) : orderedInsert a nil = cons a nil := by
  rfl

theorem orderedInsert_cons_le {a b : Nat} (h : a ≤ b) (l : MyList Nat) :
    orderedInsert a (cons b l) = cons a (cons b l) := by
  simp [orderedInsert, h]

theorem orderedInsert_cons_gt {a b : Nat} (h : ¬ a ≤ b) (l : MyList Nat) :
    orderedInsert a (cons b l) = cons b (orderedInsert a l) := by
  simp [orderedInsert, h]

theorem insertionSort_cons (a : Nat) (l : MyList Nat) :
    insertionSort (cons a l) = orderedInsert a (insertionSort l) := by
  rfl

theorem length_orderedInsert (a : Nat) (l : MyList Nat) :
    length (orderedInsert a l) = length l + 1 := by
  induction l with
  | nil => rfl
  | cons b l ih =>
    by_cases hab : a ≤ b
    · rw [orderedInsert_cons_le hab]
      rfl
    · rw [orderedInsert_cons_gt hab, length_cons, length_cons, ih]

theorem perm_orderedInsert (a : Nat) (l : MyList Nat) :
    Perm (orderedInsert a l) (cons a l) := by
  induction l with
  | nil => exact perm_refl _
  | cons b l ih =>
    by_cases hab : a ≤ b
    · rw [orderedInsert_cons_le hab]
      exact perm_refl _
    · rw [orderedInsert_cons_gt hab]
      have h1 : Perm (cons b (orderedInsert a l)) (cons b (cons a l)) :=
        Perm.cons b _ _ ih
      have h2 : Perm (cons b (cons a l)) (cons a (cons b l)) :=
        Perm.swap a b l
      exact perm_trans h1 h2

theorem mem_orderedInsert (x a : Nat) (l : MyList Nat) :
    Mem x (orderedInsert a l) ↔ x = a ∨ Mem x l := by
  rw [perm_mem (perm_orderedInsert a l) x]
  rw [mem_cons]

theorem sorted_orderedInsert (a : Nat) (l : MyList Nat) (h : Sorted l) :
    Sorted (orderedInsert a l) := by
  induction h with
  | nil =>
    exact Sorted.single a
  | single b =>
    by_cases hab : a ≤ b
    · rw [orderedInsert_cons_le hab]
      exact Sorted.cons2 a b nil hab (Sorted.single b)
    · rw [orderedInsert_cons_gt hab, orderedInsert_nil]
      exact Sorted.cons2 b a nil (by omega) (Sorted.single a)
  | cons2 b c l hbc hs ih =>
    by_cases hab : a ≤ b
    · rw [orderedInsert_cons_le hab]
      exact Sorted.cons2 a b (cons c l) hab (Sorted.cons2 b c l hbc hs)
    · rw [orderedInsert_cons_gt hab]
      by_cases hac : a ≤ c
      · rw [orderedInsert_cons_le hac] at ih ⊢
        exact Sorted.cons2 b a (cons c l) (by omega) ih
      · rw [orderedInsert_cons_gt hac] at ih ⊢
        exact Sorted.cons2 b c (orderedInsert a l) hbc ih

theorem insertionSort_sorted (l : MyList Nat) : Sorted (insertionSort l) := by
  induction l with
  | nil => exact Sorted.nil
  | cons a l ih =>
    rw [insertionSort_cons]
    exact sorted_orderedInsert a (insertionSort l) ih

theorem insertionSort_perm (l : MyList Nat) : Perm (insertionSort l) l := by
  induction l with
  | nil => exact Perm.nil
  | cons a l ih =>
    rw [insertionSort_cons]
    have h1 : Perm (orderedInsert a (insertionSort l)) (cons a (insertionSort l)) :=
      perm_orderedInsert a (insertionSort l)
    have h2 : Perm (cons a (insertionSort l)) (cons a l) :=
      Perm.cons a _ _ ih
    exact perm_trans h1 h2

theorem length_insertionSort (l : MyList Nat) : length (insertionSort l) = length l := by
  exact perm_length (insertionSort_perm l)

theorem mem_insertionSort (x : Nat) (l : MyList Nat) :
    Mem x (insertionSort l) ↔ Mem x l := by
  exact perm_mem (insertionSort_perm l) x

theorem sum_insertionSort (l : MyList Nat) : sum (insertionSort l) = sum l := by
  exact perm_sum (insertionSort_perm l)

theorem orderedInsert_of_sorted_cons (a : Nat) (l : MyList Nat) (h : Sorted (cons a l)) :
    orderedInsert a l = cons a l := by
  cases l with
  | nil => rfl
  | cons b l =>
    cases h with
    | cons2 _ _ _ hab _ =>
      rw [orderedInsert_cons_le hab]

theorem insertionSort_of_sorted (l : MyList Nat) (h : Sorted l) : insertionSort l = l := by
  induction l with
  | nil => rfl
  | cons a l ih =>
    rw [insertionSort_cons]
    rw [ih (sorted_tail h)]
    exact orderedInsert_of_sorted_cons a l h

theorem insertionSort_idem (l : MyList Nat) :
    insertionSort (insertionSort l) = insertionSort l := by
  exact insertionSort_of_sorted (insertionSort l) (insertionSort_sorted l)

/-- Capstone: insertion sort returns a sorted permutation of its input,
which contains exactly the same elements with the same multiplicities. -/
theorem insertionSort_correct (l : MyList Nat) :
    Sorted (insertionSort l) ∧ Perm (insertionSort l) l ∧
      (∀ a, count a (insertionSort l) = count a l) ∧
      length (insertionSort l) = length l := by
  have hs : Sorted (insertionSort l) := insertionSort_sorted l
  have hp : Perm (insertionSort l) l := insertionSort_perm l
  have hc : ∀ a, count a (insertionSort l) = count a l := by
    intro a
    exact perm_count hp a
  have hl : length (insertionSort l) = length l := by
    exact perm_length hp
  constructor
  · exact hs
  constructor
  · exact hp
  constructor
  · exact hc
  · exact hl

/-- The head of a sorted result is a lower bound for the whole input. -/
theorem insertionSort_head_le (a : Nat) (rest l : MyList Nat)
    (h : insertionSort l = cons a rest) : ∀ x, Mem x l → a ≤ x := by
  intro x hx
  have hs := insertionSort_sorted l
  rw [h] at hs
  have hm : Mem x (insertionSort l) := (mem_insertionSort x l).mpr hx
  rw [h] at hm
  rw [mem_cons] at hm
  cases hm with
  | inl hxa =>
    rw [hxa]
    exact Nat.le_refl a
  | inr hxr =>
    exact sorted_cons_le a rest hs x hxr

end MyList
end Dev
end
