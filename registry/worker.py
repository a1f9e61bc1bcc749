"""The job queue: with ``REGISTRY_REDIS_URL`` set, a submitted filing's checks (fingerprints,
matching, provenance, triage) run in RQ workers (``flask --app wsgi registry worker``) instead of
in the web request.

A job names the filing by id and runs :func:`registry.services.checking.run`, whose steps each
commit once and are skipped when done, so a job that dies half-way (the work-horse killed, the
machine gone) is simply run again: RQ retries a failed job up to ``RETRIES`` times, and a job
whose worker vanished is retried once another worker finds it abandoned. ``registry check``
finishes anything still pending after that.

The worker process builds the application and warms the match indexes once; before each job
it catches them up with the database and closes its connections, and the work-horse RQ forks
for the job inherits the warm indexes.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from redis import Redis
from rq import Queue, Retry, Worker

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)

RETRIES = 3
JOB_TIMEOUT = 600  # seconds one check may take before RQ stops it (and retries it)

_app: Flask | None = None


def make_queue(redis_url: str, name: str) -> Queue:
    return Queue(name, connection=Redis.from_url(redis_url))


def enqueue_check(queue: Queue, registration_id: int) -> None:
    """Queue the checks of one submitted filing (called after its submission committed)."""
    queue.enqueue(
        check_filing,
        registration_id,
        job_id=f"check-{registration_id}",
        retry=Retry(max=RETRIES),
        job_timeout=JOB_TIMEOUT,
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
        description=f"originality check of filing {registration_id}",
    )


def _application() -> Flask:
    """The worker's application: the one ``registry worker`` built, or one from the
    environment (a plain ``rq worker`` importing this module)."""
    global _app
    if _app is None:
        from . import create_app

        _app = create_app()
    return _app


def check_filing(registration_id: int) -> str:
    """The job: run the checks of filing ``registration_id``; return what was done."""
    from .models import Registration
    from .services import checking

    app = _application()
    ext = app.extensions["registry"]
    with app.app_context(), ext.session() as session:
        registration = session.get(Registration, registration_id)
        if registration is None or registration.number is None:
            return f"filing {registration_id} is not a submitted filing; nothing to check"
        checking.run(
            session=session,
            store=ext.store,
            matcher=ext.matcher,
            policy=app.config["REGISTRY_ROUTING_POLICY"],
            registration=registration,
        )
        return f"checked {registration.number}"


class RegistryWorker(Worker):
    """An RQ worker that keeps the match indexes warm for the work-horses it forks."""

    def execute_job(self, job, queue):  # type: ignore[no-untyped-def]
        app = _application()
        ext = app.extensions["registry"]
        try:
            with ext.session() as session:
                with ext.matcher.lock:
                    ext.matcher.catch_up(session)
        except Exception:  # the job itself will meet (and report) a database problem
            log.exception("could not catch the match indexes up before a job")
        ext.engine.dispose()  # no connection is shared with the forked work-horse
        return super().execute_job(job, queue)


def run_worker(app: Flask, *, burst: bool = False) -> bool:
    """Serve the app's queue until stopped (or, with ``burst``, until it is empty)."""
    global _app
    _app = app
    queue = make_queue(app.config["REGISTRY_REDIS_URL"], app.config["REGISTRY_QUEUE"])
    worker = RegistryWorker([queue], connection=queue.connection, name=f"registry-{os.getpid()}")
    return worker.work(burst=burst, logging_level="INFO")
