"""Settings: the transparency log's key, the public address, proxies and cookies."""

import pytest

from registry.config import load_settings
from registry.domain.transparency import key_id, new_private_key_pem


def test_the_embedded_default_generates_one_key_and_keeps_it(tmp_path):
    first = load_settings(tmp_path, {})["REGISTRY_LOG_SIGNING_KEY"]
    again = load_settings(tmp_path, {})["REGISTRY_LOG_SIGNING_KEY"]
    assert key_id(first.public_key()) == key_id(again.public_key())
    assert (tmp_path / "log-signing-key.pem").stat().st_mode & 0o777 == 0o600


def test_a_shared_database_needs_the_logs_key_named(tmp_path):
    env = {"REGISTRY_DATABASE_URL": "postgresql+psycopg://db.example/registry"}
    with pytest.raises(ValueError, match="REGISTRY_LOG_KEY_FILE must name"):
        load_settings(tmp_path, env)
    key = tmp_path / "log.pem"
    key.write_bytes(new_private_key_pem())
    settings = load_settings(tmp_path, {**env, "REGISTRY_LOG_KEY_FILE": str(key)})
    assert settings["REGISTRY_LOG_SIGNING_KEY"] is not None
    assert not (tmp_path / "log-signing-key.pem").exists()


@pytest.mark.parametrize("content", [None, b"not a key", b"-----BEGIN PRIVATE KEY-----\nAA==\n"])
def test_a_missing_or_bad_key_file_stops_the_start(tmp_path, content):
    key = tmp_path / "log.pem"
    if content is not None:
        key.write_bytes(content)
    with pytest.raises(ValueError, match="REGISTRY_LOG_KEY_FILE"):
        load_settings(tmp_path, {"REGISTRY_LOG_KEY_FILE": str(key)})


def test_the_public_address_is_kept_without_a_trailing_slash(tmp_path):
    settings = load_settings(tmp_path, {"REGISTRY_PUBLIC_URL": "https://air.example/"})
    assert settings["REGISTRY_PUBLIC_URL"] == "https://air.example"
    assert load_settings(tmp_path, {})["REGISTRY_PUBLIC_URL"] is None


def test_trusted_proxies_default_to_none_and_must_be_a_count(tmp_path):
    assert load_settings(tmp_path, {})["REGISTRY_TRUSTED_PROXIES"] == 0
    two = load_settings(tmp_path, {"REGISTRY_TRUSTED_PROXIES": "2"})
    assert two["REGISTRY_TRUSTED_PROXIES"] == 2
    for bad in ("-1", "one"):
        with pytest.raises(ValueError, match="REGISTRY_TRUSTED_PROXIES"):
            load_settings(tmp_path, {"REGISTRY_TRUSTED_PROXIES": bad})


def test_secure_cookies_setting_covers_the_remember_me_cookie(tmp_path):
    settings = load_settings(tmp_path, {"REGISTRY_SECURE_COOKIES": "1"})
    assert settings["SESSION_COOKIE_SECURE"] and settings["REMEMBER_COOKIE_SECURE"]
    assert not load_settings(tmp_path, {})["REMEMBER_COOKIE_SECURE"]


def test_the_public_address_must_be_an_http_address(tmp_path):
    kept = load_settings(tmp_path, {"REGISTRY_PUBLIC_URL": "https://example.org/air/"})
    assert kept["REGISTRY_PUBLIC_URL"] == "https://example.org/air"
    for bad in (
        "air.example",
        "ftp://air.example",
        "https://",
        "https://air.example/?x=1",
        "https://user:pw@air.example",
        "https://air.example:port",
    ):
        with pytest.raises(ValueError, match="REGISTRY_PUBLIC_URL"):
            load_settings(tmp_path, {"REGISTRY_PUBLIC_URL": bad})


def test_trusted_hosts_are_names_or_a_star(tmp_path):
    def hosts(value: str):  # type: ignore[no-untyped-def]
        return load_settings(tmp_path, {"REGISTRY_TRUSTED_HOSTS": value})["REGISTRY_TRUSTED_HOSTS"]

    assert load_settings(tmp_path, {})["REGISTRY_TRUSTED_HOSTS"] is None
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
    from registry.config import LOCAL_HOSTS, trusted_hosts

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
    assert load_settings(tmp_path, {})["REGISTRY_LOG_ORIGIN"] is None
    named = load_settings(tmp_path, {"REGISTRY_LOG_ORIGIN": " air.example/log "})
    assert named["REGISTRY_LOG_ORIGIN"] == "air.example/log"
    for bad in ("air example/log", "air+example/log"):
        with pytest.raises(ValueError, match="REGISTRY_LOG_ORIGIN"):
            load_settings(tmp_path, {"REGISTRY_LOG_ORIGIN": bad})
