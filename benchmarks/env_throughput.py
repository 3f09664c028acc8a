"""Throughput of the Lean environment, measured side by side in one run. Prints one JSON object.

(a) steps/s through `Dojo.run_tac` on a set of multi-step proofs, against the raw elaboration time of
    the same proofs as one file in the same Lean (a warm worker: the file with proofs minus the same
    file with every proof `sorry`, so the imports are not counted). `overhead_ratio` = Dojo / raw.
(b) scaling from 1 to 2 parallel workers on the same step workload.
(c) time to the first proof state from a cold cache (download + patch + start) and from a warm one.
(d) the worker's resident memory after 500 steps.
(e) k candidate tactics for one state: `Dojo.run_tacs` (one round trip) against `run_tac` one by one.
(f) a step and k candidates at the first, middle and last theorem of a long file of the bundled
    development, with the text before the theorem loaded without info trees (`LeanConfig.load_prefix`)
    and as written, interleaved.

    python benchmarks/env_throughput.py [--skip-cold] [--soak-steps 500] [--parts abcdef]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from lean import Dojo, LeanConfig, LeanServer, ProofFinished, TacticState, Theorem
from lean.dojo import document_header
from lean.worker import cpu_seconds

PROOFS = {
    "and_swap": ("(p q : Prop) (hp : p) (hq : q) : q ∧ p", ["constructor", "exact hq", "exact hp"]),
    "imp_chain": ("(p q r : Prop) (f : p → q) (g : q → r) : p → r", ["intro hp", "apply g", "apply f", "exact hp"]),
    "add_comm3": ("(a b c : Nat) : a + b + c = c + b + a", ["rw [Nat.add_comm a b]", "rw [Nat.add_comm]", "rw [Nat.add_assoc]"]),
    "rev_rev": ("(xs : List Nat) : xs.reverse.reverse = xs", ["induction xs with\n| nil => rfl\n| cons x xs ih => simp"]),
    "len_app": ("(xs ys : List Nat) : (xs ++ ys).length = xs.length + ys.length", ["induction xs with\n| nil => simp\n| cons x xs ih => simp; omega"]),
    "or_comm'": ("(p q : Prop) : p ∨ q → q ∨ p", ["intro h", "cases h with\n| inl hp => exact Or.inr hp\n| inr hq => exact Or.inl hq"]),
    "exists_ex": ("(n : Nat) : ∃ m, m > n", ["refine ⟨n + 1, ?_⟩", "omega"]),
    "and_assoc'": ("(p q r : Prop) : (p ∧ q) ∧ r → p ∧ (q ∧ r)", ["intro h", "obtain ⟨⟨hp, hq⟩, hr⟩ := h", "exact ⟨hp, hq, hr⟩"]),
    "mul_two": ("(n : Nat) : n * 2 = n + n", ["omega"]),
    "le_succ": ("(n m : Nat) (h : n ≤ m) : n ≤ m + 1", ["have h2 : m ≤ m + 1 := Nat.le_succ m", "exact Nat.le_trans h h2"]),
}


def write_file(path: Path, with_proofs: bool) -> None:
    parts = []
    for name, (stmt, tacs) in PROOFS.items():
        body = "\n".join("  " + "\n  ".join(t.split("\n")) for t in tacs) if with_proofs else "  sorry"
        parts.append(f"theorem {name} {stmt} := by\n{body}\n")
    path.write_text("\n".join(parts))


def raw_elaboration_seconds(server: LeanServer, folder: Path, repeats: int = 5) -> float:
    """Warm worker, same header as the Dojo documents: (file with proofs) - (file with sorry)."""
    full, empty = folder / "Full.lean", folder / "Empty.lean"
    write_file(full, True)
    write_file(empty, False)
    header, start = document_header(full.read_text())
    w = server.acquire((), (folder,), header)
    try:
        def doc(p: Path, nonce: int) -> str:
            t = p.read_text()
            return header + f"-- {nonce}\nset_option maxHeartbeats {200000 + nonce} in\ntheorem bench_nonce_{nonce} : True := trivial\n" + t[start:]

        w.elaborate(doc(full, 0), 300, header=header)  # warm-up
        times = []
        for i in range(1, repeats + 1):
            e_full = w.elaborate(doc(full, 2 * i), 120, header=header)
            assert not [d for d in e_full.diagnostics if d.is_error], e_full.diagnostics
            e_empty = w.elaborate(doc(empty, 2 * i + 1), 120, header=header)
            times.append(e_full.seconds - e_empty.seconds)
        times.sort()
        return times[len(times) // 2]
    finally:
        server.release(w)


def dojo_pass(server: LeanServer, path: Path, names: list[str], audit: list | None = None,
              final: list | None = None, config: LeanConfig | None = None) -> tuple[float, int]:
    """Run every proof step by step through run_tac (warm Dojo per theorem); seconds in run_tac, steps.
    `audit` collects the seconds of each proof's final check (part of run_tac's time: the theorem
    re-elaborated whole as written, and the axiom audit), `final` the seconds of each proof's last step
    (the one that finishes it and pays for the check)."""
    total, steps = 0.0, 0
    for name in names:
        _, tacs = PROOFS[name]
        with Dojo(Theorem(path, name), server=server, config=config) as (dojo, s):
            for i, t in enumerate(tacs):
                t0 = time.perf_counter()
                s = dojo.run_tac(s, t)
                dt = time.perf_counter() - t0
                if not isinstance(s, (TacticState, ProofFinished)):
                    raise RuntimeError(f"{name}: step {i} {t!r} gave {s} (worker stats {dojo.stats})")
                total += dt
                steps += 1
                if final is not None and i == len(tacs) - 1:
                    final.append(dt)
            assert isinstance(s, ProofFinished), (name, s)
            if audit is not None:
                audit.append(dojo.stats["audit_s"])
    return total, steps


def part_a(server: LeanServer, folder: Path, path: Path, names: list[str], repeats: int, out: dict) -> None:
    """(a) overhead against raw elaboration, interleaved to share machine noise. Steps run on states
    held in Lean (RPC, the default), and, as the arm to compare, by editing the document."""
    raws, dojos, audits, finals, steps, edits = [], [], [], [], 0, []
    for _ in range(repeats):
        raws.append(raw_elaboration_seconds(server, folder, repeats=3))
        a: list = []
        f: list = []
        d, steps = dojo_pass(server, path, names, a, f)
        dojos.append(d)
        audits.append(sum(a))
        finals.append(sum(f))
        edits.append(dojo_pass(server, path, names, config=server.config.with_(rpc_steps=False))[0])
    raw, dj = sorted(raws)[len(raws) // 2], sorted(dojos)[len(dojos) // 2]
    audit = sorted(audits)[len(audits) // 2]
    out["a_steps"] = steps
    out["a_raw_elaboration_s"] = round(raw, 4)
    out["a_dojo_run_tac_s"] = round(dj, 4)
    out["a_steps_per_s"] = round(steps / dj, 2)
    out["overhead_ratio"] = round(dj / raw, 3) if raw > 0 else None
    ed = sorted(edits)[len(edits) // 2]
    out["a_dojo_run_tac_s_by_edit"] = round(ed, 4)
    out["overhead_ratio_by_edit"] = round(ed / raw, 3) if raw > 0 else None
    out["a_final_check_s"] = round(audit, 4)
    out["overhead_ratio_excluding_final_check"] = round((dj - audit) / raw, 3) if raw > 0 else None
    # what search mostly pays: a step that does not finish a proof (most steps of a search are such)
    fin = sorted(finals)[len(finals) // 2]
    out["a_step_ms_not_finishing"] = round(1000 * (dj - fin) / max(steps - len(names), 1), 1)
    out["a_step_ms_finishing_with_check"] = round(1000 * fin / len(names), 1)


def part_b(server: LeanServer, path: Path, names: list[str], repeats: int, out: dict) -> None:
    """(b) 1 vs 2 workers on the same step workload (each lane replays all proofs), alternated `repeats`
    times, and how many cores each keeps busy (Lean workers, and this process as their client): a worker
    runs Lean's tasks and the wasm glue's main thread in parallel, so one lane keeps more than one core
    busy, and two lanes on a 2-core machine saturate it."""
    def lane() -> None:
        dojo_pass(server, path, names)

    def parallel() -> None:
        ths = [threading.Thread(target=lane) for _ in range(2)]
        for t in ths:
            t.start()
        for t in ths:
            t.join()

    def cpu() -> tuple[float, float]:
        """CPU seconds of the workers, and of this process (the client side of every step)."""
        t = os.times()
        return sum(cpu_seconds(w.proc.pid) or 0.0 for w in server.workers() if w.proc), t.user + t.system

    # warm-up: both workers started with this header (a start is ~17 s, not a step cost) and past V8's
    # tier-up of the hot wasm functions, which costs a fresh worker ~10 ms of compile CPU per step for its
    # first ~100 steps (measured per thread)
    for _ in range(4):
        parallel()
    wall = {1: 0.0, 2: 0.0}
    used = {1: [0.0, 0.0], 2: [0.0, 0.0]}
    for _ in range(repeats):
        for n, run in ((1, lambda: (lane(), lane())), (2, parallel)):
            c0, t0 = cpu(), time.time()
            run()
            wall[n] += time.time() - t0
            c1 = cpu()
            used[n][0] += c1[0] - c0[0]
            used[n][1] += c1[1] - c0[1]
    out["b_1_worker_s"] = round(wall[1] / repeats, 3)
    out["b_2_workers_s"] = round(wall[2] / repeats, 3)
    out["b_scaling_1_to_2"] = round(wall[1] / wall[2], 3)
    out["b_cores"] = os.cpu_count()
    for n in (1, 2):
        out[f"b_cores_busy_{n}_worker{'s' * (n > 1)}_lean"] = round(used[n][0] / wall[n], 2)
        out[f"b_cores_busy_{n}_worker{'s' * (n > 1)}_client"] = round(used[n][1] / wall[n], 2)


# candidate tactics a policy might propose for one state (errors, new states, and no finisher)
CANDIDATES = ["intro h", "induction xs", "cases xs", "simp only []", "rfl", "constructor", "omega", "exact rfl"]
# the state after two steps, where a state's own tactics are elaborated once per edit
DEEP = ("have h0 : ys.length + 0 = ys.length := by omega", "have h1 : xs.length + 0 = xs.length := by simp")


def part_e(server: LeanServer, path: Path, repeats: int, out: dict) -> None:
    """(e) k candidates for one state: `run_tacs` (one round trip) against `run_tac` one by one, at the
    initial state and after two steps."""
    with Dojo(Theorem(path, "len_app"), server=server) as (dojo, s0):
        s2 = dojo.run_tac(dojo.run_tac(s0, DEEP[0]), DEEP[1])
        assert isinstance(s2, TacticState), s2
        for tag, state in (("root", s0), ("depth2", s2)):
            one, batch = [], []
            for _ in range(repeats + 1):  # the first round is a warm-up
                t0 = time.perf_counter()
                singles = [dojo.run_tac(state, t) for t in CANDIDATES]
                one.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                batched = dojo.run_tacs(state, CANDIDATES)
                batch.append(time.perf_counter() - t0)
                assert [type(r) for r in singles] == [type(r) for r in batched], (singles, batched)
            one, batch = sorted(one[1:]), sorted(batch[1:])
            o, b = one[len(one) // 2], batch[len(batch) // 2]
            out["e_candidates"] = len(CANDIDATES)
            out[f"e_{tag}_ms_per_candidate_one_by_one"] = round(1000 * o / len(CANDIDATES), 1)
            out[f"e_{tag}_ms_per_candidate_batched"] = round(1000 * b / len(CANDIDATES), 1)
            out[f"e_{tag}_batch_speedup"] = round(o / b, 2)


LONG_FILE = Path(__file__).resolve().parent.parent / "Dev" / "ListMore.lean"


def part_f(server: LeanServer, repeats: int, out: dict) -> None:
    """(f) cost by place in a long file, prefix loaded vs as written."""
    from lean.source import declarations
    theorems = [d for d in declarations(LONG_FILE.read_text()) if d.kind == "theorem"]
    picks = {"first": theorems[0], "middle": theorems[len(theorems) // 2], "last": theorems[-1]}
    out["f_file"] = f"Dev/{LONG_FILE.name} ({LONG_FILE.read_text().count(chr(10))} lines)"
    for where, d in picks.items():
        times: dict[bool, tuple[list, list]] = {True: ([], []), False: ([], [])}
        for rnd in range(repeats + 1):
            for loaded in (True, False):
                config = server.config.with_(load_prefix=loaded)
                with Dojo(Theorem(LONG_FILE, d.full_name), config=config, server=server) as (dojo, s0):
                    assert bool(dojo._doc.prefix_lines) == loaded
                    dojo.run_tac(s0, "skip")
                    t0 = time.perf_counter()
                    for i in range(6):
                        dojo.run_tac(s0, "skip" if i % 2 else "intros")
                    step = (time.perf_counter() - t0) / 6
                    t0 = time.perf_counter()
                    dojo.run_tacs(s0, CANDIDATES)
                    cands = time.perf_counter() - t0
                if rnd:  # the first round is a warm-up
                    times[loaded][0].append(step)
                    times[loaded][1].append(cands)
        med = lambda xs: sorted(xs)[len(xs) // 2]
        out[f"f_{where}_line"] = d.line
        for loaded, tag in ((True, "loaded"), (False, "as_written")):
            out[f"f_{where}_step_ms_{tag}"] = round(1000 * med(times[loaded][0]), 1)
            out[f"f_{where}_{len(CANDIDATES)}_candidates_ms_{tag}"] = round(1000 * med(times[loaded][1]), 1)


def part_d(server: LeanServer, path: Path, soak_steps: int, out: dict) -> None:
    """(d) memory after N steps."""
    with Dojo(Theorem(path, "len_app"), server=server) as (dojo, s0):
        tacs = ["intro", "simp", "induction xs", "omega", "rfl", "constructor", "cases ys"]
        t0 = time.time()
        for i in range(soak_steps):
            dojo.run_tac(s0, tacs[i % len(tacs)])
        out["d_soak_steps"] = soak_steps
        out["d_soak_steps_per_s"] = round(soak_steps / (time.time() - t0), 2)
        out["d_rss_mb_after_soak"] = round(dojo.worker.rss_mb(), 1)
        out["d_restarts"] = dojo.stats["restarts"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-cold", action="store_true")
    ap.add_argument("--soak-steps", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--parts", default="abcdef", help="which parts to run, e.g. `b`")
    args = ap.parse_args()
    out: dict = {"lean": None}
    folder = Path(tempfile.mkdtemp(prefix="envbench-"))
    path = folder / "Bench.lean"
    write_file(path, False)
    names = list(PROOFS)

    if "c" in args.parts:
        # cold cache: a fresh cache folder, install + first state, in a subprocess
        if not args.skip_cold:
            cold_cache = Path(tempfile.mkdtemp(prefix="envbench-cache-"))
            code = ("import time,sys; t=time.time(); from lean import Dojo, Theorem;"
                    f"d=Dojo(Theorem({str(path)!r}, 'and_swap')); s=d.start(); print(time.time()-t); d.close()")
            t0 = time.time()
            r = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, LEAN_AGENT_CACHE=str(cold_cache)),
                               capture_output=True, text=True)
            out["cold_start_to_first_state_s"] = round(time.time() - t0, 2) if r.returncode == 0 else f"failed: {r.stderr[-300:]}"
            shutil.rmtree(cold_cache, ignore_errors=True)
        t0 = time.time()
        r = subprocess.run([sys.executable, "-c", ("from lean import Dojo, Theorem;"
                            f"d=Dojo(Theorem({str(path)!r}, 'and_swap')); s=d.start(); d.close()")], capture_output=True, text=True)
        out["warm_cache_to_first_state_s"] = round(time.time() - t0, 2) if r.returncode == 0 else f"failed: {r.stderr[-300:]}"

    server = LeanServer(LeanConfig(num_workers=2))
    try:
        out["lean"] = server.toolchain.version
        dojo_pass(server, path, names)  # warm-up: a worker started, prelude compiled
        if "a" in args.parts:
            part_a(server, folder, path, names, args.repeats, out)
        if "b" in args.parts:
            part_b(server, path, names, args.repeats, out)
        if "e" in args.parts:
            part_e(server, path, args.repeats, out)
        if "d" in args.parts:
            part_d(server, path, args.soak_steps, out)
        if "f" in args.parts:
            part_f(server, args.repeats, out)
    finally:
        server.close()
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
