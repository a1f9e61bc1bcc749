"""The JSON API: every route, with its auth failures and bad input; personal API tokens."""

from __future__ import annotations

import base64
import json

import pytest
from sqlmodel import select

from registry.domain import merkle
from registry.domain.transparency import TreeHead, decode_leaf, load_public_key
from registry.models import ApiToken, Registration
from registry.services import tokens
from tests.conftest import csrf_token, stored_files
from tests.factories import count, encoded, make_user, scene
from tests.harness.server import API_DECLARATION as DECLARATION
from tests.harness.server import API_LITERARY


def _image(seed: int = 7) -> dict:
    return {
        "filename": "work.png",
        "content_base64": base64.b64encode(encoded(scene(seed))).decode(),
    }


@pytest.fixture
def creator(session):
    return make_user(session, email="api-creator@example.org")


@pytest.fixture
def token(session, creator):
    _row, value = tokens.create(session=session, user=creator, name="Batch uploader")
    return value


def _file(client, token, body, **headers):
    return client.post(
        "/api/v1/registrations",
        json=body,
        headers={"Authorization": f"Bearer {token}", **headers},
    )


def _error(response, status: int, code: str):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    body = response.get_json()["error"]
    assert body["code"] == code and body["message"]
    return body


def test_filing_with_a_token_files_in_the_owners_name_and_logs_it(client, session, token, creator):
    response = _file(client, token, {"declaration": DECLARATION, "deposit": _image()})
    assert response.status_code == 201, response.get_data(as_text=True)
    record = response.get_json()
    assert record["status"] == "submitted" and record["number"].startswith("AIR-")
    assert response.headers["Location"].endswith(f"/api/v1/registrations/{record['number']}")
    reg = session.exec(select(Registration).where(Registration.number == record["number"])).one()
    assert reg.owner_id == creator.id
    assert "Secret Street" not in response.get_data(as_text=True)  # the address stays private
    [entry] = record["log"]
    assert decode_leaf(entry["leaf"].encode())["event"] == "submitted"
    assert decode_leaf(entry["leaf"].encode())["deposit_sha256"] == record["deposit"]["sha256"]
    # and the public record says the same
    again = client.get(f"/api/v1/registrations/{record['number']}").get_json()
    assert again == record


def test_a_text_can_be_filed(client, token):
    decl = dict(API_LITERARY)
    response = _file(client, token, {"declaration": decl, "deposit": {"text": "A poem.\n"}})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["deposit"]["kind"] == "text"


@pytest.mark.parametrize(
    "header, code",
    [
        (None, "unauthenticated"),
        ("Bearer", "unauthenticated"),
        ("Basic dXNlcjpwYXNz", "unauthenticated"),
        ("Bearer air_not-a-real-token", "invalid_token"),
        ("Bearer something-else", "invalid_token"),
    ],
)
def test_filing_without_a_valid_token_is_refused(client, session, header, code):
    headers = {"Authorization": header} if header else {}
    response = client.post(
        "/api/v1/registrations",
        json={"declaration": DECLARATION, "deposit": _image()},
        headers=headers,
    )
    _error(response, 401, code)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert count(session, Registration) == 0


def test_a_revoked_token_and_a_deactivated_account_no_longer_file(client, session, creator, token):
    row = session.exec(select(ApiToken)).first()
    tokens.revoke(session=session, user=creator, token_id=row.id)
    _error(
        _file(client, token, {"declaration": DECLARATION, "deposit": _image()}),
        401,
        "invalid_token",
    )
    _row, fresh = tokens.create(session=session, user=creator, name="Second")
    creator.active = False
    session.add(creator)
    session.commit()
    _error(
        _file(client, fresh, {"declaration": DECLARATION, "deposit": _image()}),
        401,
        "invalid_token",
    )


@pytest.mark.parametrize(
    "body, status, code, field",
    [
        ({"declaration": DECLARATION}, 400, "invalid_request", None),
        ({"declaration": "x", "deposit": {"text": "x"}}, 400, "invalid_request", None),
        (
            {"declaration": DECLARATION, "deposit": {"text": "a", "content_base64": "YQ=="}},
            400,
            "invalid_request",
            None,
        ),
        (  # a text with a file's name is neither shape the document describes
            {"declaration": DECLARATION, "deposit": {"text": "a", "filename": "a.txt"}},
            400,
            "invalid_request",
            None,
        ),
        (
            {"declaration": DECLARATION, "deposit": {"content_base64": "%%%"}},
            400,
            "invalid_request",
            None,
        ),
        ({"declaration": DECLARATION, "deposit": {"text": 5}}, 400, "invalid_request", None),
        (
            {"declaration": DECLARATION, "deposit": {"text": "x"}, "extra": 1},
            400,
            "invalid_request",
            None,
        ),
        (
            {"declaration": {**DECLARATION, "colour": "red"}, "deposit": {"text": "x"}},
            400,
            "invalid_request",
            None,
        ),
        (
            {"declaration": {**DECLARATION, "title": 5}, "deposit": _image()},
            422,
            "invalid_filing",
            "title",
        ),
        (
            {"declaration": {**DECLARATION, "title": "x" * 301}, "deposit": _image()},
            422,
            "invalid_filing",
            "title",
        ),
        (
            {"declaration": {**DECLARATION, "work_category": "sculpture"}, "deposit": _image()},
            422,
            "invalid_filing",
            "work_category",
        ),
        (
            {"declaration": {**DECLARATION, "completion_date": "yesterday"}, "deposit": _image()},
            422,
            "invalid_filing",
            "completion_date",
        ),
        (
            {"declaration": {**DECLARATION, "attested": False}, "deposit": _image()},
            422,
            "invalid_filing",
            "attested",
        ),
        (
            {"declaration": {**DECLARATION, "attested": "yes"}, "deposit": _image()},
            422,
            "invalid_filing",
            "attested",
        ),
        (
            {
                "declaration": {
                    **DECLARATION,
                    "authors": [{"name": "Midjourney", "signing": "real_name"}],
                },
                "deposit": _image(),
            },
            422,
            "invalid_filing",
            "authors.0.name",
        ),
        (
            {"declaration": {**DECLARATION, "authors": [{"nom": "x"}]}, "deposit": _image()},
            422,
            "invalid_filing",
            "authors.0.nom",
        ),
        (
            {
                "declaration": {**DECLARATION, "contributions": [{"category": "dancing"}]},
                "deposit": _image(),
            },
            422,
            "invalid_filing",
            "contributions.0",
        ),
        (
            {"declaration": {**DECLARATION, "authors": [{}] * 21}, "deposit": _image()},
            422,
            "invalid_filing",
            "authors",
        ),
        (
            {
                "declaration": DECLARATION,
                "deposit": {"content_base64": base64.b64encode(b"not an image").decode()},
            },
            422,
            "invalid_filing",
            None,
        ),
        ({"declaration": DECLARATION, "deposit": {"text": "   "}}, 422, "invalid_filing", None),
    ],
)
def test_bad_filings_get_a_coded_error_and_change_nothing(
    client, session, store, token, body, status, code, field
):
    response = _file(client, token, body)
    error = _error(response, status, code)
    if field:
        assert field in error["fields"], error
    assert count(session, Registration) == 0
    assert stored_files(store) == []


def test_a_body_that_is_not_json_is_refused(client, session, token):
    response = client.post(
        "/api/v1/registrations",
        data="title=x",
        headers={"Authorization": f"Bearer {token}"},
        content_type="application/x-www-form-urlencoded",
    )
    _error(response, 415, "unsupported_media_type")
    response = client.post(
        "/api/v1/registrations",
        data="{not json",
        headers={"Authorization": f"Bearer {token}"},
        content_type="application/json",
    )
    _error(response, 400, "invalid_request")
    assert count(session, Registration) == 0


def test_an_oversized_body_is_refused_with_json(app, client, session, token):
    too_big = "x" * (app.extensions["registry"].settings.max_deposit_bytes * 4 // 3 + (3 << 20))
    response = _file(client, token, {"declaration": DECLARATION, "deposit": {"text": too_big}})
    _error(response, 413, "too_large")
    assert count(session, Registration) == 0


# ---- reading ---------------------------------------------------------------------------------


@pytest.fixture
def filed(client, token):
    numbers = []
    for seed, title in ((11, "Harbour"), (12, "Harbour at Night"), (13, "Meadow")):
        decl = {**DECLARATION, "title": title}
        response = _file(client, token, {"declaration": decl, "deposit": _image(seed)})
        assert response.status_code == 201
        numbers.append(response.get_json()["number"])
    return numbers


def test_the_catalog_searches_and_pages(client, filed):
    body = client.get("/api/v1/registrations?q=harbour").get_json()
    assert body["total"] == 2 and {i["number"] for i in body["items"]} == set(filed[:2])
    page = client.get("/api/v1/registrations?page_size=2&page=2").get_json()
    assert page["pages"] == 2 and len(page["items"]) == 1
    for bad in ("page=0", "page=x", "page_size=101", "q=" + "x" * 201):
        _error(client.get(f"/api/v1/registrations?{bad}"), 400, "invalid_request")


def test_a_record_by_number_in_any_spelling_and_unknown_numbers(client, filed):
    number = filed[0]
    year, serial = number.split("-")[1:]
    loose = client.get(f"/api/v1/registrations/air-{year}-{int(serial)}")
    assert loose.status_code == 200 and loose.get_json()["number"] == number
    _error(client.get("/api/v1/registrations/AIR-1999-999999"), 404, "not_found")
    _error(client.get("/api/v1/registrations/nonsense"), 404, "not_found")


def test_drafts_are_not_public(client, session, store, creator):
    from tests.factories import save_draft

    draft = save_draft(session, store, creator)
    assert draft.number is None
    assert client.get("/api/v1/registrations").get_json()["total"] == 0


def test_unknown_routes_and_methods_answer_in_json(client):
    _error(client.get("/api/v1/nothing-here"), 404, "not_found")
    _error(client.delete("/api/v1/registrations"), 405, "method_not_allowed")


# ---- the log ---------------------------------------------------------------------------------


def test_the_tree_head_verifies_with_the_published_key(client, filed):
    key = client.get("/api/v1/log/key").get_json()
    assert key["algorithm"] == "Ed25519"
    public = load_public_key(key["pem"])
    assert load_public_key(key["public_key"]).public_bytes_raw() == public.public_bytes_raw()
    head_json = client.get("/api/v1/log/tree-head").get_json()
    assert head_json["tree_size"] == 3 and head_json["key_id"] == key["key_id"]
    TreeHead.from_json(head_json).verify(public)
    assert client.get("/log/key.pem").get_data(as_text=True) == key["pem"]


def test_the_checkpoint_is_the_signed_head_in_c2sp_form_for_witnesses(client, app, filed):
    from registry.domain.checkpoint import open_checkpoint, verifier_key

    log = app.extensions["registry"].log
    head = TreeHead.from_json(client.get("/api/v1/log/tree-head").get_json())
    for url in ("/api/v1/log/checkpoint", "/log/checkpoint"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.content_type == "text/plain; charset=utf-8"
        assert response.headers["Cache-Control"] == "no-cache"
        public = load_public_key(client.get("/api/v1/log/key").get_json()["pem"])
        checkpoint = open_checkpoint(response.data, public)
        assert (checkpoint.tree_size, checkpoint.root_hash) == (3, head.root_hash)
        assert checkpoint.origin == log.origin
    # no REGISTRY_PUBLIC_URL: a name of its own that no real log has
    assert log.origin == f"air-registry.invalid/{log.key_id[:16]}"
    page = client.get("/log").get_data(as_text=True)
    assert verifier_key(log.origin, log.public_key) in page
    assert client.get("/log/checkpoint").get_data(as_text=True).split("\n")[0] in page


def test_the_origin_comes_from_the_public_address_or_its_own_setting(database_url, tmp_path):
    from tests.conftest import dispose, make_app

    for overrides, origin in (
        ({"REGISTRY_PUBLIC_URL": "https://air.example"}, "air.example/log"),
        ({"REGISTRY_PUBLIC_URL": "https://example.org/air/"}, "example.org/air/log"),
        (
            {"REGISTRY_PUBLIC_URL": "https://air.example", "REGISTRY_LOG_ORIGIN": "air.example/t1"},
            "air.example/t1",
        ),
    ):
        app = make_app(database_url, tmp_path / "instance", **overrides)
        try:
            assert app.extensions["registry"].log.origin == origin
            base = overrides["REGISTRY_PUBLIC_URL"]  # the only host the registry answers to
            text = app.test_client().get("/log/checkpoint", base_url=base).get_data(as_text=True)
            assert text.startswith(f"{origin}\n0\n") and f"\n\n— {origin} " in text
        finally:
            dispose(app)


def test_entries_and_proofs_verify_against_the_signed_head(client, filed):
    head = TreeHead.from_json(client.get("/api/v1/log/tree-head").get_json())
    entries = client.get("/api/v1/log/entries").get_json()["entries"]
    assert [e["leaf_index"] for e in entries] == [0, 1, 2]
    for e in entries:
        assert merkle.leaf_hash(e["leaf"].encode()).hex() == e["leaf_hash"]
        proof = client.get(f"/api/v1/log/proof/inclusion?leaf_index={e['leaf_index']}").get_json()
        assert proof["tree_size"] == 3 and proof["root_hash"] == head.root_hash.hex()
        merkle.verify_inclusion(
            bytes.fromhex(e["leaf_hash"]),
            e["leaf_index"],
            3,
            [bytes.fromhex(h) for h in proof["audit_path"]],
            head.root_hash,
        )
    hashes = [bytes.fromhex(e["leaf_hash"]) for e in entries]
    for first in (1, 2, 3):
        proof = client.get(f"/api/v1/log/proof/consistency?first={first}&second=3").get_json()
        merkle.verify_consistency(
            first,
            3,
            merkle.root(hashes[:first]),
            head.root_hash,
            [bytes.fromhex(h) for h in proof["consistency"]],
        )
        assert proof["first_root_hash"] == merkle.root(hashes[:first]).hex()


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/log/proof/inclusion",
        "/api/v1/log/proof/inclusion?leaf_index=3",
        "/api/v1/log/proof/inclusion?leaf_index=0&tree_size=4",
        "/api/v1/log/proof/inclusion?leaf_index=-1",
        "/api/v1/log/proof/inclusion?leaf_index=a",
        "/api/v1/log/proof/consistency",
        "/api/v1/log/proof/consistency?first=0",
        "/api/v1/log/proof/consistency?first=3&second=2",
        "/api/v1/log/proof/consistency?first=1&second=9",
        "/api/v1/log/entries?start=2&end=1",
        "/api/v1/log/entries?start=x",
    ],
)
def test_bad_log_requests_are_400(client, filed, url):
    _error(client.get(url), 400, "invalid_request")


def test_entries_stop_at_the_end_of_the_log(client, filed):
    assert len(client.get("/api/v1/log/entries?start=1&end=99").get_json()["entries"]) == 2
    assert client.get("/api/v1/log/entries?start=5").get_json()["entries"] == []


def test_an_empty_log_has_a_head_and_no_proofs(client):
    head = client.get("/api/v1/log/tree-head").get_json()
    assert head["tree_size"] == 0
    assert client.get("/api/v1/log/entries").get_json() == {"tree_size": 0, "entries": []}
    _error(client.get("/api/v1/log/proof/inclusion?leaf_index=0"), 400, "invalid_request")


def test_the_log_page_shows_the_head_and_checks_proofs(client, filed):
    html = client.get("/log").get_data(as_text=True)
    head = client.get("/api/v1/log/tree-head").get_json()
    assert head["root_hash"] in html and filed[0] in html
    html = client.get("/log?leaf_index=1&tree_size=3").get_data(as_text=True)
    assert "Entry 1 is in the tree of 3 entries" in html
    html = client.get("/log?first=1&second=3").get_data(as_text=True)
    assert "is the beginning of the tree of 3" in html
    response = client.get("/log?leaf_index=7")
    assert response.status_code == 400 and "between" in response.get_data(as_text=True)


# ---- tokens in the account -------------------------------------------------------------------


def test_a_creator_makes_sees_once_and_revokes_a_token(client, session, auth):
    user = auth.login()
    page = client.get("/account/tokens")
    assert page.status_code == 200 and "no tokens yet" in page.get_data(as_text=True)
    response = client.post(
        "/account/tokens",
        data={"name": "Uploader", "csrf_token": csrf_token(client, "/account/tokens")},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "shown only this once" in html
    assert response.headers["Cache-Control"] == "no-store"
    value = html.split('data-testid="new-token">')[1].split("<")[0]
    assert tokens.authenticate(session=session, token=value).id == user.id
    again = client.get("/account/tokens").get_data(as_text=True)
    assert value not in again and value[:10] in again  # only the prefix is shown later
    row = session.exec(select(ApiToken)).first()
    response = client.post(
        f"/account/tokens/{row.id}/revoke",
        data={"csrf_token": csrf_token(client, "/account/tokens")},
    )
    assert response.status_code == 302
    session.rollback()  # end this session's read snapshot to see the request's commit
    assert tokens.authenticate(session=session, token=value) is None
    assert "Revoked" in client.get("/account/tokens").get_data(as_text=True)


def test_tokens_need_a_name_and_are_the_owners_alone(client, session, auth):
    auth.login()
    response = client.post(
        "/account/tokens", data={"name": " ", "csrf_token": csrf_token(client, "/account/tokens")}
    )
    assert response.status_code == 422
    assert count(session, ApiToken) == 0
    other = make_user(session, email="other@example.org")
    row, _value = tokens.create(session=session, user=other, name="Theirs")
    response = client.post(
        f"/account/tokens/{row.id}/revoke",
        data={"csrf_token": csrf_token(client, "/account/tokens")},
    )
    assert response.status_code == 404
    assert session.get(ApiToken, row.id, populate_existing=True).revoked_at is None


def test_the_token_page_needs_an_account(client):
    assert client.get("/account/tokens").status_code == 302


def test_only_a_fingerprint_of_a_token_is_stored(session, creator):
    row, value = tokens.create(session=session, user=creator, name="x")
    stored = json.dumps({k: str(v) for k, v in session.get(ApiToken, row.id).model_dump().items()})
    assert value not in stored and value[10:] not in stored


def test_reverse_search_finds_a_copy_and_stores_nothing(client, session, store, filed):
    before = (count(session, Registration), len(stored_files(store)))
    mirrored = scene(11).transpose(0)  # a mirrored copy of "Harbour"
    body = {"deposit": {"content_base64": base64.b64encode(encoded(mirrored)).decode()}}
    response = client.post("/api/v1/search/similar", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    result = response.get_json()
    assert result["modality"] == "image"
    assert result["matches"][0]["number"] == filed[0]
    assert result["matches"][0]["band"] == "strong"
    assert "Secret Street" not in response.get_data(as_text=True)
    assert (count(session, Registration), len(stored_files(store))) == before
    nothing = client.post("/api/v1/search/similar", json={"deposit": {"text": "Unrelated words."}})
    assert nothing.get_json()["matches"] == []


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({}, 400, "invalid_request"),
        ({"deposit": {"text": ""}, "x": 1}, 400, "invalid_request"),
        # a PNG cut off after its signature
        ({"deposit": {"content_base64": "iVBORw0KGgoAAAANSUhEUg=="}}, 422, "invalid_deposit"),
        ({"deposit": {"text": "   "}}, 422, "invalid_deposit"),
    ],
)
def test_reverse_search_rejects_bad_input(client, body, status, code):
    _error(client.post("/api/v1/search/similar", json=body), status, code)


def test_reverse_search_is_rate_limited(app, client):
    app.extensions["registry"].settings.reverse_search_limit = "2 per minute"
    for _ in range(2):
        assert (
            client.post("/api/v1/search/similar", json={"deposit": {"text": "a"}}).status_code
            == 200
        )
    response = client.post("/api/v1/search/similar", json={"deposit": {"text": "a"}})
    _error(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) > 0


def test_a_registered_work_has_a_certificate_that_verifies(app, client, session, filed):
    from registry.domain.certificate import verified, verify_certificate
    from registry.services import decisions, examining

    number = filed[0]
    _error(client.get(f"/api/v1/registrations/{number}/certificate"), 409, "no_certificate")
    _error(client.get("/api/v1/registrations/AIR-1999-000001/certificate"), 404, "not_found")
    reg = session.exec(select(Registration).where(Registration.number == number)).one()
    examiner = make_user(session, email="api-examiner@example.org", role="examiner")
    examining.claim(session=session, uid=reg.uid, examiner=examiner)
    decisions.determine(
        session=session, uid=reg.uid, examiner=examiner, outcome="registered", rationale="Fine."
    )
    response = client.get(f"/api/v1/registrations/{number}/certificate")
    assert response.status_code == 200
    checks = verify_certificate(response.get_json(), app.extensions["registry"].log.public_key)
    assert verified(checks), [c for c in checks if not c.ok]


@pytest.mark.parametrize(
    "body",
    [
        {
            "declaration": {**DECLARATION, "contributions": [{"category": ["x"]}]},
            "deposit": _image(),
        },
        {
            "declaration": {**DECLARATION, "contributions": [{"category": {"a": 1}}]},
            "deposit": _image(),
        },
        {"declaration": {**DECLARATION, "title": "a\x00b"}, "deposit": _image()},
        {"declaration": {**DECLARATION, "alternative_titles": ["a\x00b"]}, "deposit": _image()},
        {"declaration": {**DECLARATION, "authors": [{"name": "A\x00"}]}, "deposit": _image()},
    ],
)
def test_hostile_json_types_and_nul_characters_are_422_not_500(client, session, token, body):
    _error(_file(client, token, body), 422, "invalid_filing")
    assert count(session, Registration) == 0


def test_deeply_nested_json_is_400(client, session, token):
    nested = "[" * 100_000 + "]" * 100_000
    response = client.post(
        "/api/v1/registrations",
        data=nested,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    _error(response, 400, "invalid_request")


def test_nul_in_a_search_is_400_and_the_web_search_copes(client):
    _error(client.get("/api/v1/registrations?q=a%00b"), 400, "invalid_request")
    assert client.get("/search?q=a%00b").status_code == 200


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ("{not json", "line 1, column 2"),
        ('{"declaration": {}, }', "line 1, column 21"),
        ('{\n  "deposit": {"text": "a"\n', "line 3, column 1"),
        ('{"a": 1} trailing', "Extra data at line 1, column 10"),
    ],
)
def test_malformed_json_is_called_malformed_and_told_where(client, session, token, body, where):
    response = client.post(
        "/api/v1/registrations",
        data=body,
        headers={"Authorization": f"Bearer {token}"},
        content_type="application/json",
    )
    error = _error(response, 400, "invalid_request")
    assert error["message"].startswith("The body is not valid JSON: "), error
    assert where in error["message"] and "must be a JSON object" not in error["message"]
    assert count(session, Registration) == 0


@pytest.mark.parametrize(("body", "what"), [("[1, 2]", "an array"), ('"x"', "a string")])
def test_valid_json_that_is_not_an_object_is_told_so(client, token, body, what):
    response = client.post(
        "/api/v1/registrations",
        data=body,
        headers={"Authorization": f"Bearer {token}"},
        content_type="application/json",
    )
    assert _error(response, 400, "invalid_request")["message"] == (
        f"The body must be a JSON object, not {what}."
    )


def test_pasted_text_with_a_replacement_character_is_refused_as_by_the_form(
    client, session, store, token
):
    """One rule for the form and the API: U+FFFD marks bytes that were not UTF-8."""
    body = {"declaration": API_LITERARY, "deposit": {"text": "The harbour \ufffd sleeps.\n"}}
    error = _error(_file(client, token, body), 422, "invalid_filing")
    assert "it was not sent as valid UTF-8" in error["fields"]["deposit"][0]
    assert count(session, Registration) == 0 and stored_files(store) == []


def test_api_text_with_next_line_is_taken_and_invisible_text_refused(client, session, token):
    body = {"declaration": API_LITERARY, "deposit": {"text": "First line\u0085Second line"}}
    assert _file(client, token, body).status_code == 201
    body = {"declaration": API_LITERARY, "deposit": {"text": "\u200b\u200e\u2066\u2069"}}
    error = _error(_file(client, token, body), 422, "invalid_filing")
    assert "no visible characters" in error["fields"]["deposit"][0]
    assert count(session, Registration) == 1
