"""The record of a filing: every change is an event with who, when, what and why."""

from __future__ import annotations

from sqlmodel import Session

from ..domain.statuses import Status
from ..models import Event, Registration, User
from . import transparency


def record(
    session: Session,
    reg: Registration,
    actor: User | None,
    kind: str,
    from_status: Status | None,
    to_status: Status | None,
    reason: str,
) -> Event:
    """Add an event to the filing's record, and to the transparency log when it changes the
    public status (the caller's write transaction commits both)."""
    event = Event(
        registration_id=reg.id,
        actor_id=actor.id if actor else None,
        kind=kind,
        from_status=from_status.value if from_status else None,
        to_status=to_status.value if to_status else None,
        reason=reason,
    )
    session.add(event)
    transparency.append(session, reg, event)
    return event
