"""The originality engine: fingerprints, candidate search and explained matches.

Pure: imports nothing else from ``registry`` and neither Flask nor SQLAlchemy.
"""

from .report import (
    ENGINE_VERSION,
    SCHEMA_VERSION,
    Band,
    Match,
    Region,
    Report,
    ReportError,
    SharedPassage,
    Signal,
    UnknownReportVersion,
)

__all__ = [
    "ENGINE_VERSION",
    "SCHEMA_VERSION",
    "Band",
    "Match",
    "Region",
    "Report",
    "ReportError",
    "SharedPassage",
    "Signal",
    "UnknownReportVersion",
]
