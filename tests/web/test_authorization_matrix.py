"""The authorization matrix: every route, every method, five kinds of visitor, one table.

``MATRIX`` below is the single place that says who may do what. Each row is one (rule, method)
of ``app.url_map`` and the outcome expected for: an anonymous visitor, creator A (who owns every
filing and token in the URL), creator B (another creator), an examiner and an administrator.
``test_the_matrix_names_every_route`` fails when a route is added, removed or given another
method without the table following, so a new route cannot ship without someone deciding who may
reach it.

Outcomes: a status code, ``LOGIN`` (302 to the sign-in page) or ``REDIR`` (302 to a page of the
app's own flow, never sign-in: a dashboard for the signed-in, the page a step came from). A POST
carries a valid CSRF token and, where the view needs one, a body chosen so that an authorized
user's request changes nothing (see ``BODY``): the point is who gets through, not what the step
does. So an examiner's step answers REDIR (back to the review page) whether it was done or
refused with a flash: there REDIR means the role check let the examiner through. Under /api/v1
the signed-in columns send that user's personal API token and no cookie.

URL parameters name objects the ``world`` fixture makes once per backend:
  draft       A's draft, with an image deposit, never submitted (private to A)
  pending     A's submitted image, awaiting examination; it matches B's earlier registration
  pending/B   the pending filing and the number of B's earlier registration it matched (B's
              deposit is not public: only examiners see it beside A's filing)
  registered  A's registered text, with a certificate
  A's token   a spare API token of A's (A's API calls use another one)
"""

# The table is one row per line, its columns aligned: wider than the house's 100 characters.
# ruff: noqa: E501

from __future__ import annotations

import io
import os
import re
import shutil
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest

from registry import create_app
from registry.db import new_session
from registry.keys import init_instance
from registry.services import decisions, examining, intake, matching, tokens
from registry.settings import load_settings
from tests.conftest import TEST_LIMITS, _counter, _pg_admin, _pg_url, csrf_token, make_app
from tests.factories import (
    PASSWORD,
    POEM,
    encoded,
    image_bytes,
    make_user,
    save_draft,
    scene,
    submit_text,
    submit_work,
)

LOGIN = "login"  # 302 to /account/signin
REDIR = "302"  # 302 elsewhere: the app's own flow

ROLES = ("anonymous", "creator_a", "creator_b", "examiner", "admin")

# fmt: off
MATRIX = [
    # method  rule                                               objects       anon   A      B      exam   admin
    # --- public pages: anyone -------------------------------------------------------------------
    ("GET",  "/",                                                "",           200,   200,   200,   200,   200),
    ("GET",  "/lookup",                                          "registered", REDIR, REDIR, REDIR, REDIR, REDIR),
    ("GET",  "/search",                                          "",           200,   200,   200,   200,   200),
    ("GET",  "/registrations/<number>",                          "registered", 200,   200,   200,   200,   200),
    ("GET",  "/registrations/<number>/certificate",              "registered", 200,   200,   200,   200,   200),
    ("GET",  "/registrations/<number>/certificate.json",         "registered", 200,   200,   200,   200,   200),
    ("GET",  "/registrations/<number>/certificate.pdf",          "registered", 200,   200,   200,   200,   200),
    ("GET",  "/check",                                           "",           200,   200,   200,   200,   200),
    ("POST", "/check",                                           "",           422,   422,   422,   422,   422),
    ("GET",  "/verify",                                          "",           200,   200,   200,   200,   200),
    ("POST", "/verify",                                          "",           422,   422,   422,   422,   422),
    ("GET",  "/log",                                             "",           200,   200,   200,   200,   200),
    ("GET",  "/log/key.pem",                                     "",           200,   200,   200,   200,   200),
    ("GET",  "/log/checkpoint",                                  "",           200,   200,   200,   200,   200),
    # --- accounts: sign-in and sign-up for the signed-out; tokens are each user's own ------------
    ("GET",  "/account/signin",                                  "",           200,   REDIR, REDIR, REDIR, REDIR),
    ("POST", "/account/signin",                                  "",           422,   REDIR, REDIR, REDIR, REDIR),
    ("GET",  "/account/signup",                                  "",           200,   REDIR, REDIR, REDIR, REDIR),
    ("POST", "/account/signup",                                  "",           422,   REDIR, REDIR, REDIR, REDIR),
    ("POST", "/account/signout",                                 "",           REDIR, REDIR, REDIR, REDIR, REDIR),
    ("GET",  "/account/tokens",                                  "",           LOGIN, 200,   200,   200,   200),
    ("POST", "/account/tokens",                                  "",           LOGIN, 422,   422,   422,   422),
    ("POST", "/account/tokens/<int:token_id>/revoke",            "A's token",  LOGIN, REDIR, 404,   404,   404),
    # --- the creator's side: a filing is its owner's; examiners read submitted ones --------------
    ("GET",  "/filings/",                                        "",           LOGIN, 200,   200,   200,   200),
    ("GET",  "/filings/new",                                     "",           LOGIN, 200,   200,   200,   200),
    ("POST", "/filings/new",                                     "",           LOGIN, 200,   200,   200,   200),
    ("GET",  "/filings/<uid>/edit",                              "draft",      LOGIN, 200,   404,   404,   404),
    ("POST", "/filings/<uid>/edit",                              "draft",      LOGIN, 200,   404,   404,   404),
    ("GET",  "/filings/<uid>",                                   "pending",    LOGIN, 200,   404,   200,   200),
    ("GET",  "/filings/<uid>/deposit",                           "draft",      LOGIN, 200,   404,   404,   404),
    ("GET",  "/filings/<uid>/thumbnail",                         "pending",    LOGIN, 200,   404,   200,   200),
    ("GET",  "/filings/<uid>/matches/<number>/thumbnail",        "pending/B",  LOGIN, 404,   404,   200,   200),
    ("GET",  "/filings/<uid>/receipt",                           "pending",    LOGIN, 200,   404,   404,   404),
    ("POST", "/filings/<uid>/reply",                             "pending",    LOGIN, REDIR, 404,   404,   404),
    ("POST", "/filings/<uid>/reconsideration",                   "pending",    LOGIN, REDIR, 404,   404,   404),
    ("POST", "/filings/<uid>/supplementary",                     "pending",    LOGIN, REDIR, 404,   404,   404),
    # --- the examiner's workspace: examiners and administrators only -----------------------------
    ("GET",  "/examine/",                                        "",           LOGIN, 403,   403,   200,   200),
    ("GET",  "/examine/<uid>",                                   "pending",    LOGIN, 403,   403,   200,   200),
    ("POST", "/examine/<uid>/claim",                             "registered", LOGIN, 403,   403,   REDIR, REDIR),
    ("POST", "/examine/<uid>/release",                           "registered", LOGIN, 403,   403,   REDIR, REDIR),
    ("POST", "/examine/<uid>/matches/<number>/disposition",      "pending/B",  LOGIN, 403,   403,   REDIR, REDIR),
    ("POST", "/examine/<uid>/determination",                     "registered", LOGIN, 403,   403,   REDIR, REDIR),
    ("POST", "/examine/<uid>/request",                           "registered", LOGIN, 403,   403,   REDIR, REDIR),
    ("POST", "/examine/<uid>/reopen",                            "registered", LOGIN, 403,   403,   REDIR, REDIR),
    ("POST", "/examine/<uid>/cancel",                            "registered", LOGIN, 403,   403,   REDIR, REDIR),
    # only an administrator assigns: the examiner passes the role check, the service refuses
    ("POST", "/examine/<uid>/assign",                            "registered", LOGIN, 403,   403,   REDIR, REDIR),
    # --- the JSON API: public reads; filing needs a token (and files in its owner's name) --------
    ("GET",  "/api/v1/openapi.json",                             "",           200,   200,   200,   200,   200),
    ("GET",  "/api/v1/registrations",                            "",           200,   200,   200,   200,   200),
    ("POST", "/api/v1/registrations",                            "",           401,   400,   400,   400,   400),
    ("GET",  "/api/v1/registrations/<number>",                   "registered", 200,   200,   200,   200,   200),
    ("GET",  "/api/v1/registrations/<number>/certificate",       "registered", 200,   200,   200,   200,   200),
    ("POST", "/api/v1/search/similar",                           "",           400,   400,   400,   400,   400),
    ("GET",  "/api/v1/log/key",                                  "",           200,   200,   200,   200,   200),
    ("GET",  "/api/v1/log/tree-head",                            "",           200,   200,   200,   200,   200),
    ("GET",  "/api/v1/log/checkpoint",                           "",           200,   200,   200,   200,   200),
    ("GET",  "/api/v1/log/entries",                              "",           200,   200,   200,   200,   200),
    ("GET",  "/api/v1/log/proof/inclusion",                      "",           200,   200,   200,   200,   200),
    ("GET",  "/api/v1/log/proof/consistency",                    "",           200,   200,   200,   200,   200),
]
# fmt: on

# What a request sends besides the URL and the CSRF token (web) or the API token (API). Every
# body lets an authorized user through the checks of who they are and changes nothing the other
# rows rely on: the filing form asks for one more row and saves nothing; a creator's step on the
# pending filing passes the ownership check and is then refused for the filing's state; an
# examiner's step has no fields (or is on the registered filing), so it passes the role check and
# is then refused with a flash; the API bodies pass the token check and lack a declaration or a
# deposit. Everything else is posted empty.
BODY: dict[tuple[str, str], dict] = {
    ("POST", "/filings/new"): {"action": "add_author"},
    ("POST", "/filings/<uid>/edit"): {"action": "add_author"},
    ("POST", "/filings/<uid>/reply"): {"body": "Here is the answer you asked for."},
    ("POST", "/filings/<uid>/reconsideration"): {"argument": "Please look again."},
}
JSON_BODY: dict[tuple[str, str], dict] = {
    ("POST", "/api/v1/registrations"): {},
    ("POST", "/api/v1/search/similar"): {},
}
QUERY: dict[tuple[str, str], str] = {
    ("GET", "/lookup"): "number={number}",
    ("GET", "/api/v1/log/proof/inclusion"): "leaf_index=0",
    ("GET", "/api/v1/log/proof/consistency"): "first=1",
}


# ---- the app and its objects, once per backend -----------------------------------------------


@dataclass
class Visitor:
    cookie: str | None = None  # the session cookie (signed in, with a CSRF secret)
    csrf: str = ""
    api_token: str | None = None
    email: str | None = None  # a signed-in visitor's, to sign in again after signing out


@dataclass
class World:
    app: object
    objects: dict[str, dict[str, str]]
    visitors: dict[str, Visitor] = field(default_factory=dict)


def _database(backend: str, request: pytest.FixtureRequest, tmp_path) -> tuple[str, str | None]:
    if backend == "sqlite":
        path = tmp_path / "registry.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}", None
    template = request.getfixturevalue("pg_template")
    name = f"registry_m_{os.getpid()}_{next(_counter)}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return _pg_url(name), name


def _sign_in(app, user) -> Visitor:
    client = app.test_client()
    response = client.post(
        "/account/signin",
        data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    token = csrf_token(client, "/")
    return Visitor(cookie=client.get_cookie("session").value, csrf=token, email=user.email)


def _anonymous(app) -> Visitor:
    client = app.test_client()
    token = csrf_token(client)
    return Visitor(cookie=client.get_cookie("session").value, csrf=token)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    backend = request.param
    tmp = tmp_path_factory.mktemp(f"matrix-{backend}")
    url, pg_name = _database(backend, request, tmp)
    app = make_app(
        url,
        tmp / "instance",
        **TEST_LIMITS,
        # Some fifty sign-in, filing and search POSTs in a few seconds, from one address.
        RATELIMIT_ENABLED=False,
    )
    ext = app.extensions["registry"]
    policy = app.extensions["registry"].settings.routing_policy
    try:
        with new_session(ext.engine) as session:
            a = make_user(session, email="a@example.org", name="Creator A")
            b = make_user(session, email="b@example.org", name="Creator B")
            examiner = make_user(session, email="examiner@example.org", role="examiner")
            admin = make_user(session, email="admin@example.org", role="admin")

            def picture(fmt: str) -> intake.DepositUpload:
                return intake.DepositUpload(file=io.BytesIO(encoded(scene(51), fmt)))

            earlier = submit_work(
                session, ext.store, b, upload=picture("PNG"), matcher=ext.matcher, policy=policy
            )
            pending = submit_work(
                session, ext.store, a, upload=picture("WEBP"), matcher=ext.matcher, policy=policy
            )
            registered = submit_text(session, ext.store, a, POEM)
            examining.claim(session=session, uid=registered.uid, examiner=examiner)
            decisions.determine(
                session=session,
                uid=registered.uid,
                examiner=examiner,
                outcome="registered",
                rationale="The poem is the creator's own.",
            )
            draft = save_draft(
                session,
                ext.store,
                a,
                upload=intake.DepositUpload(file=io.BytesIO(image_bytes(colour=(10, 90, 30)))),
            )
            spare, _ = tokens.create(session=session, user=a, name="spare")
            api_tokens = {
                role: tokens.create(session=session, user=user, name="matrix")[1]
                for role, user in [
                    ("creator_a", a),
                    ("creator_b", b),
                    ("examiner", examiner),
                    ("admin", admin),
                ]
            }
            # the pending filing waits for an examiner, and its report names B's earlier work
            assert pending.status == "submitted" and draft.deposit_sha256
            report = matching.get_report(session, pending)
            assert earlier.number in {m.number for m in matching.report_matches(report)}
            objects = {
                "": {},
                "draft": {"uid": draft.uid},
                "pending": {"uid": pending.uid},
                "pending/B": {"uid": pending.uid, "number": earlier.number},
                "registered": {"uid": registered.uid, "number": registered.number},
                "A's token": {"token_id": str(spare.id)},
            }
            users = {"creator_a": a, "creator_b": b, "examiner": examiner, "admin": admin}
        world = World(app=app, objects=objects)
        world.visitors["anonymous"] = _anonymous(app)
        for role, user in users.items():
            world.visitors[role] = _sign_in(app, user)
            world.visitors[role].api_token = api_tokens[role]
        yield world
    finally:
        ext.engine.dispose()
        if pg_name:
            with _pg_admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


# ---- the checks ------------------------------------------------------------------------------

_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def _url(world: World, method: str, rule: str, objects: str) -> str:
    values = world.objects[objects]
    path = _PARAM.sub(lambda m: values[m.group(1)], rule)
    query = QUERY.get((method, rule))
    return f"{path}?{query.format(**values)}" if query else path


def _outcome(response) -> int | str:
    if response.status_code == 302:
        target = urlsplit(response.headers["Location"]).path
        return LOGIN if target == "/account/signin" else REDIR
    return response.status_code


def _cases():
    for row in MATRIX:
        method, rule, objects, *expected = row
        for role, outcome in zip(ROLES, expected, strict=True):
            yield pytest.param(method, rule, objects, role, outcome, id=f"{method} {rule} {role}")


@pytest.mark.parametrize(("method", "rule", "objects", "role", "expected"), list(_cases()))
def test_who_may_reach_what(world: World, method, rule, objects, role, expected):
    url = _url(world, method, rule, objects)
    visitor = world.visitors[role]
    client = world.app.test_client()  # a fresh one: signing out or a flash touches no other check
    headers = {}
    kwargs: dict = {}
    if rule.startswith("/api/"):
        if role != "anonymous":
            headers["Authorization"] = f"Bearer {visitor.api_token}"
        if (method, rule) in JSON_BODY:
            kwargs["json"] = JSON_BODY[(method, rule)]
    else:
        client.set_cookie("session", visitor.cookie)
        if method == "POST":
            kwargs["data"] = {**BODY.get((method, rule), {}), "csrf_token": visitor.csrf}
    response = client.open(url, method=method, headers=headers, **kwargs)
    if (method, rule) == ("POST", "/account/signout") and visitor.email:
        # Signing out ended every session of the account: the next checks need a new one.
        world.visitors[role] = _sign_in(world.app, visitor)
        world.visitors[role].api_token = visitor.api_token
    got = _outcome(response)
    location = response.headers.get("Location", "")
    assert got == expected, (
        f"{method} {url} as {role}: expected {expected}, got {got} "
        f"(HTTP {response.status_code}{' to ' + location if location else ''})"
    )
    if got == LOGIN:
        # back to where the visitor was going once signed in
        assert urlsplit(url).path in location.replace("%2F", "/"), location


def test_the_matrix_names_every_route(tmp_path):
    """Adding a route (or a method to one) without deciding here who may use it fails."""
    settings = load_settings(instance_path=tmp_path)
    init_instance(settings)
    app = create_app(settings, flask_config={"TESTING": True})
    in_app = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    keys = [(row[0], row[1]) for row in MATRIX]
    in_table = set(keys)
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    missing = sorted(in_app - in_table)
    stale = sorted(in_table - in_app)
    problems = [f"no entry in MATRIX for {m} {r}" for m, r in missing]
    problems += [f"MATRIX entry for {m} {r}, which the app does not serve" for m, r in stale]
    problems += [f"MATRIX has {m} {r} more than once" for m, r in duplicates]
    assert not problems, "\n".join(problems)


def test_the_matrix_rows_are_well_formed():
    for method, rule, objects, *expected in MATRIX:
        assert method in {"GET", "POST", "PUT", "PATCH", "DELETE"}, (method, rule)
        assert len(expected) == len(ROLES), (method, rule)
        assert objects in {"", "draft", "pending", "pending/B", "registered", "A's token"}
        for outcome in expected:
            assert outcome in {LOGIN, REDIR} or isinstance(outcome, int), (method, rule, outcome)
    for key in [*BODY, *JSON_BODY, *QUERY]:
        assert key in {(row[0], row[1]) for row in MATRIX}, f"{key} is not a row of MATRIX"
