"""The curriculum manager: work through a Lean project's open theorems, learning as it goes.

One round: order the open (`sorry`) theorems (files after the files they import, the cheapest to open
first: `curriculum.schedule`; inside a file by position, easier first where nothing forces an order: a
theorem can only use what comes before it), attack them with the
prover (with `first_pass_budget`, in two passes over the files: a quick one, then the full budget for
what it left, so that under a time limit the easy theorems of every file come before the hard ones of any), write each verified proof back (atomically; a file a person changed is never overwritten), store
every attempt and search edge in SQLite, then train the policy on what was proved and re-attempt a sample
of earlier solved theorems to measure forgetting. With `learning=False` the same loop runs with a frozen
policy: the ablation that shows whether learning pays.

The learned policy has two parts. A tactic memory (`prover.memory`, with `memory: true`) learns at once:
each proof's steps are remembered the moment it is found, so the next theorem of the same round can
reuse them. The transformer learns by training between rounds; it joins the search only once it has shown value (its
recall of the tactics of the round's new proofs, measured before it trains on them), because on a
small CPU a model that proposes nothing useful only takes time from Lean.
"""
from __future__ import annotations

import json
import random
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from curriculum.config import CurriculumConfig
from curriculum.project import list_modules
from curriculum.schedule import next_file, project_closure
from curriculum.store import Store
from lean.build import find_package_root
from lean.config import LeanConfig, default_search_workers
from lean.dojo import document_header
from lean.errors import LeanAgentError
from lean.server import LeanServer
from lean.source import THEOREM_KEYWORDS, declarations
from prover.attack import AttackError, attack_file, open_theorems, replace_proof, proof_text
from prover.context import premise_provider
from prover.search import SearchConfig

REPO_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_SPLIT = REPO_ROOT / "data" / "split.json"
BUNDLED_TRACE = REPO_ROOT / "data" / "trace.jsonl"


def bundled_seen_trace(dest: Path, trace: Path = BUNDLED_TRACE) -> Path:
    """Write to `dest` the rows of a trace of the bundled development whose theorem is in its seen split.
    The trace holds every theorem's human proof; the targets' proofs are what a run must find, so they
    are never handed to it."""
    from curriculum.splits import read_split

    seen = set(read_split(BUNDLED_SPLIT).seen)
    rows = [line for line in Path(trace).read_text().splitlines() if line.strip() and json.loads(line)["theorem"] in seen]
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text("\n".join(rows) + "\n")
    return dest


class ProjectPathError(LeanAgentError):
    pass


@dataclass
class RoundMetrics:
    round: int
    open: int
    proved_this_round: int
    proved_total: int
    forgetting: float
    train_examples: int
    wall_s: float
    attempted: int = 0
    train_loss: float | None = None

    def to_json(self) -> dict:
        return asdict(self)


def project_files(root: Path) -> list[Path]:
    """The package's module files, imports before importers (read from its lakefile)."""
    return [m.path for m in list_modules(root)]


def materialize_bundled_open_view(dest: Path) -> Path:
    """Copy the bundled development with the target split's proofs replaced by `sorry`."""
    split = json.loads(BUNDLED_SPLIT.read_text())
    targets = set(split["target"])
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("lakefile.lean", "Dev.lean"):
        shutil.copy2(REPO_ROOT / name, dest / name)
    (dest / "Dev").mkdir(exist_ok=True)
    for src in sorted((REPO_ROOT / "Dev").glob("*.lean")):
        text = src.read_text()
        for d in reversed(declarations(text)):
            if d.kind in THEOREM_KEYWORDS and d.full_name in targets and d.assign is not None:
                text = text[:d.assign] + ":= by\n  sorry" + text[d.end:]
        out = dest / "Dev" / src.name
        if not out.exists() or out.read_text() != text:
            out.write_text(text)
    return dest


class Manager:
    def __init__(self, project: Path, config: CurriculumConfig, *, out: Path | None = None, log=None,
                 server: LeanServer | None = None):
        project = Path(project)
        if not project.exists():
            raise ProjectPathError(f"project folder {project} does not exist; pass a Lake package folder (with lakefile.lean)")
        root = find_package_root(project)
        if root is None:
            raise ProjectPathError(f"{project} is not inside a Lake package: no lakefile.lean or lakefile.toml in it or above it")
        self.root = root
        self.config = config
        self.out = Path(out or config.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.store = Store(self.out / "store.sqlite")
        self.log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self.lean_config = LeanConfig(num_workers=config.workers or default_search_workers())
        self._own_server = server is None
        self.server = server or LeanServer(self.lean_config)
        if server is not None:
            self.lean_config = server.config
        from prover.memory import TacticMemory

        self.memory = TacticMemory()
        self.model_useful = bool(config.model)  # a given checkpoint is trusted; a trained one must earn its place
        self.policy = self._initial_policy()
        if config.human_data and config.learning:
            self._seed_human_data(Path(config.human_data))
        if self._uses_memory:
            # everything learned so far (human steps, earlier runs' proofs) is remembered from the start
            self.memory.add_examples(self.store.examples())
            self.policy = self._mixture()

    @property
    def _uses_memory(self) -> bool:
        return self.config.learning and self.config.memory

    def _seed_human_data(self, path: Path) -> None:
        """Traced human proofs (state -> tactic) join the training data once."""
        from training import load_examples

        try:
            rows = [e.to_json() for e in load_examples(path)]
        except Exception as e:  # DataError or a missing file: say which and go on without it
            raise ProjectPathError(f"human_data {path}: {e}")
        added = self.store.add_examples(rows)
        if added:
            self.log(f"seeded {added} human proof steps from {path}")

    # ---- policy ------------------------------------------------------------------------------
    def _initial_policy(self):
        from prover.policy import PortfolioPolicy

        self.portfolio = PortfolioPolicy()
        self.model = None
        ckpt = self.out / "policy"
        try:
            from prover.policy import TransformerPolicy

            if self.config.model:
                self.model = TransformerPolicy.load(self.config.model, device=self.config.device)
            elif (ckpt / "policy_meta.json").exists():
                self.model = TransformerPolicy.load(str(ckpt), device=self.config.device)  # resume
        except Exception as e:
            self.log(f"could not load the policy checkpoint ({e}); starting from the portfolio alone")
        return self._mixture()

    def _mixture(self):
        from prover.memory import learned_mixture

        return learned_mixture(self.portfolio, self.memory if self._uses_memory else None,
                               self.model if self.model is not None and self.model_useful else None)

    # ---- one round ---------------------------------------------------------------------------
    def run(self, on_round=None) -> list[RoundMetrics]:
        t_run = time.time()
        metrics: list[RoundMetrics] = []
        solved_before: set[str] = set(self.store.proofs())
        for r in range(1, self.config.rounds + 1):
            t0 = time.time()
            modules = list_modules(self.root)
            path_of = {m.name: m.path for m in modules}
            texts = {m.path: m.path.read_text() for m in modules}
            open_now = {f: open_theorems(text) for f, text in texts.items()}
            n_open = sum(len(v) for v in open_now.values())
            proved_round = 0
            attempted: set[str] = set()
            closure = project_closure({m.name: m.imports for m in modules})
            headers = {m.name: document_header(texts[m.path])[0] for m in modules}
            stale: set[str] = set()  # written this round, not compiled since
            previous = None
            todo = dict(open_now)
            budgets = self.config.pass_budgets()
            for i, budget in enumerate(budgets):
                first = i + 1 < len(budgets)
                pending = [m.name for m in modules if todo[m.path]]
                while pending:
                    if self._out_of_time(t_run):
                        break
                    mod = next_file(pending, closure, headers, stale=stale, previous=previous)
                    pending.remove(mod)
                    previous, f = mod, path_of[mod]
                    stale -= closure[mod]  # opening the file compiles them
                    report = self._attack(f, todo[f], budget, r, t_run, "first pass" if first else "attack",
                                          f"first pass, {budget:g} s each" if first else (f"second pass, {budget:g} s each" if i else ""))
                    if report is None:
                        todo[f] = []
                        continue
                    attempted.update(x.theorem for x in report.results)
                    proved_round += sum(x.proved for x in report.results)
                    todo[f] = [x.theorem for x in report.results if not x.proved]
                    if report.written:
                        stale.add(mod)
                        for x in report.results:
                            if x.proved:
                                self.store.mark_written(x.theorem)
            n_examples, loss = self._train() if self.config.learning else (0, None)
            forgetting = self._forgetting(solved_before, r)
            solved_before = set(self.store.proofs())
            m = RoundMetrics(r, n_open, proved_round, len(solved_before), forgetting, n_examples, round(time.time() - t0, 2),
                             len(attempted), loss)
            metrics.append(m)
            with open(self.out / "metrics.jsonl", "a") as fh:
                fh.write(json.dumps(m.to_json()) + "\n")
            if on_round:
                on_round(m)
            if self._out_of_time(t_run):
                break
        return metrics

    def _attack(self, f: Path, names: list[str], budget: float, r: int, t_run: float, purpose: str, which: str):
        """One visit of a file in a round: its report, or None when the file cannot be attacked."""
        targets = self._order(f, names)
        left = self._time_left(t_run)
        deadline = None if left is None else time.time() + left
        self.log(f"round {r}: {f.relative_to(self.root)}: {len(targets)} open theorems"
                 f" ({which + ', ' if which else ''}{time.time() - t_run:.0f} s into the run)")
        try:
            return attack_file(f, targets, self.policy, search_config=self._search_config(budget), deadline=deadline,
                               lean_config=self.lean_config, server=self.server, num_workers=self.lean_config.num_workers,
                               write=self.config.write, premises_for_file=premise_provider(f),
                               on_result=lambda res: self._record(res, f, r, purpose))
        except AttackError as e:
            self.log(f"round {r}: {f.name}: {e}")
        except LeanAgentError as e:
            self.log(f"round {r}: {f.name} skipped: {e}")
        return None

    def _order(self, f: Path, names: list[str]) -> list[str]:
        """Inside a file a theorem can only use earlier ones, so file order is a dependency order;
        fewer failures first keeps the round moving."""
        pos = {n: i for i, n in enumerate(names)}
        return sorted(names, key=lambda n: (self.store.failures(n) > 2, pos[n]))

    def _search_config(self, budget: float) -> SearchConfig:
        return SearchConfig(time_budget=budget, max_expansions=self.config.max_expansions, num_samples=self.config.num_samples)

    def _time_left(self, t_run: float) -> float | None:
        return None if not self.config.time_limit else self.config.time_limit - (time.time() - t_run)

    def _out_of_time(self, t_run: float) -> bool:
        left = self._time_left(t_run)
        return left is not None and left <= 0

    def _record(self, res, f: Path, r: int, purpose: str = "attack") -> None:
        self.store.record_attempt(res, round_=r, file=str(f), policy=type(self.policy).__name__, purpose=purpose)
        # the memory is part of the policy, so the next theorem can already use this proof; the first
        # proof remembered brings the memory into the policy
        if self._uses_memory and self.memory.learn(res) and self.policy is self.portfolio:
            self.policy = self._mixture()
        mark = "proved" if res.proved else "failed"
        self.log(f"  {res.theorem}: {mark} ({res.wall_s:.1f} s, {res.expansions} expansions)")

    # ---- learning ----------------------------------------------------------------------------
    def _train(self) -> tuple[int, float | None]:
        """Train the transformer policy on new examples, replaying old ones so old skills stay.

        The proofs of about a tenth of the new theorems are held out of this training, and the freshly
        trained model joins the search only if it recalls their tactics (`model_gate`): a model earns its
        place on proofs it has not seen, in the round it was trained. Held-out rows stay untrained in the
        store, so a later training uses them. With fewer than ten new theorems nothing is held out, and the
        model is judged on the new rows before it trains on them."""
        new = self.store.examples(trained=False)
        if not new:
            return 0, None
        from prover.policy import PolicyModelConfig, TransformerPolicy
        from training import Example, SFTConfig, SFTTrainer, with_first_steps

        held, rows = self._held_out(new)
        if self.model is None:
            self.model = TransformerPolicy.from_scratch(PolicyModelConfig(device=self.config.device, seed=self.config.seed))
        elif not held:
            self.model_useful = self._model_shows_value(new)  # too few theorems to hold out: judge before training
        old = [Example(**e) for e in self.store.examples(trained=True)]
        cfg = SFTConfig(max_steps=self.config.train_steps, batch_size=self.config.train_batch_size,
                        replay_fraction=0.5 if old else 0.0, seed=self.config.seed, device=self.config.device)
        trainer = SFTTrainer(self.model, cfg)
        res = trainer.train(with_first_steps(Example(**e) for e in rows), old_examples=old or None)
        trainer.save_checkpoint(self.out / "policy", {"examples": len(rows) + len(old)})
        self.store.mark_trained(except_theorems={r["theorem"] for r in held})
        if held or not self.config.model_gate:
            self.model_useful = self._model_shows_value(held)
        self.policy = self._mixture()
        return len(rows), getattr(res, "final_loss", None)

    def _held_out(self, rows: list[dict]) -> tuple[list[dict], list[dict]]:
        """(held-out rows, rows to train on): the rows of 1/10 of the theorems, when there are ten or more.
        Whole theorems, because the steps of one proof look alike."""
        names = sorted({r["theorem"] for r in rows})
        if len(names) < 10 or not self.config.model_gate:
            return [], rows
        held = set(random.Random(f"{self.config.seed}:{len(rows)}").sample(names, len(names) // 10))
        return [r for r in rows if r["theorem"] in held], [r for r in rows if r["theorem"] not in held]

    def _model_shows_value(self, rows: list[dict]) -> bool:
        """Does the current model recall the tactics of `rows`, proofs it was not trained on (top-k exact
        text), at least `model_gate` of the time?  Logged either way, so a run shows why the model is in or out."""
        sample = random.Random(self.config.seed).sample(rows, min(64, len(rows)))
        if not sample or not self.config.model_gate:
            return self.config.model_gate == 0
        got = self.model.generate([r["state"] for r in sample], self.config.num_samples)
        hits = sum(r["tactic"].strip() in {t for t, _ in g} for r, g in zip(sample, got))
        ok = hits / len(sample) >= self.config.model_gate
        self.log(f"model recall on {len(sample)} steps it was not trained on: {hits / len(sample):.2f} "
                 f"({'joins' if ok else 'stays out of'} the search; gate {self.config.model_gate})")
        return ok

    def _forgetting(self, solved_before: set[str], r: int) -> float:
        """Re-attempt a sample of earlier-solved theorems (not written, in memory) with the current policy."""
        if not solved_before or not self.config.forgetting_sample or not self.config.learning:
            return 0.0
        rng = random.Random(self.config.seed + r)
        sample = rng.sample(sorted(solved_before), min(self.config.forgetting_sample, len(solved_before)))
        failed = 0
        files = {str(f): f for f in project_files(self.root)}
        rows = {}
        for f in files.values():
            for d in declarations(f.read_text()):
                rows[d.full_name] = f
        for name in sample:
            f = rows.get(name)
            if f is None:
                continue
            text = f.read_text()
            probe = replace_proof(text, name, "by\n  sorry")
            tmp = f.with_name(f".forgetting-{f.name}")
            try:
                tmp.write_text(probe)
                # the same premises as in a round: without them a probe measures a weaker prover, not forgetting
                # and the same Lean workers: with one, a theorem the round proved near its budget failed
                # for want of half the Lean time, and counted as forgotten
                report = attack_file(tmp, [name], self.policy, search_config=self._search_config(self.config.budget),
                                     lean_config=self.lean_config, server=self.server, num_workers=self.lean_config.num_workers,
                                     write=False, premises_for_file=premise_provider(tmp))
                res = report.results[0]
                self.store.record_attempt(res, round_=r, file=str(f), policy=type(self.policy).__name__, purpose="forgetting")
                failed += not res.proved
            except LeanAgentError as e:
                self.log(f"forgetting probe of {name} failed to run: {e}")
            finally:
                tmp.unlink(missing_ok=True)
        return failed / len(sample)

    def close(self) -> None:
        if self._own_server:
            self.server.close()
        self.store.close()
