"""What the transparency log records and signs: the canonical leaf of a public status change,
and the signed tree head.

A leaf is the canonical JSON (keys sorted, no spaces, UTF-8) of the registration number, the
event, the deposit's SHA-256 and the time to the microsecond in UTC; a supplementary
registration also names the registration it supplements. A signed tree head is RFC 6962's
TreeHeadSignature structure (version 0, signature type 1, timestamp in milliseconds, tree size,
root hash; section 3.5) signed with Ed25519. The log is identified by the SHA-256 of its public
key in DER SubjectPublicKeyInfo form, as RFC 6962 names a log.

Pure apart from the ``cryptography`` primitives; the offline verifier uses this module alone.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .statuses import TRANSITIONS, Status

LEAF_VERSION = 1
# The events that change a registration's public status; each becomes one leaf.
LOGGED_EVENTS = (
    "submitted",
    "supplementary",
    "registered",
    "registered_with_limitation",
    "refused",
    "cancelled",
)
_LEAF_KEYS = {"v", "number", "event", "deposit_sha256", "time", "supplements"}


class LeafError(ValueError):
    """A leaf that is not a canonical encoding."""


TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def format_time(at: datetime) -> str:
    """UTC to the microsecond, always the same width: 2026-11-24T09:30:00.000000Z."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime(TIME_FORMAT)


def parse_time(stamp: str) -> datetime:
    """The inverse of :func:`format_time`; raises ValueError (or TypeError) for anything else."""
    return datetime.strptime(stamp, TIME_FORMAT).replace(tzinfo=UTC)


def encode_leaf(
    *,
    number: str,
    event: str,
    deposit_sha256: str,
    at: datetime,
    supplements: str | None = None,
) -> bytes:
    """The canonical bytes of one logged event."""
    if event not in LOGGED_EVENTS:
        raise LeafError(f"{event!r} is not a logged event")
    body = {
        "v": LEAF_VERSION,
        "number": number,
        "event": event,
        "deposit_sha256": deposit_sha256,
        "time": format_time(at),
    }
    if supplements:
        body["supplements"] = supplements
    return canonical(body)


def decode_leaf(leaf: bytes) -> dict[str, Any]:
    """The fields of a leaf; raises LeafError unless ``leaf`` is exactly a canonical encoding."""
    try:
        body = json.loads(leaf.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise LeafError(f"the leaf is not JSON: {exc}") from None
    if not isinstance(body, dict) or not set(body) <= _LEAF_KEYS or body.get("v") != 1:
        raise LeafError("the leaf does not have the fields of a version 1 leaf")
    if canonical(body) != leaf:
        raise LeafError("the leaf is not in canonical form")
    return body


def canonical(body: object) -> bytes:
    """Keys sorted, no spaces, UTF-8: the one encoding of leaves and signed certificates."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# ---- keys ------------------------------------------------------------------------------------


def key_id(public_key: Ed25519PublicKey) -> str:
    """The log's id: SHA-256 of the DER SubjectPublicKeyInfo, in hex."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def public_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_public_key(data: str | bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM, or from the base64 of its 32 raw bytes."""
    raw = data.encode("ascii") if isinstance(data, str) else data
    try:
        if b"BEGIN PUBLIC KEY" in raw:
            key = serialization.load_pem_public_key(raw)
        else:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(raw.strip(), validate=True))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not an Ed25519 public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the log's key must be an Ed25519 key")
    return key


def raw_public_key(public_key: Ed25519PublicKey) -> str:
    """Base64 of the 32 raw key bytes."""
    return base64.b64encode(
        public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    ).decode("ascii")


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the log's signing key must be an Ed25519 key")
    return key


def private_pem(key: Ed25519PrivateKey) -> bytes:
    """``key`` as an unencrypted PKCS#8 PEM file (as REGISTRY_LOG_KEY_FILE holds it)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def new_private_key_pem() -> bytes:
    return private_pem(Ed25519PrivateKey.generate())


# ---- tree heads ------------------------------------------------------------------------------


class SignatureError(ValueError):
    """A tree head whose signature does not verify with the log's key."""


@dataclass(frozen=True)
class TreeHead:
    tree_size: int
    timestamp: int  # milliseconds since the epoch
    root_hash: bytes
    signature: bytes = b""

    def signed_bytes(self) -> bytes:
        """RFC 6962 TreeHeadSignature: version v1 (0), signature_type tree_hash (1),
        uint64 timestamp, uint64 tree_size, the 32-byte root."""
        if len(self.root_hash) != 32:
            raise ValueError("a root hash is 32 bytes")
        return struct.pack(">BBQQ", 0, 1, self.timestamp, self.tree_size) + self.root_hash

    def signed_with(self, key: Ed25519PrivateKey) -> TreeHead:
        return TreeHead(
            self.tree_size, self.timestamp, self.root_hash, key.sign(self.signed_bytes())
        )

    def verify(self, public_key: Ed25519PublicKey) -> None:
        """Raise SignatureError unless the signature is the log's over this head."""
        try:
            public_key.verify(self.signature, self.signed_bytes())
        except (InvalidSignature, ValueError):
            raise SignatureError(
                f"the signature on the tree head of size {self.tree_size} does not verify "
                "with the log's key"
            ) from None

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp / 1000, UTC)

    def to_json(self) -> dict[str, Any]:
        return {
            "tree_size": self.tree_size,
            "timestamp": self.timestamp,
            "time": format_time(self.time),
            "root_hash": self.root_hash.hex(),
            "signature": base64.b64encode(self.signature).decode("ascii"),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TreeHead:
        """Raises ValueError for a malformed head (sizes and times are whole numbers that fit the
        64 bits the signature covers)."""
        try:
            head = cls(
                tree_size=_uint64(data["tree_size"]),
                timestamp=_uint64(data["timestamp"]),
                root_hash=bytes.fromhex(data["root_hash"]),
                signature=base64.b64decode(data["signature"], validate=True),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"a malformed tree head: {exc}") from None
        if len(head.root_hash) != 32:
            raise ValueError("a malformed tree head: the root hash is not 32 bytes")
        return head


def _uint64(value: object) -> int:
    if type(value) is not int or not 0 <= value < 2**64:
        raise ValueError(f"{value!r} is not a whole number from 0 to 2^64 - 1")
    return value


def logged_event(from_status: str | None, to_status: str | None, supplementary: bool) -> str | None:
    """The leaf event a status change makes, or None for a change the public log leaves out
    (a draft begun, a filing taken up, a letter sent)."""
    if to_status == "submitted":
        if from_status != "draft":
            return None
        return "supplementary" if supplementary else "submitted"
    if to_status in {"registered", "registered_with_limitation", "refused", "cancelled"}:
        return to_status if from_status != to_status else None
    return None


# The status each logged event leaves a registration in.
STATUS_AFTER = {
    "submitted": Status.SUBMITTED,
    "supplementary": Status.SUBMITTED,
    "registered": Status.REGISTERED,
    "registered_with_limitation": Status.REGISTERED_WITH_LIMITATION,
    "refused": Status.REFUSED,
    "cancelled": Status.CANCELLED,
}


def consistent_statuses(last_event: str | None) -> frozenset[Status]:
    """The statuses a registration may be in when ``last_event`` is the last event the log
    records for it (None: nothing logged yet): the status that event left, and every status
    reachable from there through changes the log leaves out (taken up for examination, a
    letter, closed for no response, a request for reconsideration, ...). Any other status was
    set without the change that leads to it being logged."""
    if last_event is None:
        return frozenset({Status.DRAFT})
    start = STATUS_AFTER[last_event]
    reached, frontier = {start}, [start]
    while frontier:
        current = frontier.pop()
        for target in TRANSITIONS[current]:
            unlogged = all(
                logged_event(current.value, target.value, supplementary) is None
                for supplementary in (False, True)
            )
            if unlogged and target not in reached:
                reached.add(target)
                frontier.append(target)
    return frozenset(reached)
