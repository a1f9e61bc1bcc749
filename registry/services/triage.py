"""Graded triage: once a filing's originality check has stored its report, the domain's risk
rules turn the report and the declaration into a tier with reasons, the routing policy into a
route, and both are recorded on the filing with an event."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session, col, select

from ..db import writing
from ..domain.events import EventKind
from ..domain.risk import (
    Assessment,
    Evidence,
    MatchEvidence,
    Reason,
    RiskReport,
    RouteKind,
    RoutingPolicy,
    assess,
)
from ..models import Registration, utcnow
from . import matching, provenance
from . import status as lifecycle


def evidence_for(session: Session, registration: Registration) -> Evidence:
    """What triage weighs: the filing's match report and its declaration."""
    report = matching.get_report(session, registration)
    found = matching.report_matches(report) if report else []
    owners = dict(
        session.exec(
            select(Registration.number, Registration.owner_id).where(
                col(Registration.number).in_([m.number for m in found])
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
        digital_source_type=registration.digital_source_type or "",  # "" as None: not scored
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
        assert reg is not None, "registrations are never deleted"
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
        lifecycle.note(
            session,
            reg,
            None,
            EventKind.TRIAGED,
            f"{assessment.tier.label} ({assessment.points} points); route: {route.describe()}",
        )
    return assessment


def reasons_of(registration: Registration) -> list[Reason]:
    """The reasons recorded at triage (codes and values), strongest first; none before it."""
    if registration.risk_reasons is None:
        return []
    return list(RiskReport.from_json(registration.risk_reasons).reasons)
