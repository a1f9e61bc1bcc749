"""What every template can use (labels, badges, dates), the headers and cookies of every
response, and which host names the registry answers to."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask, Response, current_app, has_request_context, request
from flask.globals import request_ctx
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix

from ..container import of
from ..domain import vocabulary
from ..domain.events import EventKind
from ..domain.risk import Tier
from ..domain.statuses import Status
from ..domain.transparency import parse_time
from .wording import risk_reason

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def _when(value: datetime | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d %B %Y, %H:%M UTC").lstrip("0")
    return value.strftime("%d %B %Y").lstrip("0")


def _status(code: str) -> Status:
    return Status(code)


def _segments(text: str, spans: list[list[int]]) -> list[tuple[str, bool]]:
    """``text`` cut into (piece, inside a span) runs, for highlighting copied passages."""
    marks = sorted((max(0, a), min(len(text), b)) for a, b in spans if b > a)
    pieces: list[tuple[str, bool]] = []
    pos = 0
    for a, b in marks:
        if b <= pos:
            continue
        a = max(a, pos)
        if a > pos:
            pieces.append((text[pos:a], False))
        pieces.append((text[a:b], True))
        pos = b
    if pos < len(text):
        pieces.append((text[pos:], False))
    return pieces


# A year: browsers that once reached the registry over HTTPS keep to HTTPS.
HSTS = "max-age=31536000"


class RegistryResponse(Response):
    """Every cookie set on an answer to an HTTPS request is Secure: the session and CSRF
    cookie (Flask) and the remember-me cookie (Flask-Login) alike, whatever the settings say.
    Over plain HTTP (a laptop) they stay usable; ``REGISTRY_SECURE_COOKIES`` forces them."""

    def set_cookie(self, key: str, *args: Any, secure: bool = False, **kwargs: Any) -> None:
        secure = secure or (has_request_context() and request.is_secure)
        super().set_cookie(key, *args, secure=secure, **kwargs)  # type: ignore[misc]  # callers give secure by keyword, never in args


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def _refuse_untrusted_host() -> ResponseReturnValue | None:
    """A request whose Host (or trusted proxy's X-Forwarded-Host) is not in ``TRUSTED_HOSTS``
    gets a 400 page (JSON under /api/) before anything else runs: no view, no CSRF check, no
    rate limit. Flask found it out while routing and left no URL adapter, so the error page's
    own (relative) links are built with one bound to a trusted name."""
    if not isinstance(request.routing_exception, SecurityError):
        return None
    from .errors import untrusted_host

    hosts = current_app.config.get("TRUSTED_HOSTS") or ["localhost"]
    name = next((h for h in hosts if not h.startswith(".")), hosts[0].lstrip("."))
    request_ctx.url_adapter = current_app.url_map.bind(
        name, script_name=request.root_path or "/", url_scheme=request.scheme
    )
    current_app.logger.warning(
        "Refused a request for the host %r: it is neither in REGISTRY_TRUSTED_HOSTS nor "
        "REGISTRY_PUBLIC_URL's host (trusted: %s)",
        request.environ.get("HTTP_HOST", ""),
        ", ".join(hosts),
    )
    return untrusted_host()


def logged_time(stamp: str) -> str:
    """A log time (2026-11-24T09:30:00.000000Z) as people read it; anything else as it is."""
    try:
        at = parse_time(stamp)
    except (TypeError, ValueError):
        return str(stamp)
    return at.strftime("%d %B %Y, %H:%M:%S UTC").lstrip("0")


def init_app(app: Flask) -> None:
    app.response_class = RegistryResponse
    proxies = of(app).settings.trusted_proxies
    if proxies:
        # Believe that many proxies about the client's address (rate limits count clients),
        # the scheme (Secure cookies) and the host the browser asked for (Flask-WTF compares
        # the referrer with it on HTTPS). Signed documents never take the host from a request.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # Flask's documented way to wrap the WSGI app
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    # Flask refuses a request whose Host is not one of app.config["TRUSTED_HOSTS"] (see
    # web.flask_config; after ProxyFix, a forwarded host is checked too). Absolute links come
    # from REGISTRY_PUBLIC_URL when set (external_url).
    # First of all the before-request functions, ahead of Flask-WTF's and Flask-Limiter's.
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_untrusted_host)
    app.jinja_env.filters["when"] = _when
    app.jinja_env.filters["logged_time"] = logged_time
    app.jinja_env.filters["risk_reason"] = risk_reason
    app.jinja_env.globals["status_of"] = _status
    app.jinja_env.globals["segments"] = _segments
    app.jinja_env.globals["tier_of"] = Tier
    app.jinja_env.globals["event_kind"] = EventKind
    app.after_request(_security_headers)

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {"vocab": vocabulary, "Status": Status}
