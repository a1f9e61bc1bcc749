"""Where the costly work on a deposit runs: a filing's checks and the anonymous reverse search.

Neither runs in the web worker that took the request. With a job queue (``REGISTRY_REDIS_URL``)
both go to the RQ workers (``registry.worker``), which apply the same budgets to each job; without
one, each runs in a child process forked for it (``registry.sandbox``) under its budget:

- a filing's checks (fingerprints, matching, provenance, triage) start once the filing is
  committed, and the submission answers without waiting for them (or, with
  ``REGISTRY_CHECK_WAIT_SECONDS``, after waiting that long at most): the creator is acknowledged
  whatever becomes of the check, and a check that fails or runs out of budget leaves the filing
  pending for ``registry check``;
- a reverse search answers the person waiting: it is staged here (size-limited, nothing
  decoded) and decoded, fingerprinted and matched in the child or the worker; a search past its
  budget is refused with a message that says so.

This is the composition of the web side's background work; the work itself is the services'.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from . import sandbox
from .deposits import make_thumbnail
from .domain.declaration import Problem
from .sandbox import Budget, BudgetExceeded
from .services.intake import (
    SEARCHING,
    FilingRejected,
    ReadingUnavailable,
    budget_refusal,
    stage_upload,
)
from .services.reverse_search import NOTHING_TO_SEARCH
from .storage import StagedFile

if TYPE_CHECKING:
    from rq import Queue

    from .container import Container
    from .services.intake import DepositUpload
    from .services.reverse_search import ReverseResult

log = logging.getLogger(__name__)


class SearchUnavailable(RuntimeError):
    """The reverse search could not be run now (the workers are busy or gone); try again."""


@dataclass(frozen=True)
class Budgets:
    """The budget of one filing's checks and of one reverse search (or deposit inspection)."""

    check: Budget
    search: Budget


class Runner:
    """Starts checks and runs reverse searches for the web layer (see the module docstring)."""

    def __init__(
        self,
        ext: Container,
        *,
        budgets: Budgets,
        policy: Any,
        check_wait: float = 0.0,
        queue: Queue | None = None,
        search_queue: Queue | None = None,
    ) -> None:
        self.ext = ext
        self.budgets = budgets
        self.policy = policy
        self.check_wait = check_wait
        self.queue = queue
        self.search_queue = search_queue
        # The checks started here, each with the event its done-callback sets when it has
        # logged the outcome (a future's result is there before its callbacks have run).
        self._running: dict[Future, threading.Event] = {}

    # ---- a filing's checks -----------------------------------------------------------------

    def after_submit(self, registration_id: int) -> None:
        """Start the checks of the just committed filing ``registration_id``: queued, or in a
        child process; wait for it at most ``check_wait`` seconds. Never raises: a check that
        cannot start or fails leaves the filing pending for ``registry check``."""
        if self.queue is not None:
            from .jobs import enqueue_check

            try:
                enqueue_check(self.queue, registration_id, budget=self.budgets.check)
                return
            except Exception:  # the queue is down: check in a child process instead
                log.exception("could not queue the check of filing %s", registration_id)
        try:
            future = self.start_check(registration_id)
        except Exception:
            log.exception("could not start the check of filing %s", registration_id)
            return
        if self.check_wait > 0:
            try:
                future.result(timeout=self.check_wait)
            except FutureTimeout:
                pass  # it goes on; the receipt says the filing is being checked
            except Exception:
                pass  # logged by the callback below

    def start_check(self, registration_id: int) -> Future:
        """The checks of ``registration_id`` in a child process under the check budget."""
        from .jobs import run_check

        self.warm()
        future = sandbox.start(
            run_check,
            self.ext,
            self.policy,
            registration_id,
            budget=self.budgets.check,
            hold=self.ext.matcher.lock,
        )
        settled = threading.Event()
        self._running[future] = settled
        future.add_done_callback(lambda done: self._settled(done, registration_id, settled))
        return future

    def _settled(self, future: Future, registration_id: int, settled: threading.Event) -> None:
        try:
            self._log_outcome(future, registration_id)
        finally:
            self._running.pop(future, None)
            settled.set()

    def _log_outcome(self, future: Future, registration_id: int) -> None:
        try:
            _result, used = future.result()
        except BudgetExceeded as exc:
            log.error(
                "the check of filing %s ran out of its %s budget (%s); it stays pending for "
                "`registry check`",
                registration_id,
                exc.resource,
                exc.budget.describe(),
            )
        except Exception:
            log.exception("the check of filing %s failed; it stays pending", registration_id)
        else:
            log.info(
                "checked filing %s: %.2f s CPU, %d MB peak",
                registration_id,
                used.cpu_seconds,
                used.peak_rss_bytes >> 20,
            )

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the checks this process started, their outcomes logged (tests, and
        `registry serve` at exit); at most ``timeout`` seconds in all."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for settled in list(self._running.values()):
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            settled.wait(left)

    # ---- reverse search --------------------------------------------------------------------

    def reverse_search(self, upload: DepositUpload) -> ReverseResult:
        """Which registered works ``upload`` matches (``services.reverse_search``), decoded
        and matched off this process under the search budget.

        The upload is staged here first (size-limited, nothing decoded), where the workers read
        deposits; the search then runs in a worker, or (without a queue, or with the queue
        down) in a child process. Raises ``intake.FilingRejected`` for an upload the registry
        does not accept or one that runs out of its budget, and SearchUnavailable when the
        workers do not answer in time."""
        with stage_upload(self.ext.store, self.ext.limits, upload) as staged:
            if staged is None:
                raise FilingRejected([Problem("deposit", NOTHING_TO_SEARCH)])
            pasted = upload.file is None
            if self.search_queue is not None:
                try:
                    return self._queued_search(staged, pasted)
                except (SearchUnavailable, FilingRejected):
                    raise
                except Exception:  # the queue is down: search here rather than fail
                    log.exception("could not queue a reverse search; running it here")
            return self._local_search(staged, pasted)

    def _local_search(self, staged: StagedFile, pasted: bool) -> ReverseResult:
        from .jobs import run_search, staged_as_upload

        # The whole search is budgeted at once; the child's scratch folder is made and removed
        # here, so that a child killed for its budget leaves nothing behind.
        limits = replace(self.ext.limits, budget=None)
        scratch = Path(tempfile.mkdtemp(prefix="search-", suffix=".d", dir=staged.path.parent))
        try:
            with staged_as_upload(staged.path, pasted) as upload:
                self.warm()
                result, _used = sandbox.run(
                    run_search,
                    self.ext,
                    limits,
                    upload,
                    scratch,
                    budget=self.budgets.search,
                    hold=self.ext.matcher.lock,
                )
        except BudgetExceeded as exc:
            if exc.resource in ("time", "crash"):
                log.error("a reverse search ran out of its %s budget", exc.resource)
                raise SearchUnavailable(str(exc)) from None
            raise FilingRejected([budget_refusal(exc, SEARCHING)]) from None
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return result

    def _queued_search(self, staged: StagedFile, pasted: bool) -> ReverseResult:
        """Queue the search of the staged upload, and wait for it."""
        from .jobs import enqueue_search, search_outcome

        budget = self.budgets.search
        scratch = staged.path.with_name(staged.path.name + ".d")  # the worker's
        try:
            job = enqueue_search(self.search_queue, staged.path.name, pasted, budget=budget)  # type: ignore[arg-type]  # called only when search_queue is set
            outcome = search_outcome(job, timeout=budget.wall_seconds + 5)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        if outcome is None:
            raise SearchUnavailable("the reverse search was not answered in time")
        kind, value = outcome
        if kind == "result":
            return value
        if kind == "rejected":
            raise FilingRejected(value)
        raise SearchUnavailable(str(value))

    def thumbnail(self, source: BinaryIO, target: Path, *, max_side: int) -> None:
        """Make ``target``, the thumbnail of the deposit open as ``source`` (see
        ``deposits.make_thumbnail``), in a child process under the search budget: decoding a
        picture costs what its file makes it cost, on a page view too. Raises
        ``intake.ReadingUnavailable`` when it runs out of its budget."""
        try:
            sandbox.run(
                make_thumbnail, source, target, max_side=max_side, budget=self.budgets.search
            )
        except BudgetExceeded as exc:
            log.error("a thumbnail of %s ran out of its %s budget", target.name, exc.resource)
            raise ReadingUnavailable(str(exc)) from None

    def warm(self) -> None:
        """Catch this process's match indexes up with the database, so that the children it
        forks inherit them warm (each child catches up only what was filed since)."""
        try:
            with self.ext.session() as session, self.ext.matcher.lock:
                self.ext.matcher.catch_up(session)
        except Exception:  # the child meets (and reports) a database problem itself
            log.exception("could not catch the match indexes up before forking")
