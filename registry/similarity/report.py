"""The match report: for each earlier work a score in [0, 1], a band, and the evidence behind it.

The thresholds here decide what an examiner is shown. They were set on labelled copies (crops,
borders, flips, rotations, screenshots, re-encoding; excerpts, embedding, reordering, deletion,
rewording) and are applied the same way to every filing. Pure: no Flask, no SQL.

The report is stored as JSON (``Report.to_json`` / ``Report.from_json``), versioned by
``SCHEMA_VERSION``. It holds offsets and boxes, never the works' text: a passage is two character
ranges, read from the deposits when someone allowed to see them looks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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


#: The layout of the stored report. 1: the first (no ``schema_version`` key; passages carried
#: both works' text); 2: offsets only, with ``schema_version``.
SCHEMA_VERSION = 2


class ReportError(ValueError):
    """A stored report this engine cannot read: malformed, or of an unknown layout."""


class UnknownReportVersion(ReportError):
    """A report written by a newer engine (or not a report at all): refused, never guessed at."""


class Band(StrEnum):
    STRONG = "strong"
    REVIEW = "review"

    @property
    def rank(self) -> int:
        """Higher is stronger: ``band.rank >= minimum.rank`` is "at least as strong"."""
        return 2 if self is Band.STRONG else 1


@dataclass(frozen=True)
class Signal:
    name: str
    value: float
    detail: str


@dataclass(frozen=True)
class SharedPassage:
    """A copied passage as two character ranges, ``[start, end)`` in the new work and in the
    earlier one; the text itself is read from the deposits when it is shown."""

    new: tuple[int, int]
    earlier: tuple[int, int]
    similarity: float


@dataclass(frozen=True)
class Region:
    """Where the new picture sits in the earlier one: a name and a box (left, top, right,
    bottom, as shares of the earlier picture's width and height)."""

    name: str
    box: tuple[float, float, float, float]


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
    region: Region | None = None
    passages: list[SharedPassage] = field(default_factory=list)
    new_coverage: float | None = None
    earlier_coverage: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "modality": self.modality,
            "score": self.score,
            "band": self.band.value,
            "signals": [
                {"name": s.name, "value": s.value, "detail": s.detail} for s in self.signals
            ],
            "earlier_first": self.earlier_first,
            "earlier_status": self.earlier_status,
            "earlier_filed": self.earlier_filed,
            "variant": self.variant,
            "region": (
                {"name": self.region.name, "box": list(self.region.box)} if self.region else None
            ),
            "passages": [
                {"new": list(p.new), "earlier": list(p.earlier), "similarity": p.similarity}
                for p in self.passages
            ],
            "new_coverage": self.new_coverage,
            "earlier_coverage": self.earlier_coverage,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Match:
        """One match as ``to_dict`` wrote it (any text a passage carries is dropped)."""
        region = data.get("region")
        return cls(
            number=str(data["number"]),
            modality=str(data["modality"]),
            score=float(data["score"]),
            band=Band(data["band"]),
            signals=[
                Signal(str(s["name"]), float(s["value"]), str(s["detail"]))
                for s in data.get("signals", [])
            ],
            earlier_first=bool(data["earlier_first"]),
            earlier_status=str(data.get("earlier_status", "")),
            earlier_filed=str(data.get("earlier_filed", "")),
            variant=data.get("variant"),
            region=(
                Region(str(region["name"]), _box(region["box"])) if region is not None else None
            ),
            passages=[
                SharedPassage(_span(p["new"]), _span(p["earlier"]), float(p.get("similarity", 0.0)))
                for p in data.get("passages", [])
            ],
            new_coverage=_maybe_float(data.get("new_coverage")),
            earlier_coverage=_maybe_float(data.get("earlier_coverage")),
        )


@dataclass
class Report:
    """A filing's match report: the engine that wrote it and its matches, best first."""

    engine_version: str
    matches: list[Match] = field(default_factory=list)

    @property
    def strongest_band(self) -> Band | None:
        return max((m.band for m in self.matches), key=lambda b: b.rank, default=None)

    @property
    def top_score(self) -> float:
        return max((m.score for m in self.matches), default=0.0)

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data, in the current layout."""
        return {
            "schema_version": SCHEMA_VERSION,
            "engine_version": self.engine_version,
            "matches": [m.to_dict() for m in self.matches],
        }

    @classmethod
    def from_json(cls, data: object) -> Report:
        """Read a stored report: the current layout, or an older one upgraded (layout 1's
        passage texts are dropped). Raises ``UnknownReportVersion`` for a layout this engine
        does not know, ``ReportError`` for a malformed one."""
        if not isinstance(data, dict):
            raise UnknownReportVersion("a match report is a JSON object")
        version = data.get("schema_version", 1)
        if (
            not isinstance(version, int)
            or isinstance(version, bool)
            or not (1 <= version <= SCHEMA_VERSION)
        ):
            raise UnknownReportVersion(
                f"match report layout {version!r} is unknown to engine {ENGINE_VERSION}"
                f" (it reads 1 to {SCHEMA_VERSION})"
            )
        try:
            return cls(
                engine_version=str(data["engine_version"]),
                matches=[Match.from_dict(m) for m in data["matches"]],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ReportError(f"malformed match report (layout {version}): {exc!r}") from exc


def _span(value: Any) -> tuple[int, int]:
    start, end = value
    return int(start), int(end)


def _box(value: Any) -> tuple[float, float, float, float]:
    left, top, right, bottom = value
    return float(left), float(top), float(right), float(bottom)


def _maybe_float(value: Any) -> float | None:
    return None if value is None else float(value)


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
