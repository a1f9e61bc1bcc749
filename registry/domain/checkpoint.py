"""The log's tree heads as C2SP signed checkpoints, so that existing witnesses and monitors can
read, check and cosign them (https://c2sp.org/tlog-checkpoint, https://c2sp.org/signed-note).

A checkpoint is a signed note whose text is three lines: the log's origin, the tree size in
decimal and the base64 of the RFC 6962 root hash. The signature line is an em dash, a space, the
key name (the origin), a space and the base64 of the 4-byte key ID followed by the Ed25519
signature over the text; the key ID is the first four bytes of
SHA-256(key name || 0x0A || 0x01 || the 32-byte public key). Ed25519 is deterministic, so a head
always gives the same checkpoint: the registry signs it when it publishes it and stores only the
head.

Pure apart from the ``cryptography`` primitives; the offline verifier may use it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = 0x01
DASH = "\u2014 "
MAX_NOTE_BYTES = 1 << 20
MAX_SIGNATURES = 100
_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")


class CheckpointError(ValueError):
    """A note or checkpoint that cannot be read, or whose signature is not the log's."""


def valid_name(name: str) -> bool:
    """A key name (and an origin) is non-empty, with no Unicode space, no plus sign and no
    control character."""
    return bool(name) and "+" not in name and not any(c.isspace() or ord(c) < 0x20 for c in name)


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_hash(name: str, public_key: Ed25519PublicKey) -> bytes:
    """The 4-byte key ID of an Ed25519 note key."""
    return hashlib.sha256(
        name.encode("utf-8") + b"\n" + bytes([ED25519]) + _raw(public_key)
    ).digest()[:4]


def verifier_key(name: str, public_key: Ed25519PublicKey) -> str:
    """The key as witnesses are configured with it: ``name+hex(key ID)+base64(0x01 || key)``."""
    material = base64.b64encode(bytes([ED25519]) + _raw(public_key)).decode("ascii")
    return f"{name}+{key_hash(name, public_key).hex()}+{material}"


@dataclass(frozen=True)
class Signature:
    name: str
    key_hash: bytes
    signature: bytes


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[Signature, ...]


def sign_note(text: str, name: str, key: Ed25519PrivateKey) -> str:
    """``text`` (ending in a newline) signed by ``key`` under ``name``."""
    if not valid_name(name):
        raise CheckpointError(f"{name!r} is not a valid key name")
    if not text.endswith("\n") or "\n\n" in text:
        raise CheckpointError("a note's text ends in one newline and has no empty line")
    blob = key_hash(name, key.public_key()) + key.sign(text.encode("utf-8"))
    return f"{text}\n{DASH}{name} {base64.b64encode(blob).decode('ascii')}\n"


def parse_note(data: str | bytes) -> Note:
    """The text and the signature lines of a signed note; raises CheckpointError for anything
    that is not one (the text is separated from the signatures by the last empty line)."""
    if isinstance(data, bytes):
        if len(data) > MAX_NOTE_BYTES:
            raise CheckpointError("the note is larger than 1 MB")
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise CheckpointError("the note is not UTF-8 text") from None
    if any(ord(c) < 0x20 and c != "\n" for c in data):
        raise CheckpointError("the note contains control characters")
    split = data.rfind("\n\n")
    if split < 0 or not data.endswith("\n"):
        raise CheckpointError("the note has no signature lines after an empty line")
    text, lines = data[: split + 1], data[split + 2 : -1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise CheckpointError(f"the note has more than {MAX_SIGNATURES} signatures")
    signatures = []
    for line in lines:
        if not line.startswith(DASH):
            raise CheckpointError(f"{line[:40]!r} is not a signature line")
        name, _, blob = line[len(DASH) :].rpartition(" ")
        try:
            raw = base64.b64decode(blob, validate=True)
        except (binascii.Error, ValueError):
            raise CheckpointError(f"the signature of {name!r} is not base64") from None
        if not valid_name(name) or len(raw) < 5:
            raise CheckpointError(f"{line[:40]!r} is not a signature line")
        signatures.append(Signature(name, raw[:4], raw[4:]))
    return Note(text, tuple(signatures))


def open_note(data: str | bytes, name: str, public_key: Ed25519PublicKey) -> str:
    """The text of a note signed by ``public_key`` under ``name``; raises CheckpointError when
    no such signature is on it or it does not verify (other signatures, a witness's cosignature
    say, are ignored, as the specification requires)."""
    note = parse_note(data)
    wanted = key_hash(name, public_key)
    for sig in note.signatures:
        if sig.name == name and sig.key_hash == wanted:
            try:
                public_key.verify(sig.signature, note.text.encode("utf-8"))
            except InvalidSignature:
                raise CheckpointError(
                    f"the signature by {name} does not verify: the note was changed or forged"
                ) from None
            return note.text
    names = ", ".join(sorted({s.name for s in note.signatures}))
    raise CheckpointError(f"the note is not signed by the log's key as {name} (signed by {names})")


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    tree_size: int
    root_hash: bytes

    def text(self) -> str:
        root = base64.b64encode(self.root_hash).decode("ascii")
        return f"{self.origin}\n{self.tree_size}\n{root}\n"

    def signed_with(self, key: Ed25519PrivateKey) -> str:
        """The signed note, the log's key name being its origin."""
        return sign_note(self.text(), self.origin, key)


def parse_checkpoint(text: str) -> Checkpoint:
    """The origin, size and root of a checkpoint's text; raises CheckpointError."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
        raise CheckpointError("a checkpoint's text is at least three non-empty lines")
    origin, size, root = lines[0], lines[1], lines[2]
    if not _SIZE.fullmatch(size) or int(size) >= 2**64:
        raise CheckpointError(f"the tree size {size[:30]!r} is not a whole number")
    try:
        digest = base64.b64decode(root, validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 32:
        raise CheckpointError("the root hash is not the base64 of 32 bytes")
    return Checkpoint(origin, int(size), digest)


def open_checkpoint(data: str | bytes, public_key: Ed25519PublicKey) -> Checkpoint:
    """A checkpoint signed by ``public_key`` under its own origin; raises CheckpointError."""
    note = parse_note(data)
    origin = note.text.split("\n", 1)[0]
    if not valid_name(origin):
        raise CheckpointError(f"the origin {origin[:60]!r} is not a valid key name")
    return parse_checkpoint(open_note(data, origin, public_key))


def split_notes(data: str) -> list[str]:
    """The signed notes of a file holding one or more, one after another (the history the
    registry appends to holds one per line group, each ending with its signature lines)."""
    notes: list[str] = []
    current: list[str] = []
    in_signatures = False
    for line in data.splitlines(keepends=True):
        if in_signatures and not line.startswith(DASH):
            notes.append("".join(current))
            current, in_signatures = [], False
        if line == "\n" and current and not in_signatures:
            in_signatures = True
        current.append(line)
    if current:
        notes.append("".join(current))
    return [n for n in notes if n.strip()]
