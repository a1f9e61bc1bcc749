"""Registration numbers: ``AIR-<year>-<six digits>``, counted per year from 1."""

from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX = "AIR"
MAX_SEQUENCE = 999_999
_PATTERN = re.compile(r"^\s*AIR\s*-\s*(\d{4})\s*-\s*(\d{1,6})\s*$", re.IGNORECASE)


class NumberSpaceExhausted(RuntimeError):
    """Raised when a year has used all six-digit numbers."""


@dataclass(frozen=True, order=True)
class RegistrationNumber:
    year: int
    sequence: int

    def __str__(self) -> str:
        return f"{PREFIX}-{self.year:04d}-{self.sequence:06d}"


def format_number(year: int, sequence: int) -> str:
    """Return the number string; raise NumberSpaceExhausted past 999999, ValueError below 1."""
    if sequence < 1:
        raise ValueError("sequence numbers start at 1")
    if sequence > MAX_SEQUENCE:
        raise NumberSpaceExhausted(f"all registration numbers for {year} are used")
    return str(RegistrationNumber(year, sequence))


def parse_number(text: str) -> RegistrationNumber | None:
    """Parse what a person typed ("air-2026-42", " AIR-2026-000042 "); None when it is no number."""
    match = _PATTERN.match(text or "")
    if not match:
        return None
    sequence = int(match.group(2))
    if sequence < 1:
        return None
    return RegistrationNumber(int(match.group(1)), sequence)
