"""Fill a registry with N works for the load test: distinct texts from a seeded vocabulary,
filed through the filing service, checked by the originality check (so the match indexes hold N
works) and triaged, as filings through the web are."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

from sqlmodel import func, select

from registry.domain.vocabulary import Role
from registry.models import Registration, User
from registry.services import checking, filing, intake, tokens
from registry.services.accounts import create_user
from registry.tools import bench
from tests.harness.server import API_DECLARATION


def texts(seed: int) -> Iterator[str]:
    """An endless run of distinct texts (1,500 characters of Zipf-distributed words, as the
    engine's benchmark makes them), the same for the same seed."""
    rng = random.Random(seed)
    vocab = bench._vocabulary(rng, "en")
    while True:
        yield bench._text(rng, vocab, 1500)


def _declaration(title: str):  # type: ignore[no-untyped-def]
    """The load test's declaration, read through the schema as the API reads one."""
    from registry.schemas import DeclarationCreate

    sent = {**API_DECLARATION, "title": title, "work_category": "literary"}
    return DeclarationCreate.model_validate(sent).to_domain()


def seed(app, count: int, *, progress: Callable[[str], None] = print, seed: int = 7) -> str:  # type: ignore[no-untyped-def]
    """File and check works until the registry holds ``count``; return a new API token of the
    load test's creator."""
    ext = app.extensions["registry"]
    with app.test_request_context(), ext.session() as session:
        user = session.exec(select(User).where(User.email == "load@example.org")).first()
        if user is None:
            user = create_user(
                session=session,
                email="load@example.org",
                display_name="Load Test",
                password="load-test-password",
                role=Role.CREATOR,
            )
        have = session.exec(select(func.count()).select_from(Registration)).one()
        decl = _declaration("Seeded work")
        limits = replace(ext.limits, budget=None)  # generated texts: inspected in this process
        source = texts(seed + have)
        started = time.monotonic()
        for i in range(have, count):
            reg = filing.submit(
                session=session,
                store=ext.store,
                limits=limits,
                owner=user,
                declaration=decl,
                upload=intake.DepositUpload(pasted_text=f"Seeded work {i}\n{next(source)}\n"),
            )
            checking.run(
                session=session,
                store=ext.store,
                matcher=ext.matcher,
                policy=app.extensions["registry"].settings.routing_policy,
                registration=reg,
            )
            if (i + 1) % 1000 == 0:
                rate = (i + 1 - have) / (time.monotonic() - started)
                progress(f"seeded {i + 1} of {count} works ({rate:.0f}/s)")
        _row, token = tokens.create(session=session, user=user, name=f"load {time.time():.0f}")
        return token


def numbers(app, limit: int = 5000) -> list[str]:  # type: ignore[no-untyped-def]
    """Up to ``limit`` registration numbers, at random, for the lookups."""
    with app.extensions["registry"].session() as session:
        return list(
            session.exec(
                select(Registration.number)
                .where(Registration.number.is_not(None))
                .order_by(func.random())
                .limit(limit)
            ).all()
        )
