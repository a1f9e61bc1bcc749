"""The match table: one row per match of every filing's report (``models.FilingMatch``, written
by ``matching.check`` in the report's transaction), so "which filings match these works" is one
query instead of reading every report."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from ..domain.statuses import Status
from ..domain.vocabulary import Disposition
from ..models import FilingMatch, MatchDisposition, Registration, User
from ..similarity import Band


@dataclass(frozen=True)
class MatchAgainst:
    """A filing whose originality check matched an earlier registration."""

    filing: Registration  # whose report found the match
    earlier: Registration  # the registration it matches
    band: Band
    score: float
    signals: tuple[str, ...]  # the names of the signals that fired
    found_at: datetime


def matches_against(
    session: Session,
    *,
    registration_ids: Iterable[int] | None = None,
    owner: User | None = None,
    filing_ids: Iterable[int] | None = None,
    min_band: Band = Band.REVIEW,
    others_only: bool = True,
) -> list[MatchAgainst]:
    """The matches against the registrations ``registration_ids`` and/or those of ``owner``
    (and/or found by the filings ``filing_ids``), at least as strong as ``min_band``: only
    filings made after the work they match, by someone else unless ``others_only`` is False.
    Strongest first, then newest."""
    filing = aliased(Registration)
    earlier = aliased(Registration)
    bands = [b.value for b in Band if b.rank >= min_band.rank]
    query = (
        select(FilingMatch, filing, earlier)
        .join(filing, col(filing.id) == FilingMatch.filing_id)
        .join(earlier, col(earlier.id) == FilingMatch.earlier_id)
        .where(col(FilingMatch.band).in_(bands), FilingMatch.earlier_first)
    )
    if registration_ids is not None:
        query = query.where(col(FilingMatch.earlier_id).in_(list(registration_ids)))
    if owner is not None:
        query = query.where(earlier.owner_id == owner.id)
    if filing_ids is not None:
        query = query.where(col(FilingMatch.filing_id).in_(list(filing_ids)))
    if others_only:
        query = query.where(filing.owner_id != earlier.owner_id)
    strength = case({b.value: b.rank for b in Band}, value=FilingMatch.band, else_=0)
    rows = session.exec(
        query.order_by(strength.desc(), col(FilingMatch.score).desc(), col(FilingMatch.id).desc())
    ).all()
    return [
        MatchAgainst(f, e, Band(row.band), row.score, tuple(row.signals), row.created_at)
        for row, f, e in rows
    ]


#: A later filing that has been decided: its examiner has seen (and disposed of) its matches.
DECIDED = (
    Status.REGISTERED.value,
    Status.REGISTERED_WITH_LIMITATION.value,
    Status.REFUSED.value,
    Status.CANCELLED.value,
)


def reported_to_earlier_owner(
    session: Session,
    *,
    registration_ids: Iterable[int] | None = None,
    filing_ids: Iterable[int] | None = None,
    decided_only: bool = True,
) -> list[MatchAgainst]:
    """What an earlier work's owner is told about later filings by others that match it: strong
    matches the later filing's examiner did not clear, once that filing is decided
    (``decided_only``; the determination that decides it passes False). The notice sent at the
    determination and the section on the earlier work's page are both this list: a match still
    under examination, one only "for review", or one the examiner cleared is the later filer's
    business, not the earlier owner's."""
    found = matches_against(
        session,
        registration_ids=registration_ids,
        filing_ids=filing_ids,
        min_band=Band.STRONG,
    )
    if decided_only:
        found = [m for m in found if m.filing.status in DECIDED]
    if not found:
        return []
    current = current_dispositions(session, [m.filing.id for m in found if m.filing.id])
    return [
        m
        for m in found
        if (d := current.get((m.filing.id or 0, m.earlier.number or ""))) is None
        or d.outcome != Disposition.CLEARED.value
    ]


def current_dispositions(
    session: Session, filing_ids: Iterable[int]
) -> dict[tuple[int, str], MatchDisposition]:
    """The current disposition of each match of the filings ``filing_ids``, by (filing id,
    earlier number): the latest row wins; earlier ones stay on the record."""
    rows = session.exec(
        select(MatchDisposition)
        .where(col(MatchDisposition.registration_id).in_(list(filing_ids)))
        .order_by(col(MatchDisposition.id))
    ).all()
    return {(row.registration_id, row.match_number): row for row in rows}
