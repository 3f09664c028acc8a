"""Training: dataset I/O, replay mixing, config validation, SFT, manifests, expert iteration, CLI."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from prover.policy import PolicyModelConfig, TransformerPolicy
from training import (
    ConfigError,
    DataError,
    Example,
    ReplayBuffer,
    SFTConfig,
    SFTTrainer,
    examples_from_edges,
    examples_from_proof,
    file_sha256,
    load_examples,
    save_examples,
)
from training.cli import main

torch.set_num_threads(1)  # the test machine is shared; one thread is much faster under contention

TINY = PolicyModelConfig(n_layer=1, n_embd=64, n_head=2, n_positions=256, max_prompt_len=160, max_new_tokens=24)

EXAMPLES = [
    Example("t1", "n : Nat\n⊢ n + 0 = n", "simp"),
    Example("t2", "a b : Nat\n⊢ a + b = b + a", "omega"),
    Example("t3", "⊢ True", "trivial"),
    Example("t4", "h : p\n⊢ p", "exact h"),
    Example("t5", "xs : List Nat\n⊢ xs ++ [] = xs", "simp"),
    Example("t6", "n : Nat\n⊢ 0 + n = n", "induction n"),
]


def ex(i: int, source: str = "human") -> Example:
    return Example(f"thm{i}", f"⊢ goal {i}", f"tac {i}", None, source, None)


# ---- data ----------------------------------------------------------------------------------------

texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
examples_st = st.builds(
    Example, theorem=texts, state=texts, tactic=texts.filter(lambda s: s.strip() != ""),
    state_after=st.one_of(st.none(), texts), source=st.sampled_from(["human", "search"]),
    file=st.one_of(st.none(), texts),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(examples_st, max_size=6))
def test_jsonl_roundtrip(tmp_path_factory, exs):
    path = tmp_path_factory.mktemp("d") / "steps.jsonl"
    assert save_examples(path, exs) == len(exs)
    assert load_examples(path) == exs


def test_load_multiple_files_and_blank_lines(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    save_examples(a, EXAMPLES[:2])
    b.write_text("\n" + json.dumps({"theorem": "x", "state": "⊢ x", "tactic": "rfl"}) + "\n\n")
    got = load_examples([a, b])
    assert got[:2] == EXAMPLES[:2]
    assert got[2] == Example("x", "⊢ x", "rfl", None, "human", None)


def test_malformed_jsonl_names_file_and_line(tmp_path):
    p = tmp_path / "bad.jsonl"
    good = json.dumps({"theorem": "x", "state": "⊢ x", "tactic": "rfl"})
    p.write_text(good + "\n" + good + "\n{not json\n")
    with pytest.raises(DataError, match=r"bad\.jsonl:3: invalid JSON"):
        load_examples(p)
    p.write_text(good + "\n" + json.dumps({"theorem": "x", "state": "⊢ x"}) + "\n")
    with pytest.raises(DataError, match=r"bad\.jsonl:2: missing field\(s\) tactic"):
        load_examples(p)
    p.write_text(json.dumps({"theorem": "x", "state": "s", "tactic": "t", "source": "oracle"}) + "\n")
    with pytest.raises(DataError, match=r":1: .*source"):
        load_examples(p)
    with pytest.raises(DataError, match="no such data file"):
        load_examples(tmp_path / "missing.jsonl")


# ---- replay buffer -------------------------------------------------------------------------------


def test_replay_mix_ratio_and_dedup():
    buf = ReplayBuffer([ex(i) for i in range(100)])
    assert buf.add([ex(0), ex(1)]) == 0 and len(buf) == 100
    new = [ex(i, "search") for i in range(200, 230)] + [ex(200, "search")]  # one duplicate
    mixed = buf.mix(new, old_fraction=0.5, seed=1)
    assert len(mixed) == 60
    assert sum(e.theorem.startswith("thm2") and int(e.theorem[3:]) >= 200 for e in mixed) == 30
    assert len({e.key for e in mixed}) == len(mixed)
    assert buf.mix(new, 0.5, seed=1) == mixed  # deterministic
    assert buf.mix(new, 0.5, seed=2) != mixed
    assert len(buf.mix(new, 0.25, seed=0)) == 40  # 30 new + 10 old
    assert len(buf.mix(new, 0.0)) == 30
    # an old example equal to a new one is not double counted
    overlap = buf.mix([ex(5)], old_fraction=0.5, seed=0)
    assert len(overlap) == 2 and len({e.key for e in overlap}) == 2
    # small buffer: all of it
    assert len(ReplayBuffer([ex(1)]).mix(new, 0.9)) == 31
    with pytest.raises(ValueError, match="old_fraction"):
        buf.mix(new, 1.0)


def test_replay_max_size_evicts_oldest():
    buf = ReplayBuffer([ex(i) for i in range(5)], max_size=3)
    assert [e.theorem for e in buf] == ["thm2", "thm3", "thm4"]
    buf.add([ex(0)])
    assert [e.theorem for e in buf] == ["thm3", "thm4", "thm0"]


# ---- config ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"lr": 0}, "lr"),
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 1.5}, "batch_size"),
        ({"replay_fraction": 1.0}, "replay_fraction"),
        ({"device": "tpu"}, "device"),
        ({"bf16": "yes"}, "bf16"),
        ({"grad_clip": -1.0}, "grad_clip"),
        ({"max_steps": 0}, "max_steps"),
        ({"warmup": -1}, "warmup"),
    ],
)
def test_config_validation(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        SFTConfig(**kwargs)


def test_config_yaml(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("lr: 0.001\nepochs: 3\nmax_steps: null\nbf16: false\n")
    cfg = SFTConfig.from_yaml(p)
    assert (cfg.lr, cfg.epochs, cfg.max_steps, cfg.bf16) == (0.001, 3, None, False)
    p.write_text("lr: 0.001\nlearning_rate: 3\n")
    with pytest.raises(ConfigError, match="unknown SFTConfig key.*learning_rate.*valid keys are: lr, epochs"):
        SFTConfig.from_yaml(p)
    p.write_text("lr: [\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        SFTConfig.from_yaml(p)
    with pytest.raises(ConfigError, match="not found"):
        SFTConfig.from_yaml(tmp_path / "nope.yaml")


# ---- trainer -------------------------------------------------------------------------------------


def test_training_reduces_loss_and_manifest(tmp_path):
    data = tmp_path / "steps.jsonl"
    save_examples(data, EXAMPLES)
    pol = TransformerPolicy.from_scratch(TINY)
    cfg = SFTConfig(lr=3e-3, epochs=40, batch_size=6, seed=0, max_steps=40, device="cpu")
    trainer = SFTTrainer(pol, cfg, parent="ckpt/parent")
    before = trainer.evaluate_loss(EXAMPLES)
    result = trainer.train(load_examples(data))
    after = trainer.evaluate_loss(EXAMPLES)
    assert result.steps == 40 and len(result.losses) == 40
    assert result.examples_used == 40 * len(EXAMPLES)
    assert result.device == "cpu" and result.seconds > 0
    assert result.initial_loss == pytest.approx(before, rel=1e-4)
    assert after < 0.5 * before and after < 1.5, (before, after)
    assert result.final_loss == pytest.approx(after, rel=1e-4)
    assert not pol.model.training

    out = trainer.save_checkpoint(tmp_path / "ckpt", {"note": "unit test"}, data_files=[data])
    man = json.loads((out / "manifest.json").read_text())
    assert man["data_files"] == [{"path": str(data.resolve()), "sha256": file_sha256(data)}]
    assert man["n_examples"] == len(EXAMPLES)
    assert man["config"] == cfg.to_dict()
    assert man["parent"] == "ckpt/parent"
    assert man["final_loss"] == pytest.approx(after, rel=1e-4)
    assert man["seconds"] > 0 and man["note"] == "unit test" and "created" in man

    # the trained checkpoint reloads and still knows its examples
    loaded = TransformerPolicy.load(out, device="cpu")
    assert SFTTrainer(loaded, cfg).evaluate_loss(EXAMPLES) == pytest.approx(after, rel=1e-3)


def test_training_is_deterministic_and_replays_old_examples():
    cfg = SFTConfig(lr=1e-3, batch_size=4, max_steps=3, seed=7, device="cpu", replay_fraction=0.5)
    runs = []
    for _ in range(2):
        trainer = SFTTrainer(TransformerPolicy.from_scratch(TINY), cfg)
        runs.append(trainer.train(EXAMPLES[:3], old_examples=EXAMPLES[3:]))
    assert runs[0].losses == runs[1].losses
    assert runs[0].extra["n_examples"] == 6  # 3 new + 3 replayed
    with pytest.raises(ValueError, match="no training examples"):
        SFTTrainer(TransformerPolicy.from_scratch(TINY), cfg).train([])


# ---- expert iteration ------------------------------------------------------------------------------


def test_with_first_steps_adds_the_split_of_structured_tactics():
    from training import with_first_steps

    whole = Example("t", "xs : List Nat\n⊢ xs ++ [] = xs", "induction xs with\n| nil => rfl\n| cons x xs ih => simp [ih]")
    plain = Example("t", "⊢ True", "trivial")
    out = with_first_steps([whole, plain, whole])
    assert [e.tactic for e in out] == [whole.tactic, "induction xs", "trivial"]
    assert out[1].state == whole.state and out[1].source == whole.source


def test_examples_from_proof():
    exs = examples_from_proof("thm", ["s0", "s1", "no goals"], ["intro n", "simp"])
    assert [(e.state, e.tactic, e.state_after, e.source) for e in exs] == [
        ("s0", "intro n", "s1", "search"), ("s1", "simp", "no goals", "search")]
    assert examples_from_proof("thm", ["s0"], ["simp"])[0].state_after is None
    with pytest.raises(ValueError, match="states for"):
        examples_from_proof("thm", ["s0"], ["a", "b", "c"])


def test_examples_from_edges_keeps_proof_path():
    edges = [
        {"state": "s0", "tactic": "intro n", "result_state": "s1", "on_proof_path": True},
        {"state": "s0", "tactic": "simp", "result_state": None, "on_proof_path": False},
        {"state": "s1", "tactic": "omega", "result_state": None, "on_proof_path": True},
        {"state": "s1", "tactic": "omega", "result_state": None, "on_proof_path": True},
    ]
    exs = examples_from_edges(edges, theorem="thm")
    assert [(e.state, e.tactic, e.state_after) for e in exs] == [("s0", "intro n", "s1"), ("s1", "omega", None)]
    assert all(e.source == "search" and e.theorem == "thm" for e in exs)
    with pytest.raises(ValueError, match="lacks key"):
        examples_from_edges([{"state": "s"}])


# ---- CLI ---------------------------------------------------------------------------------------------


def test_cli_train_end_to_end(tmp_path, capsys):
    data = tmp_path / "steps.jsonl"
    save_examples(data, EXAMPLES)
    cfg = tmp_path / "sft.yaml"
    cfg.write_text("max_steps: 2\nbatch_size: 3\ndevice: cpu\n")
    assert main(["train", str(data), "--out", str(tmp_path / "c1"), "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "step 1 loss" in out and "step 2 loss" in out and "done:" in out
    man = json.loads((tmp_path / "c1" / "manifest.json").read_text())
    assert man["parent"] is None and man["steps"] == 2 and man["n_examples"] == len(EXAMPLES)

    assert main(["train", str(data), "--out", str(tmp_path / "c2"), "--from", str(tmp_path / "c1"),
                 "--config", str(cfg), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["steps"] == 2 and len(res["losses"]) == 2
    man2 = json.loads((tmp_path / "c2" / "manifest.json").read_text())
    assert man2["parent"] == str((tmp_path / "c1").resolve())
    assert (tmp_path / "c2" / "byte_tokenizer.json").is_file()


def test_cli_errors_exit_2(tmp_path, capsys):
    data = tmp_path / "steps.jsonl"
    save_examples(data, EXAMPLES)
    assert main(["train", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "o")]) == 2
    assert "no such data file" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("lr: -1\n")
    assert main(["train", str(data), "--out", str(tmp_path / "o"), "--config", str(bad)]) == 2
    assert "lr" in capsys.readouterr().err
    assert main(["train", str(data), "--out", str(tmp_path / "o"), "--from", str(tmp_path / "nockpt")]) == 2
    assert "--from" in capsys.readouterr().err
    assert main(["train", str(data), "--out", str(tmp_path / "o"), "--size", "huge"]) == 2
    assert "tiny, small, base" in capsys.readouterr().err
    assert not Path(tmp_path / "o").exists()


def test_cli_size_preset_builds_that_model(tmp_path, capsys):
    data = tmp_path / "steps.jsonl"
    save_examples(data, EXAMPLES)
    cfg = tmp_path / "sft.yaml"
    cfg.write_text("max_steps: 1\nbatch_size: 2\ndevice: cpu\n")
    assert main(["train", str(data), "--out", str(tmp_path / "s"), "--size", "small", "--config", str(cfg), "--json"]) == 0
    model_cfg = json.loads((tmp_path / "s" / "config.json").read_text())
    assert (model_cfg["n_layer"], model_cfg["n_embd"]) == (4, 256)
