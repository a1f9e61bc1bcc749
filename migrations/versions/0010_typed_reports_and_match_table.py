"""typed reports and the match table

The match report, the provenance report and the triage reasons become JSON columns (JSONB on
PostgreSQL) holding versioned layouts that their packages read and write
(registry.similarity.Report, registry.provenance.Report, registry.domain.risk.RiskReport):

- a match report gets ``schema_version`` 2 and loses the passages' text (the earlier work's text
  was stored in the later filing's report; pages now read it from the deposits, for those who
  may see it): offsets and region boxes stay;
- a provenance report gets ``schema_version`` 2 and loses the verdict's label in words;
- triage reasons (a list of sentences) become ``{"schema_version": 2, "reasons": [...]}``, each
  old sentence kept as a ``recorded_text`` reason; a filing not triaged has NULL, not ''.

``filing_match`` holds one row per match of every report, backfilled here from the reports.

This file converts with its own copy of the layouts (a migration must not change when the
packages do).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 15:00:00
"""

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
#: A nullable one: Python's None is SQL NULL, not JSON null.
JSON_OR_NULL = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)

#: The provenance verdicts' labels, as layout 1 stored them (for the downgrade).
_VERDICT_LABELS = {
    "confirmed": "AI label confirmed by the file",
    "declared": "AI use declared by the creator",
    "suspected": "AI use suspected from the file",
    "none_found": "No AI label found",
    "conflicting": "The file contradicts the declaration",
}


def _match_report_v2(body: dict) -> dict:
    if body.get("schema_version", 1) != 1:
        return body
    for match in body.get("matches", []):
        for passage in match.get("passages") or []:
            passage.pop("new_text", None)
            passage.pop("earlier_text", None)
    return {"schema_version": 2, **body}


def _provenance_v2(body: dict) -> dict:
    if body.get("schema_version", 1) != 1:
        return body
    body.get("judgement", {}).pop("label", None)
    return {"schema_version": 2, **body}


def _reasons_v2(text: str) -> dict:
    old = json.loads(text)
    if isinstance(old, dict):
        return old
    return {
        "schema_version": 2,
        "reasons": [
            {"code": "recorded_text", "points": 0, "values": {"text": str(t)}} for t in old
        ],
    }


def _rewrite(table: str, column: str, convert) -> None:  # type: ignore[no-untyped-def]
    """Rewrite the non-empty text ``column`` of every row of ``table`` with ``convert`` (text
    in, JSON data out)."""
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(f"SELECT id, {column} FROM {table} WHERE {column} NOT IN ('', 'null')")
    ).all()
    for row_id, value in rows:
        conn.execute(
            sa.text(f"UPDATE {table} SET {column} = :value WHERE id = :id"),
            {"value": json.dumps(convert(value), ensure_ascii=False), "id": row_id},
        )


def _to_json(table: str, column: str, *, nullable: bool) -> None:
    """Make the text ``column`` a JSON one; when ``nullable``, an empty text becomes NULL."""
    if op.get_bind().dialect.name == "postgresql":
        if nullable:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} DROP NOT NULL")
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} DROP DEFAULT")
        using = f"NULLIF({column}, '')::jsonb" if nullable else f"{column}::jsonb"
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE JSONB USING {using}")
        return
    if nullable:
        # registration is referenced by other tables: SQLite cannot copy it with its foreign
        # keys on, so the column is replaced in place (ADD, copy, DROP, RENAME: SQLite >= 3.35).
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column}_new JSON")
        op.execute(f"UPDATE {table} SET {column}_new = NULLIF({column}, '')")
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        op.execute(f"ALTER TABLE {table} RENAME COLUMN {column}_new TO {column}")
        return
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.alter_column(column, existing_type=sa.Text(), type_=JSON_DOCUMENT, nullable=False)


def _to_text(table: str, column: str, *, nullable_before: bool) -> None:
    """Back to text; a column that was nullable here gets '' for NULL (and as its default)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE TEXT USING {column}::text")
        if nullable_before:
            op.execute(
                f"UPDATE {table} SET {column} = '' WHERE {column} IS NULL OR {column} = 'null'"
            )
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT ''")
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL")
        return
    if nullable_before:  # in place, as in _to_json
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column}_old TEXT NOT NULL DEFAULT ''")
        op.execute(f"UPDATE {table} SET {column}_old = COALESCE(NULLIF({column}, 'null'), '')")
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        op.execute(f"ALTER TABLE {table} RENAME COLUMN {column}_old TO {column}")
        return
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.alter_column(column, existing_type=JSON_DOCUMENT, type_=sa.Text(), nullable=False)


def upgrade() -> None:
    # The layouts first, while the columns are still text.
    _rewrite("match_report", "body", lambda v: _match_report_v2(json.loads(v)))
    _rewrite("provenance_report", "body", lambda v: _provenance_v2(json.loads(v)))
    _rewrite("registration", "risk_reasons", _reasons_v2)
    _to_json("match_report", "body", nullable=False)
    _to_json("provenance_report", "body", nullable=False)
    _to_json("registration", "risk_reasons", nullable=True)

    filing_match = op.create_table(
        "filing_match",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filing_id", sa.Integer(), nullable=False),
        sa.Column("earlier_id", sa.Integer(), nullable=False),
        sa.Column("earlier_first", sa.Boolean(), nullable=False),
        sa.Column("band", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("signals", JSON_DOCUMENT, nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["earlier_id"], ["registration.id"]),
        sa.ForeignKeyConstraint(["filing_id"], ["registration.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("filing_id", "earlier_id"),
    )
    op.create_index("ix_filing_match_filing_id", "filing_match", ["filing_id"])
    op.create_index("ix_filing_match_earlier_band", "filing_match", ["earlier_id", "band"])

    # Backfill: one row per match of every report, as the report had it.
    conn = op.get_bind()
    reports = sa.table(
        "match_report",
        sa.column("registration_id", sa.Integer()),
        sa.column("body", JSON_DOCUMENT),
        sa.column("created_at", sqlmodel.sql.sqltypes.UTCDateTime()),
    )
    ids = dict(conn.execute(sa.text("SELECT number, id FROM registration")).all())
    rows = []
    for filing_id, body, created_at in conn.execute(
        sa.select(reports.c.registration_id, reports.c.body, reports.c.created_at)
    ).all():
        seen = set()
        for m in body.get("matches", []):
            earlier_id = ids.get(m.get("number"))
            if earlier_id is None or earlier_id in seen:
                continue
            seen.add(earlier_id)
            rows.append(
                {
                    "filing_id": filing_id,
                    "earlier_id": earlier_id,
                    "earlier_first": bool(m.get("earlier_first")),
                    "band": m["band"],
                    "score": float(m["score"]),
                    "signals": [s["name"] for s in m.get("signals", [])],
                    "created_at": created_at or datetime.now(UTC),
                }
            )
    if rows:
        op.bulk_insert(filing_match, rows)


def downgrade() -> None:
    op.drop_index("ix_filing_match_earlier_band", table_name="filing_match")
    op.drop_index("ix_filing_match_filing_id", table_name="filing_match")
    op.drop_table("filing_match")
    _to_text("registration", "risk_reasons", nullable_before=True)
    _to_text("provenance_report", "body", nullable_before=False)
    _to_text("match_report", "body", nullable_before=False)

    def reasons_v1(text: str) -> list:
        data = json.loads(text)
        if not isinstance(data, dict):
            return data
        return [
            r["values"]["text"] if r["code"] == "recorded_text" else f"{r['code']}: {r['values']}"
            for r in data["reasons"]
        ]

    def provenance_v1(text: str) -> dict:
        body = json.loads(text)
        body.pop("schema_version", None)
        j = body.get("judgement", {})
        j["label"] = _VERDICT_LABELS.get(j.get("verdict"), j.get("verdict"))
        return body

    def match_report_v1(text: str) -> dict:
        body = json.loads(text)
        body.pop("schema_version", None)  # passages keep their offsets; the text is gone
        return body

    _rewrite("match_report", "body", match_report_v1)
    _rewrite("provenance_report", "body", provenance_v1)
    _rewrite("registration", "risk_reasons", reasons_v1)
