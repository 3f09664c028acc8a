"""`prover attack FILE` — search proofs for theorems of a Lean file.

Exit codes: 0 all targets proved, 1 some not proved, 2 bad input (nothing is written then).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from lean.config import LeanConfig, default_search_workers
from lean.errors import LeanAgentError
from prover.attack import AttackError, attack_file
from prover.context import premise_provider
from prover.search import SearchConfig


def build_policy(model: str | None, device: str):
    """The portfolio alone, or mixed with a transformer checkpoint when `--model` is given."""
    from prover.policy import MixturePolicy, PortfolioPolicy, TransformerPolicy

    portfolio = PortfolioPolicy()
    if not model:
        return portfolio
    p = Path(model)
    if not p.exists():
        raise AttackError(f"model path {p} does not exist; pass a folder saved by `training train` or a Hugging Face checkpoint")
    try:
        tp = TransformerPolicy.load(str(p), device=device)
    except Exception as e:
        raise AttackError(f"could not load a model from {p}: {e}")
    return MixturePolicy([(tp, 0.5), (portfolio, 0.5)])


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="prover", description="Proof search on a real Lean 4.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("attack", help="search proofs for theorems of FILE")
    a.add_argument("file", type=Path)
    g = a.add_mutually_exclusive_group()
    g.add_argument("--theorem", action="append", default=None, metavar="NAME", help="a theorem to attack (repeatable)")
    g.add_argument("--all", action="store_true", help="every theorem whose proof is `sorry`, in file order (default)")
    a.add_argument("--budget", type=float, default=60.0, help="wall seconds per theorem (default 60)")
    a.add_argument("--expansions", type=int, default=400, help="max states expanded per theorem")
    a.add_argument("--model", default=None, help="local checkpoint folder for the transformer policy")
    a.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    a.add_argument("--workers", type=int, default=None, help="parallel Lean workers (default: LEAN_AGENT_WORKERS, else one per two cores)")
    a.add_argument("--write", action="store_true", help="write verified proofs back into FILE")
    a.add_argument("--json", action="store_true", help="one JSON object per theorem on stdout")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    tty = sys.stderr.isatty()
    try:
        if args.budget <= 0:
            raise AttackError(f"--budget must be positive seconds, got {args.budget}")
        if not args.file.exists():
            raise AttackError(f"file {args.file} does not exist")
        lean_config = LeanConfig(num_workers=default_search_workers() if args.workers is None else args.workers)
        policy = build_policy(args.model, args.device)
        search_config = SearchConfig(time_budget=args.budget, max_expansions=args.expansions)
        t0 = time.time()

        def on_start(name: str) -> None:
            if not args.json or tty:
                print(f"attacking {name} …", file=sys.stderr, flush=True)

        def on_result(r) -> None:
            if args.json:
                print(json.dumps(r.to_json(), ensure_ascii=False), flush=True)
            else:
                mark = "proved" if r.proved else f"not proved ({r.stop_reason})"
                print(f"{r.theorem}: {mark} in {r.wall_s:.1f} s, {r.expansions} expansions", flush=True)
                if r.proved:
                    print("  " + "\n  ".join(r.proof), flush=True)

        report = attack_file(args.file, args.theorem, policy, search_config=search_config, lean_config=lean_config,
                             num_workers=lean_config.num_workers, write=args.write,
                             premises_for_file=premise_provider(args.file), on_result=on_result, on_start=on_start)
    except (LeanAgentError, ValueError) as e:
        print(f"prover: error: {e}", file=sys.stderr)
        return 2
    proved = sum(r.proved for r in report.results)
    if not args.json:
        note = " (written back)" if report.written else ""
        print(f"{proved}/{len(report.results)} proved in {time.time() - t0:.1f} s{note}", file=sys.stderr)
    return 0 if proved == len(report.results) else 1


if __name__ == "__main__":
    sys.exit(main())
