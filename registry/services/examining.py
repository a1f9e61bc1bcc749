"""An examiner's work on one filing: claiming and releasing it (two examiners never work one
filing, and nobody examines their own), an administrator's assignment, the disposition of each
match, reopening a filing closed for no response, and cancelling a registration."""

from __future__ import annotations

from sqlmodel import Session

from ..domain.events import EventKind
from ..domain.permissions import Action
from ..domain.statuses import Status
from ..domain.vocabulary import Disposition
from ..models import MatchDisposition, Registration, User
from . import matching
from . import status as lifecycle
from .guards import ExaminationError, change, write


def claim(*, session: Session, uid: str, examiner: User) -> Registration:
    """Take the filing: it is the claiming examiner's until released or determined."""

    def step(reg: Registration) -> None:
        reg.examiner_id = examiner.id
        if reg.status == Status.SUBMITTED.value:
            change(
                session,
                reg,
                Status.UNDER_EXAMINATION,
                examiner,
                EventKind.CLAIMED,
                "Taken up for examination",
            )
            reg.fast_track_on = None  # an examiner took it
        else:
            lifecycle.note(session, reg, examiner, EventKind.CLAIMED, "Taken up for examination")

    return write(session, uid, examiner, Action.CLAIM, step)


def release(*, session: Session, uid: str, examiner: User) -> Registration:
    """Give the filing back to the queue."""

    def step(reg: Registration) -> None:
        reg.examiner_id = None
        lifecycle.note(session, reg, examiner, EventKind.RELEASED, "Returned to the queue")

    return write(session, uid, examiner, Action.RELEASE, step)


def dispose(
    *, session: Session, uid: str, examiner: User, number: str, outcome: str, note: str
) -> Registration:
    """Record the examiner's disposition of one match, with a note."""
    try:
        disposition = Disposition(outcome)
    except ValueError:
        raise ExaminationError("Choose what to do with this match.") from None

    def step(reg: Registration) -> None:
        if number not in matching.matched_numbers(session, reg):
            raise ExaminationError(f"{number} is not among this filing's matches.")
        if disposition is not Disposition.CLEARED and not note.strip():
            raise ExaminationError("Say in a note why, for the record.")
        assert reg.id is not None and examiner.id is not None, "stored rows have their ids"
        session.add(
            MatchDisposition(
                registration_id=reg.id,
                match_number=number,
                outcome=disposition.value,
                note=note.strip(),
                examiner_id=examiner.id,
            )
        )
        lifecycle.note(
            session,
            reg,
            examiner,
            EventKind.MATCH_DISPOSED,
            f"{number}: {disposition.label}{' — ' + note.strip() if note.strip() else ''}",
        )

    return write(session, uid, examiner, Action.DISPOSE, step)


def reopen(*, session: Session, uid: str, examiner: User) -> Registration:
    """Reopen a filing closed for no response; it returns to examination, claimed by the
    examiner who reopens it."""

    def step(reg: Registration) -> None:
        change(session, reg, Status.UNDER_EXAMINATION, examiner, EventKind.REOPENED, "Reopened")
        reg.examiner_id = examiner.id

    return write(session, uid, examiner, Action.REOPEN, step)


def cancel(*, session: Session, uid: str, examiner: User, reason: str) -> Registration:
    """Cancel a registration (e.g. it rests on incorrect or incomplete disclosure)."""
    if not reason.strip():
        raise ExaminationError("Give the reason for the cancellation.")

    def step(reg: Registration) -> None:
        change(session, reg, Status.CANCELLED, examiner, EventKind.CANCELLED, reason.strip())

    return write(session, uid, examiner, Action.CANCEL, step)


def assign(*, session: Session, uid: str, admin: User, examiner_id: int) -> Registration:
    """An administrator hands a filing to an examiner (who is then its only examiner)."""

    def step(reg: Registration) -> None:
        target = session.get(User, examiner_id)
        if target is None or not target.is_examiner or not target.active:
            raise ExaminationError("Choose an examiner.")
        if target.id == reg.owner_id:
            raise ExaminationError("Nobody examines their own filing.")
        reg.examiner_id = target.id
        what = f"Assigned to {target.display_name}"
        if reg.status == Status.SUBMITTED.value:
            change(session, reg, Status.UNDER_EXAMINATION, admin, EventKind.ASSIGNED, what)
            reg.fast_track_on = None
        else:
            lifecycle.note(session, reg, admin, EventKind.ASSIGNED, what)

    return write(session, uid, admin, Action.ASSIGN, step)
