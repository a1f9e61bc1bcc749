"""`registry backup`, `registry restore` and `registry cleanup`, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import threading
import time

import pytest
from sqlmodel import select

from registry.models import Deposit, User
from registry.services import intake, maintenance
from tests import conftest, factories
from tests.conftest import dispose, make_app, verify_log


@pytest.fixture
def empty_database(backend, tmp_path, request):
    """A second, empty database on the same backend: a file not yet created, or a PostgreSQL
    database with nothing in it."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    request.getfixturevalue("pg_template")
    name = f"registry_restore_{os.getpid()}_{next(conftest._counter)}"
    with conftest._pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield conftest._pg_url(name)
    with conftest._pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_restored_backup_is_the_same_registry(
    app, runner, engine, store, tmp_path, empty_database
):
    assert runner.invoke(args=["registry", "demo"]).exit_code == 0
    before = maintenance.counts(engine)
    dest = tmp_path / "backup"
    result = runner.invoke(args=["registry", "backup", str(dest)])
    assert result.exit_code == 0, result.output
    assert "Backed up 7 filing(s), 7 deposit(s) and a log of 9 entries" in result.output
    manifest = json.loads((dest / "MANIFEST.json").read_text())
    assert manifest["counts"] == before and manifest["log_size"] == 9
    assert oct((dest / "log-signing-key.pem").stat().st_mode & 0o777) == "0o600"

    instance = tmp_path / "restored-instance"
    target = make_app(empty_database, instance)
    restored = target.test_cli_runner().invoke(args=["registry", "restore", str(dest)])
    assert restored.exit_code == 0, restored.output
    assert "Restored 7 filing(s) and a log of 9 entries" in restored.output
    dispose(target)

    again = make_app(empty_database, instance)  # as after a restart: it reads the restored key
    try:
        assert maintenance.counts(again.extensions["registry"].engine) == before
        code, output = verify_log(again)
        assert code == 0 and "9 entries" in output and "The log verifies." in output, output
        new_store = again.extensions["registry"].store
        shas = sorted(store.iter_stored())
        assert sorted(new_store.iter_stored()) == shas and len(shas) == 7
        for sha in shas:
            assert hashlib.sha256(new_store.read_bytes(sha)).hexdigest() == sha
        page = again.test_client().get("/search").get_data(as_text=True)
        assert "7 filings" in page
    finally:
        dispose(again)


def test_restore_refuses_a_registry_that_holds_data(app, runner, tmp_path):
    assert runner.invoke(args=["registry", "demo"]).exit_code == 0
    dest = tmp_path / "backup"
    assert runner.invoke(args=["registry", "backup", str(dest)]).exit_code == 0
    before = maintenance.counts(app.extensions["registry"].engine)
    result = runner.invoke(args=["registry", "restore", str(dest)])
    assert result.exit_code == 1 and "already holds data" in result.output
    assert maintenance.counts(app.extensions["registry"].engine) == before


def test_backup_refuses_a_folder_that_is_not_empty(runner, tmp_path):
    dest = tmp_path / "busy"
    dest.mkdir()
    (dest / "something").write_text("x")
    result = runner.invoke(args=["registry", "backup", str(dest)])
    assert result.exit_code == 1 and "not empty" in result.output
    assert sorted(p.name for p in dest.iterdir()) == ["something"]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_damaged_backup_is_refused_and_changes_nothing(app, runner, tmp_path, empty_database):
    assert runner.invoke(args=["registry", "demo"]).exit_code == 0
    dest = tmp_path / "backup"
    assert runner.invoke(args=["registry", "backup", str(dest)]).exit_code == 0
    with (dest / "registry.sqlite3").open("r+b") as fh:
        fh.seek(200)
        fh.write(b"\xff")
    target = make_app(empty_database, tmp_path / "other")
    try:
        result = target.test_cli_runner().invoke(args=["registry", "restore", str(dest)])
        assert result.exit_code == 1 and "does not match the manifest" in result.output
        assert not list(target.extensions["registry"].store.iter_stored())
        missing = tmp_path / "not-a-backup"
        missing.mkdir()
        result = target.test_cli_runner().invoke(args=["registry", "restore", str(missing)])
        assert result.exit_code == 1 and "not a registry backup" in result.output
    finally:
        dispose(target)


def test_a_backup_taken_while_filings_go_on_is_consistent(app, store, tmp_path, empty_database):
    """Writers file works on other threads while the backup runs; the copy holds each deposit
    its rows name, its log verifies, and it is a prefix of the live log."""
    with app.extensions["registry"].session() as s:
        owner_id = factories.make_user(s).id
    stop = threading.Event()
    filed = []

    def writer(seed):
        with app.extensions["registry"].session() as s:
            owner = s.get(User, owner_id)
            i = 0
            while not stop.is_set() and i < 40:
                data = factories.image_bytes(colour=(seed * 40 % 256, i * 5 % 256, 90))
                reg = factories.submit_work(
                    s, store, owner, upload=intake.DepositUpload(file=io.BytesIO(data))
                )
                filed.append(reg.number)
                i += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    while len(filed) < 5:
        time.sleep(0.02)
    dest = tmp_path / "backup"
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["registry", "backup", str(dest)])
    stop.set()
    for t in threads:
        t.join()
    assert result.exit_code == 0, result.output
    manifest = maintenance.Manifest.read(dest)
    assert 5 <= manifest.counts["registration"] <= len(filed)
    assert manifest.missing_deposits == []

    target = make_app(empty_database, tmp_path / "restored")
    try:
        out = target.test_cli_runner().invoke(args=["registry", "restore", str(dest)])
        assert out.exit_code == 0, out.output
    finally:
        dispose(target)
    again = make_app(empty_database, tmp_path / "restored")
    try:
        code, output = verify_log(again)
        assert code == 0, output
        with again.extensions["registry"].session() as s:
            shas = s.exec(select(Deposit.sha256)).all()
        new_store = again.extensions["registry"].store
        assert len(shas) == manifest.deposits
        for sha in shas:
            assert hashlib.sha256(new_store.read_bytes(sha)).hexdigest() == sha
    finally:
        dispose(again)


def test_cleanup_removes_only_old_unreferenced_files(app, runner, session, store):
    owner = factories.make_user(session)
    kept = factories.submit_work(session, store, owner)
    with store.stage_bytes(b"an orphan left by a crash", limit=1000) as staged:
        staged.promote()
    orphan = staged.sha256
    with store.stage_bytes(b"an orphan of a filing still in flight", limit=1000) as staged:
        staged.promote()
    young = staged.sha256
    store.tmp.mkdir(parents=True, exist_ok=True)
    stale_tmp = store.tmp / "upload-stale"
    stale_tmp.write_bytes(b"half an upload")
    stale_scratch = store.tmp / "upload-abc.d"  # a killed worker's search folder
    (stale_scratch / "tmp").mkdir(parents=True)
    (stale_scratch / "tmp" / "upload-x").write_bytes(b"searched")
    thumbs = app.extensions["registry"].cache_dir / "thumbnails"
    thumbs.mkdir(parents=True, exist_ok=True)
    (thumbs / f"{orphan}-480.webp").write_bytes(b"thumb")
    old = time.time() - 7200
    for path in (
        store.path_for(orphan),
        stale_tmp,
        stale_scratch,
        store.path_for(kept.deposit_sha256),
    ):
        os.utime(path, (old, old))

    dry = runner.invoke(args=["registry", "cleanup", "--dry-run"])
    assert dry.exit_code == 0 and f"Would remove unreferenced deposit {orphan}" in dry.output
    assert store.exists(orphan) and stale_tmp.exists()

    done = runner.invoke(args=["registry", "cleanup"])
    assert done.exit_code == 0, done.output
    assert "Removed 1 unreferenced deposit(s), 2 stale temporary upload(s) and 1 thumbnail(s)" in (
        done.output
    )
    assert "Kept 1 unreferenced file(s) younger than 3600 s" in done.output
    assert not store.exists(orphan) and not stale_tmp.exists() and not stale_scratch.exists()
    assert store.exists(young) and store.exists(kept.deposit_sha256)
    assert not (thumbs / f"{orphan}-480.webp").exists()


def test_storing_a_file_that_is_there_already_freshens_it(store):
    with store.stage_bytes(b"same bytes", limit=100) as staged:
        staged.promote()
    path = store.path_for(staged.sha256)
    os.utime(path, (1, 1))
    with store.stage_bytes(b"same bytes", limit=100) as again:
        assert again.promote() is False
    assert time.time() - path.stat().st_mtime < 60


def test_backup_names_what_is_missing(runner, session, store, tmp_path):
    reg = factories.submit_work(session, store, factories.make_user(session))
    shutil.move(store.path_for(reg.deposit_sha256), tmp_path / "elsewhere")
    result = runner.invoke(args=["registry", "backup", str(tmp_path / "backup")])
    assert result.exit_code == 1 and reg.deposit_sha256 in result.output
    assert "missing from the store" in result.output
