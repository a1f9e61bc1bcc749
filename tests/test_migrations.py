"""The schema comes only from the migrations, and they match the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from registry.db import current_revision, downgrade, head_revision, include_object, upgrade


def test_migrations_match_the_models(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_downgrade_and_upgrade_again(engine):
    head = head_revision()
    assert head == "0008" and current_revision(engine) == head
    downgrade(engine, "0001")
    assert current_revision(engine) == "0001"
    downgrade(engine, "base")
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head


def test_existing_accounts_get_session_version_0_and_it_can_be_dropped_again(engine):
    from sqlalchemy import text

    downgrade(engine, "0006")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO user_account (email, display_name, password_hash, role, active, "
                "created_at) VALUES ('old@example.org', 'Old', 'x', 'creator', true, "
                "CURRENT_TIMESTAMP)"
            )
        )
    upgrade(engine)
    with engine.connect() as conn:
        versions = conn.execute(text("SELECT email, session_version FROM user_account")).all()
    assert [tuple(row) for row in versions] == [("old@example.org", 0)]
    downgrade(engine, "0006")  # with the row there
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM user_account")).scalar_one() == 1
    upgrade(engine)
