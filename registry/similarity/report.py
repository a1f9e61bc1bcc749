"""The match report: for each earlier work a score in [0, 1], a band, and the evidence behind it.

The thresholds here decide what an examiner is shown. They were set on labelled copies (crops,
borders, flips, rotations, screenshots, re-encoding; excerpts, embedding, reordering, deletion,
rewording) and are applied the same way to every filing. Pure: no Flask, no SQL.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from .image import MIN_QUALITY, ImageEvidence, plausible
from .text import TextAlignment

ENGINE_VERSION = "1.1.0"

# Images: a whole-picture pHash within this distance is a copy on its own; any variant or region
# within the stricter one; otherwise key points must confirm a candidate found within RETRIEVE.
IMAGE_WHOLE_DISTANCE = 8
IMAGE_ANY_DISTANCE = 6
IMAGE_PDQ_DISTANCE = 40
IMAGE_RETRIEVE_DISTANCE = 20

# Texts: a copy must be this similar passage by passage, and either make up most of the new work
# (a short excerpt), or be long enough and a sizeable share of one of the two works, or hold one
# passage of a paragraph's length.
TEXT_MIN_SIMILARITY = 0.6
TEXT_SHORT_TOKENS = 4
TEXT_SHORT_COVERAGE = 0.6
TEXT_LONG_TOKENS = 8
TEXT_LONG_COVERAGE = 0.3
TEXT_LONGEST_PASSAGE = 6
# A single passage this long (a paragraph) is worth an examiner's look whatever its share.
TEXT_PARAGRAPH = 60


class Band(StrEnum):
    STRONG = "strong"
    REVIEW = "review"


@dataclass(frozen=True)
class Signal:
    name: str
    value: float
    detail: str


@dataclass
class Match:
    """One earlier registration the new work matches."""

    number: str
    modality: str
    score: float
    band: Band
    signals: list[Signal]
    earlier_first: bool  # the earlier registration was filed before this one
    earlier_status: str = ""
    earlier_filed: str = ""  # ISO date
    variant: str | None = None
    region: dict[str, Any] | None = None
    passages: list[dict[str, Any]] = field(default_factory=list)
    new_coverage: float | None = None
    earlier_coverage: float | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["band"] = self.band.value
        return data


def judge_image(ev: ImageEvidence) -> tuple[float, Band, list[Signal]] | None:
    """Score and band for an image pair, with the signals that fired; None when it is no match."""
    signals: list[Signal] = []
    if ev.identical_bytes:
        signals.append(Signal("identical file", 0, "the same bytes (SHA-256)"))
    if ev.identical_pixels:
        signals.append(Signal("identical pixels", 0, "the same decoded picture (SHA-256)"))
    whole = ev.region == "whole picture" and ev.variant in ("as filed", "borders trimmed")
    # Hashes of flat pictures (a plain colour, a gradient) are near each other whatever they
    # show: there only key points count.
    detailed = ev.quality >= MIN_QUALITY
    hash_fires = detailed and (
        ev.hash_distance <= IMAGE_ANY_DISTANCE
        or (whole and ev.hash_distance <= IMAGE_WHOLE_DISTANCE)
    )
    if hash_fires:
        signals.append(
            Signal(
                "perceptual hash",
                ev.hash_distance,
                f"pHash {ev.hash_distance}/64 bits apart ({ev.variant}; {ev.region})",
            )
        )
    if detailed and ev.pdq_distance <= IMAGE_PDQ_DISTANCE:
        signals.append(Signal("PDQ hash", ev.pdq_distance, f"PDQ {ev.pdq_distance}/256 bits apart"))
    fm = ev.features
    confirmed = plausible(fm)
    if confirmed:
        assert fm is not None  # plausible(None) is False
        signals.append(
            Signal(
                "key points",
                fm.inliers,
                f"{fm.inliers} of {fm.matches} matched key points agree on one placement"
                f" (scale {fm.scale:.2f}, turned {fm.rotation:.1f}°"
                f"{', mirrored' if fm.mirrored else ''})",
            )
        )
    if not signals:
        return None
    if ev.identical_bytes or ev.identical_pixels:
        return 1.0, Band.STRONG, signals
    hash_sim = max(0.0, 1 - ev.hash_distance / 32) if detailed else 0.0
    pdq_sim = max(0.0, 1 - ev.pdq_distance / 128) if detailed else 0.0
    feature_sim = min(1.0, fm.inliers / 60) if confirmed and fm is not None else 0.0
    score = round(max(hash_sim, pdq_sim, feature_sim), 3)
    strong = len(signals) >= 2 or score >= 0.85
    return score, Band.STRONG if strong else Band.REVIEW, signals


def judge_text(al: TextAlignment, cjk: bool) -> tuple[float, Band, list[Signal]] | None:
    """Score and band for a text pair; None when the shared passages do not amount to a copy."""
    if not al.passages or al.similarity < TEXT_MIN_SIMILARITY:
        return None
    unit = 2 if cjk else 1
    longest = max(p.tokens for p in al.passages)
    count = max(al.passage_count, len(al.passages))
    short_copy = al.matched_tokens >= TEXT_SHORT_TOKENS * unit and (
        al.new_coverage >= TEXT_SHORT_COVERAGE
    )
    long_copy = (
        al.matched_tokens >= TEXT_LONG_TOKENS * unit
        and max(al.new_coverage, al.earlier_coverage) >= TEXT_LONG_COVERAGE
        and longest >= TEXT_LONGEST_PASSAGE * unit
    )
    paragraph = any(p.tokens >= TEXT_PARAGRAPH * unit and p.similarity >= 0.8 for p in al.passages)
    # A comparison cut short by its work limit may have missed more: an examiner looks at it.
    if not (short_copy or long_copy or paragraph or al.truncated):
        return None
    what = "characters" if cjk else "words"
    listed = "" if count == len(al.passages) else f" (the {len(al.passages)} best listed)"
    signals = [
        Signal(
            "shared passages",
            count,
            f"{count} passage(s){listed}, {al.matched_tokens} {what} in all, the longest"
            f" {longest} {what}",
        ),
        Signal(
            "coverage of the new work",
            al.new_coverage,
            f"{al.new_coverage:.0%} of the new work lies in copied passages",
        ),
        Signal(
            "coverage of the earlier work",
            al.earlier_coverage,
            f"{al.earlier_coverage:.0%} of the earlier work is reproduced",
        ),
        Signal(
            "passage similarity",
            al.similarity,
            f"the passages agree {al.similarity:.0%} (rapidfuzz ratio)",
        ),
    ]
    if al.truncated:
        signals.append(
            Signal(
                "comparison cut short",
                al.work,
                "the comparison stopped at its work limit, so the works may share more than"
                " these passages",
            )
        )
    score = round(al.similarity * max(al.new_coverage, al.earlier_coverage), 3)
    copied = short_copy or long_copy or paragraph
    strong = copied and al.similarity >= 0.85 and max(al.new_coverage, al.earlier_coverage) >= 0.5
    return score, Band.STRONG if strong else Band.REVIEW, signals
