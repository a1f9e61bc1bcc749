"""The examiners' queue: filings awaiting examination, highest risk first, then oldest first,
filtered, ranked and paged by the database (a page never loads more than its own rows)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import ColumnElement, case, func
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, select

from ..domain.permissions import OPEN
from ..domain.risk import Tier
from ..domain.statuses import Status
from ..models import MatchReport, Registration, User

#: Filings on one page of the queue, unless the caller asks for another size.
PAGE_SIZE = 50

#: The risk tiers' order in the queue; a filing not triaged yet comes after every tier.
_TIER_RANK = case(
    (col(Registration.risk_tier) == Tier.HIGH.value, 0),
    (col(Registration.risk_tier) == Tier.ELEVATED.value, 1),
    (col(Registration.risk_tier) == Tier.LOW.value, 2),
    else_=3,
)


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


@dataclass(frozen=True)
class QueuePage:
    """One page of the queue; iterating it gives its items."""

    items: list[QueueItem]
    total: int  # filings matching the filters, on every page
    page: int  # from 1
    per_page: int

    def __iter__(self) -> Iterator[QueueItem]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page * self.per_page < self.total


def queue(
    session: Session,
    examiner: User,
    filters: QueueFilter = QueueFilter(),
    *,
    page: int = 1,
    per_page: int | None = None,
) -> QueuePage:
    """Page ``page`` of the filings awaiting examination, highest tier first, then oldest."""
    page = max(1, page)
    per_page = max(1, per_page or PAGE_SIZE)
    where: list[ColumnElement[bool]] = [col(Registration.status).in_([s.value for s in OPEN])]
    if filters.tier:
        where.append(col(Registration.risk_tier) == filters.tier)
    if filters.category:
        where.append(col(Registration.work_category) == filters.category)
    if filters.strong_only:
        where.append(col(MatchReport.strongest_band) == "strong")
    if filters.waiting_on_creator:
        where.append(col(Registration.status) == Status.CORRESPONDENCE.value)
    if filters.mine_only:
        where.append(col(Registration.examiner_id) == examiner.id)
    joined = col(MatchReport.registration_id) == Registration.id
    total = session.exec(
        select(func.count(col(Registration.id))).outerjoin(MatchReport, joined).where(*where)
    ).one()
    rows = session.exec(
        select(Registration, MatchReport.strongest_band, MatchReport.match_count)
        .options(selectinload(Registration.examiner))  # type: ignore[arg-type]  # SQLModel types the relationship as its value; the queue shows who holds each
        .outerjoin(MatchReport, joined)
        .where(*where)
        .order_by(
            _TIER_RANK,
            col(Registration.submitted_at).is_(None),  # never for a submitted filing; last if so
            col(Registration.submitted_at),
            col(Registration.id),
        )
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    items = [QueueItem(reg, band, count or 0) for reg, band, count in rows]
    return QueuePage(items=items, total=total, page=page, per_page=per_page)
