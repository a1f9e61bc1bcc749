"""Upload intake: what an upload may be (its limits), staging it in the deposit store (size-
limited, atomic, nothing decoded), and reading it as a deposit by its content, in a budgeted child
when one is given. Filing, the creator's replies and the reverse search all take uploads here,
so an upload is accepted or refused by the same rules wherever it is sent.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO

from sqlalchemy.exc import DBAPIError

from .. import deposits as deposit_rules
from ..domain import declaration as rules
from ..domain.declaration import Declaration, Problem
from ..sandbox import Budget, BudgetExceeded
from ..sandbox import run as run_budgeted
from ..storage import DepositStore, DepositTooLarge, StagedFile, StorageUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    """What an upload may be: its size, a text's size, an image's pixels; and ``budget``, what
    inspecting it may cost, in a child process (None: inspected in this process, as a job that
    is budgeted as a whole does)."""

    max_deposit_bytes: int
    max_text_bytes: int
    max_image_pixels: int
    budget: Budget | None = None


@dataclass(frozen=True)
class DepositUpload:
    """What the creator sent as the work: a file, pasted text, or neither (keep the current one)."""

    file: BinaryIO | None = None
    pasted_text: str | None = None

    @property
    def is_empty(self) -> bool:
        return self.file is None and not (self.pasted_text or "").strip()


class FilingRejected(ValueError):
    """The filing cannot be saved or submitted as it stands; ``problems`` says why, per field."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems

    def __reduce__(self) -> tuple[type[FilingRejected], tuple[list[Problem]]]:
        return (FilingRejected, (self.problems,))  # it crosses from a child process


@dataclass
class Incoming:
    staged: StagedFile
    info: deposit_rules.DepositInfo


_REPLACED = (
    "The pasted text contains “\ufffd” (U+FFFD), the mark left where characters could not be "
    "read: it was not sent as valid UTF-8. Paste it again from the original, or upload it as a "
    "UTF-8 .txt file."
)


_NO_ROOM_SQLITE = {sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY}


# PostgreSQL: disk_full, read_only_sql_transaction (a hot standby, or a database set read-only)
_NO_ROOM_SQLSTATE = {"53100", "25006"}


def database_has_no_room(exc: DBAPIError) -> bool:
    """A database that cannot take writes: SQLite's "database or disk is full" and
    "attempt to write a readonly database", PostgreSQL's disk full and read-only transaction.
    (The web layer asks this too, of a write failing anywhere else, such as a token's use.)"""
    orig = exc.orig
    if isinstance(orig, sqlite3.Error):
        return (getattr(orig, "sqlite_errorcode", 0) & 0xFF) in _NO_ROOM_SQLITE
    return getattr(orig, "sqlstate", None) in _NO_ROOM_SQLSTATE


@contextmanager
def _database_room() -> Iterator[None]:
    try:
        yield
    except DBAPIError as exc:
        if database_has_no_room(exc):
            raise StorageUnavailable(f"writing to the database: {exc.orig}") from exc
        raise


@contextmanager
def stage_upload(
    store: DepositStore, limits: Limits, upload: DepositUpload
) -> Iterator[StagedFile | None]:
    """Stage the upload in ``store``'s temporary folder, nothing decoded: one of a file or a
    pasted text (its line ends made ``\n``), within its size limit; None when there is none.
    On exit the temporary file is gone unless promoted.

    Raises FilingRejected (both a file and a text, an empty file, a pasted text with U+FFFD, a
    file or text over its limit) and StorageUnavailable (no room, or a read-only disk)."""
    if upload.file is not None and (upload.pasted_text or "").strip():
        raise FilingRejected(
            [Problem("deposit", "Either upload a file or paste the text, not both.")]
        )
    if upload.is_empty:
        yield None
        return
    staging: AbstractContextManager[StagedFile]
    if upload.file is not None:
        staging = store.stage(upload.file, limit=limits.max_deposit_bytes)
    else:
        text = (upload.pasted_text or "").replace("\r\n", "\n").replace("\r", "\n")
        if "\ufffd" in text:  # a browser's mark for bytes that were not UTF-8; an API client's
            raise FilingRejected([Problem("deposit", _REPLACED)])
        # surrogatepass: a lone surrogate (possible in JSON) reaches the decoder, which refuses
        # it as not UTF-8, instead of failing here.
        staging = store.stage_bytes(
            text.encode("utf-8", "surrogatepass"), limit=limits.max_text_bytes
        )
    try:
        with staging as staged:
            if staged.size == 0:
                raise FilingRejected([Problem("deposit", "The file is empty.")])
            yield staged
    except DepositTooLarge as exc:
        raise too_large(upload, exc) from exc


@contextmanager
def staged_upload(
    store: DepositStore, limits: Limits, upload: DepositUpload, decl: Declaration
) -> Iterator[Incoming | None]:
    """Stage (``stage_upload``), inspect and check the upload as a deposit; on exit the
    temporary file is gone unless promoted. The reverse search checks its uploads with this too
    (in a scratch store).

    Raises StorageUnavailable when the store's disk, or the database (while the caller writes
    its rows inside this block), has no room or is read-only."""
    with stage_upload(store, limits, upload) as staged:
        incoming = Incoming(staged, _inspect(staged, limits, decl)) if staged else None
        with _database_room():
            yield incoming


def too_large(upload: DepositUpload, exc: DepositTooLarge) -> FilingRejected:
    """The refusal of an upload that is larger than its limit."""
    what = "file" if upload.file is not None else "text"
    limit = deposit_rules.human_size(exc.limit)
    return FilingRejected([Problem("deposit", f"The {what} is larger than the limit of {limit}.")])


#: What is being done when a reverse search runs out of its budget (see ``budget_refusal``).
SEARCHING = "Searching for this file"


def budget_refusal(exc: BudgetExceeded, what: str) -> Problem:
    """The problem to show when ``what`` (an upload being inspected or searched for) ran out of
    its budget: the file is built to be costly, or is far larger than it looks."""
    if exc.resource == "memory":
        cost = f"more than {exc.budget.memory_bytes // (1024 * 1024):,} MB of memory"
    else:
        seconds = exc.budget.cpu_seconds
        cost = f"more than {seconds:g} second{'' if seconds == 1 else 's'} of processing"
    return Problem(
        "deposit",
        f"{what} would take {cost}, the most the registry gives one upload. Files like this are "
        "usually built to be costly to decode (an image with an unusual structure, or far more "
        "pixels than its size suggests). Export it again as an ordinary JPEG, PNG or WebP, or "
        "scale it down, and try again.",
    )


def _inspect(staged: StagedFile, limits: Limits, decl: Declaration) -> deposit_rules.DepositInfo:
    """Inspect the staged upload as a deposit, in a child process under ``limits.budget`` when
    there is one (decoding a picture costs what the file makes it cost)."""
    args = (staged.path,)
    kwargs: dict[str, Any] = {
        "expected": rules.expected_deposit_kind(decl.work_category),
        "max_pixels": limits.max_image_pixels,
        "max_text_bytes": limits.max_text_bytes,
    }
    try:
        if limits.budget is None:
            return deposit_rules.inspect(*args, **kwargs)
        info, _used = run_budgeted(deposit_rules.inspect, *args, budget=limits.budget, **kwargs)
        return info
    except deposit_rules.DepositRejected as exc:
        raise FilingRejected([Problem("deposit", str(exc))]) from exc
    except BudgetExceeded as exc:
        if exc.resource in ("time", "crash"):  # the machine, not the file: say so
            log.error("inspecting an upload ran out of its %s budget", exc.resource)
            raise ReadingUnavailable(str(exc)) from None
        raise FilingRejected([budget_refusal(exc, "Reading this file")]) from None


class ReadingUnavailable(RuntimeError):
    """An upload could not be read in its wall time or its reader died: the registry is busy,
    not the file at fault; nothing was saved. ``MESSAGE`` is for the person who sent it."""

    MESSAGE = (
        "The registry could not finish reading your file just now (it is busy). Nothing was "
        "saved: please try again in a minute."
    )
