"""What every template can use (labels, badges, dates) and the headers and cookies of every
response."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask, Response, has_request_context, request
from werkzeug.middleware.proxy_fix import ProxyFix

from ..domain import vocabulary
from ..domain.risk import Tier
from ..domain.statuses import Status
from ..domain.transparency import parse_time

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
        super().set_cookie(key, *args, secure=secure, **kwargs)


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def logged_time(stamp: str) -> str:
    """A log time (2026-11-24T09:30:00.000000Z) as people read it; anything else as it is."""
    try:
        at = parse_time(stamp)
    except (TypeError, ValueError):
        return str(stamp)
    return at.strftime("%d %B %Y, %H:%M:%S UTC").lstrip("0")


def init_app(app: Flask) -> None:
    app.response_class = RegistryResponse
    proxies = app.config.get("REGISTRY_TRUSTED_PROXIES", 0)
    if proxies:
        # Believe that many proxies about the client's address (rate limits count clients),
        # the scheme (Secure cookies) and the host the browser asked for (Flask-WTF compares
        # the referrer with it on HTTPS). Signed documents never take the host from a request.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    app.jinja_env.filters["when"] = _when
    app.jinja_env.filters["logged_time"] = logged_time
    app.jinja_env.globals["status_of"] = _status
    app.jinja_env.globals["segments"] = _segments
    app.jinja_env.globals["tier_of"] = Tier
    # Events only staff see on a filing's timeline (the creator sees status changes and letters).
    app.jinja_env.globals["internal_events"] = frozenset({"triaged", "match_disposed", "released"})
    app.after_request(_security_headers)

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {"vocab": vocabulary, "Status": Status}
