"""Each atheris harness under tests/fuzz/ runs for a bounded time; a crash fails the test.

The harnesses fuzz the upload decoding (``registry.deposits``) and the provenance readers
(``registry.provenance``), treating only the documented rejection (``DepositRejected``) as an
answer. Each runs in its own process from a corpus it seeds itself, for
``REGISTRY_FUZZ_SECONDS`` seconds (default 20; 0 skips), with libFuzzer's RNG seeded by
``REGISTRY_FUZZ_SEED`` (default 1) so that a run can be repeated, and the harness's libFuzzer
dictionary (``<harness>.dict``) when it has one. A crashing input is kept as
``crash-*`` in the test's temporary folder and printed in base64 in the failure; replay it with
``python tests/fuzz/<harness>.py <file>``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

HARNESSES = sorted((Path(__file__).parent / "fuzz").glob("fuzz_*.py"))
SECONDS = int(os.environ.get("REGISTRY_FUZZ_SECONDS", "20"))
SEED = int(os.environ.get("REGISTRY_FUZZ_SEED", "1"))
MAX_LEN = {"fuzz_text": 8192}


def test_there_are_harnesses():
    assert {h.stem for h in HARNESSES} >= {"fuzz_uploads", "fuzz_metadata", "fuzz_text"}


@pytest.mark.slow
@pytest.mark.parametrize("harness", HARNESSES, ids=[h.stem for h in HARNESSES])
def test_fuzzing_finds_no_crash(harness: Path, tmp_path: Path):
    if importlib.util.find_spec("atheris") is None:
        pytest.skip("atheris is not installed (pip install -r requirements-dev.txt)")
    if SECONDS <= 0:
        pytest.skip("REGISTRY_FUZZ_SECONDS=0")
    corpus = tmp_path / "corpus"
    command = [
        sys.executable,
        str(harness),
        str(corpus),
        f"-max_total_time={SECONDS}",
        f"-seed={SEED}",
        f"-max_len={MAX_LEN.get(harness.stem, 16384)}",
        "-timeout=30",  # one input taking longer is a hang, reported as a crash
        "-rss_limit_mb=3072",
        f"-artifact_prefix={tmp_path}/",
        "-print_final_stats=1",
    ]
    dictionary = harness.with_suffix(".dict")
    if dictionary.exists():
        command.append(f"-dict={dictionary}")
    done = subprocess.run(
        command,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=SECONDS * 4 + 120,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    log = done.stdout + done.stderr
    runs = re.search(r"Done (\d+) runs in (\d+) second", log)
    print(f"{harness.stem}: {runs.group(0) if runs else 'no summary'}")
    crashes = sorted(tmp_path.glob("crash-*")) + sorted(tmp_path.glob("timeout-*"))
    if done.returncode != 0 or crashes:
        tail = "\n".join(log.splitlines()[-60:])
        found = "\n".join(f"{c.name}: {c.read_bytes()[:2000]!r}" for c in crashes)
        pytest.fail(f"{harness.stem} exited {done.returncode}\n{found}\n{tail}")
    assert runs and int(runs.group(1)) > 0, log[-2000:]
