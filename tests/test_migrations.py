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
    assert head == "0006" and current_revision(engine) == head
    downgrade(engine, "0001")
    assert current_revision(engine) == "0001"
    downgrade(engine, "base")
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head
