"""The load test: a registry of N works under gunicorn on loopback, driven by locust.

    python -m tests.load.run --works 10000 --users 16 --duration 60
    python -m tests.load.run --works 100000 --instance /var/tmp/load-100k --duration 120

It fills the instance folder (a new temporary one, or ``--instance``, kept and topped up between
runs) with N filed and checked works, starts gunicorn with ``--workers`` processes, runs locust
headless for ``--duration`` seconds and prints, per kind of request, the requests per second,
the median and 95th-percentile latency and the failures, and exits 1 if any request failed.
Figures are wall-clock on whatever else the machine does; locust shares the machine's cores.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.harness.server import ROOT, Gunicorn


def _prepare(instance: Path, works: int) -> tuple[str, Path, int]:
    """Migrate and fill the instance; return an API token, the lookups' numbers and how many
    works the registry holds (at least ``works``: earlier runs' filings stay)."""
    from sqlmodel import func, select

    from registry import create_app
    from registry.db import upgrade
    from registry.keys import init_instance
    from registry.models import Registration
    from registry.settings import load_settings
    from tests.load.seed import numbers, seed

    settings = load_settings(instance_path=instance)
    init_instance(settings)
    app = create_app(settings)
    try:
        upgrade(app.extensions["registry"].engine)
        token = seed(app, works, progress=lambda m: print(m, file=sys.stderr))
        path = instance / "load-numbers.json"
        path.write_text(json.dumps(numbers(app)), encoding="utf-8")
        with app.extensions["registry"].session() as session:
            held = session.exec(select(func.count()).select_from(Registration)).one()
    finally:
        app.extensions["registry"].engine.dispose()
    return token, path, held


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--works", type=int, default=10_000, help="registered works (N)")
    parser.add_argument("--instance", type=Path, help="instance folder to fill and keep")
    parser.add_argument("--users", type=int, default=16, help="simulated users")
    parser.add_argument("--duration", type=int, default=60, help="seconds of load")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    args = parser.parse_args(argv)

    scratch = None
    if args.instance is None:
        scratch = tempfile.TemporaryDirectory(prefix="registry-load-")
        args.instance = Path(scratch.name)
    args.instance.mkdir(parents=True, exist_ok=True)
    token, numbers_path, held = _prepare(args.instance, args.works)
    env = {
        "REGISTRY_INSTANCE_PATH": str(args.instance),
        "REGISTRY_FILING_LIMIT": "1000000 per minute",
        "REGISTRY_REDIS_URL": "",
    }
    server = Gunicorn(env, workers=args.workers).start()
    prefix = args.instance / "locust"
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(Path(__file__).with_name("locustfile.py")),
                "--headless",
                "--users",
                str(args.users),
                "--spawn-rate",
                str(args.users),
                "--run-time",
                f"{args.duration}s",
                "--host",
                server.base,
                "--csv",
                str(prefix),
                "--only-summary",
                "--loglevel",
                "WARNING",
                "--stop-timeout",
                "10",
            ],  # fmt: skip
            cwd=ROOT,
            env={
                **os.environ,
                "LOAD_TOKEN": token,
                "LOAD_NUMBERS": str(numbers_path),
                "PYTHONPATH": str(ROOT),
            },
            capture_output=True,
            text=True,
        )
    finally:
        server.stop()
    stats = prefix.with_name(prefix.name + "_stats.csv")
    if not stats.exists():
        print(done.stdout[-3000:], done.stderr[-3000:], file=sys.stderr)
        return 2
    with stats.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    print(
        f"{held:,} registered works · {args.users} users · {args.duration} s · "
        f"gunicorn {args.workers} workers · {os.cpu_count()} cores"
    )
    print(f"{'request':<16}{'count':>8}{'fail':>6}{'req/s':>9}{'median ms':>11}{'p95 ms':>9}")
    failures = 0
    for row in rows:
        name = row["Name"] if row["Type"] else "all"
        failures += int(row["Failure Count"]) if name == "all" else 0
        print(
            f"{name:<16}{int(row['Request Count']):>8}{int(row['Failure Count']):>6}"
            f"{float(row['Requests/s']):>9.1f}{float(row['50%'] or 0):>11.0f}"
            f"{float(row['95%'] or 0):>9.0f}"
        )
    if scratch is not None:
        scratch.cleanup()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
