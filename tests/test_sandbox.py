"""The sandbox: work run in a forked child under a CPU, memory and wall-time budget."""

from __future__ import annotations

import hashlib
import threading
import time

import pytest

from registry import sandbox
from registry.domain.declaration import Problem
from registry.sandbox import Budget, BudgetExceeded
from registry.services.intake import FilingRejected

MB = 1024 * 1024
BUDGET = Budget(cpu_seconds=1, memory_bytes=64 * MB, wall_seconds=20)


def _double(x: int) -> int:
    return 2 * x


def _spin() -> None:
    while True:
        pass


def _spin_in_c() -> None:
    # One C call that never returns to the interpreter: SIGXCPU's handler cannot run, and the
    # hard limit's SIGKILL ends it.
    hashlib.pbkdf2_hmac("sha256", b"x", b"y", 2**31 - 1)


def _eat() -> None:
    hoard = []
    while True:
        hoard.append(bytearray(8 * MB))


def _sleep() -> None:
    time.sleep(60)


def _refuse() -> None:
    raise FilingRejected([Problem("deposit", "Not this one.")])


def _take(lock: threading.Lock) -> str:
    with lock:
        return "taken"


def test_the_result_and_what_it_cost_come_back():
    value, used = sandbox.run(_double, 21, budget=BUDGET)
    assert value == 42
    assert used.cpu_seconds < 1 and used.peak_rss_bytes > 0


def test_what_the_task_raises_arrives_as_itself():
    with pytest.raises(FilingRejected) as caught:
        sandbox.run(_refuse, budget=BUDGET)
    assert caught.value.problems == [Problem("deposit", "Not this one.")]


@pytest.mark.parametrize("task", [_spin, _spin_in_c], ids=["python", "one-c-call"])
def test_a_task_past_its_cpu_budget_is_stopped(task):
    with pytest.raises(BudgetExceeded) as caught:
        sandbox.run(task, budget=BUDGET)
    assert caught.value.resource == "cpu"


def test_a_task_past_its_memory_budget_is_stopped():
    with pytest.raises(BudgetExceeded) as caught:
        sandbox.run(_eat, budget=BUDGET)
    assert caught.value.resource == "memory"


def test_a_task_past_its_wall_time_is_killed():
    quick = Budget(cpu_seconds=5, memory_bytes=64 * MB, wall_seconds=0.5)
    with pytest.raises(BudgetExceeded) as caught:
        sandbox.run(_sleep, budget=quick)
    assert caught.value.resource == "time"


def test_the_parent_keeps_its_own_limits():
    import resource

    before = resource.getrlimit(resource.RLIMIT_CPU), resource.getrlimit(resource.RLIMIT_DATA)
    with pytest.raises(BudgetExceeded):
        sandbox.run(_eat, budget=BUDGET)
    after = resource.getrlimit(resource.RLIMIT_CPU), resource.getrlimit(resource.RLIMIT_DATA)
    assert before == after


def test_a_lock_held_while_forking_is_free_in_the_child():
    """The parent holds the lock the child needs while it forks, so no other thread is half-way
    through what the lock guards; the child's copy is released for it."""
    lock = threading.Lock()
    value, _used = sandbox.run(_take, lock, budget=BUDGET, hold=lock)
    assert value == "taken" and not lock.locked()


def test_a_budget_exceeded_crosses_processes_intact():
    import pickle

    exc = pickle.loads(pickle.dumps(BudgetExceeded("memory", BUDGET)))
    assert exc.resource == "memory" and exc.budget == BUDGET
    assert "64 MB of memory" in str(exc)
