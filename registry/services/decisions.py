"""Determinations: the examiner's decision with the rationale the creator reads, registration on
the fast track when no examiner took a low-risk filing, and the notices sent to earlier
registrants whose work a decided filing strongly matches."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from ..db import writing
from ..domain.events import EventKind
from ..domain.permissions import Action
from ..domain.risk import RouteKind
from ..domain.statuses import Status
from ..domain.vocabulary import RefusalReason
from ..models import Determination, MatchDisposition, Notification, Registration, User, utcnow
from . import matching
from .guards import ExaminationError, change, write
from .matches import current_dispositions, reported_to_earlier_owner

_OUTCOMES = {
    "registered": Status.REGISTERED,
    "registered_with_limitation": Status.REGISTERED_WITH_LIMITATION,
    "refused": Status.REFUSED,
}


def determine(
    *,
    session: Session,
    uid: str,
    examiner: User,
    outcome: str,
    rationale: str,
    limitation: str = "",
    reason_code: str = "",
    prior_number: str = "",
) -> Registration:
    """Record the determination with its rationale (which the creator reads); change status."""
    target = _OUTCOMES.get(outcome)
    if target is None:
        raise ExaminationError("Choose a determination.")
    if not rationale.strip():
        raise ExaminationError("Write the rationale the creator will read.")
    reason = None
    if target is Status.REGISTERED_WITH_LIMITATION and not limitation.strip():
        raise ExaminationError("Say in words which material the claim excludes.")
    if target is Status.REFUSED:
        try:
            reason = RefusalReason(reason_code)
        except ValueError:
            raise ExaminationError("Give the reason for the refusal.") from None

    def step(reg: Registration) -> None:
        prior = prior_number.strip().upper()
        if reason is RefusalReason.PRIOR_WORK:
            if prior not in matching.matched_numbers(session, reg):
                raise ExaminationError(
                    "Name the earlier registration, one of this filing's matches."
                )
        assert reg.id is not None, "a filing under examination is a stored row"
        session.add(
            Determination(
                registration_id=reg.id,
                outcome=target.value,
                reason_code=reason.value if reason else None,
                prior_number=prior if reason is RefusalReason.PRIOR_WORK else None,
                limitation=limitation.strip()
                if target is Status.REGISTERED_WITH_LIMITATION
                else "",
                rationale=rationale.strip(),
                examiner_id=examiner.id,
            )
        )
        what = target.label if reason is None else f"{target.label}: {reason.label}"
        change(session, reg, target, examiner, EventKind.DETERMINED, what)
        reg.examiner_id = None
        reg.fast_track_on = None
        _notify_earlier_registrants(session, reg, target)

    return write(session, uid, examiner, Action.DETERMINE, step)


def fast_track_due(*, session: Session, today: date | None = None) -> list[str]:
    """Register every fast-tracked filing whose waiting period is over and that no examiner took
    (run it daily); return their numbers."""
    today = today or utcnow().date()
    due = session.exec(
        select(Registration).where(
            Registration.status == Status.SUBMITTED.value,
            Registration.route == RouteKind.FAST_TRACK.value,
            col(Registration.fast_track_on).is_not(None),
            col(Registration.fast_track_on) <= today,
            col(Registration.examiner_id).is_(None),
        )
    ).all()
    done = []
    for reg in due:
        with writing(session):
            fresh = session.get(Registration, reg.id)
            assert fresh is not None, "registrations are never deleted"
            assert fresh.id is not None, "a row read from the database has its id"
            if fresh.status != Status.SUBMITTED.value or fresh.examiner_id is not None:
                continue
            change(
                session,
                fresh,
                Status.REGISTERED,
                None,
                EventKind.DETERMINED,
                "Registered on the fast track",
            )
            assert fresh.fast_track_on is not None, "the query kept only fast-tracked filings"
            rationale = (
                f"Registered on the fast track: triaged as low risk, and no examiner took the "
                f"filing before {fresh.fast_track_on.isoformat()}."
            )
            session.add(
                Determination(
                    registration_id=fresh.id, outcome=Status.REGISTERED.value, rationale=rationale
                )
            )
            fresh.fast_track_on = None
            fresh.updated_at = utcnow()
        assert fresh.number is not None, "a submitted filing has its number"
        done.append(fresh.number)
    return done


def determinations(session: Session, reg: Registration) -> list[Determination]:
    return list(
        session.exec(select(Determination).where(Determination.registration_id == reg.id)).all()
    )


def latest_determination(session: Session, registration: Registration) -> Determination | None:
    return session.exec(
        select(Determination)
        .where(Determination.registration_id == registration.id)
        .order_by(col(Determination.id).desc())
    ).first()


def dispositions(session: Session, registration: Registration) -> dict[str, MatchDisposition]:
    """The current disposition of each match (the latest row wins; earlier ones stay)."""
    assert registration.id is not None, "a submitted filing is a stored row"
    current = current_dispositions(session, [registration.id])
    return {number: row for (_filing, number), row in current.items()}


def _notify_earlier_registrants(session: Session, reg: Registration, outcome: Status) -> None:
    """Tell each earlier registrant whose work this filing strongly matches (and whose match the
    examiner did not clear) which filing it is and what was decided."""
    assert reg.id is not None, "a filing under examination is a stored row"
    for m in reported_to_earlier_owner(session, filing_ids=[reg.id], decided_only=False):
        session.add(
            Notification(
                user_id=m.earlier.owner_id,
                registration_id=reg.id,
                message=f"{reg.number} (“{reg.title}”) strongly matches your registration "
                f"{m.earlier.number}. It has been determined: {outcome.label.lower()}.",
            )
        )


def notifications(session: Session, user: User) -> list[Notification]:
    return list(
        session.exec(
            select(Notification)
            .where(Notification.user_id == user.id)
            .order_by(col(Notification.id).desc())
        ).all()
    )
