"""Rate limits on what anyone may ask without an account (the reverse search).

Counts live in memory in the embedded default, which is right for one process; with
``REGISTRY_REDIS_URL`` set they live in Redis, so every worker and machine shares them. The
client is the remote address: behind a reverse proxy, configure it (e.g. Werkzeug's ProxyFix) so
the address is the client's, not the proxy's.
"""

from __future__ import annotations

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

#: Counts for every route decorated with ``reverse_search_limit`` are shared (one budget per
#: client for the page and the API alike).
REVERSE_SEARCH_SCOPE = "reverse-search"

limiter = Limiter(key_func=get_remote_address, headers_enabled=True)


def _reverse_search_limit() -> str:
    return current_app.config["REGISTRY_REVERSE_SEARCH_LIMIT"]


#: Decorate a view that runs a reverse search: ``REGISTRY_REVERSE_SEARCH_LIMIT`` per client,
#: counted on POST only (showing the empty form costs nothing). Over it, the request is answered
#: 429 with a Retry-After header (see errors.py).
reverse_search_limit = limiter.shared_limit(
    _reverse_search_limit, scope=REVERSE_SEARCH_SCOPE, methods=["POST"]
)


def init_app(app: Flask) -> None:
    """Attach the limiter to ``app``: Redis storage when ``REGISTRY_REDIS_URL`` is set, else
    memory."""
    app.config["RATELIMIT_STORAGE_URI"] = app.config.get("REGISTRY_REDIS_URL") or "memory://"
    # Set here, not left to the extension's default, so that one app's setting is not carried
    # over to the next one initialised with this module-level limiter (tests make many apps).
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)
