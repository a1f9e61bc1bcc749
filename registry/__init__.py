"""The registry of AI-assisted works: ``create_app`` builds the Flask application."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application; ``config`` overrides settings (tests inject theirs this way).

    The instance folder is ``REGISTRY_INSTANCE_PATH`` (in ``config`` or the environment), or
    ``instance/`` beside the package.
    """
    # Imported here so that ``python -m registry.verify`` loads neither Flask nor the settings.
    from flask import Flask

    from .config import load_settings

    config = dict(config or {})
    instance_path = config.pop("REGISTRY_INSTANCE_PATH", None) or os.environ.get(
        "REGISTRY_INSTANCE_PATH"
    )
    app = Flask(
        __name__,
        instance_path=str(Path(instance_path).resolve()) if instance_path else None,
        static_folder=str(ROOT / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(load_settings(Path(app.instance_path)))
    app.config.update(config)

    from . import cli
    from .web import init_app

    init_app(app)
    cli.init_app(app)
    return app
