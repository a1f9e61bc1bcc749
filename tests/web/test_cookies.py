"""Cookies: HttpOnly and SameSite=Lax always, Secure on every answer to an HTTPS request (direct,
or through a trusted proxy that says so), and the proxy's word believed only when configured."""

from __future__ import annotations

import pytest

from tests.conftest import TEST_LIMITS, csrf_token, dispose, make_app
from tests.factories import PASSWORD, make_user

HTTPS = "https://registry.localhost"  # a name the embedded default answers to
HTTP = "http://registry.localhost"


def _cookies(response) -> dict[str, str]:
    """The Set-Cookie headers of ``response``, by cookie name."""
    return {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}


def _attributes(cookie: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}


def _sign_in(client, user, *, base_url: str, origin: str, headers: dict[str, str] | None = None):
    """Sign ``user`` in with "keep me signed in" as a browser on ``origin`` would: it sends its
    own page as the referrer, which Flask-WTF checks on HTTPS. Returns the sign-in page's
    answer and the sign-in's."""
    headers = dict(headers or {})
    page = client.get("/account/signin", base_url=base_url, headers=headers)
    token = csrf_token(client, base_url=base_url, headers=headers)
    return page, client.post(
        "/account/signin",
        base_url=base_url,
        headers={**headers, "Referer": f"{origin}/account/signin"},
        data={"email": user.email, "password": PASSWORD, "remember": "y", "csrf_token": token},
    )


@pytest.fixture
def proxied_app(database_url, instance_path):
    app = make_app(database_url, instance_path, REGISTRY_TRUSTED_PROXIES=1, **TEST_LIMITS)
    yield app
    dispose(app)


def test_over_https_every_cookie_is_secure_and_hsts_is_sent(app, client, session):
    page, response = _sign_in(client, make_user(session), base_url=HTTPS, origin=HTTPS)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    cookies = _cookies(page) | _cookies(response)
    assert {"session", "remember_token"} <= cookies.keys()
    for name, cookie in cookies.items():
        assert {"secure", "httponly"} <= _attributes(cookie), (name, cookie)
        assert "samesite=lax" in cookie.lower(), cookie
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_over_plain_http_cookies_are_not_secure_so_a_laptop_can_sign_in(app, client, session):
    page, response = _sign_in(client, make_user(session), base_url=HTTP, origin=HTTP)
    assert response.status_code == 302
    cookies = _cookies(page) | _cookies(response)
    assert {"session", "remember_token"} <= cookies.keys()
    for cookie in cookies.values():
        assert "secure" not in _attributes(cookie) and "httponly" in _attributes(cookie)
    assert "Strict-Transport-Security" not in response.headers
    assert client.get("/filings/", base_url=HTTP).status_code == 200  # the session works


def test_secure_cookies_setting_forces_secure_over_http(
    database_url, instance_path, session, monkeypatch
):
    monkeypatch.setenv("REGISTRY_SECURE_COOKIES", "1")
    app = make_app(database_url, instance_path, **TEST_LIMITS)
    try:
        user = make_user(session)
        page, response = _sign_in(app.test_client(), user, base_url=HTTP, origin=HTTP)
        assert response.status_code == 302
        for cookie in (_cookies(page) | _cookies(response)).values():
            assert "secure" in _attributes(cookie), cookie
    finally:
        dispose(app)


def test_a_trusted_proxy_saying_https_makes_cookies_secure(proxied_app, session):
    client = proxied_app.test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    page, response = _sign_in(
        client, make_user(session), base_url=HTTP, origin=HTTPS, headers=forwarded
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    cookies = _cookies(page) | _cookies(response)
    assert {"session", "remember_token"} <= cookies.keys()
    for cookie in cookies.values():
        assert "secure" in _attributes(cookie), cookie
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_without_trusted_proxies_forwarded_headers_are_ignored(app, client, session):
    response = client.get("/account/signin", base_url=HTTP, headers={"X-Forwarded-Proto": "https"})
    assert "secure" not in _attributes(_cookies(response)["session"])
    assert "Strict-Transport-Security" not in response.headers


def _wrong_password(client, user, address: str) -> int:
    headers = {"X-Forwarded-For": address}
    token = csrf_token(client, headers=headers)
    data = {"email": user.email, "password": "wrong", "csrf_token": token}
    return client.post("/account/signin", headers=headers, data=data).status_code


def test_rate_limits_count_the_forwarded_client_only_behind_a_trusted_proxy(
    app, proxied_app, session
):
    user = make_user(session)
    for each in (app, proxied_app):
        each.extensions["registry"].settings.signin_limit = "2 per minute"
    behind = proxied_app.test_client()
    codes = [_wrong_password(behind, user, "198.51.100.1") for _ in range(3)]
    assert codes == [422, 422, 429]
    # Another client behind the same proxy has its own budget.
    assert _wrong_password(behind, user, "198.51.100.2") == 422
    # Untrusted: the header is the client's own claim, so changing it buys nothing.
    direct = app.test_client()
    codes = [_wrong_password(direct, user, f"192.0.2.{i}") for i in range(3)]
    assert codes == [422, 422, 429]
