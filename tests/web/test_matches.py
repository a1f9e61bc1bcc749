"""The match report on the filing's record page, and the earlier work's thumbnail beside it."""

import io

from PIL import Image

from registry.services import intake
from tests.factories import (
    ESSAY,
    encoded,
    make_user,
    scene,
    submit_text,
    submit_work,
)


def _image(img, fmt="PNG"):
    return intake.DepositUpload(file=io.BytesIO(encoded(img, fmt)))


def test_record_shows_matched_images_side_by_side(app, session, store, client, auth):
    matcher = app.extensions["registry"].matcher
    a = make_user(session, email="first@example.org")
    b = make_user(session, email="second@example.org")
    earlier = submit_work(session, store, a, upload=_image(scene(21)), matcher=matcher)
    w, h = scene(21).size
    crop = scene(21).crop((w // 3, 0, w, h * 2 // 3)).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    later = submit_work(session, store, b, upload=_image(crop, "JPEG"), matcher=matcher)
    auth.login(b)
    page = client.get(f"/filings/{later.uid}").get_data(as_text=True)
    assert "Originality check" in page and "1 registered work matches this one" in page
    assert earlier.number in page and "Strong match" in page and "mirrored" in page
    thumb = f"/filings/{later.uid}/matches/{earlier.number}/thumbnail"
    # the creator sees where their filing sits in the earlier work, not the earlier deposit
    assert "<rect" in page and thumb not in page and "deposit is not public" in page
    assert client.get(thumb).status_code == 404
    assert client.get(f"/filings/{earlier.uid}").status_code == 404  # another creator's filing
    auth.logout()
    auth.login(make_user(session, email="examiner@example.org", role="examiner"))
    page = client.get(f"/filings/{later.uid}").get_data(as_text=True)
    assert thumb in page and "<rect" in page
    response = client.get(thumb)
    assert response.status_code == 200 and response.mimetype == "image/webp"
    # only a work the report names, and only on a filing the viewer may see
    assert client.get(f"/filings/{later.uid}/matches/AIR-2026-999999/thumbnail").status_code == 404
    assert client.get(f"/filings/{earlier.uid}/matches/{later.number}/thumbnail").status_code == 404


def test_record_highlights_copied_passages(app, session, store, client, auth):
    matcher = app.extensions["registry"].matcher
    a = make_user(session, email="first@example.org")
    b = make_user(session, email="second@example.org")
    earlier = submit_text(session, store, a, ESSAY, matcher=matcher)
    new_text = "My own first line about mornings. " + ESSAY[:200]
    later = submit_text(session, store, b, new_text, title="Mornings", matcher=matcher)
    auth.login(b)
    page = client.get(f"/filings/{later.uid}").get_data(as_text=True)
    assert earlier.number in page
    assert "<mark>The harbour wakes before the town does" in page  # in the creator's own text
    assert "lies in passages copied from" in page and "text is not public" in page
    auth.logout()
    auth.login(make_user(session, email="examiner@example.org", role="examiner"))
    page = client.get(f"/filings/{later.uid}").get_data(as_text=True)
    assert page.count("<mark>The harbour wakes before the town does") == 3  # deposit, both sides
    assert "text is not public" not in page


def test_record_says_when_the_check_is_pending(session, store, client, auth):
    a = make_user(session)
    reg = submit_work(session, store, a)  # no matcher: the check has not run
    auth.login(a)
    page = client.get(f"/filings/{reg.uid}").get_data(as_text=True)
    assert "The originality check has not finished yet" in page


def test_triage_is_shown_to_examiners_only(app, session, store, client, auth):
    matcher = app.extensions["registry"].matcher
    policy = app.extensions["registry"].settings.routing_policy
    a = make_user(session, email="first@example.org")
    b = make_user(session, email="second@example.org")
    submit_work(session, store, a, upload=_image(scene(24)), matcher=matcher, policy=policy)
    copy = submit_work(
        session, store, b, upload=_image(scene(24), "WEBP"), matcher=matcher, policy=policy
    )
    auth.login(b)
    page = client.get(f"/filings/{copy.uid}").get_data(as_text=True)
    assert "Triage" not in page and "High risk" not in page and "Triaged" not in page
    auth.logout()
    auth.login(make_user(session, email="examiner@example.org", role="examiner"))
    page = client.get(f"/filings/{copy.uid}").get_data(as_text=True)
    assert "Triage" in page and "High risk" in page and "Strong match with AIR-" in page
    assert "the examination queue" in page and "Policy: Low risk: fast track" in page


def test_a_bad_routing_policy_stops_the_app_at_start(tmp_path, monkeypatch):
    import pytest

    from registry import create_app
    from registry.settings import load_settings

    monkeypatch.setenv("REGISTRY_ROUTING_POLICY", "low=queue")
    with pytest.raises(ValueError, match="REGISTRY_ROUTING_POLICY: no route for elevated, high"):
        create_app(load_settings(instance_path=tmp_path))


def test_the_earlier_creator_sees_later_filings_that_match_their_work(
    app, session, store, client, auth
):
    """The match table answers "which later filings match my work": the earlier registrant sees
    on their own filing's page what the notices tell them (strong matches by others, once an
    examiner has decided the later filing without clearing the match), with the later filings'
    public facts only."""
    from registry.services import decisions, examining

    matcher = app.extensions["registry"].matcher
    a = make_user(session, email="first@example.org")
    b = make_user(session, email="second@example.org")
    c = make_user(session, email="third@example.org")
    examiner = make_user(session, email="examiner@example.org", role="examiner")
    earlier = submit_text(session, store, a, ESSAY, matcher=matcher)
    own_copy = submit_text(session, store, a, ESSAY + "\nA coda.\n", matcher=matcher)
    later = submit_text(
        session, store, b, "My own first line. " + ESSAY, title="Mornings", matcher=matcher
    )
    cleared = submit_text(session, store, c, ESSAY + "\nMy ending.\n", matcher=matcher)
    submit_text(
        session, store, b, "Nothing like it at all, a line about trains.\n", matcher=matcher
    )
    heading = "Later filings that match this work"
    auth.login(a)
    page = client.get(f"/filings/{earlier.uid}").get_data(as_text=True)
    assert heading not in page  # nothing decided yet: the later filers' business
    for reg, clear in ((later, False), (cleared, True)):
        examining.claim(session=session, uid=reg.uid, examiner=examiner)
        if clear:
            examining.dispose(
                session=session,
                uid=reg.uid,
                examiner=examiner,
                number=earlier.number,
                outcome="cleared",
                note="",
            )
        decisions.determine(
            session=session,
            uid=reg.uid,
            examiner=examiner,
            outcome="registered",
            rationale="Fine.",
        )
    page = client.get(f"/filings/{earlier.uid}").get_data(as_text=True)
    assert heading in page
    section = page.split(heading)[1]
    assert later.number in section and "“Mornings”" in section
    assert cleared.number not in section  # the examiner cleared that match
    assert own_copy.number not in section  # the owner's own
    assert "My own first line" not in page  # the later filing's text is not shown
    auth.logout()
    auth.login(b)
    page = client.get(f"/filings/{later.uid}").get_data(as_text=True)
    section = page.split(heading)[1]  # c's filing, later still, copies b's text as well
    assert cleared.number in section and earlier.number not in section  # earlier came first
