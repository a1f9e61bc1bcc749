"""The checks a submitted filing goes through: the originality check (fingerprints and matches),
the provenance reading and triage. Each step stores its result once and commits, so running the
whole again after an interruption finishes what is missing and repeats nothing.

They run inline after a submission, or in an RQ worker when a job queue is configured; until
they are done the filing is "checking".
"""

from __future__ import annotations

import logging

from sqlmodel import Session

from ..domain.risk import RoutingPolicy
from ..models import Registration
from ..storage import DepositStore
from . import matching, provenance, triage

log = logging.getLogger(__name__)


def run(
    *,
    session: Session,
    store: DepositStore,
    matcher: matching.Matcher,
    policy: RoutingPolicy | None,
    registration: Registration,
) -> None:
    """Check, read the provenance of and (given a ``policy``) triage ``registration``."""
    matching.check(session=session, store=store, matcher=matcher, registration=registration)
    provenance.inspect(session=session, store=store, registration=registration)
    if policy is not None:
        triage.triage(session=session, registration=registration, policy=policy)


def is_checking(session: Session, registration: Registration) -> bool:
    """True while a submitted filing's originality check has not stored its report."""
    return registration.number is not None and matching.get_report(session, registration) is None
