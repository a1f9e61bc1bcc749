"""What the load test's simulated users do (run by ``python -m tests.load.run``, which sets the
environment): look registrations up (the public page and the API), search the catalog, and file
new works through the API. Lookups outnumber filings eight to one."""

from __future__ import annotations

import itertools
import json
import os
import random

from locust import HttpUser, between, task

from tests.harness.server import filing_body

TOKEN = os.environ["LOAD_TOKEN"]
NUMBERS = json.loads(open(os.environ["LOAD_NUMBERS"], encoding="utf-8").read())
WORDS = ["harbour", "seeded", "work", "light", "fog", "tide"]
_ids = itertools.count()


class Visitor(HttpUser):
    wait_time = between(0.0, 0.2)

    @task(4)
    def lookup_page(self) -> None:
        self.client.get(f"/registrations/{random.choice(NUMBERS)}", name="lookup (page)")

    @task(3)
    def lookup_api(self) -> None:
        self.client.get(f"/api/v1/registrations/{random.choice(NUMBERS)}", name="lookup (API)")

    @task(1)
    def search(self) -> None:
        self.client.get(f"/search?q={random.choice(WORDS)}", name="search")

    @task(1)
    def file(self) -> None:
        n = next(_ids)
        body = filing_body(os.getpid(), n)
        body["deposit"]["text"] += f"Load test filing {os.getpid()}-{n}-{random.random()}\n"
        self.client.post(
            "/api/v1/registrations",
            json=body,
            headers={"Authorization": f"Bearer {TOKEN}"},
            name="file (API)",
        )
