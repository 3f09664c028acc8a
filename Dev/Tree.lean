module
public import Dev.ListMore
@[expose] public section

/-!
# Binary trees

Binary trees with size, height, mirror, map and in-order flattening into
`MyList`, with the laws relating them.
-/

namespace Dev

inductive Tree (α : Type) where
  | leaf : Tree α
  | node : Tree α → α → Tree α → Tree α

namespace Tree

open MyList

variable {α β γ : Type}

def size : Tree α → Nat
  | leaf => 0
  | node l _ r => size l + size r + 1

def leaves : Tree α → Nat
  | leaf => 1
  | node l _ r => leaves l + leaves r

def height : Tree α → Nat
  | leaf => 0
  | node l _ r => max' (height l) (height r) + 1

def mirror : Tree α → Tree α
  | leaf => leaf
  | node l v r => node (mirror r) v (mirror l)

def map (f : α → β) : Tree α → Tree β
  | leaf => leaf
  | node l v r => node (map f l) (f v) (map f r)

noncomputable def flatten : Tree α → MyList α
  | leaf => MyList.nil
  | node l v r => MyList.append (flatten l) (MyList.cons v (flatten r))

def sumTree : Tree Nat → Nat
  | leaf => 0
  | node l v r => sumTree l + v + sumTree r

theorem size_leaf : size (leaf : Tree α) = 0 := by
  rfl

theorem size_node (l : Tree α) (v : α) (r : Tree α) :
    size (node l v r) = size l + size r + 1 := by
  rfl

theorem mirror_node (l : Tree α) (v : α) (r : Tree α) :
    mirror (node l v r) = node (mirror r) v (mirror l) := by
  rfl

theorem flatten_node (l : Tree α) (v : α) (r : Tree α) :
    flatten (node l v r) = append (flatten l) (cons v (flatten r)) := by
  rfl

theorem mirror_mirror (t : Tree α) : mirror (mirror t) = t := by
  induction t with
  | leaf => rfl
  | node l v r ihl ihr =>
    rw [mirror_node, mirror_node, ihl, ihr]

theorem size_mirror (t : Tree α) : size (mirror t) = size t := by
  induction t with
  | leaf => rfl
  | node l v r ihl ihr =>
    rw [mirror_node, size_node, size_node, ihl, ihr]
    omega

theorem height_mirror (t : Tree α) : height (mirror t) = height t := by
  induction t with
  | leaf => rfl
  | node l v r ihl ihr =>
    simp only [mirror, height]
    rw [ihl, ihr, max'_comm]

theorem leaves_eq_size_succ (t : Tree α) : leaves t = size t + 1 := by
  induction t with
  | leaf => rfl
  | node l v r ihl ihr =>
    simp only [leaves, size]
    rw [ihl, ihr]
    omega

theorem leaves_mirror (t : Tree α) : leaves (mirror t) = leaves t := by
  rw [leaves_eq_size_succ, leaves_eq_size_succ, size_mirror]

theorem size_map (f : α → β) (t : Tree α) : size (map f t) = size t := by
  induction t with
  | leaf => rfl
  | node l v r ihl ihr =>
    simp only [map, size]
    rw [ihl, ihr]

theorem tmap_map (f : α → β) (g : β → γ) (t : Tree α) :
    map g (map f t) = map (fun x => g (f x)) t := by
  induction t with
  | leaf => rfl
  | node l v r ihl ihr =>
    simp only [map]
    rw [ihl, ihr]

theorem tmap_id (t : Tree α) : map (fun x => x) t = t := by
  induction t with
  | leaf => rfl
  | node l v r ihl ihr =>
    simp only [map]
    rw [ihl, ihr]

theorem mirror_map (f : α → β) (t : Tree α) : mirror (map f t) = map f (mirror t) := by
  induction t with
  | leaf => rfl
  | node l v r ihl ihr =>
    simp only [map, mirror]
    rw [ihl, ihr]

theorem length_flatten (t : Tree α) : length (flatten t) = size t := by
  induction t with
  | leaf => rfl
  | node l v r ihl ihr =>
    rw [flatten_node, length_append, length_cons, ihl, ihr, size_node]
    omega

theorem flatten_map (f : α → β) (t : Tree α) :
    flatten (map f t) = MyList.map f (flatten t) := by
  induction t with
  | leaf => rfl
  | node l v r ihl ihr =>
    simp only [map, flatten]
    rw [MyList.map_append, MyList.map_cons, ihl, ihr]

theorem flatten_mirror (t : Tree α) : flatten (mirror t) = reverse (flatten t) := by
  induction t with
  | leaf => rfl
  | node l v r ihl ihr =>
    rw [mirror_node, flatten_node, flatten_node, ihl, ihr]
    rw [reverse_append, reverse_cons, append_assoc]
    rfl

theorem sumTree_eq_sum_flatten (t : Tree Nat) : sumTree t = sum (flatten t) := by
  induction t with
  | leaf => rfl
  | node l v r ihl ihr =>
    simp only [sumTree]
    rw [flatten_node, sum_append, sum_cons, ihl, ihr]
    omega

theorem sumTree_mirror (t : Tree Nat) : sumTree (mirror t) = sumTree t := by
  rw [sumTree_eq_sum_flatten, sumTree_eq_sum_flatten, flatten_mirror, sum_reverse]

theorem size_eq_zero_iff (t : Tree α) : size t = 0 ↔ t = leaf := by
  cases t with
  | leaf => simp [size]
  | node l v r => simp [size]

theorem size_le_of_height_zero (t : Tree α) (h : height t = 0) : size t = 0 := by
  cases t with
  | leaf => rfl
  | node l v r =>
    simp only [height] at h
    omega

theorem pow2_le_pow2 {a b : Nat} (h : a ≤ b) : pow2 a ≤ pow2 b := by
  induction b with
  | zero =>
    have ha : a = 0 := by omega
    rw [ha]
    exact Nat.le_refl _
  | succ k ih =>
    by_cases hak : a ≤ k
    · have h1 := ih hak
      rw [pow2_succ]
      omega
    · have ha : a = k + 1 := by omega
      rw [ha]
      exact Nat.le_refl _

/-- Capstone: a tree of height `h` has fewer than `2 ^ h` nodes. -/
theorem size_lt_pow2_height (t : Tree α) : size t + 1 ≤ pow2 (height t) := by
  induction t with
  | leaf =>
    simp [size, height, pow2]
  | node l v r ihl ihr =>
    rw [size_node]
    simp only [height]
    rw [pow2_succ]
    have hl : pow2 (height l) ≤ pow2 (max' (height l) (height r)) :=
      pow2_le_pow2 (le_max'_left _ _)
    have hr : pow2 (height r) ≤ pow2 (max' (height l) (height r)) :=
      pow2_le_pow2 (le_max'_right _ _)
    have hsum : size l + 1 + (size r + 1) ≤ 2 * pow2 (max' (height l) (height r)) := by
      omega
    omega

theorem height_le_size (t : Tree α) : height t ≤ size t := by
  induction t with
  | leaf => exact Nat.le_refl 0
  | node l v r ihl ihr =>
    simp only [height, size]
    have hm : max' (height l) (height r) ≤ size l + size r := by
      apply max'_le
      · omega
      · omega
    omega

/-! ## Membership in trees -/

def TMem (x : α) : Tree α → Prop
  | leaf => False
  | node l v r => TMem x l ∨ x = v ∨ TMem x r

theorem not_tmem_leaf (x : α) : ¬ TMem x (leaf : Tree α) := by
  intro h
  exact h

theorem tmem_node (x : α) (l : Tree α) (v : α) (r : Tree α) :
    TMem x (node l v r) ↔ TMem x l ∨ x = v ∨ TMem x r := by
  rfl

theorem tmem_iff_mem_flatten (x : α) (t : Tree α) : TMem x t ↔ Mem x (flatten t) := by
  induction t with
  | leaf =>
    constructor
    · intro h
      exact absurd h (not_tmem_leaf x)
    · intro h
      exact absurd h (not_mem_nil x)
  | node l v r ihl ihr =>
    rw [tmem_node, flatten_node, mem_append, mem_cons, ihl, ihr]

theorem tmem_mirror (x : α) (t : Tree α) : TMem x (mirror t) ↔ TMem x t := by
  rw [tmem_iff_mem_flatten, tmem_iff_mem_flatten, flatten_mirror, mem_reverse]

end Tree
end Dev
end
