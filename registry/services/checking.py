"""The check pipeline: the steps a submitted filing goes through, composed here once.

Today the steps are the originality check (fingerprints and matches), the provenance reading
and triage (which weighs both). Each step stores its result once and commits, and is skipped
when its result is there, so running the pipeline again after an interruption finishes what is
missing and repeats nothing.

Everything that checks a filing runs this pipeline: a submission (inline, in a child process or
in an RQ worker: ``registry.worker.run_check``), ``registry check`` (``run_pending``), the demo
and ``registry evaluate``. To add a step, write its function (``(Checks, Registration) ->
None``, doing nothing when its result is stored) and add one line to ``STEPS``, with the SQL
condition under which a filing still needs it; until the steps are done the filing is
"checking".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, false, or_
from sqlmodel import Session, col, select

from ..domain.risk import RoutingPolicy
from ..models import MatchReport, ProvenanceReport, Registration
from ..storage import DepositStore
from . import matching, provenance, triage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checks:
    """What the steps work with."""

    session: Session
    store: DepositStore
    matcher: matching.Matcher
    policy: RoutingPolicy | None  # None: filings are not triaged (a scratch registry)


@dataclass(frozen=True)
class Step:
    name: str  # as ``registry check`` reports it
    #: Does the step; returns what it stored, or None when it had nothing to do (a step whose
    #: input is missing, such as triage before a match report, does nothing).
    run: Callable[[Checks, Registration], object | None]
    #: SQL: the filing still needs this step (for ``run_pending``).
    needed: Callable[[Checks], ColumnElement[bool]]


def _originality(c: Checks, reg: Registration) -> object:
    return matching.check(session=c.session, store=c.store, matcher=c.matcher, registration=reg)


def _provenance(c: Checks, reg: Registration) -> object:
    return provenance.inspect(session=c.session, store=c.store, registration=reg)


def _triage(c: Checks, reg: Registration) -> object | None:
    if c.policy is None:
        return None
    return triage.triage(session=c.session, registration=reg, policy=c.policy)


def _no(table: type[MatchReport | ProvenanceReport]) -> Callable[[Checks], ColumnElement[bool]]:
    """The filing has no row in ``table`` (a report) yet."""
    return lambda c: ~exists().where(col(table.registration_id) == Registration.id)


STEPS: tuple[Step, ...] = (
    Step("Checked", _originality, _no(MatchReport)),
    Step("Read the provenance of", _provenance, _no(ProvenanceReport)),
    Step(
        "Triaged",
        _triage,
        lambda c: col(Registration.triaged_at).is_(None) if c.policy is not None else false(),
    ),
)


def run(
    *,
    session: Session,
    store: DepositStore,
    matcher: matching.Matcher,
    policy: RoutingPolicy | None,
    registration: Registration,
    steps: Sequence[Step] = STEPS,
) -> None:
    """Run every step on ``registration``, in order (triage only given a ``policy``); a step
    that raises stops the rest, and the filing stays pending for ``registry check``."""
    checks = Checks(session, store, matcher, policy)
    for step in steps:
        step.run(checks, registration)


def run_pending(
    *,
    session: Session,
    store: DepositStore,
    matcher: matching.Matcher,
    policy: RoutingPolicy | None,
    steps: Sequence[Step] = STEPS,
) -> dict[str, list[str]]:
    """Finish the checks of every submitted filing that some step has not done (one that failed
    or was cut off), oldest first; return, per step name, the numbers it was done for. A step
    that fails is logged and stays pending; the filing's other steps still run (one that needs
    the failed step's result does nothing), and so do the other filings."""
    checks = Checks(session, store, matcher, policy)
    done: dict[str, list[str]] = {step.name: [] for step in steps}
    needs = [step.needed(checks).label(f"needs_{i}") for i, step in enumerate(steps)]
    rows = session.exec(
        select(col(Registration.id), *needs)
        .where(col(Registration.number).is_not(None), or_(*(n.element for n in needs)))
        .order_by(col(Registration.submitted_at), col(Registration.id))
    ).all()
    for rid, *needed in rows:  # type: ignore[misc]  # rows are (id, *needs): the stubs see *needs as none
        reg = session.get(Registration, rid)
        assert reg is not None and reg.number is not None, "the query kept submitted filings"
        for step, need in zip(steps, needed, strict=True):
            if not need:
                continue
            try:
                result = step.run(checks, reg)
            except Exception:  # one bad step does not hold up the filing's others, nor others
                session.rollback()
                log.exception("%s of %s failed; it stays pending", step.name, reg.number)
                continue
            if result is not None:
                done[step.name].append(reg.number)
    return done


def is_checking(session: Session, registration: Registration) -> bool:
    """True while a submitted filing's originality check has not stored its report."""
    return registration.number is not None and matching.get_report(session, registration) is None
