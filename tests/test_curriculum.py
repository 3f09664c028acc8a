"""The curriculum manager and daemon on a small fixture Lake package, against the real Lean."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from curriculum.config import CurriculumConfig, CurriculumConfigError
from curriculum.manager import Manager, ProjectPathError
from lean.dojo import file_errors

A = """\
module
@[expose] public section
namespace Fix

def double (n : Nat) : Nat := n + n

theorem double_eq (n : Nat) : double n = 2 * n := by
  unfold double
  omega

theorem and_pair (p q : Prop) (hp : p) (hq : q) : p ∧ q := by
  sorry

end Fix
end
"""

B = """\
module
public import Fix.A
@[expose] public section
namespace Fix

theorem swap_pair (p q : Prop) (hp : p) (hq : q) : q ∧ p := by
  sorry

end Fix
end
"""


def make_project(root: Path) -> Path:
    (root / "Fix").mkdir(parents=True)
    (root / "lakefile.lean").write_text("import Lake\nopen Lake DSL\n\npackage fix where\n\nlean_lib Fix where\n  roots := #[`Fix.A, `Fix.B]\n")
    (root / "Fix" / "A.lean").write_text(A)
    (root / "Fix" / "B.lean").write_text(B)
    return root


def one_file_project(root: Path, theorems: str) -> Path:
    """A package `Fix` with one module, `Fix.A`: `double`, then `theorems`."""
    (root / "Fix").mkdir(parents=True)
    (root / "lakefile.lean").write_text("import Lake\nopen Lake DSL\n\npackage fix where\n\nlean_lib Fix where\n  roots := #[`Fix.A]\n")
    (root / "Fix" / "A.lean").write_text("module\n@[expose] public section\nnamespace Fix\n\ndef double (n : Nat) : Nat := n + n\n\n"
                                        + textwrap.dedent(theorems) + "\nend Fix\nend\n")
    return root


def test_bad_config_and_project_errors(tmp_path):
    with pytest.raises(CurriculumConfigError, match="unknown setting.*valid settings are"):
        CurriculumConfig.from_dict({"roundz": 3})
    with pytest.raises(CurriculumConfigError, match="rounds"):
        CurriculumConfig(rounds=0)
    with pytest.raises(CurriculumConfigError, match="model_gate.*between 0 and 1"):
        CurriculumConfig(model_gate=1.5)
    bad = tmp_path / "c.yaml"
    bad.write_text("budget: [1, 2")
    with pytest.raises(CurriculumConfigError, match="not valid YAML"):
        CurriculumConfig.from_yaml(bad)
    bad.write_text("budget: fast\n")
    with pytest.raises(CurriculumConfigError, match="budget must be a number"):
        CurriculumConfig.from_yaml(bad)
    with pytest.raises(ProjectPathError, match="does not exist"):
        Manager(tmp_path / "nowhere", CurriculumConfig(out=str(tmp_path / "o")))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ProjectPathError, match="lakefile"):
        Manager(tmp_path / "empty", CurriculumConfig(out=str(tmp_path / "o")))


@pytest.mark.lean
def test_round_proves_writes_back_stores_and_trains(tmp_path, lean_server):
    root = make_project(tmp_path / "proj")
    cfg = CurriculumConfig(rounds=1, budget=60, max_expansions=40, train_steps=4, train_batch_size=4,
                           forgetting_sample=0, out=str(tmp_path / "out"), device="cpu", memory=True)
    m = Manager(root, cfg, server=lean_server, log=lambda *_: None)
    try:
        metrics = m.run()
        # every proof's steps were remembered as it was found, and the memory is part of the policy
        from prover.memory import MemoryPolicy
        from prover.policy import MixturePolicy

        examples = m.store.examples()
        assert len(m.memory) == len(examples) >= 2
        assert isinstance(m.policy, MixturePolicy) and any(isinstance(p, MemoryPolicy) for p, _ in m.policy.policies)
        # a trained model must earn its place in the search: an untrained one recalls none of the tactics
        from prover.policy import PolicyModelConfig, TransformerPolicy

        m.model = TransformerPolicy.from_scratch(PolicyModelConfig(device="cpu", seed=1))
        assert not m._model_shows_value(examples)
    finally:
        m.close()
    # a restarted manager remembers everything the store holds
    again = Manager(root, cfg, server=lean_server, log=lambda *_: None)
    try:
        assert len(again.memory) == len(examples)
    finally:
        again.close()
    assert len(metrics) == 1
    r = metrics[0]
    assert r.open == 2 and r.proved_this_round == 2 and r.proved_total == 2
    assert r.train_examples >= 2 and r.train_loss is not None
    for f in ("A.lean", "B.lean"):
        text = (root / "Fix" / f).read_text()
        assert "sorry" not in text
        assert file_errors(root / "Fix" / f, text, server=lean_server) == []
    db = sqlite3.connect(tmp_path / "out" / "store.sqlite")
    assert db.execute("SELECT COUNT(*) FROM edges").fetchone()[0] > 0
    assert db.execute("SELECT COUNT(*) FROM proofs WHERE written=1").fetchone()[0] == 2
    assert json.loads((tmp_path / "out" / "metrics.jsonl").read_text().splitlines()[0])["proved_this_round"] == 2
    assert (tmp_path / "out" / "policy" / "manifest.json").exists()


def test_pass_budgets():
    """A quick first pass only when asked for, and never at or above the budget."""
    assert CurriculumConfig(budget=3, time_limit=240).pass_budgets() == (3,)
    assert CurriculumConfig(budget=3, first_pass_budget=1).pass_budgets() == (1, 3)
    assert CurriculumConfig.from_dict({"first_pass_budget": 0.5}, budget=2.0).pass_budgets() == (0.5, 2.0)
    with pytest.raises(CurriculumConfigError, match="first_pass_budget.*below budget=3"):
        CurriculumConfig(budget=3, first_pass_budget=3)
    with pytest.raises(CurriculumConfigError, match="first_pass_budget must be a number"):
        CurriculumConfig.from_dict({"first_pass_budget": "quick"})


@pytest.mark.lean
def test_first_pass_then_the_full_budget_for_what_it_left(tmp_path, lean_server, monkeypatch):
    """Every open theorem is tried at the first pass's budget before any at the full budget, and only what
    the first pass left is tried again; a first-pass failure is not counted against the theorem."""
    import curriculum.manager as manager

    calls = []
    real = manager.attack_file

    def recording(path, targets, policy, **kw):
        calls.append((kw["search_config"].time_budget, list(targets)))
        return real(path, targets, policy, **kw)

    monkeypatch.setattr(manager, "attack_file", recording)
    root = one_file_project(tmp_path / "proj", """\
        theorem and_pair (p q : Prop) (hp : p) (hq : q) : p ∧ q := by
          sorry

        theorem quad (n : Nat) : double (double n) = 4 * n := by
          sorry
        """)
    # 1 ms is less than one Lean step: the first pass can prove next to nothing, so the second has work
    cfg = CurriculumConfig(rounds=1, budget=30, first_pass_budget=0.001, max_expansions=20, learning=False,
                           forgetting_sample=0, out=str(tmp_path / "out"), device="cpu")
    m = Manager(root, cfg, server=lean_server, log=lambda *_: None)
    try:
        metrics = m.run()
        failures = {n: m.store.failures(n) for n in ("Fix.and_pair", "Fix.quad")}
    finally:
        m.close()
    assert calls[0] == (0.001, ["Fix.and_pair", "Fix.quad"]), calls
    db = sqlite3.connect(tmp_path / "out" / "store.sqlite")
    rows = db.execute("SELECT theorem, proved, purpose FROM attempts ORDER BY id").fetchall()
    first = [r for r in rows if r[2] == "first pass"]
    assert [r[0] for r in first] == ["Fix.and_pair", "Fix.quad"] and rows[:2] == first, rows
    left = [t for t, proved, _ in first if not proved]
    assert left, "the first pass proved everything in 1 ms; nothing was left to test the second pass with"
    assert calls[1:] == [(30, left)], calls
    assert [(t, p) for t, p, purpose in rows[2:]] == [(t, 1) for t in left] and {r[2] for r in rows[2:]} == {"attack"}
    assert failures == {"Fix.and_pair": 0, "Fix.quad": 0}
    assert metrics[0].proved_this_round == 2 and metrics[0].attempted == 2
    assert "sorry" not in (root / "Fix" / "A.lean").read_text()


def _wait(pred, timeout: float, what: str):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


def _proofs(db: Path) -> dict:
    if not db.exists():
        return {}
    con = sqlite3.connect(db, timeout=30)
    try:
        return dict(con.execute("SELECT theorem, written FROM proofs"))
    except sqlite3.OperationalError:
        return {}
    finally:
        con.close()


@pytest.mark.lean
@pytest.mark.slow
def test_daemon_picks_up_new_sorry_and_survives_kill9(tmp_path):
    root = make_project(tmp_path / "proj")
    out = tmp_path / "out"
    db = out / "store.sqlite"
    cmd = [sys.executable, "-m", "curriculum.cli", "daemon", str(root), "--out", str(out), "--budget", "60",
           "--workers", "1", "--no-learning"]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    log = open(tmp_path / "daemon.log", "w")
    p = subprocess.Popen(cmd, stdout=log, stderr=log, env=env, start_new_session=True)
    try:
        _wait(lambda: _proofs(db).get("Fix.and_pair") == 1, 900, "the daemon to prove and write Fix.and_pair")
        # a person adds a new sorry while the daemon runs
        a = root / "Fix" / "A.lean"
        a.write_text(a.read_text().replace("end Fix", "theorem or_left' (p q : Prop) (hp : p) : p ∨ q := by\n  sorry\n\nend Fix"))
        _wait(lambda: _proofs(db).get("Fix.or_left'") == 1, 900, "the daemon to pick up the new sorry")
    finally:
        os.killpg(p.pid, signal.SIGKILL)  # kill -9, whatever it is doing
        p.wait()
    assert "sorry" not in (root / "Fix" / "A.lean").read_text().split("or_left'")[1]
    before = _proofs(db)
    # restart: nothing lost, the store opens, the daemon resumes and stops cleanly on SIGTERM
    p = subprocess.Popen(cmd, stdout=log, stderr=log, env=env, start_new_session=True)
    try:
        # the log is shared with the first run: wait for the second daemon's own `started` line
        _wait(lambda: (tmp_path / "daemon.log").read_text().count("event=started") >= 2, 300, "restart")
        time.sleep(3)
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=120) == 0
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
    assert _proofs(db) == before
    assert "event=stopped" in (tmp_path / "daemon.log").read_text()
    for f in ("A.lean", "B.lean"):
        assert file_errors(root / "Fix" / f, (root / "Fix" / f).read_text()) == []


@pytest.mark.lean
def test_compiled_modules_are_shared_between_copies(tmp_path, lean_config, capsys):
    """A second copy of a project (the curriculum's working copies, benchmark runs) restores compiled
    modules by content instead of compiling them again; a changed module is compiled."""
    from lean.build import ensure_built

    a, b = make_project(tmp_path / "a"), make_project(tmp_path / "b")
    ra = ensure_built(a / "Fix" / "B.lean", lean_config)
    capsys.readouterr()
    rb = ensure_built(b / "Fix" / "B.lean", lean_config)
    assert "building" not in capsys.readouterr().err
    assert ra.modules == rb.modules == ("Fix.A",) and ra.out_dir != rb.out_dir
    assert (rb.out_dir / "Fix" / "A.olean").read_bytes() == (ra.out_dir / "Fix" / "A.olean").read_bytes()
    assert [m for m, _ in rb.sorry_decls] == ["Fix.A"]  # what the build found travels with the copy
    # new content (unique per run: the content cache outlives test runs)
    (b / "Fix" / "A.lean").write_text(A + f"-- {uuid.uuid4().hex}\n")
    ensure_built(b / "Fix" / "B.lean", lean_config)
    assert "building Fix.A" in capsys.readouterr().err


def test_bundled_run_learns_only_from_the_seen_splits_human_proofs(tmp_path):
    """The bundled trace holds every theorem's human proof; the default run must never be handed the
    proofs of the open theorems it is meant to find."""
    from curriculum.cli import _with_bundled_human_data

    cfg = _with_bundled_human_data(CurriculumConfig(out=str(tmp_path / "out")))
    split = json.loads((Path(__file__).parent.parent / "data" / "split.json").read_text())
    rows = [json.loads(x) for x in Path(cfg.human_data).read_text().splitlines() if x.strip()]
    assert rows and {r["theorem"] for r in rows} <= set(split["seen"])
    assert not {r["theorem"] for r in rows} & set(split["target"])


@pytest.mark.lean
def test_forgetting_probe_searches_as_the_round_did(tmp_path, lean_server, monkeypatch):
    """A theorem proved with a premise (`double` unfolded) and re-attempted by the same policy next round
    is not forgotten: the probe gets the premises, the budget and the Lean workers the round had."""
    import curriculum.manager as manager

    calls = []
    real = manager.attack_file

    def recording(path, targets, policy, **kw):
        calls.append((Path(path).name, kw["search_config"].time_budget, kw.get("num_workers", 1)))
        return real(path, targets, policy, **kw)

    monkeypatch.setattr(manager, "attack_file", recording)
    root = one_file_project(tmp_path / "proj", """\
        theorem quad (n : Nat) : double (double n) = 4 * n := by
          sorry
        """)
    cfg = CurriculumConfig(rounds=2, budget=30, max_expansions=20, train_steps=2, train_batch_size=2,
                           forgetting_sample=1, out=str(tmp_path / "out"), device="cpu")
    m = Manager(root, cfg, server=lean_server, log=lambda *_: None)
    try:
        metrics = m.run()
    finally:
        m.close()
    assert metrics[0].proved_this_round == 1
    db = sqlite3.connect(tmp_path / "out" / "store.sqlite")
    probes = db.execute("SELECT proved FROM attempts WHERE purpose='forgetting'").fetchall()
    assert probes == [(1,)] and metrics[1].forgetting == 0.0
    rounds = [c for c in calls if not c[0].startswith(".forgetting-")]
    probe_calls = [c for c in calls if c[0].startswith(".forgetting-")]
    assert len(probe_calls) == 1 and rounds, calls
    assert {c[1:] for c in probe_calls} == {c[1:] for c in rounds} == {(30, m.lean_config.num_workers)}, calls


def test_trained_model_is_gated_on_held_out_proofs_in_the_same_round(tmp_path):
    """The model is judged on the proofs of theorems held out of its training, right after training: a
    model that learned something joins the search in the round it was trained (before, the gate only ran
    at the next training, so a run whose later rounds proved nothing never let it in). Held-out examples
    stay untrained in the store for a later training. No Lean is started: only the store and the model."""
    from prover.policy import TransformerPolicy

    root = make_project(tmp_path / "proj")
    cfg = CurriculumConfig(rounds=1, train_steps=40, train_batch_size=8, out=str(tmp_path / "out"), device="cpu")
    m = Manager(root, cfg, log=lambda *_: None)
    try:
        rows = [{"theorem": f"Fix.t{i}", "state": f"n : Nat\n⊢ n + {i} * 0 = n", "tactic": "simp", "source": "search"}
                for i in range(20)]
        m.store.add_examples(rows)
        trained, _ = m._train()
        untrained = m.store.examples(trained=False)
        assert len(untrained) == 2 and trained == 18  # 1/10 of the 20 theorems held out
        assert {r["theorem"] for r in untrained}.isdisjoint({r["theorem"] for r in m.store.examples(trained=True)})
        # it learned the one tactic of this data, so it recalls it on the held-out states and joins now
        assert m.model_useful
        assert any(isinstance(p, TransformerPolicy) for p, _ in m.policy.policies)
    finally:
        m.close()
