"""The import rules of the house, as import-linter contracts in pyproject.toml
([tool.importlinter]): web -> services -> domain, engine, models, storage; the engine packages
(similarity, provenance) import nothing else from registry; domain and engine import neither
Flask nor SQLAlchemy; the services import in one direction; no import cycle among the
services or among the package's parts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_import_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--config", str(ROOT / "pyproject.toml"), "--no-cache", "--verbose"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},  # this tree's package, not an installed one
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    # every contract ran (a contract that no longer parses would not be listed as kept)
    assert result.stdout.count(" KEPT") >= 7, result.stdout[-3000:]
