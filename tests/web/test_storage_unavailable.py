"""A full or read-only disk, or a database that cannot take writes, answers 503 "the registry
cannot store deposits right now" through the filing form and the API, is logged, and leaves
nothing behind.

Real faults, not mocks: the deposit store (or the SQLite database) lives on a small tmpfs that is
filled up or remounted read-only; PostgreSQL's database is set read-only (its disk cannot be
filled from here without touching the shared server's files). Mounting needs root (or
CAP_SYS_ADMIN): where it is not allowed the tests skip and say so.
"""

from __future__ import annotations

import base64
import errno
import io
import shutil
import subprocess
from pathlib import Path

import pytest

from registry.db import new_session
from registry.services import tokens
from registry.storage import DepositStore, StorageUnavailable
from tests.conftest import TEST_LIMITS, AuthActions, _pg_admin, dispose, make_app
from tests.factories import declaration, encoded, make_user, scene
from tests.harness.server import API_DECLARATION
from tests.web.forms import post_filing
from tests.web.test_hostile_uploads import files_under, row_counts

NO_ROOM = "The registry cannot store deposits right now"


class SmallDisk:
    """A 4 MB tmpfs mounted at ``path``, to fill up or make read-only."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fill(self) -> None:
        # Unbuffered: a buffered file would try to write its rest again on close, and raise
        # there, whenever the free space is not a multiple of the chunk.
        with (self.path / "filler").open("ab", buffering=0) as out:
            try:
                while True:
                    out.write(b"\0" * 65536)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
        probe = self.path / "probe"
        with pytest.raises(OSError, match="No space left"):  # noqa: PT012
            with probe.open("wb") as fh:
                fh.write(b"x" * 8192)
                fh.flush()
        probe.unlink(missing_ok=True)

    def read_only(self) -> None:
        _run("mount", "-o", "remount,ro", str(self.path))


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, check=False)


@pytest.fixture
def disk(tmp_path):
    path = tmp_path / "disk"
    path.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command: a small file system cannot be made here")
    mounted = _run("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(path))
    if mounted.returncode:
        pytest.skip(
            "cannot mount a small tmpfs to fill up here (needs root or CAP_SYS_ADMIN): "
            + mounted.stderr.strip()
        )
    yield SmallDisk(path)
    _run("umount", "-l", str(path))


@pytest.fixture(params=["store full", "store read-only", "database cannot write"])
def fault(request):
    return request.param


@pytest.fixture
def faulty(fault, backend, database_url, sqlite_template, instance_path, disk):
    """An app whose store or database is on the small disk; ``break_it`` then does the fault."""
    settings = dict(TEST_LIMITS)
    url = database_url
    if fault.startswith("store"):
        settings["REGISTRY_DEPOSIT_DIR"] = str(disk.path / "deposits")
    elif backend == "sqlite":
        shutil.copy(sqlite_template, disk.path / "registry.sqlite3")
        url = f"sqlite:///{disk.path / 'registry.sqlite3'}"
    app = make_app(url, instance_path, **settings)
    app.extensions["registry"].settings.filing_limit = "1000 per minute"
    engine = app.extensions["registry"].engine

    def break_it() -> None:
        if fault == "store full":
            disk.fill()
        elif fault == "store read-only":
            disk.read_only()
        elif backend == "sqlite":
            with engine.connect() as conn:  # the WAL emptied, so a write must grow a file
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            disk.fill()
        else:
            name = engine.url.database
            with _pg_admin() as conn:
                conn.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
            engine.dispose()  # new connections take the setting

    app.break_it = break_it
    yield app
    dispose(app)


def _state(app) -> tuple[dict, list[str]]:
    store = app.extensions["registry"].store
    files = [f for f in files_under(store.root) if not f.endswith(("/filler", "/probe"))]
    return row_counts(app.extensions["registry"].engine), files


def test_the_filing_form_answers_503_and_saves_nothing(faulty, caplog):
    client = faulty.test_client()
    with new_session(faulty.extensions["registry"].engine) as session:
        AuthActions(client, session).login()
    before = _state(faulty)
    faulty.break_it()
    picture = encoded(scene(3, (400, 300)), "PNG")
    response = post_filing(client, declaration(), file=(io.BytesIO(picture), "work.png"))
    page = response.get_data(as_text=True)
    assert response.status_code == 503, page[:2000]
    assert NO_ROOM in page and "Something went wrong" not in page
    assert int(response.headers["Retry-After"]) > 0
    assert "Cannot store deposits" in caplog.text
    assert _state(faulty) == before


def test_the_api_answers_503_storage_unavailable_and_saves_nothing(faulty, caplog):
    client = faulty.test_client()
    with new_session(faulty.extensions["registry"].engine) as session:
        _row, value = tokens.create(session=session, user=make_user(session), name="batch")
    before = _state(faulty)
    faulty.break_it()
    picture = base64.b64encode(encoded(scene(4, (400, 300)), "PNG")).decode()
    response = client.post(
        "/api/v1/registrations",
        json={
            "declaration": API_DECLARATION,
            "deposit": {"filename": "w.png", "content_base64": picture},
        },
        headers={"Authorization": f"Bearer {value}"},
    )
    assert response.status_code == 503, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "storage_unavailable" and NO_ROOM in error["message"]
    assert int(response.headers["Retry-After"]) > 0
    assert "Cannot store deposits" in caplog.text
    assert _state(faulty) == before


def test_staging_on_a_read_only_disk_raises_storage_unavailable(disk):
    store = DepositStore(disk.path / "deposits")
    with store.stage_bytes(b"first", limit=100) as staged:
        staged.promote()
    disk.read_only()
    with pytest.raises(StorageUnavailable, match="cannot store deposits") as raised:  # noqa: PT012
        with store.stage_bytes(b"second", limit=100):
            pass
    assert "Read-only file system" in raised.value.reason
    assert list((disk.path / "deposits" / "tmp").iterdir()) == []


def test_staging_on_a_full_disk_raises_storage_unavailable_and_leaves_no_partial_file(disk):
    store = DepositStore(disk.path / "deposits")
    with pytest.raises(StorageUnavailable) as raised:  # noqa: PT012
        with store.stage(io.BytesIO(b"x" * (6 << 20)), limit=8 << 20):
            pass
    assert "No space left" in raised.value.reason
    assert list((disk.path / "deposits" / "tmp").iterdir()) == []
