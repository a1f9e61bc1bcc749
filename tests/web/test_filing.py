import hashlib
import io
import re
from dataclasses import replace

import pytest
from sqlmodel import select

from registry.domain.declaration import Author
from registry.models import Deposit, Event, Fingerprint, MatchReport, Registration
from tests.conftest import csrf_token, stored_files
from tests.factories import (
    POEM,
    count,
    declaration,
    image_bytes,
    make_user,
    png_bomb,
    text_declaration,
)
from tests.fuzz import seeds
from tests.web.forms import post_filing


def nothing_written(session, store) -> bool:
    return (
        count(session, Registration) == 0
        and count(session, Deposit) == 0
        and stored_files(store) == []
    )


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for url in ("/filings/", "/filings/new", "/filings/abc/edit", "/filings/abc"):
        response = client.get(url)
        assert response.status_code == 302 and "/account/signin" in response.headers["Location"]


def test_file_an_image_through_the_web(client, auth, session, store):
    auth.login()
    response = post_filing(
        client, declaration(), file=(io.BytesIO(image_bytes("JPEG", (120, 80))), "work.jpg")
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    receipt = client.get(response.headers["Location"]).get_data(as_text=True)
    reg = session.exec(select(Registration)).one()
    assert re.search(r"AIR-\d{4}-000001", receipt)
    assert reg.deposit_sha256 in receipt and "Submitted" in receipt
    assert reg.deposit.media_type == "image/jpeg" and (reg.deposit.width, reg.deposit.height) == (
        120,
        80,
    )
    record = client.get(f"/filings/{reg.uid}").get_data(as_text=True)
    for fact in (
        "Lighthouse in Fog",
        "Midjourney",
        "The fog in the background.",
        "Secret Street 7",
        "Draft started",
        "Filed by the creator",
        f"/filings/{reg.uid}/thumbnail",
    ):
        assert fact in record, fact
    thumb = client.get(f"/filings/{reg.uid}/thumbnail")
    assert thumb.status_code == 200 and thumb.mimetype == "image/webp"
    original = client.get(f"/filings/{reg.uid}/deposit")
    assert original.status_code == 200 and original.mimetype == "image/jpeg"
    assert original.headers["X-Content-Type-Options"] == "nosniff"
    dashboard = client.get("/filings/").get_data(as_text=True)
    assert reg.number in dashboard and "Submitted" in dashboard


@pytest.mark.parametrize("how", ["pasted", "file"])
def test_file_a_text_through_the_web(client, auth, session, how):
    auth.login()
    if how == "pasted":
        response = post_filing(client, text_declaration(), text=POEM.replace("\n", "\r\n"))
    else:
        response = post_filing(
            client, text_declaration(), file=(io.BytesIO(POEM.encode()), "poem.txt")
        )
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    reg = session.exec(select(Registration)).one()
    assert reg.deposit.kind == "text" and reg.deposit.char_count == len(POEM)
    page = client.get(f"/filings/{reg.uid}").get_data(as_text=True)
    assert "The gulls are other gulls." in page
    download = client.get(f"/filings/{reg.uid}/deposit")
    assert download.mimetype == "text/plain" and download.get_data() == POEM.encode()
    assert "attachment" in download.headers["Content-Disposition"]


def test_every_problem_is_shown_beside_its_field_and_nothing_is_saved(client, auth, session, store):
    auth.login()
    bad = replace(
        declaration(),
        title="",
        authors=(Author("ChatGPT", "real_name", "", "", "Text"),),
        rights_held="part",
        attested=False,
    )
    response = post_filing(client, bad)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nothing was submitted" in html
    for field_id, message in [
        ("title", "Give the work&#39;s title."),
        ("authors-0-name", "is an AI system or its maker"),
        ("rights_held_detail", "Say which rights the claimant holds."),
        ("deposit", "Attach the work itself"),
        ("attested", "Confirm that the statements"),
    ]:
        assert f'id="{field_id}-errors"' in html, field_id
        errors_block = html.split(f'id="{field_id}-errors"', 1)[1][:400]
        assert message in errors_block, (field_id, errors_block)
    assert nothing_written(session, store)


def test_malformed_values_are_refused(client, auth, session, store):
    auth.login()
    response = client.post(
        "/filings/new",
        data={
            "title": "x" * 301,
            "completion_date": "31/02/2026",
            "work_category": "sculpture",
            "action": "save",
            "csrf_token": csrf_token(client),
        },
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Not a valid date value" in html and "Not a valid choice" in html
    assert "Field cannot be longer than 300 characters" in html
    assert nothing_written(session, store)


def test_save_a_draft_come_back_edit_and_submit(client, auth, session, store):
    auth.login()
    first = post_filing(
        client, replace(declaration(), title="Working title", attested=False), action="save"
    )
    assert first.status_code == 302
    reg = session.exec(select(Registration)).one()
    assert reg.status == "draft" and reg.number is None
    assert first.headers["Location"] == f"/filings/{reg.uid}/edit"
    edit_page = client.get(f"/filings/{reg.uid}/edit").get_data(as_text=True)
    assert 'value="Working title"' in edit_page and "Draft saved" in edit_page
    assert 'value="Ana Costa"' in edit_page and "Secret Street 7" in edit_page
    dashboard = client.get("/filings/").get_data(as_text=True)
    assert "Working title" in dashboard and "Draft" in dashboard
    # Drafts are never public.
    assert "Working title" not in client.get("/search?q=Working").get_data(as_text=True)
    second = post_filing(
        client,
        declaration(title="Final title"),
        url=f"/filings/{reg.uid}/edit",
        action="save",
        file=(io.BytesIO(image_bytes()), "w.png"),
    )
    assert second.status_code == 302
    edit_page = client.get(f"/filings/{reg.uid}/edit").get_data(as_text=True)
    assert f"/filings/{reg.uid}/thumbnail" in edit_page and "To keep it" in edit_page
    done = post_filing(client, declaration(title="Final title"), url=f"/filings/{reg.uid}/edit")
    assert done.status_code == 302 and done.headers["Location"] == f"/filings/{reg.uid}/receipt"
    session.rollback()
    reg = session.exec(select(Registration)).one()
    assert reg.status == "submitted" and reg.title == "Final title" and reg.number
    assert count(session, Registration) == 1
    # A submitted filing can no longer be edited.
    assert client.get(f"/filings/{reg.uid}/edit").status_code == 302
    resend = post_filing(
        client, declaration(title="Changed"), url=f"/filings/{reg.uid}/edit", action="save"
    )
    assert resend.status_code == 302
    session.rollback()
    assert session.exec(select(Registration)).one().title == "Final title"


def test_add_row_without_script_keeps_what_was_typed(client, auth, session):
    auth.login()
    response = post_filing(client, declaration(), action="add_author")
    html = response.get_data(as_text=True)
    assert 'name="authors-1-name"' in html and 'value="Ana Costa"' in html
    assert count(session, Registration) == 0


def test_other_creators_get_404_everywhere(client, auth, session, store):
    owner = auth.login()
    post_filing(client, declaration(), file=(io.BytesIO(image_bytes()), "a.png"))
    post_filing(client, replace(declaration(), title="Secret draft"), action="save")
    submitted, draft = sorted(session.exec(select(Registration)).all(), key=lambda r: r.status)[
        ::-1
    ]
    assert (submitted.status, draft.status) == ("submitted", "draft")
    auth.logout()
    auth.login(make_user(session))
    for reg in (submitted, draft):
        for suffix in ("", "/edit", "/receipt", "/deposit", "/thumbnail"):
            assert client.get(f"/filings/{reg.uid}{suffix}").status_code == 404, suffix
    response = post_filing(
        client, declaration(title="Hijack"), url=f"/filings/{draft.uid}/edit", action="save"
    )
    assert response.status_code == 404
    session.rollback()
    assert session.get(Registration, draft.id).title == "Secret draft"
    assert owner.id == draft.owner_id


def test_examiners_see_submitted_filings_but_not_drafts(client, auth, session):
    auth.login()
    post_filing(client, declaration(), file=(io.BytesIO(image_bytes()), "a.png"))
    post_filing(client, replace(declaration(), title="Secret draft"), action="save")
    submitted = session.exec(select(Registration).where(Registration.status == "submitted")).one()
    draft = session.exec(select(Registration).where(Registration.status == "draft")).one()
    auth.logout()
    auth.login(make_user(session, role="examiner"))
    assert client.get(f"/filings/{submitted.uid}").status_code == 200
    assert client.get(f"/filings/{submitted.uid}/thumbnail").status_code == 200
    assert client.get(f"/filings/{submitted.uid}/receipt").status_code == 404
    assert client.get(f"/filings/{draft.uid}").status_code == 404


UPLOADS = [
    (
        "undecodable",
        lambda: (io.BytesIO(b"\x89PNG\r\n\x1a\n garbage"), "a.png"),
        "damaged or incomplete",
    ),
    ("wrong format", lambda: (io.BytesIO(image_bytes("GIF")), "a.png"), "not a JPEG, PNG or WebP"),
    (
        "truncated",
        lambda: (io.BytesIO(image_bytes("JPEG", (300, 200))[:400]), "a.jpg"),
        "damaged or incomplete",
    ),
    ("bomb", lambda: (io.BytesIO(png_bomb()), "bomb.png"), "decompression bomb"),
    (
        "too many pixels",
        lambda: (io.BytesIO(image_bytes("PNG", (2100, 2000))), "big.png"),
        "the limit is",
    ),
    ("empty", lambda: (io.BytesIO(b""), "empty.png"), "The file is empty"),
    (
        "over file limit",
        lambda: (io.BytesIO(b"\xff" * (2 * 1024 * 1024 + 10)), "big.jpg"),
        "larger than the limit",
    ),
]


@pytest.mark.parametrize(("name", "make", "message"), UPLOADS, ids=[u[0] for u in UPLOADS])
@pytest.mark.parametrize("action", ["save", "submit"])
def test_bad_uploads_are_refused_with_nothing_left(
    client, auth, session, store, name, make, message, action
):
    auth.login()
    response = post_filing(client, declaration(), action=action, file=make())
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert nothing_written(session, store)


def test_bad_texts_are_refused(client, auth, session, store):
    auth.login()
    for file, text, message in [
        ((io.BytesIO("山居".encode("gbk")), "poem.txt"), None, "not valid UTF-8"),
        (None, "   \n  ", "Attach the work itself"),
        ((io.BytesIO(b"x"), "a.txt"), "also pasted", "not both"),
        ((io.BytesIO(b"x" * (256 * 1024 + 1)), "long.txt"), None, "limit for texts"),
    ]:
        response = post_filing(client, text_declaration(), file=file, text=text)
        assert response.status_code == 422
        assert message in response.get_data(as_text=True), message
    assert nothing_written(session, store)


def test_an_oversized_request_is_refused_before_it_is_read(client, auth, session, store):
    auth.login()
    response = post_filing(
        client, declaration(), file=(io.BytesIO(b"\0" * (3 * 1024 * 1024 + 1)), "huge.png")
    )
    assert response.status_code == 413
    assert "larger than this registry accepts" in response.get_data(as_text=True)
    assert nothing_written(session, store)


def test_filing_form_posts_need_a_csrf_token(client, auth, session, store):
    auth.login()
    response = client.post("/filings/new", data={"title": "x", "action": "save"})
    assert response.status_code == 400
    assert count(session, Registration) == 0 and count(session, Event) == 0


def test_pasted_text_with_a_replacement_character_is_refused(client, auth, session, store):
    """What the browser sends for bytes that were not UTF-8; the service refuses it (so the API
    does too, tests/web/test_api.py), and the form shows why beside the box."""
    auth.login()
    response = post_filing(client, text_declaration(), text="The harbour \ufffd sleeps.\n")
    assert response.status_code == 422
    assert "it was not sent as valid UTF-8" in response.get_data(as_text=True)
    assert nothing_written(session, store)


def test_a_text_with_next_line_is_taken_and_one_with_nothing_visible_refused(
    client, auth, session, store
):
    auth.login()
    response = post_filing(
        client, text_declaration(), file=(io.BytesIO("\u200b\u200f\u2060\n".encode()), "a.txt")
    )
    assert response.status_code == 422
    assert "no visible characters" in response.get_data(as_text=True)
    assert nothing_written(session, store)
    response = post_filing(client, text_declaration(), text="First line\u0085Second line\n")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    session.rollback()  # a new snapshot: the one above was read before the filing
    assert session.exec(select(Registration)).one().deposit.char_count == 23


def test_pasted_text_far_over_the_form_limit_is_told_the_texts_limit(
    app, client, auth, session, store
):
    """Werkzeug refuses a form field over MAX_FORM_MEMORY_SIZE before the form sees it: the 413
    says the pasted text's limit, not the number of parts. (The settings' own margin: the test
    app's request limit is lower than it, so it is set here as the settings make it.)"""
    app.config["MAX_FORM_MEMORY_SIZE"] = (
        app.extensions["registry"].settings.max_text_bytes + 512 * 1024
    )
    auth.login()
    response = post_filing(client, text_declaration(), text="Gulls are other gulls. " * 40_000)
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "pasted text may be at most" in page and "256 KB (262,144 bytes)" in page
    assert "500 parts" not in page and "too many fields" not in page
    assert nothing_written(session, store)


def test_too_many_form_parts_are_told_the_number_of_parts(client, auth, session, store):
    auth.login()
    data = {f"extra-{i}": "x" for i in range(600)}
    data["csrf_token"] = "x"
    response = client.post("/filings/new", data=data, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "too many fields or parts: at most 500 are taken" in page
    assert "pasted text may be at most" not in page
    assert nothing_written(session, store)


@pytest.mark.parametrize("kind", ["ultra-hdr", "mpo"])
def test_a_phone_photo_with_a_gain_map_is_filed_as_sent(client, auth, session, store, kind):
    """An Ultra HDR JPEG (MPF index, gain map after the picture) or a stereo MPO: filed, kept
    byte for byte (its SHA-256 the creator's), checked, its thumbnail the first picture."""
    auth.login()
    data = seeds.ultra_hdr((160, 120)) if kind == "ultra-hdr" else seeds.mpo((160, 120))
    response = post_filing(client, declaration(), file=(io.BytesIO(data), "PXL_0001.jpg"))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    reg = session.exec(select(Registration)).one()
    assert reg.deposit.sha256 == hashlib.sha256(data).hexdigest()
    assert store.read_bytes(reg.deposit.sha256) == data
    assert (reg.deposit.media_type, reg.deposit.width, reg.deposit.height) == (
        "image/jpeg",
        160,
        120,
    )
    assert count(session, MatchReport) == 1 and count(session, Fingerprint) >= 1  # checked
    thumb = client.get(f"/filings/{reg.uid}/thumbnail")
    assert thumb.status_code == 200 and thumb.mimetype == "image/webp"
