"""Examination: graded triage, the examiner's queue, claims, match dispositions and
determinations.

Triage runs once a filing's originality check has stored its report: the domain's risk rules turn
the report and the declaration into a tier with reasons, the routing policy into a route, and both
are recorded on the filing with an event. Examiners then claim filings from a queue ranked by tier
and age (two examiners never work one filing, and nobody examines their own), record a disposition
for each match and a determination with the rationale the creator reads. Every step is an event;
nothing is edited in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import selectinload
from sqlmodel import Session, select

from ..db import writing
from ..domain.risk import (
    Assessment,
    Evidence,
    MatchEvidence,
    Reason,
    RiskReport,
    RouteKind,
    RoutingPolicy,
    Tier,
    assess,
)
from ..domain.statuses import IllegalTransition, Status, check_transition
from ..domain.vocabulary import Disposition, RefusalReason
from ..models import (
    Determination,
    Letter,
    MatchDisposition,
    MatchReport,
    Notification,
    Registration,
    User,
    utcnow,
)
from ..similarity import Band
from . import matching, provenance
from .events import record
from .matches import matches_against

#: Statuses in which a filing waits for, or is in, examination.
OPEN = (
    Status.SUBMITTED,
    Status.UNDER_EXAMINATION,
    Status.CORRESPONDENCE,
    Status.RECONSIDERATION,
)
_OPEN_VALUES = frozenset(s.value for s in OPEN)
_STAFF_ROLES = ("examiner", "admin")
_TIER_RANK = {Tier.HIGH.value: 0, Tier.ELEVATED.value: 1, Tier.LOW.value: 2}


class ExaminationError(ValueError):
    """An examination step that is not allowed; ``str(exc)`` says why, for the examiner."""


def evidence_for(session: Session, registration: Registration) -> Evidence:
    """What triage weighs: the filing's match report and its declaration."""
    report = matching.get_report(session, registration)
    found = matching.report_matches(report) if report else []
    owners = dict(
        session.exec(
            select(Registration.number, Registration.owner_id).where(
                Registration.number.in_([m.number for m in found])
            )
        ).all()
    )
    matches = tuple(
        MatchEvidence(
            number=m.number,
            band=m.band.value,
            score=m.score,
            coverage=m.new_coverage,
            same_owner=owners.get(m.number) == registration.owner_id,
            earlier_first=m.earlier_first,
        )
        for m in found
    )
    judged = provenance.judgement_of(provenance.get_report(session, registration))
    return Evidence(
        matches=matches,
        digital_source_type=registration.digital_source_type,
        ai_material=registration.ai_material,
        contributions=frozenset(c.category for c in registration.contributions),
        provenance_conflicts=tuple(judged.conflicts) if judged else (),
    )


def triage(
    *,
    session: Session,
    registration: Registration,
    policy: RoutingPolicy,
    today: date | None = None,
) -> Assessment | None:
    """Record the filing's risk tier, reasons and route, once; commit. Returns the assessment,
    or None when the filing was triaged already or its originality check has not run."""
    if registration.triaged_at is not None or registration.number is None:
        return None
    if matching.get_report(session, registration) is None:
        return None
    assessment = assess(evidence_for(session, registration))
    route = policy.route(assessment.tier)
    today = today or utcnow().date()
    with writing(session):
        reg = session.get(Registration, registration.id)
        if reg.triaged_at is not None:  # another process was first
            return None
        reg.risk_tier = assessment.tier.value
        reg.risk_points = assessment.points
        reg.risk_reasons = assessment.report.to_json()
        reg.route = route.kind.value
        reg.fast_track_on = (
            today + timedelta(days=route.wait_days) if route.kind is RouteKind.FAST_TRACK else None
        )
        reg.triaged_at = utcnow()
        session.add(reg)
        record(
            session,
            reg,
            None,
            "triaged",
            None,
            None,
            f"{assessment.tier.label} ({assessment.points} points); route: {route.describe()}",
        )
    return assessment


def triage_pending(
    *, session: Session, policy: RoutingPolicy, today: date | None = None
) -> list[str]:
    """Triage every checked filing not triaged yet; return their numbers."""
    pending = session.exec(
        select(Registration)
        .join(MatchReport, MatchReport.registration_id == Registration.id)
        .where(Registration.triaged_at.is_(None))
        .order_by(Registration.submitted_at, Registration.id)
    ).all()
    return [
        reg.number
        for reg in pending
        if triage(session=session, registration=reg, policy=policy, today=today)
    ]


def reasons_of(registration: Registration) -> list[Reason]:
    """The reasons recorded at triage (codes and values), strongest first; none before it."""
    if registration.risk_reasons is None:
        return []
    return list(RiskReport.from_json(registration.risk_reasons).reasons)


# --------------------------------------------------------------------------- the queue


@dataclass(frozen=True)
class QueueFilter:
    tier: str = ""
    category: str = ""
    strong_only: bool = False
    waiting_on_creator: bool = False
    mine_only: bool = False


@dataclass(frozen=True)
class QueueItem:
    registration: Registration
    strongest_band: str | None
    match_count: int


def queue(
    session: Session, examiner: User, filters: QueueFilter = QueueFilter()
) -> list[QueueItem]:
    """Filings awaiting examination, highest tier first, then oldest first."""
    query = (
        select(Registration, MatchReport.strongest_band, MatchReport.match_count)
        .options(selectinload(Registration.examiner))  # the queue shows who holds each
        .outerjoin(MatchReport, MatchReport.registration_id == Registration.id)
        .where(Registration.status.in_([s.value for s in OPEN]))
    )
    if filters.tier:
        query = query.where(Registration.risk_tier == filters.tier)
    if filters.category:
        query = query.where(Registration.work_category == filters.category)
    if filters.strong_only:
        query = query.where(MatchReport.strongest_band == "strong")
    if filters.waiting_on_creator:
        query = query.where(Registration.status == Status.CORRESPONDENCE.value)
    if filters.mine_only:
        query = query.where(Registration.examiner_id == examiner.id)
    rows = session.exec(query).all()
    items = [QueueItem(reg, band, count or 0) for reg, band, count in rows]
    items.sort(
        key=lambda i: (
            _TIER_RANK.get(i.registration.risk_tier or "", 3),
            i.registration.submitted_at or utcnow(),
            i.registration.id,
        )
    )
    return items


# --------------------------------------------------------------------------- examining


def _examinable(session: Session, uid: str, examiner: User) -> Registration:
    if not examiner.is_examiner:
        raise ExaminationError("Only examiners examine filings.")
    reg = session.exec(select(Registration).where(Registration.uid == uid)).first()
    if reg is None or reg.status == Status.DRAFT.value:
        raise LookupError(uid)
    if reg.owner_id == examiner.id:
        raise ExaminationError("You cannot examine your own filing.")
    return reg


def _write(session: Session, uid: str, examiner: User, step) -> Registration:
    """Run ``step(reg)`` on the filing inside one write transaction; commit."""
    with writing(session):
        reg = _examinable(session, uid, examiner)
        step(reg)
        reg.updated_at = utcnow()
        session.add(reg)
    return reg


def _change(
    session: Session, reg: Registration, target: Status, actor: User | None, kind: str, reason: str
) -> None:
    """Move the filing to ``target`` (if the lifecycle allows it) and record the event."""
    current = Status(reg.status)
    try:
        check_transition(current, target)
    except IllegalTransition:
        raise ExaminationError(
            f"A filing that is “{current.label}” cannot become “{target.label}”."
        ) from None
    reg.status = target.value
    record(session, reg, actor, kind, current, target, reason)


def claim(*, session: Session, uid: str, examiner: User) -> Registration:
    """Take the filing: it is the claiming examiner's until released or determined."""

    def step(reg: Registration) -> None:
        if reg.status not in _OPEN_VALUES:
            raise ExaminationError("This filing is not awaiting examination.")
        if reg.examiner_id == examiner.id:
            return
        if reg.examiner_id is not None:
            raise ExaminationError("Another examiner has claimed this filing.")
        if reg.status == Status.RECONSIDERATION.value:
            refused_by = {d.examiner_id for d in _determinations(session, reg)}
            others = {u.id for u in examiners(session)} - refused_by - {reg.owner_id}
            if examiner.id in refused_by and others:
                raise ExaminationError(
                    "You decided this filing before: a different examiner reconsiders it."
                )
        reg.examiner_id = examiner.id
        if reg.status == Status.SUBMITTED.value:
            _change(
                session,
                reg,
                Status.UNDER_EXAMINATION,
                examiner,
                "claimed",
                "Taken up for examination",
            )
            reg.fast_track_on = None  # an examiner took it
        else:
            record(session, reg, examiner, "claimed", None, None, "Taken up for examination")

    return _write(session, uid, examiner, step)


def release(*, session: Session, uid: str, examiner: User) -> Registration:
    """Give the filing back to the queue."""

    def step(reg: Registration) -> None:
        if reg.examiner_id != examiner.id:
            raise ExaminationError("You have not claimed this filing.")
        reg.examiner_id = None
        record(session, reg, examiner, "released", None, None, "Returned to the queue")

    return _write(session, uid, examiner, step)


def dispose(
    *, session: Session, uid: str, examiner: User, number: str, outcome: str, note: str
) -> Registration:
    """Record the examiner's disposition of one match, with a note."""
    try:
        disposition = Disposition(outcome)
    except ValueError:
        raise ExaminationError("Choose what to do with this match.") from None

    def step(reg: Registration) -> None:
        _require_claim(reg, examiner)
        if number not in matching.matched_numbers(session, reg):
            raise ExaminationError(f"{number} is not among this filing's matches.")
        if disposition is not Disposition.CLEARED and not note.strip():
            raise ExaminationError("Say in a note why, for the record.")
        session.add(
            MatchDisposition(
                registration_id=reg.id,
                match_number=number,
                outcome=disposition.value,
                note=note.strip(),
                examiner_id=examiner.id,
            )
        )
        record(
            session,
            reg,
            examiner,
            "match_disposed",
            None,
            None,
            f"{number}: {disposition.label}{' — ' + note.strip() if note.strip() else ''}",
        )

    return _write(session, uid, examiner, step)


def dispositions(session: Session, registration: Registration) -> dict[str, MatchDisposition]:
    """The current disposition of each match (the latest row wins; earlier ones stay)."""
    rows = session.exec(
        select(MatchDisposition)
        .where(MatchDisposition.registration_id == registration.id)
        .order_by(MatchDisposition.id)
    ).all()
    return {row.match_number: row for row in rows}


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
        _require_claim(reg, examiner)
        prior = prior_number.strip().upper()
        if reason is RefusalReason.PRIOR_WORK:
            if prior not in matching.matched_numbers(session, reg):
                raise ExaminationError(
                    "Name the earlier registration, one of this filing's matches."
                )
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
        _change(session, reg, target, examiner, "determined", what)
        reg.examiner_id = None
        reg.fast_track_on = None
        _notify_earlier_registrants(session, reg, target)

    return _write(session, uid, examiner, step)


def _determinations(session: Session, reg: Registration) -> list[Determination]:
    return list(
        session.exec(select(Determination).where(Determination.registration_id == reg.id)).all()
    )


def _notify_earlier_registrants(session: Session, reg: Registration, outcome: Status) -> None:
    """Tell each earlier registrant whose work this filing strongly matches (and whose match the
    examiner did not clear) which filing it is and what was decided."""
    cleared = {
        n for n, d in dispositions(session, reg).items() if d.outcome == Disposition.CLEARED.value
    }
    for m in matches_against(session, filing_ids=[reg.id], min_band=Band.STRONG):
        if m.earlier.number in cleared:
            continue
        session.add(
            Notification(
                user_id=m.earlier.owner_id,
                registration_id=reg.id,
                message=f"{reg.number} (“{reg.title}”) strongly matches your registration "
                f"{m.earlier.number}. It has been determined: {outcome.label.lower()}.",
            )
        )


def latest_determination(session: Session, registration: Registration) -> Determination | None:
    return session.exec(
        select(Determination)
        .where(Determination.registration_id == registration.id)
        .order_by(Determination.id.desc())
    ).first()


def _require_claim(reg: Registration, examiner: User) -> None:
    if reg.examiner_id != examiner.id:
        raise ExaminationError("Claim this filing first.")


# --------------------------------------------------------------------------- correspondence

#: Days a creator has to answer a request for information, unless the examiner says otherwise.
DEFAULT_DEADLINE_DAYS = 45
#: Reconsiderations a creator may ask for after a refusal: the first, then the second and final.
MAX_RECONSIDERATIONS = 2


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
        _require_claim(reg, examiner)
        _change(
            session,
            reg,
            Status.CORRESPONDENCE,
            examiner,
            "information_requested",
            f"Information requested; answer by {deadline.isoformat()}",
        )
        session.add(
            Letter(
                registration_id=reg.id,
                author_id=examiner.id,
                kind="request",
                body=question.strip(),
                deadline=deadline,
            )
        )

    return _write(session, uid, examiner, step)


def reply(*, session: Session, uid: str, creator: User, body: str) -> Registration:
    """The creator answers the examiner; the filing goes back to its examiner."""
    if not body.strip():
        raise ExaminationError("Write your answer.")
    with writing(session):
        reg = _own_filing(session, uid, creator)
        if reg.status != Status.CORRESPONDENCE.value:
            raise ExaminationError("The examiner is not waiting for an answer on this filing.")
        _change(session, reg, Status.UNDER_EXAMINATION, creator, "replied", "The creator answered")
        session.add(
            Letter(registration_id=reg.id, author_id=creator.id, kind="reply", body=body.strip())
        )
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
        request = _latest_letter(session, reg, "request")
        if request is None or request.deadline is None or request.deadline >= today:
            continue
        with writing(session):
            fresh = session.get(Registration, reg.id)
            if fresh.status != Status.CORRESPONDENCE.value:  # answered meanwhile
                continue
            _change(
                session,
                fresh,
                Status.CLOSED_NO_RESPONSE,
                None,
                "closed_no_response",
                f"No answer by {request.deadline.isoformat()}",
            )
        closed.append(fresh.number)
    return closed


def reopen(*, session: Session, uid: str, examiner: User) -> Registration:
    """Reopen a filing closed for no response; it returns to examination, claimed by the
    examiner who reopens it."""

    def step(reg: Registration) -> None:
        if reg.status != Status.CLOSED_NO_RESPONSE.value:
            raise ExaminationError("Only a filing closed for no response can be reopened.")
        _change(session, reg, Status.UNDER_EXAMINATION, examiner, "reopened", "Reopened")
        reg.examiner_id = examiner.id

    return _write(session, uid, examiner, step)


def letters(session: Session, registration: Registration) -> list[Letter]:
    return list(
        session.exec(
            select(Letter).where(Letter.registration_id == registration.id).order_by(Letter.id)
        ).all()
    )


def _latest_letter(session: Session, reg: Registration, kind: str) -> Letter | None:
    return session.exec(
        select(Letter)
        .where(Letter.registration_id == reg.id, Letter.kind == kind)
        .order_by(Letter.id.desc())
    ).first()


def _own_filing(session: Session, uid: str, creator: User) -> Registration:
    reg = session.exec(
        select(Registration).where(Registration.uid == uid, Registration.owner_id == creator.id)
    ).first()
    if reg is None or reg.status == Status.DRAFT.value:
        raise LookupError(uid)
    return reg


# --------------------------------------------------------------------------- after a decision


def request_reconsideration(
    *, session: Session, uid: str, creator: User, argument: str
) -> Registration:
    """After a refusal the creator asks for it to be reviewed, with their argument: the first
    time, then a second and final time. The filing returns to the queue."""
    if not argument.strip():
        raise ExaminationError("Say why the refusal should be reconsidered.")
    with writing(session):
        reg = _own_filing(session, uid, creator)
        if reg.status != Status.REFUSED.value:
            raise ExaminationError("Only a refused filing can be reconsidered.")
        earlier = reconsiderations(session, reg)
        if earlier >= MAX_RECONSIDERATIONS:
            raise ExaminationError(
                "The second reconsideration was final: this refusal cannot be reconsidered again."
            )
        which = "First" if earlier == 0 else "Second and final"
        _change(
            session,
            reg,
            Status.RECONSIDERATION,
            creator,
            "reconsideration_requested",
            f"{which} reconsideration requested",
        )
        reg.examiner_id = None
        session.add(
            Letter(
                registration_id=reg.id,
                author_id=creator.id,
                kind="reconsideration",
                body=argument.strip(),
            )
        )
        reg.updated_at = utcnow()
    return reg


def reconsiderations(session: Session, registration: Registration) -> int:
    """How many reconsiderations the creator has asked for."""
    return len([x for x in letters(session, registration) if x.kind == "reconsideration"])


def cancel(*, session: Session, uid: str, examiner: User, reason: str) -> Registration:
    """Cancel a registration (e.g. it rests on incorrect or incomplete disclosure)."""
    if not reason.strip():
        raise ExaminationError("Give the reason for the cancellation.")

    def step(reg: Registration) -> None:
        _change(session, reg, Status.CANCELLED, examiner, "cancelled", reason.strip())

    return _write(session, uid, examiner, step)


def notifications(session: Session, user: User) -> list[Notification]:
    return list(
        session.exec(
            select(Notification)
            .where(Notification.user_id == user.id)
            .order_by(Notification.id.desc())
        ).all()
    )


def fast_track_due(*, session: Session, today: date | None = None) -> list[str]:
    """Register every fast-tracked filing whose waiting period is over and that no examiner took
    (run it daily); return their numbers."""
    today = today or utcnow().date()
    due = session.exec(
        select(Registration).where(
            Registration.status == Status.SUBMITTED.value,
            Registration.route == RouteKind.FAST_TRACK.value,
            Registration.fast_track_on.is_not(None),
            Registration.fast_track_on <= today,
            Registration.examiner_id.is_(None),
        )
    ).all()
    done = []
    for reg in due:
        with writing(session):
            fresh = session.get(Registration, reg.id)
            if fresh.status != Status.SUBMITTED.value or fresh.examiner_id is not None:
                continue
            _change(
                session,
                fresh,
                Status.REGISTERED,
                None,
                "determined",
                "Registered on the fast track",
            )
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
        done.append(fresh.number)
    return done


def examiners(session: Session) -> list[User]:
    """Active staff who can examine."""
    return list(
        session.exec(
            select(User).where(User.role.in_(_STAFF_ROLES), User.active).order_by(User.display_name)
        ).all()
    )


def assign(*, session: Session, uid: str, admin: User, examiner_id: int) -> Registration:
    """An administrator hands a filing to an examiner (who is then its only examiner)."""
    if admin.role != "admin":
        raise ExaminationError("Only an administrator assigns filings.")

    def step(reg: Registration) -> None:
        if reg.status not in _OPEN_VALUES:
            raise ExaminationError("This filing is not awaiting examination.")
        target = session.get(User, examiner_id)
        if target is None or not target.is_examiner or not target.active:
            raise ExaminationError("Choose an examiner.")
        if target.id == reg.owner_id:
            raise ExaminationError("Nobody examines their own filing.")
        reg.examiner_id = target.id
        what = f"Assigned to {target.display_name}"
        if reg.status == Status.SUBMITTED.value:
            _change(session, reg, Status.UNDER_EXAMINATION, admin, "assigned", what)
            reg.fast_track_on = None
        else:
            record(session, reg, admin, "assigned", None, None, what)

    return _write(session, uid, admin, step)
