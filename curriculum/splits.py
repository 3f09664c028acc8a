"""The seen/target split and the "open view" of a project.

`make_split` keeps the first `seen_fraction` of the theorems (in dependency order) as *seen* (their
human proofs may be learned from) and the rest as *targets* (to be proved). `open_view` writes a copy
of the project in which the targets' proofs are replaced by `sorry`, which is what the prover works on.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from curriculum.project import LAKEFILES, ProjectError, list_modules, list_theorems, trimmed_end
from lean.source import declarations

_MARKER = ".open_view.json"
_PROJECT_FILES = ("lean-toolchain", "lake-manifest.json")


@dataclass(frozen=True)
class Split:
    seen: list[str]
    target: list[str]
    seen_fraction: float = field(default=0.6, compare=False)


def make_split(theorems_in_dependency_order: Sequence[str], seen_fraction: float = 0.6) -> Split:
    """Deterministic: the first round(n·seen_fraction) distinct names are seen, the rest are targets."""
    if not 0.0 <= seen_fraction <= 1.0:
        raise ValueError(f"seen_fraction must be within [0, 1], got {seen_fraction}")
    names = list(dict.fromkeys(theorems_in_dependency_order))
    k = int(round(len(names) * seen_fraction))
    return Split(names[:k], names[k:], seen_fraction)


def write_split(path: Path | str, split: Split) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"seen_fraction": split.seen_fraction, "seen": split.seen, "target": split.target},
                               indent=1) + "\n")


def read_split(path: Path | str) -> Split:
    try:
        data = json.loads(Path(path).read_text())
        return Split(list(data["seen"]), list(data["target"]), float(data.get("seen_fraction", 0.6)))
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as e:
        raise ProjectError(f"{path} is not a split file (JSON with \"seen\" and \"target\" lists): {e}") from None


def sorry_out(text: str, names: set[str]) -> tuple[str, set[str]]:
    """Replace the proofs of the named theorems in `text` by ` by\\n  sorry`; returns (text, names done)."""
    done: set[str] = set()
    edits = []
    for d in declarations(text):
        if d.full_name in names:
            if d.assign is None:
                raise ProjectError(f"line {d.line}: {d.full_name} has no `:=` proof to replace (equation-style)")
            edits.append((d.assign + 2, trimmed_end(text, d)))
            done.add(d.full_name)
    for start, end in sorted(edits, reverse=True):
        text = text[:start] + " by\n  sorry" + text[end:]
    return text, done


def open_view(root: Path | str, out_dir: Path | str, targets: Sequence[str]) -> Path:
    """Copy the project (lakefile, toolchain files, every .lean source) to `out_dir` with the targets'
    proofs replaced by `sorry`; returns the new root. An earlier open view in `out_dir` is replaced."""
    root, out_dir = Path(root).resolve(), Path(out_dir).resolve()
    if out_dir == root or out_dir in root.parents:
        raise ProjectError(f"{out_dir} would overwrite the project at {root}; pick another folder")
    theorems = list_theorems(root)
    known = {t.full_name for t in theorems}
    missing = [t for t in targets if t not in known]
    if missing:
        raise ProjectError(f"not theorems of {root}: {', '.join(missing[:10])}")
    if out_dir.exists():
        if not (out_dir / _MARKER).exists() and any(out_dir.iterdir()):
            raise ProjectError(f"{out_dir} exists and is not an open view; remove it or pick an empty folder")
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    for f in LAKEFILES + _PROJECT_FILES:
        if (root / f).exists():
            shutil.copy2(root / f, out_dir / f)
    for src in sorted(root.rglob("*.lean")):
        rel = src.relative_to(root)
        if any(p.startswith(".") for p in rel.parts) or out_dir in src.parents or rel.name in LAKEFILES:
            continue
        dst = out_dir / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
    by_file: dict[Path, set[str]] = {}
    for t in theorems:
        if t.full_name in set(targets):
            by_file.setdefault(t.file, set()).add(t.full_name)
    for file, names in by_file.items():
        rel = file.resolve().relative_to(root)
        text = file.read_text(encoding="utf-8")
        new, done = sorry_out(text, names)
        (out_dir / rel).write_text(new, encoding="utf-8")
    (out_dir / _MARKER).write_text(json.dumps({"source": str(root), "targets": list(targets)}, indent=1) + "\n")
    list_modules(out_dir)  # the copy must still be a readable project
    return out_dir
