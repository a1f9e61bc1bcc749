"""Error pages: every failure a person can cause gets a page that says what happened."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

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
}


def _page(code: int, message: str | None = None):  # type: ignore[no-untyped-def]
    title, default = _TEXT.get(code, ("Error", ""))
    return render_template("error.html", code=code, title=title, message=message or default), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(_exc: CSRFError):  # type: ignore[no-untyped-def]
        return _page(
            400,
            "The form had expired or did not come from this site, so nothing was saved. "
            "Go back, reload the page and send it again.",
        )

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(_exc: RequestEntityTooLarge):  # type: ignore[no-untyped-def]
        limit = app.config["REGISTRY_MAX_DEPOSIT_BYTES"] / 1_048_576
        return _page(
            413,
            f"The upload was larger than this registry accepts ({limit:.0f} MB for a file). "
            "Nothing was saved. Go back and choose a smaller file.",
        )

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):  # type: ignore[no-untyped-def]
        if exc.code is None or exc.code < 400:
            return exc
        return _page(exc.code)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return _page(500)
