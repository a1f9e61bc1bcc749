"""The transparency log: every public status change appended as a leaf, in the transaction that
makes the change; signed tree heads; inclusion and consistency proofs; and the audit that
recomputes the whole log from the database (``registry verify-log``).

Appending takes the lock on the one ``log_state`` row (PostgreSQL: SELECT ... FOR UPDATE;
SQLite: the write lock BEGIN IMMEDIATE already holds), so indexes are handed out in commit order
without gaps, and the row's compact range gives the new root in O(log n) hashes. When the
session carries the signing key (``attach_signer``) the new tree head is signed in the same
transaction; otherwise the next call to ``TransparencyLog.head`` signs it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from ..db import writing
from ..domain import merkle
from ..domain.transparency import (
    LeafError,
    SignatureError,
    TreeHead,
    decode_leaf,
    encode_leaf,
    key_id,
    logged_event,
    parse_time,
)
from ..models import Event, LogEntry, LogState, Registration, TreeHeadRecord, utcnow

_SIGNER = "registry.log_signer"


class LogError(ValueError):
    """A request the log cannot answer (an index or size it does not have); ``str`` says why."""


def attach_signer(session: Session, key: Ed25519PrivateKey) -> Session:
    """Let appends in ``session`` sign the new tree head in their own transaction."""
    session.info[_SIGNER] = (key, key_id(key.public_key()))
    return session


# ---- appending -------------------------------------------------------------------------------


def _frontier(state: LogState) -> list[bytes]:
    raw = bytes.fromhex(state.frontier)
    return [raw[i : i + 32] for i in range(0, len(raw), 32)]


def leaf_for(event: Event, reg: Registration, original: str | None) -> bytes | None:
    """The leaf ``event`` makes, recomputed from the records, or None if it is not logged."""
    name = logged_event(event.from_status, event.to_status, reg.supplements_id is not None)
    if name is None or reg.number is None or reg.deposit_sha256 is None:
        return None
    return encode_leaf(
        number=reg.number,
        event=name,
        deposit_sha256=reg.deposit_sha256,
        at=event.at,
        supplements=original,
    )


def append(session: Session, reg: Registration, event: Event) -> LogEntry | None:
    """Log ``event`` if it changes the public status (inside the caller's write transaction).

    The event's time is fixed once the lock is held, and never before the last logged time, so
    the log's times never go backwards however transactions interleave or clocks differ."""
    if logged_event(event.from_status, event.to_status, reg.supplements_id is not None) is None:
        return None
    original = session.get(Registration, reg.supplements_id) if reg.supplements_id else None
    session.flush()  # the event's id
    state = session.exec(
        select(LogState)
        .where(LogState.id == 1)
        .with_for_update()
        .execution_options(populate_existing=True)  # what the lock protects, not a stale copy
    ).one()
    index = state.tree_size
    event.at = max(utcnow(), _last_time(session, index))
    leaf = leaf_for(event, reg, original.number if original else None)
    if leaf is None:
        return None
    digest = merkle.leaf_hash(leaf)
    frontier = merkle.frontier_push(_frontier(state), index, digest)
    state.tree_size = index + 1
    state.frontier = b"".join(frontier).hex()
    entry = LogEntry(
        idx=index,
        event_id=event.id,
        registration_id=reg.id,
        leaf=leaf.decode("utf-8"),
        leaf_hash=digest.hex(),
    )
    session.add_all([event, state, entry])
    if _SIGNER in session.info:
        key, signer = session.info[_SIGNER]
        if _signs_this_log(session, signer):
            head = _sign(key, index + 1, merkle.frontier_root(frontier))
            session.add(_record(head, signer))
    return entry


def _last_time(session: Session, size: int) -> datetime:
    last = session.get(LogEntry, size - 1) if size else None
    if last is None:
        return datetime.min.replace(tzinfo=UTC)
    return parse_time(decode_leaf(last.leaf.encode("utf-8"))["time"])


def _signs_this_log(session: Session, signer: str) -> bool:
    """Whether the key with id ``signer`` is the one that has signed this log (or nothing has
    been signed yet). One log has one key: heads signed by another would break every
    certificate."""
    signed_by = session.exec(
        select(TreeHeadRecord.key_id).order_by(TreeHeadRecord.tree_size.desc()).limit(1)  # type: ignore[union-attr]
    ).first()
    return signed_by is None or signed_by == signer


def _sign(key: Ed25519PrivateKey, size: int, root: bytes) -> TreeHead:
    return TreeHead(size, int(time.time() * 1000), root).signed_with(key)


def _record(head: TreeHead, signer: str) -> TreeHeadRecord:
    record = head.to_json()
    return TreeHeadRecord(
        tree_size=head.tree_size,
        timestamp=head.timestamp,
        root_hash=record["root_hash"],
        signature=record["signature"],
        key_id=signer,
    )


def _head(record: TreeHeadRecord) -> TreeHead:
    return TreeHead.from_json(
        {
            "tree_size": record.tree_size,
            "timestamp": record.timestamp,
            "root_hash": record.root_hash,
            "signature": record.signature,
        }
    )


# ---- reading ---------------------------------------------------------------------------------


def size(session: Session) -> int:
    state = session.get(LogState, 1)
    return state.tree_size if state else 0


def entry(session: Session, index: int) -> LogEntry | None:
    return session.get(LogEntry, index)


def entries(session: Session, start: int, end: int) -> list[LogEntry]:
    """Entries ``start`` .. ``end - 1``."""
    return list(
        session.exec(
            select(LogEntry).where(LogEntry.idx >= start, LogEntry.idx < end).order_by(LogEntry.idx)
        ).all()
    )


def entries_of(session: Session, reg: Registration) -> list[LogEntry]:
    """The registration's leaves, oldest first."""
    return list(
        session.exec(
            select(LogEntry).where(LogEntry.registration_id == reg.id).order_by(LogEntry.idx)
        ).all()
    )


def head_at(session: Session, tree_size: int) -> TreeHead | None:
    record = session.get(TreeHeadRecord, tree_size)
    return _head(record) if record else None


class TransparencyLog:
    """The signing key and this process's copy of the tree's hashes (caught up from the
    database before each answer, like the originality indexes)."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self.key = key
        self.public_key: Ed25519PublicKey = key.public_key()
        self.key_id = key_id(self.public_key)
        self._tree = merkle.MerkleTree()
        self._lock = threading.Lock()

    def head(self, session: Session) -> TreeHead:
        """The signed head of the whole log, signing one now if the newest entries have none."""
        state = session.get(LogState, 1)
        current = state.tree_size if state else 0
        latest = session.exec(
            select(TreeHeadRecord).order_by(TreeHeadRecord.tree_size.desc()).limit(1)  # type: ignore[union-attr]
        ).first()
        if latest is not None and latest.key_id != self.key_id:
            raise LogError(
                f"The log was signed with key {latest.key_id[:16]}…, not this registry's key "
                f"{self.key_id[:16]}…: set REGISTRY_LOG_KEY_FILE to the log's key on every "
                "instance."
            )
        if latest is not None and latest.tree_size >= current:
            return _head(latest)
        root = merkle.frontier_root(_frontier(state)) if state else merkle.EMPTY_ROOT
        head = _sign(self.key, current, root)
        try:
            with writing(session):
                session.add(_record(head, self.key_id))
        except IntegrityError:  # another worker signed this size first
            return _head(session.get(TreeHeadRecord, current))
        return head

    def _synced(self, session: Session, needed: int) -> merkle.MerkleTree:
        with self._lock:
            have = len(self._tree)
            if have < needed:
                rows = session.exec(
                    select(LogEntry.idx, LogEntry.leaf_hash)
                    .where(LogEntry.idx >= have)
                    .order_by(LogEntry.idx)
                ).all()
                for idx, digest in rows:
                    if idx != len(self._tree):
                        raise LogError(f"the log has no entry {len(self._tree)}")
                    self._tree.append(bytes.fromhex(digest))
            if len(self._tree) < needed:
                raise LogError(f"the log has {len(self._tree)} entries, not {needed}")
            return self._tree

    def _tree_of(self, session: Session, tree_size: int) -> merkle.MerkleTree:
        """This process's tree, holding at least ``tree_size`` entries of the log."""
        current = size(session)
        if not 0 < tree_size <= current:
            raise LogError(f"tree_size must be between 1 and {current}, the log's size")
        return self._synced(session, tree_size)

    def inclusion(self, session: Session, index: int, tree_size: int) -> tuple[list[bytes], bytes]:
        """Entry ``index``'s audit path in the tree of ``tree_size`` entries, and that root."""
        tree = self._tree_of(session, tree_size)
        if not 0 <= index < tree_size:
            raise LogError(f"leaf_index must be between 0 and {tree_size - 1}")
        return tree.inclusion_proof(index, tree_size), tree.root(tree_size)

    def consistency(
        self, session: Session, first: int, second: int
    ) -> tuple[list[bytes], bytes, bytes]:
        """The proof that the tree of ``first`` entries begins the tree of ``second``, and the
        two roots."""
        tree = self._tree_of(session, second)
        if not 0 < first <= second:
            raise LogError(f"first must be between 1 and {second}")
        return tree.consistency_proof(first, second), tree.root(first), tree.root(second)


def checked_inclusion(session: Session, log: TransparencyLog, index: int, tree_size: int) -> dict:
    """Entry ``index``'s audit path in the tree of ``tree_size``, checked as a client would:
    ``problem`` is None when it leads to the root. Raises LogError for an index or size the log
    does not have."""
    proof, root = log.inclusion(session, index, tree_size)
    row = entry(session, index)
    leaf = bytes.fromhex(row.leaf_hash)
    return {
        "index": index,
        "tree_size": tree_size,
        "entry": row,
        "root": root.hex(),
        "proof": [h.hex() for h in proof],
        "problem": _failure(lambda: merkle.verify_inclusion(leaf, index, tree_size, proof, root)),
    }


def checked_consistency(session: Session, log: TransparencyLog, first: int, second: int) -> dict:
    """The consistency proof from ``first`` to ``second`` entries, checked as a client would."""
    proof, old, new = log.consistency(session, first, second)
    return {
        "first": first,
        "second": second,
        "old": old.hex(),
        "new": new.hex(),
        "proof": [h.hex() for h in proof],
        "problem": _failure(lambda: merkle.verify_consistency(first, second, old, new, proof)),
    }


def _failure(check: Callable[[], None]) -> str | None:
    """Why ``check`` fails, or None when it passes."""
    try:
        check()
    except merkle.ProofError as exc:
        return str(exc)
    return None


# ---- the audit -------------------------------------------------------------------------------


@dataclass
class Audit:
    """What ``verify`` found: problems break the log's promise; notes do not."""

    entries: int = 0
    heads: int = 0
    latest: TreeHead | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(session: Session, public_key: Ed25519PublicKey) -> Audit:
    """Recompute every leaf from the events, filings and deposits it records, rebuild the tree
    in index order and compare it with every signed tree head; report any entry changed,
    removed or inserted out of order, any signature that fails, and any public status change
    missing from the log."""
    audit = Audit()
    original = aliased(Registration)
    rows = session.exec(
        select(LogEntry, Event, Registration, original.number)
        .join(Event, Event.id == LogEntry.event_id)
        .join(Registration, Registration.id == Event.registration_id)
        .outerjoin(original, original.id == Registration.supplements_id)
        .order_by(LogEntry.idx)
        .execution_options(populate_existing=True)  # what the database holds now
    ).all()
    heads = {
        r.tree_size: r
        for r in session.exec(
            select(TreeHeadRecord).execution_options(populate_existing=True)
        ).all()
    }
    audit.heads = len(heads)
    for record in heads.values():
        try:
            _head(record).verify(public_key)
        except (SignatureError, ValueError) as exc:
            audit.problems.append(f"Tree head {record.tree_size}: {exc}.")
    frontier: list[bytes] = []
    last_good = 0
    broken = False
    previous_time = ""
    seen_gap = False
    for position, (row, event, reg, original_number) in enumerate(rows):
        if row.idx != position and not seen_gap:
            seen_gap = True
            what = "removed" if row.idx > position else "duplicated"
            audit.problems.append(
                f"Entry {position} is missing: the log jumps from entry {position - 1} to "
                f"{row.idx} (an entry was {what} or renumbered)."
            )
        recomputed = leaf_for(event, reg, original_number)
        label = f"Entry {row.idx} ({reg.number or 'no number'}, event #{event.id})"
        if recomputed is None:
            audit.problems.append(f"{label} records an event that changes no public status.")
            recomputed = row.leaf.encode("utf-8")
        elif row.leaf.encode("utf-8") != recomputed:
            audit.problems.append(f"{label} was changed: {_difference(row.leaf, recomputed)}.")
        if row.leaf_hash != merkle.leaf_hash(row.leaf.encode("utf-8")).hex():
            audit.problems.append(f"{label}: its stored leaf hash is not the hash of its leaf.")
        stamp = _time_of(recomputed)
        if stamp < previous_time:
            audit.problems.append(
                f"{label} is out of order: it is dated {stamp}, before entry "
                f"{position - 1} ({previous_time})."
            )
        previous_time = max(previous_time, stamp)
        frontier = merkle.frontier_push(frontier, position, merkle.leaf_hash(recomputed))
        signed = heads.get(position + 1)
        if signed is not None and not broken:
            if merkle.frontier_root(frontier).hex() != signed.root_hash:
                broken = True
                audit.problems.append(
                    f"The first {position + 1} entries no longer give the root signed at tree "
                    f"size {position + 1}: an entry between {last_good} and {position} was "
                    "changed, removed or inserted out of order."
                )
            else:
                last_good = position + 1
    audit.entries = len(rows)
    if heads:
        newest = max(heads)
        audit.latest = _head(heads[newest])
        if newest > len(rows):
            audit.problems.append(
                f"The latest signed tree head covers {newest} entries but the log holds "
                f"{len(rows)}: entries were removed."
            )
        elif newest < len(rows):
            audit.notes.append(
                f"{len(rows) - newest} newest entries are not yet covered by a signed tree head."
            )
    else:
        audit.notes.append("No tree head has been signed yet.")
    state = session.get(LogState, 1, populate_existing=True)
    if state is None or state.tree_size != len(rows):
        audit.problems.append(
            f"The log's recorded size ({state.tree_size if state else 'none'}) differs from "
            f"its {len(rows)} entries."
        )
    elif not broken and merkle.frontier_root(_frontier(state)) != merkle.frontier_root(frontier):
        audit.problems.append("The log's recorded compact range does not match its entries.")
    audit.problems.extend(_unlogged(session))
    return audit


def _difference(stored: str, recomputed: bytes) -> str:
    try:
        was = decode_leaf(stored.encode("utf-8"))
    except LeafError as exc:
        return f"the stored leaf is not canonical ({exc})"
    now = decode_leaf(recomputed)
    changed = sorted(k for k in set(was) | set(now) if was.get(k) != now.get(k))
    return "; ".join(
        f"{k} is {now.get(k)!r} in the records but {was.get(k)!r} in the log" for k in changed
    )


def _time_of(leaf: bytes) -> str:
    try:
        return str(decode_leaf(leaf).get("time", ""))
    except LeafError:
        return ""


def _unlogged(session: Session) -> list[str]:
    """Public status changes on record that have no leaf."""
    logged = select(LogEntry.event_id)
    rows = session.exec(
        select(Event, Registration)
        .join(Registration, Registration.id == Event.registration_id)
        .where(Event.to_status.is_not(None), Event.id.not_in(logged))  # type: ignore[union-attr]
        .order_by(Event.id)
    ).all()
    return [
        f"Event #{event.id} ({reg.number}: {event.to_status}) changed the public status but is "
        "not in the log."
        for event, reg in rows
        if logged_event(event.from_status, event.to_status, reg.supplements_id is not None)
        and reg.number
    ]
