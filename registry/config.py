"""Settings: read from ``REGISTRY_*`` environment variables, with embedded defaults.

The embedded default needs no other server: a SQLite file and the deposits live under the
instance folder. Pointing ``REGISTRY_DATABASE_URL`` at PostgreSQL and ``REGISTRY_DEPOSIT_DIR``
at a shared path is all a scaled-out deployment changes.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .domain.risk import RoutingPolicy

MIB = 1024 * 1024


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from exc
    if value <= 0:
        raise ValueError(f"{name} must be positive, not {value}")
    return value


def _secret_key(instance_path: Path) -> str:
    """A key kept in the instance folder so sessions survive restarts of the embedded default."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key)
    return key


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
    return {
        "SECRET_KEY": secret,
        "REGISTRY_DATABASE_URL": database_url,
        "REGISTRY_DEPOSIT_DIR": str(deposit_dir),
        "REGISTRY_CACHE_DIR": str(Path(env.get("REGISTRY_CACHE_DIR") or instance_path / "cache")),
        "REGISTRY_MAX_DEPOSIT_BYTES": max_deposit,
        "REGISTRY_MAX_TEXT_BYTES": max_text,
        "REGISTRY_MAX_IMAGE_PIXELS": _int(env, "REGISTRY_MAX_IMAGE_PIXELS", 50_000_000),
        "REGISTRY_PAGE_SIZE": _int(env, "REGISTRY_PAGE_SIZE", 20),
        "REGISTRY_ROUTING_POLICY": policy,
        # The whole request may carry one deposit plus the form's own fields.
        "MAX_CONTENT_LENGTH": max_deposit + 2 * MIB,
        # Pasted text arrives as a form field rather than a file part.
        "MAX_FORM_MEMORY_SIZE": max_text + 512 * 1024,
        "MAX_FORM_PARTS": 500,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env.get("REGISTRY_SECURE_COOKIES", "").lower() in {"1", "true"},
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": 6 * 3600,
    }
