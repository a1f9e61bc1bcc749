"""Rate limits: on signing in and up (password guessing, mass accounts), on filing (the web
form and the API draw from one budget) and on the reverse search (page and API alike).

Counts live in memory in the embedded default, which is right for one process; with
``REGISTRY_REDIS_URL`` set they live in Redis, so every worker and machine shares them. The
client is the remote address: behind reverse proxies, set ``REGISTRY_TRUSTED_PROXIES`` to their
number so the address is the client's (from X-Forwarded-For), not the proxy's.
"""

from __future__ import annotations

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address, headers_enabled=True)


def _limit(setting: str):  # type: ignore[no-untyped-def]
    """A limit shared by every view it decorates (one budget per client), read from the app's
    ``setting`` and counted on POST only (showing a form costs nothing). Over it, the request
    is answered 429 with a Retry-After header (see errors.py)."""
    return limiter.shared_limit(
        lambda: current_app.config[setting], scope=setting.lower(), methods=["POST"]
    )


reverse_search_limit = _limit("REGISTRY_REVERSE_SEARCH_LIMIT")
signin_limit = _limit("REGISTRY_SIGNIN_LIMIT")
signup_limit = _limit("REGISTRY_SIGNUP_LIMIT")
filing_limit = _limit("REGISTRY_FILING_LIMIT")


def init_app(app: Flask) -> None:
    """Attach the limiter to ``app``: Redis storage when ``REGISTRY_REDIS_URL`` is set, else
    memory."""
    app.config["RATELIMIT_STORAGE_URI"] = app.config.get("REGISTRY_REDIS_URL") or "memory://"
    # Set here, not left to the extension's default, so that one app's setting is not carried
    # over to the next one initialised with this module-level limiter (tests make many apps).
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)
