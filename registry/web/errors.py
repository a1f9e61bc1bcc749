"""Error pages: every failure a person can cause gets a page that says what happened."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, TooManyRequests

from ..container import of
from ..deposits import human_size
from ..services.intake import ReadingUnavailable, database_has_no_room
from ..storage import StorageUnavailable
from .limits import limiter

# How long a client is asked to wait when the registry cannot store deposits: someone has to
# free space (or make the disk writable) first.
STORAGE_RETRY_AFTER = 300

_TEXT = {
    400: ("The request could not be understood", "Something in the request was malformed."),
    403: ("Not allowed", "Your account may not do this."),
    404: (
        "Not found",
        "There is nothing here, or nothing you may see. Registration numbers look like "
        "AIR-2026-000123.",
    ),
    405: ("Not allowed", "This address does not accept that kind of request."),
    413: ("Too large", ""),
    429: ("Too many requests", "Wait a moment and try again."),
    500: ("Something went wrong on our side", "The error was logged. Please try again later."),
    503: ("The registry cannot store deposits right now", StorageUnavailable.MESSAGE),
}


SEARCH_UNAVAILABLE = (
    "The registry cannot run this search right now (its workers are busy or did not answer in "
    "time). Nothing you sent was kept. Try again in a minute."
)

_CODES = {
    400: "invalid_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "server_error",
    503: "storage_unavailable",  # unless said otherwise (busy, search_unavailable)
}


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    """The API's error: ``{"error": {"code", "message"[, "fields"]}}``."""
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body}


def _page(
    code: int, message: str | None = None, *, title: str | None = None, api_code: str | None = None
) -> tuple[str | dict[str, Any], int]:
    """The error page; under /api/ the same as a JSON error with a stable code."""
    default_title, default = _TEXT.get(code, ("Error", ""))
    title = title or default_title
    if request.path.startswith("/api/"):
        return error_body(api_code or _CODES.get(code, "error"), message or default or title), code
    return render_template("error.html", code=code, title=title, message=message or default), code


def untrusted_host() -> ResponseReturnValue:
    """A request sent to a host name the registry does not answer to (web.templating)."""
    message = (
        "This registry does not answer to the host name this request was sent to. Use the "
        "registry's own address. If you run this registry, add the name to "
        "REGISTRY_TRUSTED_HOSTS (or set REGISTRY_PUBLIC_URL)."
    )
    if request.path.startswith("/api/"):
        return error_body("untrusted_host", message), 400
    return _page(400, message)


def _wait() -> tuple[str, int]:
    """How long until the client's rate limit lets it in again: in words, and in seconds (as
    Flask-Limiter counts them for the Retry-After header)."""
    current = limiter.current_limit
    seconds = max(1, int(current.reset_at - time.time())) if current else 60
    if seconds < 90:
        words = "a minute"
    elif seconds < 90 * 60:
        words = f"{round(seconds / 60)} minutes"
    else:
        words = f"{round(seconds / 3600)} hours"
    return words, seconds


def _form_limit_hit(exc: BaseException) -> str | None:
    """Which of Werkzeug's form limits raised ``exc``: "parts" (MAX_FORM_PARTS) or "field"
    (MAX_FORM_MEMORY_SIZE, a field other than a file too long); None when it cannot be told.
    Werkzeug raises the same exception for both, so the frame that raised it tells them apart:
    the multipart decoder counting parts, or the parser (or decoder) measuring a field."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None or "werkzeug" not in tb.tb_frame.f_code.co_filename:
        return None
    name = tb.tb_frame.f_code.co_name
    if name == "next_event":
        return "parts"
    if name in ("parse", "receive_data"):
        return "field"
    return None


def _form_too_large(app: Flask, exc: BaseException) -> str:
    parts = app.config.get("MAX_FORM_PARTS", 500)
    text = of(app).settings.max_text_bytes
    text_limit = f"{human_size(text)} ({text:,} bytes)" if text else "the limit for texts"
    hit = _form_limit_hit(exc)
    if hit == "parts":
        return (
            f"The form sent had too many fields or parts: at most {parts} are taken. "
            "Nothing was saved."
        )
    if hit == "field":
        return (
            "A field of the form was far longer than this registry accepts: pasted text may be "
            f"at most {text_limit}. Nothing was saved."
        )
    return (
        f"The form sent had too many fields or parts (at most {parts}), or a field far too "
        f"long (pasted text may be at most {text_limit}). Nothing was saved."
    )


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(_exc: CSRFError) -> ResponseReturnValue:
        return _page(
            400,
            "The form had expired or did not come from this site, so nothing was saved. "
            "Go back, reload the page and send it again.",
        )

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc: RequestEntityTooLarge) -> ResponseReturnValue:
        length = request.content_length
        if length is not None and length <= (app.config.get("MAX_CONTENT_LENGTH") or length):
            # Small enough as a whole: too many form parts, or one field too long.
            return _page(413, _form_too_large(app, exc))
        limit = of(app).settings.max_deposit_bytes / 1_048_576
        return _page(
            413,
            f"The upload was larger than this registry accepts ({limit:.0f} MB for a file). "
            "Nothing was saved. Go back and choose a smaller file.",
        )

    @app.errorhandler(StorageUnavailable)
    def _no_room(exc: StorageUnavailable) -> ResponseReturnValue:
        app.logger.error(
            "Cannot store deposits (%s %s): %s", request.method, request.path, exc.reason
        )
        body, code = _page(503, str(exc))  # JSON under /api/, the error page elsewhere
        return body, code, {"Retry-After": str(STORAGE_RETRY_AFTER)}

    @app.errorhandler(ReadingUnavailable)
    def _busy(exc: ReadingUnavailable) -> ResponseReturnValue:
        app.logger.error("Could not read an upload (%s %s): %s", request.method, request.path, exc)
        body, code = _page(
            503, ReadingUnavailable.MESSAGE, title="The registry is busy", api_code="busy"
        )
        return body, code, {"Retry-After": "30"}

    @app.errorhandler(DBAPIError)
    def _database(exc: DBAPIError) -> ResponseReturnValue:
        """A write the database refuses for want of room (outside a filing, which says so
        itself: a token's use, a sign-in) is the same 503; any other database error a 500."""
        if database_has_no_room(exc):
            return _no_room(StorageUnavailable(f"writing to the database: {exc.orig}"))
        return _unexpected(exc)

    @app.errorhandler(TooManyRequests)
    def _rate_limited(_exc: TooManyRequests) -> ResponseReturnValue:
        words, seconds = _wait()
        message = (
            "You have sent more requests than this registry answers from one address in a "
            f"while. Nothing was lost: try again in {words}."
        )
        body, code = _page(429, message)  # JSON under /api/, the error page elsewhere
        return body, code, {"Retry-After": str(seconds)}

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> ResponseReturnValue:
        if exc.code is None or exc.code < 400:
            return exc
        return _page(exc.code)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> ResponseReturnValue:
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return _page(500)
