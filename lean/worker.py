"""One long-lived Lean file-worker process, driven over LSP, with limits enforced from outside.

The worker holds exactly one document. Imports are loaded once; each proof step is an edit of that
document, which Lean re-elaborates incrementally (tens of milliseconds). Wall-clock timeouts and the
resident-memory cap are enforced here by killing the whole process group, so a hung or runaway Lean can
never burn a core after its request was abandoned.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from lean import lsp
from lean.errors import DojoCrashError, DojoSilenceError, DojoStallError, DojoTimeoutError
from lean.toolchain import Toolchain


@dataclass(frozen=True)
class Elaboration:
    """The diagnostics Lean reported for one version of the document."""

    version: int
    diagnostics: tuple[lsp.Diagnostic, ...]
    seconds: float


log = logging.getLogger("lean.worker")

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system, all threads) the process has used; None where /proc cannot tell."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK
    except (OSError, IndexError, ValueError):
        return None


def _run_delay_seconds(pid: int) -> float:
    """Time the process's threads spent runnable but waiting for a CPU (schedstat's run_delay, summed)."""
    total = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0.0
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9


def _io_bytes(pid: int) -> int:
    """Bytes the process has read and written through system calls (files and pipes)."""
    try:
        with open(f"/proc/{pid}/io") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        return int(fields["rchar"]) + int(fields["wchar"])
    except (OSError, KeyError, ValueError):
        return 0


def _steal_seconds() -> float:
    """CPU time the hypervisor took from this machine, all CPUs together (/proc/stat's steal)."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        return int(fields[8]) / _TICK
    except (OSError, IndexError, ValueError):
        return 0.0


@dataclass(frozen=True)
class _Vitals:
    """Signs of life of a worker at one instant; a stalled worker shows none of them grow."""

    wall: float
    cpu: float  # CPU seconds the process used
    waiting: float  # seconds its threads were runnable but got no CPU (a crowded machine, not a deadlock)
    steal: float  # seconds the hypervisor took from the whole machine
    io: int  # bytes read and written (olean reads, LSP output)
    messages: int  # LSP messages received from it

    @staticmethod
    def sample(pid: int, messages: int, now: float) -> "_Vitals | None":
        cpu = cpu_seconds(pid)
        if cpu is None:
            return None
        return _Vitals(now, cpu, _run_delay_seconds(pid), _steal_seconds(), _io_bytes(pid), messages)


class StallWatch:
    """Decides whether a process with a request pending is stalled: asleep for a whole window.

    Low CPU alone is not enough: on a crowded or throttled machine a working Lean gets little CPU, and
    killing it there only repeats the work (seen in CI: 6 kills in one test, each replay killed again).
    A deadlocked process sleeps: it neither runs, nor waits for a CPU, nor moves data, nor says anything.
    """

    # below this share of one core over the window, a process counts as not running: an idle wasm
    # worker polls its thread ports at 3-4% of a core (measured over 10 s), and one at work uses a
    # whole core, or half of one with two workers per core. The same share bounds the time its threads
    # may wait for a CPU and the machine's steal.
    CPU_SHARE = 0.15
    IO_BYTES = 1 << 16  # more data than this read or written (olean reads, LSP output) is progress
    MIN_INTERVAL = 0.25  # seconds between samples

    def __init__(self, pid: int, window: float):
        self.pid, self.window = pid, window
        self._samples: list[_Vitals] = []
        self._created = time.time()

    def check(self, now: float, messages: int) -> str | None:
        """Why the process counts as stalled over the last `window` seconds, else None.

        `messages` counts what the process has said so far (any message is a sign of life). Sampling
        reads ~15 /proc files (0.3 ms), and the caller checks at every message: at most 4 per second, and
        none in a request's first quarter second (most steps take ~20 ms and never pay for it)."""
        last = self._samples[-1].wall if self._samples else self._created
        if now - last < self.MIN_INTERVAL:
            return None
        v = _Vitals.sample(self.pid, messages, now)
        if v is None:
            return None
        samples = self._samples
        samples.append(v)
        while len(samples) > 1 and samples[1].wall <= now - self.window:
            samples.pop(0)  # keep exactly one sample at or before the window's start
        v0 = samples[0]
        span = now - v0.wall
        if span < self.window:
            return None
        limit = self.CPU_SHARE * span
        cpu, waiting, steal, io = v.cpu - v0.cpu, v.waiting - v0.waiting, v.steal - v0.steal, v.io - v0.io
        if cpu > limit or waiting > limit or steal > limit or io > self.IO_BYTES or v.messages > v0.messages:
            return None
        return (f"{cpu:.2f} s of CPU in the last {span:.1f} s with a request pending, {waiting:.2f} s waiting "
                f"for a CPU, {io} bytes of I/O, no message, machine steal {steal:.2f} s")


def _threads(pid: int) -> list[tuple[str, str, str]]:
    """(name, scheduler state, kernel wait channel) of each thread: what a stalled worker is stuck in."""
    out = []
    try:
        tids = sorted(os.listdir(f"/proc/{pid}/task"), key=int)
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            try:
                with open(f"/proc/{pid}/task/{tid}/wchan") as f:
                    wchan = f.read().strip() or "-"
            except OSError:
                wchan = "?"
            out.append((name, state, wchan))
        except (OSError, IndexError):
            continue
    return out


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class LeanWorker:
    """A `lean --worker` process (wasm or native) holding one document."""

    def __init__(self, toolchain: Toolchain, *, lean_path: tuple[Path, ...] = (), mounts: tuple[Path, ...] = (),
                 threads: int = 1, memory_limit_mb: int = 6144, workdir: Path | None = None, stall_seconds: float = 5.0):
        self.toolchain = toolchain
        self.lean_path, self.mounts, self.threads = tuple(lean_path), tuple(mounts), threads
        self.memory_limit_mb = memory_limit_mb
        self.stall_seconds = stall_seconds
        self.stalls = 0  # requests abandoned because the process sat idle (see `_await`)
        self._messages = 0  # LSP messages received, a sign of life for the stall check
        self._last_message = 0.0  # when the last one came (`time.time()`), for the silence check
        self._stderr_size = 0  # what the process had written to stderr when last looked at ...
        self._last_stderr = 0.0  # ... and when that grew: a line there is a sign of life too
        self._importing = False  # whether the runtime's trace says it is loading the imports
        self._stall_streak = 0  # stalls since the last answered request: each one doubles the next window
        base = Path("/tmp") if workdir is None else workdir  # the wasm glue always mounts /tmp
        self.dir = Path(tempfile.mkdtemp(prefix="lean-agent-", dir=base))
        self.uri = "file://" + str(self.dir / "Proof.lean")
        self.proc: subprocess.Popen | None = None
        self.restarts = -1
        self.start_seconds = 0.0
        self._lock = threading.Lock()  # one request at a time per worker
        self._cv = threading.Condition()
        self._responses: dict[int, dict] = {}
        self._diags: dict[int, tuple[lsp.Diagnostic, ...]] = {}
        self._next_id = 0
        self._version = 0
        self._text: str | None = None
        self._dead_reason: str | None = None
        self._watch_stop = threading.Event()
        self.env_key = None  # set by the server pool
        self.header = None  # import block of the current document
        self.start()

    def reconfigure(self, lean_path: tuple[Path, ...], mounts: tuple[Path, ...]) -> None:
        """Restart with another library search path (another project)."""
        self.lean_path, self.mounts = tuple(lean_path), tuple(mounts)
        self.start()

    # ---- process lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        self.kill()
        self.restarts += 1
        env = self.toolchain.process_env(self.lean_path, self.mounts, self.threads)
        self._stderr = open(self.dir / "stderr.log", "wb")
        self._stderr_size, self._importing = 0, False
        t0 = time.time()
        self.proc = subprocess.Popen(self.toolchain.worker_argv(), cwd=self.dir, env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._stderr, start_new_session=True)
        self._responses.clear()
        self._diags.clear()
        self._dead_reason = None
        self._version = 0
        self._text = None
        self.header = None
        self._decoder = lsp.Decoder()
        proc = self.proc
        threading.Thread(target=self._read_loop, args=(proc,), daemon=True, name="lean-lsp-reader").start()
        self._watch_stop = threading.Event()
        threading.Thread(target=self._watch_memory, args=(proc, self._watch_stop), daemon=True, name="lean-mem-watch").start()
        self._send(lsp.initialize(self._new_id(), "file://" + str(self.dir)))  # the worker never answers this
        self.start_seconds = time.time() - t0

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """Kill the whole process group (node and its threads) and reap it: no zombies."""
        self._watch_stop.set()
        p, self.proc = self.proc, None
        if p is None:
            return
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for stream in (p.stdin, p.stdout):
            try:
                stream.close()
            except Exception:
                pass
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        try:
            self._stderr.close()
        except Exception:
            pass
        with self._cv:
            self._cv.notify_all()

    def close(self) -> None:
        self.kill()
        for f in self.dir.glob("*"):
            try:
                f.unlink()
            except OSError:
                pass
        try:
            self.dir.rmdir()
        except OSError:
            pass

    def rss_mb(self) -> float:
        return _rss_mb(self.proc.pid) if self.proc else 0.0

    def stderr_tail(self, n: int = 2000) -> str:
        lines = [l for l in self._stderr_lines() if not l.startswith("[DEBUG")]
        return "\n".join(lines)[-n:]

    def _stderr_lines(self) -> list[str]:
        """The lines of the last 20 KB the process wrote to stderr."""
        try:
            return (self.dir / "stderr.log").read_bytes()[-20000:].decode("utf-8", "replace").splitlines()
        except OSError:
            return []

    def _watch_memory(self, proc: subprocess.Popen, stop: threading.Event) -> None:
        while not stop.wait(0.5):
            if proc.poll() is not None:
                return
            rss = _rss_mb(proc.pid)
            if rss > self.memory_limit_mb:
                self._dead_reason = f"worker exceeded the memory limit ({rss:.0f} MB > {self.memory_limit_mb} MB)"
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                with self._cv:
                    self._cv.notify_all()
                return

    # ---- wire ----------------------------------------------------------------------------------
    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _send(self, msg: dict) -> None:
        p = self.proc
        if p is None or p.poll() is not None:
            raise DojoCrashError(self._death_message())
        try:
            p.stdin.write(lsp.encode(msg))
            p.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            raise DojoCrashError(self._death_message())

    def _read_loop(self, proc: subprocess.Popen) -> None:
        out = proc.stdout
        try:
            while True:
                chunk = out.read1(1 << 16)
                if not chunk:
                    break
                for msg in self._decoder.feed(chunk):
                    self._dispatch(proc, msg)
        except (OSError, ValueError, lsp.FramingError) as e:
            if self.proc is proc:
                self._dead_reason = f"protocol failure: {e}"
        with self._cv:
            self._cv.notify_all()

    def _dispatch(self, proc: subprocess.Popen, msg: dict) -> None:
        self._messages += 1
        self._last_message = time.time()
        if "method" in msg and "id" in msg:  # the worker's own requests (refresh hints): answer null
            try:
                proc.stdin.write(lsp.encode(lsp.response(msg["id"])))
                proc.stdin.flush()
            except Exception:
                pass
            return
        with self._cv:
            if "id" in msg:
                self._responses[msg["id"]] = msg
            elif msg.get("method") == "textDocument/publishDiagnostics":
                params = msg["params"]
                if params.get("uri") == self.uri and params.get("version") is not None:
                    self._diags[params["version"]] = tuple(lsp.Diagnostic.from_json(d) for d in params["diagnostics"])
            self._cv.notify_all()

    def _death_message(self) -> str:
        rc = self.proc.poll() if self.proc else None
        why = self._dead_reason or (f"exited with code {rc}" if rc is not None else "is gone")
        return f"Lean worker {why}; stderr tail:\n{self.stderr_tail(800)}"

    def _await(self, id_: int, timeout: float, silence: float = 0.0, import_silence: float = 0.0) -> dict:
        """The response to request `id_`.

        Besides the wall-clock `timeout`, a request fails fast when the process has slept (`StallWatch`:
        no CPU, no wait for one, no I/O, no message) for `stall_seconds` while it is pending: Lean working
        on a request keeps a core busy, and one that sits idle with the request unanswered is deadlocked
        (seen rarely with the wasm runtime: a start or a one-line `exact` hanging until its 20-300 s limit). DojoStallError lets the caller restart and
        replay at once; its message carries the threads' states for diagnosis. A request that stalls again
        after its replay gets twice the window (at most 4x): if the kill was wrong, the replay must not be
        killed at the same point. With `silence`, a request during which the process says nothing (no
        message, no stderr line) for that many seconds fails the same way (`LeanConfig.init_silence`), and
        with `import_silence`, for that many while the runtime traces that it loads the imports."""
        t_start = time.time()
        deadline = t_start + timeout
        pid = self.proc.pid if self.proc else None
        watch = StallWatch(pid, self.stall_seconds * 2 ** min(self._stall_streak, 2)) if pid is not None else None
        stalled, silent = None, False
        with self._cv:
            while id_ not in self._responses:
                if self.proc is None or self.proc.poll() is not None or self._dead_reason:
                    raise DojoCrashError(self._death_message())
                now = time.time()
                left = deadline - now
                if left <= 0:
                    raise DojoTimeoutError(f"Lean did not answer within {timeout:.1f} s")
                if self.stall_seconds > 0 and watch is not None:
                    stalled = self._check_stall(watch, now)
                    if stalled:
                        break
                if silence:
                    limit = self._silence_limit(silence, import_silence, now)
                    if now - max(t_start, self._last_message, self._last_stderr) > limit:
                        stalled, silent = self._silent(pid, limit), True
                        break
                self._cv.wait(min(left, 0.5))
            else:
                self._stall_streak = 0
                return self._responses.pop(id_)
        # killed outside the lock: reaping may wait up to 10 s, and the reader thread needs the lock meanwhile
        log.warning("%s; stderr tail: %s", stalled, self.stderr_tail(400))
        self.kill()
        raise (DojoSilenceError if silent else DojoStallError)(stalled)

    def _check_stall(self, watch: StallWatch, now: float) -> str | None:
        """Why the pending request counts as stalled, with the threads' states, else None."""
        why = watch.check(now, self._messages)
        if why is None:
            return None
        threads = _threads(watch.pid)
        if any(state == "D" for _, state, _ in threads):
            return None  # waiting on the disk is not a deadlock
        self.stalls += 1
        self._stall_streak += 1
        return self._abandoned(f"stalled: {why}", threads)

    def _silence_limit(self, silence: float, import_silence: float, now: float) -> float:
        """The silence check's limit now: `import_silence` while the runtime's trace says the imports are
        loading (the last import-trace line on stderr starts them), else `silence`. Notes when stderr grew."""
        try:
            size = (self.dir / "stderr.log").stat().st_size
        except OSError:
            size = self._stderr_size
        if size != self._stderr_size:
            self._stderr_size, self._last_stderr = size, now
            marks = self.toolchain.import_trace
            if marks is not None:
                last = next((l for l in reversed(self._stderr_lines()) if l.startswith(marks)), "")
                self._importing = last.startswith(marks[0])
        if self._importing and import_silence:
            return min(silence, import_silence)
        return silence

    def _silent(self, pid: int | None, silence: float) -> str:
        """Why a request that got no message for `silence` seconds is abandoned, with what the process did
        meanwhile (CPU, its threads' states) for diagnosis."""
        self.stalls += 1
        cpu = cpu_seconds(pid) if pid is not None else None
        phase = " while loading its imports" if self._importing else ""
        return self._abandoned(f"said nothing for {silence:.0f} s{phase} with a request pending, after "
                               f"{'?' if cpu is None else f'{cpu:.1f}'} s of CPU", _threads(pid) if pid is not None else [])

    def _abandoned(self, what: str, threads: list[tuple[str, str, str]]) -> str:
        """The report of a request given up on a live worker: what it did, its threads' states and the
        runtime's last trace line (which phase it was in)."""
        summary = ", ".join(f"{n}:{st}:{wc}" for n, st, wc in threads)
        return (f"Lean worker {what} (threads: {summary}; last trace line: {self._last_trace()!r}); "
                f"it was killed and will be replaced")

    def _last_trace(self) -> str:
        """The runtime's last [DEBUG] line: which phase (start, import, elaboration) a stall hit."""
        lines = [l for l in self._stderr_lines() if l.strip()]
        return lines[-1][:160] if lines else ""

    # ---- document ------------------------------------------------------------------------------
    @property
    def text(self) -> str | None:
        return self._text

    def elaborate(self, text: str, timeout: float, header: str | None = None, silence: float = 0.0,
                  import_silence: float = 0.0) -> Elaboration:
        """Make `text` the document and wait for Lean's diagnostics of it.

        `header` is the document's import block. Lean's file worker cannot change its imports in place
        (it hangs), so a different header restarts the process first.
        On timeout the worker is killed (nothing keeps running) and DojoTimeoutError is raised; the
        caller decides whether to restart. `silence`, `import_silence`: see `_await`.
        """
        with self._lock:
            if not self.alive() or (self._text is not None and header is not None and header != self.header):
                self.start()
            self.header = header
            t0 = time.time()
            self._version += 1
            v = self._version
            if self._text is None:
                self._send(lsp.did_open(self.uri, v, text))
            else:
                self._send(lsp.did_change(self.uri, v, text))
            self._text = text
            resp = self._request(lambda rid: lsp.wait_for_diagnostics(rid, self.uri, v), timeout, silence,
                                 import_silence)
            if "error" in resp:
                raise DojoCrashError(f"Lean rejected waitForDiagnostics: {resp['error']}")
            with self._cv:
                diags = self._diags.get(v, ())
                for old in [k for k in self._diags if k < v]:
                    del self._diags[old]
            return Elaboration(v, diags, time.time() - t0)

    def _request(self, make, timeout: float, silence: float = 0.0, import_silence: float = 0.0) -> dict:
        """Send the request `make(id)` and return its response; on timeout the worker is killed (nothing
        keeps running) and DojoTimeoutError raised. The caller holds the lock."""
        rid = self._new_id()
        self._send(make(rid))
        try:
            return self._await(rid, timeout, silence, import_silence)
        except DojoTimeoutError:
            self.kill()
            raise

    def rpc_call(self, method: str, params, pos: lsp.Position, timeout: float):
        """The result of a user RPC method of the document, found at `pos`. The methods the documents
        register by hand (`leanmeta._RPC_DEFS`) ignore the session, so none is connected."""
        with self._lock:
            resp = self._request(lambda rid: lsp.rpc_call(rid, self.uri, pos, method, params), timeout)
            if "error" in resp:
                raise DojoCrashError(f"Lean rejected the RPC call {method}: {resp['error']}")
            return resp.get("result")

    def plain_goal(self, pos: lsp.Position, timeout: float) -> list[str] | None:
        with self._lock:
            res = self._request(lambda rid: lsp.plain_goal(rid, self.uri, pos), timeout).get("result")
            return None if res is None else list(res.get("goals", []))
