"""The catalog search's trigram index (migration 0006): it stays in step with every change to
titles, claimants, numbers and alternative titles, is filled for works filed before it existed,
and is what the search uses (SQLite's FTS5 table; PostgreSQL's pg_trgm indexes)."""

from __future__ import annotations

import sqlite3

from sqlalchemy import text
from sqlmodel import delete, select

from registry.db import downgrade, upgrade
from registry.models import AlternativeTitle
from registry.services import intake, lookup
from tests.factories import declaration, make_user, save_draft, submit_work, text_declaration


def _found(session, query: str) -> set[str]:
    session.expire_all()
    return {reg.title for reg in lookup.search(session=session, query=query, page_size=100).items}


def _file(session, store, owner, title: str, **overrides):
    deposit = intake.DepositUpload(pasted_text=f"{title}: a text of its own, filed for search.")
    return submit_work(session, store, owner, text_declaration(title=title, **overrides), deposit)


def test_the_index_follows_every_change(session, store):
    owner = make_user(session)
    reg = _file(session, store, owner, "Harbour at Dawn", claimant_name="Lin Wei")
    other = _file(session, store, owner, "Tide Tables", alternative_titles=("Marées",))
    assert _found(session, "harbour") == {"Harbour at Dawn"}
    assert _found(session, "ARBOU") == {"Harbour at Dawn"}  # inside a word, any case
    assert _found(session, "wei") == {"Harbour at Dawn"}
    assert _found(session, reg.number[-6:]) == {"Harbour at Dawn"}
    assert _found(session, "marées") == {"Tide Tables"}

    reg.title, reg.claimant_name = "Quay at Dusk", "Maria Santos"
    session.add(reg)
    session.commit()
    assert _found(session, "harbour") == set() and _found(session, "wei") == set()
    assert _found(session, "quay dusk santos") == {"Quay at Dusk"}

    session.add(AlternativeTitle(registration_id=reg.id, position=0, title="Kai im Zwielicht"))
    session.commit()
    assert _found(session, "zwielicht") == {"Quay at Dusk"}
    alternative = session.exec(
        select(AlternativeTitle).where(AlternativeTitle.title == "Kai im Zwielicht")
    ).one()
    alternative.title = "Kai am Abend"
    session.add(alternative)
    session.commit()
    assert _found(session, "zwielicht") == set() and _found(session, "abend") == {"Quay at Dusk"}
    session.exec(delete(AlternativeTitle).where(AlternativeTitle.registration_id == other.id))
    session.commit()
    assert _found(session, "marées") == set()


def test_sqlite_index_rows_go_with_their_registration(engine, session, store):
    """Filings are never deleted, but a row removed by hand leaves no index row behind."""
    if engine.dialect.name != "sqlite":
        return  # PostgreSQL's indexes are plain indexes: nothing to keep in step
    owner = make_user(session)
    keep = _file(session, store, owner, "Tide Tables").id
    gone = _file(session, store, owner, "Quay at Dusk").id
    session.close()
    conn = sqlite3.connect(engine.url.database)  # foreign keys off, as sqlite3 starts
    try:
        with conn:
            conn.execute("DELETE FROM alternative_title WHERE registration_id = ?", (gone,))
            conn.execute("DELETE FROM registration WHERE id = ?", (gone,))
        rows = conn.execute("SELECT rowid FROM catalog_search").fetchall()
    finally:
        conn.close()
    assert [r[0] for r in rows] == [keep]


def test_drafts_get_into_the_index_and_out_of_the_catalog(session, store):
    owner = make_user(session)
    save_draft(session, store, owner, declaration(title="Unfinished Lantern"))
    assert _found(session, "lantern") == set()


def test_short_words_and_odd_characters_still_match(session, store):
    owner = make_user(session)
    _file(session, store, owner, "黎明的港口 No. 5", alternative_titles=('The "Quoted" One',))
    _file(session, store, owner, "Tide Tables")
    assert _found(session, "黎明") == {"黎明的港口 No. 5"}  # two characters: scanned
    assert _found(session, "5") == {"黎明的港口 No. 5"}
    assert _found(session, '"quoted"') == {"黎明的港口 No. 5"}
    assert _found(session, 'quoted" OR "tide') == set()  # not FTS query syntax
    assert _found(session, "100%") == set() and _found(session, "_") == set()


def test_works_filed_before_the_index_are_found_after_it_is_made(engine, session, store):
    owner = make_user(session)
    _file(session, store, owner, "Harbour at Dawn", alternative_titles=("Port à l'aube",))
    session.close()
    downgrade(engine, "0005")
    upgrade(engine)
    assert _found(session, "aube") == {"Harbour at Dawn"}
    assert _found(session, "harbour") == {"Harbour at Dawn"}


def test_the_search_uses_the_index(engine, session, store):
    owner = make_user(session)
    _file(session, store, owner, "Harbour at Dawn")
    statement = lookup.search_statement("harbour", engine.dialect.name)
    compiled = statement.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            plan = " ".join(
                str(row[-1]) for row in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
            )
            assert "VIRTUAL TABLE INDEX" in plan and "SCAN registration" not in plan, plan
        else:
            conn.execute(text("SET enable_seqscan = off"))  # a few rows: make the planner show
            plan = " ".join(row[0] for row in conn.execute(text(f"EXPLAIN {compiled}")))
            assert "ix_registration_title_trgm" in plan, plan
            assert "ix_alternative_title_title_trgm" in plan, plan
