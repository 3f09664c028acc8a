module
public import Dev.Tree
@[expose] public section

/-!
# Binary search trees

The BST invariant on `Tree Nat`, insertion and lookup, with proofs that
insertion preserves the invariant and that lookup is correct on BSTs.
-/

namespace Dev
namespace Tree

open MyList

variable {α : Type}

/-- Every element of the tree satisfies `P`. -/
def ForallT (P : α → Prop) : Tree α → Prop
  | leaf => True
  | node l v r => ForallT P l ∧ P v ∧ ForallT P r

inductive BST : Tree Nat → Prop where
  | leaf : BST leaf
  | node (l : Tree Nat) (v : Nat) (r : Tree Nat) :
      ForallT (fun x => x < v) l → ForallT (fun x => v < x) r →
      BST l → BST r → BST (node l v r)

def insert (x : Nat) : Tree Nat → Tree Nat
  | leaf => node leaf x leaf
  | node l v r =>
    if x < v then node (insert x l) v r
    else if v < x then node l v (insert x r)
    else node l v r

def contains (x : Nat) : Tree Nat → Bool
  | leaf => false
  | node l v r =>
    if x < v then contains x l
    else if v < x then contains x r
    else true

def fromList : MyList Nat → Tree Nat
  | MyList.nil => leaf
  | MyList.cons x xs => insert x (fromList xs)

theorem forallT_node (P : α → Prop) (l : Tree α) (v : α) (r : Tree α) :
    ForallT P (node l v r) ↔ ForallT P l ∧ P v ∧ ForallT P r := by
  rfl

theorem forallT_iff (P : α → Prop) (t : Tree α) :
    ForallT P t ↔ ∀ x, TMem x t → P x := by
  induction t with
  | leaf =>
    constructor
    · intro _ x hx
      exact absurd hx (not_tmem_leaf x)
    · intro _
      trivial
  | node l v r ihl ihr =>
    rw [forallT_node, ihl, ihr]
    constructor
    · intro h x hx
      rw [tmem_node] at hx
      rcases hx with hx | hx | hx
      · exact h.1 x hx
      · rw [hx]
        exact h.2.1
      · exact h.2.2 x hx
    · intro h
      refine ⟨?_, ?_, ?_⟩
      · intro x hx
        exact h x (Or.inl hx)
      · exact h v (Or.inr (Or.inl rfl))
      · intro x hx
        exact h x (Or.inr (Or.inr hx))

theorem forallT_imp {P Q : α → Prop} (hpq : ∀ x, P x → Q x) (t : Tree α)
    (h : ForallT P t) : ForallT Q t := by
  induction t with
  | leaf => trivial
  | node l v r ihl ihr =>
    obtain ⟨hl, hv, hr⟩ := h
    exact ⟨ihl hl, hpq v hv, ihr hr⟩

theorem forallT_mirror (P : α → Prop) (t : Tree α) :
    ForallT P (mirror t) ↔ ForallT P t := by
  rw [forallT_iff, forallT_iff]
  constructor
  · intro h x hx
    exact h x ((tmem_mirror x t).mpr hx)
  · intro h x hx
    exact h x ((tmem_mirror x t).mp hx)

theorem insert_leaf (x : Nat) : insert x leaf = node leaf x leaf := by
  rfl

theorem insert_lt {x v : Nat} (h : x < v) (l r : Tree Nat) :
    insert x (node l v r) = node (insert x l) v r := by
  simp [insert, h]

theorem insert_gt {x v : Nat} (h : v < x) (l r : Tree Nat) :
    insert x (node l v r) = node l v (insert x r) := by
  have h2 : ¬ x < v := by omega
  simp [insert, h, h2]

theorem insert_eq {x v : Nat} (h : x = v) (l r : Tree Nat) :
    insert x (node l v r) = node l v r := by
  subst h
  simp [insert]

theorem forallT_insert (P : Nat → Prop) (x : Nat) (t : Tree Nat)
    (ht : ForallT P t) (hx : P x) : ForallT P (insert x t) := by
  induction t with
  | leaf =>
    exact ⟨trivial, hx, trivial⟩
  | node l v r ihl ihr =>
    obtain ⟨hl, hv, hr⟩ := ht
    by_cases h1 : x < v
    · rw [insert_lt h1]
      exact ⟨ihl hl, hv, hr⟩
    · by_cases h2 : v < x
      · rw [insert_gt h2]
        exact ⟨hl, hv, ihr hr⟩
      · rw [insert_eq (by omega)]
        exact ⟨hl, hv, hr⟩

/-- Capstone: insertion preserves the search-tree invariant. -/
theorem bst_insert (x : Nat) (t : Tree Nat) (h : BST t) : BST (insert x t) := by
  induction h with
  | leaf =>
    rw [insert_leaf]
    exact BST.node leaf x leaf trivial trivial BST.leaf BST.leaf
  | node l v r hl hr bl br ihl ihr =>
    by_cases h1 : x < v
    · rw [insert_lt h1]
      apply BST.node
      · exact forallT_insert _ x l hl h1
      · exact hr
      · exact ihl
      · exact br
    · by_cases h2 : v < x
      · rw [insert_gt h2]
        apply BST.node
        · exact hl
        · exact forallT_insert _ x r hr h2
        · exact bl
        · exact ihr
      · rw [insert_eq (by omega)]
        exact BST.node l v r hl hr bl br

theorem tmem_insert (y x : Nat) (t : Tree Nat) :
    TMem y (insert x t) ↔ y = x ∨ TMem y t := by
  induction t with
  | leaf =>
    rw [insert_leaf, tmem_node]
    constructor
    · intro h
      rcases h with h | h | h
      · exact absurd h (not_tmem_leaf y)
      · exact Or.inl h
      · exact absurd h (not_tmem_leaf y)
    · intro h
      rcases h with h | h
      · exact Or.inr (Or.inl h)
      · exact absurd h (not_tmem_leaf y)
  | node l v r ihl ihr =>
    by_cases h1 : x < v
    · rw [insert_lt h1, tmem_node, tmem_node, ihl]
      constructor
      · intro h
        rcases h with (h | h) | h | h
        · exact Or.inl h
        · exact Or.inr (Or.inl h)
        · exact Or.inr (Or.inr (Or.inl h))
        · exact Or.inr (Or.inr (Or.inr h))
      · intro h
        rcases h with h | h | h | h
        · exact Or.inl (Or.inl h)
        · exact Or.inl (Or.inr h)
        · exact Or.inr (Or.inl h)
        · exact Or.inr (Or.inr h)
    · by_cases h2 : v < x
      · rw [insert_gt h2, tmem_node, tmem_node, ihr]
        constructor
        · intro h
          rcases h with h | h | h | h
          · exact Or.inr (Or.inl h)
          · exact Or.inr (Or.inr (Or.inl h))
          · exact Or.inl h
          · exact Or.inr (Or.inr (Or.inr h))
        · intro h
          rcases h with h | h | h | h
          · exact Or.inr (Or.inr (Or.inl h))
          · exact Or.inl h
          · exact Or.inr (Or.inl h)
          · exact Or.inr (Or.inr (Or.inr h))
      · have hxv : x = v := by omega
        rw [insert_eq hxv, tmem_node]
        constructor
        · intro h
          exact Or.inr h
        · intro h
          rcases h with h | h | h | h
          · exact Or.inr (Or.inl (h.trans hxv))
          · exact Or.inl h
          · exact Or.inr (Or.inl h)
          · exact Or.inr (Or.inr h)

theorem tmem_insert_self (x : Nat) (t : Tree Nat) : TMem x (insert x t) := by
  rw [tmem_insert]
  exact Or.inl rfl

theorem size_insert_le (x : Nat) (t : Tree Nat) : size (insert x t) ≤ size t + 1 := by
  induction t with
  | leaf =>
    rw [insert_leaf]
    exact Nat.le_refl _
  | node l v r ihl ihr =>
    by_cases h1 : x < v
    · rw [insert_lt h1, size_node, size_node]
      omega
    · by_cases h2 : v < x
      · rw [insert_gt h2, size_node, size_node]
        omega
      · rw [insert_eq (by omega)]
        omega

theorem contains_lt {x v : Nat} (h : x < v) (l r : Tree Nat) :
    contains x (node l v r) = contains x l := by
  simp [contains, h]

theorem contains_gt {x v : Nat} (h : v < x) (l r : Tree Nat) :
    contains x (node l v r) = contains x r := by
  have h2 : ¬ x < v := by omega
  simp [contains, h, h2]

theorem contains_eq {x v : Nat} (h : x = v) (l r : Tree Nat) :
    contains x (node l v r) = true := by
  subst h
  simp [contains]

theorem contains_sound (x : Nat) (t : Tree Nat) (h : contains x t = true) : TMem x t := by
  induction t with
  | leaf =>
    simp [contains] at h
  | node l v r ihl ihr =>
    by_cases h1 : x < v
    · rw [contains_lt h1] at h
      exact Or.inl (ihl h)
    · by_cases h2 : v < x
      · rw [contains_gt h2] at h
        exact Or.inr (Or.inr (ihr h))
      · exact Or.inr (Or.inl (by omega))

/-- Capstone: on a search tree, `contains` decides membership. -/
theorem contains_iff (x : Nat) (t : Tree Nat) (hb : BST t) :
    contains x t = true ↔ TMem x t := by
  constructor
  · exact contains_sound x t
  · intro hm
    induction hb with
    | leaf => exact absurd hm (not_tmem_leaf x)
    | node l v r hl hr bl br ihl ihr =>
      rw [tmem_node] at hm
      have hl' := (forallT_iff _ l).mp hl
      have hr' := (forallT_iff _ r).mp hr
      rcases hm with hm | hm | hm
      · have hxv : x < v := hl' x hm
        rw [contains_lt hxv]
        exact ihl hm
      · exact contains_eq hm l r
      · have hvx : v < x := hr' x hm
        rw [contains_gt hvx]
        exact ihr hm

theorem bst_fromList (xs : MyList Nat) : BST (fromList xs) := by
  induction xs with
  | nil => exact BST.leaf
  | cons x xs ih =>
    exact bst_insert x (fromList xs) ih

theorem tmem_fromList (y : Nat) (xs : MyList Nat) : TMem y (fromList xs) ↔ Mem y xs := by
  induction xs with
  | nil =>
    constructor
    · intro h
      exact absurd h (not_tmem_leaf y)
    · intro h
      exact absurd h (not_mem_nil y)
  | cons x xs ih =>
    show TMem y (insert x (fromList xs)) ↔ _
    rw [tmem_insert, ih, mem_cons]

theorem contains_fromList (y : Nat) (xs : MyList Nat) :
    contains y (fromList xs) = true ↔ Mem y xs := by
  rw [contains_iff y (fromList xs) (bst_fromList xs)]
  exact tmem_fromList y xs

theorem size_fromList_le (xs : MyList Nat) : size (fromList xs) ≤ length xs := by
  induction xs with
  | nil => exact Nat.le_refl 0
  | cons x xs ih =>
    show size (insert x (fromList xs)) ≤ _
    have h := size_insert_le x (fromList xs)
    rw [length_cons]
    omega

end Tree
end Dev
end
