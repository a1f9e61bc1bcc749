"""Which host names the registry answers to, and where its absolute links point: at
REGISTRY_PUBLIC_URL when set, never at whatever Host (or X-Forwarded-Host) a request names."""

from __future__ import annotations

import http.client
import json
import threading

import pytest
from werkzeug.serving import make_server

from registry.services import tokens
from tests.conftest import TEST_LIMITS, csrf_token, dispose, make_app
from tests.factories import make_user
from tests.harness.server import API_LITERARY
from tests.web.test_api import DECLARATION, _image

PUBLIC = "https://air.example"
EVIL = "evil.example"


@pytest.fixture
def make(database_url, instance_path):
    """``make(**settings)``: an application with these settings (as the environment would
    give them), disposed of after the test."""
    made = []

    def build(**settings):  # type: ignore[no-untyped-def]
        app = make_app(database_url, instance_path, **TEST_LIMITS, **settings)
        made.append(app)
        return app

    yield build
    for app in made:
        dispose(app)


def _token(app) -> str:  # type: ignore[no-untyped-def]
    from registry.db import new_session

    with new_session(app.extensions["registry"].engine) as session:
        user = make_user(session)
        return tokens.create(session=session, user=user, name="Uploader")[1]


def _api_answers(client, token: str, headers: dict[str, str]) -> list:  # type: ignore[no-untyped-def]
    """Every kind of API answer: a filing (its record and Location), the record, a search,
    reverse search, the log's routes, the OpenAPI document, an error, and the certificate."""
    auth = {"Authorization": f"Bearer {token}", **headers}
    filed = client.post(
        "/api/v1/registrations",
        json={"declaration": DECLARATION, "deposit": _image()},
        headers=auth,
    )
    answers = [filed]
    number = filed.get_json().get("number") if filed.status_code == 201 else "AIR-2026-000001"
    for url in (
        f"/api/v1/registrations/{number}",
        "/api/v1/registrations?q=lighthouse",
        "/api/v1/registrations",
        f"/api/v1/registrations/{number}/certificate",
        "/api/v1/openapi.json",
        "/api/v1/log/key",
        "/api/v1/log/tree-head",
        "/api/v1/log/entries",
        "/api/v1/log/proof/inclusion?leaf_index=0",
        "/api/v1/registrations/AIR-1999-999999",
        "/api/v1/nowhere",
    ):
        answers.append(client.get(url, headers=headers))
    answers.append(
        client.post("/api/v1/search/similar", json={"deposit": _image()}, headers=headers)
    )
    return answers


def _mentions(response, name: str) -> bool:  # type: ignore[no-untyped-def]
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    return name in headers or name in response.get_data(as_text=True)


def test_with_a_public_url_no_api_answer_links_to_the_requests_host(make):
    """The registry answers to an internal name too: its links still go to the public one."""
    app = make(REGISTRY_PUBLIC_URL=PUBLIC, REGISTRY_TRUSTED_HOSTS=("registry.internal",))
    client = app.test_client()
    answers = _api_answers(client, _token(app), {"Host": "registry.internal"})
    filed = answers[0]
    assert filed.status_code == 201, filed.get_data(as_text=True)
    number = filed.get_json()["number"]
    assert filed.headers["Location"] == f"{PUBLIC}/api/v1/registrations/{number}"
    assert filed.get_json()["url"] == f"{PUBLIC}/registrations/{number}"
    assert answers[1].get_json()["url"] == f"{PUBLIC}/registrations/{number}"
    [item] = answers[2].get_json()["items"]
    assert item["url"] == f"{PUBLIC}/api/v1/registrations/{number}"
    for response in answers:
        assert response.status_code < 500
        assert not _mentions(response, "registry.internal"), response.request.path


@pytest.mark.parametrize("trusted", [None, ("*",)], ids=["default", "any-host"])
def test_host_evil_example_gets_no_link_to_it_when_the_public_url_is_set(make, trusted):
    """By default only the public URL's host is answered; where any host is (``*``), the
    links still come from the public URL."""
    settings = {"REGISTRY_PUBLIC_URL": PUBLIC}
    if trusted:
        settings["REGISTRY_TRUSTED_HOSTS"] = trusted
    app = make(**settings)
    client = app.test_client()
    answers = _api_answers(client, _token(app), {"Host": EVIL})
    for response in answers:
        assert not _mentions(response, EVIL), (response.request.path, response.headers)
        assert response.status_code < 500
    if trusted:
        assert answers[0].status_code == 201
        assert answers[0].headers["Location"].startswith(f"{PUBLIC}/api/v1/registrations/")
    else:
        assert {r.status_code for r in answers} == {400}
        assert {r.get_json()["error"]["code"] for r in answers} == {"untrusted_host"}


def test_a_forwarded_host_is_checked_and_never_linked(make):
    app = make(REGISTRY_PUBLIC_URL=PUBLIC, REGISTRY_TRUSTED_PROXIES=1)
    client = app.test_client()
    token = _token(app)
    forged = {"Host": "air.example", "X-Forwarded-Host": EVIL, "X-Forwarded-Proto": "https"}
    for response in _api_answers(client, token, forged):
        assert response.status_code == 400 and not _mentions(response, EVIL)
    honest = {"Host": "127.0.0.1:8000", "X-Forwarded-Host": "air.example"}
    filed = _api_answers(client, token, honest)[0]
    assert filed.status_code == 201
    assert filed.headers["Location"].startswith(f"{PUBLIC}/api/v1/registrations/")


def test_a_public_url_with_a_path_prefixes_every_link(make):
    app = make(REGISTRY_PUBLIC_URL="https://example.org/air")
    client = app.test_client()
    filed = _api_answers(client, _token(app), {"Host": "example.org"})[0]
    number = filed.get_json()["number"]
    assert filed.headers["Location"] == f"https://example.org/air/api/v1/registrations/{number}"
    assert filed.get_json()["url"] == f"https://example.org/air/registrations/{number}"


def test_an_untrusted_host_gets_a_clear_400_page_never_a_500(make):
    app = make(REGISTRY_PUBLIC_URL=PUBLIC)
    client = app.test_client()
    # The form's token from the right host, posted to the wrong one: refused before the CSRF
    # check and the rate limit, with the page (not a 500 from a page without links).
    token = csrf_token(client, headers={"Host": "air.example"})
    for method, url, data in [
        ("GET", "/", None),
        ("GET", "/search?q=x", None),
        ("GET", "/no/such/page", None),
        (
            "POST",
            "/account/signin",
            {"email": "a@example.org", "password": "x", "csrf_token": token},
        ),
        ("POST", "/account/signup", {}),
    ]:
        response = client.open(url, method=method, data=data, headers={"Host": EVIL})
        assert response.status_code == 400, (url, response.status_code)
        html = response.get_data(as_text=True)
        assert response.mimetype == "text/html"
        assert "does not answer to the host name" in html and "REGISTRY_TRUSTED_HOSTS" in html
        assert EVIL not in html
        assert response.headers["X-Frame-Options"] == "DENY"  # the usual headers still
    ok = client.get("/", headers={"Host": "air.example"})
    assert ok.status_code == 200


@pytest.mark.parametrize(
    "host, status",
    [
        ("localhost", 200),
        ("localhost:5000", 200),
        ("127.0.0.1:5000", 200),
        ("registry.localhost", 200),
        (EVIL, 400),
        ("localhost.evil.example", 400),
        ("127.0.0.2", 400),
    ],
)
def test_with_neither_setting_only_this_machines_own_names_are_answered(app, host, status):
    response = app.test_client().get("/api/v1/log/key", headers={"Host": host})
    assert response.status_code == status
    if status == 400:
        assert response.get_json()["error"]["code"] == "untrusted_host"


def test_a_subdomain_entry_takes_the_name_and_its_subdomains(make):
    client = make(REGISTRY_TRUSTED_HOSTS=(".air.example", "10.0.0.5")).test_client()
    for host, status in [
        ("air.example", 200),
        ("www.air.example", 200),
        ("10.0.0.5:8000", 200),
        ("localhost", 400),  # naming hosts replaces the local default
        ("notair.example", 400),
    ]:
        assert client.get("/", headers={"Host": host}).status_code == status, host


def test_the_embedded_default_works_at_127_0_0_1_and_localhost(app):
    """A real server on loopback, as ``registry serve`` runs it: no setting needed, and the
    API's links are the address the developer used."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_port
    try:
        token = _token(app)

        def call(host: str, method: str = "GET", path: str = "/", body=None):  # type: ignore[no-untyped-def]
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            headers = {"Host": host, "Authorization": f"Bearer {token}"}
            if body is not None:
                headers["Content-Type"] = "application/json"
            conn.request(method, path, body=json.dumps(body) if body else None, headers=headers)
            response = conn.getresponse()
            result = response.status, dict(response.getheaders()), response.read()
            conn.close()
            return result

        for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
            status, _headers, html = call(host)
            assert status == 200 and b"<html" in html
        body = {"declaration": API_LITERARY, "deposit": {"text": "A poem for the test.\n"}}
        status, headers, _ = call(f"localhost:{port}", "POST", "/api/v1/registrations", body)
        assert status == 201
        assert headers["Location"].startswith(f"http://localhost:{port}/api/v1/registrations/")
        status, _headers, answer = call(f"{EVIL}:{port}")
        assert status == 400 and EVIL.encode() not in answer
    finally:
        server.shutdown()
        thread.join(timeout=5)
