"""Public lookup: a registration by number and the catalog search. Drafts never appear."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import CompoundSelect, Select, func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from ..db import SEARCH_INDEX_TABLE
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


# The catalog search's FTS5 table on SQLite: a row per registration, its rowid the id.
_SEARCH_INDEX = sa.table(SEARCH_INDEX_TABLE, sa.column("rowid"))

_NEWEST_FIRST = (col(Registration.submitted_at).desc(), col(Registration.id).desc())

# Every status but draft is public.
_PUBLIC = col(Registration.status) != Status.DRAFT.value


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


def _containing(word: str, dialect: str) -> Select[int | None] | CompoundSelect[int | None]:
    """The ids of the registrations with ``word`` inside their title, an alternative title,
    the claimant's name or the number (case-insensitive), or whose number it spells.

    A word of three characters or more is looked up in the trigram index (migration 0006):
    SQLite's FTS5 table, or PostgreSQL's pg_trgm indexes behind ILIKE. Shorter words scan."""
    parsed = parse_number(word)
    exact = (
        [sa.select(col(Registration.id)).where(col(Registration.number) == str(parsed))]
        if parsed
        else []
    )
    if dialect == "sqlite" and len(word) >= 3:
        phrase = '"' + word.replace('"', '""') + '"'  # FTS5 phrase: the word as a substring
        found = sa.select(_SEARCH_INDEX.c.rowid).where(
            sa.literal_column(SEARCH_INDEX_TABLE).op("MATCH")(phrase)
        )
        return sa.union(found, *exact) if exact else found
    pattern = _like(word)
    return sa.union(
        sa.select(col(Registration.id)).where(col(Registration.title).ilike(pattern, escape="\\")),
        sa.select(col(Registration.id)).where(
            col(Registration.claimant_name).ilike(pattern, escape="\\")
        ),
        sa.select(col(Registration.id)).where(col(Registration.number).ilike(pattern, escape="\\")),
        sa.select(col(AlternativeTitle.registration_id)).where(
            col(AlternativeTitle.title).ilike(pattern, escape="\\")
        ),
        *exact,
    )


def _conditions(query: str, dialect: str) -> list[ColumnElement[bool]]:
    query = query.replace("\x00", " ")  # no database stores NUL in text; it matches nothing
    conditions = [_PUBLIC]
    for word in query.split()[:10]:
        conditions.append(col(Registration.id).in_(_containing(word, dialect)))
    return conditions


def search_statement(query: str, dialect: str) -> Select[int | None]:
    """The catalog search for ``query`` on a ``dialect`` database: the ids of the public
    registrations with every word (up to ten) in one of their fields, newest first."""
    return _newest_ids(_conditions(query, dialect))


def _newest_ids(conditions: list[ColumnElement[bool]]) -> Select[int | None]:
    return sa.select(col(Registration.id)).where(*conditions).order_by(*_NEWEST_FIRST)


def search(*, session: Session, query: str, page: int = 1, page_size: int = 20) -> Page:
    """Public registrations whose title, alternative title, claimant or number matches ``query``.

    Every word of the query must match one of those fields (case-insensitive). An empty query
    lists the whole catalog, newest first. ``page`` counts from 1; a page past the end is empty.
    """
    page = max(1, page)
    dialect = session.get_bind().dialect.name
    where = _conditions(query, dialect)
    total = session.exec(select(func.count()).select_from(Registration).where(*where)).one()
    # The page's ids first, then their rows: sorting whole rows of every match costs more.
    ids = _newest_ids(where).offset((page - 1) * page_size).limit(page_size)
    items = session.exec(
        select(Registration).where(col(Registration.id).in_(ids)).order_by(*_NEWEST_FIRST)
    ).all()
    return Page(list(items), total, page, page_size)
