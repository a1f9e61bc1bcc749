"""The registry of AI-assisted works: ``create_app`` builds the Flask application."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

    from .settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def create_app(
    settings: Settings | None = None, *, flask_config: Mapping[str, Any] | None = None
) -> Flask:
    """Build the application on ``settings`` (default: ``settings.load_settings()``, from the
    ``REGISTRY_*`` environment). ``flask_config`` sets Flask's own keys over the ones the
    settings give (``TESTING``, ``RATELIMIT_ENABLED``, ...).

    The instance's keys must have been made (``python -m registry init``); a missing one
    raises ``keys.MissingKey``, whose message names that command.
    """
    # Imported here so that ``python -m registry.verify`` loads neither Flask nor the settings.
    from flask import Flask

    from . import cli, container, web
    from .settings import load_settings

    settings = settings if settings is not None else load_settings()
    app = Flask(
        __name__,
        instance_path=str(settings.instance_path),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(web.flask_config(settings))
    app.config.update(flask_config or {})
    app.extensions[container.EXTENSION] = container.build(settings)
    web.init_app(app)
    cli.init_app(app)
    return app
