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
    assert head == "0010" and current_revision(engine) == head
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


def test_0010_makes_old_reports_typed_json_without_texts_and_fills_the_match_table(
    engine, session, store
):
    """Rows written before 0010 (text columns; passages carrying both works' text; reasons as
    sentences; the verdict's label in words) are converted, and the match table is filled from
    the reports."""
    import json

    from sqlalchemy import text

    from registry.domain.risk import RoutingPolicy
    from registry.models import FilingMatch, MatchReport, Registration
    from registry.services import matches, matching, provenance, triage
    from tests.factories import ESSAY, make_user, submit_text

    a, b = make_user(session, email="a@example.org"), make_user(session, email="b@example.org")
    matcher, policy = matching.Matcher(), RoutingPolicy()
    earlier = submit_text(session, store, a, ESSAY, matcher=matcher, policy=policy)
    new_text = "My own first line. " + ESSAY[:300]
    later = submit_text(session, store, b, new_text, title="Later", matcher=matcher, policy=policy)
    untriaged = submit_text(session, store, a, "An unchecked poem.\n")
    ids = (earlier.id, later.id, untriaged.id)
    table_before = [
        (m.filing_id, m.earlier_id, m.band, m.score, m.signals)
        for m in session.exec(FilingMatch.__table__.select()).all()
    ]
    assert [(f, e) for f, e, *_ in table_before] == [(later.id, earlier.id)]
    session.close()

    downgrade(engine, "0009")
    with engine.begin() as conn:
        body = json.loads(
            conn.execute(
                text("SELECT body FROM match_report WHERE registration_id = :id"), {"id": ids[1]}
            ).scalar_one()
        )
        assert "schema_version" not in body
        for p in body["matches"][0]["passages"]:  # as 0009's code stored them: with the texts
            p["new_text"] = new_text[p["new"][0] : p["new"][1]]
            p["earlier_text"] = ESSAY[p["earlier"][0] : p["earlier"][1]] + " (unpublished)"
        conn.execute(
            text("UPDATE match_report SET body = :b WHERE registration_id = :id"),
            {"b": json.dumps(body), "id": ids[1]},
        )
        conn.execute(
            text("UPDATE registration SET risk_reasons = :r WHERE id = :id"),
            {
                "r": json.dumps(["Strong match with an earlier work (as worded then)."]),
                "id": ids[1],
            },
        )
        assert (
            conn.execute(
                text("SELECT risk_reasons FROM registration WHERE id = :id"), {"id": ids[2]}
            ).scalar_one()
            == ""
        )
        prov = json.loads(
            conn.execute(
                text("SELECT body FROM provenance_report WHERE registration_id = :id"),
                {"id": ids[1]},
            ).scalar_one()
        )
        assert prov["judgement"]["label"] == "No AI label found"  # layout 1, as it was
    upgrade(engine)

    later = session.get(Registration, ids[1], populate_existing=True)
    report = matching.get_report(session, later)
    assert report.body["schema_version"] == 2
    assert "unpublished" not in json.dumps(report.body) and "new_text" not in json.dumps(
        report.body
    )
    [match] = matching.report_matches(report)
    assert match.number == earlier.number and match.passages
    assert all(new_text[p.new[0] : p.new[1]] for p in match.passages)  # the offsets stay
    [reason] = triage.reasons_of(later)
    assert reason.values == {"text": "Strong match with an earlier work (as worded then)."}
    judged = provenance.judgement_of(provenance.get_report(session, later))
    assert judged.label == "No AI label found"
    untriaged = session.get(Registration, ids[2], populate_existing=True)
    assert untriaged.risk_reasons is None and triage.reasons_of(untriaged) == []
    with engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM registration WHERE risk_reasons IS NULL")
            ).scalar_one()
            == 1
        )
    table_after = [
        (m.filing_id, m.earlier_id, m.band, m.score, m.signals)
        for m in session.exec(FilingMatch.__table__.select()).all()
    ]
    assert table_after == table_before
    [against] = matches.matches_against(session, registration_ids=[ids[0]])
    assert against.filing.id == ids[1] and against.earlier.id == ids[0]
    assert session.get(MatchReport, report.id).match_count == 1
