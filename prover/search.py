"""Best-first proof search over Lean states, with batched policy calls and parallel Lean workers.

Each iteration pops the `batch_size` most promising open states, asks the policy for tactics for all of
them in ONE `generate` call, and runs the resulting tactics across the Dojos in parallel (one thread per
Dojo; the GIL is released while Lean works), each state's tactics as one `run_tacs` batch (one edit
of the Lean document, the tactics run inside Lean). Priority is cumulative log-probability.
States are deduplicated by `TacticState.key`, so no proof state is ever expanded twice. A search whose
open states are all expanded with time left is not over: each expanded state is widened once, to the
policy's `max_samples` best ideas, and the ones not yet run are tried best first. Every edge is
recorded for training. A proof is reported only as a `ProofFinished`: the whole theorem as written,
elaborated and kernel-checked in its file, with its axioms audited by Lean.
"""
from __future__ import annotations

import heapq
import itertools
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Callable, Sequence

from lean.dojo import Dojo
from lean.results import LeanError, NotAudited, ProofFinished, ProofGivenUp, TacticState


@dataclass(frozen=True)
class SearchConfig:
    """Budgets and widths. Defaults suit a 2-core CPU; raise them on a GPU machine."""

    time_budget: float = 60.0  # wall seconds per theorem
    max_expansions: int = 400  # states expanded per theorem
    num_samples: int = 8  # tactics asked of the policy per state
    batch_size: int = 4  # states expanded per policy call
    # a search runs dry (every open state expanded, every tactic failed) long before its time budget when the
    # policy's first `num_samples` ideas are wrong: then the expanded states are widened, once each, to this
    # many (the policy's next ideas, best first by cumulative log-probability); at most `num_samples` turns
    # widening off
    # 64 over 32: on the bundled targets at 6 s each, 82 of 115 proved vs 78 in the same run, a superset
    # (`rw [← mul_assoc]` ranks below the 32nd idea), in less total time (results/search_cpu_all115x6s_widths.json)
    max_samples: int = 64
    max_depth: int = 40
    # Lean must not wait on a slow model: once the policy has taken this share of the search's wall
    # time, a policy with a cheap fallback (`MixturePolicy.cheap()`) answers with that instead
    max_model_share: float = 0.5
    # a tactic running when the budget ends may go on this many seconds past it. On states held in Lean
    # (`Dojo.stops_in_lean`) Lean's own watchdog interrupts it and the worker stays warm, so the budget
    # can be kept close: with 15 s here a 2 s search once took 16 s, waiting on a looping
    # `induction x <;> simp_all [..]` that could no longer help (benchmarks/search.py, Tree.tmem_insert)
    overrun: float = 1.0
    # the same where a stop means a restart (states by edit): seconds, plus re-elaborating the file,
    # which cost more than the wait
    overrun_by_restart: float = 15.0

    def __post_init__(self):
        if self.time_budget <= 0:
            raise ValueError(f"time_budget must be > 0 seconds, got {self.time_budget}")
        for name in ("overrun", "overrun_by_restart"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0 seconds, got {getattr(self, name)}")
        if not 0 < self.max_model_share <= 1:
            raise ValueError(f"max_model_share must be in (0, 1], got {self.max_model_share}; 1 never skips the model")
        for name in ("max_expansions", "num_samples", "max_samples", "batch_size", "max_depth"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")


@dataclass(frozen=True)
class Edge:
    """One tactic application tried during search."""

    state: str
    tactic: str
    result: str  # "state" | "proved" | "error" | "given_up" | "duplicate"
    result_state: str | None
    logprob: float
    seconds: float
    depth: int


@dataclass
class SearchResult:
    theorem: str
    proved: bool
    proof: list[str] | None
    expansions: int
    lean_s: float
    model_s: float
    wall_s: float
    edges: list[Edge] = field(default_factory=list)
    stop_reason: str = ""
    proof_states: list[str] = field(default_factory=list)  # state before each proof tactic

    def to_json(self) -> dict:
        return {"theorem": self.theorem, "proved": self.proved, "proof": "\n".join(self.proof) if self.proof else None,
                "expansions": self.expansions, "lean_s": round(self.lean_s, 3), "model_s": round(self.model_s, 3),
                "wall_s": round(self.wall_s, 3)}

    def edges_json(self) -> list[dict]:
        on_path = set(zip(self.proof_states, self.proof or []))
        return [dict(asdict(e), on_proof_path=(e.state, e.tactic) in on_path) for e in self.edges]


@dataclass(order=True)
class _Node:
    priority: float
    order: int
    state: TacticState = field(compare=False)
    logprob: float = field(compare=False)
    depth: int = field(compare=False)
    path: tuple[tuple[str, str], ...] = field(compare=False)  # (state pp, tactic) pairs from the root


class BestFirstSearch:
    def __init__(self, policy, config: SearchConfig | None = None,
                 premises_for: Callable[[str], list[str]] | None = None):
        self.policy = policy
        self.config = config or SearchConfig()
        self.premises_for = premises_for

    def search(self, dojos: Sequence[Dojo], init_state: TacticState, theorem: str = "") -> SearchResult:
        cfg = self.config
        t_start = time.time()
        deadline = t_start + cfg.time_budget
        counter = itertools.count()
        queue: list[_Node] = [_Node(0.0, next(counter), init_state, 0.0, 0, ())]
        seen: set[str] = {init_state.key}
        expanded: set[str] = set()
        edges: list[Edge] = []
        model_s = lean_s = 0.0
        expansions = 0
        stop = "queue exhausted"
        # widening: once no open state is left, the expanded states' next ideas, best first
        unwidened: list[tuple[_Node, set[str]]] = []  # expanded nodes and the tactics already run on them
        reserve: list[tuple[float, int, _Node, str, float]] = []
        pool = ThreadPoolExecutor(max_workers=len(dojos)) if len(dojos) > 1 else None
        cheap = self.policy.cheap() if hasattr(self.policy, "cheap") else None

        hints: dict[str, list[str]] = {}  # premises per state: a widened state is asked a second time

        def premises(pp: str) -> list[str]:
            if pp not in hints:
                hints[pp] = self.premises_for(pp)
            return hints[pp]

        def ask(nodes: list[_Node], k: int) -> list:
            nonlocal model_s
            t0 = time.time()
            prem = [premises(n.state.pp) for n in nodes] if self.premises_for else None
            over = model_s > cfg.max_model_share * (time.time() - t_start)
            policy = cheap if (over and cheap is not None) else self.policy
            out = policy.generate([n.state.pp for n in nodes], k, prem)
            model_s += time.time() - t0
            return out

        try:
            while queue or reserve or unwidened:
                if time.time() >= deadline:
                    stop = "time budget"
                    break
                if queue and expansions >= cfg.max_expansions:
                    stop = "expansion budget"
                    break
                if queue:
                    batch = [heapq.heappop(queue) for _ in range(min(cfg.batch_size, len(queue), cfg.max_expansions - expansions))]
                    for node in batch:
                        assert node.state.key not in expanded, "a state was expanded twice"
                        expanded.add(node.state.key)
                    expansions += len(batch)
                    tasks = [(node, tac, lp) for node, cands in zip(batch, ask(batch, cfg.num_samples)) for tac, lp in cands]
                    if cfg.max_samples > cfg.num_samples:
                        unwidened += [(node, {t for n, t, _ in tasks if n is node}) for node in batch]
                else:
                    if not reserve:  # the frontier ran dry with time left: widen every expanded state, once
                        nodes, unwidened = unwidened, []
                        for (node, tried), cands in zip(nodes, ask([n for n, _ in nodes], cfg.max_samples)):
                            for tac, lp in cands:
                                if tac not in tried:
                                    heapq.heappush(reserve, (-(node.logprob + lp), next(counter), node, tac, lp))
                        if not reserve:
                            continue
                    drawn = [heapq.heappop(reserve) for _ in range(min(len(reserve), cfg.num_samples * cfg.batch_size))]
                    tasks = [(node, tac, lp) for _, _, node, tac, lp in drawn]
                t0 = time.time()
                results = self._run_all(dojos, tasks, deadline, pool)
                lean_s += time.time() - t0
                found = None
                for (node, tac, lp), (res, secs) in zip(tasks, results):
                    if res is None or isinstance(res, NotAudited):
                        continue  # skipped: out of time, or a second proof in one batch
                    kind, rstate = _kind(res)
                    if kind == "state" and rstate.key in seen:
                        kind = "duplicate"
                    edges.append(Edge(node.state.pp, tac, kind, rstate.pp if rstate is not None else None, lp, secs, node.depth))
                    if kind == "proved" and found is None:
                        found = (node, tac, res)
                    elif kind == "state" and node.depth + 1 < cfg.max_depth:
                        seen.add(rstate.key)
                        total = node.logprob + lp
                        heapq.heappush(queue, _Node(-total, next(counter), rstate, total, node.depth + 1,
                                                    node.path + ((node.state.pp, tac),)))
                if found is not None:
                    # a ProofFinished is already the whole-theorem check (the theorem as written, elaborated,
                    # kernel-checked and its axioms audited in Lean); re-checking it cost a second audit
                    node, tac, res = found
                    proof = [t for _, t in node.path] + [tac]
                    states = [s for s, _ in node.path] + [node.state.pp]
                    return SearchResult(theorem, True, proof, expansions, lean_s, model_s, time.time() - t_start,
                                        edges, "proved", states)
        finally:
            if pool is not None:
                pool.shutdown(wait=True)
        return SearchResult(theorem, False, None, expansions, lean_s, model_s, time.time() - t_start, edges, stop)

    def _run_all(self, dojos: Sequence[Dojo], tasks, deadline: float, pool):
        """Run (node, tactic) pairs: a node's tactics go to one Dojo together (`run_tacs`: one edit of the
        document, the tactics run inside Lean from the state's elaboration), and nodes
        are spread round-robin over the Dojos (with fewer nodes than Dojos, a node's tactics are shared
        out, so no worker idles). Combinator tactics
        (`induction x <;> simp_all [..]`, which can take 10+ s) run as a second batch per node, after
        every node's quick tactics: a batch answers only when its slowest tactic is done, so a quick proof
        would otherwise wait for them, and the search stops at the first proof."""
        results: list = [(None, 0.0)] * len(tasks)
        groups: dict[int, list[int]] = {}
        for j, (node, _, _) in enumerate(tasks):
            groups.setdefault(id(node), []).append(j)
        order = list(groups.values())
        if 0 < len(order) < len(dojos):  # fewer states than workers: spread a state's tactics over them all
            per = -(-len(dojos) // len(order))
            order = [g[i::per] for g in order for i in range(per) if g[i::per]]

        def lane(i: int) -> None:
            d = dojos[i]
            mine = order[i::len(dojos)]
            batches = [[j for j in g if not is_combinator(tasks[j][1])] for g in mine]
            batches += [[j for j in g if is_combinator(tasks[j][1])] for g in mine]
            for g in batches:
                if not g:
                    continue
                if time.time() >= deadline:
                    return
                node = tasks[g[0]][0]
                t0 = time.time()
                # tactics are started until the deadline; one then running may overrun it by at most
                # `overrun` (then Lean interrupts it), or `overrun_by_restart` where a stop is a restart
                grace = self.config.overrun if d.stops_in_lean else self.config.overrun_by_restart
                batch = d.run_tacs(node.state, [tasks[j][1] for j in g], timeout=deadline - time.time(), first_proof=True,
                                   grace=grace)
                share = (time.time() - t0) / len(g)
                for j, res in zip(g, batch):
                    results[j] = (res, share)
                if any(isinstance(r, ProofFinished) for r in batch):
                    return

        if pool is None:
            lane(0)
        else:
            list(pool.map(lane, range(len(dojos))))
        return results


def is_combinator(tactic: str) -> bool:
    """A tactic that runs another on every goal it makes (`t <;> s`): the slow kind, run after the rest."""
    return "<;>" in tactic


def _kind(res) -> tuple[str, TacticState | None]:
    if isinstance(res, ProofFinished):
        return "proved", None
    if isinstance(res, TacticState):
        return "state", res
    if isinstance(res, ProofGivenUp):
        return "given_up", None
    if isinstance(res, LeanError):
        return "error", None
    raise TypeError(f"unexpected tactic result {res!r}")
