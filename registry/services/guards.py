"""What every examination step checks first: who may act on which filing, in one write
transaction; and the error an examination step raises when it is not allowed."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session, select

from ..db import writing
from ..domain.events import EventKind
from ..domain.permissions import OPEN
from ..domain.statuses import IllegalTransition, Status
from ..models import Registration, User, utcnow
from . import status as lifecycle

OPEN_VALUES = frozenset(s.value for s in OPEN)


class ExaminationError(ValueError):
    """An examination step that is not allowed; ``str(exc)`` says why, for the examiner."""


def examinable(session: Session, uid: str, examiner: User) -> Registration:
    """The submitted filing ``uid``, which ``examiner`` may examine (not their own)."""
    if not examiner.is_examiner:
        raise ExaminationError("Only examiners examine filings.")
    reg = session.exec(select(Registration).where(Registration.uid == uid)).first()
    if reg is None or reg.status == Status.DRAFT.value:
        raise LookupError(uid)
    if reg.owner_id == examiner.id:
        raise ExaminationError("You cannot examine your own filing.")
    return reg


def own_filing(session: Session, uid: str, creator: User) -> Registration:
    """The creator's own submitted filing ``uid``."""
    reg = session.exec(
        select(Registration).where(Registration.uid == uid, Registration.owner_id == creator.id)
    ).first()
    if reg is None or reg.status == Status.DRAFT.value:
        raise LookupError(uid)
    return reg


def require_claim(reg: Registration, examiner: User) -> None:
    if reg.examiner_id != examiner.id:
        raise ExaminationError("Claim this filing first.")


def write(
    session: Session, uid: str, examiner: User, step: Callable[[Registration], None]
) -> Registration:
    """Run ``step(reg)`` on the filing inside one write transaction; commit."""
    with writing(session):
        reg = examinable(session, uid, examiner)
        step(reg)
        reg.updated_at = utcnow()
        session.add(reg)
    return reg


def change(
    session: Session,
    reg: Registration,
    target: Status,
    actor: User | None,
    kind: EventKind,
    reason: str,
) -> None:
    """Move the filing to ``target`` (if the lifecycle allows it) and record the event; an
    ExaminationError saying why not otherwise."""
    current = Status(reg.status)
    try:
        lifecycle.change_status(session, reg, target, actor, kind, reason)
    except IllegalTransition:
        raise ExaminationError(
            f"A filing that is “{current.label}” cannot become “{target.label}”."
        ) from None
