"""Rate limits: on signing in and up (password guessing, mass accounts), on filing (the web
form and the API draw from one budget) and on the reverse search (page and API alike).

Counts live in memory in the embedded default, which is right for one process; with
``REGISTRY_REDIS_URL`` set they live in Redis, so every worker and machine shares them. The
client is the remote address: behind reverse proxies, set ``REGISTRY_TRUSTED_PROXIES`` to their
number so the address is the client's (from X-Forwarded-For), not the proxy's.
"""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter, RouteLimit
from flask_limiter.util import get_remote_address

from ..settings import env_name

limiter = Limiter(key_func=get_remote_address, headers_enabled=True)


def _limit(setting: str) -> RouteLimit:
    """A limit shared by every view it decorates (one budget per client), read from the app's
    ``setting`` (a field of Settings) on each request and counted on POST only (showing a form
    costs nothing). Over it, the request is answered 429 with a Retry-After header (see
    errors.py)."""
    from . import settings

    return limiter.shared_limit(
        lambda: getattr(settings(), setting), scope=env_name(setting).lower(), methods=["POST"]
    )


reverse_search_limit = _limit("reverse_search_limit")
signin_limit = _limit("signin_limit")
signup_limit = _limit("signup_limit")
filing_limit = _limit("filing_limit")


def init_app(app: Flask) -> None:
    """Attach the limiter to ``app``: Redis storage when ``REGISTRY_REDIS_URL`` is set, else
    memory."""
    from ..container import of

    app.config["RATELIMIT_STORAGE_URI"] = of(app).settings.redis_url or "memory://"
    # Set here, not left to the extension's default, so that one app's setting is not carried
    # over to the next one initialised with this module-level limiter (tests make many apps).
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)
