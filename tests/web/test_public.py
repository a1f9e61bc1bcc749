import io
import json
from dataclasses import replace

from sqlmodel import select

from registry.domain.declaration import Author
from registry.models import Registration
from registry.services import intake
from tests.factories import declaration, image_bytes, make_user, save_draft, submit_work


def file(session, store, owner, n=0, **overrides):
    image = io.BytesIO(image_bytes(colour=(n % 256, 7, 9)))
    return submit_work(
        session, store, owner, declaration(**overrides), intake.DepositUpload(file=image)
    )


def test_lookup_by_number(client, session, store):
    reg = file(session, store, make_user(session))
    assert (
        client.get(f"/lookup?number={reg.number.lower()}").headers["Location"]
        == f"/registrations/{reg.number}"
    )
    page = client.get(f"/registrations/{reg.number}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for fact in (
        reg.number,
        "Lighthouse in Fog",
        "Submitted",
        reg.deposit_sha256,
        "Midjourney",
        "Ana Costa",
    ):
        assert fact in html
    missing = client.get("/lookup?number=AIR-2026-999999")
    assert missing.status_code == 404 and "No public registration" in missing.get_data(as_text=True)
    nonsense = client.get("/lookup?number=hello")
    assert nonsense.status_code == 404 and "is not a registration number" in nonsense.get_data(
        as_text=True
    )
    assert client.get("/registrations/AIR-2026-999999").status_code == 404
    assert client.get("/registrations/not-a-number").status_code == 404


def test_public_pages_never_show_private_data(client, session, store):
    owner = make_user(session, email="private.person@example.org", name="Hidden Account Name")
    reg = file(
        session,
        store,
        owner,
        authors=(
            Author("Real Name Behind Pseudonym", "pseudonym", "Pen Name", "Chile", "Text"),
            Author("Anonymous Person Name", "anonymous", "", "Chile", "Images"),
        ),
    )
    draft = save_draft(session, store, owner, declaration(title="Unpublished Draft Title"))
    pages = [
        client.get("/").get_data(as_text=True),
        client.get("/search").get_data(as_text=True),
        client.get("/search?q=Lighthouse").get_data(as_text=True),
        client.get(f"/registrations/{reg.number}").get_data(as_text=True),
    ]
    for html in pages:
        for secret in (
            "private.person@example.org",
            "Hidden Account Name",
            "Secret Street 7",
            "Real Name Behind Pseudonym",
            "Anonymous Person Name",
            "Unpublished Draft Title",
            draft.uid,
            reg.uid,
        ):
            assert secret not in html, secret
    record = pages[-1]
    assert "Pen Name (pseudonym)" in record and "Anonymous" in record
    # The deposit itself is not served publicly.
    assert f"/filings/{reg.uid}/deposit" not in record
    assert client.get(f"/filings/{reg.uid}/deposit").status_code == 302  # to sign-in


def test_search_by_title_claimant_alternative_title_and_number(client, session, store):
    owner = make_user(session)
    a = file(
        session,
        store,
        owner,
        1,
        title="Harbour at Dawn",
        claimant_name="Lin Wei",
        alternative_titles=("黎明的港口",),
    )
    b = file(
        session,
        store,
        owner,
        2,
        title="Tide Tables",
        claimant_name="Maria Santos",
        alternative_titles=(),
    )
    cases = {
        "harbour": {a.number},
        "HARBOUR dawn": {a.number},
        "santos": {b.number},
        "黎明": {a.number},
        a.number: {a.number},
        a.number.lower(): {a.number},
        "tide lin": set(),
        "100%": set(),
        "_": set(),
    }
    for query, expected in cases.items():
        html = client.get("/search", query_string={"q": query}).get_data(as_text=True)
        found = {n for n in (a.number, b.number) if f"/registrations/{n}" in html}
        assert found == expected, query


def test_search_pages(client, session, store):
    owner = make_user(session)
    numbers = [file(session, store, owner, i, title=f"Study {i}").number for i in range(12)]
    page1 = client.get("/search?q=study").get_data(as_text=True)
    assert "12 results" in page1 and "page 1 of 3" in page1
    assert f"/registrations/{numbers[-1]}" in page1 and f"/registrations/{numbers[0]}" not in page1
    page3 = client.get("/search?q=study&page=3").get_data(as_text=True)
    assert f"/registrations/{numbers[0]}" in page3 and 'rel="next"' not in page3
    assert client.get("/search?q=study&page=99").status_code == 200
    assert client.get("/search?page=-4").status_code == 200


def test_drafts_are_not_public(client, session, store):
    owner = make_user(session)
    save_draft(session, store, owner, replace(declaration(), title="Hidden Draft"))
    assert "Hidden Draft" not in client.get("/search?q=hidden").get_data(as_text=True)
    assert session.exec(select(Registration)).one().number is None


def test_security_headers_on_every_page(client):
    response = client.get("/")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in response.get_data(as_text=True)


def test_one_rule_names_authors_on_the_page_the_api_and_the_owners_view(
    client, session, store, auth
):
    """How an author is named to whom is decided once (services.records.declaration_shown): the
    public page and the API know the name on the work and the citizenship; the creator's own
    page knows the legal name behind it, and the claimant's address."""
    owner = make_user(session, email="writer@example.org")
    reg = file(
        session,
        store,
        owner,
        authors=(Author("Real Name Behind Pseudonym", "pseudonym", "Pen Name", "Chile", "Text"),),
    )
    api = client.get(f"/api/v1/registrations/{reg.number}").get_json()
    assert api["authors"] == [{"name": "Pen Name", "citizenship": "Chile", "contribution": "Text"}]
    assert "Real Name Behind Pseudonym" not in json.dumps(api)
    public = client.get(f"/registrations/{reg.number}").get_data(as_text=True)
    assert "Pen Name (pseudonym)" in public and "Chile" in public
    assert "Claimant's address" not in public
    auth.login(owner)
    own = client.get(f"/filings/{reg.uid}").get_data(as_text=True)
    assert "Real Name Behind Pseudonym, writing as Pen Name" in own
    assert "Claimant's address" in own


def test_a_page_number_that_is_not_one_shows_the_first_page(client, session, store):
    """'²' passes str.isdigit but is no number; neither is one too large for the database."""
    for page in ("²", "99999999999999999999999", "-1", "0", "x"):
        response = client.get(f"/search?q=x&page={page}")
        assert response.status_code == 200, page
