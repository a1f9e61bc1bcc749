"""The web layer: blueprints with thin views, and what every request shares.

A view parses its input, calls one service with the request's session, and renders or
redirects. The session, the deposit store and the upload limits come from here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, flash, g, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from sqlmodel import Session

from .. import container as _container
from ..container import Container
from ..keys import secret_key
from ..settings import MIB, Settings

csrf = CSRFProtect()
login_manager = LoginManager()

#: The web layer's name for the container (the views' ``ext()``).
Extension = Container


def ext() -> Container:
    """The app's container: engine, store, limits, matcher, log, runner and ``settings``."""
    return _container.of(current_app)


def settings() -> Settings:
    """The app's settings (``ext().settings``)."""
    return ext().settings


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute address of ``endpoint`` for an answer (a link in JSON, a Location header):
    under ``REGISTRY_PUBLIC_URL`` when that is set, whatever Host the request named; otherwise
    from the request's scheme and host, which ``TRUSTED_HOSTS`` has checked (web.templating)."""
    public = settings().public_url
    if not public:
        return url_for(endpoint, _external=True, **values)
    parts = urlsplit(public)
    current_app.inject_url_defaults(endpoint, values)
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme
    )
    return adapter.build(endpoint, values, force_external=True)


def perform(action: Callable[[], object], success: str, back: str) -> ResponseReturnValue:
    """Run one service step from a form; flash what happened (or the service's reason why not)
    and go ``back``. A step on a filing the user may not see is a 404."""
    from ..services.guards import ExaminationError

    try:
        action()
    except ExaminationError as exc:
        flash(str(exc), "error")
    except LookupError:
        abort(404)
    else:
        flash(success, "success")
    return redirect(back)


def whole_number(raw: str | None, *, at_most: int = 10**12) -> int | None:
    """A whole number as a query or form field sends it: ASCII digits only (``str.isdigit``
    would take "²"), at most ``at_most``; None for anything else, which the caller replaces
    with its default."""
    raw = (raw or "").strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 13:
        return None
    value = int(raw)
    return value if value <= at_most else None


def db_session() -> Session:
    """The request's session, opened on first use and closed when the request ends."""
    if "db_session" not in g:
        g.db_session = ext().session()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def flask_config(settings: Settings) -> dict[str, Any]:
    """Flask's and its extensions' keys, from the registry's settings."""
    return {
        "SECRET_KEY": secret_key(settings),
        # The whole request may carry one deposit plus the form's own fields.
        "MAX_CONTENT_LENGTH": settings.max_deposit_bytes + 2 * MIB,
        # Pasted text arrives as a form field rather than a file part.
        "MAX_FORM_MEMORY_SIZE": settings.max_text_bytes + 512 * 1024,
        "MAX_FORM_PARTS": 500,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Cookies are Secure on every request that arrived over HTTPS (see web.templating);
        # this forces them Secure on every request, for a proxy that does not say the scheme.
        "SESSION_COOKIE_SECURE": settings.secure_cookies,
        "REMEMBER_COOKIE_SECURE": settings.secure_cookies,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": 6 * 3600,
        # The host names requests may be sent to (see settings.trusted_hosts): a request for
        # another Host is refused with a 400 (ProxyFix's forwarded host is checked too).
        "TRUSTED_HOSTS": settings.allowed_hosts,
    }


def init_app(app: Flask) -> None:
    """The web layer on ``app``, whose container is built (``create_app``)."""
    app.teardown_appcontext(_close_session)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.signin"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"

    from . import auth, certificates, errors, examine, filing, limits, public, similar, templating

    templating.init_app(app)
    errors.init_app(app)
    limits.init_app(app)
    app.register_blueprint(public.bp)
    app.register_blueprint(similar.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(filing.bp)
    app.register_blueprint(examine.bp)
    app.register_blueprint(certificates.bp)
    from . import api, log

    app.register_blueprint(api.bp)
    app.register_blueprint(log.bp)
