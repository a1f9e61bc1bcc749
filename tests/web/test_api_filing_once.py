"""API filings are acknowledged at their commit and can be retried safely: Idempotency-Key."""

from __future__ import annotations

import base64
import threading

import pytest
from sqlmodel import select

from registry.models import Deposit, IdempotencyKey, MatchReport, Registration
from registry.sandbox import Budget
from registry.services import tokens
from tests.conftest import TEST_LIMITS, dispose, make_app, stored_files
from tests.factories import count, encoded, make_user, scene
from tests.harness.server import API_DECLARATION as DECLARATION


def _body(seed: int = 7) -> dict:
    image = {
        "filename": "work.png",
        "content_base64": base64.b64encode(encoded(scene(seed))).decode(),
    }
    return {"declaration": DECLARATION, "deposit": image}


@pytest.fixture
def token(session):
    user = make_user(session, email="retrying@example.org")
    _row, value = tokens.create(session=session, user=user, name="Retrying uploader")
    return value


def _file(client, token, body, key=None):
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post("/api/v1/registrations", json=body, headers=headers)


@pytest.mark.parametrize("key", ['"8e03978e-40d5-43e8-bc93-6894a57f9324"', "retry-42"])
def test_a_repeated_request_with_its_key_files_once(client, session, token, key):
    first = _file(client, token, _body(), key)
    assert first.status_code == 201, first.get_data(as_text=True)
    assert "Idempotent-Replayed" not in first.headers
    again = _file(client, token, _body(), key)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["number"] == first.get_json()["number"]
    assert again.headers["Location"] == first.headers["Location"]
    assert count(session, Registration) == 1 and count(session, IdempotencyKey) == 1


def test_without_a_key_each_request_is_a_filing(client, session, token):
    assert _file(client, token, _body()).status_code == 201
    assert _file(client, token, _body()).status_code == 201
    assert count(session, Registration) == 2


def test_a_key_sent_again_with_another_filing_is_refused(client, session, token, store):
    assert _file(client, token, _body(7), "batch-1").status_code == 201
    files = stored_files(store)
    response = _file(client, token, _body(8), "batch-1")
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "idempotency_key_reused"
    assert count(session, Registration) == 1 and count(session, Deposit) == 1
    assert stored_files(store) == files


def test_keys_belong_to_their_account(client, session, token):
    other = make_user(session, email="someone-else@example.org")
    _row, theirs = tokens.create(session=session, user=other, name="Theirs")
    first = _file(client, token, _body(), "shared-key")
    second = _file(client, theirs, _body(), "shared-key")
    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in second.headers
    assert first.get_json()["number"] != second.get_json()["number"]


@pytest.mark.parametrize("key", ["", '"unterminated', "with space", "x" * 256, "é"])
def test_a_malformed_key_is_refused_before_anything_is_filed(client, session, token, key):
    response = _file(client, token, _body(), key)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert "Idempotency-Key" in response.get_json()["error"]["message"]
    assert count(session, Registration) == 0


def test_a_refused_request_does_not_use_up_its_key(client, session, token):
    broken = _body()
    broken["declaration"] = {**DECLARATION, "title": ""}
    assert _file(client, token, broken, "try-again").status_code == 422
    assert _file(client, token, _body(), "try-again").status_code == 201
    assert count(session, Registration) == 1


def test_two_requests_with_one_key_at_once_file_once(app, session, token):
    answers = []

    def send() -> None:
        answers.append(_file(app.test_client(), token, _body(), "at-once"))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.status_code for a in answers] == [201] * 4, [
        a.get_data(as_text=True) for a in answers
    ]
    assert len({a.get_json()["number"] for a in answers}) == 1
    assert sum("Idempotent-Replayed" in a.headers for a in answers) == 3
    session.rollback()
    assert count(session, Registration) == 1


@pytest.fixture
def dying_checks(database_url, instance_path):
    """An app whose checks cannot finish (a memory budget nothing fits in) and whose
    submissions answer at the commit, as the registry's default does."""
    app = make_app(
        database_url,
        instance_path,
        **TEST_LIMITS,
        REGISTRY_CHECK_WAIT_SECONDS=0,
        REGISTRY_CHECK_BUDGET=Budget(cpu_seconds=5, memory_bytes=1, wall_seconds=30),
    )
    yield app
    dispose(app)


def test_the_filing_is_acknowledged_even_when_its_check_dies(dying_checks):
    app = dying_checks
    ext = app.extensions["registry"]
    with ext.session() as session:
        user = make_user(session, email="acknowledged@example.org")
        _row, value = tokens.create(session=session, user=user, name="Uploader")
    response = _file(app.test_client(), value, _body())
    assert response.status_code == 201, response.get_data(as_text=True)
    record = response.get_json()
    assert record["number"] and record["checking"] is True
    ext.runner.wait(timeout=60)
    with ext.session() as session:
        reg = session.exec(
            select(Registration).where(Registration.number == record["number"])
        ).one()
        assert (
            session.exec(select(MatchReport).where(MatchReport.registration_id == reg.id)).first()
            is None
        )
    # what the check could not do, `registry check` does
    result = app.test_cli_runner().invoke(args=["registry", "check"])
    assert result.exit_code == 0 and record["number"] in result.output
    later = app.test_client().get(f"/api/v1/registrations/{record['number']}").get_json()
    assert later["checking"] is False
