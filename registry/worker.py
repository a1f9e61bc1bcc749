"""The background work on deposits, and the job queue that carries it when one is configured.

With ``REGISTRY_REDIS_URL`` set, a submitted filing's checks (fingerprints, matching,
provenance, triage) and the reverse searches run in RQ workers (``flask --app wsgi registry
worker``); without it, in a child process of the web worker (``registry.runner``). Either way
the same functions here run, under the same budgets (``registry.sandbox``): a job applies its
budget's CPU and memory limits to the work-horse RQ forks for it, and RQ's job timeout is the
budget's wall time.

A check job names the filing by id and runs :func:`registry.services.checking.run`, whose steps
each commit once and are skipped when done, so a job that dies half-way (the work-horse killed,
the machine gone) is simply run again: RQ retries a failed job up to ``RETRIES`` times, and a job
whose worker vanished is retried once another worker finds it abandoned. ``registry check``
finishes anything still pending after that. Reverse searches have a queue of their own, which
workers serve first, so that a person waiting is not queued behind a backlog of checks.

The worker process builds the container (``registry.container``; no Flask app) and warms the
match indexes once; before each job it catches them up with the database and closes its
connections, and the work-horse RQ forks for the job inherits the warm indexes.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from redis import Redis
from rq import Queue, Retry, Worker
from rq.job import Job

from . import sandbox
from .sandbox import Budget

if TYPE_CHECKING:
    from .container import Container
    from .services.filing import DepositUpload, Limits

log = logging.getLogger(__name__)

RETRIES = 3

_container: Container | None = None


def make_queue(redis_url: str, name: str) -> Queue:
    return Queue(name, connection=Redis.from_url(redis_url))


def search_queue_name(checks_queue: str) -> str:
    """The reverse searches' queue, beside the checks' one."""
    return f"{checks_queue}-searches"


def enqueue_check(queue: Queue, registration_id: int, *, budget: Budget) -> None:
    """Queue the checks of one submitted filing (called after its submission committed)."""
    queue.enqueue(
        check_filing,
        registration_id,
        budget,
        job_id=f"check-{registration_id}",
        retry=Retry(max=RETRIES),
        job_timeout=max(1, int(budget.wall_seconds)),
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
        description=f"originality check of filing {registration_id}",
    )


def enqueue_search(queue: Queue, name: str, pasted: bool, *, budget: Budget) -> Job:
    """Queue a reverse search of the upload staged as ``name`` in the deposit store's
    temporary folder (a pasted text when ``pasted``)."""
    return queue.enqueue(
        search_staged,
        name,
        pasted,
        budget,
        job_timeout=max(1, int(budget.wall_seconds)),
        result_ttl=300,
        failure_ttl=3600,
        ttl=max(30, int(budget.wall_seconds) * 2),  # a search nobody waits for any more is dropped
        description="reverse search",
    )


def search_outcome(job: Job, *, timeout: float) -> tuple[str, Any] | None:
    """What a queued search came to, waiting at most ``timeout`` seconds: ("result",
    ReverseResult), ("rejected", problems) or ("failed", why); None if it is not done."""
    deadline = time.monotonic() + timeout
    # polled: a blocking read would outlast the connection's socket timeout
    while (result := job.latest_result()) is None:
        if time.monotonic() > deadline:
            job.cancel()
            return None
        time.sleep(0.05)
    if result.type == result.Type.SUCCESSFUL:
        return result.return_value
    return ("failed", "the reverse search failed in the worker")


def _application() -> Container:
    """The worker's container: the one ``registry worker`` runs on, or one built from the
    environment (a plain ``rq worker`` importing this module). No Flask app: the jobs need
    none."""
    global _container
    if _container is None:
        from . import container
        from .settings import load_settings

        _container = container.build(load_settings())
    return _container


def _in_child(ext: Container) -> None:
    """In a process forked from one that held database connections: never use those. (The
    match index's lock was held while forking and is released in the child: see sandbox.)"""
    ext.engine.dispose(close=False)


# ---- the work ---------------------------------------------------------------------------------


def run_check(ext: Container, policy: Any, registration_id: int) -> str:
    """The checks of filing ``registration_id`` (in a forked child or a work-horse); return
    what was done."""
    from .models import Registration
    from .services import checking

    _in_child(ext)
    with ext.session() as session:
        registration = session.get(Registration, registration_id)
        if registration is None or registration.number is None:
            return f"filing {registration_id} is not a submitted filing; nothing to check"
        checking.run(
            session=session,
            store=ext.store,
            matcher=ext.matcher,
            policy=policy,
            registration=registration,
        )
        return f"checked {registration.number}"


def run_search(ext: Container, limits: Limits, upload: DepositUpload, scratch: Path):
    """A reverse search (in a forked child or a work-horse): ``matching.reverse_search`` with
    its scratch folder at ``scratch``, which the caller removes."""
    from .services import matching

    _in_child(ext)
    with ext.session() as session:
        return matching.reverse_search(
            session=session,
            store=ext.store,
            matcher=ext.matcher,
            limits=limits,
            upload=upload,
            scratch=scratch,
        )


# ---- the jobs ---------------------------------------------------------------------------------


def check_filing(registration_id: int, budget: Budget | None = None) -> str:
    """The job: run the checks of filing ``registration_id`` under ``budget``."""
    ext = _application()
    if budget is not None:
        sandbox.limit_current_process(budget)
    return run_check(ext, ext.policy, registration_id)


@contextmanager
def staged_as_upload(path: Path, pasted: bool) -> Iterator[DepositUpload]:
    """The upload staged at ``path`` as it was sent: a pasted text, or a file."""
    from .services.filing import DepositUpload

    with path.open("rb") as fh:
        if pasted:
            yield DepositUpload(pasted_text=fh.read().decode("utf-8", "surrogatepass"))
        else:
            yield DepositUpload(file=fh)


def search_staged(name: str, pasted: bool, budget: Budget) -> tuple[str, Any]:
    """The job: a reverse search of the upload staged as ``name`` (see ``enqueue_search``);
    ("result", ReverseResult) or ("rejected", problems)."""
    from dataclasses import replace

    from .services.filing import SEARCHING, FilingRejected, budget_refusal

    ext = _application()
    path = ext.store.tmp / name
    scratch = ext.store.tmp / f"{name}.d"
    sandbox.limit_current_process(budget)
    try:
        with staged_as_upload(path, pasted) as upload:
            limits = replace(ext.limits, budget=None)
            return ("result", run_search(ext, limits, upload, scratch))
    except FileNotFoundError:
        return ("failed", "the search's upload was gone (the request had given up)")
    except FilingRejected as exc:
        return ("rejected", exc.problems)
    except sandbox.CpuSpent:
        return ("rejected", [budget_refusal(sandbox.BudgetExceeded("cpu", budget), SEARCHING)])
    except MemoryError:
        return ("rejected", [budget_refusal(sandbox.BudgetExceeded("memory", budget), SEARCHING)])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


class RegistryWorker(Worker):
    """An RQ worker that keeps the match indexes warm for the work-horses it forks."""

    def execute_job(self, job, queue):  # type: ignore[no-untyped-def]
        ext = _application()
        try:
            with ext.session() as session:
                with ext.matcher.lock:
                    ext.matcher.catch_up(session)
        except Exception:  # the job itself will meet (and report) a database problem
            log.exception("could not catch the match indexes up before a job")
        ext.engine.dispose()  # no connection is shared with the forked work-horse
        return super().execute_job(job, queue)


def run_worker(container: Container, *, burst: bool = False) -> bool:
    """Serve the container's queues until stopped (or, with ``burst``, until they are empty):
    reverse searches first, then checks."""
    global _container
    _container = container
    settings = container.settings
    assert settings.redis_url, "REGISTRY_REDIS_URL is not set"
    checks = make_queue(settings.redis_url, settings.queue)
    searches = Queue(search_queue_name(checks.name), connection=checks.connection)
    worker = RegistryWorker(
        [searches, checks], connection=checks.connection, name=f"registry-{os.getpid()}"
    )
    return worker.work(burst=burst, logging_level="INFO")
