"""Public lookup: a registration by number and the catalog search. Drafts never appear."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_
from sqlmodel import Session, select

from ..domain.numbering import parse_number
from ..domain.statuses import Status
from ..models import AlternativeTitle, Registration


@dataclass(frozen=True)
class Page:
    items: list[Registration]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


# Every status but draft is public.
_PUBLIC = Registration.status != Status.DRAFT.value


def by_number(*, session: Session, number: str) -> Registration | None:
    """The public registration with ``number`` (any spelling ``parse_number`` accepts), or None."""
    parsed = parse_number(number)
    if parsed is None:
        return None
    return session.exec(
        select(Registration).where(Registration.number == str(parsed), _PUBLIC)
    ).first()


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(*, session: Session, query: str, page: int = 1, page_size: int = 20) -> Page:
    """Public registrations whose title, alternative title, claimant or number matches ``query``.

    Every word of the query must match one of those fields (case-insensitive). An empty query
    lists the whole catalog, newest first. ``page`` counts from 1; a page past the end is empty.
    """
    page = max(1, page)
    query = query.replace("\x00", " ")  # no database stores NUL in text; it matches nothing
    conditions = [_PUBLIC]
    for word in query.split()[:10]:
        pattern = _like(word)
        alt = select(AlternativeTitle.registration_id).where(
            AlternativeTitle.title.ilike(pattern, escape="\\")  # type: ignore[attr-defined]
        )
        clauses = [
            Registration.title.ilike(pattern, escape="\\"),  # type: ignore[attr-defined]
            Registration.claimant_name.ilike(pattern, escape="\\"),  # type: ignore[attr-defined]
            Registration.number.ilike(pattern, escape="\\"),  # type: ignore[union-attr]
            Registration.id.in_(alt),  # type: ignore[union-attr]
        ]
        parsed = parse_number(word)
        if parsed is not None:
            clauses.append(Registration.number == str(parsed))
        conditions.append(or_(*clauses))
    total = session.exec(select(func.count()).select_from(Registration).where(*conditions)).one()
    items = session.exec(
        select(Registration)
        .where(*conditions)
        .order_by(Registration.submitted_at.desc(), Registration.id.desc())  # type: ignore[union-attr]
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return Page(list(items), total, page, page_size)
