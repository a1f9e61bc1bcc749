from sqlmodel import func, select

from registry.models import Registration, User


def test_demo_fills_an_empty_registry_once(runner, session, client):
    result = runner.invoke(args=["registry", "demo"])
    assert result.exit_code == 0, result.output
    assert "Filed AIR-" in result.output and "examiner@demo.example" in result.output
    count = session.exec(select(func.count()).select_from(Registration)).one()
    assert count == 7
    assert session.exec(select(User).where(User.role == "examiner")).one()
    # the last two demo filings copy earlier ones, and their match reports say so
    from registry.models import MatchReport

    reports = session.exec(select(MatchReport).where(MatchReport.match_count > 0)).all()
    assert sorted(r.strongest_band for r in reports) == ["strong", "strong"]
    again = runner.invoke(args=["registry", "demo"])
    assert "added only to an empty one" in again.output
    assert session.exec(select(func.count()).select_from(Registration)).one() == 7
    html = client.get("/search").get_data(as_text=True)
    assert "Morning Quay" in html and "7 filings" in html


def test_migrate_is_safe_to_repeat(runner):
    result = runner.invoke(args=["registry", "migrate"])
    from registry.db import head_revision

    assert result.exit_code == 0 and f"revision {head_revision()}" in result.output


def _evaluation_set(root):
    """A labelled set in the evaluation format, made here: two images, two texts, their copies,
    and a new work of each kind."""
    from PIL import Image

    from tests.factories import ESSAY, ESSAY_ZH, encoded, scene

    (root / "registered").mkdir(parents=True)
    (root / "queries").mkdir()
    (root / "registered" / "img-1.jpg").write_bytes(encoded(scene(31), "JPEG", quality=92))
    (root / "registered" / "img-2.jpg").write_bytes(encoded(scene(32), "JPEG", quality=92))
    (root / "registered" / "txt-1.txt").write_text(ESSAY, encoding="utf-8")
    (root / "registered" / "txt-2.txt").write_text(ESSAY_ZH, encoding="utf-8")
    mirrored = scene(31).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    (root / "queries" / "q-1.jpg").write_bytes(encoded(mirrored, "JPEG", quality=40))
    (root / "queries" / "q-2.jpg").write_bytes(encoded(scene(33), "JPEG"))
    (root / "queries" / "q-3.txt").write_text(ESSAY[100:400], encoding="utf-8")
    (root / "queries" / "q-4.txt").write_text(ESSAY_ZH[40:] + ESSAY[:300], encoding="utf-8")
    (root / "queries" / "q-5.txt").write_text("A new poem about the rain on the roof.\n" * 3)
    (root / "truth.csv").write_text(
        "query,expected,family,modality\n"
        "q-1.jpg,img-1.jpg,hflip,image\n"
        "q-2.jpg,,new_work,image\n"
        "q-3.txt,txt-1.txt,excerpt,text\n"
        "q-4.txt,txt-1.txt;txt-2.txt,stitched,text\n"
        "q-5.txt,,new_work,text\n",
        encoding="utf-8",
    )
    return root


def test_evaluate_prints_precision_and_recall_per_modality_and_family(runner, tmp_path):
    import json

    dataset = _evaluation_set(tmp_path / "set")
    result = runner.invoke(args=["registry", "evaluate", str(dataset), "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert scores["image"]["recall"] == 1.0 and scores["image"]["precision"] == 1.0
    assert scores["text"]["recall"] == 1.0 and scores["text"]["precision"] == 1.0
    assert set(scores["text"]["families"]) == {"excerpt", "stitched", "new_work"}
    assert scores["text"]["families"]["stitched"] == {
        "precision": 1.0,
        "recall": 1.0,
        "tp": 2,
        "fn": 0,
        "fp": 0,
    }
    table = runner.invoke(args=["registry", "evaluate", str(dataset)])
    assert table.exit_code == 0 and "image     hflip" in table.output


def test_evaluate_refuses_a_folder_that_is_not_an_evaluation_set(runner, tmp_path, session):
    from registry.models import Registration
    from tests.factories import count

    result = runner.invoke(args=["registry", "evaluate", str(tmp_path)])
    assert result.exit_code == 2 and "not an evaluation set" in result.output
    assert count(session, Registration) == 0  # and the registry's own database is untouched


def test_verify_log_passes_on_the_demo_and_names_an_edited_a_removed_and_a_reordered_row(
    runner, session, app, tmp_path
):
    from sqlalchemy import text

    from registry.domain.transparency import public_pem

    assert runner.invoke(args=["registry", "demo"]).exit_code == 0
    ok = runner.invoke(args=["registry", "verify-log"])
    assert ok.exit_code == 0, ok.output
    assert "9 entries, 9 signed tree heads" in ok.output and "The log verifies." in ok.output
    key = tmp_path / "log.pem"
    key.write_text(public_pem(app.extensions["registry"].log.public_key))
    assert runner.invoke(args=["registry", "verify-log", "--key", str(key)]).exit_code == 0

    for sql in (
        "UPDATE registration SET title = 'x'",  # not in the log: still verifies
        "UPDATE log_entry SET idx = 100 WHERE idx = 1",  # entries 1 and 2 trade places
        "UPDATE log_entry SET idx = 1 WHERE idx = 2",
        "UPDATE log_entry SET idx = 2 WHERE idx = 100",
        "UPDATE registration SET number = 'AIR-2000-000001' WHERE number LIKE '%000005'",
        "DELETE FROM log_entry WHERE idx = 5",
    ):
        session.execute(text(sql))
    session.commit()
    bad = runner.invoke(args=["registry", "verify-log"])
    assert bad.exit_code == 1
    assert "The log does NOT verify" in bad.output
    assert "Entry 2 " in bad.output and "out of order" in bad.output
    assert "Entry 4 " in bad.output and "number is 'AIR-2000-000001' in the records" in bad.output
    assert "Entry 5 is missing" in bad.output


def _roll_back_newest_entry(session):
    """Undo the newest logged change consistently, as someone restoring an older copy of the
    database (or hiding a decision) would: its leaf, its event, its signed head, the compact
    range, and the registration's status."""
    from sqlalchemy import text

    from registry.domain import merkle

    def rows(sql, **params):
        return list(session.execute(text(sql), params))

    idx, event_id, reg_id = rows(
        "SELECT idx, event_id, registration_id FROM log_entry ORDER BY idx DESC LIMIT 1"
    )[0]
    before = rows("SELECT from_status FROM event WHERE id = :id", id=event_id)[0][0]
    for sql in (
        "DELETE FROM log_entry WHERE idx = :idx",
        "DELETE FROM tree_head WHERE tree_size > :idx",
        "DELETE FROM determination WHERE registration_id = :reg",
        "DELETE FROM event WHERE id = :event",
        "UPDATE registration SET status = :status WHERE id = :reg",
    ):
        session.execute(text(sql), {"idx": idx, "event": event_id, "reg": reg_id, "status": before})
    frontier: list[bytes] = []
    for i, (digest,) in enumerate(rows("SELECT leaf_hash FROM log_entry ORDER BY idx")):
        frontier = merkle.frontier_push(frontier, i, bytes.fromhex(digest))
    session.execute(
        text("UPDATE log_state SET tree_size = :n, frontier = :f WHERE id = 1"),
        {"n": idx, "f": b"".join(frontier).hex()},
    )
    session.commit()


def test_verify_log_checks_a_checkpoint_kept_elsewhere(runner, client, session, app, tmp_path):
    assert runner.invoke(args=["registry", "demo"]).exit_code == 0
    served = client.get("/log/checkpoint")
    assert served.status_code == 200 and served.mimetype == "text/plain"
    kept = tmp_path / "checkpoint"
    kept.write_bytes(served.data)
    ok = runner.invoke(args=["registry", "verify-log", "--checkpoint", str(kept)])
    assert ok.exit_code == 0, ok.output
    assert f"{kept}: size 9, consistent with the log" in ok.output

    _roll_back_newest_entry(session)
    bad = runner.invoke(args=["registry", "verify-log", "--checkpoint", str(kept)])
    assert bad.exit_code == 1, bad.output
    assert f"{kept}: the log was signed at size 9, but the database holds 8 entries" in bad.output
    assert "rolled back" in bad.output


def test_verify_log_with_deposits_names_each_missing_and_changed_file(runner, session, app):
    from registry.models import Deposit

    assert runner.invoke(args=["registry", "demo"]).exit_code == 0
    ok = runner.invoke(args=["registry", "verify-log", "--deposits"])
    assert ok.exit_code == 0, ok.output
    assert "7 deposit files checked against their SHA-256: all present and unchanged" in ok.output

    store = app.extensions["registry"].store
    regs = session.exec(select(Registration).order_by(Registration.id)).all()
    changed, missing = regs[0], regs[1]
    path = store.path_for(changed.deposit_sha256)
    path.chmod(0o644)
    path.write_bytes(path.read_bytes() + b"tampered")
    store.path_for(missing.deposit_sha256).unlink()
    assert session.get(Deposit, changed.deposit_sha256) is not None
    bad = runner.invoke(args=["registry", "verify-log", "--deposits"])
    assert bad.exit_code == 1, bad.output
    assert f"The deposit {changed.deposit_sha256} ({changed.number}) was changed" in bad.output
    assert f"The deposit {missing.deposit_sha256} ({missing.number}) is missing" in bad.output
