module
public import Dev.Basic
public import Dev.List
public import Dev.ListMore
public import Dev.Sort
public import Dev.Tree
public import Dev.BST
public import Dev.Expr
public import Dev.Compiler
public import Dev.Algebra
