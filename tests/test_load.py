"""The load test's tool runs end to end (a small registry, a few seconds): the figures in the
README come from the same command at 10,000 and 100,000 works. No timing is asserted here."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_load_test_runs_with_no_failed_request(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "tests.load.run", "--works", "150", "--users", "4",
         "--duration", "8", "--workers", "2", "--instance", str(tmp_path / "instance")],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0].startswith("150 registered works · 4 users · 8 s")
    names = {line.split()[0] for line in lines[2:]}
    assert {"lookup", "search", "file", "all"} <= names
    total = next(line for line in lines if line.startswith("all")).split()
    assert int(total[1]) > 0 and total[2] == "0"  # requests made, none failed
