"""Settings: read from ``REGISTRY_*`` environment variables, with embedded defaults.

The embedded default needs no other server: a SQLite file and the deposits live under the
instance folder. Pointing ``REGISTRY_DATABASE_URL`` at PostgreSQL and ``REGISTRY_DEPOSIT_DIR``
at a shared path is all a scaled-out deployment changes.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from limits import parse_many

from .domain.checkpoint import valid_name
from .domain.risk import RoutingPolicy
from .domain.transparency import load_private_key, new_private_key_pem

MIB = 1024 * 1024


def _number(environ: Mapping[str, str], name: str, default, minimum, kind, what: str):  # type: ignore[no-untyped-def]
    """``environ[name]`` read as ``kind`` (``int`` or ``float``), at least ``minimum``;
    ``default`` when it is unset or blank."""
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = kind(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be {what}, not {raw!r}") from exc
    if not value >= minimum:  # also refuses NaN
        show = (lambda v: f"{v:g}") if kind is float else str
        raise ValueError(f"{name} must be {show(minimum)} or more, not {show(value)}")
    return value


def _int(environ: Mapping[str, str], name: str, default: int, *, minimum: int = 1) -> int:
    return _number(environ, name, default, minimum, int, "a whole number")


def _float(environ: Mapping[str, str], name: str, default: float, *, minimum: float) -> float:
    return _number(environ, name, default, minimum, float, "a number")


def _budget(environ: Mapping[str, str], what: str, cpu: float, memory_mb: int, wall: float):  # type: ignore[no-untyped-def]
    """A sandbox.Budget from REGISTRY_<WHAT>_CPU_SECONDS, _MEMORY_MB and _WALL_SECONDS."""
    from .sandbox import Budget

    cpu_seconds = _float(environ, f"REGISTRY_{what}_CPU_SECONDS", cpu, minimum=0.1)
    wall_seconds = _float(environ, f"REGISTRY_{what}_WALL_SECONDS", wall, minimum=0.5)
    memory = _int(environ, f"REGISTRY_{what}_MEMORY_MB", memory_mb, minimum=64)
    return Budget(cpu_seconds=cpu_seconds, memory_bytes=memory * MIB, wall_seconds=wall_seconds)


def _rate_limit(environ: Mapping[str, str], name: str, default: str) -> str:
    """A rate limit string such as ``20 per minute;200 per day``, checked now."""
    raw = (environ.get(name) or "").strip() or default
    try:
        parse_many(raw)
    except ValueError as exc:
        raise ValueError(
            f"{name} must be rate limits such as '20 per minute;200 per day', not {raw!r} ({exc})"
        ) from None
    return raw


def _public_url(environ: Mapping[str, str]) -> str | None:
    """``REGISTRY_PUBLIC_URL`` without its trailing slash: http(s), a host, maybe a path."""
    raw = (environ.get("REGISTRY_PUBLIC_URL") or "").strip().rstrip("/")
    if not raw:
        return None
    parts = urlsplit(raw)
    if (
        parts.scheme not in {"http", "https"}
        or not parts.hostname
        or parts.query
        or parts.fragment
        or "@" in parts.netloc
    ):
        raise ValueError(
            "REGISTRY_PUBLIC_URL must be the registry's address such as https://air.example "
            f"(http or https, a host name, no query or user name), not {raw!r}"
        )
    try:
        parts.port  # noqa: B018  (raises for a port that is not a number)
    except ValueError:
        raise ValueError(f"REGISTRY_PUBLIC_URL has a bad port: {raw!r}") from None
    return raw


# A host name or IPv4 address, with a leading dot to take its subdomains too.
_HOST_NAME = re.compile(
    r"\.?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*", re.I | re.A
)
ANY_HOST = "*"


def _trusted_hosts(environ: Mapping[str, str]) -> tuple[str, ...] | None:
    """``REGISTRY_TRUSTED_HOSTS``: comma-separated host names (``.air.example`` takes every
    subdomain too), or ``*`` for any host; None when unset."""
    raw = (environ.get("REGISTRY_TRUSTED_HOSTS") or "").strip()
    if not raw:
        return None
    names = tuple(dict.fromkeys(n.strip().lower() for n in raw.split(",") if n.strip()))
    if ANY_HOST in names:
        if len(names) > 1:
            raise ValueError("REGISTRY_TRUSTED_HOSTS is either * (any host) or a list of names")
        return names
    for name in names:
        if not _HOST_NAME.fullmatch(name):
            raise ValueError(
                "REGISTRY_TRUSTED_HOSTS takes host names without scheme, port or path (such as "
                "air.example,.air.example; international names in their xn-- form; IPv6 "
                f"addresses cannot be listed), not {name!r}"
            )
    return names


# Where a developer's machine reaches the embedded default (``registry serve`` listens on
# 127.0.0.1); ``.localhost`` is localhost and its subdomains. Werkzeug compares a trusted name
# without what follows its first colon, so an IPv6 address such as [::1] can never match.
LOCAL_HOSTS = (".localhost", "127.0.0.1")


def trusted_hosts(configured: tuple[str, ...] | None, public_url: str | None) -> list[str] | None:
    """Flask's ``TRUSTED_HOSTS``: the names a request's Host (after ProxyFix, so a forwarded
    host too) must be one of, else it is refused with a 400. ``REGISTRY_TRUSTED_HOSTS`` and
    ``REGISTRY_PUBLIC_URL``'s host when either is set; with neither, only this machine's own
    names; None (any host) only when ``REGISTRY_TRUSTED_HOSTS`` is ``*``."""
    if configured == (ANY_HOST,):
        return None
    public = urlsplit(public_url).hostname if public_url else None
    names = [*(configured or ()), *([public] if public else [])]
    return list(dict.fromkeys(names)) or list(LOCAL_HOSTS)


def _create_once(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (owner-only) unless it exists; whole or not at all, so workers
    starting together agree on one file."""
    if path.exists():
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)


def _secret_key(instance_path: Path) -> str:
    """A key kept in the instance folder so sessions survive restarts of the embedded default."""
    path = instance_path / "secret_key"
    _create_once(path, secrets.token_hex(32).encode("ascii"))
    return path.read_text(encoding="ascii").strip()


def _log_key_path(instance_path: Path, configured: str | None, shared: bool) -> Path:
    """The transparency log's Ed25519 signing key: the PEM file ``REGISTRY_LOG_KEY_FILE`` names,
    or for the embedded default one generated into the instance folder on first run. A database
    other than the embedded SQLite may be shared by several instances, which must all sign with
    the log's one key, so there the file must be named."""
    if not configured and shared:
        raise ValueError(
            "REGISTRY_LOG_KEY_FILE must name the transparency log's signing key when "
            "REGISTRY_DATABASE_URL is not SQLite: every instance must sign with the same key "
            "(make one with: openssl genpkey -algorithm ed25519 -out log-signing-key.pem)"
        )
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise ValueError(f"REGISTRY_LOG_KEY_FILE: no key file at {path}")
    else:
        path = instance_path / "log-signing-key.pem"
        _create_once(path, new_private_key_pem())
    return path


def _load_log_key(path: Path) -> Ed25519PrivateKey:
    try:
        return load_private_key(path.read_bytes())
    except ValueError as exc:
        raise ValueError(
            f"REGISTRY_LOG_KEY_FILE: {path} is not an Ed25519 private key ({exc})"
        ) from None


def _log_origin(environ: Mapping[str, str]) -> str | None:
    raw = (environ.get("REGISTRY_LOG_ORIGIN") or "").strip()
    if raw and not valid_name(raw):
        raise ValueError(
            f"REGISTRY_LOG_ORIGIN must be a name without spaces or '+', such as "
            f"air.example/log, not {raw!r}"
        )
    return raw or None


def load_settings(instance_path: Path, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return the Flask config mapping built from ``environ`` (default: ``os.environ``).

    Raises ValueError when a variable is present but malformed, so a deployment fails at start
    rather than on the first request.
    """
    env = os.environ if environ is None else environ
    database_url = (
        env.get("REGISTRY_DATABASE_URL") or f"sqlite:///{instance_path / 'registry.sqlite3'}"
    )
    deposit_dir = Path(env.get("REGISTRY_DEPOSIT_DIR") or instance_path / "deposits")
    max_deposit = _int(env, "REGISTRY_MAX_DEPOSIT_BYTES", 25 * MIB)
    max_text = _int(env, "REGISTRY_MAX_TEXT_BYTES", 4 * MIB)
    secret = env.get("REGISTRY_SECRET_KEY") or _secret_key(instance_path)
    routing = env.get("REGISTRY_ROUTING_POLICY")
    try:
        policy = RoutingPolicy.parse(routing) if routing else RoutingPolicy()
    except ValueError as exc:
        raise ValueError(f"REGISTRY_ROUTING_POLICY: {exc}") from None
    key_path = _log_key_path(
        instance_path,
        env.get("REGISTRY_LOG_KEY_FILE"),
        shared=not database_url.startswith("sqlite"),
    )
    secure_cookies = env.get("REGISTRY_SECURE_COOKIES", "").lower() in {"1", "true"}
    return {
        "SECRET_KEY": secret,
        "REGISTRY_DATABASE_URL": database_url,
        "REGISTRY_DEPOSIT_DIR": str(deposit_dir),
        "REGISTRY_CACHE_DIR": str(Path(env.get("REGISTRY_CACHE_DIR") or instance_path / "cache")),
        "REGISTRY_MAX_DEPOSIT_BYTES": max_deposit,
        "REGISTRY_MAX_TEXT_BYTES": max_text,
        "REGISTRY_MAX_IMAGE_PIXELS": _int(env, "REGISTRY_MAX_IMAGE_PIXELS", 50_000_000),
        "REGISTRY_PAGE_SIZE": _int(env, "REGISTRY_PAGE_SIZE", 20),
        # What one upload may cost off the request path (registry.sandbox): the inspection of a
        # deposit and a reverse search (someone is waiting: seconds), and a filing's checks.
        "REGISTRY_SEARCH_BUDGET": _budget(env, "SEARCH", 5.0, 1024, 15.0),
        "REGISTRY_CHECK_BUDGET": _budget(env, "CHECK", 30.0, 1536, 90.0),
        # How long a submission waits for its checks before answering (0: it answers at the
        # commit, and the receipt follows the checks as they finish).
        "REGISTRY_CHECK_WAIT_SECONDS": _float(env, "REGISTRY_CHECK_WAIT_SECONDS", 0.0, minimum=0),
        "REGISTRY_ROUTING_POLICY": policy,
        # Where the registry is published, e.g. https://registry.example: signed certificates
        # name their key and record there, and the API's links point there (web.external_url).
        # Never taken from a request's Host header.
        "REGISTRY_PUBLIC_URL": _public_url(env),
        # The host names requests may be sent to (see trusted_hosts); None: see there.
        "REGISTRY_TRUSTED_HOSTS": _trusted_hosts(env),
        # The log's name in its C2SP checkpoints (and their signature lines), e.g.
        # air.example/log; None: made from REGISTRY_PUBLIC_URL.
        "REGISTRY_LOG_ORIGIN": _log_origin(env),
        # Redis for the rate limits shared by every worker and for the job queue of checks
        # (RQ); None keeps limits in memory and runs checks in the request.
        "REGISTRY_REDIS_URL": env.get("REGISTRY_REDIS_URL") or None,
        "REGISTRY_QUEUE": env.get("REGISTRY_QUEUE") or "registry-checks",
        # A TrueType font for certificate PDFs; by default one found on the system.
        "REGISTRY_PDF_FONT": env.get("REGISTRY_PDF_FONT") or None,
        "REGISTRY_REVERSE_SEARCH_LIMIT": _rate_limit(
            env, "REGISTRY_REVERSE_SEARCH_LIMIT", "20 per minute;200 per day"
        ),
        "REGISTRY_SIGNIN_LIMIT": _rate_limit(
            env, "REGISTRY_SIGNIN_LIMIT", "10 per minute;100 per hour"
        ),
        "REGISTRY_SIGNUP_LIMIT": _rate_limit(env, "REGISTRY_SIGNUP_LIMIT", "10 per hour"),
        "REGISTRY_FILING_LIMIT": _rate_limit(
            env, "REGISTRY_FILING_LIMIT", "60 per minute;600 per hour"
        ),
        "REGISTRY_LOG_KEY_PATH": str(key_path),
        "REGISTRY_LOG_SIGNING_KEY": _load_log_key(key_path),
        # The whole request may carry one deposit plus the form's own fields.
        "MAX_CONTENT_LENGTH": max_deposit + 2 * MIB,
        # Pasted text arrives as a form field rather than a file part.
        "MAX_FORM_MEMORY_SIZE": max_text + 512 * 1024,
        "MAX_FORM_PARTS": 500,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Cookies are Secure on every request that arrived over HTTPS (see web.templating);
        # this forces them Secure on every request, for a proxy that does not say the scheme.
        "SESSION_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        # How many reverse proxies in front of the registry to believe about the client's
        # address and scheme (X-Forwarded-For, X-Forwarded-Proto); 0 believes none.
        "REGISTRY_TRUSTED_PROXIES": _int(env, "REGISTRY_TRUSTED_PROXIES", 0, minimum=0),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": 6 * 3600,
    }
