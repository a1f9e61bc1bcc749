"""The registry under gunicorn with several worker processes, over loopback, on SQLite and on
PostgreSQL: 8 concurrent clients file 400 registrations with no error, no duplicate number and
none lost, and the log verifies; then a burst of filings is cut off by SIGKILL and the server
restarted: every acknowledged filing is there with its file, the log verifies, and the clean-up
removes whatever no row refers to."""

from __future__ import annotations

import hashlib
import os
import threading
import time

import pytest
from sqlmodel import select

from registry.models import Registration
from registry.services import maintenance, tokens
from tests.conftest import verify_log
from tests.factories import encoded, make_user, scene
from tests.harness.server import Gunicorn, app_env, filing_body, request

pytestmark = pytest.mark.slow  # hundreds of filings through real servers

CLIENTS = 8
FILINGS = int(os.environ.get("REGISTRY_TEST_GUNICORN_FILINGS", "400"))


@pytest.fixture
def server_env(app):
    return app_env(
        app,
        REGISTRY_SECRET_KEY="test-secret",
        REGISTRY_FILING_LIMIT="100000 per minute",
        REGISTRY_REDIS_URL="",
    )


@pytest.fixture
def client_tokens(session):
    found = []
    for n in range(CLIENTS):
        user = make_user(session, email=f"client{n}@example.org")
        found.append(tokens.create(session=session, user=user, name="load")[1])
    return found


def _images(count: int) -> list[bytes]:
    return [encoded(scene(500 + n, (160, 120))) for n in range(count)]


def _file_concurrently(port, client_tokens, per_client, stop=None):
    """Each client files ``per_client`` works (every fourth an image); returns the numbers
    acknowledged with 201, every other answer, and connection failures, per client."""
    images = _images(per_client // 4 + 1)
    acknowledged, errors = [], []
    lock = threading.Lock()

    def client(n):
        for i in range(per_client):
            if stop is not None and stop.is_set():
                return
            png = images[i // 4] if i % 4 == 0 and n == 0 else None
            body = filing_body(n, i, png)
            try:
                status, data = request(
                    port, "POST", "/api/v1/registrations", body, client_tokens[n]
                )
            except OSError as exc:
                with lock:
                    errors.append(("connection", repr(exc)))
                if stop is not None:
                    return
                continue
            with lock:
                if status == 201:
                    acknowledged.append((data["number"], data["deposit"]["sha256"]))
                else:
                    errors.append((status, data))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    return threads, acknowledged, errors


def test_eight_clients_file_400_works_through_gunicorn(app, session, server_env, client_tokens):
    server = Gunicorn(server_env, workers=4).start()
    try:
        started = time.monotonic()
        threads, acknowledged, errors = _file_concurrently(
            server.port, client_tokens, FILINGS // CLIENTS
        )
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    assert errors == []
    numbers = [n for n, _ in acknowledged]
    assert len(numbers) == FILINGS and len(set(numbers)) == FILINGS  # none lost, no duplicate
    stored = session.exec(select(Registration.number).where(Registration.number.is_not(None)))
    assert sorted(stored.all()) == sorted(numbers)
    code, output = verify_log(app)
    assert code == 0 and f"{FILINGS} entries" in output, output
    print(f"\n{FILINGS} filings by {CLIENTS} clients through 4 gunicorn workers in {elapsed:.1f} s")


def test_a_server_killed_mid_burst_keeps_every_acknowledged_filing(
    app, session, store, server_env, client_tokens
):
    server = Gunicorn(server_env, workers=3).start()
    stop = threading.Event()
    threads, acknowledged, _errors = _file_concurrently(server.port, client_tokens, 1000, stop)
    deadline = time.monotonic() + 120
    while len(acknowledged) < 60 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()  # SIGKILL, master and workers, with filings in flight
    stop.set()
    for t in threads:
        t.join()
    got = list(acknowledged)
    assert len(got) >= 60

    server = Gunicorn(server_env, workers=3).start()  # restart on the same data
    try:
        session.rollback()
        rows = {
            r.number: r
            for r in session.exec(select(Registration).where(Registration.number.is_not(None)))
        }
        for number, sha in got:  # every acknowledged filing is there, with its very file
            assert number in rows, f"acknowledged {number} is lost"
            assert rows[number].deposit_sha256 == sha
            assert hashlib.sha256(store.read_bytes(sha)).hexdigest() == sha
        code, output = verify_log(app)
        assert code == 0 and "The log verifies." in output, output
        # The registry goes on numbering after the crash without reusing a number.
        status, data = request(
            server.port, "POST", "/api/v1/registrations", filing_body(0, 9999), client_tokens[0]
        )
        assert status == 201 and data["number"] not in rows
    finally:
        server.stop()

    # Files no row refers to (a request cut off between storing its file and committing) go.
    with store.stage_bytes(b"left by a request cut off mid-way", limit=100) as staged:
        staged.promote()
    result = app.test_cli_runner().invoke(args=["registry", "cleanup", "--min-age", "0"])
    assert result.exit_code == 0, result.output
    session.rollback()
    referenced = set(session.exec(select(Registration.deposit_sha256)).all())
    assert set(store.iter_stored()) == referenced - {None}
    assert not store.tmp.exists() or not any(store.tmp.iterdir())
    assert maintenance.counts(app.extensions["registry"].engine)["registration"] == len(rows) + 1
