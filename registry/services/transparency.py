"""The transparency log: every public status change appended as a leaf, in the transaction that
makes the change; signed tree heads, published outside the database as C2SP checkpoints;
inclusion and consistency proofs; and the audit that recomputes the whole log from the database
(``registry verify-log``).

Appending takes the lock on the one ``log_state`` row (PostgreSQL: SELECT ... FOR UPDATE;
SQLite: the write lock BEGIN IMMEDIATE already holds), so indexes are handed out in commit order
without gaps, and the row's compact range gives the new root in O(log n) hashes. Every append
signs the head of the log it makes in the same transaction, with the key of the session
(``attach_signer``) or of its engine (``bind_signer``); an append that cannot sign is refused,
so from ``log_state.signed_from`` on a size without a head is evidence of tampering. Once the
transaction commits, the newest head is written as a signed checkpoint to the instance folder
(``TransparencyLog.publish``), for the operator to ship elsewhere and for witnesses.
"""

from __future__ import annotations

import fcntl
import logging
import os
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Engine
from sqlalchemy import event as orm_events
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from ..db import writing
from ..domain import merkle
from ..domain.checkpoint import (
    Checkpoint,
    CheckpointError,
    open_checkpoint,
    split_notes,
    verifier_key,
)
from ..domain.statuses import Status
from ..domain.transparency import (
    LOGGED_EVENTS,
    LeafError,
    SignatureError,
    TreeHead,
    consistent_statuses,
    decode_leaf,
    encode_leaf,
    key_id,
    logged_event,
    parse_time,
)
from ..models import Deposit, Event, LogEntry, LogState, Registration, TreeHeadRecord, utcnow
from ..storage import DepositDamaged, DepositStore

logger = logging.getLogger(__name__)

_SIGNER = "registry.log_signer"
_UNPUBLISHED = "registry.log_unpublished"
CHECKPOINT_FILE = "checkpoint"
HISTORY_FILE = "checkpoints"


class LogError(ValueError):
    """A request the log cannot answer (an index or size it does not have), or an append it
    must refuse (no key, or another log's key); ``str`` says why."""


def attach_signer(session: Session, log: TransparencyLog | Ed25519PrivateKey) -> Session:
    """Let appends in ``session`` sign the new tree head in their own transaction (and publish
    it once the transaction commits, when ``log`` publishes checkpoints)."""
    session.info[_SIGNER] = log if isinstance(log, TransparencyLog) else TransparencyLog(log)
    return session


# The signer of every session on an engine that carries none of its own (the registry binds
# its engine once: the web's sessions, the CLI's, the worker's and a test's all sign).
_BOUND: weakref.WeakKeyDictionary[Engine, TransparencyLog] = weakref.WeakKeyDictionary()


def bind_signer(engine: Engine, log: TransparencyLog) -> None:
    """Make every session on ``engine`` sign with ``log`` unless it carries its own signer."""
    _BOUND[engine] = log


def _signer_of(session: Session) -> TransparencyLog | None:
    log = session.info.get(_SIGNER)
    if log is not None:
        return log
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else getattr(bind, "engine", None)
    return _BOUND.get(engine) if engine is not None else None


def default_origin(public_url: str | None, log_key_id: str) -> str:
    """The checkpoint origin (and note key name) of a log without ``REGISTRY_LOG_ORIGIN``:
    the public address without its scheme, with ``/log`` (``air.example/log``); without a public
    address, a name under ``.invalid`` that no real log has, made unique by the key id."""
    if public_url:
        parts = urlsplit(public_url)
        host = (parts.netloc or parts.path).strip("/")
        path = parts.path.strip("/") if parts.netloc else ""
        if host:
            return "/".join(p for p in (host, path, "log") if p)
    return f"air-registry.invalid/{log_key_id[:16]}"


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
    signer = _signer_of(session)
    if signer is None:
        raise LogError(
            "This session has no signing key: every change the transparency log records signs "
            "the log's new tree head in the same transaction (use the registry's sessions, or "
            "attach_signer or bind_signer)."
        )
    signed_by = _signed_by(session)
    if signed_by is not None and signed_by != signer.key_id:
        raise LogError(signer.wrong_key(signed_by))
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
    assert event.id is not None and reg.id is not None, "flushed rows have their ids"
    entry = LogEntry(
        idx=index,
        event_id=event.id,
        registration_id=reg.id,
        leaf=leaf.decode("utf-8"),
        leaf_hash=digest.hex(),
    )
    session.add_all([event, state, entry])
    head = _sign(signer.key, index + 1, merkle.frontier_root(frontier))
    session.add(_record(head, signer.key_id))
    session.info[_UNPUBLISHED] = (signer, head)
    return entry


def _last_time(session: Session, size: int) -> datetime:
    last = session.get(LogEntry, size - 1) if size else None
    if last is None:
        return datetime.min.replace(tzinfo=UTC)
    return parse_time(decode_leaf(last.leaf.encode("utf-8"))["time"])


def _signed_by(session: Session) -> str | None:
    """The id of the key that has signed this log (None before its first head). One log has
    one key: heads signed by another would break every certificate, so an instance holding
    another key neither appends nor serves a head."""
    return session.exec(
        select(TreeHeadRecord.key_id).order_by(col(TreeHeadRecord.tree_size).desc()).limit(1)
    ).first()


@orm_events.listens_for(OrmSession, "after_commit")
def _publish_after_commit(session: OrmSession) -> None:
    """Once the heads a transaction signed are committed, publish the newest of them."""
    pending = session.info.pop(_UNPUBLISHED, None)
    if pending is not None:
        log, head = pending
        try:
            log.publish(head)
        except Exception:  # the change is committed: never fail it afterwards
            logger.exception("Could not publish the log's checkpoint of size %d", head.tree_size)


@orm_events.listens_for(OrmSession, "after_rollback")
def _forget_after_rollback(session: OrmSession) -> None:
    session.info.pop(_UNPUBLISHED, None)


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
            select(LogEntry)
            .where(LogEntry.idx >= start, LogEntry.idx < end)
            .order_by(col(LogEntry.idx))
        ).all()
    )


def entries_of(session: Session, reg: Registration) -> list[LogEntry]:
    """The registration's leaves, oldest first."""
    return list(
        session.exec(
            select(LogEntry).where(LogEntry.registration_id == reg.id).order_by(col(LogEntry.idx))
        ).all()
    )


def head_at(session: Session, tree_size: int) -> TreeHead | None:
    record = session.get(TreeHeadRecord, tree_size)
    return _head(record) if record else None


class TransparencyLog:
    """The signing key, the log's origin and where its checkpoints are published, and this
    process's copy of the tree's hashes (caught up from the database before each answer, like
    the originality indexes)."""

    def __init__(
        self,
        key: Ed25519PrivateKey,
        *,
        origin: str | None = None,
        checkpoint_dir: Path | str | None = None,
    ) -> None:
        self.key = key
        self.public_key: Ed25519PublicKey = key.public_key()
        self.key_id = key_id(self.public_key)
        self.origin = origin or default_origin(None, self.key_id)
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
        self._tree = merkle.MerkleTree()
        self._lock = threading.Lock()
        self._published = -1  # the largest size this process knows is published

    def wrong_key(self, signed_by: str) -> str:
        return (
            f"The log was signed with key {signed_by[:16]}…, not this registry's key "
            f"{self.key_id[:16]}…: set REGISTRY_LOG_KEY_FILE to the log's key on every "
            "instance."
        )

    def head(self, session: Session) -> TreeHead:
        """The signed head of the whole log. Every append signs its own; this signs one only
        for the empty log and for a log begun before that rule whose newest entries have none."""
        state = session.get(LogState, 1)
        current = state.tree_size if state else 0
        latest = session.exec(
            select(TreeHeadRecord).order_by(col(TreeHeadRecord.tree_size).desc()).limit(1)
        ).first()
        if latest is not None and latest.key_id != self.key_id:
            raise LogError(self.wrong_key(latest.key_id))
        if latest is not None and latest.tree_size >= current:
            head = _head(latest)
        else:
            root = merkle.frontier_root(_frontier(state)) if state else merkle.EMPTY_ROOT
            head = _sign(self.key, current, root)
            try:
                with writing(session):
                    session.add(_record(head, self.key_id))
            except IntegrityError:  # another worker signed this size first
                theirs = session.get(TreeHeadRecord, current)
                if theirs is None:  # the insert failed for another reason
                    raise
                head = _head(theirs)
        if head.tree_size > self._published:
            self.publish(head)
        return head

    # ---- checkpoints -------------------------------------------------------------------------

    def checkpoint(self, head: TreeHead) -> str:
        """``head`` as a C2SP checkpoint signed by the log's key under its origin."""
        return Checkpoint(self.origin, head.tree_size, head.root_hash).signed_with(self.key)

    @property
    def verifier_key(self) -> str:
        """The log's key as a witness is configured with it (``origin+keyid+key``)."""
        return verifier_key(self.origin, self.public_key)

    def publish(self, head: TreeHead) -> None:
        """Write ``head``'s checkpoint to ``checkpoint_dir/checkpoint`` (replaced atomically) and
        append it to ``checkpoint_dir/checkpoints``, the history the operator ships elsewhere;
        unless this or another process published a head at least as large already.

        The files are not fsynced (that would double the cost of a filing): a crash may lose
        the newest checkpoints, which the database still holds, and the next commit publishes
        again. A failure is logged, never raised (the change it follows is committed), once
        per size."""
        if self.checkpoint_dir is None or head.tree_size <= self._published:
            return
        try:
            self._publish(head)
        except OSError as exc:
            self._published = max(self._published, head.tree_size)  # log it once
            logger.error(
                "Could not publish the log's checkpoint of size %d in %s: %s",
                head.tree_size,
                self.checkpoint_dir,
                exc,
            )

    def _publish(self, head: TreeHead) -> None:
        folder = self.checkpoint_dir
        assert folder is not None
        folder.mkdir(parents=True, exist_ok=True)
        note = self.checkpoint(head)
        with open(folder / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            published = self._published_size(folder / CHECKPOINT_FILE)
            if published is not None and published >= head.tree_size:
                self._published = max(self._published, published)
                return
            with open(folder / HISTORY_FILE, "a", encoding="utf-8") as history:
                history.write(note)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".checkpoint-")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    out.write(note)
                os.chmod(tmp, 0o644)
                os.replace(tmp, folder / CHECKPOINT_FILE)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            self._published = max(self._published, head.tree_size)

    def _published_size(self, path: Path) -> int | None:
        """The size of the checkpoint published at ``path``; None when there is none (or it is
        not this log's, which is logged and then replaced)."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            return open_checkpoint(data, self.public_key).tree_size
        except CheckpointError as exc:
            logger.error(
                "The published checkpoint %s is not this log's (%s): replacing it", path, exc
            )
            return None

    def published_checkpoint(self) -> Path | None:
        """The file of the newest checkpoint this instance published, if there is one."""
        if self.checkpoint_dir is None:
            return None
        path = self.checkpoint_dir / CHECKPOINT_FILE
        return path if path.is_file() else None

    def _synced(self, session: Session, needed: int) -> merkle.MerkleTree:
        with self._lock:
            have = len(self._tree)
            if have < needed:
                rows = session.exec(
                    select(LogEntry.idx, LogEntry.leaf_hash)
                    .where(LogEntry.idx >= have)
                    .order_by(col(LogEntry.idx))
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
    if row is None:
        raise LogError(f"the log has no entry {index}")
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
    """What ``verify`` found: problems break the log's promise; notes do not; ``checked`` says
    what each checkpoint kept elsewhere was found to be."""

    entries: int = 0
    heads: int = 0
    latest: TreeHead | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(
    session: Session,
    public_key: Ed25519PublicKey,
    checkpoints: Iterable[tuple[str, str | bytes]] = (),
    *,
    published_missing: bool = False,
) -> Audit:
    """Recompute every leaf from the events, filings and deposits it records, rebuild the tree
    in index order and compare it with every signed tree head; report any entry changed,
    removed or inserted out of order, any signature that fails, any size that should have a
    signed head and has none, any public status change missing from the log, and any
    registration whose status disagrees with its last logged event.

    ``published_missing`` says that the instance publishes checkpoints and its own file is not
    there. ``checkpoints`` are (label, text) pairs of checkpoints kept outside the database (each
    text one or more signed notes): the log must contain each, which catches a rollback of the
    newest entries or a rewrite even by someone who deleted or re-signed every head."""
    audit = Audit()
    original = aliased(Registration)
    rows = session.exec(
        select(LogEntry, Event, Registration, original.number)
        .join(Event, col(Event.id) == LogEntry.event_id)
        .join(Registration, col(Registration.id) == Event.registration_id)
        .outerjoin(original, col(original.id) == Registration.supplements_id)
        .order_by(col(LogEntry.idx))
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
    hashes: list[bytes] = []  # the leaf hashes the records give, in index order
    frontier: list[bytes] = []
    last_good = 0
    broken = False
    previous_time = ""
    seen_gap = False
    last_event: dict[int, str] = {}  # registration id -> the event its last leaf records
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
        logged = _event_of(row.leaf)
        if logged is not None:
            assert reg.id is not None, "a row read from the database has its id"
            last_event[reg.id] = logged
        stamp = _time_of(recomputed)
        if stamp < previous_time:
            audit.problems.append(
                f"{label} is out of order: it is dated {stamp}, before entry "
                f"{position - 1} ({previous_time})."
            )
        previous_time = max(previous_time, stamp)
        digest = merkle.leaf_hash(recomputed)
        hashes.append(digest)
        frontier = merkle.frontier_push(frontier, position, digest)
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
    state = session.get(LogState, 1, populate_existing=True)
    size = state.tree_size if state else 0
    if heads:
        newest = max(heads)
        audit.latest = _head(heads[newest])
        if newest > len(rows):
            audit.problems.append(
                f"The latest signed tree head covers {newest} entries but the log holds "
                f"{len(rows)}: entries were removed."
            )
    if state is None or state.tree_size != len(rows):
        audit.problems.append(
            f"The log's recorded size ({state.tree_size if state else 'none'}) differs from "
            f"its {len(rows)} entries."
        )
    elif not broken and merkle.frontier_root(_frontier(state)) != merkle.frontier_root(frontier):
        audit.problems.append("The log's recorded compact range does not match its entries.")
    signed_from = state.signed_from if state else 1
    _check_heads_present(audit, heads, max(size, len(rows)), signed_from)
    if published_missing and signed_from <= max(size, len(rows)):
        audit.problems.append(
            "This instance has published no checkpoint, though entries were appended since "
            "every append publishes one: its checkpoint files were deleted."
        )
    audit.problems.extend(_unlogged(session))
    audit.problems.extend(_status_disagreements(session, last_event))
    for label, data in checkpoints:
        _check_checkpoints(audit, label, data, public_key, hashes)
    return audit


def _ranges(sizes: Sequence[int]) -> list[tuple[int, int]]:
    """Runs of consecutive numbers: [1, 2, 3, 7] -> [(1, 3), (7, 7)]."""
    runs: list[tuple[int, int]] = []
    for n in sizes:
        if runs and runs[-1][1] == n - 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs


MAX_LISTED = 20


def _check_heads_present(audit: Audit, heads: dict, size: int, signed_from: int) -> None:
    """Every size from ``signed_from`` on has a signed head, since every append signs one."""
    if signed_from > size + 1:
        audit.problems.append(
            f"The log records that every tree size from {signed_from} on is signed, but it "
            f"holds {size} entries: that record was changed."
        )
    if signed_from > 1:
        audit.notes.append(
            f"Tree sizes 1–{signed_from - 1} were written before every append signed its head; "
            f"{sum(1 for n in heads if 0 < n < signed_from)} of them have one, signed when it was "
            "asked for."
        )
        newest = max(heads, default=0)
        if newest < min(size, signed_from - 1):
            audit.notes.append(
                f"{min(size, signed_from - 1) - newest} newest entries are not yet covered by a "
                "signed tree head."
            )
    missing = [n for n in range(max(signed_from, 1), size + 1) if n not in heads]
    runs = _ranges(missing)
    for lo, hi in runs[:MAX_LISTED]:
        if lo == hi:
            audit.problems.append(
                f"Tree size {lo} has no signed tree head: every append signs the head of the "
                "log it makes, so it was deleted."
            )
        else:
            audit.problems.append(
                f"Tree sizes {lo}–{hi} have no signed tree head: every append signs the head "
                "of the log it makes, so they were deleted."
            )
    if len(runs) > MAX_LISTED:
        audit.problems.append(
            f"… and {len(runs) - MAX_LISTED} more runs of tree sizes without a signed head "
            f"({len(missing)} sizes in all)."
        )


def _event_of(leaf: str) -> str | None:
    try:
        event_name = decode_leaf(leaf.encode("utf-8")).get("event")
    except LeafError:
        return None
    return event_name if isinstance(event_name, str) and event_name in LOGGED_EVENTS else None


def _status_disagreements(session: Session, last_event: dict[int, str]) -> list[str]:
    """Every registration whose current status is not one its last logged event allows (a
    status set on the row without the change being logged)."""
    problems = []
    rows = session.exec(
        select(Registration.id, Registration.number, Registration.status)
        .order_by(col(Registration.id))
        .execution_options(populate_existing=True)
    ).all()
    for reg_id, number, status in rows:
        assert reg_id is not None, "a row read from the database has its id"
        logged = last_event.get(reg_id)
        allowed = consistent_statuses(logged)
        if status in {s.value for s in allowed}:
            continue
        name = number or f"The filing #{reg_id} (no number)"
        shown = _status_words(status)
        if logged is None:
            problems.append(
                f"{name} is {shown}, but nothing about it is in the log: its status was set "
                "without its filing being logged."
            )
        else:
            words = sorted(_status_words(s.value) for s in allowed)
            expected = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
            problems.append(
                f"{name} is {shown}, but its last logged event is {logged.replace('_', ' ')}, "
                f"after which it can only be {expected}: its status was changed without the "
                "change being logged."
            )
    return problems


def _status_words(status: str) -> str:
    try:
        return Status(status).label.lower()
    except ValueError:
        return repr(status)


def _check_checkpoints(
    audit: Audit,
    label: str,
    data: str | bytes,
    public_key: Ed25519PublicKey,
    hashes: list[bytes],
) -> None:
    """Each checkpoint in ``data`` must be a head of the log the records give: no larger than
    it (else the newest entries were rolled back) and with the same root at its size (else the
    log was rewritten), proved by a consistency proof to today's size."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        audit.problems.append(f"{label}: not a checkpoint (the file is not UTF-8 text).")
        return
    notes = split_notes(text)
    if not notes:
        audit.problems.append(f"{label}: the file holds no checkpoint.")
        return
    size = len(hashes)
    tree: merkle.MerkleTree | None = None
    for n, note in enumerate(notes, 1):
        where = label if len(notes) == 1 else f"{label} (checkpoint {n} of {len(notes)})"
        try:
            cp = open_checkpoint(note, public_key)
        except CheckpointError as exc:
            audit.problems.append(f"{where}: not a checkpoint signed by this log's key ({exc}).")
            continue
        if cp.tree_size > size:
            audit.problems.append(
                f"{where}: the log was signed at size {cp.tree_size}, but the database holds "
                f"{size} entries: the newest {cp.tree_size - size} were removed (the log was "
                "rolled back)."
            )
            continue
        if tree is None:
            tree = merkle.MerkleTree()
            for digest in hashes:
                tree.append(digest)
        root = tree.root(cp.tree_size) if cp.tree_size else merkle.EMPTY_ROOT
        if root != cp.root_hash:
            audit.problems.append(
                f"{where}: the first {cp.tree_size} entries no longer give the root the log "
                f"signed at that size ({cp.root_hash.hex()[:16]}…, now {root.hex()[:16]}…): an "
                "entry among them was changed, removed or inserted (the log was rewritten)."
            )
            continue
        if cp.tree_size == 0:
            audit.checked.append(f"{where}: size 0, the empty log: consistent with the log.")
            continue
        proof = tree.consistency_proof(cp.tree_size, size)
        try:
            merkle.verify_consistency(cp.tree_size, size, cp.root_hash, tree.root(size), proof)
        except merkle.ProofError as exc:  # cannot happen for a tree built here; checked anyway
            audit.problems.append(f"{where}: the consistency proof does not verify ({exc}).")
            continue
        audit.checked.append(
            f"{where}: size {cp.tree_size}, consistent with the log of {size} entries (origin "
            f"{cp.origin}; a consistency proof of {len(proof)} hashes)."
        )


# ---- the deposit store -----------------------------------------------------------------------


@dataclass
class DepositAudit:
    files: int = 0
    bytes: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_deposits(session: Session, store: DepositStore) -> DepositAudit:
    """Read every deposit's file and check its SHA-256: name each missing or changed, with the
    filings it belongs to."""
    audit = DepositAudit()
    owners: dict[str, list[str]] = {}
    for sha, number, reg_id in session.exec(
        select(Registration.deposit_sha256, Registration.number, Registration.id)
        .where(col(Registration.deposit_sha256).is_not(None))
        .order_by(col(Registration.id))
    ).all():
        assert sha is not None, "the query keeps only filings with a deposit"
        owners.setdefault(sha, []).append(number or f"draft #{reg_id}")
    for sha, size in session.exec(
        select(Deposit.sha256, Deposit.byte_size).order_by(Deposit.sha256)
    ).all():
        audit.files += 1
        whose = ", ".join(owners.get(sha, [])) or "no filing"
        try:
            with store.open_verified(sha):
                audit.bytes += size
        except DepositDamaged as exc:
            if exc.actual is None:
                audit.problems.append(
                    f"The deposit {sha} ({whose}) is missing: there is no file at "
                    f"{store.path_for(sha)}."
                )
            else:
                audit.problems.append(
                    f"The deposit {sha} ({whose}) was changed: its file now hashes to {exc.actual}."
                )
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
        .join(Registration, col(Registration.id) == Event.registration_id)
        .where(col(Event.to_status).is_not(None), col(Event.id).not_in(logged))
        .order_by(col(Event.id))
    ).all()
    return [
        f"Event #{event.id} ({reg.number}: {event.to_status}) changed the public status but is "
        "not in the log."
        for event, reg in rows
        if logged_event(event.from_status, event.to_status, reg.supplements_id is not None)
        and reg.number
    ]
