"""A deposit file replaced or deleted on disk is never served: the download, the thumbnail and
the text shown on the filing's page check the bytes against the deposit's SHA-256 first, and
answer with a clear error (logged) instead of bytes the registry did not register."""

import logging

import pytest

from registry.services import filing
from tests.factories import POEM, image_bytes, make_user, submit_text, submit_work


@pytest.fixture
def owner(session):
    return make_user(session)


@pytest.fixture
def image(session, store, owner):
    return submit_work(session, store, owner)


def _replace(store, sha, data: bytes) -> None:
    path = store.path_for(sha)
    path.chmod(0o644)
    path.write_bytes(data)


def test_an_intact_deposit_is_served_with_its_hash_as_etag(client, auth, owner, image, store):
    auth.login(owner)
    response = client.get(f"/filings/{image.uid}/deposit")
    assert response.status_code == 200
    assert response.get_data() == store.read_bytes(image.deposit_sha256)
    assert response.content_length == len(store.read_bytes(image.deposit_sha256))
    assert response.headers["ETag"] == f'"{image.deposit_sha256}"'
    assert client.get(f"/filings/{image.uid}/thumbnail").status_code == 200


@pytest.mark.parametrize("damage", ["replaced", "deleted"])
def test_a_damaged_image_is_not_served(client, auth, owner, image, store, app, caplog, damage):
    auth.login(owner)
    forged = image_bytes("PNG", (40, 40))
    if damage == "replaced":
        _replace(store, image.deposit_sha256, forged)
    else:
        store.path_for(image.deposit_sha256).unlink()
    with caplog.at_level(logging.ERROR):
        response = client.get(f"/filings/{image.uid}/deposit")
    body = response.get_data()
    assert response.status_code == 500
    assert forged not in body and "ETag" not in response.headers
    text = body.decode()
    assert f"The stored file of {image.number} " in text
    assert "was not sent" in text
    assert any(image.deposit_sha256 in r.getMessage() for r in caplog.records)

    thumb = client.get(f"/filings/{image.uid}/thumbnail")
    assert thumb.status_code == 500 and thumb.mimetype == "text/html"
    cache = app.extensions["registry"].cache_dir / "thumbnails"
    assert not cache.exists() or not any(cache.iterdir())  # no thumbnail made of other bytes


def test_a_thumbnail_made_before_the_damage_is_not_served_after_it(
    client, auth, owner, image, store
):
    auth.login(owner)
    assert client.get(f"/filings/{image.uid}/thumbnail").status_code == 200
    _replace(store, image.deposit_sha256, image_bytes("PNG", (40, 40)))
    assert client.get(f"/filings/{image.uid}/thumbnail").status_code == 500


def test_a_replaced_text_is_not_shown_on_the_filing_page(client, auth, session, store, owner):
    reg = submit_text(session, store, owner, POEM)
    _replace(store, reg.deposit_sha256, b"Words the creator never filed.\n")
    auth.login(owner)
    page = client.get(f"/filings/{reg.uid}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200  # the rest of the record is still shown
    assert "Words the creator never filed." not in html
    assert f"The stored file of {reg.number} " in html
    download = client.get(f"/filings/{reg.uid}/deposit")
    assert download.status_code == 500
    assert b"Words the creator never filed." not in download.get_data()


def test_an_intact_text_is_still_shown(client, auth, session, store, owner):
    reg = submit_text(session, store, owner, POEM)
    auth.login(owner)
    assert "The gulls are other gulls." in client.get(f"/filings/{reg.uid}").get_data(as_text=True)
    assert filing.deposit_text(store, reg.deposit) == POEM
