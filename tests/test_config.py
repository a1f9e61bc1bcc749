"""Settings: one typed object read from REGISTRY_* variables without side effects; the keys
``python -m registry init`` makes; the transparency log's key, the public address, proxies and
cookies."""

import subprocess
import sys

import pytest

from registry import ROOT, create_app
from registry.container import transparency_log
from registry.domain.transparency import key_id, new_private_key_pem
from registry.keys import MissingKey, init_instance, log_signing_key, secret_key
from registry.settings import LOCAL_HOSTS, Settings, SettingsError, load_settings, trusted_hosts
from registry.web import flask_config
from tests.conftest import settings_from_env


def test_loading_the_settings_writes_nothing(tmp_path):
    instance = tmp_path / "instance"
    settings = settings_from_env(instance, {})
    assert settings.database_url == f"sqlite:///{instance / 'registry.sqlite3'}"
    assert settings.deposit_dir == instance / "deposits"
    assert not instance.exists()


def test_init_makes_the_keys_once_and_keeps_them(tmp_path):
    settings = settings_from_env(tmp_path, {})
    made = init_instance(settings)
    assert made == [tmp_path / "secret_key", tmp_path / "log-signing-key.pem"]
    first = log_signing_key(settings)
    session_key = secret_key(settings)
    assert init_instance(settings) == []  # idempotent: nothing made, nothing changed
    assert key_id(first.public_key()) == key_id(log_signing_key(settings).public_key())
    assert secret_key(settings) == session_key and len(session_key) == 64
    for name in ("secret_key", "log-signing-key.pem"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600


def test_init_from_the_command_line(tmp_path):
    env = {"REGISTRY_INSTANCE_PATH": str(tmp_path / "instance"), "PATH": "/usr/bin:/bin"}
    run = [sys.executable, "-m", "registry", "init"]
    first = subprocess.run(run, env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    assert "log-signing-key.pem" in first.stdout and "is ready" in first.stdout
    again = subprocess.run(run, env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    assert "nothing to make" in again.stdout


def test_a_missing_key_stops_the_start_naming_the_command(tmp_path):
    settings = settings_from_env(tmp_path, {})
    with pytest.raises(MissingKey, match="python -m registry init"):
        create_app(settings)
    with pytest.raises(MissingKey, match="log signing key.*python -m registry init"):
        log_signing_key(settings)
    with pytest.raises(MissingKey, match="session key.*python -m registry init"):
        secret_key(settings)
    assert not (tmp_path / "log-signing-key.pem").exists()
    # A key given by the environment needs no file, and init makes none for it.
    named = settings_from_env(tmp_path, {"REGISTRY_SECRET_KEY": "s3cret"})
    assert secret_key(named) == "s3cret"
    assert init_instance(named) == [tmp_path / "log-signing-key.pem"]
    assert not (tmp_path / "secret_key").exists()


def test_a_shared_database_needs_the_logs_key_named(tmp_path):
    env = {"REGISTRY_DATABASE_URL": "postgresql+psycopg://db.example/registry"}
    with pytest.raises(ValueError, match="REGISTRY_LOG_KEY_FILE must name"):
        settings_from_env(tmp_path, env)
    key = tmp_path / "log.pem"
    key.write_bytes(new_private_key_pem())
    settings = settings_from_env(tmp_path, {**env, "REGISTRY_LOG_KEY_FILE": str(key)})
    assert log_signing_key(settings) is not None
    assert init_instance(settings) == [tmp_path / "secret_key"]
    assert not (tmp_path / "log-signing-key.pem").exists()


@pytest.mark.parametrize("content", [None, b"not a key", b"-----BEGIN PRIVATE KEY-----\nAA==\n"])
def test_a_missing_or_bad_key_file_stops_the_start(tmp_path, content):
    key = tmp_path / "log.pem"
    if content is not None:
        key.write_bytes(content)
    with pytest.raises(ValueError, match="REGISTRY_LOG_KEY_FILE"):
        settings = settings_from_env(tmp_path, {"REGISTRY_LOG_KEY_FILE": str(key)})
        transparency_log(settings)


def test_the_public_address_is_kept_without_a_trailing_slash(tmp_path):
    settings = settings_from_env(tmp_path, {"REGISTRY_PUBLIC_URL": "https://air.example/"})
    assert settings.public_url == "https://air.example"
    assert settings_from_env(tmp_path, {}).public_url is None


def test_trusted_proxies_default_to_none_and_must_be_a_count(tmp_path):
    assert settings_from_env(tmp_path, {}).trusted_proxies == 0
    assert settings_from_env(tmp_path, {"REGISTRY_TRUSTED_PROXIES": "2"}).trusted_proxies == 2
    for bad, why in (("-1", "must be 0 or more, not -1"), ("one", "must be a whole number")):
        with pytest.raises(SettingsError, match=f"REGISTRY_TRUSTED_PROXIES {why}"):
            settings_from_env(tmp_path, {"REGISTRY_TRUSTED_PROXIES": bad})


def test_numbers_blank_means_the_default_and_each_has_its_least(tmp_path):
    assert settings_from_env(tmp_path, {"REGISTRY_PAGE_SIZE": " "}).page_size == 20
    settings = settings_from_env(tmp_path, {"REGISTRY_SEARCH_MEMORY_MB": "256"})
    assert settings.search_budget.memory_bytes == 256 << 20
    assert settings.check_budget.wall_seconds == 90
    for name, bad, why in (
        ("REGISTRY_MAX_DEPOSIT_BYTES", "0", "must be 1 or more, not 0"),
        ("REGISTRY_SEARCH_MEMORY_MB", "63", "must be 64 or more, not 63"),
        ("REGISTRY_CHECK_CPU_SECONDS", "0.05", "must be 0.1 or more, not 0.05"),
        ("REGISTRY_CHECK_WAIT_SECONDS", "nan", "must be 0 or more, not nan"),
        ("REGISTRY_CHECK_WALL_SECONDS", "soon", "must be a number, not 'soon'"),
    ):
        with pytest.raises(SettingsError, match=f"{name} {why}"):
            settings_from_env(tmp_path, {name: bad})
    # Every malformed variable is named at once.
    with pytest.raises(SettingsError, match="(?s)REGISTRY_PAGE_SIZE.*REGISTRY_SIGNUP_LIMIT"):
        settings_from_env(tmp_path, {"REGISTRY_PAGE_SIZE": "0", "REGISTRY_SIGNUP_LIMIT": "x"})


def test_settings_can_be_constructed_by_field_name(tmp_path):
    settings = load_settings(instance_path=tmp_path, page_size=7, trusted_hosts=["Air.Example"])
    assert settings.page_size == 7 and settings.trusted_hosts == ("air.example",)
    with pytest.raises(SettingsError, match="REGISTRY_PAGE_SIZE must be 1 or more"):
        load_settings(instance_path=tmp_path, page_size=0)
    with pytest.raises(ValueError, match="page_sise"):
        Settings(instance_path=tmp_path, page_sise=7)  # a misspelt setting is refused


def test_secure_cookies_setting_covers_the_remember_me_cookie(tmp_path):
    init_instance(settings_from_env(tmp_path, {}))
    config = flask_config(settings_from_env(tmp_path, {"REGISTRY_SECURE_COOKIES": "1"}))
    assert config["SESSION_COOKIE_SECURE"] and config["REMEMBER_COOKIE_SECURE"]
    assert not flask_config(settings_from_env(tmp_path, {}))["REMEMBER_COOKIE_SECURE"]


def test_the_public_address_must_be_an_http_address(tmp_path):
    kept = settings_from_env(tmp_path, {"REGISTRY_PUBLIC_URL": "https://example.org/air/"})
    assert kept.public_url == "https://example.org/air"
    for bad in (
        "air.example",
        "ftp://air.example",
        "https://",
        "https://air.example/?x=1",
        "https://user:pw@air.example",
        "https://air.example:port",
    ):
        with pytest.raises(ValueError, match="REGISTRY_PUBLIC_URL"):
            settings_from_env(tmp_path, {"REGISTRY_PUBLIC_URL": bad})


def test_trusted_hosts_are_names_or_a_star(tmp_path):
    def hosts(value: str):  # type: ignore[no-untyped-def]
        return settings_from_env(tmp_path, {"REGISTRY_TRUSTED_HOSTS": value}).trusted_hosts

    assert settings_from_env(tmp_path, {}).trusted_hosts is None
    assert hosts(" Air.Example, .air.example,,10.0.0.5 ,air.example") == (
        "air.example",
        ".air.example",
        "10.0.0.5",
    )
    assert hosts("*") == ("*",)
    for bad in (
        "https://air.example",
        "air.example:443",
        "air.example/x",
        "[::1]",
        "*,air.example",
    ):
        with pytest.raises(ValueError, match="REGISTRY_TRUSTED_HOSTS"):
            hosts(bad)


def test_which_hosts_flask_trusts():
    # Neither set: only this machine's names, so the embedded default works on a laptop.
    assert trusted_hosts(None, None) == list(LOCAL_HOSTS) == [".localhost", "127.0.0.1"]
    # The public address's host, by default; named hosts come with it.
    assert trusted_hosts(None, "https://Air.Example:8443/registry") == ["air.example"]
    assert trusted_hosts(("registry.internal",), "https://air.example") == [
        "registry.internal",
        "air.example",
    ]
    assert trusted_hosts(("air.example",), None) == ["air.example"]
    # "*": any host (for a proxy that checks the host itself).
    assert trusted_hosts(("*",), "https://air.example") is None


def test_the_log_origin_is_a_key_name_or_unset(tmp_path):
    assert settings_from_env(tmp_path, {}).log_origin is None
    named = settings_from_env(tmp_path, {"REGISTRY_LOG_ORIGIN": " air.example/log "})
    assert named.log_origin == "air.example/log"
    for bad in ("air example/log", "air+example/log"):
        with pytest.raises(ValueError, match="REGISTRY_LOG_ORIGIN"):
            settings_from_env(tmp_path, {"REGISTRY_LOG_ORIGIN": bad})


def test_the_cli_and_the_worker_do_not_import_the_web_package():
    code = (
        "import sys, registry.cli, registry.worker, registry.runner, registry.container; "
        "print(sorted(m for m in sys.modules if m.startswith('registry.web')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
