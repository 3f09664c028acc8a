"""`curriculum daemon`: watch a project, attack new or edited `sorry`s, keep training between bursts.

State lives in the manager's SQLite store (WAL), file writes are atomic and refused when a person
changed the file since it was read, so `kill -9` at any moment loses nothing and a restart resumes.
SIGTERM/SIGINT stop it cleanly after the current theorem. Logs are structured `key=value` lines.
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
import time
from pathlib import Path

from curriculum.manager import Manager, project_files
from prover.attack import AttackError, attack_file, open_theorems
from prover.context import premise_provider
from lean.errors import LeanAgentError


def log(event: str, **fields) -> None:
    parts = [f"ts={time.strftime('%Y-%m-%dT%H:%M:%S')}", f"event={event}"]
    parts += [f"{k}={json.dumps(v) if isinstance(v, str) and (' ' in v or not v) else v}" for k, v in fields.items()]
    print(" ".join(parts), file=sys.stderr, flush=True)


class Daemon:
    def __init__(self, manager: Manager, poll: float = 2.0, train_every: float = 60.0):
        self.m = manager
        self.poll = poll
        self.train_every = train_every
        self.stop = False
        self.pid_file = manager.out / "daemon.pid"

    def _digest(self, f: Path) -> str:
        return hashlib.sha256(f.read_bytes()).hexdigest()

    def _handle(self, signum, _frame) -> None:
        log("stopping", signal=signal.Signals(signum).name)
        self.stop = True

    def run(self, max_iterations: int | None = None) -> None:
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)
        self.pid_file.write_text(str(os.getpid()))
        seen: dict[str, str] = self.m.store.get("daemon.seen", {}) or {}
        last_train = time.time()
        log("started", project=str(self.m.root), pid=os.getpid(), resumed_files=len(seen))
        it = 0
        try:
            while not self.stop and (max_iterations is None or it < max_iterations):
                it += 1
                worked = False
                for f in project_files(self.m.root):
                    if self.stop:
                        break
                    try:
                        digest = self._digest(f)
                    except OSError:
                        continue
                    if seen.get(str(f)) == digest:
                        continue
                    targets = open_theorems(f.read_text(errors="replace"))
                    if targets:
                        worked = True
                        log("attack", file=str(f), open=len(targets))
                        try:
                            report = attack_file(f, targets, self.m.policy, search_config=self.m._search_config(self.m.config.budget),
                                                 lean_config=self.m.lean_config, server=self.m.server, write=True,
                                                 num_workers=self.m.lean_config.num_workers, premises_for_file=premise_provider(f),
                                                 on_result=lambda r, f=f: (self.m.store.record_attempt(r, round_=0, file=str(f), policy="daemon"),
                                                                           log("result", theorem=r.theorem, proved=r.proved, wall_s=round(r.wall_s, 2))))
                            if report.written:
                                log("written", file=str(f), proved=sum(r.proved for r in report.results))
                                for r in report.results:
                                    if r.proved:
                                        self.m.store.mark_written(r.theorem)
                        except AttackError as e:
                            log("skipped", file=str(f), reason=str(e)[:200])
                        except LeanAgentError as e:
                            log("error", file=str(f), reason=str(e)[:200])
                        except Exception as e:  # a bug must not stop the daemon; the store keeps what was done
                            log("internal-error", file=str(f), reason=f"{type(e).__name__}: {e}"[:300])
                    try:
                        seen[str(f)] = self._digest(f)
                    except OSError:
                        pass
                    self.m.store.put("daemon.seen", seen)
                if not worked and self.m.config.learning and time.time() - last_train > self.train_every:
                    n, loss = self.m._train()
                    last_train = time.time()
                    if n:
                        log("trained", examples=n, loss=loss)
                if not worked:
                    time.sleep(self.poll)
        finally:
            self.pid_file.unlink(missing_ok=True)
            log("stopped")


def status(out: Path) -> dict:
    """What a running or stopped daemon has done, read from its store."""
    from curriculum.store import Store

    db = out / "store.sqlite"
    if not db.exists():
        return {"running": False, "store": None}
    pid = None
    pf = out / "daemon.pid"
    if pf.exists():
        try:
            pid = int(pf.read_text())
            os.kill(pid, 0)
        except (ValueError, ProcessLookupError, PermissionError):
            pid = None
    s = Store(db)
    try:
        return {"running": pid is not None, "pid": pid, "store": str(db), "attempts": s.count("attempts"),
                "proofs": s.count("proofs"), "edges": s.count("edges"), "examples": s.count("examples")}
    finally:
        s.close()
