"""Batched vs unbatched tactic generation throughput.

Unbatched = one `generate` call per state; batched = one call for all states.  Prints one JSON
object: per device, per batch size, tactics/s of each mode and the speedup batched/unbatched.
Needs only torch + transformers (it runs on the bare GPU machine too).

    python benchmarks/generation.py [--quick] [--max-batch N] [--model CKPT | --size tiny] [--k 4] [--max-new-tokens 32]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from prover.policy import DecodingConfig, PolicyModelConfig, TransformerPolicy  # noqa: E402

ALL_SIZES = (1, 2, 4, 8, 16, 32, 64)
QUICK_SIZES = (1, 4, 8)


def make_states(n: int) -> list[str]:
    """Varied, realistic-looking goal states (different lengths exercise the left padding)."""
    out = []
    for i in range(n):
        hyps = "\n".join(f"h{j} : x{j} + {i} ≤ y{j} * {j + 1}" for j in range(i % 5))
        out.append(f"n m : Nat\n{hyps}\n⊢ n + {i} * m = m * {i} + n" if hyps else f"n m : Nat\n⊢ n + {i} = {i} + n")
    return out


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize()


def bench_device(policy: TransformerPolicy, sizes: list[int], k: int, repeats: int) -> dict[str, dict[str, float]]:
    dev = policy.device
    policy.generate(make_states(2), k)  # warm-up (kernels, allocator)
    res: dict[str, dict[str, float]] = {}
    for b in sizes:
        states = make_states(b)
        t_batched = t_single = float("inf")
        for _ in range(repeats):  # best of `repeats`: the machine may be shared
            _sync(dev)
            t0 = time.perf_counter()
            policy.generate(states, k)
            _sync(dev)
            t_batched = min(t_batched, time.perf_counter() - t0)
            t0 = time.perf_counter()
            for s in states:
                policy.generate([s], k)
            _sync(dev)
            t_single = min(t_single, time.perf_counter() - t0)
        n = b * k  # sequences decoded (candidates before dedup/filtering)
        res[str(b)] = {
            "batched_tactics_per_s": round(n / t_batched, 2),
            "unbatched_tactics_per_s": round(n / t_single, 2),
            "speedup": round(t_single / t_batched, 2),
            "batched_s": round(t_batched, 4),
            "unbatched_s": round(t_single, 4),
        }
        print(f"[{dev}] batch {b}: {res[str(b)]}", file=sys.stderr, flush=True)
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="checkpoint directory (default: a from-scratch GPT-2 of --size)")
    ap.add_argument("--size", default="tiny", help="from-scratch size when no --model: tiny, small or base")
    ap.add_argument("--max-batch", type=int, default=64, help="largest batch size to run")
    ap.add_argument("--quick", action="store_true", help=f"only batch sizes {QUICK_SIZES}, short tactics")
    ap.add_argument("--k", type=int, default=4, help="candidates per state (beam width)")
    ap.add_argument("--max-new-tokens", type=int, default=None, help="tactic length cap (default 32, quick 16)")
    ap.add_argument("--repeats", type=int, default=None, help="timing repeats, best kept (default 3)")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    ap.add_argument("--devices", default="auto", help="comma list of cpu,cuda (default: cpu, plus cuda if present)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    sizes = [b for b in (QUICK_SIZES if args.quick else ALL_SIZES) if b <= args.max_batch]
    if not sizes:
        ap.error(f"--max-batch {args.max_batch} leaves no batch size; use at least 1")
    max_new = args.max_new_tokens or (16 if args.quick else 32)
    repeats = args.repeats or 3
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else []) if args.devices == "auto" else args.devices.split(",")
    decoding = DecodingConfig(strategy="beam", max_new_tokens=max_new)
    report: dict[str, object] = {
        "model": args.model or f"from_scratch({args.size})", "k": args.k, "max_new_tokens": max_new,
        "torch": torch.__version__, "threads": torch.get_num_threads(), "results": {},
    }
    for d in devices:
        if args.model:
            policy = TransformerPolicy.load(args.model, device=d, decoding=decoding)
        else:
            policy = TransformerPolicy.from_scratch(PolicyModelConfig.preset(args.size, device=d), decoding)
        key = d if d == "cpu" else f"{d} ({torch.cuda.get_device_name(0)}, {str(policy.dtype).replace('torch.', '')})"
        report["results"][key] = bench_device(policy, sizes, args.k, repeats)  # type: ignore[index]
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
