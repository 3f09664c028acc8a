"""Portfolio vs learned policies on the bundled development's target split, at equal wall time per theorem.

    python benchmarks/search.py [--budget 10] [--limit N] [--model CKPT | --trace TRACE.jsonl] [--train-steps 300]
                                [--policies portfolio,memory,portfolio+memory,model,mixture] [--frozen-memory]
                                [--files SUBSTR] [--samples 8] [--widths 8,32]

Without `--model`, a from-scratch transformer is trained on the traced human proofs of the seen split
(`--trace`, default data/trace.jsonl from `curriculum trace . --out data/trace.jsonl`; rows of target theorems are dropped).
The tactic memory (`prover.memory`) starts from the same seen-split steps and, unless
`--frozen-memory`, remembers each proof it finds during the run (what the curriculum does).
Each policy attacks the same targets, file by file in dependency order, with proofs found earlier in a
file reused for later theorems (nothing is written). Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from curriculum.manager import bundled_seen_trace, materialize_bundled_open_view, project_files  # noqa: E402
from lean.config import LeanConfig  # noqa: E402
from lean.server import LeanServer  # noqa: E402
from prover.attack import attack_file, open_theorems  # noqa: E402
from prover.context import premise_provider  # noqa: E402
from prover.memory import MemoryPolicy, TacticMemory, learned_mixture  # noqa: E402
from prover.policy import PolicyModelConfig, PortfolioPolicy, TransformerPolicy  # noqa: E402
from prover.search import SearchConfig  # noqa: E402
from training import load_examples  # noqa: E402


def train_model(examples: list, steps: int, out: Path, trace: Path) -> TransformerPolicy:
    from training import SFTConfig, SFTTrainer, with_first_steps

    examples = with_first_steps(examples)
    model = TransformerPolicy.from_scratch(PolicyModelConfig(device="cpu"))
    trainer = SFTTrainer(model, SFTConfig(max_steps=steps, epochs=100, batch_size=16, device="cpu"))
    res = trainer.train(examples)
    trainer.save_checkpoint(out, {"trace": str(trace)}, data_files=[trace])
    print(f"trained on {len(examples)} examples: loss {res.initial_loss:.3f} -> {res.final_loss:.3f} in {res.seconds:.0f} s",
          file=sys.stderr)
    return model


def run_policy(name: str, policy, project: Path, limit: int | None, budget: float, server: LeanServer,
               learn=None, files: str = "", samples: int = 8, max_samples: int = SearchConfig.max_samples) -> dict:
    results, n = [], 0
    for f in project_files(project):
        if files and files not in str(f.relative_to(project)):
            continue
        targets = open_theorems(f.read_text())
        if limit is not None:
            targets = targets[: max(0, limit - n)]
        if not targets:
            continue
        n += len(targets)
        rep = attack_file(f, targets, policy, search_config=SearchConfig(time_budget=budget, max_expansions=10_000, num_samples=samples,
                                                                            max_samples=max_samples),
                          server=server, num_workers=server.capacity, write=False, premises_for_file=premise_provider(f),
                          on_result=lambda r: (learn(r) if learn else None, print(
                              f"[{name}] {r.theorem}: {'proved' if r.proved else 'failed'} {r.wall_s:.1f}s", file=sys.stderr, flush=True)))
        results += [r.to_json() for r in rep.results]
    return {"proved": sum(r["proved"] for r in results), "attempted": len(results),
            "per_theorem": {r["theorem"]: {"proved": r["proved"], "wall_s": r["wall_s"], "model_s": r["model_s"],
                                           "lean_s": r["lean_s"]} for r in results}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=float, default=10.0)
    ap.add_argument("--limit", type=int, default=None, help="only the first N targets (dependency order)")
    ap.add_argument("--files", default="", help="only files whose path (in the project) contains this, e.g. Algebra")
    ap.add_argument("--samples", type=int, default=8, help="tactics asked of the policy per state")
    ap.add_argument("--widths", default=str(SearchConfig.max_samples),
                    help="tactics each expanded state is widened to once the search runs dry (SearchConfig.max_samples); "
                    "several, comma-separated, run every policy at each (arms named policy@width); "
                    "the value of --samples turns widening off")
    ap.add_argument("--model", type=Path)
    ap.add_argument("--trace", type=Path, default=Path("data/trace.jsonl"))
    ap.add_argument("--train-steps", type=int, default=300)
    ap.add_argument("--policies", default="portfolio,memory,portfolio+memory,model,mixture")
    ap.add_argument("--steps", default="rpc", help="how Lean runs tactics: rpc (states held in Lean), edit (edits of "
                    "the document; LeanConfig.rpc_steps=False), or rpc,edit: an arm each, one after the other")
    ap.add_argument("--frozen-memory", action="store_true", help="the memory does not learn from the run's proofs")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="searchbench-"))
    project = materialize_bundled_open_view(work / "project")
    names = args.policies.split(",")
    if not args.trace.exists():
        sys.exit(f"no trace at {args.trace}: run `curriculum trace . --out {args.trace}` first")
    seen = load_examples(bundled_seen_trace(work / "human_seen.jsonl", args.trace))  # never a target's own proof
    model = None
    if {"model", "mixture"} & set(names):
        model = TransformerPolicy.load(args.model, device="cpu") if args.model else train_model(seen, args.train_steps, work / "model", args.trace)

    def arm(name: str):
        """(policy, learn-callback) for one arm; each arm gets its own memory, so none learns from another."""
        if name == "portfolio":
            return PortfolioPolicy(), None
        if name == "model":
            return model, None
        memory = TacticMemory()
        memory.add_examples(seen)
        learn = None if args.frozen_memory else memory.learn
        if name == "memory":
            return MemoryPolicy(memory), learn
        if name == "portfolio+memory":
            return learned_mixture(PortfolioPolicy(), memory), learn
        if name == "mixture":
            return learned_mixture(PortfolioPolicy(), memory, model), learn
        sys.exit(f"unknown policy {name!r}; choose from portfolio, memory, portfolio+memory, model, mixture")
    widths = [int(w) for w in args.widths.split(",")]
    steps = args.steps.split(",")
    if not set(steps) <= {"rpc", "edit"}:
        sys.exit(f"--steps {args.steps!r}: use rpc, edit or rpc,edit")
    out: dict = {"budget_s_per_theorem": args.budget, "limit": args.limit, "files": args.files, "samples": args.samples,
                 "widths": widths, "steps": steps}
    labels = {(name, w): name if len(widths) == 1 else f"{name}@{w}" for name in names for w in widths}
    for mode in steps:
        server = LeanServer(LeanConfig(rpc_steps=mode == "rpc"))
        try:
            for (name, width), label in labels.items():
                t0 = time.time()
                policy, learn = arm(name)
                key = label if len(steps) == 1 else f"{label}[{mode}]"
                out[key] = run_policy(key, policy, project, args.limit, args.budget, server, learn, args.files, args.samples, width)
                out[key]["wall_s"] = round(time.time() - t0, 1)
        finally:
            server.close()
    for mode in steps:  # each arm against the portfolio of the same width, run in the same mode
        tag = "" if len(steps) == 1 else f"[{mode}]"
        for (name, width), label in labels.items():
            base = out.get(labels.get(("portfolio", width), "") + tag, {}).get("proved")
            if name != "portfolio" and base:
                out[f"{label}{tag}_over_portfolio"] = round(out[label + tag]["proved"] / base, 3)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
