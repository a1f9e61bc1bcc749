"""Rate limits on signing in, signing up and filing (web form and API share one budget)."""

from __future__ import annotations

import pytest

from registry.services import tokens
from tests.conftest import csrf_token
from tests.factories import make_user


@pytest.fixture
def tight(app):
    settings = app.extensions["registry"].settings
    settings.signin_limit = "3 per minute"
    settings.signup_limit = "2 per minute"
    settings.filing_limit = "2 per minute"
    return app


def _limited(response) -> None:
    assert response.status_code == 429, response.status_code
    assert int(response.headers["Retry-After"]) > 0
    assert "try again in" in response.get_data(as_text=True)


def test_sign_in_attempts_are_limited_per_address(tight, client, session):
    user = make_user(session)
    for _ in range(3):
        data = {"email": user.email, "password": "wrong", "csrf_token": csrf_token(client)}
        assert client.post("/account/signin", data=data).status_code == 422
    data = {"email": user.email, "password": "wrong", "csrf_token": csrf_token(client)}
    _limited(client.post("/account/signin", data=data))
    assert client.get("/account/signin").status_code == 200  # the form itself still shows


def test_sign_ups_are_limited_per_address(tight, client):
    for _ in range(2):
        client.post(
            "/account/signup",
            data={"display_name": "x", "email": "bad", "csrf_token": csrf_token(client)},
        )
    _limited(client.post("/account/signup", data={"csrf_token": csrf_token(client)}))


def test_filing_on_the_web_and_through_the_api_share_a_limit(tight, client, session, auth):
    user = auth.login()
    _row, token = tokens.create(session=session, user=user, name="t")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/registrations", json={}, headers=headers).status_code == 400
    token_field = csrf_token(client, "/filings/new")
    assert client.post("/filings/new", data={"csrf_token": token_field}).status_code in (302, 422)
    response = client.post("/api/v1/registrations", json={}, headers=headers)
    assert response.status_code == 429 and response.get_json()["error"]["code"] == "rate_limited"
