"""`curriculum run|daemon|status` — learn over a whole Lean development.

    curriculum run [PROJECT] [--rounds N] [--budget S] [--no-learning] [--config FILE] [--json]
    curriculum daemon PROJECT [--config FILE]
    curriculum status [--out DIR]

Without PROJECT, `run` works on the bundled development's open view (its target split's proofs
replaced by `sorry`), materialised under the output folder so the sources stay untouched; the traced
human proofs of its other theorems (the seen split's rows of data/trace.jsonl) are what it learns from
first, unless `human_data` says otherwise.
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from curriculum.config import CurriculumConfig, CurriculumConfigError
from lean.errors import LeanAgentError


def _config(args) -> CurriculumConfig:
    overrides = {k: getattr(args, k, None) for k in ("rounds", "budget", "first_pass_budget", "time_limit", "out", "model", "workers")}
    if getattr(args, "no_learning", False):
        overrides["learning"] = False
    if args.config:
        return CurriculumConfig.from_yaml(args.config, **overrides)
    return CurriculumConfig.from_dict({}, **overrides)


def _with_bundled_human_data(config: CurriculumConfig) -> CurriculumConfig:
    """Learn first from the bundled development's human proofs of its seen split (never the targets')."""
    from dataclasses import replace

    from curriculum.manager import BUNDLED_TRACE, bundled_seen_trace

    if not BUNDLED_TRACE.exists():
        return config
    return replace(config, human_data=str(bundled_seen_trace(Path(config.out) / "human_seen.jsonl")))


def _stop_during_setup(signum, _frame) -> None:
    """SIGTERM before the daemon's loop runs (setting up takes seconds): nothing has started, so exit
    cleanly instead of dying of the signal; `Daemon.run` installs its own handler."""
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="curriculum", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("run", "daemon"):
        p = sub.add_parser(name)
        p.add_argument("project", nargs="?" if name == "run" else None, type=Path)
        p.add_argument("--config", type=Path)
        p.add_argument("--rounds", type=int)
        p.add_argument("--budget", type=float, help="search seconds per theorem")
        p.add_argument("--first-pass", dest="first_pass_budget", type=float,
                       help="search seconds per theorem of a quick first pass over all files, before --budget for what it left (default 0: none)")
        p.add_argument("--time-limit", dest="time_limit", type=float, help="wall seconds for the whole run")
        p.add_argument("--out", help="folder for the store, metrics, checkpoints")
        p.add_argument("--model", help="starting policy checkpoint")
        p.add_argument("--workers", type=int, help="parallel Lean workers (default: LEAN_AGENT_WORKERS, else one per two cores)")
        p.add_argument("--no-learning", action="store_true", help="frozen policy (the ablation)")
        p.add_argument("--json", action="store_true", help="one JSON line per round on stdout")
    st = sub.add_parser("status")
    st.add_argument("--out", default="runs/curriculum")
    tr = sub.add_parser("trace", help="extract (state, tactic, state after) steps of every proof into JSONL")
    tr.add_argument("project", type=Path)
    tr.add_argument("--out", type=Path, required=True)
    tr.add_argument("--split", type=Path, help="a split file: trace only its `seen` theorems")
    gr = sub.add_parser("graph", help="build the dependency graph from Lean and print its size and depth")
    gr.add_argument("project", type=Path)
    args = ap.parse_args(argv)
    if args.cmd == "daemon":
        signal.signal(signal.SIGTERM, _stop_during_setup)

    if args.cmd in ("trace", "graph"):
        return _analyse(args)

    if args.cmd == "status":
        from curriculum.daemon import status

        print(json.dumps(status(Path(args.out)), indent=2))
        return 0
    try:
        config = _config(args)
        from curriculum.manager import Manager, materialize_bundled_open_view

        project = args.project
        if project is None:
            project = materialize_bundled_open_view(Path(config.out) / "project")
            print(f"working on the bundled development's open view in {project}", file=sys.stderr)
            if config.human_data is None:
                config = _with_bundled_human_data(config)
        manager = Manager(project, config)
    except (CurriculumConfigError, LeanAgentError) as e:
        print(f"curriculum: error: {e}", file=sys.stderr)
        return 2
    try:
        if args.cmd == "daemon":
            from curriculum.daemon import Daemon

            Daemon(manager).run()
            return 0

        def on_round(m) -> None:
            if args.json:
                print(json.dumps(m.to_json()), flush=True)
            else:
                print(f"round {m.round}: proved {m.proved_this_round}/{m.open} open theorems "
                      f"(total {m.proved_total}), forgetting {m.forgetting:.0%}, trained on {m.train_examples} examples, "
                      f"{m.wall_s:.0f} s", flush=True)

        metrics = manager.run(on_round)
        try:
            from curriculum.plots import learning_curve

            png = learning_curve(Path(config.out) / "metrics.jsonl", Path(config.out) / "learning_curve.png")
            if png:
                print(f"learning curve: {png}", file=sys.stderr)
        except ImportError:
            pass
        return 0 if metrics else 1
    except LeanAgentError as e:
        print(f"curriculum: error: {e}", file=sys.stderr)
        return 2
    finally:
        manager.close()


def _analyse(args) -> int:
    import time

    import networkx as nx

    from curriculum.project import ProjectError

    def progress(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    try:
        if args.cmd == "trace":
            from curriculum.splits import read_split
            from curriculum.tracer import trace_project

            names = read_split(args.split).seen if args.split else None
            stats = trace_project(args.project, args.out, names, progress=progress)
            print(json.dumps({"theorems": stats.theorems, "steps": stats.steps, "failed": stats.failed,
                              "skipped": len(stats.skipped), "seconds": round(stats.seconds, 1), "out": str(args.out)}))
        else:
            from curriculum.graph import dependency_graph

            t0 = time.time()
            g = dependency_graph(args.project, progress=progress)
            thms = [n for n, d in g.nodes(data=True) if d.get("kind") in ("theorem", "lemma")]
            depth = nx.dag_longest_path_length(g) if nx.is_directed_acyclic_graph(g) else None
            print(json.dumps({"nodes": g.number_of_nodes(), "edges": g.number_of_edges(), "theorems": len(thms),
                              "longest_dependency_chain": depth, "seconds": round(time.time() - t0, 1)}))
    except (ProjectError, LeanAgentError) as e:
        print(f"curriculum: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
