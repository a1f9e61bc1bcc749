"""Run the registry's RQ worker with a fault planted in one step of the checks (for tests).

    python -m tests.harness.faulty_worker MODE STEP MARKER [--burst]

STEP is ``matching.check`` or ``provenance.inspect``. MODE ``kill`` SIGKILLs the work-horse the
first time the step runs (MARKER records that it did); ``hang`` writes MARKER and sleeps, so a
test can kill the whole worker mid-job. The settings come from the environment.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from registry import container
from registry.services import matching, provenance
from registry.settings import load_settings
from registry.worker import run_worker


def main() -> None:
    mode, step, marker = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    module = {"matching": matching, "provenance": provenance}[step.split(".")[0]]
    name = step.split(".")[1]
    original = getattr(module, name)

    def faulty(**kwargs):  # type: ignore[no-untyped-def]
        if not marker.exists():
            marker.write_text(str(os.getpid()))
            if mode == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            while mode == "hang":
                time.sleep(1)
        return original(**kwargs)

    setattr(module, name, faulty)
    run_worker(container.build(load_settings()), burst="--burst" in sys.argv)


if __name__ == "__main__":
    main()
