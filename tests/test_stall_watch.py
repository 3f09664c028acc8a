"""The stall check on real processes: only one that sleeps through the whole window counts as stalled.

A stalled Lean is killed and its request replayed, so a false verdict costs a restart and the work again;
these processes show each sign of life the check must honour (Lean itself is tested in test_dojo).
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from lean.worker import StallWatch, cpu_seconds

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/schedstat"), reason="needs Linux /proc")

WINDOW = 1.0


def verdict(proc: subprocess.Popen, messages=lambda: 0) -> str | None:
    """Check the process like `LeanWorker._await` does, which stops at the first verdict, for two windows."""
    watch = StallWatch(proc.pid, WINDOW)
    end = time.time() + WINDOW * 2.0
    while time.time() < end:
        why = watch.check(time.time(), messages())
        if why is not None:
            return why
        time.sleep(0.1)
    return None


def spawn(code: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code], **kw)


@pytest.fixture
def procs():
    started: list[subprocess.Popen] = []
    yield started
    for p in started:
        p.kill()
        p.wait()


def test_a_sleeping_process_is_stalled_and_the_verdict_says_why(procs):
    procs.append(p := spawn("import time; time.sleep(60)"))
    time.sleep(0.3)  # past the interpreter's start
    why = verdict(p)
    assert why is not None and "s of CPU in the last" in why and "waiting for a CPU" in why and "no message" in why


def test_a_busy_process_is_not_stalled(procs):
    procs.append(p := spawn("while True: pass"))
    assert verdict(p) is None


def test_a_process_moving_data_with_little_cpu_is_not_stalled(procs):
    code = ("import os, time\nfd = os.open(os.devnull, os.O_WRONLY)\nb = b'x' * 200000\n"
            "while True:\n    os.write(fd, b)\n    time.sleep(0.1)\n")
    procs.append(p := spawn(code))
    assert verdict(p) is None


def test_a_process_that_talks_is_not_stalled(procs):
    procs.append(p := spawn("import time; time.sleep(60)"))
    t0 = time.time()
    assert verdict(p, messages=lambda: int((time.time() - t0) * 5)) is None


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs CPU affinity")
def test_a_process_starved_of_cpu_is_not_stalled(procs):
    """A busy process at the lowest priority, sharing its only CPU with a busy one at normal priority, gets
    ~1-2% of that CPU: below the CPU share, but its thread waits for the CPU all the time."""
    cpu = sorted(os.sched_getaffinity(0))[0]
    pin = f"import os\nos.sched_setaffinity(0, {{{cpu}}})\n"
    procs.append(spawn(pin + "while True: pass"))
    procs.append(p := spawn(pin + "os.nice(19)\nwhile True: pass"))
    time.sleep(0.3)
    assert verdict(p) is None
    # the premise: it really got less CPU than the share that counts as running
    c0 = cpu_seconds(p.pid)
    time.sleep(WINDOW)
    assert cpu_seconds(p.pid) - c0 < StallWatch.CPU_SHARE * WINDOW, "the low-priority process was not starved"
