"""The "Is it registered?" page: anyone checks an image or a text against the registry, sees the
public facts of each match, and nothing is kept; searches are rate-limited."""

import io
import re

import pytest
from PIL import Image
from sqlmodel import SQLModel, func, select

from registry.services import checking, intake, matching
from registry.web import csrf
from registry.web.limits import reverse_search_limit
from tests.conftest import csrf_token, dispose, make_app, settings_from_env, stored_files
from tests.factories import (
    ESSAY,
    declaration,
    encoded,
    image_bytes,
    make_user,
    save_draft,
    scene,
    submit_text,
    submit_work,
)


def row_counts(session) -> dict[str, int]:
    session.rollback()  # a fresh snapshot: the requests wrote (or not) through their own sessions
    return {
        table.name: session.exec(select(func.count()).select_from(table)).one()
        for table in SQLModel.metadata.sorted_tables
    }


def post_check(client, *, image: bytes | None = None, name: str = "work.png", text: str = ""):
    data = {"csrf_token": csrf_token(client, "/check"), "text": text}
    if image is not None:
        data["image"] = (io.BytesIO(image), name)
    return client.post("/check", data=data, content_type="multipart/form-data")


def image_upload(picture: Image.Image) -> intake.DepositUpload:
    return intake.DepositUpload(file=io.BytesIO(encoded(picture)))


@pytest.fixture
def owner(session):
    return make_user(session, email="owner-private@example.org")


def test_the_page_is_open_to_anyone_and_linked_from_every_page(client):
    response = client.get("/check")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>Is it registered?</h1>" in html and 'enctype="multipart/form-data"' in html
    assert "nothing you send is kept" in html
    home = client.get("/").get_data(as_text=True)
    assert 'href="/check">Is it registered?</a>' in home
    assert "check it against every registered work" in home


def test_an_image_copy_finds_the_registered_work(app, client, session, store, owner):
    registered = submit_work(
        session,
        store,
        owner,
        declaration(title="Harbour at Dawn"),
        upload=image_upload(scene(71)),
        matcher=app.extensions["registry"].matcher,
    )
    w, h = scene(71).size
    crop = scene(71).crop((0, 0, w * 3 // 4, h)).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    response = post_check(client, image=encoded(crop, "JPEG", quality=70), name="copy.jpg")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "1 registered work matches" in html
    assert f'href="/registrations/{registered.number}"' in html
    assert "Harbour at Dawn" in html and "Strong match" in html
    assert "badge-pending" in html and "Submitted" in html  # the status badge
    assert "key points" in html and "score " in html
    filed = registered.submitted_at.strftime("%d %B %Y").lstrip("0")
    assert f"filed {filed}" in html
    assert "compared with 1 registered image" in html


def test_a_text_excerpt_finds_the_registered_text(client, session, store, owner):
    registered = submit_text(session, store, owner, ESSAY, title="The Harbour Day")
    # no matcher at filing time: the check runs later; the search's matcher still finds it
    checking.run_pending(session=session, store=store, matcher=matching.Matcher(), policy=None)
    response = post_check(client, text=ESSAY[:240])
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert registered.number in html and "The Harbour Day" in html
    assert "shared passages" in html and "% of your text in shared passages" in html


def test_only_public_facts_are_shown(app, client, session, store, owner):
    matcher = app.extensions["registry"].matcher
    text_reg = submit_text(session, store, owner, ESSAY, title="The Harbour Day", matcher=matcher)
    image_reg = submit_work(session, store, owner, upload=image_upload(scene(72)), matcher=matcher)
    excerpt = ESSAY[:200]
    for response in (
        post_check(client, text=excerpt),
        post_check(client, image=encoded(scene(72))),
    ):
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert text_reg.number in html or image_reg.number in html
        for private in (
            owner.email,
            owner.display_name,
            "Secret Street 7",  # the claimant's address
            ESSAY[200:260],  # the registered text beyond what was sent
            "Midjourney",  # the declaration is on the public record, not here
            image_reg.deposit_sha256,
            text_reg.uid,
            "/thumbnail",
            "/deposit",
        ):
            assert private not in html, private
        assert "<mark>" not in html and "<rect" not in html  # no passages, no regions


def test_a_draft_is_never_shown(client, session, store, owner):
    save_draft(session, store, owner, declaration(title="Unfiled Secret"), image_upload(scene(73)))
    response = post_check(client, image=encoded(scene(73)))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "No registered work matches" in html
    assert "Unfiled Secret" not in html and not re.search(r"AIR-\d{4}-\d{6}", html)


def test_nothing_is_kept_after_a_search(app, client, session, store, owner):
    submit_work(
        session,
        store,
        owner,
        upload=image_upload(scene(74)),
        matcher=app.extensions["registry"].matcher,
    )
    before, files = row_counts(session), sorted(stored_files(store))
    assert post_check(client, image=encoded(scene(74), "WEBP"), name="x.webp").status_code == 200
    assert post_check(client, text=ESSAY).status_code == 200
    assert row_counts(session) == before and sorted(stored_files(store)) == files


@pytest.mark.parametrize(
    ("image", "text", "message"),
    [
        (None, "", "Choose an image or paste a text to search for."),
        (b"", "", "The file is empty."),
        (b"%PDF-1.7\n\x00\xff\xfe binary", "", "The file is not a JPEG, PNG or WebP image."),
        ("café".encode("latin-1") * 20, "", "Texts must be UTF-8 plain text."),
        (b"\x89PNG" + b"\x00" * (2 * 1024 * 1024), "", "larger than the limit of 2 MB"),
        (image_bytes(), "a text as well", "Either upload a file or paste the text, not both."),
        (None, "a bell \x07 rings", "The text contains control characters"),
    ],
    ids=["nothing", "empty file", "not an image", "not utf-8", "too large", "both", "controls"],
)
def test_bad_input_is_refused_with_the_reason_and_nothing_kept(
    client, session, store, owner, image, text, message
):
    submit_work(session, store, owner, upload=image_upload(scene(75)))
    before, files = row_counts(session), sorted(stored_files(store))
    response = post_check(client, image=image, text=text)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nothing was searched" in html and 'id="deposit-errors"' in html
    assert message in html.split('id="deposit-errors"', 1)[1][:600]
    assert row_counts(session) == before and sorted(stored_files(store)) == files


@pytest.fixture
def limited_app(database_url, instance_path):
    app = make_app(
        database_url, instance_path, REGISTRY_REVERSE_SEARCH_LIMIT="3 per minute;50 per day"
    )

    # A stand-in for the API's reverse search: the same limit, the same budget.
    @app.post("/api/v1/probe")
    @csrf.exempt
    @reverse_search_limit
    def probe():  # type: ignore[no-untyped-def]
        return {"ok": True}

    yield app
    dispose(app)


def test_searches_over_the_limit_are_refused_with_429(limited_app):
    client = limited_app.test_client()
    for _ in range(4):  # showing the form costs nothing
        assert client.get("/check").status_code == 200
    statuses = [post_check(client, text=f"search number {i}").status_code for i in range(2)]
    assert statuses == [200, 200]
    assert client.post("/api/v1/probe").status_code == 200  # the third of three, via the API
    response = post_check(client, text="one too many")
    html = response.get_data(as_text=True)
    assert response.status_code == 429
    main = html[html.index("<main") : html.index("</main>")]
    assert "Too many requests" in main and "try again in a minute" in main, main
    assert 0 < int(response.headers["Retry-After"]) <= 61
    api = client.post("/api/v1/probe")
    assert api.status_code == 429 and api.is_json
    assert api.get_json()["error"]["code"] == "rate_limited"
    assert "try again" in api.get_json()["error"]["message"]
    assert 0 < int(api.headers["Retry-After"]) <= 61
    assert client.get("/check").status_code == 200


def test_the_limit_settings_are_checked_at_start(tmp_path):
    settings = settings_from_env(tmp_path, {})
    assert settings.reverse_search_limit == "20 per minute;200 per day"
    assert settings.redis_url is None
    custom = settings_from_env(tmp_path, {"REGISTRY_REVERSE_SEARCH_LIMIT": "5/minute"})
    assert custom.reverse_search_limit == "5/minute"
    with pytest.raises(ValueError, match="REGISTRY_REVERSE_SEARCH_LIMIT"):
        settings_from_env(tmp_path, {"REGISTRY_REVERSE_SEARCH_LIMIT": "lots per fortnight"})


def test_without_redis_the_counts_live_in_memory(app):
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
