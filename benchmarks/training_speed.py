"""Training-step speed of the policy on CPU and, when present, CUDA (bf16 autocast), side by side.

For each device and model size it runs the real `SFTTrainer` on the traced proof steps and times the
optimizer steps after the first (the first pays for kernel selection and allocator warm-up).  Prints one
JSON object: per size and device, steps/s, examples/s and tokens/s, plus the CUDA/CPU speedup.
Needs only torch, transformers and pyyaml (it runs on the bare GPU machine too).

    python benchmarks/training_speed.py [--sizes tiny,small,base] [--cpu-steps 10] [--cuda-steps 60] [--batch 16]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from prover.policy import PolicyModelConfig, TransformerPolicy  # noqa: E402
from training.config import SFTConfig  # noqa: E402
from training.data import load_examples  # noqa: E402
from training.trainer import SFTTrainer  # noqa: E402


def bench(size: str, device: str, steps: int, batch: int, examples: list) -> dict[str, float | str | None]:
    policy = TransformerPolicy.from_scratch(PolicyModelConfig.preset(size, device=device))
    trainer = SFTTrainer(policy, SFTConfig(max_steps=steps + 1, epochs=10_000, batch_size=batch, device=device))
    stamps: list[float] = []

    def on_log(step: int, loss: float) -> None:
        if trainer.device.type == "cuda":
            torch.cuda.synchronize()
        stamps.append(time.perf_counter())

    res = trainer.train(examples, on_log=on_log)
    timed = len(stamps) - 1  # steps 2..N, timed from the end of step 1
    secs = stamps[-1] - stamps[0]
    tokens_per_example = sum(len(p) + len(t) for p, t in map(trainer._encode, examples)) / len(examples)
    return {
        "params_m": round(sum(p.numel() for p in policy.model.parameters()) / 1e6, 2),
        "steps_timed": timed, "seconds": round(secs, 3),
        "steps_per_s": round(timed / secs, 3),
        "examples_per_s": round(timed * batch / secs, 1),
        "tokens_per_s": round(timed * batch * tokens_per_example / secs, 0),
        "loss_first": round(res.losses[0], 4), "loss_last": round(res.losses[-1], 4),
        "amp": res.extra.get("amp"),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1] / "data" / "trace.jsonl")
    ap.add_argument("--sizes", default="tiny,small,base", help="comma list of prover.policy.MODEL_SIZES names")
    ap.add_argument("--cpu-steps", type=int, default=10, help="timed steps on CPU (after one warm-up step)")
    ap.add_argument("--cuda-steps", type=int, default=60, help="timed steps on CUDA (after one warm-up step)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--devices", default="auto", help="comma list of cpu,cuda (default: cpu, plus cuda if present)")
    args = ap.parse_args(argv)
    if not args.data.is_file():
        ap.error(f"no data at {args.data}; pass --data STEPS.jsonl (e.g. from `curriculum trace`)")
    examples = load_examples(args.data)
    devices = (["cpu"] + (["cuda"] if torch.cuda.is_available() else [])) if args.devices == "auto" else args.devices.split(",")
    report: dict[str, object] = {"data": str(args.data), "examples": len(examples), "batch": args.batch,
                                 "torch": torch.__version__, "cpu_threads": torch.get_num_threads(),
                                 "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
                                 "results": {}}
    for size in args.sizes.split(","):
        row: dict[str, object] = {}
        for d in devices:
            row[d] = bench(size, d, args.cpu_steps if d == "cpu" else args.cuda_steps, args.batch, examples)
            print(f"[{size} on {d}] {row[d]}", file=sys.stderr, flush=True)
        if "cpu" in row and "cuda" in row:
            row["cuda_over_cpu"] = round(row["cuda"]["examples_per_s"] / row["cpu"]["examples_per_s"], 1)  # type: ignore[index]
        report["results"][size] = row  # type: ignore[index]
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
