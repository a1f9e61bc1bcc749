"""The originality engine: fingerprints, candidate search and explained matches.

Pure: imports nothing else from ``registry`` and neither Flask nor SQLAlchemy.
"""

from .report import ENGINE_VERSION, Band, Match, Signal

__all__ = ["ENGINE_VERSION", "Band", "Match", "Signal"]
