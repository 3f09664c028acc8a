"""A process-wide pool of warm Lean workers.

Starting a worker costs ~9 s and ~3 GB, so workers outlive the Dojos that borrow them. A worker whose
document already has the same imports is preferred: switching to another theorem of the same file is
then an incremental edit, not a restart.
"""
from __future__ import annotations

import atexit
import threading
from pathlib import Path

from lean.config import LeanConfig
from lean.toolchain import Toolchain, get_toolchain
from lean.worker import LeanWorker


class LeanServer:
    def __init__(self, config: LeanConfig | None = None, toolchain: Toolchain | None = None):
        self.config = config or LeanConfig()
        self.toolchain = toolchain or get_toolchain(self.config)
        self._cv = threading.Condition()
        self._idle: list[LeanWorker] = []
        self._all: list[LeanWorker] = []
        self._closed = False
        self._retired = {"restarts": 0, "stalls": 0}  # of workers discarded from the pool

    @property
    def capacity(self) -> int:
        return self.config.num_workers

    def acquire(self, lean_path: tuple[Path, ...], mounts: tuple[Path, ...], header: str) -> LeanWorker:
        env_key = (tuple(map(str, lean_path)), tuple(map(str, mounts)))
        with self._cv:
            while True:
                if self._closed:
                    raise RuntimeError("LeanServer is closed")
                warm = [w for w in self._idle if w.env_key == env_key and w.alive() and (w.header == header)]
                same_env = [w for w in self._idle if w.env_key == env_key and w.alive()]
                pick = (warm or same_env or [None])[0]
                if pick is not None:
                    self._idle.remove(pick)
                    return pick
                if len(self._all) < self.capacity:
                    placeholder = object()
                    self._all.append(placeholder)  # reserve the slot, start outside the lock
                    break
                if self._idle:  # reuse a worker of another project: restart it with our environment
                    w = self._idle.pop(0)
                    w.reconfigure(lean_path, mounts)
                    w.env_key = env_key
                    return w
                self._cv.wait()
        try:
            w = LeanWorker(self.toolchain, lean_path=lean_path, mounts=mounts, threads=self.config.lean_threads,
                           memory_limit_mb=self.config.memory_limit_mb, stall_seconds=self.config.stall_seconds)
        except BaseException:
            with self._cv:
                self._all.remove(placeholder)
                self._cv.notify_all()
            raise
        w.env_key = env_key
        with self._cv:
            self._all[self._all.index(placeholder)] = w
        return w

    def release(self, w: LeanWorker) -> None:
        with self._cv:
            if self._closed:
                w.close()
                return
            self._idle.append(w)
            self._cv.notify_all()

    def discard(self, w: LeanWorker) -> None:
        w.close()
        with self._cv:
            if w in self._all:
                self._all.remove(w)
                self._retired["restarts"] += w.restarts
                self._retired["stalls"] += w.stalls
            self._cv.notify_all()

    def restart_counts(self) -> dict[str, int]:
        """Process restarts and stalls of every worker this pool has had, discarded ones included."""
        live = self.workers()
        with self._cv:
            return {k: v + sum(getattr(w, k) for w in live) for k, v in self._retired.items()}

    def workers(self) -> list[LeanWorker]:
        with self._cv:
            return [w for w in self._all if isinstance(w, LeanWorker)]

    def close(self) -> None:
        with self._cv:
            self._closed = True
            ws = [w for w in self._all if isinstance(w, LeanWorker)]
            self._all.clear()
            self._idle.clear()
            self._cv.notify_all()
        for w in ws:
            w.close()


_default: LeanServer | None = None
_default_lock = threading.Lock()


def default_server(config: LeanConfig | None = None) -> LeanServer:
    """The shared pool. Created on first use and closed at interpreter exit."""
    global _default
    with _default_lock:
        if _default is None or _default._closed:
            _default = LeanServer(config)
            atexit.register(_default.close)
        return _default


def shutdown_default_server() -> None:
    global _default
    with _default_lock:
        if _default is not None:
            _default.close()
            _default = None
