"""Provenance: the AI labels and credentials a deposit carries, read and held against the
declaration.

``read_image`` and ``read_text`` return what a file says about how it was made (EXIF, XMP/IPTC,
PNG text chunks, the GB 45438-2025 ``AIGC`` implicit label in any of those carriers, explicit
labels written in a text); ``judge`` gives the provenance verdict and the conflicts with the
declaration, in plain words. Malformed or hostile metadata never raises: it is reported as
unreadable, with the reason. Pure: Pillow and defusedxml, no Flask, no SQL.
"""

from .readers import AigcLabel, Finding, Provenance, read_image, read_text
from .report import SCHEMA_VERSION, Report, ReportError, UnknownReportVersion
from .verdict import Judgement, Suggestion, Verdict, judge, suggestions

__all__ = [
    "AigcLabel",
    "Finding",
    "Judgement",
    "Provenance",
    "Report",
    "ReportError",
    "SCHEMA_VERSION",
    "Suggestion",
    "UnknownReportVersion",
    "Verdict",
    "judge",
    "read_image",
    "read_text",
    "suggestions",
]
