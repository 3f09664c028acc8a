"""`training` command line: fine-tune a policy on JSONL step files and save a checkpoint.

    training train DATA... --out CKPT [--from CKPT | --size tiny|small|base] [--config FILE] [--json]

Exit status 2 (with a message on stderr) for bad paths, data or config; 0 on success.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="training", description="Train tactic policies.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    tr = sub.add_parser("train", help="supervised fine-tuning on (state, tactic) JSONL files")
    tr.add_argument("data", nargs="+", help="JSONL files of proof steps")
    tr.add_argument("--out", required=True, help="checkpoint directory to write")
    tr.add_argument("--from", dest="parent", help="checkpoint to start from (default: a new from-scratch model)")
    tr.add_argument("--size", default="tiny", help="size of a new from-scratch model: tiny (CPU default), small, base")
    tr.add_argument("--config", help="YAML file of SFTConfig options")
    tr.add_argument("--json", action="store_true", help="print one JSON result object instead of log lines")
    return ap


def _fail(msg: str) -> int:
    print(f"training: error: {msg}", file=sys.stderr)
    return 2


def _train(args: argparse.Namespace) -> int:
    from prover.policy import PolicyModelConfig, TransformerPolicy
    from training.config import ConfigError, SFTConfig
    from training.data import DataError, load_examples
    from training.trainer import SFTTrainer

    try:
        config = SFTConfig.from_yaml(args.config) if args.config else SFTConfig()
    except ConfigError as e:
        return _fail(str(e))
    try:
        examples = load_examples(args.data)
    except DataError as e:
        return _fail(str(e))
    if not examples:
        return _fail(f"no examples in {', '.join(args.data)}; the files are empty")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        return _fail(f"--out {out} exists and is not a directory")
    if args.parent:
        try:
            policy = TransformerPolicy.load(args.parent, device=config.device)
        except (FileNotFoundError, OSError, ValueError) as e:
            return _fail(f"--from {args.parent}: {e}")
    else:
        try:
            model_config = PolicyModelConfig.preset(args.size, device=config.device)
        except ValueError as e:
            return _fail(f"--size: {e}")
        policy = TransformerPolicy.from_scratch(model_config)

    def log(step: int, loss: float) -> None:
        if not args.json:
            print(f"step {step} loss {loss:.4f}", flush=True)

    trainer = SFTTrainer(policy, config, parent=str(Path(args.parent).resolve()) if args.parent else None)
    result = trainer.train(examples, on_log=log)
    trainer.save_checkpoint(out, data_files=args.data)
    if args.json:
        print(json.dumps({"checkpoint": str(out), **result.to_json()}))
    else:
        print(f"done: {result.steps} steps, {result.examples_used} examples, final loss {result.final_loss:.4f}, "
              f"{result.seconds:.1f}s on {result.device}; checkpoint {out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(list(argv) if argv is not None else None)
    if args.cmd == "train":
        return _train(args)
    return _fail(f"unknown command {args.cmd}")  # pragma: no cover


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
