"""Letters between the examiner and the creator: requests for information with a deadline, the
creator's replies, closing filings whose deadline passed, and reconsideration after a refusal."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session, col, select

from ..db import writing
from ..domain.events import EventKind
from ..domain.permissions import Action
from ..domain.statuses import Status
from ..domain.vocabulary import LetterKind
from ..models import Letter, Registration, User, utcnow
from .guards import ExaminationError, change, own_filing, require, write

#: Days a creator has to answer a request for information, unless the examiner says otherwise.
DEFAULT_DEADLINE_DAYS = 45


def _letter(
    session: Session,
    reg: Registration,
    author: User,
    kind: LetterKind,
    body: str,
    deadline: date | None = None,
) -> None:
    """Add a letter on ``reg`` (in the caller's transaction)."""
    assert reg.id is not None and author.id is not None, "stored rows have their ids"
    session.add(
        Letter(
            registration_id=reg.id,
            author_id=author.id,
            kind=kind.value,
            body=body,
            deadline=deadline,
        )
    )


def request_information(
    *,
    session: Session,
    uid: str,
    examiner: User,
    question: str,
    days: int = DEFAULT_DEADLINE_DAYS,
    today: date | None = None,
) -> Registration:
    """Ask the creator for information; the filing waits on them until the deadline."""
    if not question.strip():
        raise ExaminationError("Write what you need from the creator.")
    if not 1 <= days <= 365:
        raise ExaminationError("Give a deadline between 1 and 365 days.")
    deadline = (today or utcnow().date()) + timedelta(days=days)

    def step(reg: Registration) -> None:
        change(
            session,
            reg,
            Status.CORRESPONDENCE,
            examiner,
            EventKind.INFORMATION_REQUESTED,
            f"Information requested; answer by {deadline.isoformat()}",
        )
        _letter(session, reg, examiner, LetterKind.REQUEST, question.strip(), deadline=deadline)

    return write(session, uid, examiner, Action.REQUEST_INFORMATION, step)


def reply(*, session: Session, uid: str, creator: User, body: str) -> Registration:
    """The creator answers the examiner; the filing goes back to its examiner."""
    if not body.strip():
        raise ExaminationError("Write your answer.")
    with writing(session):
        reg = own_filing(session, uid, creator)
        require(session, reg, creator, Action.REPLY)
        change(
            session,
            reg,
            Status.UNDER_EXAMINATION,
            creator,
            EventKind.REPLIED,
            "The creator answered",
        )
        _letter(session, reg, creator, LetterKind.REPLY, body.strip())
        reg.updated_at = utcnow()
    return reg


def close_overdue(*, session: Session, today: date | None = None) -> list[str]:
    """Close for no response every filing whose creator let a request's deadline pass (run it
    on a schedule); return their numbers."""
    today = today or utcnow().date()
    waiting = session.exec(
        select(Registration).where(Registration.status == Status.CORRESPONDENCE.value)
    ).all()
    closed = []
    for reg in waiting:
        request = _latest_letter(session, reg, LetterKind.REQUEST)
        if request is None or request.deadline is None or request.deadline >= today:
            continue
        with writing(session):
            fresh = session.get(Registration, reg.id)
            assert fresh is not None, "registrations are never deleted"
            if fresh.status != Status.CORRESPONDENCE.value:  # answered meanwhile
                continue
            change(
                session,
                fresh,
                Status.CLOSED_NO_RESPONSE,
                None,
                EventKind.CLOSED_NO_RESPONSE,
                f"No answer by {request.deadline.isoformat()}",
            )
        assert fresh.number is not None, "a filing in correspondence has its number"
        closed.append(fresh.number)
    return closed


def request_reconsideration(
    *, session: Session, uid: str, creator: User, argument: str
) -> Registration:
    """After a refusal the creator asks for it to be reviewed, with their argument: the first
    time, then a second and final time. The filing returns to the queue."""
    if not argument.strip():
        raise ExaminationError("Say why the refusal should be reconsidered.")
    with writing(session):
        reg = own_filing(session, uid, creator)
        earlier = reconsiderations(session, reg)
        require(session, reg, creator, Action.RECONSIDER, reconsiderations=earlier)
        which = "First" if earlier == 0 else "Second and final"
        change(
            session,
            reg,
            Status.RECONSIDERATION,
            creator,
            EventKind.RECONSIDERATION_REQUESTED,
            f"{which} reconsideration requested",
        )
        reg.examiner_id = None
        _letter(session, reg, creator, LetterKind.RECONSIDERATION, argument.strip())
        reg.updated_at = utcnow()
    return reg


def reconsiderations(session: Session, registration: Registration) -> int:
    """How many reconsiderations the creator has asked for."""
    return len([x for x in letters(session, registration) if x.kind == LetterKind.RECONSIDERATION])


def letters(session: Session, registration: Registration) -> list[Letter]:
    return list(
        session.exec(
            select(Letter).where(Letter.registration_id == registration.id).order_by(col(Letter.id))
        ).all()
    )


def _latest_letter(session: Session, reg: Registration, kind: LetterKind) -> Letter | None:
    return session.exec(
        select(Letter)
        .where(Letter.registration_id == reg.id, Letter.kind == kind.value)
        .order_by(col(Letter.id).desc())
    ).first()
