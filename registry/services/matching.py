"""Originality check: fingerprint a submitted deposit, find the registered works it matches, explain
each match, and store the fingerprint and the match report together, once.

The in-memory indexes (``Matcher``) are caches of the ``fingerprint`` table: before each search they
read the rows added since their watermark, so several processes sharing one database stay correct.
Fingerprinting and pairwise verification run outside any write transaction; only the two inserts
take the write lock.

The reverse search ("is this already registered?") runs the same candidate search and the same
judgement on a work nobody filed, and stores nothing: the upload is checked as a filing's would be
in a scratch folder removed at once, and the answer carries only the public facts of each match.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ..db import writing
from ..deposits import stored_text
from ..domain import permissions
from ..domain.statuses import Status
from ..domain.vocabulary import DepositKind
from ..models import (
    Deposit,
    FilingMatch,
    Fingerprint,
    MatchReport,
    Registration,
    User,
)
from ..similarity import ENGINE_VERSION, Match, Region, Report, SharedPassage
from ..similarity import image as img
from ..similarity import report as rep
from ..similarity import text as txt
from ..similarity.index import FingerprintIndex, HammingIndex
from ..storage import DepositDamaged, DepositStore

#: Earlier works verified pairwise per filing, at most.
IMAGE_CANDIDATES = 8
TEXT_CANDIDATES = 10
#: How long an id skipped by the watermark is looked for again (see Matcher.gaps).
GAP_SECONDS = 120.0

log = logging.getLogger(__name__)


class Matcher:
    """The per-process indexes over every fingerprinted filing."""

    def __init__(self) -> None:
        self.images = HammingIndex(len(img.REGIONS))
        self.texts = FingerprintIndex()
        self.watermark = 0
        # Ids below the watermark not seen yet: on PostgreSQL a sequence hands out ids before
        # their transactions commit, so a later id can commit first. Each gap is looked for
        # again until it appears or GAP_SECONDS pass (a rolled-back insert leaves a gap forever).
        self.gaps: dict[int, float] = {}
        self.lock = threading.Lock()

    def catch_up(self, session: Session) -> None:
        now = time.monotonic()
        self.gaps = {g: t for g, t in self.gaps.items() if now - t < GAP_SECONDS}
        newer = col(Fingerprint.id) > self.watermark
        if self.gaps:
            newer = or_(newer, col(Fingerprint.id).in_(list(self.gaps)))
        rows = session.exec(
            select(  # type: ignore[call-overload]  # sqlmodel's select() is typed for 4 columns at most
                col(Fingerprint.id),
                col(Fingerprint.registration_id),
                col(Fingerprint.kind),
                col(Fingerprint.region_hashes),
                col(Fingerprint.text_fingerprints),
            )
            .where(newer)
            .order_by(col(Fingerprint.id))
        ).all()
        image_ids, image_codes = [], []  # added in one batch: a cold start reads them all
        width = 8 * self.images.per_item
        for row_id, registration_id, kind, regions, fps in rows:
            if kind == DepositKind.IMAGE.value and regions and len(regions) == width:
                image_ids.append(registration_id)
                image_codes.append(regions)
            elif kind == DepositKind.TEXT.value and fps is not None and len(fps) % 8 == 0:
                self.texts.add(registration_id, np.frombuffer(fps, dtype="<i8"))
            else:
                log.error("fingerprint %s is malformed; it is left out of the index", row_id)
            self.gaps.pop(row_id, None)
            if row_id > self.watermark:
                self.gaps.update(dict.fromkeys(range(self.watermark + 1, row_id), now))
                self.watermark = row_id
        if image_ids:
            codes = np.frombuffer(b"".join(image_codes), dtype=">u8").astype(np.uint64)
            self.images.add_many(np.array(image_ids, dtype=np.int64), codes)

    def search_images(self, session: Session, codes: list[int]) -> tuple[list, int]:
        """Catch up, then the registered images nearest to ``codes``; and how many there are."""
        with self.lock:
            self.catch_up(session)
            hits = self.images.search(
                codes, radius=rep.IMAGE_RETRIEVE_DISTANCE, limit=IMAGE_CANDIDATES
            )
            return hits, len(self.images)

    def search_texts(self, session: Session, fingerprints: np.ndarray) -> tuple[list, int]:
        """Catch up, then the registered texts sharing most ``fingerprints``; and how many."""
        with self.lock:
            self.catch_up(session)
            return self.texts.search(fingerprints, limit=TEXT_CANDIDATES), len(self.texts)


def _pack_codes(codes) -> bytes:
    return np.array([int(c) for c in codes], dtype=">u8").tobytes()


@dataclass
class _Query:
    fingerprint: Fingerprint
    matches: list[Match]
    earlier_ids: list[int]  # the registration each of ``matches`` names, in the same order
    checked_against: int


def get_report(session: Session, registration: Registration) -> MatchReport | None:
    return session.exec(
        select(MatchReport).where(MatchReport.registration_id == registration.id)
    ).first()


def report_of(report: MatchReport) -> Report:
    """The stored report, read by the engine (which upgrades an older layout)."""
    return Report.from_json(report.body)


def report_matches(report: MatchReport) -> list[Match]:
    return report_of(report).matches


def matched_numbers(session: Session, registration: Registration) -> set[str]:
    """The numbers of the earlier registrations the filing's match report names."""
    report = get_report(session, registration)
    return {m.number for m in report_matches(report)} if report else set()


def content_visible(session: Session, numbers: set[str], user: User) -> set[str]:
    """Which of the matched earlier works ``numbers`` ``user`` may see the content of (the image,
    the passages' text) beside a filing. Deposits are not public: examiners see every one, a
    creator only their own works."""
    if not numbers:
        return numbers
    owners = dict(
        session.exec(
            select(Registration.number, Registration.owner_id).where(
                col(Registration.number).in_(numbers)
            )
        ).all()
    )
    return {
        n
        for n in numbers
        if permissions.sees_earlier_content(user.role, owns_earlier=owners.get(n) == user.id)
    }


#: Characters of a passage shown on a page, at most (the offsets always cover all of it).
SHOWN_CHARS = 2000


@dataclass(frozen=True)
class PassageShown:
    """A copied passage as one viewer sees it: its offsets, the filing's text there, and the
    earlier work's text there when the viewer may see that work (None when not, or when its
    deposit cannot be read; ``withheld`` says which)."""

    new: tuple[int, int]
    earlier: tuple[int, int]
    similarity: float
    new_text: str
    earlier_text: str | None
    withheld: bool


def passages_shown(
    session: Session,
    store: DepositStore,
    matches: list[Match],
    own_text: str,
    viewer: User,
) -> dict[str, list[PassageShown]]:
    """The passages of each text match (by the earlier work's number), with their text read
    now from the deposits: the filing's own ``own_text``, and each earlier work's text only when
    ``viewer`` may see that work's content (``content_visible``). The stored report holds
    offsets only."""
    texts = [m for m in matches if m.passages]
    visible = content_visible(session, {m.number for m in texts}, viewer)
    earlier_texts: dict[str, str | None] = {}
    if visible:
        rows = session.exec(
            select(Registration.number, Deposit)
            .join(Deposit, col(Deposit.sha256) == Registration.deposit_sha256)
            .where(col(Registration.number).in_(visible))
        ).all()
        for number, dep in rows:
            assert number is not None, "the query keeps only numbered works"
            if dep.kind != DepositKind.TEXT.value:
                continue
            try:
                earlier_texts[number] = stored_text(store.read_verified(dep.sha256))
            except (DepositDamaged, OSError, ValueError) as exc:
                log.error("earlier deposit %s of %s not shown: %s", dep.sha256, number, exc)
                earlier_texts[number] = None
    shown: dict[str, list[PassageShown]] = {}
    for m in texts:
        earlier = earlier_texts.get(m.number)
        shown[m.number] = [
            PassageShown(
                new=p.new,
                earlier=p.earlier,
                similarity=p.similarity,
                new_text=own_text[p.new[0] : p.new[1]][:SHOWN_CHARS],
                earlier_text=(
                    earlier[p.earlier[0] : p.earlier[1]][:SHOWN_CHARS]
                    if earlier is not None
                    else None
                ),
                withheld=m.number not in visible,
            )
            for p in m.passages
        ]
    return shown


def matched_registration(
    session: Session, registration: Registration, number: str, user: User
) -> Registration | None:
    """The earlier registration ``number`` if the filing's match report names it and ``user`` may
    see its content beside this filing, else None."""
    if number not in content_visible(session, matched_numbers(session, registration), user):
        return None
    return session.exec(select(Registration).where(Registration.number == number)).first()


def check(
    *, session: Session, store: DepositStore, matcher: Matcher, registration: Registration
) -> MatchReport:
    """Fingerprint the filing's deposit, match it against every earlier fingerprinted filing, and
    store the fingerprint and the report; commit. A filing checked already keeps its report."""
    if registration.number is None:
        raise ValueError("only a submitted filing is checked")
    assert registration.id is not None, "a submitted filing is a stored row"
    existing = get_report(session, registration)
    if existing is not None:
        return existing
    deposit = registration.deposit
    if deposit is None:
        raise ValueError("a filing without a deposit cannot be checked")
    if deposit.kind == DepositKind.IMAGE.value:
        query = _check_image(session, store, matcher, registration, deposit)
    else:
        query = _check_text(session, store, matcher, registration, deposit)
    body = Report(ENGINE_VERSION, sorted(query.matches, key=_best_first))
    strongest = body.strongest_band
    report = MatchReport(
        registration_id=registration.id,
        engine_version=body.engine_version,
        checked_against=query.checked_against,
        match_count=len(body.matches),
        strongest_band=strongest.value if strongest else None,
        top_score=body.top_score,
        body=body.to_json(),
    )
    rows = [
        FilingMatch(
            filing_id=registration.id,
            earlier_id=earlier_id,
            earlier_first=m.earlier_first,
            band=m.band.value,
            score=m.score,
            signals=[s.name for s in m.signals],
        )
        for m, earlier_id in zip(query.matches, query.earlier_ids, strict=True)
    ]
    try:
        with writing(session):
            session.add(query.fingerprint)
            session.add(report)
            session.add_all(rows)  # one row per match, in the report's transaction
    except IntegrityError:  # another process checked it first: its report stands
        found = get_report(session, registration)
        if found is None:
            raise
        return found
    return report


def _best_first(m: Match | _Candidate) -> tuple[bool, float]:
    return (m.band != rep.Band.STRONG, -m.score)


def _earlier(
    session: Session, ids: list[int], exclude_id: int | None, limit: int
) -> list[tuple[Registration, Deposit]]:
    """The candidate registrations (never ``exclude_id``, never a draft), at most ``limit``."""
    found = []
    for rid in dict.fromkeys(ids):
        if rid == exclude_id:
            continue
        reg = session.get(Registration, rid)
        if (
            reg is not None
            and reg.number
            and reg.status != Status.DRAFT.value
            and reg.deposit is not None
        ):
            found.append((reg, reg.deposit))
            if len(found) == limit:
                break
    return found


def _same_deposit(session: Session, sha256: str, exclude_id: int | None) -> list[int]:
    """Fingerprinted registrations whose deposit is the file ``sha256``."""
    query = (
        select(col(Registration.id))
        .join(Fingerprint, col(Fingerprint.registration_id) == Registration.id)
        .where(Registration.deposit_sha256 == sha256)
    )
    if exclude_id is not None:
        query = query.where(Registration.id != exclude_id)
    ids = session.exec(query.limit(IMAGE_CANDIDATES)).all()
    return [rid for rid in ids if rid is not None]  # all of them: a primary key is never NULL


def stored_id(reg: Registration) -> int:
    """The id of ``reg``, a registration read from the database (a candidate, a match)."""
    assert reg.id is not None, "a registration read from the database has its id"
    return reg.id


@dataclass
class _Candidate:
    """An earlier registration the engine judged a match for a query, with the evidence."""

    registration: Registration
    score: float
    band: rep.Band
    signals: list[rep.Signal]
    # What a filing's report shows beside the score: for an image the variant and the region of
    # the earlier work; for a text the passages (offsets into both texts) and the two coverages.
    details: dict = field(default_factory=dict)
    coverage: float | None = None  # of the query by the copied passages (texts only)


def _match(candidate: _Candidate, own: Registration, modality: str) -> Match:
    reg = candidate.registration
    first = (
        reg.submitted_at is None
        or own.submitted_at is None
        or ((reg.submitted_at, reg.id) <= (own.submitted_at, own.id))
    )
    return Match(
        number=reg.number or "",
        modality=modality,
        score=candidate.score,
        band=candidate.band,
        signals=candidate.signals,
        earlier_first=first,
        earlier_status=reg.status,
        earlier_filed=reg.submitted_at.date().isoformat() if reg.submitted_at else "",
        **candidate.details,
    )


def prepare_image(
    store: DepositStore, sha256: str, *, pixel_hash: bool = True
) -> img.PreparedImage:
    """The stored image ``sha256`` prepared for the engine; an earlier work compared with a
    query needs no ``pixel_hash`` (its fingerprint row has it), which lets a JPEG be decoded at
    a reduced scale."""
    return _prepare_file(store.path_for(sha256), pixel_hash=pixel_hash)


def _prepare_file(path: Path, *, pixel_hash: bool = True) -> img.PreparedImage:
    with Image.open(path) as im:
        return img.prepare(im, pixel_hash=pixel_hash)


def _image_candidates(
    session: Session,
    store: DepositStore,
    matcher: Matcher,
    query: img.PreparedImage,
    *,
    sha256: str,
    exclude_id: int | None,
) -> tuple[list[_Candidate], int]:
    """The registered images ``query`` (the file ``sha256``) matches, judged; and how many
    registered images there are. Shared by the check of a filing and the reverse search."""
    variants = img.query_variants(query)
    hits, checked_against = matcher.search_images(session, [v.phash for v in variants])
    same_pixels = session.exec(
        select(Fingerprint.registration_id)
        .where(Fingerprint.pixel_sha256 == query.fingerprint.pixel_sha256)
        .limit(IMAGE_CANDIDATES)
    ).all()
    pdqs = img.query_pdqs(query)
    found = []
    candidates = [*_same_deposit(session, sha256, exclude_id), *same_pixels, *(h[0] for h in hits)]
    chosen = _earlier(session, candidates, exclude_id, IMAGE_CANDIDATES)
    stored_pixels = dict(
        session.exec(
            select(Fingerprint.registration_id, Fingerprint.pixel_sha256).where(
                col(Fingerprint.registration_id).in_([reg.id for reg, _dep in chosen])
            )
        ).all()
    )
    for reg, dep in chosen:
        try:
            # decoded at a reduced scale: the stored fingerprint has the full-size pixel hash
            earlier = prepare_image(store, dep.sha256, pixel_hash=False)
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            log.warning(
                "earlier deposit %s of %s unreadable, skipped: %s", dep.sha256, reg.number, exc
            )
            continue
        earlier.fingerprint = replace(
            earlier.fingerprint, pixel_sha256=stored_pixels.get(stored_id(reg)) or ""
        )
        evidence = img.compare(query, variants, pdqs, earlier, identical_bytes=dep.sha256 == sha256)
        judged = rep.judge_image(evidence)
        if judged is None:
            continue
        fm = evidence.features
        variant = evidence.variant
        if fm is not None and img.plausible(fm):
            region = Region("region shown", _box(fm.box, 4))
            variant = img.describe(fm)
        else:
            region = Region(evidence.region, _box(evidence.region_box))
        found.append(_Candidate(reg, *judged, details={"variant": variant, "region": region}))
    return found, checked_against


def _box(
    box: tuple[float, float, float, float], places: int | None = None
) -> tuple[float, float, float, float]:
    """A region's box as four floats (rounded to ``places``, if given)."""
    left, top, right, bottom = (float(v) if places is None else round(v, places) for v in box)
    return left, top, right, bottom


def _text_candidates(
    session: Session,
    store: DepositStore,
    matcher: Matcher,
    text: str,
    tokens: txt.Tokens,
    fingerprints: np.ndarray,
    *,
    sha256: str,
    exclude_id: int | None,
) -> tuple[list[_Candidate], int]:
    """The registered texts ``text`` (the file ``sha256``, already tokenized and fingerprinted)
    matches, judged; and how many registered texts there are."""
    hits, checked_against = matcher.search_texts(session, fingerprints)
    candidates = [*_same_deposit(session, sha256, exclude_id), *(h[0] for h in hits)]
    found = []
    for reg, dep in _earlier(session, candidates, exclude_id, TEXT_CANDIDATES):
        try:
            earlier_text = stored_text(store.read_bytes(dep.sha256))
        except (OSError, ValueError) as exc:
            log.warning(
                "earlier deposit %s of %s unreadable, skipped: %s", dep.sha256, reg.number, exc
            )
            continue
        alignment = txt.align(tokens, txt.tokenize(earlier_text))
        judged = rep.judge_text(alignment, tokens.cjk)
        if judged is None:
            continue
        passages = [
            SharedPassage((p.new_start, p.new_end), (p.earlier_start, p.earlier_end), p.similarity)
            for p in alignment.passages
            if p.similarity >= rep.TEXT_MIN_SIMILARITY
        ]
        details = {
            "passages": passages,
            "new_coverage": alignment.new_coverage,
            "earlier_coverage": alignment.earlier_coverage,
        }
        found.append(_Candidate(reg, *judged, details=details, coverage=alignment.new_coverage))
    return found, checked_against


def _text_query(text: str) -> tuple[txt.Tokens, np.ndarray]:
    tokens = txt.tokenize(text)
    return tokens, txt.winnow(txt.gram_hashes(tokens))


def _check_image(session, store, matcher, own, deposit) -> _Query:
    query = prepare_image(store, deposit.sha256)
    fp = query.fingerprint
    row = Fingerprint(
        registration_id=own.id,
        kind=DepositKind.IMAGE.value,
        engine_version=ENGINE_VERSION,
        pixel_sha256=fp.pixel_sha256,
        pdq=fp.pdq,
        region_hashes=_pack_codes(fp.region_hashes),
    )
    found, checked_against = _image_candidates(
        session, store, matcher, query, sha256=deposit.sha256, exclude_id=own.id
    )
    return _Query(
        row,
        [_match(c, own, "image") for c in found],
        [stored_id(c.registration) for c in found],
        checked_against,
    )


def _check_text(session, store, matcher, own, deposit) -> _Query:
    text = stored_text(store.read_bytes(deposit.sha256))
    tokens, fps = _text_query(text)
    row = Fingerprint(
        registration_id=own.id,
        kind=DepositKind.TEXT.value,
        engine_version=ENGINE_VERSION,
        text_fingerprints=fps.astype("<i8").tobytes(),
    )
    found, checked_against = _text_candidates(
        session, store, matcher, text, tokens, fps, sha256=deposit.sha256, exclude_id=own.id
    )
    return _Query(
        row,
        [_match(c, own, "text") for c in found],
        [stored_id(c.registration) for c in found],
        checked_against,
    )


# --------------------------------------------------------------------------- for the reverse search


def read_image(path: Path) -> img.PreparedImage:
    """The image file at ``path`` prepared for the engine as a query."""
    return _prepare_file(path)


def candidates(
    session: Session,
    store: DepositStore,
    matcher: Matcher,
    content: img.PreparedImage | str,
    *,
    sha256: str,
) -> tuple[DepositKind, list[_Candidate], int]:
    """The registered works ``content`` (an image prepared for the engine, or a text) matches,
    best first, judged exactly as a filing's originality check judges them; with the kind of
    work searched and how many works of that kind it was compared with. Reads only."""
    if isinstance(content, str):
        tokens, fps = _text_query(content)
        found, checked_against = _text_candidates(
            session, store, matcher, content, tokens, fps, sha256=sha256, exclude_id=None
        )
        kind = DepositKind.TEXT
    else:
        found, checked_against = _image_candidates(
            session, store, matcher, content, sha256=sha256, exclude_id=None
        )
        kind = DepositKind.IMAGE
    return kind, sorted(found, key=_best_first), checked_against
