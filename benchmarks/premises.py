"""Premise recall on the bundled development's target split, without Lean.

    python benchmarks/premises.py [--k 4,8] [--verbose]

For each target theorem, the premise list the prover would get for its statement (`prover.context`, with
the target split's proofs replaced by `sorry`, as a run starts) is compared with the lemmas and
definitions its human proof names. Prints one JSON object: the mean fraction of those names in the first
k premises, for each k; `--verbose` adds the names each theorem missed.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from curriculum.manager import BUNDLED_SPLIT, REPO_ROOT, materialize_bundled_open_view  # noqa: E402
from lean.source import THEOREM_KEYWORDS, declarations  # noqa: E402
from prover.context import FileContext  # noqa: E402

_NAME = re.compile(r"[A-Za-z_][\w'.]*")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--k", default="4,8", help="comma-separated list sizes")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    ks = [int(k) for k in args.k.split(",")]
    targets = set(json.loads(BUNDLED_SPLIT.read_text())["target"])
    project = materialize_bundled_open_view(Path(tempfile.mkdtemp(prefix="premises-")) / "project")
    recall = {k: 0.0 for k in ks}
    missed: dict[str, list[str]] = {}
    n = 0
    for f in sorted((project / "Dev").glob("*.lean")):
        human = (REPO_ROOT / "Dev" / f.name).read_text()
        human_decls = {d.full_name: d for d in declarations(human)}
        text = f.read_text()
        ctx = FileContext(f, k=max(ks))
        for d in declarations(text):
            if d.full_name not in targets or d.kind not in THEOREM_KEYWORDS:
                continue
            lemmas, defs = ctx.visible(text, d.full_name)
            visible: dict[str, str] = {}
            for name in [m for m, _ in lemmas] + [m for m, _ in defs]:
                visible.setdefault(name.split(".")[-1], name)
            proof = human_decls[d.full_name].proof(human) or ""
            used = {visible[w.split(".")[-1]] for w in _NAME.findall(proof) if w.split(".")[-1] in visible}
            if not used:
                continue  # a proof by automation alone says nothing about retrieval
            got = ctx.for_theorem(text, d.full_name)(d.statement(text))
            n += 1
            for k in ks:
                recall[k] += len(used & set(got[:k])) / len(used)
            lost = sorted(u.split(".")[-1] for u in used - set(got[:max(ks)]))
            if lost:
                missed[d.full_name] = lost
    out = {"theorems": n, **{f"recall_at_{k}": round(recall[k] / n, 3) if n else None for k in ks}}
    if args.verbose:
        out["missed"] = missed
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
