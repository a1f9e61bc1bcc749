"""Work on untrusted content in a child process with a budget of its own.

Decoding an uploaded picture, fingerprinting it and comparing it with registered works costs
what the file makes it cost: a tiny file can declare a huge picture, a JPEG hundreds of scans, a
text a pathological repetition. So that no upload can hold a web worker or exhaust its memory,
that work runs in a child process forked for the task (it inherits the warm match indexes, which
a spawned process would have to rebuild) under three limits:

- CPU time, through ``RLIMIT_CPU``: past the budget the kernel sends SIGXCPU, which stops the
  work at the next Python instruction; one second later SIGKILL ends it whatever it is doing;
- memory, through ``RLIMIT_DATA`` counted from what the child inherited: an allocation past the
  budget fails (``MemoryError``) instead of pushing the machine into swap. The limit counts new
  mappings, so memory the parent had freed (and still holds) can be used on top of the budget;
- wall time, by the parent, which kills a child that runs past it (waiting on a lock, say).

Pebble runs the child and carries its result or exception back. Whatever the child raises
arrives as itself; a budget that runs out arrives as :class:`BudgetExceeded`. Linux (and other
systems with ``RLIMIT_DATA``) only.

Pure infrastructure: no Flask, no SQL. The function run decides what it does with inherited
database connections (it must not use them: see ``registry.jobs``).
"""

from __future__ import annotations

import math
import resource
import signal
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import Future, TimeoutError
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any, TypeVar

from pebble import ProcessExpired, concurrent

T = TypeVar("T")

_FORK = get_context("fork")
#: Serialises forking: a fork copies whatever locks other threads hold at that instant.
_FORKING = threading.Lock()


@dataclass(frozen=True)
class Budget:
    """What one task may spend: CPU seconds, bytes of memory beyond what the child inherits,
    and seconds of wall time."""

    cpu_seconds: float
    memory_bytes: int
    wall_seconds: float

    def describe(self) -> str:
        return (
            f"{self.cpu_seconds:g} s of processing and {self.memory_bytes // (1024 * 1024):,} MB "
            "of memory"
        )


class BudgetExceeded(Exception):
    """The task ran out of its budget; ``resource`` is "cpu", "memory" or "time" (or "crash"
    when the child died of something else), and the task's work is lost."""

    def __init__(self, resource: str, budget: Budget) -> None:
        super().__init__(f"the task exceeded its {resource} budget ({budget.describe()})")
        self.resource = resource
        self.budget = budget

    def __reduce__(self) -> tuple[type[BudgetExceeded], tuple[str, Budget]]:
        return (BudgetExceeded, (self.resource, self.budget))


class CpuSpent(BaseException):
    """Raised in the child by SIGXCPU (a BaseException so that no ``except Exception`` in the
    task swallows it)."""


@dataclass(frozen=True)
class Usage:
    """What a finished task used: CPU seconds (user + system) and peak resident memory."""

    cpu_seconds: float
    peak_rss_bytes: int


def _vm_data() -> int:
    """This process's data segment (private writable memory) in bytes, as RLIMIT_DATA counts it."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _on_cpu_limit(_signum: int, _frame: object) -> None:
    raise CpuSpent


def limit_current_process(budget: Budget) -> None:
    """Apply ``budget``'s CPU and memory limits to this process (a child made for one task, or an
    RQ work-horse), counted from now: CPU beyond what it has used, memory beyond what it holds."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(used.ru_utime + used.ru_stime) + math.ceil(budget.cpu_seconds)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 1))
    memory = _vm_data() + budget.memory_bytes
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        memory = min(memory, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (memory, hard))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a task killed for its budget dumps nothing
    signal.signal(signal.SIGXCPU, _on_cpu_limit)


def usage() -> Usage:
    """This process's CPU time and peak resident memory so far."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return Usage(ru.ru_utime + ru.ru_stime, ru.ru_maxrss * 1024)


@dataclass(frozen=True)
class _Outcome:
    value: Any
    error: BaseException | None
    usage: Usage


def _child(
    budget: Budget, hold: threading.Lock | None, fn: Callable[..., Any], args: tuple, kwargs: dict
) -> _Outcome:
    if hold is not None:
        hold.release()  # the parent held it while forking: this copy is held, by nobody here
    limit_current_process(budget)
    try:
        value = fn(*args, **kwargs)
    except CpuSpent:
        return _Outcome(None, BudgetExceeded("cpu", budget), usage())
    except MemoryError:
        return _Outcome(None, BudgetExceeded("memory", budget), usage())
    except Exception as exc:  # carried to the parent and raised there
        return _Outcome(None, exc, usage())
    return _Outcome(value, None, usage())


def start(
    fn: Callable[..., T], *args: Any, budget: Budget, hold: threading.Lock | None = None, **kwargs
) -> Future:
    """Start ``fn(*args, **kwargs)`` in a forked child under ``budget``; return a future of
    ``(result, Usage)``. The future raises what ``fn`` raised, or BudgetExceeded.

    ``hold``, a lock the child will need (a match index's), is held while forking so that the
    child's copy is never taken half-way through another thread's update."""
    launch = concurrent.process(timeout=budget.wall_seconds, mp_context=_FORK, daemon=True)(_child)
    with _FORKING, warnings.catch_warnings():
        # Python 3.12 warns of fork() in a threaded process: the locks the child uses are held
        # here (``hold``) or re-made in the child, so the copy is consistent.
        warnings.simplefilter("ignore", DeprecationWarning)
        if hold is not None:
            with hold:
                future = launch(budget, hold, fn, args, kwargs)
        else:
            future = launch(budget, None, fn, args, kwargs)
    result: Future = Future()

    def settle(done: Future) -> None:
        try:
            outcome = done.result()
        except TimeoutError:
            result.set_exception(BudgetExceeded("time", budget))
        except ProcessExpired as exc:
            killed = exc.exitcode in (-signal.SIGXCPU, -signal.SIGKILL)
            result.set_exception(BudgetExceeded("cpu" if killed else "crash", budget))
        except BaseException as exc:  # pebble's own failure to run the child
            result.set_exception(exc)
        else:
            if outcome.error is not None:
                result.set_exception(outcome.error)
            else:
                result.set_result((outcome.value, outcome.usage))

    future.add_done_callback(settle)
    return result


def run(
    fn: Callable[..., T], *args: Any, budget: Budget, hold: threading.Lock | None = None, **kwargs
) -> tuple[T, Usage]:
    """Run ``fn(*args, **kwargs)`` in a forked child under ``budget`` and wait for it; return its
    result and what it used. Raises what ``fn`` raised, or BudgetExceeded."""
    return start(fn, *args, budget=budget, hold=hold, **kwargs).result()
