"""catalog search index

The catalog search matches every word of a query anywhere inside titles, alternative titles,
claimants and numbers. Without an index that is a scan of the whole catalog per search; this
indexes the words' trigrams. PostgreSQL: pg_trgm GIN indexes, which serve ILIKE '%word%' as it
is. SQLite: an FTS5 table with the trigram tokenizer, one row per registration (rowid = its
id), kept in step with the tables by triggers.

SQLite drops a table's triggers with the table: a later migration that rebuilds
``registration`` or ``alternative_title`` (batch mode) must create these triggers again.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 09:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGRAM_INDEXES = (
    ("ix_registration_title_trgm", "registration", "title"),
    ("ix_registration_claimant_name_trgm", "registration", "claimant_name"),
    ("ix_registration_number_trgm", "registration", "number"),
    ("ix_alternative_title_title_trgm", "alternative_title", "title"),
)

ALTERNATIVES = (
    "(SELECT coalesce(group_concat(title, char(10)), '') FROM alternative_title "
    "WHERE registration_id = {id})"
)

SQLITE_TRIGGERS = {
    "catalog_search_registration_insert": """
        AFTER INSERT ON registration BEGIN
            INSERT INTO catalog_search (rowid, title, claimant_name, number, alternative_titles)
            VALUES (new.id, new.title, new.claimant_name, coalesce(new.number, ''), '');
        END""",
    "catalog_search_registration_update": """
        AFTER UPDATE OF title, claimant_name, number ON registration BEGIN
            UPDATE catalog_search SET title = new.title, claimant_name = new.claimant_name,
                number = coalesce(new.number, '') WHERE rowid = new.id;
        END""",
    "catalog_search_registration_delete": """
        AFTER DELETE ON registration BEGIN
            DELETE FROM catalog_search WHERE rowid = old.id;
        END""",
    "catalog_search_alternative_insert": f"""
        AFTER INSERT ON alternative_title BEGIN
            UPDATE catalog_search SET alternative_titles = {ALTERNATIVES.format(id="new.registration_id")}
            WHERE rowid = new.registration_id;
        END""",
    "catalog_search_alternative_update": f"""
        AFTER UPDATE ON alternative_title BEGIN
            UPDATE catalog_search SET alternative_titles = {ALTERNATIVES.format(id="old.registration_id")}
            WHERE rowid = old.registration_id;
            UPDATE catalog_search SET alternative_titles = {ALTERNATIVES.format(id="new.registration_id")}
            WHERE rowid = new.registration_id;
        END""",
    "catalog_search_alternative_delete": f"""
        AFTER DELETE ON alternative_title BEGIN
            UPDATE catalog_search SET alternative_titles = {ALTERNATIVES.format(id="old.registration_id")}
            WHERE rowid = old.registration_id;
        END""",
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, table, column in TRIGRAM_INDEXES:
            op.execute(f"CREATE INDEX {name} ON {table} USING gin ({column} gin_trgm_ops)")
        return
    op.execute(
        "CREATE VIRTUAL TABLE catalog_search USING fts5("
        "title, claimant_name, number, alternative_titles, tokenize = 'trigram')"
    )
    for name, body in SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")
    op.execute(
        "INSERT INTO catalog_search (rowid, title, claimant_name, number, alternative_titles) "
        "SELECT r.id, r.title, r.claimant_name, coalesce(r.number, ''), "
        f"{ALTERNATIVES.format(id='r.id')} FROM registration AS r"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, _table, _column in TRIGRAM_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
        return
    for name in SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS catalog_search")
