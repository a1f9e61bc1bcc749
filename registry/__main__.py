"""``python -m registry init``: make the instance folder and its keys (see ``registry.keys``).

It needs neither Flask nor a database, so it runs before the registry can start; it is
idempotent, so it is safe in every start script (the README's quick start chains it before
``registry serve``).
"""

from __future__ import annotations

import argparse
import sys

from .keys import init_instance
from .settings import SettingsError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m registry", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "init",
        help="Make the instance folder, the session key and (for the embedded default) the "
        "transparency log's signing key, keeping any that exist.",
    )
    parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    made = init_instance(settings)
    for path in made:
        print(f"made {path}")
    ready = "is ready." if made else "was ready already: nothing to make."
    print(f"The instance at {settings.instance_path} {ready}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
