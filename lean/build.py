"""Compile the modules a file imports, so the embedded Lean can load them (`lake build` for wasm).

A file's project-local imports are compiled to `.olean` in dependency order into a per-project folder
of the cache. Each module is rebuilt only when its source or one of its imports changed (content
hashes); compiled modules are also kept by content, so a copy of a project elsewhere (the curriculum's
working copies, benchmark runs) restores them instead of compiling again. A lock keeps two processes
from building the same project at once.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from lean.config import LeanConfig
from lean.errors import DojoInitError
from lean.source import parse_header
from lean.toolchain import Toolchain, get_toolchain

LAKEFILES = ("lakefile.lean", "lakefile.toml")


def find_package_root(path: Path) -> Path | None:
    """The nearest folder at or above `path` holding a lakefile."""
    p = path.resolve()
    for d in [p] + list(p.parents):
        if any((d / f).exists() for f in LAKEFILES):
            return d
    return None


def source_dirs(root: Path) -> list[Path]:
    """Folders that module names are resolved against: the package root plus any `srcDir`."""
    dirs = [root]
    for f in LAKEFILES:
        lf = root / f
        if lf.exists():
            for m in re.finditer(r'srcDir\s*(?::=|=)\s*"([^"]+)"', lf.read_text(errors="replace")):
                d = (root / m.group(1)).resolve()
                if d not in dirs:
                    dirs.append(d)
    return dirs


def module_file(module: str, dirs: list[Path]) -> Path | None:
    rel = Path(*module.split(".")).with_suffix(".lean")
    for d in dirs:
        if (d / rel).exists():
            return d / rel
    return None


def module_name(path: Path, dirs: list[Path]) -> str:
    path = path.resolve()
    for d in sorted(dirs, key=lambda x: -len(str(x))):
        try:
            rel = path.relative_to(d)
        except ValueError:
            continue
        return ".".join(rel.with_suffix("").parts)
    return path.stem


@dataclass(frozen=True)
class BuildResult:
    out_dir: Path  # goes on LEAN_PATH
    modules: tuple[str, ...]  # project modules compiled (dependency order)
    sorry_decls: tuple[tuple[str, int], ...]  # (module, line) of declarations that use sorry
    seconds: float


def _outputs(olean: Path) -> list[Path]:
    """What compiling one module wrote: `X.olean` and its siblings (`X.ilean`, `X.olean.private`, …)."""
    return [f for f in olean.parent.glob(olean.stem + ".*") if f.is_file()]


def _object_dir(config: LeanConfig, mod: str, digest: str) -> Path:
    """Content-addressed copy of a compiled module, shared by every project folder (and every copy of a
    project, e.g. the curriculum's working copies): same name + same source + same imports' sources +
    same toolchain gives the same outputs."""
    return config.cache_dir / "builds" / "objects" / hashlib.sha256(f"{mod}\0{digest}".encode()).hexdigest()[:32]


def _restore(obj: Path, olean: Path) -> list[int] | None:
    """Copy a cached module into place; its sorry lines, or None when it is not cached."""
    meta = obj / "meta.json"
    if not meta.is_file():
        return None
    os.utime(obj)  # recently used: the pruner keeps it
    for f in obj.iterdir():
        if f.name != "meta.json":
            shutil.copy2(f, olean.parent / f.name)
    return list(json.loads(meta.read_text())["sorry_lines"])


def _store(obj: Path, olean: Path, sorry_lines: list[int]) -> None:
    tmp = obj.with_name(f"{obj.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for f in _outputs(olean):
        shutil.copy2(f, tmp / f.name)
    (tmp / "meta.json").write_text(json.dumps({"sorry_lines": sorry_lines}))
    try:
        tmp.rename(obj)
    except OSError:  # another process stored it first: same content
        shutil.rmtree(tmp, ignore_errors=True)


def _size(d: Path) -> int:
    return sum(f.stat().st_size for f in d.rglob("*") if f.is_file())


def prune_builds(config: LeanConfig, keep: tuple[Path, ...] = (), min_age_s: float = 3600.0) -> list[Path]:
    """Drop the least recently used compiled modules until `builds/` fits in `config.build_cache_mb`.

    A long daemon run stores a few modules per written proof, and every temporary project copy gets a
    build folder, so without this the cache only grows. Project build folders and content-addressed
    objects compete on their last use (a build folder's lock file is touched at each build, an object
    at each restore). `keep` and anything used in the last `min_age_s` seconds survive: a worker may be
    about to load those files. Returns what was removed."""
    base = config.cache_dir / "builds"
    if not base.is_dir():
        return []
    entries = [d for d in base.iterdir() if d.is_dir() and d.name != "objects"]
    if (base / "objects").is_dir():
        entries += [d for d in (base / "objects").iterdir() if d.is_dir() and ".tmp" not in d.name]

    def last_use(d: Path) -> float:
        lock = d / ".build.lock"
        return (lock if lock.exists() else d).stat().st_mtime

    sized = sorted(((last_use(d), _size(d), d) for d in entries), key=lambda e: e[0])
    total, limit = sum(s for _, s, _ in sized), config.build_cache_mb * 1024 * 1024
    removed: list[Path] = []
    now = time.time()
    kept = {k.resolve() for k in keep}
    for used, size, d in sized:
        if total <= limit:
            break
        if now - used < min_age_s or d.resolve() in kept:
            continue
        shutil.rmtree(d, ignore_errors=True)
        total -= size
        removed.append(d)
    return removed


def _build_dir(config: LeanConfig, root: Path) -> Path:
    tag = hashlib.sha256(str(root).encode()).hexdigest()[:12]
    return config.cache_dir / "builds" / f"{root.name}-{tag}"


def _import_order(file_text: str, dirs: list[Path]) -> list[str]:
    """The project modules a file imports, directly or not, dependencies first."""
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(mod: str, chain: tuple[str, ...]) -> None:
        if state.get(mod) == 2:
            return
        if state.get(mod) == 1:
            raise DojoInitError(f"import cycle: {' -> '.join(chain + (mod,))}; break the cycle in those files")
        path = module_file(mod, dirs)
        if path is None:
            return  # not a project module (Init, Std, Lean, ...)
        state[mod] = 1
        for imp in parse_header(path.read_text(errors="replace")).imports:
            visit(imp, chain + (mod,))
        state[mod] = 2
        order.append(mod)

    for imp in parse_header(file_text).imports:
        visit(imp, ())
    return order


def _digest(src: bytes, digests: dict[str, str], toolchain: Toolchain) -> str:
    """A module's build identity: its source, its project imports' identities, the toolchain."""
    deps = [digests[i] for i in parse_header(src.decode("utf-8", "replace")).imports if i in digests]
    return hashlib.sha256(src + "".join(deps).encode() + toolchain.version.encode()).hexdigest()


def ensure_built(file: Path, config: LeanConfig | None = None, toolchain: Toolchain | None = None,
                 quiet: bool = False) -> BuildResult | None:
    """Compile the project modules that `file` imports (transitively). None if `file` is not in a package
    or imports nothing from it."""
    t0 = time.time()
    config = config or LeanConfig()
    root = find_package_root(file.parent)
    if root is None:
        return None
    dirs = source_dirs(root)
    order = _import_order(file.read_text(errors="replace"), dirs)
    if not order:
        return None
    toolchain = toolchain or get_toolchain(config)
    out = _build_dir(config, root)
    new_dir = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    sorry: list[tuple[str, int]] = []
    stored = False
    with open(out / ".build.lock", "w") as lock:  # opening for writing also marks the folder as used
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamps_path = out / "stamps.json"
        stamps = json.loads(stamps_path.read_text()) if stamps_path.exists() else {}
        digests: dict[str, str] = {}
        for mod in order:
            path = module_file(mod, dirs)
            digest = digests[mod] = _digest(path.read_bytes(), digests, toolchain)
            olean = out / Path(*mod.split(".")).with_suffix(".olean")
            entry = stamps.get(mod, {})
            if entry.get("digest") == digest and olean.exists():
                sorry += [(mod, l) for l in entry.get("sorry_lines", [])]
                continue
            olean.parent.mkdir(parents=True, exist_ok=True)
            obj = _object_dir(config, mod, digest)
            cached = _restore(obj, olean)
            if cached is not None:
                stamps[mod] = {"digest": digest, "sorry_lines": cached}
                stamps_path.write_text(json.dumps(stamps, indent=1))
                sorry += [(mod, l) for l in cached]
                continue
            src_root = next(d for d in sorted(dirs, key=lambda x: -len(str(x))) if str(path.resolve()).startswith(str(d)))
            rel = path.resolve().relative_to(src_root)
            if not quiet:
                print(f"building {mod} …", file=sys.stderr, flush=True)
            t_mod = time.time()
            try:
                res = toolchain.compile(src_root, rel, olean, config.init_timeout * 2, (out,), (src_root, out), config.lean_threads)
            except subprocess.TimeoutExpired:
                raise DojoInitError(f"building {mod} ({path}) took over {config.init_timeout * 2:.0f} s; a proof in it may loop")
            errors = [f"{path}:{d['pos']['line']}:{d['pos']['column']}: {d['data'][:500]}" for d in res.errors]
            lines = res.sorry_lines
            if errors or res.returncode != 0 or not olean.exists():
                if olean.exists():
                    olean.unlink()
                detail = "\n".join(errors[:5]) or (res.stderr.strip().splitlines() or ["(no message)"])[-1]
                raise DojoInitError(f"module {mod} does not elaborate, so files importing it cannot be used:\n{detail}\n"
                                    f"Fix {path} first.")
            _store(obj, olean, lines)
            if not quiet:
                print(f"built {mod} in {time.time() - t_mod:.1f} s", file=sys.stderr, flush=True)
            stored = True
            stamps[mod] = {"digest": digest, "sorry_lines": lines}
            stamps_path.write_text(json.dumps(stamps, indent=1))
            sorry += [(mod, l) for l in lines]
    if stored or new_dir:
        prune_builds(config, keep=(out,))
    return BuildResult(out, tuple(order), tuple(sorry), time.time() - t0)
