"""An upload costs at most its budget: inspecting a deposit, a reverse search and a filing's
checks run in child processes with limits of their own, and an upload past them is refused with
a message that says so (a check past its budget leaves the filing acknowledged and pending),
leaving nothing behind.

The memory budget counts what a child maps anew, so a child may also reuse memory its parent had
freed: the pictures here need many times their budget, far more than a test process holds free.
"""

from __future__ import annotations

import base64
import io
import re
import struct
from dataclasses import replace

import pytest
from PIL import Image
from sqlmodel import select

from registry.models import Deposit, MatchReport, Registration
from registry.sandbox import Budget
from tests.conftest import TEST_LIMITS, AuthActions, dispose, make_app, stored_files
from tests.factories import count, declaration, make_user
from tests.web.forms import post_filing

MB = 1024 * 1024


def _huge_but_tiny() -> bytes:
    """A 9,000 x 9,000 picture of one colour: about 240 KB of PNG and 243 MB of pixels, which
    the check decodes in full for the pixel hash (reading it streams in a few megabytes)."""
    out = io.BytesIO()
    Image.new("RGB", (9000, 9000), (90, 140, 200)).save(out, "PNG", optimize=True)
    return out.getvalue()


def _long_animation(frames: int = 3000) -> bytes:
    """An animated WebP of ``frames`` frames of 1,000 x 1,000 made by repeating one frame's
    chunk: a few hundred kilobytes, and seconds of decoding, since every frame is checked."""
    out = io.BytesIO()
    first, second = (Image.new("RGB", (1000, 1000), c) for c in ((200, 30, 40), (30, 200, 40)))
    first.save(out, "WEBP", save_all=True, append_images=[second], lossless=True, duration=40)
    data = out.getvalue()
    last = data.rindex(b"ANMF")
    frame = data[last:]
    body = data[12:] + frame * (frames - 2)
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


@pytest.fixture
def tight(database_url, instance_path):
    """An app that gives reading an upload and a reverse search 1 s of CPU and 64 MB of memory,
    and a filing's checks 64 MB (an ordinary picture needs a fraction of either)."""
    app = make_app(
        database_url,
        instance_path,
        **{**TEST_LIMITS, "REGISTRY_MAX_IMAGE_PIXELS": 1_000_000_000},
        REGISTRY_SEARCH_BUDGET=Budget(cpu_seconds=1, memory_bytes=64 * MB, wall_seconds=60),
        REGISTRY_CHECK_BUDGET=Budget(cpu_seconds=10, memory_bytes=64 * MB, wall_seconds=60),
        RATELIMIT_ENABLED=False,
    )
    yield app
    dispose(app)


def _signed_in(app):
    client = app.test_client()
    with app.extensions["registry"].session() as session:
        AuthActions(client, session).login(make_user(session))
    return client


def test_a_filing_whose_deposit_costs_too_much_to_read_is_refused(tight):
    data = _long_animation()
    assert len(data) < 2 * MB
    client = _signed_in(tight)
    store = tight.extensions["registry"].store
    before = stored_files(store)
    response = post_filing(client, declaration(), file=(io.BytesIO(data), "long.webp"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "more than 1 second of processing" in page and "Export it again" in page
    with tight.extensions["registry"].session() as session:
        assert count(session, Registration) == 0 and count(session, Deposit) == 0
    assert stored_files(store) == before


def test_an_ordinary_deposit_fits_its_budget(tight):
    client = _signed_in(tight)
    out = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 200, 30)).save(out, "PNG")
    response = post_filing(client, declaration(), file=(io.BytesIO(out.getvalue()), "work.png"))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with tight.extensions["registry"].session() as session:
        assert count(session, MatchReport) == 1


def test_a_check_past_its_budget_leaves_the_filing_acknowledged_and_pending(tight, caplog):
    """Reading the file fits its budget; decoding its 81 million pixels for the fingerprint
    does not fit the check's: the filing stands, and `registry check` can finish it."""
    ext = tight.extensions["registry"]  # reading it takes a few seconds of inflating
    ext.limits = replace(
        ext.limits, budget=Budget(cpu_seconds=10, memory_bytes=64 * MB, wall_seconds=60)
    )
    client = _signed_in(tight)
    response = post_filing(client, declaration(), file=(io.BytesIO(_huge_but_tiny()), "t.png"))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    tight.extensions["registry"].runner.wait(timeout=60)
    with tight.extensions["registry"].session() as session:
        reg = session.exec(select(Registration)).one()
        assert reg.number and reg.status == "submitted"
        assert session.exec(select(MatchReport)).first() is None
    assert "ran out of its memory budget" in caplog.text
    receipt = client.get(response.headers["Location"]).get_data(as_text=True)
    assert reg.number in receipt and "Checking" in receipt


def test_a_reverse_search_that_costs_too_much_is_refused(tight):
    client = tight.test_client()
    page = client.get("/check").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(
        "/check",
        data={"csrf_token": csrf, "image": (io.BytesIO(_huge_but_tiny()), "tiny.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "more than 64 MB of memory" in response.get_data(as_text=True)
    encoded = base64.b64encode(_long_animation()).decode()
    api = client.post(
        "/api/v1/search/similar",
        json={"deposit": {"filename": "a.webp", "content_base64": encoded}},
    )
    assert api.status_code == 422
    error = api.get_json()["error"]
    assert error["code"] == "invalid_deposit" and "1 second of processing" in error["message"]
    assert stored_files(tight.extensions["registry"].store) == []


def test_an_upload_the_registry_cannot_read_in_time_is_a_503_not_the_files_fault(tight):
    """Past its wall time (a busy machine), reading an upload is the registry's failure: a 503
    that says so and asks to try again, nothing saved."""
    ext = tight.extensions["registry"]
    ext.limits = replace(
        ext.limits, budget=Budget(cpu_seconds=30, memory_bytes=64 * MB, wall_seconds=0.5)
    )
    client = _signed_in(tight)
    response = post_filing(client, declaration(), file=(io.BytesIO(_long_animation()), "a.webp"))
    assert response.status_code == 503 and response.headers["Retry-After"]
    page = response.get_data(as_text=True)
    assert "could not finish reading your file just now" in page and "costly" not in page
    with ext.session() as session:
        assert count(session, Registration) == 0 and count(session, Deposit) == 0
    assert stored_files(ext.store) == []


def test_a_repetitive_text_is_compared_within_its_budget(app, session, store):
    """The attack's text: one character repeated. Its copy is found by the check and by the
    anonymous search, within the default budgets (before the comparison was bounded, 80 KB of
    it took 11 s of CPU to compare, past the search's 5 s)."""
    from registry.services import checking, matching
    from tests.factories import submit_text

    text = "啊" * 20_000  # 60 KB of UTF-8 (the factories allow 64 KB)
    ext = app.extensions["registry"]
    owner = make_user(session)
    first = submit_text(session, store, owner, text, title="First")
    checking.run(session=session, store=store, matcher=ext.matcher, policy=None, registration=first)
    second = submit_text(session, store, owner, text + "。", title="Again")
    checking.run(
        session=session, store=store, matcher=ext.matcher, policy=None, registration=second
    )
    [match] = matching.report_matches(matching.get_report(session, second))
    assert match.number == first.number and match.band == "strong"
    assert match.new_coverage > 0.99 and match.earlier_coverage > 0.99
    response = app.test_client().post("/api/v1/search/similar", json={"deposit": {"text": text}})
    assert response.status_code == 200, response.get_data(as_text=True)
    found = response.get_json()["matches"]
    assert {m["number"] for m in found} == {first.number, second.number}
    assert all(m["band"] == "strong" for m in found)
