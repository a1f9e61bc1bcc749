"""The composition root: what the web, the CLI and the worker share, built once from Settings.

``build(settings)`` makes the database engine, the deposit store, the upload limits, the match
indexes (Matcher), the transparency log (with its signing key), the job queues when Redis is
configured, and the Runner that places checks and reverse searches. Nothing here imports Flask or
the web package: the worker builds a container of its own, the web app keeps one in
``app.extensions["registry"]`` (``container.of(app)``, ``web.ext()``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlmodel import Session

from .db import make_engine, new_session
from .domain.transparency import key_id
from .keys import log_signing_key
from .runner import Budgets, Runner
from .services.intake import Limits
from .services.matching import Matcher
from .services.transparency import TransparencyLog, attach_signer, bind_signer, default_origin
from .settings import Settings
from .storage import DepositStore

if TYPE_CHECKING:
    from .domain.risk import RoutingPolicy

#: The key of the container in a Flask app's ``extensions``.
EXTENSION = "registry"


@dataclass
class Container:
    settings: Settings
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

    @property
    def policy(self) -> RoutingPolicy:
        """What each risk tier gets (``REGISTRY_ROUTING_POLICY``)."""
        return self.settings.routing_policy

    def close(self) -> None:
        self.engine.dispose()


def of(app: Any) -> Container:
    """The container of the Flask app ``app``."""
    container: Container = app.extensions[EXTENSION]
    return container


def transparency_log(settings: Settings) -> TransparencyLog:
    """The log's key, its origin (``REGISTRY_LOG_ORIGIN``, or one made from
    ``REGISTRY_PUBLIC_URL``) and the folder its checkpoints are published in."""
    key = log_signing_key(settings)
    origin = settings.log_origin or default_origin(settings.public_url, key_id(key.public_key()))
    return TransparencyLog(key, origin=origin, checkpoint_dir=settings.checkpoint_dir)


def build(settings: Settings) -> Container:
    """Everything the registry runs on, from ``settings``. Raises ``keys.MissingKey`` when
    the instance's keys have not been made (``python -m registry init``)."""
    log = transparency_log(settings)
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    assert settings.deposit_dir is not None and settings.cache_dir is not None  # set by Settings
    container = Container(
        settings=settings,
        engine=make_engine(settings.database_url),
        store=DepositStore(settings.deposit_dir),
        limits=Limits(
            max_deposit_bytes=settings.max_deposit_bytes,
            max_text_bytes=settings.max_text_bytes,
            max_image_pixels=settings.max_image_pixels,
            budget=settings.search_budget,
        ),
        cache_dir=settings.cache_dir,
        log=log,
    )
    bind_signer(container.engine, log)
    queue = search_queue = None
    if settings.redis_url:
        from rq import Queue

        from .jobs import make_queue, search_queue_name

        queue = make_queue(settings.redis_url, settings.queue)
        search_queue = Queue(search_queue_name(queue.name), connection=queue.connection)
    container.runner = Runner(
        container,
        budgets=Budgets(check=settings.check_budget, search=settings.search_budget),
        policy=settings.routing_policy,
        check_wait=settings.check_wait_seconds,
        queue=queue,
        search_queue=search_queue,
    )
    return container
