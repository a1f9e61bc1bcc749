"""The examiner's workspace through the web: who may use it, and a filing's life in it."""

import io

import pytest

from registry.domain.statuses import Status
from registry.models import Registration
from registry.services import filing, intake
from tests.conftest import csrf_token
from tests.factories import encoded, make_user, scene, submit_work


@pytest.fixture
def case(app, session, store):
    """An earlier filing, a copy of it by another creator (checked, triaged), and an examiner."""
    ext = app.extensions["registry"]
    policy = app.extensions["registry"].settings.routing_policy
    a = make_user(session, email="first@example.org")
    b = make_user(session, email="second@example.org")

    def upload(fmt):
        return intake.DepositUpload(file=io.BytesIO(encoded(scene(51), fmt)))

    earlier = submit_work(
        session, store, a, upload=upload("PNG"), matcher=ext.matcher, policy=policy
    )
    copy = submit_work(session, store, b, upload=upload("WEBP"), matcher=ext.matcher, policy=policy)
    examiner = make_user(session, email="examiner@example.org", role="examiner")
    return earlier, copy, examiner, b


def status(session, reg) -> str:
    """The filing's status as committed by the app (the test session's copy is refreshed)."""
    session.rollback()
    session.expire_all()
    return session.get(Registration, reg.id).status


def _routes(copy, earlier):
    base = f"/examine/{copy.uid}"
    return [
        ("GET", "/examine/", None),
        ("GET", base, None),
        ("POST", f"{base}/claim", {}),
        ("POST", f"{base}/release", {}),
        ("POST", f"{base}/matches/{earlier.number}/disposition", {"outcome": "noted", "note": "n"}),
        ("POST", f"{base}/determination", {"outcome": "registered", "rationale": "r"}),
        ("POST", f"{base}/request", {"question": "q", "days": "45"}),
        ("POST", f"{base}/reopen", {}),
        ("POST", f"{base}/cancel", {"reason": "r"}),
        ("POST", f"{base}/assign", {"examiner_id": "1"}),
    ]


@pytest.mark.parametrize("who", ["anonymous", "creator", "examiner", "admin"])
def test_every_examination_route_is_for_examiners_only(client, auth, session, case, who):
    earlier, copy, examiner, creator = case
    if who == "creator":
        auth.login(creator)
    elif who == "examiner":
        auth.login(examiner)
    elif who == "admin":
        auth.login(make_user(session, email="admin@example.org", role="admin"))
    token = csrf_token(client, "/") if who != "anonymous" else None
    for method, url, data in _routes(copy, earlier):
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={**data, "csrf_token": token or ""})
        if who == "anonymous":
            assert response.status_code in (302, 400), url  # to sign-in (or CSRF refused)
            if response.status_code == 302:
                assert "/account/signin" in response.headers["Location"], url
        elif who == "creator":
            assert response.status_code == 403, url
        else:
            assert response.status_code in (200, 302), url


def test_a_filing_examined_from_queue_to_determination(client, auth, session, case):
    earlier, copy, examiner, creator = case
    auth.login(examiner)
    queue = client.get("/examine/").get_data(as_text=True)
    assert queue.index(copy.number) < queue.index(earlier.number)  # high risk first
    assert "High risk" in queue and "strong" in queue
    token = csrf_token(client, f"/examine/{copy.uid}")
    page = client.get(f"/examine/{copy.uid}").get_data(as_text=True)
    assert "Claim this filing" in page and "Triage" in page
    assert f"/filings/{copy.uid}/matches/{earlier.number}/thumbnail" in page  # both images

    # not claimed yet: a determination is refused and nothing changes
    response = client.post(
        f"/examine/{copy.uid}/determination",
        data={"outcome": "registered", "rationale": "x", "csrf_token": token},
        follow_redirects=True,
    )
    assert "Claim this filing first" in response.get_data(as_text=True)
    assert status(session, copy) == Status.SUBMITTED.value

    claimed = client.post(
        f"/examine/{copy.uid}/claim", data={"csrf_token": token}, follow_redirects=True
    )
    assert "You have claimed this filing." in claimed.get_data(as_text=True)
    assert status(session, copy) == Status.UNDER_EXAMINATION.value
    client.post(
        f"/examine/{copy.uid}/matches/{earlier.number}/disposition",
        data={"outcome": "disputed", "note": "Same picture, other owner.", "csrf_token": token},
    )
    response = client.post(
        f"/examine/{copy.uid}/determination",
        data={
            "outcome": "refused",
            "reason_code": "prior_work",
            "prior_number": earlier.number,
            "rationale": "The deposit is the picture of the earlier registration.",
            "csrf_token": token,
        },
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Determination recorded" in page and "Referred as a dispute" in page
    assert status(session, copy) == Status.REFUSED.value

    # the creator reads the determination and its rationale; the public sees the status
    auth.logout()
    auth.login(creator)
    mine = client.get(f"/filings/{copy.uid}").get_data(as_text=True)
    assert "The deposit is the picture of the earlier registration." in mine and "Refused" in mine
    assert "Same picture, other owner." not in mine  # the examiner's notes stay internal
    auth.logout()
    public = client.get(f"/registrations/{copy.number}").get_data(as_text=True)
    assert "Refused" in public and "picture of the earlier registration" not in public


def test_a_limitation_is_shown_on_the_public_record(client, auth, session, case):
    _earlier, copy, examiner, _creator = case
    auth.login(examiner)
    token = csrf_token(client, f"/examine/{copy.uid}")
    client.post(f"/examine/{copy.uid}/claim", data={"csrf_token": token})
    client.post(
        f"/examine/{copy.uid}/determination",
        data={
            "outcome": "registered_with_limitation",
            "limitation": "The background, generated by a model.",
            "rationale": "The foreground is by the creator.",
            "csrf_token": token,
        },
    )
    auth.logout()
    public = client.get(f"/registrations/{copy.number}").get_data(as_text=True)
    assert "Registered with limitation" in public
    assert "Excluded from the claim: The background, generated by a model." in public
    assert "The foreground is by the creator." not in public


def test_an_examiner_cannot_examine_their_own_filing(client, auth, session, store, case):
    _earlier, _copy, examiner, _creator = case
    own = submit_work(session, store, examiner)
    auth.login(examiner)
    page = client.get(f"/examine/{own.uid}").get_data(as_text=True)
    assert "This is your own filing" in page and "Claim this filing" not in page
    token = csrf_token(client, f"/examine/{own.uid}")
    response = client.post(
        f"/examine/{own.uid}/claim", data={"csrf_token": token}, follow_redirects=True
    )
    assert "You cannot examine your own filing" in response.get_data(as_text=True)


def test_correspondence_reconsideration_and_notices_through_the_web(
    client, auth, session, case, runner
):
    earlier, copy, examiner, creator = case
    auth.login(examiner)
    token = csrf_token(client, f"/examine/{copy.uid}")
    client.post(f"/examine/{copy.uid}/claim", data={"csrf_token": token})
    client.post(
        f"/examine/{copy.uid}/request",
        data={"question": "Where does the picture come from?", "days": "30", "csrf_token": token},
    )
    assert status(session, copy) == Status.CORRESPONDENCE.value
    auth.logout()

    # the creator reads the question and answers it
    auth.login(creator)
    page = client.get(f"/filings/{copy.uid}").get_data(as_text=True)
    assert "Where does the picture come from?" in page and "Answer the examiner" in page
    token = csrf_token(client, f"/filings/{copy.uid}")
    response = client.post(
        f"/filings/{copy.uid}/reply",
        data={"body": "From my own camera.", "csrf_token": token},
        follow_redirects=True,
    )
    assert "Your answer has been sent" in response.get_data(as_text=True)
    assert status(session, copy) == Status.UNDER_EXAMINATION.value
    auth.logout()

    # refused; the earlier registrant is told; the creator asks for reconsideration
    auth.login(examiner)
    token = csrf_token(client, f"/examine/{copy.uid}")
    client.post(
        f"/examine/{copy.uid}/determination",
        data={
            "outcome": "refused",
            "reason_code": "prior_work",
            "prior_number": earlier.number,
            "rationale": "Copied.",
            "csrf_token": token,
        },
    )
    auth.logout()
    auth.login(session.get(type(creator), earlier.owner_id))
    dashboard = client.get("/filings/").get_data(as_text=True)
    assert "Notices" in dashboard and f"{copy.number}" in dashboard
    assert f"strongly matches your registration {earlier.number}" in dashboard
    auth.logout()
    auth.login(creator)
    token = csrf_token(client, f"/filings/{copy.uid}")
    page = client.get(f"/filings/{copy.uid}").get_data(as_text=True)
    assert "this would be the first request" in page
    client.post(
        f"/filings/{copy.uid}/reconsideration",
        data={"argument": "I can show the raw files.", "csrf_token": token},
    )
    assert status(session, copy) == Status.RECONSIDERATION.value


def test_another_creator_cannot_reply_or_ask_for_reconsideration(client, auth, session, case):
    earlier, copy, examiner, _creator = case
    auth.login(session.get(type(examiner), earlier.owner_id))
    token = csrf_token(client, "/")
    assert (
        client.post(
            f"/filings/{copy.uid}/reply", data={"body": "x", "csrf_token": token}
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/filings/{copy.uid}/reconsideration", data={"argument": "x", "csrf_token": token}
        ).status_code
        == 404
    )


def test_close_overdue_command(runner, session, case):
    from datetime import date

    from registry.services import correspondence, examining

    _earlier, copy, examiner, _creator = case
    examining.claim(session=session, uid=copy.uid, examiner=examiner)
    correspondence.request_information(
        session=session,
        uid=copy.uid,
        examiner=examiner,
        question="Source?",
        days=1,
        today=date(2026, 1, 1),
    )
    result = runner.invoke(args=["registry", "close-overdue"])
    assert result.exit_code == 0 and f"Closed 1 filing(s): {copy.number}." in result.output
    assert status(session, copy) == Status.CLOSED_NO_RESPONSE.value


@pytest.mark.parametrize(
    "url, data, message",
    [
        ("determination", {"outcome": "registered", "rationale": "r"}, "Claim this filing first"),
        ("reopen", {}, "Only a filing closed for no response can be reopened"),
        ("cancel", {"reason": "r"}, "cannot become “Cancelled”"),
        ("request", {"question": "q"}, "Claim this filing first"),
        ("release", {}, "You have not claimed this filing"),
    ],
)
def test_illegal_steps_are_refused_with_a_reason_and_change_nothing(
    client, auth, session, case, url, data, message
):
    _earlier, copy, examiner, _creator = case
    auth.login(examiner)
    token = csrf_token(client, f"/examine/{copy.uid}")
    response = client.post(
        f"/examine/{copy.uid}/{url}", data={**data, "csrf_token": token}, follow_redirects=True
    )
    assert message in response.get_data(as_text=True)
    assert status(session, copy) == Status.SUBMITTED.value


def test_a_determined_filing_refuses_a_second_determination(client, auth, session, case):
    _earlier, copy, examiner, _creator = case
    auth.login(examiner)
    token = csrf_token(client, f"/examine/{copy.uid}")
    client.post(f"/examine/{copy.uid}/claim", data={"csrf_token": token})
    client.post(
        f"/examine/{copy.uid}/determination",
        data={"outcome": "registered", "rationale": "Fine.", "csrf_token": token},
    )
    response = client.post(
        f"/examine/{copy.uid}/claim", data={"csrf_token": token}, follow_redirects=True
    )
    assert "not awaiting examination" in response.get_data(as_text=True)
    assert status(session, copy) == Status.REGISTERED.value


def test_fast_track_registers_unclaimed_low_risk_filings_when_due(runner, session, case):
    from datetime import timedelta

    from registry.services import decisions

    earlier, copy, examiner, _creator = case  # earlier: low risk, fast track; copy: high, queue
    assert earlier.route == "fast-track" and copy.route == "queue"
    assert (
        decisions.fast_track_due(session=session, today=earlier.fast_track_on - timedelta(days=1))
        == []
    )
    assert decisions.fast_track_due(session=session, today=earlier.fast_track_on) == [
        earlier.number
    ]
    assert status(session, earlier) == Status.REGISTERED.value
    det = decisions.latest_determination(session, earlier)
    assert det.examiner_id is None and "fast track" in det.rationale
    result = runner.invoke(args=["registry", "fast-track"])
    assert result.exit_code == 0 and "Registered 0 filing(s)." in result.output


def test_a_claimed_filing_leaves_the_fast_track(session, case):
    from registry.services import decisions, examining

    earlier, _copy, examiner, _creator = case
    due = earlier.fast_track_on
    assert due is not None
    examining.claim(session=session, uid=earlier.uid, examiner=examiner)
    assert decisions.fast_track_due(session=session, today=due) == []
    assert status(session, earlier) == Status.UNDER_EXAMINATION.value


def test_a_supplementary_registration_gets_its_own_number_and_links_both_ways(
    client, auth, session, store, case
):
    from registry.services import decisions, examining
    from tests.factories import declaration

    earlier, _copy, examiner, _creator = case
    owner = session.get(type(examiner), earlier.owner_id)
    auth.login(owner)
    token = csrf_token(client, f"/filings/{earlier.uid}")
    # not registered yet: refused with the reason
    response = client.post(
        f"/filings/{earlier.uid}/supplementary", data={"csrf_token": token}, follow_redirects=True
    )
    assert "Only a registered work" in response.get_data(as_text=True)
    examining.claim(session=session, uid=earlier.uid, examiner=examiner)
    decisions.determine(
        session=session, uid=earlier.uid, examiner=examiner, outcome="registered", rationale="Fine."
    )
    response = client.post(f"/filings/{earlier.uid}/supplementary", data={"csrf_token": token})
    assert response.status_code == 302 and "/edit" in response.headers["Location"]
    draft_uid = response.headers["Location"].split("/")[-2]
    session.rollback()
    session.expire_all()
    draft = session.exec(Registration.__table__.select().where(Registration.uid == draft_uid)).one()
    assert draft.supplements_id == earlier.id and draft.deposit_sha256 == earlier.deposit_sha256
    assert draft.attested_at is None and draft.status == "draft"
    # the creator corrects the declaration and submits it: a number of its own
    sup = submit_work(
        session,
        store,
        owner,
        declaration(title="Harbour at Dawn (corrected)"),
        upload=intake.DepositUpload(),
        uid=draft_uid,
    )
    assert sup.number and sup.number != earlier.number
    assert status(session, earlier) == Status.REGISTERED.value
    page = client.get(f"/filings/{earlier.uid}").get_data(as_text=True)
    assert f'Supplemented by <a href="/registrations/{sup.number}">{sup.number}</a>' in page
    public = client.get(f"/registrations/{sup.number}").get_data(as_text=True)
    assert "Supplements" in public and earlier.number in public
    # another creator cannot start one from this registration
    auth.logout()
    auth.login(session.get(type(examiner), _copy.owner_id))
    token = csrf_token(client, "/")
    assert (
        client.post(f"/filings/{earlier.uid}/supplementary", data={"csrf_token": token}).status_code
        == 404
    )


def test_the_creator_may_amend_the_declaration_while_the_examiner_waits(
    client, auth, session, case
):
    from registry.models import DeclarationVersion
    from registry.services import correspondence, examining
    from tests.factories import count
    from tests.web.forms import form_fields

    _earlier, copy, examiner, creator = case
    auth.login(creator)
    # not while submitted: the form is closed
    response = client.get(f"/filings/{copy.uid}/edit")
    assert response.status_code == 302
    examining.claim(session=session, uid=copy.uid, examiner=examiner)
    correspondence.request_information(
        session=session, uid=copy.uid, examiner=examiner, question="Which parts are AI-generated?"
    )
    page = client.get(f"/filings/{copy.uid}/edit").get_data(as_text=True)
    assert f"Amending the declaration of {copy.number}" in page
    assert "Save the amended declaration" in page and 'name="deposit_file"' not in page
    data = form_fields(filing.declaration_of(session.get(Registration, copy.id)))
    data["csrf_token"] = csrf_token(client, f"/filings/{copy.uid}/edit")
    data["ai_material"] = "The water reflections, generated and then repainted."
    data["action"] = "amend"
    response = client.post(f"/filings/{copy.uid}/edit", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert count(session, DeclarationVersion) == 1
    session.expire_all()
    reg = session.get(Registration, copy.id)
    assert reg.ai_material == "The water reflections, generated and then repainted."
    assert reg.status == Status.CORRESPONDENCE.value  # still waiting for the answer
    # a bad amendment changes nothing and says why
    data["title"] = ""
    response = client.post(f"/filings/{copy.uid}/edit", data=data)
    assert response.status_code == 422 and count(session, DeclarationVersion) == 1
    auth.logout()
    auth.login(examiner)
    review = client.get(f"/examine/{copy.uid}").get_data(as_text=True)
    assert "Declaration amended: ai material" in review


def test_an_administrator_assigns_a_filing_to_an_examiner(client, auth, session, case):
    _earlier, copy, examiner, _creator = case
    admin = make_user(session, email="admin@example.org", role="admin")
    auth.login(examiner)
    token = csrf_token(client, f"/examine/{copy.uid}")
    response = client.post(
        f"/examine/{copy.uid}/assign",
        data={"examiner_id": str(examiner.id), "csrf_token": token},
        follow_redirects=True,
    )
    assert "Only an administrator assigns filings" in response.get_data(as_text=True)
    auth.logout()
    auth.login(admin)
    page = client.get(f"/examine/{copy.uid}").get_data(as_text=True)
    assert "Assign" in page
    token = csrf_token(client, f"/examine/{copy.uid}")
    response = client.post(
        f"/examine/{copy.uid}/assign",
        data={"examiner_id": str(copy.owner_id), "csrf_token": token},
        follow_redirects=True,
    )
    assert "Choose an examiner" in response.get_data(as_text=True)  # a creator is no examiner
    client.post(
        f"/examine/{copy.uid}/assign", data={"examiner_id": str(examiner.id), "csrf_token": token}
    )
    assert status(session, copy) == Status.UNDER_EXAMINATION.value
    session.expire_all()
    assert session.get(Registration, copy.id).examiner_id == examiner.id


def test_reconsidered_then_registered_then_cancelled_through_the_web(client, auth, session, case):
    from registry.services import correspondence, decisions, examining

    _earlier, copy, examiner, creator = case
    second = make_user(session, email="second-examiner@example.org", role="examiner")
    examining.claim(session=session, uid=copy.uid, examiner=examiner)
    decisions.determine(
        session=session,
        uid=copy.uid,
        examiner=examiner,
        outcome="refused",
        reason_code="disclosure_declined",
        rationale="Declined to exclude.",
    )
    correspondence.request_reconsideration(
        session=session, uid=copy.uid, creator=creator, argument="I now exclude the sky."
    )
    auth.login(examiner)
    page = client.get(f"/examine/{copy.uid}").get_data(as_text=True)
    assert "Claim this filing</button>" not in page  # the page and the step ask one rule
    token = csrf_token(client, f"/examine/{copy.uid}")
    response = client.post(
        f"/examine/{copy.uid}/claim", data={"csrf_token": token}, follow_redirects=True
    )
    assert "a different examiner reconsiders it" in response.get_data(as_text=True)
    auth.logout()
    auth.login(second)
    token = csrf_token(client, f"/examine/{copy.uid}")
    page = client.get(f"/examine/{copy.uid}").get_data(as_text=True)
    assert "I now exclude the sky." in page  # the creator's argument, in the correspondence
    client.post(f"/examine/{copy.uid}/claim", data={"csrf_token": token})
    client.post(
        f"/examine/{copy.uid}/determination",
        data={
            "outcome": "registered_with_limitation",
            "limitation": "The sky.",
            "rationale": "The sky is now excluded.",
            "csrf_token": token,
        },
    )
    assert status(session, copy) == Status.REGISTERED_WITH_LIMITATION.value
    response = client.post(
        f"/examine/{copy.uid}/cancel",
        data={"reason": "The deposit is a copy after all.", "csrf_token": token},
        follow_redirects=True,
    )
    assert "Registration cancelled." in response.get_data(as_text=True)
    assert status(session, copy) == Status.CANCELLED.value
    auth.logout()
    assert "Cancelled" in client.get(f"/registrations/{copy.number}").get_data(as_text=True)


def test_the_queue_page_is_paged_with_previous_and_next(client, auth, case, monkeypatch):
    from registry.services import queue

    earlier, copy, examiner, _creator = case
    monkeypatch.setattr(queue, "PAGE_SIZE", 1)
    auth.login(examiner)
    first = client.get("/examine/?strong=&page=1").get_data(as_text=True)
    assert "2 filings" in first and copy.title in first
    assert 'rel="next"' in first and 'rel="prev"' not in first and "Page 1 of 2" in first
    second = client.get("/examine/?page=2").get_data(as_text=True)
    assert 'rel="prev"' in second and 'rel="next"' not in second
    assert f"/examine/{earlier.uid}" in second and f"/examine/{copy.uid}" not in second
    assert client.get("/examine/?page=x").status_code == 200  # not a number: the first page


def test_the_examiner_who_waited_reopens_a_filing_closed_for_no_response(
    client, auth, session, case
):
    """A filing closed for no response keeps the examiner who asked: their review page offers
    Reopen (the page and the service ask the same rule), and another examiner's does not."""
    from datetime import date

    from registry.services import correspondence, examining

    _earlier, copy, examiner, _creator = case
    other = make_user(session, email="other-examiner@example.org", role="examiner")
    examining.claim(session=session, uid=copy.uid, examiner=examiner)
    correspondence.request_information(
        session=session,
        uid=copy.uid,
        examiner=examiner,
        question="Source?",
        days=1,
        today=date(2026, 1, 1),
    )
    assert correspondence.close_overdue(session=session, today=date(2026, 1, 3)) == [copy.number]
    auth.login(other)
    page = client.get(f"/examine/{copy.uid}").get_data(as_text=True)
    assert ">Reopen</button>" not in page
    token = csrf_token(client, f"/examine/{copy.uid}")
    refused = client.post(
        f"/examine/{copy.uid}/reopen", data={"csrf_token": token}, follow_redirects=True
    )
    assert "Another examiner has claimed this filing" in refused.get_data(as_text=True)
    assert status(session, copy) == Status.CLOSED_NO_RESPONSE.value
    auth.logout()
    auth.login(examiner)
    page = client.get(f"/examine/{copy.uid}").get_data(as_text=True)
    assert ">Reopen</button>" in page
    token = csrf_token(client, f"/examine/{copy.uid}")
    client.post(f"/examine/{copy.uid}/reopen", data={"csrf_token": token})
    assert status(session, copy) == Status.UNDER_EXAMINATION.value


def test_the_queue_takes_any_page_number_without_an_error(client, auth, session, case):
    _earlier, _copy, examiner, _creator = case
    auth.login(examiner)
    for page in ("²", "99999999999999999999999", "0", "x"):
        assert client.get(f"/examine/?page={page}").status_code == 200, page
    assert client.get("/log?page=²").status_code == 200
