"""The provenance report as it is stored: what the file says (``Provenance.to_dict()``) and the
judgement, as JSON with its own layout version. Pure: no Flask, no SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .readers import Provenance
from .verdict import Judgement, Verdict

#: The layout of the stored report. 1: the first (no ``schema_version``; the judgement carried
#: its verdict's label in words); 2: the verdict's code only, with ``schema_version``.
SCHEMA_VERSION = 2


class ReportError(ValueError):
    """A stored provenance report this package cannot read: malformed, or of an unknown layout."""


class UnknownReportVersion(ReportError):
    """A report written by a newer version (or not a report at all): refused, never guessed at."""


@dataclass(frozen=True)
class Report:
    """What the deposit says about its making (as ``Provenance.to_dict`` gives it) and the
    judgement held against the declaration."""

    judgement: Judgement
    found: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, found: Provenance, judgement: Judgement) -> Report:
        return cls(judgement, found.to_dict())

    def to_json(self) -> dict[str, Any]:
        j = self.judgement
        return {
            "schema_version": SCHEMA_VERSION,
            "found": self.found,
            "judgement": {
                "verdict": j.verdict.value,
                "conflicts": list(j.conflicts),
                "evidence": list(j.evidence),
                "notes": list(j.notes),
            },
        }

    @classmethod
    def from_json(cls, data: object) -> Report:
        """Read a stored report: the current layout, or layout 1 upgraded (its label in words is
        dropped: ``Verdict.label`` gives it). Raises ``UnknownReportVersion`` for a layout this
        package does not know, ``ReportError`` for a malformed one."""
        if not isinstance(data, dict):
            raise UnknownReportVersion("a provenance report is a JSON object")
        version = data.get("schema_version", 1)
        if (
            not isinstance(version, int)
            or isinstance(version, bool)
            or not (1 <= version <= SCHEMA_VERSION)
        ):
            raise UnknownReportVersion(
                f"provenance report layout {version!r} is unknown (this reads 1 to"
                f" {SCHEMA_VERSION})"
            )
        try:
            j = data["judgement"]
            judgement = Judgement(
                Verdict(j["verdict"]),
                conflicts=[str(c) for c in j.get("conflicts", [])],
                evidence=[str(e) for e in j.get("evidence", [])],
                notes=[str(n) for n in j.get("notes", [])],
            )
            found = data.get("found") or {}
            if not isinstance(found, dict):
                raise TypeError("'found' is not an object")
        except (KeyError, TypeError, ValueError) as exc:
            raise ReportError(f"malformed provenance report (layout {version}): {exc!r}") from exc
        return cls(judgement, found)
