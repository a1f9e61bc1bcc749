"""The instance's two keys, made by one explicit step and only read afterwards.

``python -m registry init`` (``init_instance``) makes the instance folder, the session key
(``instance/secret_key``, unless ``REGISTRY_SECRET_KEY`` is set) and, for the embedded default,
the transparency log's Ed25519 signing key (``instance/log-signing-key.pem``, unless
``REGISTRY_LOG_KEY_FILE`` names one). It is idempotent: a key that exists is kept, so running it
again (or on several machines at once) changes nothing. Loading the settings or starting the
registry never writes a key; a missing one stops the start with a message naming the command.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .domain.transparency import load_private_key, new_private_key_pem
from .settings import Settings

INIT_COMMAND = "python -m registry init"


class MissingKey(RuntimeError):
    """A key the registry needs has not been made: run ``python -m registry init``."""


def init_instance(settings: Settings) -> list[Path]:
    """Make the instance folder and whichever of its keys are missing; return the files made."""
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    made = []
    if settings.secret_key is None and _create_once(
        settings.secret_key_path, secrets.token_hex(32).encode("ascii")
    ):
        made.append(settings.secret_key_path)
    if settings.log_key_file is None and _create_once(settings.log_key_path, new_private_key_pem()):
        made.append(settings.log_key_path)
    return made


def secret_key(settings: Settings) -> str:
    """The session signing key: ``REGISTRY_SECRET_KEY``, or the one in the instance folder."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.secret_key_path
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise MissingKey(
            f"The registry has no session key: {path} does not exist. Make the instance's keys "
            f"once with: {INIT_COMMAND} (or set REGISTRY_SECRET_KEY)."
        ) from None


def log_signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The transparency log's signing key (see ``Settings.log_key_path``)."""
    path = settings.log_key_path
    try:
        pem = path.read_bytes()
    except FileNotFoundError:
        raise MissingKey(
            f"The registry has no transparency log signing key: {path} does not exist. Make "
            f"the instance's keys once with: {INIT_COMMAND} (or set REGISTRY_LOG_KEY_FILE)."
        ) from None
    try:
        return load_private_key(pem)
    except ValueError as exc:
        raise ValueError(
            f"REGISTRY_LOG_KEY_FILE: {path} is not an Ed25519 private key ({exc})"
        ) from None


def _create_once(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` (owner-only) unless it exists; whole or not at all, so
    processes starting together agree on one file. True when this call made it."""
    if path.exists():
        return False
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
    finally:
        os.unlink(tmp)
    return True
