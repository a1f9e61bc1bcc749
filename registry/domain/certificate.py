"""The registration certificate: a JSON document anyone can verify offline with the log's public
key, the certificate and (if they have it) the deposited file.

A certificate carries the registration's facts, the log's signed tree head, each of the
registration's leaves exactly as logged with its inclusion proof against that head, and the
log key's Ed25519 signature over the canonical JSON of everything else (keys sorted, no spaces,
UTF-8). Two kinds of fact are in it, and the verifier says which is which:

- proved by the log: the number, each logged event and its time, the deposit's SHA-256 (and for a
  supplementary registration the number it supplements). Anyone can check them against the
  signed tree head, and later against any newer head of the same log;
- stated by the registry: the title, the claimant, the kind of work, the limitation of claim and
  the deposit's media type. The log does not record them; the certificate's signature shows the
  registry issued them as they stand, so any change to them is caught too.

Pure: the offline verifier (``python -m registry.verify``) uses this module and
``registry.domain.transparency`` and ``registry.domain.merkle`` alone.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from . import merkle
from .transparency import (
    LeafError,
    SignatureError,
    TreeHead,
    canonical,
    decode_leaf,
    format_time,
    key_id,
    raw_public_key,
)

FORMAT = "air-certificate/1"
ALGORITHM = "Ed25519"
# A certificate is issued only for a registration in one of these statuses.
CERTIFIED = ("registered", "registered_with_limitation")
FILING_EVENTS = ("submitted", "supplementary")
DECISION_EVENTS = ("registered", "registered_with_limitation", "refused", "cancelled")

PROVED_BY_LOG = (
    "The transparency log proves the registration number, each logged event (the filing and the "
    "determination) with its time, and the deposit's SHA-256 (and, for a supplementary "
    "registration, the number it supplements): each is a leaf whose inclusion proof leads to the "
    "root of the tree head the log's key signed."
)
STATED_BY_REGISTRY = (
    "The title, the claimant, the kind of work, the limitation of claim and the deposit's media "
    "type are the registry's statement: the log does not record them. The registry's signature "
    "over the whole certificate shows it issued them exactly as written here."
)
AS_OF = (
    "A certificate shows the registration as of its tree head. To learn whether anything "
    "changed since (a cancellation, say), look up the number on the registry or verify the "
    "certificate there, which also checks its tree head against today's log."
)


class CertificateError(ValueError):
    """A file that is not an AIR certificate at all (not JSON, not an object, repeated keys)."""


@dataclass(frozen=True)
class Check:
    """One thing the verifier checked: a short name, whether it held, and a sentence saying
    what was found."""

    name: str
    ok: bool
    message: str


@dataclass(frozen=True)
class LoggedEntry:
    """One of the registration's leaves: its index, the leaf as logged, and its inclusion
    proof against the tree head the certificate carries."""

    index: int
    leaf: str
    proof: Sequence[bytes]


def _unsigned(cert: dict[str, Any]) -> bytes:
    return canonical({k: v for k, v in cert.items() if k != "signature"})


def sha256_of(stream: BinaryIO) -> str:
    """The SHA-256 (hex) of everything left in ``stream``, read a megabyte at a time."""
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()


def load_certificate(data: bytes | str) -> dict[str, Any]:
    """The certificate in ``data``; raises CertificateError unless it is a JSON object whose
    keys are never repeated (a repeated key could show one reader a different title than
    another)."""

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                raise CertificateError(f"the key {key!r} appears twice")
            seen[key] = value
        return seen

    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        body = json.loads(text, object_pairs_hook=unique)
    except UnicodeDecodeError:
        raise CertificateError("the file is not UTF-8 text") from None
    except CertificateError as exc:
        raise CertificateError(f"the file is not a certificate: {exc}") from None
    except ValueError as exc:
        raise CertificateError(f"the file is not JSON ({exc})") from None
    except RecursionError:
        raise CertificateError("the file is not a certificate: it is nested too deeply") from None
    if not isinstance(body, dict):
        raise CertificateError("the file is JSON but not a certificate (not an object)")
    return body


def issue(
    *,
    key: Ed25519PrivateKey,
    head: TreeHead,
    entries: Sequence[LoggedEntry],
    number: str,
    title: str,
    claimant_name: str,
    work_category: str,
    work_category_label: str,
    status: str,
    limitation: str,
    deposit_sha256: str,
    media_type: str,
    issued_at: datetime,
    registry_url: str | None = None,
) -> dict[str, Any]:
    """The signed certificate. The filing and determination times are the logged ones: the time
    of the registration's filing leaf and of its latest ``status`` leaf. Raises ValueError when
    the entries do not include both (the registration is not fully logged under ``head``)."""
    if status not in CERTIFIED:
        raise ValueError(f"no certificate for a registration that is {status}")
    leaves = [decode_leaf(e.leaf.encode("utf-8")) for e in entries]
    filing = next((leaf for leaf in leaves if leaf["event"] in FILING_EVENTS), None)
    decisions = [leaf for leaf in leaves if leaf["event"] in DECISION_EVENTS]
    if filing is None or not decisions or decisions[-1]["event"] != status:
        raise ValueError(f"{number}'s filing and determination are not both in the log yet")
    public_key = key.public_key()
    log: dict[str, Any] = {
        "key_id": key_id(public_key),
        "public_key": raw_public_key(public_key),
        "algorithm": ALGORITHM,
    }
    if registry_url:
        base = registry_url.rstrip("/")
        log["published_key"] = f"{base}/log/key.pem"
        log["record"] = f"{base}/registrations/{number}"
    body: dict[str, Any] = {
        "format": FORMAT,
        "issued_at": format_time(issued_at),
        "registration": {
            "number": number,
            "title": title,
            "claimant_name": claimant_name,
            "work_category": work_category,
            "work_category_label": work_category_label,
            "status": status,
            "filed_at": filing["time"],
            "supplements": filing.get("supplements"),
            "determination": {
                "outcome": status,
                "at": decisions[-1]["time"],
                "limitation": limitation,
            },
            "deposit": {"sha256": deposit_sha256, "media_type": media_type},
        },
        "log": log,
        "tree_head": head.to_json(),
        "entries": [
            {"index": e.index, "leaf": e.leaf, "inclusion_proof": [p.hex() for p in e.proof]}
            for e in entries
        ],
        "explanation": {
            "proved_by_the_log": PROVED_BY_LOG,
            "stated_by_the_registry": STATED_BY_REGISTRY,
            "as_of": AS_OF,
        },
    }
    body["signature"] = base64.b64encode(key.sign(_unsigned(body))).decode("ascii")
    return body


# ---- verification ----------------------------------------------------------------------------


def _shape_problem(cert: Any) -> str | None:
    """Why ``cert`` does not have the shape of a version 1 certificate, or None."""
    if not isinstance(cert, dict):
        return "it is not a JSON object"
    if cert.get("format") != FORMAT:
        return f"its format is {cert.get('format')!r}, not {FORMAT!r}"
    expected: dict[str, type | tuple[type, ...]] = {
        "registration": dict,
        "log": dict,
        "tree_head": dict,
        "entries": list,
        "signature": str,
    }
    for name, kind in expected.items():
        if not isinstance(cert.get(name), kind):
            return f"its {name!r} is missing or of the wrong type"
    reg = cert["registration"]
    for name in ("number", "title", "claimant_name", "status", "filed_at"):
        if not isinstance(reg.get(name), str):
            return f"the registration's {name!r} is missing or not text"
    det, dep = reg.get("determination"), reg.get("deposit")
    if not isinstance(det, dict) or not all(
        isinstance(det.get(k), str) for k in ("outcome", "at", "limitation")
    ):
        return "the registration's determination is missing or malformed"
    if not isinstance(dep, dict) or not isinstance(dep.get("sha256"), str):
        return "the registration's deposit hash is missing"
    if not isinstance(cert["log"].get("public_key"), str):
        return "the log's public key is missing"
    if not cert["entries"]:
        return "it lists no log entries"
    for entry in cert["entries"]:
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("index"), int)
            and not isinstance(entry.get("index"), bool)
            and isinstance(entry.get("leaf"), str)
            and isinstance(entry.get("inclusion_proof"), list)
            and all(isinstance(p, str) for p in entry["inclusion_proof"])
        ):
            return "a log entry is malformed (it needs an index, a leaf and an inclusion proof)"
    return None


def _short(hex_or_b64: str) -> str:
    return hex_or_b64[:16] + "…" if len(hex_or_b64) > 16 else hex_or_b64


def _check_key(cert: dict[str, Any], public_key: Ed25519PublicKey) -> Check:
    log = cert["log"]
    expected = key_id(public_key)
    if log.get("algorithm", ALGORITHM) != ALGORITHM:
        return Check(
            "Log key",
            False,
            f"The certificate names the algorithm {log['algorithm']!r}; "
            f"this registry's log signs with {ALGORITHM}.",
        )
    if log["public_key"] != raw_public_key(public_key) or log.get("key_id") != expected:
        return Check(
            "Log key",
            False,
            f"The certificate names log key {_short(str(log.get('key_id')))}, but the key you are "
            f"checking against is {_short(expected)}: it was not issued by that log, or its key "
            "was replaced.",
        )
    return Check(
        "Log key", True, f"The certificate names log key {expected}, the key you checked against."
    )


def _check_signature(cert: dict[str, Any], public_key: Ed25519PublicKey) -> Check:
    try:
        signature = base64.b64decode(cert["signature"], validate=True)
        public_key.verify(signature, _unsigned(cert))
    except (InvalidSignature, ValueError, binascii.Error):
        return Check(
            "Certificate signature",
            False,
            "The certificate's signature does not verify: something in it (the title, the "
            "claimant, the limitation of claim, a leaf, a proof or the tree head) was changed "
            "after the registry issued it, or another key signed it.",
        )
    return Check(
        "Certificate signature",
        True,
        "The log's key signed the whole certificate, so none of it was changed since it was "
        "issued: this covers the title, the claimant and the limitation of claim, which the log "
        "itself does not record.",
    )


def _check_head(
    cert: dict[str, Any], public_key: Ed25519PublicKey
) -> tuple[Check, TreeHead | None]:
    try:
        head = TreeHead.from_json(cert["tree_head"])
        head.verify(public_key)
    except SignatureError as exc:
        return Check("Signed tree head", False, f"The tree head is not the log's: {exc}."), None
    except ValueError as exc:
        return Check("Signed tree head", False, f"The tree head cannot be read: {exc}."), None
    return (
        Check(
            "Signed tree head",
            True,
            f"The log's key signed the tree head of {head.tree_size} entries with root "
            f"{_short(head.root_hash.hex())}, at {format_time(head.time)}.",
        ),
        head,
    )


def _check_entry(
    entry: dict[str, Any], reg: dict[str, Any], head: TreeHead | None, seen: set[int]
) -> tuple[Check, dict[str, Any] | None]:
    index = entry["index"]
    name = f"Log entry {index}"
    if index in seen:
        return Check(name, False, f"Entry {index} is listed twice."), None
    seen.add(index)
    raw = entry["leaf"].encode("utf-8")
    try:
        leaf = decode_leaf(raw)
    except LeafError as exc:
        return Check(
            name, False, f"Entry {index} is not a leaf as the log writes them: {exc}."
        ), None
    if leaf.get("number") != reg["number"]:
        return (
            Check(
                name,
                False,
                f"Entry {index} is about {leaf.get('number')}, not {reg['number']}.",
            ),
            None,
        )
    if leaf.get("deposit_sha256") != reg["deposit"]["sha256"]:
        return (
            Check(
                name,
                False,
                f"Entry {index} records the deposit {_short(str(leaf.get('deposit_sha256')))}, "
                f"not the certificate's {_short(reg['deposit']['sha256'])}.",
            ),
            None,
        )
    if head is None:
        return (
            Check(name, False, f"Entry {index} cannot be checked without a valid tree head."),
            None,
        )
    try:
        proof = [bytes.fromhex(p) for p in entry["inclusion_proof"]]
        if any(len(p) != 32 for p in proof):
            raise merkle.ProofError("a proof element is not a 32-byte hash")
        merkle.verify_inclusion(merkle.leaf_hash(raw), index, head.tree_size, proof, head.root_hash)
    except (merkle.ProofError, ValueError) as exc:
        return (
            Check(
                name,
                False,
                f"Entry {index}'s inclusion proof does not verify against the signed tree head: "
                f"{exc}.",
            ),
            None,
        )
    return (
        Check(
            name,
            True,
            f"Entry {index} is in the signed log: {leaf['number']} "
            f"{leaf['event'].replace('_', ' ')} at {leaf['time']} (deposit "
            f"{_short(leaf['deposit_sha256'])}).",
        ),
        leaf,
    )


def _check_filing(reg: dict[str, Any], leaves: list[dict[str, Any]]) -> Check:
    filing = next((leaf for leaf in leaves if leaf["event"] in FILING_EVENTS), None)
    if filing is None:
        return Check("Filing logged", False, f"No verified entry records {reg['number']}'s filing.")
    if filing["time"] != reg["filed_at"]:
        return Check(
            "Filing logged",
            False,
            f"The certificate says {reg['number']} was filed at {reg['filed_at']}, but the log "
            f"records {filing['time']}.",
        )
    if filing.get("supplements") != reg.get("supplements"):
        return Check(
            "Filing logged",
            False,
            f"The certificate says {reg['number']} supplements {reg.get('supplements')}, but the "
            f"log records {filing.get('supplements')}.",
        )
    what = "supplementary registration" if filing["event"] == "supplementary" else "filing"
    also = f" of {filing['supplements']}" if filing.get("supplements") else ""
    return Check(
        "Filing logged",
        True,
        f"The log records the {what}{also} of {reg['number']} at {filing['time']}.",
    )


def _check_determination(reg: dict[str, Any], leaves: list[dict[str, Any]]) -> Check:
    det = reg["determination"]
    name = "Determination logged"
    if reg["status"] not in CERTIFIED or det["outcome"] != reg["status"]:
        return Check(
            name,
            False,
            f"The certificate claims the status {reg['status']!r} and the determination "
            f"{det['outcome']!r}: a certificate is only for a registered work.",
        )
    decisions = [leaf for leaf in leaves if leaf["event"] in DECISION_EVENTS]
    if not decisions:
        return Check(name, False, f"No verified entry records a determination on {reg['number']}.")
    last = decisions[-1]
    if last["event"] != det["outcome"]:
        return Check(
            name,
            False,
            f"The certificate says {reg['number']} is {det['outcome'].replace('_', ' ')}, but the "
            f"latest determination in the log is {last['event'].replace('_', ' ')} at "
            f"{last['time']}.",
        )
    if last["time"] != det["at"]:
        return Check(
            name,
            False,
            f"The certificate dates the determination {det['at']}, but the log records "
            f"{last['time']}.",
        )
    return Check(
        name,
        True,
        f"The log records that {reg['number']} was {det['outcome'].replace('_', ' ')} at "
        f"{last['time']}.",
    )


def check_deposit(cert: dict[str, Any], sha256_hex: str) -> Check:
    """Whether a file whose SHA-256 is ``sha256_hex`` is the certificate's deposit."""
    expected = cert["registration"]["deposit"]["sha256"]
    if sha256_hex != expected:
        return Check(
            "Deposit",
            False,
            f"The file you gave has SHA-256 {sha256_hex}, not the deposit's {expected}: it is "
            "not the registered work (one changed byte gives a different hash).",
        )
    return Check(
        "Deposit",
        True,
        f"The file you gave has SHA-256 {sha256_hex}, the deposit's hash the log records.",
    )


def verify_certificate(
    cert: Any,
    public_key: Ed25519PublicKey,
    deposit: bytes | None = None,
    *,
    deposit_sha256: str | None = None,
) -> list[Check]:
    """Every check of ``cert`` against the log's ``public_key``, in order; the certificate
    verifies when every one is ok. A deposit may be given as its bytes or, for a large file,
    as the hex SHA-256 the caller computed while reading it. Never raises for a bad
    certificate: a certificate that is not of the right shape gives one failed "Format" check."""
    problem = _shape_problem(cert)
    if problem:
        return [Check("Format", False, f"This is not an {FORMAT} certificate: {problem}.")]
    reg = cert["registration"]
    checks = [
        Check("Format", True, f"This is an {FORMAT} certificate for {reg['number']}."),
        _check_key(cert, public_key),
        _check_signature(cert, public_key),
    ]
    head_check, head = _check_head(cert, public_key)
    checks.append(head_check)
    leaves: list[tuple[int, dict[str, Any]]] = []
    seen: set[int] = set()
    for entry in cert["entries"]:
        check, leaf = _check_entry(entry, reg, head, seen)
        checks.append(check)
        if leaf is not None:
            leaves.append((entry["index"], leaf))
    leaves_in_order = [leaf for _, leaf in sorted(leaves, key=lambda pair: pair[0])]
    checks.append(_check_filing(reg, leaves_in_order))
    checks.append(_check_determination(reg, leaves_in_order))
    if deposit is not None:
        deposit_sha256 = hashlib.sha256(deposit).hexdigest()
    if deposit_sha256 is not None:
        checks.append(check_deposit(cert, deposit_sha256.lower()))
    return checks


def verified(checks: Sequence[Check]) -> bool:
    return bool(checks) and all(c.ok for c in checks)


def logged_entries(cert: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Each entry of a well-formed certificate with its decoded leaf (None if it does not
    decode), for display; the leaves are not verified here."""
    out: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
    for entry in cert.get("entries", []):
        try:
            leaf = decode_leaf(entry["leaf"].encode("utf-8"))
        except (LeafError, KeyError, AttributeError):
            leaf = None
        out.append((entry, leaf))
    return out
