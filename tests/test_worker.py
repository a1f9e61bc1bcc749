"""Checks in RQ workers (REGISTRY_REDIS_URL set): a filing is "checking" until a worker is done;
a work-horse or a whole worker killed mid-job leaves the job to be retried, never a half-written
filing. Needs Redis (skipped with the reason when it is not there, unless
REGISTRY_REQUIRE_SERVICES=1)."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlmodel import func, select

from registry.models import Fingerprint, MatchReport, ProvenanceReport, Registration
from tests.conftest import REQUIRE_SERVICES, csrf_token, dispose, make_app, verify_log
from tests.factories import declaration, image_bytes, make_user
from tests.harness.server import app_env
from tests.web.forms import post_filing

REDIS_URL = os.environ.get("REGISTRY_TEST_REDIS", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def redis_url():
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except RedisError as exc:
        reason = f"Redis is not reachable at {REDIS_URL}: {exc}"
        if REQUIRE_SERVICES:
            pytest.fail(reason + " (REGISTRY_REQUIRE_SERVICES=1)")
        pytest.skip(reason)
    return REDIS_URL


@pytest.fixture
def queue_name():
    return f"test-checks-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def queued(database_url, instance_path, redis_url, queue_name):
    """An app whose submissions go to a job queue of their own."""
    app = make_app(
        database_url,
        instance_path,
        REGISTRY_REDIS_URL=redis_url,
        REGISTRY_QUEUE=queue_name,
        # The limits would be counted in this Redis too, across tests: not what is tested.
        RATELIMIT_ENABLED=False,
    )
    yield app
    from redis import Redis
    from rq import Queue

    from registry.jobs import search_queue_name

    for name in (queue_name, search_queue_name(queue_name)):
        Queue(name, connection=Redis.from_url(redis_url)).delete(delete_jobs=True)
    dispose(app)


def _env(app, queue_name):
    return {
        **os.environ,
        **app_env(
            app,
            REGISTRY_REDIS_URL=app.extensions["registry"].settings.redis_url,
            REGISTRY_QUEUE=queue_name,
        ),
    }


def _worker(app, queue_name, *args, fault=None, wait=True):
    if fault:
        command = [sys.executable, "-m", "tests.harness.faulty_worker", *fault, *args]
    else:
        command = [sys.executable, "-m", "flask", "--app", "wsgi", "registry", "worker", *args]
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env=_env(app, queue_name),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    if not wait:
        return proc
    out, _ = proc.communicate(timeout=180)
    assert proc.returncode == 0, out
    return out


def _file(app, session, title="Lighthouse in Fog", colour=(200, 40, 40)):
    client = app.test_client()
    user = make_user(session)
    from tests.conftest import AuthActions

    AuthActions(client, session).login(user)
    response = post_filing(
        client,
        declaration(title=title),
        file=(io.BytesIO(image_bytes("PNG", (96, 64), colour)), "work.png"),
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    reg = session.exec(select(Registration).where(Registration.title == title)).one()
    return client, reg


def _count(session, model, reg):
    session.rollback()  # a new transaction sees what the worker wrote
    return session.exec(
        select(func.count()).select_from(model).where(model.registration_id == reg.id)
    ).one()


def _session(app):
    return app.extensions["registry"].session()


def _log_verifies(app):
    code, output = verify_log(app)
    return code == 0 and "The log verifies." in output, output


def test_a_filing_is_checking_until_a_worker_has_checked_it(queued, queue_name):
    with _session(queued) as session:
        client, reg = _file(queued, session)
        receipt = client.get(f"/filings/{reg.uid}/receipt").get_data(as_text=True)
        assert "Checking" in receipt and 'http-equiv="refresh"' in receipt
        assert reg.number in receipt  # the number comes at once, before the check
        record = client.get(f"/filings/{reg.uid}").get_data(as_text=True)
        assert "has not finished yet" in record and 'http-equiv="refresh"' in record
        api = client.get(f"/api/v1/registrations/{reg.number}").get_json()
        assert api["checking"] is True and api["status"] == "submitted"
        assert _count(session, MatchReport, reg) == 0

        out = _worker(queued, queue_name, "--burst")
        assert "check-" in out

        assert _count(session, MatchReport, reg) == 1, out
        assert _count(session, ProvenanceReport, reg) == 1
        session.rollback()  # a new transaction sees what the worker wrote
        assert session.get(Registration, reg.id).triaged_at is not None
        receipt = client.get(f"/filings/{reg.uid}/receipt").get_data(as_text=True)
        assert "Checking" not in receipt and 'http-equiv="refresh"' not in receipt
        assert client.get(f"/api/v1/registrations/{reg.number}").get_json()["checking"] is False
        ok, output = _log_verifies(queued)
        assert ok, output


def test_a_second_filing_checked_by_a_worker_finds_the_first(queued, queue_name):
    with _session(queued) as session:
        _file(queued, session, "First")
        _, second = _file(queued, session, "Second")  # the same picture, filed again
        _worker(queued, queue_name, "--burst")
        session.rollback()  # a new transaction sees what the worker wrote
        report = session.exec(
            select(MatchReport).where(MatchReport.registration_id == second.id)
        ).one()
        assert report.match_count == 1 and report.strongest_band == "strong"


@pytest.mark.parametrize("step", ["matching.check", "provenance.inspect"])
def test_a_work_horse_killed_mid_job_is_retried_and_nothing_is_half_written(
    queued, queue_name, tmp_path, step
):
    marker = tmp_path / "crashed"
    with _session(queued) as session:
        _, reg = _file(queued, session)
        out = _worker(queued, queue_name, "--burst", fault=["kill", step, str(marker)])
        assert marker.exists(), out  # the work-horse died once
        assert "retry" in out.lower() or "Retrying" in out, out
        assert _count(session, MatchReport, reg) == 1
        assert _count(session, Fingerprint, reg) == 1
        assert _count(session, ProvenanceReport, reg) == 1
        session.rollback()  # a new transaction sees what the worker wrote
        assert session.get(Registration, reg.id).triaged_at is not None
        ok, output = _log_verifies(queued)
        assert ok, output


def test_a_worker_killed_mid_job_leaves_the_job_to_another(queued, queue_name, tmp_path):
    from redis import Redis
    from rq import Queue
    from rq.registry import StartedJobRegistry

    marker = tmp_path / "started"
    with _session(queued) as session:
        client, reg = _file(queued, session)
        proc = _worker(
            queued, queue_name, fault=["hang", "matching.check", str(marker)], wait=False
        )
        try:
            deadline = time.monotonic() + 60
            while not marker.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert marker.exists(), "the worker never started the job"
        finally:
            # The worker and its work-horse (which RQ puts in a session of its own), at once.
            if marker.exists():
                os.kill(int(marker.read_text()), signal.SIGKILL)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=30)
        # The filing stands, whole, and says it is being checked.
        assert _count(session, MatchReport, reg) == 0 and _count(session, Fingerprint, reg) == 0
        assert client.get(f"/api/v1/registrations/{reg.number}").get_json()["checking"] is True
        queue = Queue(
            queue_name, connection=Redis.from_url(queued.extensions["registry"].settings.redis_url)
        )
        started = StartedJobRegistry(queue=queue)
        assert started.get_job_ids(cleanup=False) == [f"check-{reg.id}"]
        # Another worker's upkeep finds the job abandoned once its heartbeat has lapsed (at
        # least a minute); here the clock is moved on instead of waiting for it.
        started.cleanup(timestamp=time.time() + 3600)
        assert f"check-{reg.id}" in queue.job_ids
        _worker(queued, queue_name, "--burst")
        assert _count(session, MatchReport, reg) == 1 and _count(session, Fingerprint, reg) == 1
        assert client.get(f"/api/v1/registrations/{reg.number}").get_json()["checking"] is False
        ok, output = _log_verifies(queued)
        assert ok, output


def _search(app, data: bytes):
    import base64

    body = {"deposit": {"filename": "q.png", "content_base64": base64.b64encode(data).decode()}}
    return app.test_client().post("/api/v1/search/similar", json=body)


def test_a_reverse_search_is_run_by_a_worker(queued, queue_name):
    picture = image_bytes("PNG", (96, 64), (200, 40, 40))
    with _session(queued) as session:
        _, reg = _file(queued, session)
    _worker(queued, queue_name, "--burst")  # the filing is checked, so it can be found
    proc = _worker(queued, queue_name, wait=False)
    try:
        response = _search(queued, picture)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert response.status_code == 200, response.get_data(as_text=True)
    found = response.get_json()
    assert found["modality"] == "image" and found["matches"][0]["number"] == reg.number
    assert "reverse search" in out  # the worker ran it, not the web process
    staged = queued.extensions["registry"].store.tmp
    assert not staged.exists() or list(staged.iterdir()) == []  # the upload is not kept


def test_a_reverse_search_no_worker_answers_is_a_clear_503(database_url, instance_path, redis_url):
    from registry.sandbox import Budget

    name = f"test-checks-{uuid.uuid4().hex[:12]}"
    app = make_app(
        database_url,
        instance_path,
        REGISTRY_REDIS_URL=redis_url,
        REGISTRY_QUEUE=name,
        RATELIMIT_ENABLED=False,
        REGISTRY_SEARCH_BUDGET=Budget(cpu_seconds=1, memory_bytes=256 << 20, wall_seconds=1),
    )
    try:
        response = _search(app, image_bytes("PNG", (96, 64), (200, 40, 40)))
        assert response.status_code == 503, response.get_data(as_text=True)
        assert response.get_json()["error"]["code"] == "search_unavailable"
        assert response.headers["Retry-After"]
    finally:
        from redis import Redis
        from rq import Queue

        from registry.jobs import search_queue_name

        Queue(search_queue_name(name), connection=Redis.from_url(redis_url)).delete(
            delete_jobs=True
        )
        dispose(app)


def test_without_a_queue_the_worker_command_says_it_is_not_needed(runner):
    result = runner.invoke(args=["registry", "worker", "--burst"])
    assert result.exit_code == 2 and "REGISTRY_REDIS_URL is not set" in result.output


@pytest.fixture
def queue_down(database_url, instance_path):
    """An app whose job queue's Redis is not there."""
    app = make_app(
        database_url,
        instance_path,
        REGISTRY_REDIS_URL="redis://127.0.0.1:1/0",  # nothing listens there
        RATELIMIT_ENABLED=False,
    )
    yield app
    dispose(app)


def test_when_the_queue_is_down_the_filing_is_checked_at_once(queue_down):
    with _session(queue_down) as s:
        _, reg = _file(queue_down, s)
        assert _count(s, MatchReport, reg) == 1


def test_when_the_queue_is_down_a_reverse_search_runs_here(queue_down):
    with _session(queue_down) as s:
        _, reg = _file(queue_down, s)
    response = _search(queue_down, image_bytes("PNG", (96, 64), (200, 40, 40)))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["matches"][0]["number"] == reg.number
    text = queue_down.test_client().post(
        "/api/v1/search/similar", json={"deposit": {"text": "A line\r\nand another.\r\n"}}
    )
    assert text.status_code == 200, text.get_data(as_text=True)


def test_rate_limits_kept_in_redis_hold_across_processes(database_url, tmp_path, redis_url):
    """Two application instances (as two gunicorn workers) count sign-ins in one budget."""
    # A client address of this test's own: the counts outlive the test in Redis.
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    apps = [
        make_app(
            database_url,
            tmp_path / "instance",
            REGISTRY_REDIS_URL=redis_url,
            REGISTRY_SIGNIN_LIMIT="3 per minute",
        )
        for _ in range(2)
    ]
    try:
        clients = [a.test_client() for a in apps]
        for client in clients:
            client.environ_base["REMOTE_ADDR"] = address
        statuses = []
        for i in range(4):
            client = clients[i % 2]
            data = {
                "email": "nobody@example.org",
                "password": "x",
                "csrf_token": csrf_token(client),
            }
            statuses.append(client.post("/account/signin", data=data).status_code)
        assert statuses == [422, 422, 422, 429]
    finally:
        for a in apps:
            dispose(a)
