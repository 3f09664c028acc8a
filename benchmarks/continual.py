"""Learning vs a frozen policy over the bundled development's open view, at equal search compute.

    python benchmarks/continual.py [--rounds 3] [--budget 8] [--time-limit 0] [--human-data data/trace.jsonl] [--memory]

Both runs get the same rounds, per-theorem budgets and Lean workers; the learning run additionally trains
between rounds (its training time is reported, not hidden). Prints the proved counts, their ratio,
forgetting and time per round as one JSON object, and writes a learning-curve PNG with both runs.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from curriculum.config import CurriculumConfig  # noqa: E402
from curriculum.manager import Manager, bundled_seen_trace, materialize_bundled_open_view  # noqa: E402
from curriculum.plots import learning_curve  # noqa: E402


def run(learning: bool, args, work: Path) -> list[dict]:
    name = "learning" if learning else "frozen"
    project = materialize_bundled_open_view(work / name / "project")
    cfg = CurriculumConfig(rounds=args.rounds, budget=args.budget, time_limit=args.time_limit, learning=learning,
                           out=str(work / name), human_data=str(args.human_data) if args.human_data else None,
                           train_steps=args.train_steps, device="cpu", forgetting_sample=args.forgetting_sample,
                           memory=args.memory)
    m = Manager(project, cfg)
    try:
        return [x.to_json() for x in m.run(lambda r: print(f"[{name}] {json.dumps(r.to_json())}", file=sys.stderr, flush=True))]
    finally:
        m.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--budget", type=float, default=8.0)
    ap.add_argument("--time-limit", type=float, default=0.0, help="per run, per round is not capped")
    ap.add_argument("--train-steps", type=int, default=100)
    ap.add_argument("--forgetting-sample", type=int, default=5)
    ap.add_argument("--human-data", type=Path)
    ap.add_argument("--memory", action="store_true", help="the learning run's policy includes the tactic memory "
                    "(CurriculumConfig.memory); without it, and with the trained model gated out, both runs search alike")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    work = args.out or Path(tempfile.mkdtemp(prefix="continual-"))
    if args.human_data:  # only the seen split's human proofs: the targets' proofs are what is being measured
        args.human_data = bundled_seen_trace(work / "human_seen.jsonl", args.human_data)
    frozen = run(False, args, work)
    learned = run(True, args, work)
    pf, pl = frozen[-1]["proved_total"] if frozen else 0, learned[-1]["proved_total"] if learned else 0
    png = learning_curve(work / "learning" / "metrics.jsonl", work / "learning_curve.png", work / "frozen" / "metrics.jsonl")
    print(json.dumps({
        "rounds": args.rounds, "budget_s": args.budget, "memory": args.memory,
        "proved_learning": pl, "proved_frozen": pf, "ratio": round(pl / pf, 3) if pf else None,
        "forgetting_by_round": [r["forgetting"] for r in learned],
        "round_wall_s_learning": [r["wall_s"] for r in learned], "round_wall_s_frozen": [r["wall_s"] for r in frozen],
        "train_examples_by_round": [r["train_examples"] for r in learned], "plot": str(png),
    }, indent=1))


if __name__ == "__main__":
    main()
