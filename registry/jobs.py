"""The work on deposits that runs off the web worker, and the job queue's client side.

``run_check`` and ``run_search`` are the work itself: a filing's check pipeline
(``services.checking``) and a reverse search (``services.reverse_search``), run in a budgeted
child process (``registry.runner``) or in an RQ work-horse (``registry.worker``) alike. The
queue functions put that work on the RQ queues by the job's name, so the web side never
imports the worker process's module (which builds an application of its own).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from redis import Redis
from rq import Queue, Retry
from rq.job import Job

from .sandbox import Budget

if TYPE_CHECKING:
    from .container import Container
    from .services.intake import DepositUpload, Limits

#: Times RQ retries a check job that failed.
RETRIES = 3
#: The jobs, as RQ names them (functions of ``registry.worker``).
CHECK_JOB = "registry.worker.check_filing"
SEARCH_JOB = "registry.worker.search_staged"


def make_queue(redis_url: str, name: str) -> Queue:
    return Queue(name, connection=Redis.from_url(redis_url))


def search_queue_name(checks_queue: str) -> str:
    """The reverse searches' queue, beside the checks' one."""
    return f"{checks_queue}-searches"


def enqueue_check(queue: Queue, registration_id: int, *, budget: Budget) -> None:
    """Queue the checks of one submitted filing (called after its submission committed)."""
    queue.enqueue(
        CHECK_JOB,
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
        SEARCH_JOB,
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


# ---- the work ---------------------------------------------------------------------------------


def _in_child(ext: Container) -> None:
    """In a process forked from one that held database connections: never use those. (The
    match index's lock was held while forking and is released in the child: see sandbox.)"""
    ext.engine.dispose(close=False)


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
    """A reverse search (in a forked child or a work-horse): ``reverse_search.reverse_search`` with
    its scratch folder at ``scratch``, which the caller removes."""
    from .services import reverse_search

    _in_child(ext)
    with ext.session() as session:
        return reverse_search.reverse_search(
            session=session,
            store=ext.store,
            matcher=ext.matcher,
            limits=limits,
            upload=upload,
            scratch=scratch,
        )


@contextmanager
def staged_as_upload(path: Path, pasted: bool) -> Iterator[DepositUpload]:
    """The upload staged at ``path`` as it was sent: a pasted text, or a file."""
    from .services.intake import DepositUpload

    with path.open("rb") as fh:
        if pasted:
            yield DepositUpload(pasted_text=fh.read().decode("utf-8", "surrogatepass"))
        else:
            yield DepositUpload(file=fh)
