"""The worker process: the RQ jobs that carry the background work when a queue is configured.

With ``REGISTRY_REDIS_URL`` set, a submitted filing's checks (fingerprints, matching,
provenance, triage) and the reverse searches run in RQ workers (``flask --app wsgi registry
worker``); without it, in a child process of the web worker (``registry.runner``). Either way
the same functions (``registry.jobs``) run, under the same budgets (``registry.sandbox``): a
job applies its budget's CPU and memory limits to the work-horse RQ forks for it, and RQ's job
timeout is the budget's wall time.

A check job names the filing by id and runs the check pipeline (``services.checking``), whose
steps each commit once and are skipped when done, so a job that dies half-way (the work-horse
killed, the machine gone) is simply run again: RQ retries a failed job up to ``jobs.RETRIES``
times, and a job whose worker vanished is retried once another worker finds it abandoned.
``registry check`` finishes anything still pending after that. Reverse searches have a queue of
their own, which workers serve first, so that a person waiting is not queued behind a backlog
of checks.

The worker process builds the container (``registry.container``; no Flask app); before each
job it catches the match indexes up with the database (the first job builds them) and closes
its connections, and the work-horse RQ forks for the job inherits the warm indexes.
"""

from __future__ import annotations

import logging
import os
import shutil
from typing import TYPE_CHECKING, Any

from rq import Queue, Worker

from . import sandbox
from .jobs import make_queue, run_check, run_search, search_queue_name, staged_as_upload
from .sandbox import Budget

if TYPE_CHECKING:
    from rq.job import Job

    from .container import Container


log = logging.getLogger(__name__)

_container: Container | None = None


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


# ---- the jobs ---------------------------------------------------------------------------------


def check_filing(registration_id: int, budget: Budget | None = None) -> str:
    """The job: run the checks of filing ``registration_id`` under ``budget``."""
    ext = _application()
    if budget is not None:
        sandbox.limit_current_process(budget)
    return run_check(ext, ext.policy, registration_id)


def search_staged(name: str, pasted: bool, budget: Budget) -> tuple[str, Any]:
    """The job: a reverse search of the upload staged as ``name`` (see ``enqueue_search``);
    ("result", ReverseResult) or ("rejected", problems)."""
    from dataclasses import replace

    from .services.intake import SEARCHING, FilingRejected, budget_refusal

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

    def execute_job(self, job: Job, queue: Queue) -> bool:
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
