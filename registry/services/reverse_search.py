"""Reverse search: anyone sends an image or a text and learns which registered works it matches,
judged exactly as a filing's originality check judges them, with only the public facts of each.
The upload goes through intake (the rules a filing's deposit meets) into a scratch folder, and
nothing is stored.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, col, select

from ..deposits import decode_text
from ..domain.declaration import Declaration, Problem
from ..domain.statuses import Status
from ..domain.vocabulary import DepositKind, WorkCategory
from ..models import Determination
from ..similarity import image as img
from ..similarity import report as rep
from ..storage import DepositStore
from . import matching
from .intake import DepositUpload, FilingRejected, Limits, staged_upload

NOTHING_TO_SEARCH = "Choose an image or paste a text to search for."


@dataclass(frozen=True)
class ReverseMatch:
    """A registered work that a searched work matches, as anyone may see it: the public facts
    of the registration and how strongly it matches, never its deposit, passages or owner."""

    number: str
    title: str
    status: str
    submitted_at: datetime
    determined_at: datetime | None  # the latest determination, if the work has one
    modality: str  # "image" or "text"
    band: rep.Band
    score: float
    signals: tuple[str, ...]  # the names of the signals that fired, e.g. "key points"
    coverage: float | None  # the share of the searched text in copied passages; None for images

    @property
    def status_label(self) -> str:
        return Status(self.status).label

    def public_dict(self) -> dict:
        """The match as plain JSON-ready data (dates as ISO strings, the score to 3 places)."""
        return {
            "number": self.number,
            "title": self.title,
            "status": self.status,
            "status_label": self.status_label,
            "filed_on": self.submitted_at.date().isoformat(),
            "determined_on": self.determined_at.date().isoformat() if self.determined_at else None,
            "modality": self.modality,
            "band": self.band.value,
            "score": round(float(self.score), 3),
            "signals": list(self.signals),
            "coverage": round(float(self.coverage), 3) if self.coverage is not None else None,
        }


@dataclass(frozen=True)
class ReverseResult:
    """What a reverse search found: the registered works matching the searched one, best first."""

    modality: str  # what was searched: "image" or "text"
    checked_against: int  # registered works of that kind it was compared with
    matches: tuple[ReverseMatch, ...]

    def public_dict(self) -> dict:
        return {
            "modality": self.modality,
            "checked_against": self.checked_against,
            "matches": [m.public_dict() for m in self.matches],
        }


@dataclass(frozen=True)
class _Searched:
    sha256: str
    content: img.PreparedImage | str  # an image prepared for the engine, or a text


def _read_search_upload(
    limits: Limits, upload: DepositUpload, scratch: Path | None = None
) -> _Searched:
    """Check the upload as a filing's deposit is checked, in a scratch folder (``scratch``, which
    the caller removes, or a temporary one removed before this returns), and decode it for the
    engine."""
    # A pasted text is inspected as a text, so that its problem is the one named (a control
    # character, say), not that it is no image; a file may be either.
    pasted = upload.file is None
    decl = Declaration(work_category=WorkCategory.LITERARY.value if pasted else None)
    with _scratch(scratch) as folder:
        # A store of its own in the scratch folder: nothing reaches the deposit store.
        with staged_upload(DepositStore(folder), limits, upload, decl) as incoming:
            if incoming is None:
                raise FilingRejected([Problem("deposit", NOTHING_TO_SEARCH)])
            path, sha = incoming.staged.path, incoming.staged.sha256
            if incoming.info.kind == DepositKind.IMAGE:
                return _Searched(sha, matching.read_image(path))
            return _Searched(sha, decode_text(path.read_bytes()))


@contextmanager
def _scratch(given: Path | None) -> Iterator[Path]:
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="registry-search-") as folder:
        yield Path(folder)


def _determined_at(session: Session, ids: list[int]) -> dict[int, datetime]:
    """When each registration's latest determination was made (as
    ``decisions.latest_determination`` picks it), for those that have one."""
    if not ids:
        return {}
    rows = session.exec(
        select(Determination.registration_id, Determination.at)
        .where(col(Determination.registration_id).in_(ids))
        .order_by(col(Determination.id))
    ).all()
    return dict(rows)  # in id order: the latest determination of each comes last and stays


def _searched_words(signal: str) -> str:
    """A signal's name as the person searching reads it: they sent a work, not a new filing."""
    return signal.replace("the new work", "what you sent").replace(
        "the earlier work", "the registered work"
    )


def reverse_search(
    *,
    session: Session,
    store: DepositStore,
    matcher: matching.Matcher,
    limits: Limits,
    upload: DepositUpload,
    scratch: Path | None = None,
) -> ReverseResult:
    """Which registered works the uploaded image or text matches, best first (strong matches
    first, then by score), judged exactly as a filing's originality check judges them.

    Nothing is stored: the upload is checked and decoded in a scratch folder (``scratch``, which
    the caller removes, or a temporary one removed at once), and no row is written (the indexes
    are caught up from the database, which only reads). Only public registrations are returned
    (never a draft), with their public facts only.

    Raises ``intake.FilingRejected`` (a problem on the field ``deposit``) when the upload is
    missing, empty, too large, both a file and a text, or not an image or UTF-8 text the
    registry accepts.
    """
    searched = _read_search_upload(limits, upload, scratch)
    modality, found, checked_against = matching.candidates(
        session, store, matcher, searched.content, sha256=searched.sha256
    )
    determined = _determined_at(session, [matching.stored_id(c.registration) for c in found])
    matches = []
    for c in found:
        reg = c.registration
        if reg.number is None or reg.submitted_at is None or reg.status == Status.DRAFT.value:
            continue  # the candidates admit none of these; checked again where privacy matters
        matches.append(
            ReverseMatch(
                number=reg.number,
                title=reg.title,
                status=reg.status,
                submitted_at=reg.submitted_at,
                determined_at=determined.get(matching.stored_id(reg)),
                modality=modality.value,
                band=c.band,
                score=c.score,
                signals=tuple(_searched_words(s.name) for s in c.signals),
                coverage=c.coverage,
            )
        )
    return ReverseResult(modality.value, checked_against, tuple(matches))
