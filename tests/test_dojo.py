"""The Dojo against the real embedded Lean: states, backtracking, limits, recovery, bad input."""
from __future__ import annotations

import os
import signal
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lean import (Dojo, DojoInitError, InvalidStateError, LeanError, ProofFinished, ProofGivenUp, TacticState,
                  Theorem)
from lean.results import NotAudited
from tests.conftest import slow_omega

pytestmark = pytest.mark.lean


def test_steps_backtracking_and_finish(demo_file, lean_server):
    with Dojo(Theorem(demo_file, "and_swap"), server=lean_server) as (dojo, s0):
        assert s0.pp == "p q : Prop\nhp : p\nhq : q\n⊢ q ∧ p"
        assert s0.goals[0].target == "q ∧ p"
        s1 = dojo.run_tac(s0, "constructor")
        assert isinstance(s1, TacticState) and s1.num_goals == 2
        assert [g.tag for g in s1.goals] == ["left", "right"]
        bad = dojo.run_tac(s1, "exact hp")
        assert isinstance(bad, LeanError) and "hp" in bad.error
        # backtrack: the failed branch left nothing behind, s1 is still usable, and so is s0
        s2 = dojo.run_tac(s1, "exact hq")
        assert isinstance(s2, TacticState) and s2.pp.endswith("⊢ p")
        again = dojo.run_tac(s0, "constructor")
        assert again == s1 and again.id != s1.id
        done = dojo.run_tac(s2, "exact hp")
        assert isinstance(done, ProofFinished) and done.tactics == ("constructor", "exact hq", "exact hp")
        assert isinstance(dojo.check_proof(["exact ⟨hq, hp⟩"]), ProofFinished)
        assert isinstance(dojo.check_proof(["exact ⟨hp, hq⟩"]), LeanError)
        with pytest.raises(InvalidStateError):
            dojo.run_tac(TacticState("x", 12345), "simp")


def test_multi_line_tactic_and_given_up(demo_file, lean_server):
    with Dojo(Theorem(demo_file, "rev_rev"), server=lean_server) as (dojo, s0):
        assert isinstance(dojo.run_tac(s0, "sorry"), ProofGivenUp)
        assert isinstance(dojo.run_tac(s0, "admit"), ProofGivenUp)
        r = dojo.run_tac(s0, "induction xs with\n| nil => rfl\n| cons x xs ih => simp")
        assert isinstance(r, ProofFinished)


def test_separators_and_incomplete_tactics(demo_file, lean_server):
    """Documents close every tactic with `;` (so Lean reuses the previous step's elaboration). That must
    not change what a tactic means: one that already ends in `;` or in a comment still works, and an
    incomplete one (`try`, `constructor <;>`) is still an error, not a no-op that the separator completes."""
    with Dojo(Theorem(demo_file, "and_swap"), server=lean_server) as (dojo, s0):
        s1 = dojo.run_tac(s0, "constructor;")
        assert isinstance(s1, TacticState) and s1.num_goals == 2
        s2 = dojo.run_tac(s1, "exact hq -- the left conjunct")
        assert isinstance(s2, TacticState) and s2.pp.endswith("⊢ p")
        assert isinstance(dojo.run_tac(s2, "exact hp"), ProofFinished)
        for incomplete in ("try", "constructor <;>", "all_goals", "·"):
            assert isinstance(dojo.run_tac(s0, incomplete), LeanError), incomplete
        assert isinstance(dojo.run_tac(s0, "constructor <;> assumption"), ProofFinished)


def test_state_moves_between_dojos_of_same_theorem(demo_file, lean_server):
    with Dojo(Theorem(demo_file, "and_imp_comm"), server=lean_server) as (d1, s0):
        s1 = d1.run_tac(s0, "intro h hq hp")
        assert isinstance(s1, TacticState)
    with Dojo(Theorem(demo_file, "and_imp_comm"), server=lean_server) as (d2, _):
        assert isinstance(d2.run_tac(s1, "exact h hp hq"), ProofFinished)


def _hard_omega() -> str:
    """`slow_omega` then `simp`: multi-line, so it runs alone even in a batch (~36 s for 60 disequalities
    runs out of heartbeats)."""
    return slow_omega() + "\nsimp"


def test_timeout_interrupts_or_restarts_and_next_tactic_works(demo_file, lean_server):
    """lean-dojo issue 218: after one timeout every later tactic failed. Here a tactic past its limit is
    interrupted inside Lean on a held state (Lean's own `checkSystem` stops it: no restart), and by edit
    the worker is stopped and replaced; either way the next tactic works."""
    from lean import leanmeta

    # the limit is above the stall detector's 5 s: a worker that is busy is never mistaken for a stalled one
    assert lean_server.config.stall_seconds < 7
    hard = _hard_omega()
    with Dojo(Theorem(demo_file, "add_zero'"), server=lean_server, timeout=7) as (dojo, s0):
        t0 = time.time()
        slow = dojo.run_tac(s0, hard)
        assert isinstance(slow, LeanError) and slow.error == leanmeta.INTERRUPTED, slow
        assert 6.5 < time.time() - t0 < 7 + 2  # at the limit, before the restart would come
        assert dojo.stats["interrupts"] == 1 and dojo.stats["restarts"] == 0
        t0 = time.time()
        assert isinstance(dojo.run_tac(s0, "simp"), ProofFinished)
        assert time.time() - t0 < 5  # the same worker, warm
        # in a batch, the slow tactic is interrupted at its own limit and costs its neighbours nothing
        batch = dojo.run_tacs(s0, ["simp", hard, "exact Nat.add_zero n"])
        assert isinstance(batch[0], ProofFinished) and isinstance(batch[2], ProofFinished), batch
        assert batch[1].error == leanmeta.INTERRUPTED and dojo.stats["restarts"] == 0, batch
    edits = lean_server.config.with_(rpc_steps=False)
    with Dojo(Theorem(demo_file, "add_zero'"), server=lean_server, timeout=7, config=edits) as (dojo, s0):
        t0 = time.time()
        slow = dojo.run_tac(s0, hard)
        assert isinstance(slow, LeanError) and "Timeout" in slow.error and "restarted" in slow.error, slow
        assert time.time() - t0 < 60
        assert dojo.stats["timeouts"] >= 1 and dojo.stats["restarts"] >= 1 and dojo.stats["stalls"] == 0
        assert isinstance(dojo.run_tac(s0, "simp"), ProofFinished)


def test_crashed_worker_is_replaced(demo_file, lean_server):
    with Dojo(Theorem(demo_file, "add_zero'"), server=lean_server) as (dojo, s0):
        os.killpg(dojo.worker.proc.pid, signal.SIGKILL)
        r = dojo.run_tac(s0, "rfl")
        assert isinstance(r, ProofFinished), r
        assert dojo.stats["restarts"] >= 1


def test_stalled_worker_is_replaced_without_waiting_out_the_timeout(demo_file, lean_server):
    """A worker that stops using CPU with a request pending (here: SIGSTOP, as a deadlocked runtime looks
    from outside) is killed after `stall_seconds` and the step replayed on a fresh one; the caller gets the
    step's real result, not a Timeout after the full 60 s limit."""
    with Dojo(Theorem(demo_file, "and_swap"), server=lean_server, timeout=60) as (dojo, s0):
        s1 = dojo.run_tac(s0, "constructor")
        os.killpg(dojo.worker.proc.pid, signal.SIGSTOP)
        t0 = time.time()
        s2 = dojo.run_tac(s1, "exact hq")
        assert isinstance(s2, TacticState) and s2.pp.endswith("⊢ p"), s2
        assert dojo.stats["stalls"] == 1 and time.time() - t0 < 55
        assert isinstance(dojo.run_tac(s2, "exact hp"), ProofFinished)


def test_start_timeout_says_what_was_loading_and_the_worker_recovers(demo_file, lean_server):
    """A start that gets no answer in `init_timeout` (twice: a start that hangs is tried once more on a
    fresh worker) names the file and theorem being loaded and the worker's last output; the worker is
    replaced, so the next Dojo starts normally."""
    from lean.errors import DojoTimeoutError

    cfg = lean_server.config.with_(init_timeout=0.001)
    with pytest.raises(DojoTimeoutError, match=r"while loading Demo.lean up to add_zero'.*init_timeout.*stderr tail"):
        Dojo(Theorem(demo_file, "add_zero'"), config=cfg, server=lean_server).start()
    with Dojo(Theorem(demo_file, "add_zero'"), server=lean_server) as (dojo, s0):
        assert isinstance(dojo.run_tac(s0, "simp"), ProofFinished)


def test_a_start_that_hangs_is_tried_once_more(demo_file, lean_server, monkeypatch):
    """The wasm runtime hangs, rarely, while a fresh worker loads; the start is then tried once more on the
    fresh worker the timeout left, instead of failing the theorem (a curriculum round skipped a whole file
    for one such hang). The hang itself cannot be made on demand: the first start is made to time out as
    `_elaborate` does on a real one (the worker replaced, then DojoTimeoutError)."""
    from lean.errors import DojoTimeoutError

    real, hung = Dojo._elaborate, []

    def first_start_hangs(self, tactics, initial=False, **kw):
        if initial and not hung:
            hung.append(tactics)
            self.worker.start()
            raise DojoTimeoutError("Lean did not answer within 300.0 s while loading Demo.lean up to add_zero'")
        return real(self, tactics, initial=initial, **kw)

    monkeypatch.setattr(Dojo, "_elaborate", first_start_hangs)
    with Dojo(Theorem(demo_file, "add_zero'"), server=lean_server) as (dojo, s0):
        assert len(hung) == 1 and "n + 0 = n" in s0.pp
        assert isinstance(dojo.run_tac(s0, "simp"), ProofFinished)


@pytest.mark.slow
def test_a_start_that_goes_silent_is_replaced_then_named(demo_file, lean_server, monkeypatch):
    """The rare wasm hang at a start keeps a core busy, so the stall check (no CPU) misses it, and it held
    a start for the whole `init_timeout` (300 s, twice in one benchmark run). A start during which Lean
    says nothing for `init_silence` seconds is replayed once on a fresh worker, then named. The hang cannot
    be made on demand: a command before the theorem that sleeps is as silent (the stall check, which would
    see it idle, is off here)."""
    from lean.errors import DojoSilenceError
    from lean.worker import LeanWorker

    monkeypatch.setattr(LeanWorker, "_check_stall", lambda self, watch, now: None)
    text = demo_file.read_text()
    demo_file.write_text(text.replace("theorem add_zero'", "theorem slow_before : True := by\n  sleep 60000\n  trivial\n\n"
                                      "theorem add_zero'", 1))
    # without the check the start would succeed after the 60 s sleep
    with pytest.raises(DojoSilenceError, match=r"said nothing for 8 s(.|\n)*twice(.|\n)*init_silence"):
        Dojo(Theorem(demo_file, "add_zero'"), server=lean_server, config=lean_server.config.with_(init_silence=8)).start()
    demo_file.write_text(text)
    with Dojo(Theorem(demo_file, "add_zero'"), server=lean_server) as (dojo, s0):  # the server goes on
        assert isinstance(dojo.run_tac(s0, "simp"), ProofFinished)


@pytest.mark.slow
def test_a_start_silent_while_importing_is_replaced_within_import_silence(tmp_path, lean_server, monkeypatch, caplog):
    """Every start hang seen so far sat in the import phase (the runtime's last trace line started loading
    the imports), where no user command runs and a normal start is never silent for more than ~2 s. There
    `import_silence` applies instead of `init_silence`. The worker is stopped (SIGSTOP) in that phase, once,
    which makes it as silent as the hang (the stall check, which would see it idle, is off here): it is
    replaced after ~6 s, not 60, and the replayed start succeeds."""
    import logging
    import threading

    from lean.worker import LeanWorker

    monkeypatch.setattr(LeanWorker, "_check_stall", lambda self, watch, now: None)
    f = tmp_path / "Importing.lean"  # a header no other test uses: the start loads imports in a fresh process
    f.write_text("import Init.Data.List.Lemmas\n\ntheorem t (n : Nat) : n + 0 = n := by\n  sorry\n")
    go, finalize = lean_server.toolchain.import_trace  # the embedded Lean traces its import phase
    stopped: list[int] = []
    done = threading.Event()

    def stop_while_importing() -> None:
        while not done.is_set() and not stopped:
            for w in lean_server.workers():
                try:
                    log_text = (w.dir / "stderr.log").read_text(errors="replace")
                except OSError:
                    continue
                if go in log_text and finalize not in log_text and w.proc is not None:
                    os.kill(w.proc.pid, signal.SIGSTOP)
                    stopped.append(w.proc.pid)
                    return
            time.sleep(0.02)

    poller = threading.Thread(target=stop_while_importing, daemon=True)
    poller.start()
    # 6 s: the replayed start goes through the imports too (quiet for at most ~1.6 s, two starts on 2 cores)
    config = lean_server.config.with_(init_silence=60, import_silence=6)
    t0 = time.time()
    try:
        with caplog.at_level(logging.WARNING, logger="lean.worker"):
            with Dojo(Theorem(f, "t"), server=lean_server, config=config) as (dojo, s0):
                elapsed = time.time() - t0
                assert isinstance(dojo.run_tac(s0, "simp"), ProofFinished)
                assert dojo.stats["stalls"] == 1 and dojo.stats["restarts"] >= 1
    finally:
        done.set()
        poller.join()
    assert len(stopped) == 1, "the worker was never seen loading its imports"
    assert "said nothing for 6 s while loading its imports" in caplog.text
    assert elapsed < 45, f"the start took {elapsed:.0f} s: the import-phase limit did not apply before init_silence"


def test_bad_input_errors(tmp_path, demo_file, lean_server):
    with pytest.raises(DojoInitError, match="does not exist"):
        Dojo(Theorem(tmp_path / "Missing.lean", "x"), server=lean_server).start()
    with pytest.raises(DojoInitError, match="no theorem named 'nope'"):
        Dojo(Theorem(demo_file, "nope"), server=lean_server).start()
    binary = tmp_path / "Bin.lean"
    binary.write_bytes(b"theorem t : True := by\n  trivial\n\xff\xfe\n")
    with pytest.raises(DojoInitError, match="UTF-8"):
        Dojo(Theorem(binary, "t"), server=lean_server).start()
    broken = tmp_path / "Broken.lean"
    broken.write_text("theorem a : True := by\n  exact nonexistent_lemma\n\ntheorem b : True := by\n  sorry\n")
    with pytest.raises(DojoInitError, match="does not elaborate before theorem b: line 2"):
        Dojo(Theorem(broken, "b"), server=lean_server).start()


def test_bad_tactics_are_errors_not_crashes(demo_file, lean_server):
    with Dojo(Theorem(demo_file, "add_zero'"), server=lean_server) as (dojo, s0):
        for tac in ["", "   ", "x" * 10000, "simp \ud800", "exact (", "exact foo)", "\x00"]:
            assert isinstance(dojo.run_tac(s0, tac), LeanError), tac
        assert isinstance(dojo.run_tac(s0, "simp"), ProofFinished)


tactic_words = st.sampled_from(["simp", "omega", "rfl", "decide", "intro", "constructor", "exact", "apply", "rw", "[",
                                "]", "(", ")", "Nat.add_comm", "h", "·", "<;>", "cases", "induction", "n", "with", "|",
                                "=>", "trivial", "by", "fun", "⟨", "⟩", ",", "2", "5", "\n", "sorry", "native_decide",
                                "theorem", ":=", "--", "@[simp]"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(random_tactic=st.lists(tactic_words, min_size=1, max_size=8).map(" ".join))
def test_random_tactics_never_prove_a_false_theorem(random_tactic, demo_file, lean_server):
    with Dojo(Theorem(demo_file, "two_plus_two_five"), server=lean_server) as (dojo, s0):
        r = dojo.run_tac(s0, random_tactic)
        assert not isinstance(r, ProofFinished), random_tactic
        assert isinstance(r, (TacticState, LeanError, ProofGivenUp))


@pytest.mark.slow
def test_soak_500_steps_flat_memory(demo_file, lean_server):
    with Dojo(Theorem(demo_file, "len_append"), server=lean_server) as (dojo, s0):
        tactics = ["intro", "simp", "induction xs", "omega", "rfl", "constructor", "cases ys"]
        rss = []
        for i in range(500):
            r = dojo.run_tac(s0, tactics[i % len(tactics)])
            assert isinstance(r, (TacticState, LeanError, ProofFinished))
            if i % 50 == 49:
                rss.append(dojo.worker.rss_mb())
        # after warm-up, memory stays flat (allow 25% drift for allocator noise)
        assert max(rss[2:]) < 1.25 * rss[1], rss


def test_doc_commented_theorem(demo_file, lean_server):
    with Dojo(Theorem(demo_file, "documented"), server=lean_server) as (dojo, s0):
        assert s0.pp.endswith("⊢ p ∧ p")
        assert isinstance(dojo.run_tac(s0, "exact ⟨hp, hp⟩"), ProofFinished)


def test_audit_after_nested_scopes_and_clashing_opens(tmp_path, lean_server):
    """The audit helpers are appended after the theorem: the file's open namespaces, sections,
    `noncomputable section` and names opened at top level must not break them (else every proof in
    such a file would be rejected)."""
    f = tmp_path / "Scopes.lean"
    f.write_text(
        "open List Nat\n\ndef elem (n : Nat) : Nat := n\ndef cat := 3\n\n"
        "namespace Foo.Bar\nsection S\nvariable (k : Nat)\nopen String\n\n"
        "theorem t1 (a b : Nat) : a + b = b + a := by\n  sorry\n\nend S\nend Foo.Bar\n\n"
        "noncomputable section\ntheorem t2 (xs : List Nat) : xs ++ [] = xs := by\n  sorry\nend\n")
    for name, tactic in (("Foo.Bar.t1", "omega"), ("t2", "simp")):
        with Dojo(Theorem(f, name), server=lean_server) as (dojo, s0):
            assert isinstance(dojo.run_tac(s0, tactic), ProofFinished), name
            assert isinstance(dojo.check_proof(["sorry"]), ProofGivenUp)


def test_audit_of_a_name_that_does_not_resolve_reports_missing_not_clean(demo_file, lean_server):
    """The audit command resolves names itself (a file's own declarations are private here). A name it
    cannot find must print `LA-MISSING`, never an empty list of leaves, which would pass as clean."""
    from lean import leanmeta
    with Dojo(Theorem(demo_file, "and_swap"), server=lean_server) as (dojo, s0):
        proof = ("constructor", "exact hq", "exact hp")
        for name, found in (("and_swap", True), ("and_swap_nowhere", False)):
            elab = dojo._elaborate(proof, check=dojo._doc.decl.closing_commands() + leanmeta.axioms_command(name))
            infos = "\n".join(d.message for d in elab.diagnostics if not d.is_error)
            reports = leanmeta.parse_report("LA-AXIOMS", infos)
            assert (list(reports) == ["and_swap"]) is found, infos
            assert ("LA-MISSING and_swap_nowhere" in infos) is not found, infos


def test_module_files_are_audited(tmp_path, lean_server):
    """A `module` file (Lean's module system, as the bundled development is written) needs public imports
    for the audit's elaborator; with or without its own `import Lean`, a proof is audited and accepted,
    and one that leans on a `sorry`'d lemma is not."""
    for i, own in enumerate(("", "import Lean\n", "public import Lean\n")):
        f = tmp_path / f"Mod{i}.lean"
        f.write_text(f"module\n{own}@[expose] public section\n\nnamespace Foo\n"
                     "theorem gap (a : Nat) : a * 0 = 0 := by\n  sorry\n\n"
                     "theorem comm (a b : Nat) : a + b = b + a := by\n  sorry\nend Foo\n")
        with Dojo(Theorem(f, "Foo.comm"), server=lean_server) as (dojo, s0):
            assert isinstance(dojo.run_tac(s0, "omega"), ProofFinished), own
            bad = dojo.run_tac(s0, "exact (fun _ => Nat.add_comm a b) (Foo.gap a)")
            assert isinstance(bad, LeanError) and "sorryAx" in bad.error, (own, bad)


def test_run_tacs_matches_run_tac_one_by_one(demo_file, lean_server):
    """The batched path (one edit, a copy of the theorem per tactic) gives what run_tac gives."""
    tactics = ["intro hpq hq' hp'", "exact 1", "sorry", "intro h", "native_decide", "skip", "intro a b c",
               "exact fun hpqr hq hp => hpqr hp hq", "induction"]
    with Dojo(Theorem(demo_file, "and_imp_comm"), server=lean_server) as (dojo, s0):
        steps0 = dojo.stats["steps"]
        batched = dojo.run_tacs(s0, tactics)
        assert dojo.stats.get("batches", 0) == 1
        # each tactic that reached Lean counts as one step, the finisher's audited re-run included
        assert dojo.stats["steps"] - steps0 == 7  # 9 minus `sorry` and `native_decide`, screened before Lean
        single = [dojo.run_tac(s0, t) for t in tactics]
        assert [type(r) for r in batched] == [type(r) for r in single]
        assert [r.pp for r in batched if isinstance(r, TacticState)] == [r.pp for r in single if isinstance(r, TacticState)]
        assert isinstance(batched[7], ProofFinished) and isinstance(batched[2], ProofGivenUp)
        assert isinstance(batched[1], LeanError) and isinstance(batched[4], LeanError)
        # states from a batch are ordinary states: they can be extended, alone or in a batch again
        nxt = dojo.run_tacs(batched[0], ["exact hpq hp' hq'", "exact hpq hq' hp'"])
        assert isinstance(nxt[0], ProofFinished) and isinstance(nxt[1], LeanError)
        assert nxt[0].tactics == ("intro hpq hq' hp'", "exact hpq hp' hq'")


PREFIX_FILE = """/-! Everything a file may hold before a theorem. -/
namespace Geo

variable (n : Nat)

/-- doubled -/
def double := n + n

private theorem double_eq : double n = 2 * n := by
  unfold double; omega

section Inner
open Nat in
theorem succ_double : double (succ n) = double n + 2 := by
  unfold double; omega
end Inner

local notation "⟪" x "⟫" => double x

instance : Inhabited (Fin 3) := ⟨0⟩

theorem target (m : Nat) : ⟪m⟫ + 2 = double (m + 1) := by
  sorry
end Geo
"""


def test_text_before_the_theorem_is_loaded_and_means_the_same(tmp_path, lean_server, monkeypatch):
    """The file's text before the theorem is elaborated without info trees (`#lean_agent_prefix`, a
    piece per declaration): namespaces, variables, sections, `open … in`, private lemmas and local
    notation carry over. Pieces the loader cannot elaborate (here: cut between `open Nat in` and its
    theorem) make the Dojo fall back to the text as written, with the same states and proofs."""
    from lean import dojo as dojo_module
    f = tmp_path / "Geo.lean"
    f.write_text(PREFIX_FILE)
    pps = []
    for loaded in (True, False):
        if not loaded:
            monkeypatch.setattr(dojo_module, "_with_in_prefixes", lambda text, start: start)
        with Dojo(Theorem(f, "Geo.target"), server=lean_server) as (dojo, s0):
            assert bool(dojo._doc.prefix_lines) == loaded
            pps.append(s0.pp)
            assert isinstance(dojo.run_tac(s0, "rw [succ_double]"), ProofFinished)
            assert isinstance(dojo.run_tac(s0, "simp only [double_eq]; omega"), ProofFinished)
            assert isinstance(dojo.run_tac(s0, "exact rfl"), LeanError)
    assert pps[0] == pps[1] == "m : Nat\n⊢ ⟪m⟫ + 2 = ⟪m + 1⟫"


def test_the_loaded_file_check_finds_the_errors_the_check_as_written_finds(tmp_path, lean_server):
    """`loaded_file_errors` (the write check after a search: the text loaded a piece per declaration, as a
    Dojo loads it) reports the errors `file_errors` reports, on the file's own lines; a parse error is
    found by both, though a piece ends where the next declaration begins, so its place may differ."""
    from lean.dojo import file_errors, loaded_file_errors
    f = tmp_path / "Geo.lean"
    f.write_text(PREFIX_FILE)
    proved = PREFIX_FILE.replace("double (m + 1) := by\n  sorry", "double (m + 1) := by\n  rw [succ_double]")
    variants = {
        "open theorem (a warning only)": PREFIX_FILE,
        "proved": proved,
        "type error in an early proof": proved.replace("unfold double; omega\n\nsection", "unfold double; exact rfl\n\nsection"),
        "two errors": proved.replace("unfold double; omega\nend Inner", "exact (rfl : 1 = 2)\nend Inner")
                            .replace("⟨0⟩", "⟨5⟩"),
        "error after the last theorem": proved.replace("end Geo", "theorem bad : True := nope\nend Geo"),
        "scope closed twice": proved + "end Geo\n",
    }
    with Dojo(Theorem(f, "Geo.target"), server=lean_server) as (dojo, s0):  # the worker as a search leaves it
        assert dojo._doc.prefix_lines
    for what, text in variants.items():
        loaded = loaded_file_errors(f, text, server=lean_server)
        written = file_errors(f, text, server=lean_server)
        assert sorted(d.start.line for d in loaded) == sorted(d.start.line for d in written), what
        assert all(d.is_error and "LA-PREFIX" not in d.message for d in loaded), what
        if what in ("open theorem (a warning only)", "proved"):
            assert loaded == [], what
        else:
            assert loaded, what
    broken = proved.replace("unfold double; omega\n\nsection", "exact ((\n\nsection")
    assert loaded_file_errors(f, broken, server=lean_server) and file_errors(f, broken, server=lean_server)


def test_without_the_prefix_loader_the_file_is_checked_as_written(tmp_path, lean_server, monkeypatch):
    """A Lean in which the loader's command does not exist answers every piece with an error of its own,
    not the loader's report: the check then elaborates the text as written instead of refusing a good file."""
    from lean import leanmeta
    from lean.dojo import file_errors, loaded_file_errors
    f = tmp_path / "Geo.lean"
    f.write_text(PREFIX_FILE)
    monkeypatch.setattr(leanmeta, "PREFIX_SYNTAX", "#lean_agent_no_such_command")
    assert loaded_file_errors(f, PREFIX_FILE, server=lean_server) == []
    bad = PREFIX_FILE.replace("end Geo", "theorem bad : True := nope\nend Geo")
    assert loaded_file_errors(f, bad, server=lean_server) == file_errors(f, bad, server=lean_server) != []


RUNNER_THEOREM = ("theorem mixed (a b c : Nat) (h : a ≤ b) (xs : List Nat) (p : Prop) (hp : p) :\n"
                  "    (a + b + c = c + b + a ∧ xs ++ [] = xs) ∧ p := by\n  sorry\n")

# what a policy proposes, and what it should not get wrong: errors logged without an exception (`exact foo`
# recovers with `sorry`), combinators, trailing `;` and comments, quotes and backslashes in the text,
# focusing dots, multi-line tactics (run alone), incomplete tactics, heartbeat exhaustion, finishers
RUNNER_TACTICS = ["constructor", "omega", "simp", "intro x", "refine ⟨?_, ?_⟩", "exact foo", "simp_all", "decide",
                  "rfl", "constructor <;> simp", "simp;", "constructor -- split it", "exact (\"a\\\\b\" : String)",
                  "· simp", "constructor <;>", "try", "all_goals constructor", "refine ⟨⟨?_, by simp⟩, hp⟩",
                  "exact ⟨⟨by omega, by simp⟩, hp⟩", "constructor\n· constructor", "skip", "exact hp",
                  "set_option maxHeartbeats 1 in simp_all", "cases xs", "induction xs <;> simp_all", "apply And.intro"]


@pytest.mark.parametrize("held", [True, False], ids=["held-states", "in-document-runner"])
def test_run_tacs_in_lean_agrees_with_run_tac_at_every_depth(tmp_path, lean_server, held):
    """All of a state's tactics run together inside Lean (by RPC on the held state, or by the candidate
    runner in one edit) answer what editing the document answers one tactic at a time: the same kind of
    result, the same goals, the same proofs."""
    f = tmp_path / "Mixed.lean"
    f.write_text(RUNNER_THEOREM)
    by_edit = lean_server.config.with_(rpc_steps=False)
    with Dojo(Theorem(f, "mixed"), server=lean_server, config=by_edit.with_(rpc_steps=held)) as (dojo, s0), \
            Dojo(Theorem(f, "mixed"), server=lean_server, config=by_edit) as (edits, _):
        assert dojo.rpc == held and not edits.rpc
        states = [s0, dojo.run_tac(s0, "constructor"), dojo.run_tac(dojo.run_tac(s0, "constructor"), "constructor")]
        assert all(isinstance(s, TacticState) for s in states), states
        kinds = set()
        for state in states:
            batches = dojo.stats.get("batches", 0)
            together = dojo.run_tacs(state, RUNNER_TACTICS)
            kinds |= {type(r) for r in together}
            assert dojo.stats["batches"] == batches + 1
            alone = [edits.run_tac(state, t) for t in RUNNER_TACTICS]
            for t, a, b in zip(RUNNER_TACTICS, together, alone):
                assert type(a) is type(b), (state.pp, t, a, b)
                if isinstance(a, TacticState):
                    assert a.pp == b.pp and a.tactics == b.tactics, (t, a, b)
                    # a state the runner made is an ordinary state
                    assert type(dojo.run_tac(a, "skip")) is TacticState
                if isinstance(a, ProofFinished):
                    assert a.tactics == b.tactics
        assert kinds == {TacticState, LeanError, ProofFinished}


def _sum_have(name: str, k: int) -> str:
    """A `have` whose `omega` costs heartbeats in proportion to `k`."""
    return f"have {name} : {' + '.join(['xs.length'] * k)} = {k} * xs.length := by omega"


def test_the_runner_counts_the_heartbeats_run_tac_counts(tmp_path, lean_server):
    """`maxHeartbeats` is per declaration. Editing the document, a candidate that fits the budget alone but
    not after the state's own tactics fails in the in-document runner as it fails in run_tac (and in the
    finished proof); what the batch's earlier candidates used is not counted against the later ones.
    On states held in Lean (RPC) each tactic gets the whole budget, but a proof that exceeds it is still
    refused: the finishing step is re-elaborated whole."""
    f = tmp_path / "Mixed.lean"
    f.write_text(RUNNER_THEOREM)
    # measured: one 30-term `omega` fits 700k heartbeats, two do not
    config = lean_server.config.with_(max_heartbeats=700, rpc_steps=False)
    with Dojo(Theorem(f, "mixed"), server=lean_server, config=config) as (dojo, s0):
        s1 = dojo.run_tac(s0, _sum_have("h1", 30))
        assert isinstance(s1, TacticState), s1
        at_root = dojo.run_tacs(s0, [_sum_have("h2", 30), _sum_have("h3", 30), "constructor"])
        assert [type(r) for r in at_root] == [TacticState] * 3, at_root
        after = dojo.run_tacs(s1, [_sum_have("h2", 30), "constructor"])
        alone = [dojo.run_tac(s1, _sum_have("h2", 30)), dojo.run_tac(s1, "constructor")]
        assert [type(r) for r in after] == [type(r) for r in alone] == [LeanError, TacticState], (after, alone)
        assert "heartbeats" in after[0].error
    with Dojo(Theorem(f, "mixed"), server=lean_server, config=config.with_(rpc_steps=True)) as (dojo, s0):
        s1 = dojo.run_tac(s0, _sum_have("h1", 30))
        s2 = dojo.run_tac(s1, _sum_have("h2", 30))
        assert isinstance(s2, TacticState), s2  # the whole budget for each step
        done = dojo.run_tac(s2, "exact ⟨⟨by omega, by simp⟩, hp⟩")
        assert isinstance(done, LeanError) and "heartbeats" in done.error, done
        assert isinstance(dojo.run_tac(s1, "exact ⟨⟨by omega, by simp⟩, hp⟩"), ProofFinished)


def test_the_runner_starts_no_tactic_after_its_time(tmp_path, lean_server):
    """`timeout` is checked inside Lean before each candidate: the tactics not started in time are answered
    with a Timeout error, and the worker is not stopped (a stop costs a restart)."""
    from lean import leanmeta
    f = tmp_path / "Mixed.lean"
    f.write_text(RUNNER_THEOREM)
    with Dojo(Theorem(f, "mixed"), server=lean_server) as (dojo, s0):
        restarts = dojo.stats["restarts"]
        # the first candidate takes ~0.3 s, far past the 0.05 s given
        out = dojo.run_tacs(s0, [_sum_have("h", 120), "constructor", "simp"], timeout=0.05, grace=60)
        assert isinstance(out[0], TacticState), out
        assert [r.error for r in out[1:]] == [leanmeta.NOT_STARTED] * 2, out
        assert dojo.stats["restarts"] == restarts and dojo.stats["batches"] == 1
        # without a deadline they all run
        assert [type(r) for r in dojo.run_tacs(s0, ["constructor", "simp"])] == [TacticState, TacticState]


@pytest.mark.parametrize("block", ["TRY_ELAB", "RPC_ELAB"])
def test_a_runner_that_does_not_elaborate_is_turned_off(tmp_path, lean_server, monkeypatch, block):
    """A Lean whose API differs from the pinned one may reject the runner's definitions or the held
    states': the Dojo still starts, says so, and runs a state's tactics by edit (in one edit when the
    runner elaborates, else one edit each), with the same answers."""
    from lean import leanmeta
    broken = getattr(leanmeta, block).replace("IO.getNumHeartbeats", "IO.getNumHeartbeatsNoSuchThing")
    assert broken != getattr(leanmeta, block)
    monkeypatch.setattr(leanmeta, block, broken)
    f = tmp_path / "Mixed.lean"
    f.write_text(RUNNER_THEOREM)
    with Dojo(Theorem(f, "mixed"), server=lean_server) as (dojo, s0):
        assert dojo.rpc is False and dojo.runner is (block == "RPC_ELAB")
        tactics = ["constructor", "exact foo", "exact ⟨⟨by omega, by simp⟩, hp⟩", "simp"]
        together = dojo.run_tacs(s0, tactics)
        assert dojo.stats.get("batches", 0) == (block == "RPC_ELAB")
        assert [type(r) for r in together] == [TacticState, LeanError, ProofFinished, TacticState], together


_TOKENS = ["simp", "omega", "intro", "x", "h", "hp", "exact", "constructor", "<;>", ";", "(", ")", '"', "\\", "⟨", "⟩",
           "rfl", "·", "at", "[", "]", "--", "decide", "trivial", "_", "?_", "refine", "apply", "cases", "with", "|",
           "=>", "\n", "And.intro", "Nat.le_refl", "a", "b", ",", "all_goals", "first", "skip", "assumption", "⊢", "'"]


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.lists(st.sampled_from(_TOKENS), min_size=1, max_size=6).map(" ".join), min_size=2, max_size=6))
def test_random_tactics_in_lean_agree_with_run_tac(tmp_path_factory, lean_server, tactics):
    """Random tactic text run together on a held state: no crash, no proof that editing the document would
    not give, and the same answers as one edit per tactic."""
    f = tmp_path_factory.mktemp("rand") / "Mixed.lean"
    f.write_text(RUNNER_THEOREM)
    by_edit = lean_server.config.with_(rpc_steps=False)
    with Dojo(Theorem(f, "mixed"), server=lean_server) as (dojo, s0), \
            Dojo(Theorem(f, "mixed"), server=lean_server, config=by_edit) as (edits, _):
        s1 = dojo.run_tac(s0, "constructor")
        for state in (s0, s1):
            together = dojo.run_tacs(state, tactics)
            alone = [edits.run_tac(state, t) for t in tactics]
            assert [type(r) for r in together] == [type(r) for r in alone], (tactics, together, alone)
            assert [r.pp for r in together if isinstance(r, TacticState)] == \
                   [r.pp for r in alone if isinstance(r, TacticState)]


def test_run_tacs_first_proof_audits_one_finisher(demo_file, lean_server):
    """Search needs one proof: with first_proof the later finishers of a batch skip the audit (each costs
    about a dozen steps), and say so; without it every finisher is audited."""
    tactics = ["intro h", "exact ⟨hq, hp⟩", "constructor <;> assumption", "simp [hp, hq]"]
    with Dojo(Theorem(demo_file, "and_swap"), server=lean_server) as (dojo, s0):
        every = dojo.run_tacs(s0, tactics)
        assert [type(r) for r in every] == [LeanError, ProofFinished, ProofFinished, ProofFinished], every
        audits = dojo.stats["audit_s"]
        first = dojo.run_tacs(s0, tactics, first_proof=True)
        assert isinstance(first[0], LeanError) and not isinstance(first[0], NotAudited)
        assert isinstance(first[1], ProofFinished) and first[1].tactics == ("exact ⟨hq, hp⟩",)
        assert all(isinstance(r, NotAudited) and "'exact ⟨hq, hp⟩'" in r.error
                   for r in first[2:]), first
        assert dojo.stats["audit_s"] > audits  # the one finisher was audited
        # away from the initial state too, the tactics run together in one call; on held states Lean stops
        # at the first proof, so the tactics after it are not run (in the in-document runner they are, and
        # keep their answers), and the later finishers are not audited
        s1 = dojo.run_tac(s0, "constructor")
        tactics = ["exact hp", "all_goals assumption", "exact hq", "all_goals assumption"]
        edit = lean_server.config.with_(rpc_steps=False)
        with Dojo(Theorem(demo_file, "and_swap"), server=lean_server, config=edit) as (runner, r0):
            r1 = runner.run_tac(r0, "constructor")
            for d, state, kept in ((dojo, s1, NotAudited), (runner, r1, TacticState)):
                batches = d.stats.get("batches", 0)
                later = d.run_tacs(state, tactics, first_proof=True)
                assert d.stats.get("batches", 0) == batches + 1
                assert [type(r) for r in later[:3]] == [LeanError, ProofFinished, kept], later
                assert isinstance(later[3], NotAudited), later
                assert later[3].error.startswith("not run" if d.rpc else "not audited"), later
        assert later[2].pp == dojo.run_tac(s1, "exact hq").pp
        every = dojo.run_tacs(s1, ["exact hp", "all_goals assumption", "exact hq"])
        assert [type(r) for r in every] == [LeanError, ProofFinished, TacticState], every


def test_states_held_in_lean_agree_with_edits(demo_file, lean_server):
    """Tactics run by RPC on states held in Lean (`LeanConfig.rpc_steps`) give what editing the document
    gives: the same goals, errors and finished proofs, at depth 0 and 1, and after an edit (a finished
    proof's whole-theorem check) has replaced the held document, whose states are then held again."""
    tactics = ["constructor", "exact hp", "exact ⟨hq, hp⟩", "simp", "constructor;", "exact hq -- c", "intro h",
               "refine ⟨?_, hp⟩", "cases hp"]
    edit_config = lean_server.config.with_(rpc_steps=False)
    with Dojo(Theorem(demo_file, "and_swap"), server=lean_server) as (held, s0), \
            Dojo(Theorem(demo_file, "and_swap"), server=lean_server, config=edit_config) as (edits, e0):
        assert held.rpc and not edits.rpc
        for state_h, state_e in ((s0, e0), (held.run_tac(s0, "constructor"), edits.run_tac(e0, "constructor"))):
            by_rpc = [held.run_tac(state_h, t) for t in tactics]
            by_edit = [edits.run_tac(state_e, t) for t in tactics]
            assert [type(r) for r in by_rpc] == [type(r) for r in by_edit]
            assert [r.pp for r in by_rpc if isinstance(r, TacticState)] == [r.pp for r in by_edit if isinstance(r, TacticState)]
            assert [r.error.split("\n")[0] for r in by_rpc if isinstance(r, LeanError)] == \
                   [r.error.split("\n")[0] for r in by_edit if isinstance(r, LeanError)]
        assert len(held._held) > 2  # the states above were held in Lean, not edited
        # a proof that does not check is decided by edit, which replaces the held document: a deep state
        # is then reached again by replaying its tactics on held states
        held_text = held.worker.text
        assert isinstance(held.check_proof(["constructor", "exact hq"]), TacticState)
        assert held.worker.text != held_text
        s1 = held.run_tac(s0, "constructor")
        s2 = held.run_tac(s1, "exact hq")
        assert isinstance(held.run_tac(s2, "exact hp"), ProofFinished)
        assert isinstance(held.run_tac(s2, "exact hq"), LeanError)
        assert held.run_tacs(s1, ["exact hq", "exact hp"])[0] == s2


SCOPED = """namespace Foo
variable (n : Nat)
def double (k : Nat) := k + k
theorem helper : (2 : Nat) + 2 = 5 := by
  sorry
open Nat in
theorem target : double n = 2 * n := by
  sorry
end Foo
"""


def test_finished_proofs_are_checked_without_an_edit(tmp_path, lean_server):
    """A step that closes the goals on a held state, and `check_proof`, are decided by the held check
    (`leanmeta.RPC_CHECK`): the theorem elaborated whole as written, from the command state the document
    saved just before it (here a namespace, a section variable and an `open … in`), then audited. It
    accepts what the edit path accepts, without editing the document, and leaves every rejection to the
    edit path, whose messages stand."""
    f = tmp_path / "Scoped.lean"
    f.write_text(SCOPED)
    with Dojo(Theorem(f, "Foo.target"), server=lean_server) as (dojo, s0):
        held_text = dojo.worker.text
        s1 = dojo.run_tac(s0, "unfold double")
        assert isinstance(s1, TacticState), s1
        assert isinstance(dojo.run_tac(s1, "omega"), ProofFinished)
        assert isinstance(dojo.check_proof(["unfold double", "omega"]), ProofFinished)
        assert dojo.stats["rpc_accepted"] == 2 and dojo.worker.text == held_text  # no edit
        # an audit the proof fails: rejected with the edit path's message
        bad = dojo.run_tac(s0, "have := helper; unfold double; omega")
        assert isinstance(bad, LeanError) and "sorryAx" in bad.error, bad
        assert dojo.stats["rpc_accepted"] == 2 and dojo.worker.text != held_text
    with Dojo(Theorem(f, "Foo.target"), server=lean_server, allowed_premises=("Foo.helper",)) as (dojo, s0):
        assert isinstance(dojo.run_tac(s0, "have := helper; unfold double; omega"), ProofFinished)
        assert dojo.stats["rpc_accepted"] == 1
    with Dojo(Theorem(f, "Foo.target"), server=lean_server, config=lean_server.config.with_(rpc_steps=False)) as (dojo, s0):
        assert isinstance(dojo.check_proof(["unfold double", "omega"]), ProofFinished)
        assert "rpc_accepted" not in dojo.stats
