"""What every examination step checks first: who may act on which filing, in one write
transaction; and the error an examination step raises when it is not allowed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session, col, select

from ..db import writing
from ..domain.events import EventKind
from ..domain.permissions import Action, Refusal, allowed_actions, refusal
from ..domain.statuses import IllegalTransition, Status
from ..domain.vocabulary import STAFF_ROLES
from ..models import Determination, Registration, User, utcnow
from . import status as lifecycle


class ExaminationError(ValueError):
    """An examination step that is not allowed; ``str(exc)`` says why, for the examiner."""


#: What a step says when ``domain.permissions.refusal`` refuses it.
_WORDING = {
    Refusal.NOT_OWNER: "Only the filing's creator can do this.",
    Refusal.NOT_STAFF: "Only examiners examine filings.",
    Refusal.NOT_ADMIN: "Only an administrator assigns filings.",
    Refusal.OWN_FILING: "You cannot examine your own filing.",
    Refusal.NOT_DRAFT: "Only a draft can be edited.",
    Refusal.NOT_OPEN: "This filing is not awaiting examination.",
    Refusal.NOT_CLOSED: "Only a filing closed for no response can be reopened.",
    Refusal.NOT_WAITING: "The examiner is not waiting for an answer on this filing.",
    Refusal.NOT_REFUSED: "Only a refused filing can be reconsidered.",
    Refusal.NO_RECONSIDERATION_LEFT: (
        "The second reconsideration was final: this refusal cannot be reconsidered again."
    ),
    Refusal.CLAIMED_BY_OTHER: "Another examiner has claimed this filing.",
    Refusal.NOT_CLAIMED: "Claim this filing first.",
    Refusal.DECIDED_BEFORE: "You decided this filing before: a different examiner reconsiders it.",
}


def wording(action: Action, why: Refusal, status: Status) -> str:
    """The sentence an examiner or creator reads when ``action`` is refused ``why``."""
    if why is Refusal.NOT_CLAIMED and action is Action.RELEASE:
        return "You have not claimed this filing."
    if why is Refusal.NOT_REGISTERED and action is Action.CANCEL:
        return f"A filing that is “{status.label}” cannot become “{Status.CANCELLED.label}”."
    if why is Refusal.NOT_REGISTERED:
        return "Only a registration can be supplemented."
    if why is Refusal.NOT_UNDER_EXAMINATION:
        return f"A filing that is “{status.label}” cannot become “{Status.CORRESPONDENCE.label}”."
    return _WORDING[why]


def examiners(session: Session) -> list[User]:
    """Active staff who can examine."""
    return list(
        session.exec(
            select(User)
            .where(col(User.role).in_([r.value for r in STAFF_ROLES]), User.active)
            .order_by(User.display_name)
        ).all()
    )


def _standing(
    session: Session, reg: Registration, actor: User, reconsiderations: int
) -> dict[str, Any]:
    """What ``domain.permissions`` weighs about ``actor`` and ``reg``, read once for the page
    (``actions``) and for the step (``require``) alike."""
    decided_it_before = False
    if reg.status == Status.RECONSIDERATION.value and actor.is_examiner:
        refused_by = set(
            session.exec(
                select(Determination.examiner_id).where(Determination.registration_id == reg.id)
            ).all()
        )
        if actor.id in refused_by:
            others = {u.id for u in examiners(session)} - refused_by - {reg.owner_id}
            decided_it_before = bool(others)
    return {
        "viewer_role": actor.role,
        "is_owner": reg.owner_id == actor.id,
        "status": reg.status,
        "claimed_by_me": reg.examiner_id is not None and reg.examiner_id == actor.id,
        "claimed_by_other": reg.examiner_id not in (None, actor.id),
        "reconsiderations": reconsiderations,
        "decided_it_before": decided_it_before,
    }


def actions(
    session: Session, reg: Registration, viewer: User, *, reconsiderations: int = 0
) -> frozenset[Action]:
    """What ``viewer`` may do to ``reg`` (what its page offers): ``domain.permissions``."""
    return allowed_actions(**_standing(session, reg, viewer, reconsiderations))


def require(
    session: Session,
    reg: Registration,
    actor: User,
    action: Action,
    *,
    reconsiderations: int = 0,
) -> bool:
    """Whether ``actor`` may take ``action`` on ``reg``, as ``domain.permissions`` decides (the
    same rules the pages offer their buttons by): True when they may; False when it is done
    already (claiming a filing one holds); an ExaminationError saying why not otherwise."""
    why = refusal(action, **_standing(session, reg, actor, reconsiderations))
    if why is None:
        return True
    if why is Refusal.ALREADY_CLAIMED:
        return False
    raise ExaminationError(wording(action, why, Status(reg.status)))


def submitted(session: Session, uid: str) -> Registration:
    """The submitted filing ``uid``; LookupError when there is none (a draft is nobody's but
    its creator's, and has no examination)."""
    reg = session.exec(select(Registration).where(Registration.uid == uid)).first()
    if reg is None or reg.status == Status.DRAFT.value:
        raise LookupError(uid)
    return reg


def own_filing(session: Session, uid: str, creator: User) -> Registration:
    """The creator's own submitted filing ``uid``."""
    reg = session.exec(
        select(Registration).where(Registration.uid == uid, Registration.owner_id == creator.id)
    ).first()
    if reg is None or reg.status == Status.DRAFT.value:
        raise LookupError(uid)
    return reg


def write(
    session: Session,
    uid: str,
    actor: User,
    action: Action,
    step: Callable[[Registration], None],
) -> Registration:
    """Take ``action`` on the filing: if ``require`` allows it, run ``step(reg)`` inside one
    write transaction; commit."""
    with writing(session):
        reg = submitted(session, uid)
        if require(session, reg, actor, action):
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
