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
    assert head == "0009" and current_revision(engine) == head
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


def test_0009_marks_where_every_size_must_have_a_head(app, engine, session, store):
    """A log begun before every append signed its head keeps verifying: the migration records
    that only sizes after the log's present size must each have one."""
    from sqlalchemy import text

    from registry.models import LogState
    from registry.services import transparency
    from tests.factories import make_user, submit_text

    owner = make_user(session)
    for i in range(3):
        submit_text(session, store, owner, f"Poem {i}.\n")
    session.execute(text("DELETE FROM tree_head WHERE tree_size < 3"))  # signed lazily back then
    session.commit()
    session.close()
    downgrade(engine, "0008")
    upgrade(engine)
    assert session.get(LogState, 1, populate_existing=True).signed_from == 4
    log = app.extensions["registry"].log
    audit = transparency.verify(session, log.public_key)
    assert audit.ok, audit.problems
    submit_text(session, store, owner, "Filed after the upgrade.\n")
    assert transparency.verify(session, log.public_key).ok
    session.execute(text("DELETE FROM tree_head WHERE tree_size = 4"))
    session.commit()
    assert not transparency.verify(session, log.public_key).ok
