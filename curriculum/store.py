"""Everything the manager learns, in one SQLite file (WAL mode): attempts, search edges, proofs, examples.

Each attempt is committed in a single transaction, so a `kill -9` at any moment loses at most the
attempt in flight; a restarted daemon resumes from what is here.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT, round INTEGER, theorem TEXT NOT NULL, file TEXT, proved INTEGER NOT NULL,
  proof TEXT, expansions INTEGER, lean_s REAL, model_s REAL, wall_s REAL, policy TEXT, purpose TEXT, at REAL
);
CREATE TABLE IF NOT EXISTS edges (
  attempt INTEGER NOT NULL REFERENCES attempts(id), state TEXT, tactic TEXT, result TEXT, result_state TEXT,
  logprob REAL, seconds REAL, depth INTEGER, on_proof_path INTEGER
);
CREATE TABLE IF NOT EXISTS proofs (
  theorem TEXT PRIMARY KEY, file TEXT, proof TEXT NOT NULL, round INTEGER, written INTEGER DEFAULT 0, at REAL
);
CREATE TABLE IF NOT EXISTS examples (
  theorem TEXT, state TEXT, tactic TEXT, state_after TEXT, source TEXT, file TEXT, trained INTEGER DEFAULT 0,
  UNIQUE(state, tactic)
);
CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT);
CREATE INDEX IF NOT EXISTS edges_attempt ON edges(attempt);
"""


class Store:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def record_attempt(self, result, *, round_: int, file: str, policy: str, purpose: str = "attack") -> int:
        """Store one search (attempt + edges + proof + examples from the proof path) atomically."""
        with self._lock, self.db:
            cur = self.db.execute(
                "INSERT INTO attempts(round, theorem, file, proved, proof, expansions, lean_s, model_s, wall_s, policy, purpose, at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (round_, result.theorem, file, int(result.proved), "\n".join(result.proof) if result.proof else None,
                 result.expansions, result.lean_s, result.model_s, result.wall_s, policy, purpose, time.time()))
            aid = cur.lastrowid
            self.db.executemany(
                "INSERT INTO edges VALUES (?,?,?,?,?,?,?,?,?)",
                [(aid, e["state"], e["tactic"], e["result"], e["result_state"], e["logprob"], e["seconds"], e["depth"],
                  int(e["on_proof_path"])) for e in result.edges_json()])
            if result.proved and purpose in ("attack", "first pass"):
                self.db.execute("INSERT OR REPLACE INTO proofs(theorem, file, proof, round, written, at) VALUES (?,?,?,?,0,?)",
                                (result.theorem, file, "\n".join(result.proof), round_, time.time()))
            if result.proved:
                states = result.proof_states
                for i, (s, t) in enumerate(zip(states, result.proof)):
                    after = states[i + 1] if i + 1 < len(states) else None
                    self.db.execute("INSERT OR IGNORE INTO examples(theorem, state, tactic, state_after, source, file) VALUES (?,?,?,?,?,?)",
                                    (result.theorem, s, t, after, "search", file))
            return aid

    def mark_written(self, theorem: str) -> None:
        with self._lock, self.db:
            self.db.execute("UPDATE proofs SET written=1 WHERE theorem=?", (theorem,))

    def add_examples(self, rows: list[dict]) -> int:
        with self._lock, self.db:
            before = self.db.total_changes
            self.db.executemany("INSERT OR IGNORE INTO examples(theorem, state, tactic, state_after, source, file) VALUES (?,?,?,?,?,?)",
                                [(r["theorem"], r["state"], r["tactic"], r.get("state_after"), r.get("source", "human"), r.get("file"))
                                 for r in rows])
            return self.db.total_changes - before

    def examples(self, trained: bool | None = None) -> list[dict]:
        q = "SELECT theorem, state, tactic, state_after, source, file FROM examples"
        if trained is not None:
            q += f" WHERE trained={int(trained)}"
        cols = ("theorem", "state", "tactic", "state_after", "source", "file")
        with self._lock:
            return [dict(zip(cols, r)) for r in self.db.execute(q)]

    def mark_trained(self, except_theorems: set[str] | frozenset[str] = frozenset()) -> None:
        """Mark every example trained, except those of `except_theorems` (held out, trained later)."""
        with self._lock, self.db:
            if except_theorems:
                marks = ",".join("?" * len(except_theorems))
                self.db.execute(f"UPDATE examples SET trained=1 WHERE theorem NOT IN ({marks})", tuple(except_theorems))
            else:
                self.db.execute("UPDATE examples SET trained=1")

    def proofs(self) -> dict[str, str]:
        with self._lock:
            return dict(self.db.execute("SELECT theorem, proof FROM proofs"))

    def failures(self, theorem: str) -> int:
        """Failed attempts at the full budget (a quick first pass that found nothing is weak evidence)."""
        with self._lock:
            return self.db.execute("SELECT COUNT(*) FROM attempts WHERE theorem=? AND proved=0 AND purpose IS NOT 'first pass'", (theorem,)).fetchone()[0]

    def count(self, table: str) -> int:
        assert table in ("attempts", "edges", "proofs", "examples")
        with self._lock:
            return self.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]

    def get(self, key: str, default=None):
        with self._lock:
            row = self.db.execute("SELECT v FROM kv WHERE k=?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def put(self, key: str, value) -> None:
        with self._lock, self.db:
            self.db.execute("INSERT OR REPLACE INTO kv VALUES (?,?)", (key, json.dumps(value)))
