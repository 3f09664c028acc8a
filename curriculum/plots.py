"""PNG learning curves from `metrics.jsonl`: proved fraction by round, learning vs `--no-learning`, forgetting."""
from __future__ import annotations

import json
from pathlib import Path


def read_metrics(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(l) for l in path.read_text().splitlines() if l.strip()]


def learning_curve(metrics: Path, png: Path, ablation: Path | None = None) -> Path | None:
    """Plot one run (and optionally its frozen-policy ablation). Returns the PNG path, None if no data."""
    runs = {"learning": read_metrics(metrics)}
    if ablation is not None:
        runs["no learning"] = read_metrics(ablation)
    if not any(runs.values()):
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.5))
    for label, rows in runs.items():
        if not rows:
            continue
        rounds = [r["round"] for r in rows]
        total_open = rows[0]["open"] or 1
        a1.plot(rounds, [r["proved_total"] / total_open for r in rows], marker="o", label=label)
        a2.plot(rounds, [r["forgetting"] for r in rows], marker="s", label=label)
    a1.set(title="proved fraction of open theorems", xlabel="round", ylim=(0, 1.05))
    a2.set(title="forgetting (solved before, failed now)", xlabel="round", ylim=(0, 1.05))
    a1.legend()
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=100)
    plt.close(fig)
    return png
