"""An upload costs at most its budget: inspecting a deposit and a reverse search run in a child
process with limits of their own, and an upload past them is refused with a message that says
so, leaving nothing behind."""

from __future__ import annotations

import base64
import io
from dataclasses import replace

import pytest
from PIL import Image

from registry.models import Deposit, Registration
from registry.sandbox import Budget
from tests.conftest import TEST_LIMITS, dispose, make_app, stored_files
from tests.factories import count, declaration, make_user
from tests.web.forms import post_filing

MB = 1024 * 1024


def _huge_but_tiny() -> bytes:
    """A 5,000 x 5,000 picture of one colour: about 80 KB of PNG, 75 MB of pixels, and a few
    megabytes to inflate and check as a stream."""
    out = io.BytesIO()
    Image.new("RGB", (5000, 5000), (90, 140, 200)).save(out, "PNG", optimize=True)
    return out.getvalue()


@pytest.fixture
def tight(database_url, instance_path):
    """An app that gives reading and searching an upload 1 MB of memory (an ordinary picture
    is read in a few kilobytes), and checking a filing 32 MB."""
    app = make_app(
        database_url,
        instance_path,
        **{**TEST_LIMITS, "REGISTRY_MAX_IMAGE_PIXELS": 50_000_000},
        REGISTRY_SEARCH_BUDGET=Budget(cpu_seconds=10, memory_bytes=1 * MB, wall_seconds=60),
        REGISTRY_CHECK_BUDGET=Budget(cpu_seconds=10, memory_bytes=32 * MB, wall_seconds=60),
        RATELIMIT_ENABLED=False,
    )
    yield app
    dispose(app)


def _signed_in(app):
    from tests.conftest import AuthActions

    client = app.test_client()
    with app.extensions["registry"].session() as session:
        AuthActions(client, session).login(make_user(session))
    return client


def test_a_filing_whose_deposit_costs_too_much_to_read_is_refused(tight):
    data = _huge_but_tiny()
    assert len(data) < 200 * 1024
    client = _signed_in(tight)
    store = tight.extensions["registry"].store
    before = stored_files(store)
    response = post_filing(client, declaration(), file=(io.BytesIO(data), "tiny.png"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "more than 1 MB of memory" in page and "Export it again" in page
    with tight.extensions["registry"].session() as session:
        assert count(session, Registration) == 0 and count(session, Deposit) == 0
    assert stored_files(store) == before


def test_an_ordinary_deposit_fits_its_budget(tight):
    client = _signed_in(tight)
    out = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 200, 30)).save(out, "PNG")
    response = post_filing(client, declaration(), file=(io.BytesIO(out.getvalue()), "work.png"))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def test_a_check_past_its_budget_leaves_the_filing_acknowledged_and_pending(tight, caplog):
    """Reading the file fits its budget; decoding its 25 million pixels for the fingerprint
    does not fit the check's: the filing stands, and `registry check` can finish it."""
    from sqlmodel import select

    from registry.models import MatchReport
    from registry.sandbox import Budget as B

    tight.extensions["registry"].limits = replace(
        tight.extensions["registry"].limits, budget=B(10, 64 * MB, 60)
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
    assert reg.number in receipt


def test_a_reverse_search_that_costs_too_much_is_refused(tight):
    client = tight.test_client()
    page = client.get("/check").get_data(as_text=True)
    import re

    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(
        "/check",
        data={"csrf_token": csrf, "image": (io.BytesIO(_huge_but_tiny()), "tiny.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "more than 1 MB of memory" in response.get_data(as_text=True)
    body = {
        "deposit": {
            "filename": "t.png",
            "content_base64": base64.b64encode(_huge_but_tiny()).decode(),
        }
    }
    api = client.post("/api/v1/search/similar", json=body)
    assert api.status_code == 422
    error = api.get_json()["error"]
    assert error["code"] == "invalid_deposit" and "1 MB of memory" in error["message"]
    assert stored_files(tight.extensions["registry"].store) == []
