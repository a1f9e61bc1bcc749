"""Registration certificates: issuing one for a registered work from its log entries and the
log's signed tree head, and checking one that somebody brings back (offline checks, plus what
only the registry can add: whether its tree head is part of today's log and whether the
registration still stands)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlmodel import Session

from ..domain import merkle
from ..domain.certificate import (
    CERTIFIED,
    Check,
    LoggedEntry,
    issue,
    verified,
    verify_certificate,
)
from ..domain.statuses import Status
from ..domain.transparency import TreeHead, decode_leaf
from ..domain.vocabulary import WorkCategory
from ..models import Registration
from . import lookup, records
from .transparency import LogError, TransparencyLog, entries_of


class CertificateUnavailable(LookupError):
    """The registration has no certificate; ``str(exc)`` says why in a sentence."""


def _why_not(session: Session, reg: Registration) -> str:
    if reg.status == Status.CANCELLED.value:
        when = next(
            (
                leaf["time"][:10]
                for leaf in (decode_leaf(e.leaf.encode("utf-8")) for e in entries_of(session, reg))
                if leaf["event"] == "cancelled"
            ),
            None,
        )
        on = f" on {when}" if when else ""
        return (
            f"{reg.number} was registered, then cancelled{on}. A cancelled registration has no "
            "certificate."
        )
    if reg.status == Status.REFUSED.value:
        return f"{reg.number} was refused, so there is no certificate of registration."
    status = Status.label_of(reg.status).lower()
    return (
        f"{reg.number} is not registered yet (its status is: {status}). A certificate is "
        "issued once it is registered."
    )


def certificate(
    session: Session, log: TransparencyLog, reg: Registration, *, registry_url: str | None = None
) -> dict:
    """The signed certificate of ``reg`` (see ``registry.domain.certificate``) against the log's
    latest signed tree head, which this signs first if the newest entries have none.

    ``registry_url`` (the registry's address) adds where its public key and the public record
    are published. Raises CertificateUnavailable unless ``reg`` is registered (with or without a
    limitation) and its filing and determination are both in the log.
    """
    if reg.status not in CERTIFIED or reg.number is None:
        raise CertificateUnavailable(_why_not(session, reg))
    head = log.head(session)
    entries = [
        LoggedEntry(e.idx, e.leaf, log.inclusion(session, e.idx, head.tree_size)[0])
        for e in entries_of(session, reg)
        if e.idx < head.tree_size
    ]
    record = records.public_record(session, reg)  # the certificate states the public record
    assert record.claimant_name is not None, "a registered work names its claimant"
    try:
        return issue(
            key=log.key,
            head=head,
            entries=entries,
            number=record.number,
            title=record.title,
            claimant_name=record.claimant_name,
            work_category=record.work_category or "",
            work_category_label=WorkCategory.label_of(record.work_category),
            status=record.status.value,
            limitation=record.limitation,
            deposit_sha256=record.deposit_sha256 or "",
            media_type=record.deposit_media_type or "",
            issued_at=datetime.now(UTC),
            registry_url=registry_url,
        )
    except ValueError as exc:
        raise CertificateUnavailable(
            f"{reg.number}'s certificate cannot be issued yet: {exc}."
        ) from None


@dataclass
class Verification:
    """The checks anyone can run offline, and those only the registry can add."""

    offline: list[Check]
    online: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return verified(self.offline) and all(c.ok for c in self.online)

    @property
    def superseded(self) -> bool:
        """Genuine and in today's log, but the record has changed since (a cancellation, say):
        the certificate still proves what was registered when."""
        return (
            verified(self.offline)
            and len(self.online) == 2
            and self.online[0].ok
            and not self.online[1].ok
        )


def _consistency(session: Session, log: TransparencyLog, cert: dict) -> Check:
    name = "Part of today's log"
    try:
        old = TreeHead.from_json(cert["tree_head"])
    except ValueError:
        return Check(name, False, "The certificate's tree head cannot be read.")
    current = log.head(session)
    if old.tree_size == 0 or old.tree_size > current.tree_size:
        return Check(
            name,
            False,
            f"The certificate's tree head has {old.tree_size} entries; the registry's log has "
            f"{current.tree_size}, so it cannot be a version of this log.",
        )
    try:
        proof = log.consistency(session, old.tree_size, current.tree_size)[0]
        merkle.verify_consistency(
            old.tree_size, current.tree_size, old.root_hash, current.root_hash, proof
        )
    except (LogError, merkle.ProofError) as exc:
        return Check(
            name,
            False,
            f"The certificate's tree head of {old.tree_size} entries is not a version of the "
            f"registry's log ({exc}): the log was rewritten, or the head is not this log's.",
        )
    return Check(
        name,
        True,
        f"The registry's log today ({current.tree_size} entries) still contains the "
        f"{old.tree_size} entries the certificate's tree head signed: the consistency proof "
        "verifies, so nothing logged then was changed or removed.",
    )


def _still_registered(session: Session, cert: dict) -> Check:
    name = "Public record"
    number = cert["registration"]["number"]
    reg = lookup.by_number(session=session, number=number)
    if reg is None:
        return Check(name, False, f"The registry has no public record numbered {number}.")
    if reg.status != cert["registration"]["status"]:
        return Check(
            name,
            False,
            f"The registry now records {number} as {Status.label_of(reg.status).lower()}, not "
            f"{Status.label_of(cert['registration']['status']).lower()} as the certificate says.",
        )
    return Check(
        name,
        True,
        f"The public record still shows {number} as {Status.label_of(reg.status).lower()}.",
    )


def check(
    session: Session, log: TransparencyLog, cert: dict, *, deposit_sha256: str | None = None
) -> Verification:
    """Every offline check of ``cert`` against this registry's log key (and the deposit's hash,
    if given), then, for a certificate of the right shape signed by this log, whether its tree
    head is consistent with the log today and whether the registration still stands."""
    offline = verify_certificate(cert, log.public_key, deposit_sha256=deposit_sha256)
    result = Verification(offline)
    if verified(offline):  # only a genuine certificate is compared with the registry today
        result.online.append(_consistency(session, log, cert))
        result.online.append(_still_registered(session, cert))
    return result
