"""Graded triage (分类分级): a risk tier for every submitted filing, with its reasons as codes
and values (the web layer words them), and the routing policy that says what each tier gets.

The tier comes from evidence: the strongest match and how much of the work it covers, whether the
earlier registrant is someone else, the declared digital source type and AI material, the kinds of
human contribution declared (prompts alone weigh little), and provenance conflicts. Each piece of
evidence adds points with a reason; the points decide the tier. Pure: no Flask, no SQL.

The reasons are stored on the filing as ``RiskReport.to_json()``, versioned by
``RISK_SCHEMA_VERSION``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .vocabulary import ContributionCategory, DigitalSourceType, Labelled


class Tier(Labelled):
    LOW = "low", "Low risk"
    ELEVATED = "elevated", "Elevated risk"
    HIGH = "high", "High risk"


#: Points at or above which a filing is in the tier.
ELEVATED_AT = 20
HIGH_AT = 50

_SOURCE_POINTS = {
    DigitalSourceType.TRAINED_ALGORITHMIC_MEDIA: 30,
    DigitalSourceType.COMPOSITE_WITH_TRAINED: 15,
    DigitalSourceType.COMPOSITE_SYNTHETIC: 10,
    DigitalSourceType.ALGORITHMIC_MEDIA: 5,
}


class ReasonCode(StrEnum):
    """Why a filing got its points; each is worded at the edge from its values."""

    STRONG_MATCH = "strong_match"  # number, score, coverage (or None)
    POSSIBLE_MATCH = "possible_match"  # number, score, coverage (or None)
    SEVERAL_MATCHES = "several_matches"  # count
    OWN_EARLIER_WORK = "own_earlier_work"  # number
    DECLARED_SOURCE = "declared_source"  # source (a DigitalSourceType code)
    AI_NOT_EXCLUDED = "ai_not_excluded"
    PROMPTING_ONLY = "prompting_only"
    PROVENANCE_CONFLICT = "provenance_conflict"  # conflict (in the provenance package's words)
    NOTHING_FOUND = "nothing_found"
    #: A reason recorded before reasons had codes (layout 1): its sentence, as it was.
    RECORDED_TEXT = "recorded_text"  # text


@dataclass(frozen=True)
class Reason:
    code: ReasonCode
    points: int = 0
    values: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code.value, "points": self.points, "values": dict(self.values)}

    @classmethod
    def from_json(cls, data: Any) -> Reason:
        return cls(ReasonCode(data["code"]), int(data.get("points", 0)), dict(data["values"]))


#: The layout of the stored reasons. 1: a JSON list of sentences (before codes);
#: 2: ``{"schema_version": 2, "reasons": [{"code", "points", "values"}]}``.
RISK_SCHEMA_VERSION = 2


class UnknownRiskReportVersion(ValueError):
    """Stored reasons of a layout this code does not know: refused, never guessed at."""


@dataclass(frozen=True)
class RiskReport:
    """The reasons recorded for a filing's tier, strongest first."""

    reasons: tuple[Reason, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": RISK_SCHEMA_VERSION,
            "reasons": [r.to_json() for r in self.reasons],
        }

    @classmethod
    def from_json(cls, data: object) -> RiskReport:
        """Read stored reasons: the current layout, or layout 1's sentences kept as
        ``RECORDED_TEXT`` reasons. Raises ``UnknownRiskReportVersion`` for another layout and
        ValueError for a malformed one."""
        if isinstance(data, list):  # layout 1
            return cls(tuple(Reason(ReasonCode.RECORDED_TEXT, 0, {"text": str(t)}) for t in data))
        if not isinstance(data, dict) or data.get("schema_version") != RISK_SCHEMA_VERSION:
            version = data.get("schema_version") if isinstance(data, dict) else None
            raise UnknownRiskReportVersion(
                f"risk reasons layout {version!r} is unknown (this reads 1 and"
                f" {RISK_SCHEMA_VERSION})"
            )
        try:
            return cls(tuple(Reason.from_json(r) for r in data["reasons"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed risk reasons: {exc!r}") from exc


_SUBSTANTIAL = {
    ContributionCategory.EXPRESSIVE_INPUT,
    ContributionCategory.ARRANGEMENT,
    ContributionCategory.MODIFICATION,
}


@dataclass(frozen=True)
class MatchEvidence:
    """What triage needs to know about one match in the filing's report."""

    number: str
    band: str  # "strong" or "review"
    score: float
    coverage: float | None  # share of the new work in copied passages (texts), or None
    same_owner: bool  # the earlier registration belongs to the same creator
    earlier_first: bool


@dataclass(frozen=True)
class Evidence:
    matches: tuple[MatchEvidence, ...]
    digital_source_type: str
    ai_material: str  # the material the creator excludes as AI-generated ("" if none)
    contributions: frozenset[str]  # ContributionCategory codes declared
    provenance_conflicts: tuple[str, ...] = ()  # plain-words conflicts (see issue on provenance)


@dataclass(frozen=True)
class Assessment:
    tier: Tier
    points: int
    reasons: tuple[Reason, ...]

    @property
    def report(self) -> RiskReport:
        return RiskReport(self.reasons)


def assess(evidence: Evidence) -> Assessment:
    """The filing's tier and the reasons for it, strongest first."""
    scored: list[Reason] = []
    others = [m for m in evidence.matches if not m.same_owner and m.earlier_first]
    strongest = max(others, key=lambda m: (m.band == "strong", m.score), default=None)
    if strongest is not None:
        found = {
            "number": strongest.number,
            "score": strongest.score,
            "coverage": strongest.coverage,
        }
        if strongest.band == "strong":
            scored.append(Reason(ReasonCode.STRONG_MATCH, 60, found))
        else:
            scored.append(Reason(ReasonCode.POSSIBLE_MATCH, 25, found))
        if len(others) > 1:
            scored.append(Reason(ReasonCode.SEVERAL_MATCHES, 10, {"count": len(others)}))
    own = [m for m in evidence.matches if m.same_owner]
    if own:
        scored.append(Reason(ReasonCode.OWN_EARLIER_WORK, 5, {"number": own[0].number}))
    try:
        source = DigitalSourceType(evidence.digital_source_type)
    except ValueError:
        source = None
    if source is not None and source in _SOURCE_POINTS:
        scored.append(
            Reason(ReasonCode.DECLARED_SOURCE, _SOURCE_POINTS[source], {"source": source.value})
        )
    if source is not None and source.involves_generative_ai and not evidence.ai_material.strip():
        scored.append(Reason(ReasonCode.AI_NOT_EXCLUDED, 15))
    declared = {ContributionCategory(c) for c in evidence.contributions if c in _CODES}
    if declared and not declared & _SUBSTANTIAL:
        scored.append(Reason(ReasonCode.PROMPTING_ONLY, 20))
    for conflict in evidence.provenance_conflicts:
        scored.append(Reason(ReasonCode.PROVENANCE_CONFLICT, 25, {"conflict": conflict}))
    points = sum(r.points for r in scored)
    tier = Tier.HIGH if points >= HIGH_AT else Tier.ELEVATED if points >= ELEVATED_AT else Tier.LOW
    reasons = tuple(sorted(scored, key=lambda r: -r.points))
    if not reasons:
        reasons = (Reason(ReasonCode.NOTHING_FOUND),)
    return Assessment(tier, points, reasons)


_CODES = {c.value for c in ContributionCategory}


# --------------------------------------------------------------------------- routing


class RouteKind(Labelled):
    FAST_TRACK = "fast-track", "Registered after a waiting period unless an examiner takes it"
    QUEUE = "queue", "Waits in the examination queue"


@dataclass(frozen=True)
class Route:
    kind: RouteKind
    wait_days: int = 0

    def describe(self) -> str:
        if self.kind is RouteKind.FAST_TRACK:
            return f"fast track, registered after {self.wait_days} days unless an examiner takes it"
        return "the examination queue, where an examiner decides"


@dataclass(frozen=True)
class RoutingPolicy:
    """What each tier gets. Written in configuration as ``low=fast-track:14,elevated=queue,...``."""

    routes: dict[Tier, Route] = field(
        default_factory=lambda: {
            Tier.LOW: Route(RouteKind.FAST_TRACK, 14),
            Tier.ELEVATED: Route(RouteKind.QUEUE),
            Tier.HIGH: Route(RouteKind.QUEUE),
        }
    )

    def route(self, tier: Tier) -> Route:
        return self.routes[tier]

    def describe(self) -> str:
        return "; ".join(f"{tier.label}: {self.routes[tier].describe()}" for tier in Tier) + "."

    @classmethod
    def parse(cls, text: str) -> RoutingPolicy:
        """Read ``tier=queue`` or ``tier=fast-track:DAYS`` pairs; every tier must be given.
        Raises ValueError with a message naming what is wrong."""
        routes: dict[Tier, Route] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, sep, value = part.partition("=")
            if not sep:
                raise ValueError(f"'{part}' is not tier=route")
            try:
                tier = Tier(name.strip())
            except ValueError:
                raise ValueError(f"unknown tier '{name.strip()}' (low, elevated, high)") from None
            kind, _, days = value.strip().partition(":")
            if kind == RouteKind.QUEUE.value and not days:
                routes[tier] = Route(RouteKind.QUEUE)
            elif kind == RouteKind.FAST_TRACK.value and days.isdigit() and int(days) >= 1:
                routes[tier] = Route(RouteKind.FAST_TRACK, int(days))
            else:
                raise ValueError(
                    f"'{value.strip()}' is not a route (queue, or fast-track:DAYS with DAYS >= 1)"
                )
        missing = [t.value for t in Tier if t not in routes]
        if missing:
            raise ValueError(f"no route for {', '.join(missing)}")
        if routes[Tier.HIGH].kind is RouteKind.FAST_TRACK:
            raise ValueError("high-risk filings must go to the examination queue")
        return cls(routes)
