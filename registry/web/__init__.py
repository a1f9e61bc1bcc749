"""The web layer: blueprints with thin views, and what every request shares.

A view parses its input, calls one service with the request's session, and renders or
redirects. The session, the deposit store and the upload limits come from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from flask import Flask, abort, current_app, flash, g, redirect
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine
from sqlmodel import Session

from ..db import make_engine, new_session
from ..domain.transparency import key_id
from ..services.filing import Limits
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
    # Given a job queue: hands a submitted filing's id to the RQ workers that check it.
    defer_check: Callable[[int], object] | None = None

    def session(self) -> Session:
        """A new session whose status changes sign the log's new tree head as they commit."""
        return attach_signer(new_session(self.engine), self.log)


def ext() -> Extension:
    return current_app.extensions["registry"]


def perform(action, success: str, back: str):  # type: ignore[no-untyped-def]
    """Run one service step from a form; flash what happened (or the service's reason why not)
    and go ``back``. A step on a filing the user may not see is a 404."""
    from ..services.examination import ExaminationError

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
        ),
        cache_dir=Path(cfg["REGISTRY_CACHE_DIR"]),
        log=_log(app),
    )
    bind_signer(app.extensions["registry"].engine, app.extensions["registry"].log)
    if cfg.get("REGISTRY_REDIS_URL"):
        from ..worker import enqueue_check, make_queue

        queue = make_queue(cfg["REGISTRY_REDIS_URL"], cfg["REGISTRY_QUEUE"])
        app.extensions["registry"].defer_check = partial(enqueue_check, queue)
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
