"""The web layer: blueprints with thin views, and what every request shares.

A view parses its input, calls one service with the request's session, and renders or
redirects. The session, the deposit store and the upload limits come from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, flash, g, redirect, url_for
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine
from sqlmodel import Session

from ..db import make_engine, new_session
from ..domain.transparency import key_id
from ..runner import Budgets, Runner
from ..services.intake import Limits
from ..services.matching import Matcher
from ..services.transparency import TransparencyLog, attach_signer, bind_signer, default_origin
from ..storage import DepositStore

csrf = CSRFProtect()
login_manager = LoginManager()


@dataclass
class Extension:
    engine: Engine
    store: DepositStore
    limits: Limits
    cache_dir: Path
    log: TransparencyLog
    matcher: Matcher = field(default_factory=Matcher)
    # Where checks and reverse searches run: RQ workers, or budgeted child processes.
    runner: Runner = field(init=False)

    def session(self) -> Session:
        """A new session whose status changes sign the log's new tree head as they commit."""
        return attach_signer(new_session(self.engine), self.log)


def ext() -> Extension:
    return current_app.extensions["registry"]


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute address of ``endpoint`` for an answer (a link in JSON, a Location header):
    under ``REGISTRY_PUBLIC_URL`` when that is set, whatever Host the request named; otherwise
    from the request's scheme and host, which ``TRUSTED_HOSTS`` has checked (web.templating)."""
    public = current_app.config.get("REGISTRY_PUBLIC_URL")
    if not public:
        return url_for(endpoint, _external=True, **values)
    parts = urlsplit(public)
    current_app.inject_url_defaults(endpoint, values)
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme
    )
    return adapter.build(endpoint, values, force_external=True)


def perform(action, success: str, back: str):  # type: ignore[no-untyped-def]
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


def db_session() -> Session:
    """The request's session, opened on first use and closed when the request ends."""
    if "db_session" not in g:
        g.db_session = ext().session()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def _log(app: Flask) -> TransparencyLog:
    """The log's key, its origin (``REGISTRY_LOG_ORIGIN``, or one made from
    ``REGISTRY_PUBLIC_URL``) and the folder its checkpoints are published in."""
    cfg = app.config
    key = cfg["REGISTRY_LOG_SIGNING_KEY"]
    origin = cfg.get("REGISTRY_LOG_ORIGIN") or default_origin(
        cfg.get("REGISTRY_PUBLIC_URL"), key_id(key.public_key())
    )
    return TransparencyLog(
        key, origin=origin, checkpoint_dir=Path(app.instance_path) / "checkpoints"
    )


def init_app(app: Flask) -> None:
    cfg = app.config
    app.extensions["registry"] = Extension(
        engine=make_engine(cfg["REGISTRY_DATABASE_URL"]),
        store=DepositStore(cfg["REGISTRY_DEPOSIT_DIR"]),
        limits=Limits(
            max_deposit_bytes=cfg["REGISTRY_MAX_DEPOSIT_BYTES"],
            max_text_bytes=cfg["REGISTRY_MAX_TEXT_BYTES"],
            max_image_pixels=cfg["REGISTRY_MAX_IMAGE_PIXELS"],
            budget=cfg["REGISTRY_SEARCH_BUDGET"],
        ),
        cache_dir=Path(cfg["REGISTRY_CACHE_DIR"]),
        log=_log(app),
    )
    bind_signer(app.extensions["registry"].engine, app.extensions["registry"].log)
    queue = search_queue = None
    if cfg.get("REGISTRY_REDIS_URL"):
        from rq import Queue

        from ..jobs import make_queue, search_queue_name

        queue = make_queue(cfg["REGISTRY_REDIS_URL"], cfg["REGISTRY_QUEUE"])
        search_queue = Queue(search_queue_name(queue.name), connection=queue.connection)
    extension = app.extensions["registry"]
    extension.runner = Runner(
        extension,
        budgets=Budgets(check=cfg["REGISTRY_CHECK_BUDGET"], search=cfg["REGISTRY_SEARCH_BUDGET"]),
        policy=cfg["REGISTRY_ROUTING_POLICY"],
        check_wait=cfg["REGISTRY_CHECK_WAIT_SECONDS"],
        queue=queue,
        search_queue=search_queue,
    )
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
