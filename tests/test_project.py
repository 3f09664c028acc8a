"""Pure-Python tests of the project reader (no Lean)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curriculum.project import (Glob, LeanLib, ProjectError, list_modules, list_theorems, proof_text, read_lakefile,
                                tactic_blocks)
from lean.source import declarations, parse_header

HEADER = "import Lake\nopen Lake DSL\n\n"


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def mod(imports: tuple[str, ...] = (), body: str = "") -> str:
    head = "module\n" + "".join(f"public import {i}\n" for i in imports) + "@[expose] public section\n\n"
    return head + body


# ---- lakefile.lean ---------------------------------------------------------------------------

def test_lakefile_lean_all_forms(tmp_path):
    write(tmp_path, {"lakefile.lean": HEADER + """package «my pkg» where
  -- lean_lib Fake where roots := #[`Nope]
  srcDir := "src"

/- lean_lib Commented where
  roots := #[`X] -/

@[default_target]
lean_lib Foo where
  roots := #[`Foo.A, `«Foo».B]
  globs := #[.submodules `Foo.Sub, .one `Bar, Glob.andSubmodules `X]
  srcDir := "lib"

lean_lib Baz

@[default_target] lean_lib Multi where
  roots := #[
    `M1,
    `M2 -- trailing comment
  ]

lean_exe foo where
  root := `Main

lean_lib Old {
  srcDir := "old", roots := #[`Q]
}
"""})
    spec = read_lakefile(tmp_path)
    assert spec.name == "my pkg" and spec.src_dir == "src"
    libs = {l.name: l for l in spec.libraries}
    assert list(libs) == ["Foo", "Baz", "Multi", "Old"]
    assert libs["Foo"] == LeanLib("Foo", "lib", ("Foo.A", "Foo.B"),
                                  (Glob("submodules", "Foo.Sub"), Glob("one", "Bar"), Glob("andSubmodules", "X")), True)
    assert libs["Baz"].roots == ("Baz",) and libs["Baz"].globs == () and not libs["Baz"].default_target
    assert libs["Baz"].effective_globs == (Glob("one", "Baz"),)
    assert libs["Multi"].roots == ("M1", "M2") and libs["Multi"].default_target
    assert libs["Old"].src_dir == "old" and libs["Old"].roots == ("Q",)
    assert spec.default_targets == ("Foo", "Multi")
    assert spec.lib_dir(libs["Foo"]) == (tmp_path / "src" / "lib").resolve()


def test_lakefile_bad_globs_named(tmp_path):
    write(tmp_path, {"lakefile.lean": HEADER + "package p\nlean_lib L where\n  globs := #[Glob.weird `X]\n"})
    with pytest.raises(ProjectError, match=r"lakefile.lean:\d+.*globs"):
        read_lakefile(tmp_path)


def test_lakefile_toml(tmp_path):
    write(tmp_path, {"lakefile.toml": """name = "pkg"
defaultTargets = ["Foo"]

[[lean_lib]]
name = "Foo"
roots = ["A", "B.C"]
globs = ["A", "B.+", "C.*"]
srcDir = "src"

[[lean_lib]]
name = "Bar"
"""})
    spec = read_lakefile(tmp_path)
    assert spec.name == "pkg"
    foo, bar = spec.libraries
    assert foo == LeanLib("Foo", "src", ("A", "B.C"),
                          (Glob("one", "A"), Glob("submodules", "B"), Glob("andSubmodules", "C")), True)
    assert bar.roots == ("Bar",) and bar.globs == () and not bar.default_target


def test_lakefile_toml_invalid(tmp_path):
    write(tmp_path, {"lakefile.toml": "name = \n"})
    with pytest.raises(ProjectError, match="lakefile.toml"):
        read_lakefile(tmp_path)


def test_missing_lakefile(tmp_path):
    with pytest.raises(ProjectError) as e:
        list_modules(tmp_path)
    msg = str(e.value)
    assert str(tmp_path.resolve()) in msg and "lakefile.lean" in msg and "lakefile.toml" in msg


def test_glob_matches():
    assert Glob("one", "A").matches("A") and not Glob("one", "A").matches("A.B")
    assert Glob("submodules", "A").matches("A.B.C") and not Glob("submodules", "A").matches("A")
    assert Glob("andSubmodules", "A").matches("A") and not Glob("andSubmodules", "A").matches("AB")


# ---- modules ---------------------------------------------------------------------------------

def test_modules_roots_imports_topological(tmp_path):
    write(tmp_path, {
        "lakefile.lean": HEADER + "package p\nlean_lib Top where\n  roots := #[`Top]\n",
        "Top.lean": mod(("Top.B", "Top.A", "Lean")),
        "Top/A.lean": mod(("Top.C",)),
        "Top/B.lean": mod(("Top.A",)),
        "Top/C.lean": mod(),
        "Top/Unused.lean": mod(),
    })
    mods = list_modules(tmp_path)
    names = [m.name for m in mods]
    assert set(names) == {"Top", "Top.A", "Top.B", "Top.C"}  # Unused is not reachable
    for m in mods:
        for i in m.imports:
            if i in names:
                assert names.index(i) < names.index(m.name)
    top = next(m for m in mods if m.name == "Top")
    assert top.imports == ("Top.B", "Top.A", "Lean") and top.path == (tmp_path / "Top.lean").resolve()


def test_modules_globs_and_srcdir(tmp_path):
    write(tmp_path, {
        "lakefile.lean": HEADER + 'package p\nlean_lib L where\n  srcDir := "src"\n'
                         "  globs := #[.submodules `Foo, .andSubmodules `Bar, .one `Baz]\n",
        "src/Foo.lean": mod(),  # not selected by .submodules
        "src/Foo/X.lean": mod(("Dep",)),
        "src/Foo/Deep/Y.lean": mod(),
        "src/Bar.lean": mod(),
        "src/Bar/Z.lean": mod(),
        "src/Baz.lean": mod(),
        "src/Dep.lean": mod(),
    })
    names = [m.name for m in list_modules(tmp_path)]
    assert set(names) == {"Foo.X", "Foo.Deep.Y", "Bar", "Bar.Z", "Baz", "Dep"}
    assert names.index("Dep") < names.index("Foo.X")


def test_modules_toml(tmp_path):
    write(tmp_path, {
        "lakefile.toml": 'name = "p"\n[[lean_lib]]\nname = "L"\nglobs = ["L.+"]\n',
        "L/A.lean": mod(), "L/B.lean": mod(("L.A",)),
    })
    assert [m.name for m in list_modules(tmp_path)] == ["L.A", "L.B"]


def test_missing_root_module(tmp_path):
    write(tmp_path, {"lakefile.lean": HEADER + "package p\nlean_lib Nope\n"})
    with pytest.raises(ProjectError, match=r"Nope"):
        list_modules(tmp_path)


def test_import_cycle(tmp_path):
    write(tmp_path, {"lakefile.lean": HEADER + "package p\nlean_lib A\n",
                     "A.lean": mod(("B",)), "B.lean": mod(("A",))})
    with pytest.raises(ProjectError, match="cycle"):
        list_modules(tmp_path)


# ---- theorems --------------------------------------------------------------------------------

BODY_A = """namespace P

/-- doc: theorem fake : False := sorry -/
theorem one (n : Nat) : n + 0 = n := by
  simp

-- theorem commented : True := trivial
theorem two : True ∧ True := by
  constructor
  · trivial
  · -- a comment
    trivial

theorem open_one (a b : Nat) : a + b = b + a := by
  sorry

def helper : Nat := 3

lemma term_proof : helper = 3 := rfl

end P
"""


def test_list_theorems(tmp_path):
    write(tmp_path, {"lakefile.lean": HEADER + "package p\nlean_lib P where\n  roots := #[`P.A]\n",
                     "P/A.lean": mod((), BODY_A)})
    thms = list_theorems(tmp_path)
    assert [t.full_name for t in thms] == ["P.one", "P.two", "P.open_one", "P.term_proof"]
    one, two, open_one, term = thms
    assert one.module == "P.A" and one.file == (tmp_path / "P/A.lean").resolve()
    assert one.line == 7 and one.statement == "theorem one (n : Nat) : n + 0 = n"
    assert one.num_tactic_steps == 1 and not one.is_sorry and one.proof == "by\n  simp"
    assert two.num_tactic_steps == 3
    assert open_one.is_sorry and open_one.num_tactic_steps == 1
    assert term.kind == "lemma" and term.num_tactic_steps == 0 and term.proof == "rfl"


def test_duplicate_names(tmp_path):
    write(tmp_path, {"lakefile.lean": HEADER + "package p\nlean_lib P where\n  roots := #[`P.B]\n",
                     "P/A.lean": mod((), "namespace P\ntheorem same : True := trivial\nend P\n"),
                     "P/B.lean": mod(("P.A",), "\ntheorem P.same : True := trivial\n")})
    with pytest.raises(ProjectError) as e:
        list_theorems(tmp_path)
    msg = str(e.value)
    assert "P.same" in msg and "A.lean:5" in msg and "B.lean:6" in msg


def test_private_names_may_repeat_across_files(tmp_path):
    write(tmp_path, {"lakefile.lean": HEADER + "package p\nlean_lib P where\n  roots := #[`P.B]\n",
                     "P/A.lean": mod((), "private theorem aux : True := trivial\n"),
                     "P/B.lean": mod(("P.A",), "private theorem aux : True := trivial\n")})
    assert len(list_theorems(tmp_path)) == 2


# ---- tactic blocks ---------------------------------------------------------------------------

def blocks(src: str):
    return tactic_blocks(src, src.index(":="), len(src.rstrip()))


def test_tactic_blocks_structure():
    src = """theorem t : P := by
  -- leading comment
  cases h with
  | intro a b =>
    exact a
  · simp
    rfl
  <;> simp
  exact "a -- b"
"""
    assert blocks(src) == ["cases h with\n| intro a b =>\n  exact a", "· simp\n  rfl\n<;> simp", 'exact "a -- b"']


def test_tactic_blocks_inline_and_term():
    assert blocks("theorem t : P := by simp [foo]\n") == ["simp [foo]"]
    assert blocks("theorem t : P := by intro h\n                    exact h\n") == ["intro h", "exact h"]
    assert blocks("theorem t : P := fun h => by simp\n") is None
    assert blocks("theorem t : P := by\n    simp\n  done\n") is None  # dedent below the base: not top-level tactics


# ---- property tests: lakefile parser ---------------------------------------------------------

ident = st.from_regex(r"[A-Z][A-Za-z0-9_]{0,6}", fullmatch=True)
modname = st.lists(ident, min_size=1, max_size=3).map(".".join)
glob = st.builds(Glob, st.sampled_from(["one", "submodules", "andSubmodules"]), modname)
comment = st.sampled_from(["", "-- lean_lib Fake where\n", "/- roots := #[`Bad] -/\n", "/- nested /- lean_lib X -/ -/\n"])
lib = st.builds(lambda n, s, r, g, d: LeanLib(n, s, tuple(r), tuple(g), d), ident,
                st.sampled_from([".", "src", "lib/x"]), st.lists(modname, min_size=1, max_size=3),
                st.lists(glob, max_size=3), st.booleans())


def render_lean(pkg: str, libs: list[LeanLib], comments: list[str], bare: list[bool]) -> str:
    out = HEADER + f"package {pkg} where\n  -- options\n\n"
    for i, l in enumerate(libs):
        out += comments[i % len(comments)] if comments else ""
        if l.default_target:
            out += "@[default_target]\n"
        if bare[i % len(bare)] and l.src_dir == "." and l.roots == (l.name,) and not l.globs:
            out += f"lean_lib {l.name}\n\n"
            continue
        out += f"lean_lib {l.name} where\n"
        out += "  roots := #[" + ", ".join(f"`{r}" for r in l.roots) + "]\n"
        if l.globs:
            out += "  globs := #[" + ", ".join(f".{g.kind} `{g.module}" for g in l.globs) + "]\n"
        if l.src_dir != ".":
            out += f'  srcDir := "{l.src_dir}"\n'
        out += "\n"
    return out


def render_toml(pkg: str, libs: list[LeanLib]) -> str:
    suffix = {"one": "", "submodules": ".+", "andSubmodules": ".*"}
    out = f'name = "{pkg}"\ndefaultTargets = [' + ", ".join(f'"{l.name}"' for l in libs if l.default_target) + "]\n"
    for l in libs:
        out += f'\n[[lean_lib]]\nname = "{l.name}"\nroots = [' + ", ".join(f'"{r}"' for r in l.roots) + "]\n"
        if l.globs:
            out += "globs = [" + ", ".join(f'"{g.module}{suffix[g.kind]}"' for g in l.globs) + "]\n"
        if l.src_dir != ".":
            out += f'srcDir = "{l.src_dir}"\n'
    return out


unique_libs = st.lists(lib, min_size=1, max_size=4, unique_by=lambda l: l.name)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pkg=ident, libs=unique_libs, comments=st.lists(comment, max_size=3), bare=st.lists(st.booleans(), min_size=1, max_size=3))
def test_lakefile_lean_roundtrip(tmp_path_factory, pkg, libs, comments, bare):
    root = tmp_path_factory.mktemp("lf")
    (root / "lakefile.lean").write_text(render_lean(pkg, libs, comments, bare))
    spec = read_lakefile(root)
    assert spec.name == pkg
    assert spec.libraries == tuple(libs)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pkg=ident, libs=unique_libs)
def test_lakefile_toml_roundtrip(tmp_path_factory, pkg, libs):
    root = tmp_path_factory.mktemp("lt")
    (root / "lakefile.toml").write_text(render_toml(pkg, libs))
    spec = read_lakefile(root)
    assert spec.name == pkg and spec.libraries == tuple(libs)


# ---- property tests: lean.source ---------------------------------------------------------------

lean_ident = st.from_regex(r"[a-z][a-z0-9_']{0,8}", fullmatch=True).filter(
    lambda s: s not in ("by", "fun", "end", "at", "in", "do", "then", "else", "if", "let", "have", "show", "from",
                        "with", "match", "open", "def", "theorem", "lemma", "where", "sorry", "example", "instance"))
noise = st.sampled_from([
    "-- theorem fake : True := trivial\n",
    "/- theorem fake2 : a := b\n   := still a comment -/\n",
    "/-- doc with `:=` and theorem inside -/\n",
    "/- nested /- theorem z := -/ still -/\n",
    "",
])
proof = st.sampled_from(["by\n  simp", "by\n  intro h\n  exact h", "trivial", "by\n  sorry", "by simp -- := done"])


@settings(max_examples=80, deadline=None)
@given(names=st.lists(lean_ident, min_size=1, max_size=6, unique=True), ns=st.sampled_from(["", "Foo", "Foo.Bar"]),
       noises=st.lists(noise, min_size=1, max_size=6), proofs=st.lists(proof, min_size=1, max_size=6),
       imports=st.lists(st.from_regex(r"[A-Z][a-z]{0,5}(\.[A-Z][a-z]{0,5})?", fullmatch=True), max_size=3))
def test_declarations_roundtrip(names, ns, noises, proofs, imports):
    text = "module\n" + "".join(f"public import {i}\n" for i in imports) + "@[expose] public section\n\n"
    if ns:
        text += f"namespace {ns}\n\n"
    expected = []
    for i, n in enumerate(names):
        text += noises[i % len(noises)]
        p = proofs[i % len(proofs)]
        text += f"theorem {n} (a : Nat) : a = a := {p}\n\n"
        expected.append((f"{ns}.{n}" if ns else n, p))
    if ns:
        text += f"end {ns}\n"
    hdr = parse_header(text)
    assert hdr.is_module and hdr.imports == tuple(imports)
    assert text[hdr.end:].startswith("@[expose]")
    decls = [d for d in declarations(text) if d.kind == "theorem"]
    assert [d.full_name for d in decls] == [e[0] for e in expected]
    for d, (_, p) in zip(decls, expected):
        # lean.source's own proof() keeps the comment lines that follow; proof_text drops trailing comments
        assert proof_text(text, d) == re.sub(r"\s*--.*$", "", p.strip())
        assert d.proof(text).startswith(p.strip())
        assert d.is_sorry(text) == ("sorry" in p)
        assert d.statement(text).endswith(": a = a")
        assert text.count("\n", 0, d.keyword_start) + 1 >= d.line


# ---- difficulty --------------------------------------------------------------------------------

def test_difficulty_features():
    import math

    import networkx as nx

    from curriculum.difficulty import baseline_exp_steps, count_binders, difficulty, graph_depth, statement_tokens
    from curriculum.project import TheoremInfo

    assert baseline_exp_steps(0) == 1.0 and baseline_exp_steps(3) == pytest.approx(math.e ** 3)
    assert math.isfinite(baseline_exp_steps(10 ** 6))
    assert statement_tokens("theorem t (n : Nat) : n + 0 = n") == 13
    assert count_binders("theorem t (a b : Nat) {c : Nat} : ∀ x y, ∃ z, x = z") == 6
    g = nx.DiGraph([("t", "a"), ("a", "b"), ("t", "b")])
    assert graph_depth(g, "t") == 2 and graph_depth(g, "b") == 0
    f = Path("X.lean")
    small = TheoremInfo("s", "M", f, 1, "theorem s : True", True, "by\n  sorry", 1)
    big = TheoremInfo("t", "M", f, 1, "theorem t (a b : Nat) : ∀ x, a + b + x = x + b + a", True, "by\n  sorry", 1)
    assert difficulty(small) < difficulty(big) < difficulty(big, g) < difficulty(big, g, failures=2)
    proved = TheoremInfo("p", "M", f, 1, "theorem p : True", False, "by\n  trivial\n  done", 2)
    assert difficulty(proved) == pytest.approx(math.e ** 2)


def test_closing_commands_end_every_open_scope():
    from lean.source import declarations

    text = ("namespace A.B\nsection\nnoncomputable section Q\ntheorem t : True := trivial\nend Q\nend\n"
            "theorem u : True := trivial\nend A.B\ntheorem v : True := trivial\n")
    by_name = {d.full_name: d for d in declarations(text)}
    assert by_name["A.B.t"].closing_commands() == "end Q\nend\nend A.B\n"
    assert by_name["A.B.u"].closing_commands() == "end A.B\n"
    assert by_name["v"].closing_commands() == ""
