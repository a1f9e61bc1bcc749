"""Shared fixtures: an isolated, migrated database per test, on SQLite and on PostgreSQL.

Each test that takes ``app`` runs once per backend. The schema comes from the Alembic
migrations, applied once per session to a template that every test copies (a file copy on
SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL). PostgreSQL tests skip with the reason
when no server answers, unless REGISTRY_REQUIRE_SERVICES=1 (as in CI), where they fail instead.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
from dataclasses import replace
from pathlib import Path
from unittest import mock

import psycopg
import pytest

from registry import create_app
from registry.db import make_engine, upgrade
from registry.keys import init_instance
from registry.runner import Budgets
from registry.settings import PREFIX, Settings, load_settings
from tests import factories

PG_ADMIN = os.environ.get("REGISTRY_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_SERVICES = os.environ.get("REGISTRY_REQUIRE_SERVICES") == "1"
_counter = itertools.count()


# Every test has `timeout` seconds (pyproject.toml) before pytest-timeout fails it, so that a
# hung server or worker cannot hold CI; a test marked slow has this many instead.
SLOW_TIMEOUT = 900


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("slow") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(SLOW_TIMEOUT))


def _pg_url(dbname: str) -> str:
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{dbname}"


def _pg_admin() -> psycopg.Connection:
    return psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)


def _pg_available() -> str | None:
    """None when PostgreSQL answers; otherwise why not."""
    try:
        with _pg_admin() as conn:
            conn.execute("select 1")
    except psycopg.Error as exc:
        return f"PostgreSQL is not reachable at {PG_ADMIN}: {exc}".strip()
    return None


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "registry.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template() -> str:
    reason = _pg_available()
    if reason:
        if REQUIRE_SERVICES:
            pytest.fail(reason + " (REGISTRY_REQUIRE_SERVICES=1)")
        pytest.skip(reason)
    name = f"registry_tpl_{os.getpid()}"
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(_pg_url(name))
    upgrade(engine)
    engine.dispose()
    yield name
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        path = tmp_path / "registry.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("pg_template")
    name = f"registry_t_{os.getpid()}_{next(_counter)}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield _pg_url(name)
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def instance_path(tmp_path: Path) -> Path:
    return tmp_path / "instance"


# The `app` fixture's limits: small, so the tests can reach them.
TEST_LIMITS = {
    "REGISTRY_MAX_DEPOSIT_BYTES": 2 * 1024 * 1024,
    "MAX_CONTENT_LENGTH": 3 * 1024 * 1024,
    "REGISTRY_MAX_TEXT_BYTES": 256 * 1024,
    "REGISTRY_MAX_IMAGE_PIXELS": 4_000_000,
    "REGISTRY_PAGE_SIZE": 5,
    # Flask's form-field limit as the default settings make it (4 MiB of text + 512 KiB), above
    # the request limit: so a pasted text over its limit meets the filing's own check, which
    # says so, rather than the form parser's.
    "MAX_FORM_MEMORY_SIZE": 4 * 1024 * 1024 + 512 * 1024,
}


def settings_from_env(instance_path: Path | str, env: dict[str, str]) -> Settings:
    """The settings the environment ``env`` gives (its REGISTRY_* variables and no others),
    read as a deployment's are."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
    with mock.patch.dict(os.environ, {**kept, **env}, clear=True):
        return load_settings(instance_path=instance_path)


def make_app(database_url: str, instance_path: Path | str, **overrides):  # type: ignore[no-untyped-def]
    """An application for tests on ``database_url`` with its instance folder at
    ``instance_path`` (its keys made as ``python -m registry init`` makes them); the caller
    disposes of its engine (see ``dispose``).

    ``overrides`` are settings by variable name (``REGISTRY_PAGE_SIZE=5``; a ``..._BUDGET``
    takes a sandbox.Budget) or Flask's own keys (``RATELIMIT_ENABLED=False``)."""
    values: dict = {
        "instance_path": instance_path,
        "database_url": database_url,
        "secret_key": "test-secret",
        # A submission answers once its checks (run in a child process) are done, so that
        # tests read their results at once; tests of the default (answer at the commit) set 0.
        "check_wait_seconds": 120,
    }
    flask_config = {"TESTING": True}
    budgets = {}
    for name, value in overrides.items():
        if name in ("REGISTRY_SEARCH_BUDGET", "REGISTRY_CHECK_BUDGET"):
            budgets[name] = value
        elif name.startswith(PREFIX):
            values[name[len(PREFIX) :].lower()] = value
        else:
            flask_config[name] = value
    # The instance's keys, as `python -m registry init` makes them for the embedded default;
    # named, since a PostgreSQL database needs the log's key named.
    embedded = load_settings(instance_path=instance_path, secret_key="test-secret")
    init_instance(embedded)
    values.setdefault("log_key_file", embedded.log_key_path)
    settings = load_settings(**values)
    app = create_app(settings, flask_config=flask_config)
    if budgets:  # below the settings' own minimums, which tests may want
        ext = app.extensions["registry"]
        search = budgets.get("REGISTRY_SEARCH_BUDGET", ext.runner.budgets.search)
        ext.runner.budgets = Budgets(
            check=budgets.get("REGISTRY_CHECK_BUDGET", ext.runner.budgets.check), search=search
        )
        ext.limits = replace(ext.limits, budget=search)
    return app


def dispose(app) -> None:  # type: ignore[no-untyped-def]
    app.extensions["registry"].engine.dispose()


def verify_log(app) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """``registry verify-log`` on ``app``: its exit code and output."""
    result = app.test_cli_runner().invoke(args=["registry", "verify-log"])
    return result.exit_code, result.output


@pytest.fixture
def app(database_url: str, instance_path: Path):
    app = make_app(database_url, instance_path, **TEST_LIMITS)
    yield app
    dispose(app)


@pytest.fixture
def engine(app):
    return app.extensions["registry"].engine


@pytest.fixture
def store(app):
    return app.extensions["registry"].store


@pytest.fixture
def session(app):
    from registry.db import new_session

    with new_session(app.extensions["registry"].engine) as s:
        yield s


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, url: str = "/account/signin", **request) -> str:  # type: ignore[no-untyped-def]
    """A CSRF token for ``client``'s session, read from a page's form as a browser would;
    ``request`` goes to the GET (``base_url``, ``headers``)."""
    html = client.get(url, follow_redirects=True, **request).get_data(as_text=True)
    match = _TOKEN.search(html)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def sign_in(client, user, password: str = factories.PASSWORD, *, remember: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Sign ``user`` in on ``client`` through the form (with "keep me signed in" if asked)."""
    data = {"email": user.email, "password": password, "csrf_token": csrf_token(client)}
    if remember:
        data["remember"] = "y"
    response = client.post("/account/signin", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


class AuthActions:
    def __init__(self, client, session) -> None:
        self.client = client
        self.session = session

    def login(self, user=None, password: str = factories.PASSWORD):
        user = user or factories.make_user(self.session)
        sign_in(self.client, user, password)
        return user

    def logout(self) -> None:
        self.client.post("/account/signout", data={"csrf_token": csrf_token(self.client, "/")})
        # Signing out writes (the account's session version): on SQLite a read transaction the
        # test's session opened before it could no longer become a write, so end it here.
        self.session.commit()


@pytest.fixture
def auth(client, session) -> AuthActions:
    return AuthActions(client, session)


def stored_files(store) -> list[Path]:
    """Every file under the deposit store, temporary ones included."""
    if not store.root.exists():
        return []
    return [p for p in store.root.rglob("*") if p.is_file()]
