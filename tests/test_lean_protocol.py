"""Pure-Python parts of lean/: LSP framing, goal text, glue patches, source scanning, tactic screening."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lean import lsp
from lean.errors import LeanConfigError, ToolchainError
from lean.glue_patches import PATCHES, patch_glue
from lean.results import Goal, TacticState, parse_goal, parse_goals
from lean.safety import axiom_verdict, gives_up, screen

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**9, 10**9) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
messages = st.dictionaries(st.sampled_from(["id", "method", "params", "result", "x"]), json_values, min_size=1)


@given(st.lists(messages, min_size=1, max_size=6), st.lists(st.integers(1, 50), min_size=1, max_size=20))
def test_framing_roundtrip_any_chunking(msgs, cuts):
    data = b"".join(lsp.encode(m) for m in msgs)
    dec, out, pos, i = lsp.Decoder(), [], 0, 0
    while pos < len(data):
        step = cuts[i % len(cuts)]
        out.extend(dec.feed(data[pos:pos + step]))
        pos, i = pos + step, i + 1
    assert out == [json.loads(json.dumps(m)) for m in msgs]


@given(st.text(alphabet="abc xyz[]:\n", max_size=60).filter(lambda s: "Content" not in s and "\r\n\r\n" not in s))
def test_framing_skips_junk_before_header(junk):
    msg = {"jsonrpc": "2.0", "id": 1, "result": None}
    out = list(lsp.Decoder().feed((junk + "\n").encode() + lsp.encode(msg)))
    assert out == [msg]


def test_framing_rejects_bad_length_and_body():
    with pytest.raises(lsp.FramingError):
        list(lsp.Decoder().feed(b"Content-Length: -3\r\n\r\n"))
    with pytest.raises(lsp.FramingError):
        list(lsp.Decoder().feed(b"Content-Length: 3\r\n\r\n[1]"))
    with pytest.raises(lsp.FramingError):
        list(lsp.Decoder().feed(b"Content-Length: 2\r\n\r\n\xff\xfe"))


@given(st.text(max_size=40))
def test_utf16_positions(s):
    assert lsp.end_position("a\n" + s).line == 1 + s.count("\n")
    assert lsp.utf16_len(s) == len(s.encode("utf-16-le")) // 2


ident = st.from_regex(r"[a-z][a-z0-9_']{0,6}", fullmatch=True)
types = st.from_regex(r"[A-Za-z0-9 →∧∨¬=+()]{1,20}", fullmatch=True).map(str.strip).filter(bool)


@given(st.one_of(st.none(), ident), st.lists(st.tuples(ident, types), max_size=5), types)
def test_goal_pp_roundtrip(tag, hyps, target):
    g = Goal(tag, tuple(hyps), target)
    back = parse_goal(g.pp())
    assert back == g


def test_goal_parsing_of_real_lean_output():
    pp = "case left\np q : Prop\nhp : p\nhq : q\n⊢ q\n\ncase right\np q : Prop\nhp : p\nhq : q\n⊢ p"
    goals = parse_goals(pp)
    assert [g.tag for g in goals] == ["left", "right"]
    assert goals[0].hypotheses == (("p q", "Prop"), ("hp", "p"), ("hq", "q"))
    assert goals[1].target == "p"
    s = TacticState(pp, 3)
    assert s.num_goals == 2
    assert s == TacticState(pp, 99)  # equality ignores the handle
    assert s.key == TacticState(pp + "\n", 7).key and hash(s.key) == hash(TacticState(pp, 8).key)
    wrapped = "xs : List Nat\nh :\n  a_very_long_hypothesis_name =\n    b\n⊢ xs =\n    xs"
    g = parse_goal(wrapped)
    assert g.hypotheses == (("xs", "List Nat"), ("h", "a_very_long_hypothesis_name =\n    b"))
    assert g.target == "xs =\n    xs"


def test_glue_patch_missing_target_is_named():
    with pytest.raises(ToolchainError) as e:
        patch_glue("var ENV={};")
    assert PATCHES[0].name in str(e.value)


def test_screen_rejects_escapes_and_accepts_tactics():
    for ok in ["simp", "omega", "induction n with\n| zero => rfl\n| succ n ih => simp", "exact fun h => h.1",
               "rw [Nat.add_comm]", "infer_instance", "simp [List.reverse_reverse]", "simp -- why", "exact \"--\""]:
        assert screen(ok, 4096) is None, ok
    for bad in ["native_decide", "exact (by decide : _) \ntheorem x : False := sorry", "", "   ", "x" * 5000,
                "set_option debug.skipKernelTC true in rfl", "#exit", "/- ", "run_tac pure ()", "\ud800", "-- simp",
                " -- a\n  -- b"]:
        assert screen(bad, 4096) is not None, bad
    assert gives_up("exact sorry") and gives_up("admit") and not gives_up("exact sorry_lemma")


def test_axiom_verdict():
    std = [("propext", "Init.Core"), ("Nat.add_comm", "Init.Data.Nat.Basic")]
    assert axiom_verdict(std, frozenset(), frozenset()) is None
    assert "sorryAx" in axiom_verdict(std + [("sorryAx", "Init.Prelude")], frozenset(), frozenset())
    assert "myAx" in axiom_verdict([("myAx", ".")], frozenset(), frozenset())
    assert axiom_verdict([("earlier", ".")], frozenset({"earlier"}), frozenset()) is None
    assert "Lean.ofReduceBool" in axiom_verdict([("Lean.ofReduceBool", "Init.Core")], frozenset(), frozenset())
    assert axiom_verdict([("Dev.lemma", "Dev.List")], frozenset(), frozenset({"Dev.lemma"})) is not None


def test_search_workers_default_to_one_per_two_cores_unless_set(monkeypatch):
    """A search restarts its workers at each file, and starts that share cores are slow, so `prover attack`
    and a curriculum round run one worker per two cores unless LEAN_AGENT_WORKERS (or --workers) says so."""
    from lean.config import default_search_workers

    monkeypatch.delenv("LEAN_AGENT_WORKERS", raising=False)
    for cores, want in ((1, 1), (2, 1), (3, 1), (8, 4), (None, 1)):
        monkeypatch.setattr("os.cpu_count", lambda c=cores: c)
        assert default_search_workers() == want, cores
    monkeypatch.setenv("LEAN_AGENT_WORKERS", "3")
    assert default_search_workers() == 3


def test_config_validation_says_what_to_change():
    from lean.config import LeanConfig

    with pytest.raises(LeanConfigError, match="backend"):
        LeanConfig(backend="gpu")
    with pytest.raises(LeanConfigError, match="num_workers"):
        LeanConfig(num_workers=0)
    with pytest.raises(LeanConfigError, match="import_silence must be >= 0"):
        LeanConfig(import_silence=-1)


field_names = st.from_regex(r"[a-z][a-z_']{0,8}", fullmatch=True).filter(lambda s: s not in ("where", "by", "fun", "mk"))
field_types = st.sampled_from(["α", "α → α → α", "∀ a b : α, op a b = op b a", "Nat", "x ≤ y", "List (α × β)",
                               "∀ a : α,\n    op a a = a", "op (op a b) c = op a (op b c)"])


@given(fields=st.lists(st.tuples(field_names, field_types, st.booleans(), st.booleans()), min_size=1, max_size=6,
                       unique_by=lambda f: f[0]),
       kind=st.sampled_from(["structure", "class"]), ctor=st.booleans(), same_line=st.booleans())
def test_structure_fields_roundtrip(fields, kind, ctor, same_line):
    """Whatever the layout (doc comments, defaults, a `mk ::` line, a field on the `where` line), every
    field comes back with its type, under the structure's full name, and nothing else does."""
    from lean.source import declarations, structure_fields

    lines = []
    for i, (name, ty, doc, default) in enumerate(fields):
        if doc:
            lines.append("  /-- a law, with `:=` and `where` in its doc -/")
        field = f"{name} : {ty}" + (" := by exact sorry" if default else "")
        lines.append(f"  ({field})" if i % 3 == 2 and "\n" not in ty else f"  {field}")  # binder style too
    head = f"namespace N\n{kind} S (α β : Type) where"
    if ctor:
        head += " mk ::" if same_line else "\n  mk ::"
    elif same_line and not fields[0][2]:
        head += " " + lines.pop(0).strip()
    text = head + "\n" + "\n".join(lines) + "\n\nderiving instance Repr for Nat\nend N\n"
    (decl,) = [d for d in declarations(text) if d.kind == kind]
    got = structure_fields(text, decl)
    assert got == [(f"N.S.{name}", " ".join(ty.split())) for name, ty, _, _ in fields], text


def _runner_output(records) -> str:
    """What the candidate runner prints (`leanmeta.TRY_ELAB`: one IO.println per candidate)."""
    return "".join(f"LA-TRY {i} {kind} {len(text)}\n{text}\n" for i, (kind, text) in enumerate(records))


runner_records = st.lists(st.tuples(st.sampled_from("SFE"), st.text(max_size=40)), min_size=1, max_size=6)


@given(runner_records)
def test_runner_output_roundtrip(records):
    """Payloads may hold anything, record headers included: lengths, not markers, delimit them."""
    from lean.leanmeta import parse_try
    assert parse_try(_runner_output(records), len(records)) == records


@given(runner_records, st.data())
def test_runner_output_that_is_not_exactly_n_records_is_refused(records, data):
    """A missing, extra, renumbered or cut record makes the whole answer unusable (None), never a wrong one."""
    from lean.leanmeta import parse_try
    out = _runner_output(records)
    n = len(records)
    assert parse_try(out, n + 1) is None  # one record missing
    assert parse_try(out + "LA-TRY 0 S 0\n\n", n) is None  # something printed after the last record
    cut = data.draw(st.integers(0, len(out) - 2))
    assert parse_try(out[:cut], n) is None or out[cut:].strip() == ""
    header = f"LA-TRY 0 {records[0][0]} {len(records[0][1])}\n"
    assert parse_try(out.replace(header, header.replace("LA-TRY 0", "LA-TRY 1"), 1), n) is None  # renumbered


prefix_errors = st.lists(st.tuples(st.integers(1, 500), st.text(min_size=1, max_size=40)), min_size=1, max_size=5)


@given(prefix_errors)
def test_prefix_loader_errors_roundtrip(errors):
    """The prefix loader's report (`leanmeta`'s Prefix.report: a header with the line and the length, then
    the message) parses back whatever the messages hold, headers included; anything else is refused."""
    from lean.leanmeta import PREFIX_ERROR, parse_prefix_errors
    report = "".join(f"{PREFIX_ERROR}{line} {len(msg)}\n{msg}\n" for line, msg in errors)
    assert parse_prefix_errors(report) == errors
    assert parse_prefix_errors(report[:-1]) == errors  # without the last separator
    assert parse_prefix_errors("error: " + report) is None
    assert parse_prefix_errors(report[:report.index("\n") + 1]) is None  # a header without its message


def test_lean_string_literals():
    from lean.leanmeta import lean_string, try_tactic
    assert lean_string('a"b\\c\nd\te') == '"a\\"b\\\\c\\nd\\te"'
    assert lean_string("\x01") == '"\\x01"'
    assert try_tactic(["simp", 'exact "x"'], 1.5) == 'lean_agent_try 1500 "(simp\\n)" "(exact \\"x\\"\\n)"'
