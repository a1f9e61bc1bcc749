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


def test_evaluate_reports_a_file_it_cannot_register_or_check_and_goes_on(runner, tmp_path):
    import json

    dataset = _evaluation_set(tmp_path / "set")
    # A registered text with a control character, a query image that is not one, and a query
    # truth.csv names that is not there.
    (dataset / "registered" / "txt-bad.txt").write_text("A bell\x07 rang.\n" * 20)
    (dataset / "queries" / "q-6.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a picture")
    with (dataset / "truth.csv").open("a", encoding="utf-8") as fh:
        fh.write("q-6.jpg,,new_work,image\nq-7.txt,,new_work,text\n")
    result = runner.invoke(args=["registry", "evaluate", str(dataset), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    errors = {e["path"]: e for e in out["errors"]}
    assert set(errors) == {"registered/txt-bad.txt", "queries/q-6.jpg", "queries/q-7.txt"}
    assert errors["registered/txt-bad.txt"]["code"] == "rejected"
    assert "control character" in errors["registered/txt-bad.txt"]["message"]
    assert errors["queries/q-6.jpg"]["code"] == "rejected"
    assert errors["queries/q-7.txt"]["code"] == "unreadable"
    # Everything else was evaluated as before.
    assert out["image"]["recall"] == 1.0 and out["text"]["recall"] == 1.0
    assert out["image"]["tp"] == 1 and out["text"]["families"]["stitched"]["tp"] == 2
    table = runner.invoke(args=["registry", "evaluate", str(dataset)])
    assert table.exit_code == 0 and "3 file(s) could not be evaluated" in table.output
    assert "error: queries/q-7.txt: unreadable:" in table.output


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


# ---- accounts (staff use) ------------------------------------------------------------------


def _signed_in_client(app, user):
    from tests.conftest import sign_in

    client = app.test_client()
    sign_in(client, user, remember=True)
    assert client.get("/filings/").status_code == 200
    return client


def test_deactivate_user_ends_the_accounts_sessions_and_tokens(app, runner, session):
    from registry.services import tokens
    from tests.factories import make_user

    user = make_user(session, email="leaving@example.org")
    client = _signed_in_client(app, user)
    remembered = app.test_client()
    remembered.set_cookie("remember_token", client.get_cookie("remember_token").value)
    assert remembered.get("/filings/").status_code == 200
    _row, token = tokens.create(session=session, user=user, name="Uploader")
    api = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    assert api.post("/api/v1/registrations", json={}, headers=auth).status_code == 400
    result = runner.invoke(args=["registry", "deactivate-user", "--email", "Leaving@Example.org"])
    assert result.exit_code == 0, result.output
    assert "Deactivated leaving@example.org" in result.output
    assert client.get("/filings/").status_code == 302
    assert remembered.get("/filings/").status_code == 302
    refused = api.post("/api/v1/registrations", json={}, headers=auth)
    assert refused.status_code == 401 and refused.get_json()["error"]["code"] == "invalid_token"
    again = runner.invoke(args=["registry", "deactivate-user", "--email", "leaving@example.org"])
    assert again.exit_code == 0 and "deactivated already; nothing changed" in again.output


def test_set_password_gives_a_new_password_and_ends_every_session(app, runner, session):
    from tests.conftest import csrf_token
    from tests.factories import PASSWORD, make_user

    user = make_user(session, email="forgot@example.org")
    client = _signed_in_client(app, user)
    result = runner.invoke(
        args=[
            "registry", "set-password", "--email", "forgot@example.org",
            "--password", "the new password 7",
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Set a new password for forgot@example.org" in result.output
    assert client.get("/filings/").status_code == 302

    def sign_in(password: str) -> int:
        data = {"email": user.email, "password": password, "csrf_token": csrf_token(client)}
        return client.post("/account/signin", data=data).status_code

    assert sign_in(PASSWORD) == 422
    assert sign_in("the new password 7") == 302
    generated = runner.invoke(args=["registry", "set-password", "--email", user.email])
    assert generated.exit_code == 0 and "Its password is:" in generated.output
    assert client.get("/filings/").status_code == 302


def test_account_commands_refuse_unknown_accounts_and_bad_passwords(runner, session):
    from registry.models import User
    from tests.factories import make_user

    user = make_user(session, email="kept@example.org")
    before = (user.password_hash, user.session_version)
    for args, message in [
        (["deactivate-user", "--email", "nobody@example.org"], "no account with the email"),
        (["set-password", "--email", "nobody@example.org", "--password", "x" * 12], "no account"),
        (["set-password", "--email", "not-an-email", "--password", "x" * 12], "not a valid"),
        (["set-password", "--email", "kept@example.org", "--password", "short"], "at least 10"),
    ]:
        result = runner.invoke(args=["registry", *args])
        assert result.exit_code != 0 and message in result.output, (args, result.output)
    session.expire_all()
    kept = session.get(User, user.id)
    assert (kept.password_hash, kept.session_version, kept.active) == (*before, True)


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


def test_verify_log_says_when_the_instances_own_checkpoints_were_deleted(runner, app):
    assert runner.invoke(args=["registry", "demo"]).exit_code == 0
    folder = app.extensions["registry"].log.checkpoint_dir
    assert (folder / "checkpoint").is_file()
    for name in ("checkpoint", "checkpoints"):
        (folder / name).unlink()
    bad = runner.invoke(args=["registry", "verify-log"])
    assert bad.exit_code == 1
    assert "published no checkpoint" in bad.output and "were deleted" in bad.output


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
