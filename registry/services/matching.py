"""Originality check: fingerprint a submitted deposit, find the registered works it matches, explain
each match, and store the fingerprint and the match report together, once.

The in-memory indexes (``Matcher``) are caches of the ``fingerprint`` table: before each search they
read the rows added since their watermark, so several processes sharing one database stay correct.
Fingerprinting and pairwise verification run outside any write transaction; only the two inserts
take the write lock.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

import numpy as np
from PIL import Image
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from ..db import begin_write
from ..domain.vocabulary import DepositKind
from ..models import Deposit, Fingerprint, MatchReport, Registration
from ..similarity import ENGINE_VERSION, Match
from ..similarity import image as img
from ..similarity import report as rep
from ..similarity import text as txt
from ..similarity.index import FingerprintIndex, HammingIndex
from ..storage import DepositStore

#: Earlier works verified pairwise per filing, at most.
IMAGE_CANDIDATES = 8
TEXT_CANDIDATES = 10


class Matcher:
    """The per-process indexes over every fingerprinted filing."""

    def __init__(self) -> None:
        self.images = HammingIndex(len(img.REGIONS))
        self.texts = FingerprintIndex()
        self.watermark = 0
        self.lock = threading.Lock()

    def catch_up(self, session: Session) -> None:
        rows = session.exec(
            select(
                Fingerprint.id,
                Fingerprint.registration_id,
                Fingerprint.kind,
                Fingerprint.region_hashes,
                Fingerprint.text_fingerprints,
            )
            .where(Fingerprint.id > self.watermark)
            .order_by(Fingerprint.id)
        ).all()
        for row_id, registration_id, kind, regions, fps in rows:
            if kind == DepositKind.IMAGE.value and regions:
                self.images.add(registration_id, _unpack_codes(regions))
            elif kind == DepositKind.TEXT.value and fps is not None:
                self.texts.add(registration_id, np.frombuffer(fps, dtype="<i8"))
            self.watermark = row_id

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
    return b"".join(int(c).to_bytes(8, "big") for c in codes)


def _unpack_codes(data: bytes) -> list[int]:
    return [int.from_bytes(data[i : i + 8], "big") for i in range(0, len(data), 8)]


@dataclass
class _Query:
    fingerprint: Fingerprint
    matches: list[Match]
    checked_against: int


def get_report(session: Session, registration: Registration) -> MatchReport | None:
    return session.exec(
        select(MatchReport).where(MatchReport.registration_id == registration.id)
    ).first()


def report_matches(report: MatchReport) -> list[dict]:
    return json.loads(report.body)["matches"]


def matched_registration(
    session: Session, registration: Registration, number: str
) -> Registration | None:
    """The earlier registration ``number`` if the filing's match report names it, else None."""
    report = get_report(session, registration)
    if report is None or number not in {m["number"] for m in report_matches(report)}:
        return None
    return session.exec(select(Registration).where(Registration.number == number)).first()


def check(
    *, session: Session, store: DepositStore, matcher: Matcher, registration: Registration
) -> MatchReport:
    """Fingerprint the filing's deposit, match it against every earlier fingerprinted filing, and
    store the fingerprint and the report; commit. A filing checked already keeps its report."""
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
    matches = sorted(query.matches, key=lambda m: (m.band != rep.Band.STRONG, -m.score))
    body = {"engine_version": ENGINE_VERSION, "matches": [m.to_dict() for m in matches]}
    report = MatchReport(
        registration_id=registration.id,
        engine_version=ENGINE_VERSION,
        checked_against=query.checked_against,
        match_count=len(matches),
        strongest_band=matches[0].band.value if matches else None,
        top_score=max((m.score for m in matches), default=0.0),
        body=json.dumps(body, ensure_ascii=False),
    )
    begin_write(session)
    try:
        session.add(query.fingerprint)
        session.add(report)
        session.commit()
    except IntegrityError:
        session.rollback()  # another process checked it first: its report stands
        found = get_report(session, registration)
        if found is None:
            raise
        return found
    except BaseException:
        session.rollback()
        raise
    return report


def check_pending(*, session: Session, store: DepositStore, matcher: Matcher) -> list[str]:
    """Check every submitted filing that has no match report yet (a check that failed or was
    cut off), oldest first; return their numbers."""
    pending = session.exec(
        select(Registration)
        .outerjoin(MatchReport, MatchReport.registration_id == Registration.id)
        .where(Registration.number.is_not(None), MatchReport.id.is_(None))
        .order_by(Registration.submitted_at, Registration.id)
    ).all()
    done = []
    for reg in pending:
        check(session=session, store=store, matcher=matcher, registration=reg)
        done.append(reg.number)
    return done


def _earlier(
    session: Session, ids: list[int], own: Registration
) -> list[tuple[Registration, Deposit]]:
    found = []
    for rid in ids:
        if rid == own.id:
            continue
        reg = session.get(Registration, rid)
        if reg is not None and reg.deposit is not None:
            found.append((reg, reg.deposit))
    return found


def _same_deposit(session: Session, own: Registration) -> list[int]:
    rows = session.exec(
        select(Registration.id)
        .join(Fingerprint, Fingerprint.registration_id == Registration.id)
        .where(Registration.deposit_sha256 == own.deposit_sha256, Registration.id != own.id)
    ).all()
    return list(rows)


def _match(reg: Registration, own: Registration, modality: str, judged, **extra) -> Match:
    score, band, signals = judged
    first = (
        reg.submitted_at is None
        or own.submitted_at is None
        or ((reg.submitted_at, reg.id) <= (own.submitted_at, own.id))
    )
    return Match(
        number=reg.number or "",
        modality=modality,
        score=score,
        band=band,
        signals=signals,
        earlier_first=first,
        earlier_status=reg.status,
        earlier_filed=reg.submitted_at.date().isoformat() if reg.submitted_at else "",
        **extra,
    )


def prepare_image(store: DepositStore, sha256: str) -> img.PreparedImage:
    with Image.open(store.path_for(sha256)) as im:
        im.load()
        return img.prepare(im)


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
    variants = img.query_variants(query)
    hits, checked_against = matcher.search_images(session, [v.phash for v in variants])
    ids = [h[0] for h in hits]
    same_pixels = session.exec(
        select(Fingerprint.registration_id).where(Fingerprint.pixel_sha256 == fp.pixel_sha256)
    ).all()
    ids = list(dict.fromkeys([*_same_deposit(session, own), *same_pixels, *ids]))
    pdqs = img.query_pdqs(query)
    matches = []
    for reg, dep in _earlier(session, ids, own):
        earlier = prepare_image(store, dep.sha256)
        evidence = img.compare(
            query, variants, pdqs, earlier, identical_bytes=dep.sha256 == deposit.sha256
        )
        judged = rep.judge_image(evidence)
        if judged is None:
            continue
        fm = evidence.features
        variant = evidence.variant
        if img.plausible(fm):
            region = {"name": "region shown", "box": [round(v, 4) for v in fm.box]}
            variant = img.describe(fm)
        else:
            region = {"name": evidence.region, "box": list(evidence.region_box)}
        matches.append(_match(reg, own, "image", judged, variant=variant, region=region))
    return _Query(row, matches, checked_against)


def _check_text(session, store, matcher, own, deposit) -> _Query:
    text = store.read_bytes(deposit.sha256).decode("utf-8-sig")
    tokens = txt.tokenize(text)
    fps = txt.winnow(txt.gram_hashes(tokens))
    row = Fingerprint(
        registration_id=own.id,
        kind=DepositKind.TEXT.value,
        engine_version=ENGINE_VERSION,
        text_fingerprints=fps.astype("<i8").tobytes(),
    )
    hits, checked_against = matcher.search_texts(session, fps)
    ids = list(dict.fromkeys([*_same_deposit(session, own), *(h[0] for h in hits)]))
    matches = []
    for reg, dep in _earlier(session, ids, own):
        earlier_text = store.read_bytes(dep.sha256).decode("utf-8-sig")
        alignment = txt.align(tokens, txt.tokenize(earlier_text))
        judged = rep.judge_text(alignment, tokens.cjk)
        if judged is None:
            continue
        passages = [
            {
                "new": [p.new_start, p.new_end],
                "earlier": [p.earlier_start, p.earlier_end],
                "similarity": p.similarity,
                "new_text": text[p.new_start : p.new_end][:2000],
                "earlier_text": earlier_text[p.earlier_start : p.earlier_end][:2000],
            }
            for p in alignment.passages
        ]
        matches.append(
            _match(
                reg,
                own,
                "text",
                judged,
                passages=passages,
                new_coverage=alignment.new_coverage,
                earlier_coverage=alignment.earlier_coverage,
            )
        )
    return _Query(row, matches, checked_against)
