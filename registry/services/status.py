"""The one writer of a registration's status and of the events on its record.

Every change to a filing is an event (who, when, what, why), and an event that changes the
public status is also a leaf of the transparency log; both are added here, inside the caller's
write transaction, which commits them with the change. Nothing else assigns
``Registration.status`` or adds an ``Event`` (tests/services/test_status_writer.py checks).
"""

from __future__ import annotations

from sqlmodel import Session

from ..domain.events import EventKind
from ..domain.statuses import Status, check_transition
from ..models import Event, Registration, User
from . import transparency


def change_status(
    session: Session,
    reg: Registration,
    to: Status,
    actor: User | None,
    kind: EventKind,
    reason: str,
) -> Event:
    """Move ``reg`` to ``to`` and record the event (and its log leaf). Raises
    ``domain.statuses.IllegalTransition`` when the lifecycle does not allow the change."""
    current = Status(reg.status)
    check_transition(current, to)
    reg.status = to.value
    session.add(reg)
    return _event(session, reg, actor, kind, current, to, reason)


def created(session: Session, reg: Registration, actor: User, reason: str) -> Event:
    """Record the "created" event of the new draft ``reg`` (made with ``Status.DRAFT``, the one
    status a registration is born with)."""
    if reg.status != Status.DRAFT.value:
        raise ValueError("a registration is created as a draft")
    session.flush()  # its id, for the event
    return _event(session, reg, actor, EventKind.CREATED, None, Status.DRAFT, reason)


def note(
    session: Session, reg: Registration, actor: User | None, kind: EventKind, reason: str
) -> Event:
    """Record an event that leaves the status as it is (a claim, a triage, an amendment...)."""
    return _event(session, reg, actor, kind, None, None, reason)


def _event(
    session: Session,
    reg: Registration,
    actor: User | None,
    kind: EventKind,
    from_status: Status | None,
    to_status: Status | None,
    reason: str,
) -> Event:
    assert reg.id is not None, "a registration is flushed before its first event"
    event = Event(
        registration_id=reg.id,
        actor_id=actor.id if actor else None,
        kind=EventKind(kind).value,
        from_status=from_status.value if from_status else None,
        to_status=to_status.value if to_status else None,
        reason=reason,
    )
    session.add(event)
    transparency.append(session, reg, event)
    return event
