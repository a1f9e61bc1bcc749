"""The database engine, per-request sessions, write transactions and migrations.

SQLite is the embedded default and must take concurrent filings without "database is locked":
WAL lets readers run beside one writer, a busy timeout makes writers wait for each other, and a
write transaction starts with ``BEGIN IMMEDIATE`` so it takes the write lock up front instead of
upgrading a read snapshot later (an upgrade that SQLite refuses at once, whatever the timeout).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlmodel import Session

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_WRITE = "registry_write"
BUSY_TIMEOUT_SECONDS = 30


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Return an engine for ``url`` with the registry's connection settings applied."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            **kwargs,
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = "IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


def new_session(engine: Engine) -> Session:
    """A session whose objects stay readable after commit (views render them afterwards)."""
    return Session(engine, expire_on_commit=False)


def begin_write(session: Session) -> None:
    """Start a write transaction on ``session``; services call this before their first write.

    A read transaction already open (the signed-in user was loaded, say) holds no changes, so it
    is ended first: on SQLite the new one begins IMMEDIATE and queues for the write lock. Raises
    RuntimeError when the session holds unflushed changes, which would otherwise be lost.
    """
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("begin_write called with pending changes in the session")
        session.commit()
    session.connection(execution_options={_WRITE: True})


@contextmanager
def writing(session: Session) -> Iterator[Session]:
    """One write transaction: begun with ``begin_write``, committed when the block ends,
    rolled back if it raises."""
    begin_write(session)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


# The catalog search's index (migration 0006) is not in the models: SQLite's FTS5 table
# ``catalog_search`` with the shadow tables FTS5 keeps beside it, PostgreSQL's trigram indexes.
SEARCH_INDEX_TABLE = "catalog_search"


def outside_models(name: str | None) -> bool:
    """True for a table or index the migrations make that no model describes."""
    return bool(name) and (name.startswith(SEARCH_INDEX_TABLE) or name.endswith("_trgm"))


def include_object(
    _obj: Any, name: str | None, _type: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic's filter when comparing the database with the models: skip what
    ``outside_models`` names."""
    return not (reflected and compare_to is None and outside_models(name))


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the Alembic migrations up to ``revision`` (the schema's only source)."""
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for a database never migrated."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """The newest revision in ``migrations/versions``."""
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(cfg).get_current_head()
