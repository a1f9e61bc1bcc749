"""Triage through the services: the tier, reasons and route recorded once on the filing."""

import io

from PIL import Image

from registry.domain.risk import ReasonCode, RoutingPolicy, Tier
from registry.models import Event
from registry.services import (
    checking,
    correspondence,
    decisions,
    examining,
    filing,
    guards,
    intake,
    matching,
    queue,
    triage,
)
from registry.web.wording import risk_reason
from tests.factories import (
    declaration,
    encoded,
    make_user,
    scene,
    submit_work,
)


def _upload(img, fmt="PNG"):
    return intake.DepositUpload(file=io.BytesIO(encoded(img, fmt)))


def test_a_copy_of_someone_elses_work_is_triaged_high_and_queued(session, store):
    a, b = make_user(session, email="a@example.org"), make_user(session, email="b@example.org")
    matcher, policy = matching.Matcher(), RoutingPolicy()
    earlier = submit_work(
        session, store, a, upload=_upload(scene(41)), matcher=matcher, policy=policy
    )
    copy = submit_work(
        session,
        store,
        b,
        upload=_upload(scene(41).transpose(Image.Transpose.FLIP_LEFT_RIGHT)),
        matcher=matcher,
        policy=policy,
    )
    assert copy.risk_tier == Tier.HIGH.value and copy.route == "queue"
    assert copy.fast_track_on is None
    reasons = triage.reasons_of(copy)
    assert reasons[0].code is ReasonCode.STRONG_MATCH
    assert reasons[0].values["number"] == earlier.number
    assert risk_reason(reasons[0]).startswith(
        f"Strong match with {earlier.number}, registered earlier by"
    )
    event = session.exec(
        Event.__table__.select().where(Event.registration_id == copy.id, Event.kind == "triaged")
    ).one()
    assert event.reason.startswith("High risk")
    # the earlier one: a composite with AI parts excluded and real human input, no match: low
    assert earlier.risk_tier == Tier.LOW.value and earlier.route == "fast-track"
    assert (earlier.fast_track_on - earlier.triaged_at.date()).days == 14


def test_triage_happens_once(session, store):
    a = make_user(session)
    reg = submit_work(
        session,
        store,
        a,
        upload=_upload(scene(42)),
        matcher=matching.Matcher(),
        policy=RoutingPolicy(),
    )
    first = reg.triaged_at
    assert triage.triage(session=session, registration=reg, policy=RoutingPolicy()) is None
    pending = checking.run_pending(
        session=session, store=store, matcher=matching.Matcher(), policy=RoutingPolicy()
    )
    assert pending["Triaged"] == []
    session.refresh(reg)
    assert reg.triaged_at == first


def test_unchecked_filings_wait_for_their_report(session, store):
    a = make_user(session)
    reg = submit_work(session, store, a, declaration(digital_source_type="trainedAlgorithmicMedia"))
    policy = RoutingPolicy.parse("low=queue,elevated=queue,high=queue")
    assert triage.triage(session=session, registration=reg, policy=policy) is None
    done = checking.run_pending(
        session=session, store=store, matcher=matching.Matcher(), policy=policy
    )
    assert done["Checked"] == done["Triaged"] == [reg.number]
    session.refresh(reg)
    assert reg.risk_tier in {Tier.ELEVATED.value, Tier.HIGH.value} and reg.route == "queue"


# --------------------------------------------------------------------------- queue and claims

import pytest  # noqa: E402

from registry.domain.statuses import Status  # noqa: E402
from registry.models import Determination, MatchDisposition  # noqa: E402
from tests.factories import count  # noqa: E402


@pytest.fixture
def filed(session, store):
    """Two creators' filings, the second a copy of the first, checked and triaged; an examiner."""
    a, b = make_user(session, email="a@example.org"), make_user(session, email="b@example.org")
    matcher, policy = matching.Matcher(), RoutingPolicy()
    earlier = submit_work(
        session, store, a, upload=_upload(scene(43)), matcher=matcher, policy=policy
    )
    copy = submit_work(
        session, store, b, upload=_upload(scene(43), "WEBP"), matcher=matcher, policy=policy
    )
    examiner = make_user(session, email="examiner@example.org", role="examiner")
    return earlier, copy, examiner


def test_the_queue_ranks_by_tier_then_age_and_filters(session, filed):
    earlier, copy, examiner = filed
    ranked = [i.registration.number for i in queue.queue(session, examiner)]
    assert ranked == [copy.number, earlier.number]  # high risk first, although newer
    strong = queue.queue(session, examiner, queue.QueueFilter(strong_only=True))
    assert [i.registration.number for i in strong] == [copy.number]
    low = queue.queue(session, examiner, queue.QueueFilter(tier="low"))
    assert [i.registration.number for i in low] == [earlier.number]


def test_the_queue_is_paged_by_the_database(session, store, filed):
    """A page holds only its rows; the ranking runs across pages; the total counts them all."""
    from sqlalchemy import event

    earlier, copy, examiner = filed
    untriaged = [
        submit_work(session, store, make_user(session), upload=_upload(scene(60 + i)))
        for i in range(3)
    ]  # not checked: not triaged, so ranked after every tier, oldest first
    statements = []
    engine = session.get_bind()
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        first = queue.queue(session, examiner, page=1, per_page=2)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert [i.registration.number for i in first] == [copy.number, earlier.number]
    assert (first.total, first.has_previous, first.has_next) == (5, False, True)
    assert any("LIMIT" in s.upper() and "ORDER BY" in s.upper() for s in statements)
    second = queue.queue(session, examiner, page=2, per_page=2)
    assert [i.registration.number for i in second] == [r.number for r in untriaged[:2]]
    third = queue.queue(session, examiner, page=3, per_page=2)
    assert [i.registration.number for i in third] == [untriaged[2].number]
    assert (third.has_previous, third.has_next) == (True, False)
    mine = queue.queue(session, examiner, queue.QueueFilter(tier="high"), per_page=1)
    assert [i.registration.number for i in mine] == [copy.number] and mine.total == 1


def test_claiming_starts_examination_and_keeps_others_out(session, filed):
    _earlier, copy, examiner = filed
    other = make_user(session, email="second-examiner@example.org", role="examiner")
    reg = examining.claim(session=session, uid=copy.uid, examiner=examiner)
    assert reg.status == Status.UNDER_EXAMINATION.value and reg.examiner_id == examiner.id
    with pytest.raises(guards.ExaminationError, match="Another examiner"):
        examining.claim(session=session, uid=copy.uid, examiner=other)
    examining.release(session=session, uid=copy.uid, examiner=examiner)
    assert examining.claim(session=session, uid=copy.uid, examiner=other).examiner_id == other.id


def test_nobody_examines_their_own_filing_and_creators_examine_nothing(session, store, filed):
    earlier, copy, _examiner = filed
    staff_filer = make_user(session, email="staff@example.org", role="examiner")
    own = submit_work(session, store, staff_filer, upload=_upload(scene(44)))
    with pytest.raises(guards.ExaminationError, match="your own filing"):
        examining.claim(session=session, uid=own.uid, examiner=staff_filer)
    creator = session.get(type(staff_filer), earlier.owner_id)
    with pytest.raises(guards.ExaminationError, match="Only examiners"):
        examining.claim(session=session, uid=copy.uid, examiner=creator)


def test_dispositions_are_added_never_edited(session, filed):
    earlier, copy, examiner = filed
    with pytest.raises(guards.ExaminationError, match="Claim this filing first"):
        examining.dispose(
            session=session,
            uid=copy.uid,
            examiner=examiner,
            number=earlier.number,
            outcome="noted",
            note="x",
        )
    examining.claim(session=session, uid=copy.uid, examiner=examiner)
    with pytest.raises(guards.ExaminationError, match="note"):
        examining.dispose(
            session=session,
            uid=copy.uid,
            examiner=examiner,
            number=earlier.number,
            outcome="disputed",
            note=" ",
        )
    with pytest.raises(guards.ExaminationError, match="not among"):
        examining.dispose(
            session=session,
            uid=copy.uid,
            examiner=examiner,
            number="AIR-2026-999999",
            outcome="cleared",
            note="",
        )
    examining.dispose(
        session=session,
        uid=copy.uid,
        examiner=examiner,
        number=earlier.number,
        outcome="noted",
        note="Same photographer?",
    )
    examining.dispose(
        session=session,
        uid=copy.uid,
        examiner=examiner,
        number=earlier.number,
        outcome="disputed",
        note="Different owner, same picture.",
    )
    current = decisions.dispositions(session, copy)
    assert current[earlier.number].outcome == "disputed"
    assert count(session, MatchDisposition) == 2


@pytest.mark.parametrize(
    "outcome, extra, status",
    [
        ("registered", {}, Status.REGISTERED),
        (
            "registered_with_limitation",
            {"limitation": "The sky, generated by a model."},
            Status.REGISTERED_WITH_LIMITATION,
        ),
        ("refused", {"reason_code": "no_human_authorship"}, Status.REFUSED),
    ],
)
def test_each_determination_records_its_rationale(session, filed, outcome, extra, status):
    _earlier, copy, examiner = filed
    examining.claim(session=session, uid=copy.uid, examiner=examiner)
    reg = decisions.determine(
        session=session,
        uid=copy.uid,
        examiner=examiner,
        outcome=outcome,
        rationale="Because of what the file shows.",
        **extra,
    )
    assert reg.status == status.value and reg.examiner_id is None
    det = decisions.latest_determination(session, reg)
    assert det.rationale == "Because of what the file shows." and det.outcome == status.value
    assert det.limitation == extra.get("limitation", "")


def test_a_refusal_for_prior_work_names_one_of_the_matches(session, filed):
    earlier, copy, examiner = filed
    examining.claim(session=session, uid=copy.uid, examiner=examiner)
    with pytest.raises(guards.ExaminationError, match="Name the earlier registration"):
        decisions.determine(
            session=session,
            uid=copy.uid,
            examiner=examiner,
            outcome="refused",
            reason_code="prior_work",
            rationale="Copied.",
            prior_number="AIR-2026-999999",
        )
    reg = decisions.determine(
        session=session,
        uid=copy.uid,
        examiner=examiner,
        outcome="refused",
        reason_code="prior_work",
        rationale="Copied.",
        prior_number=earlier.number.lower(),
    )
    assert decisions.latest_determination(session, reg).prior_number == earlier.number


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"outcome": "registered", "rationale": " "}, "rationale"),
        ({"outcome": "registered_with_limitation", "rationale": "r"}, "which material"),
        ({"outcome": "refused", "rationale": "r"}, "reason for the refusal"),
        ({"outcome": "approved", "rationale": "r"}, "Choose a determination"),
    ],
)
def test_incomplete_determinations_are_refused_and_change_nothing(session, filed, kwargs, message):
    _earlier, copy, examiner = filed
    examining.claim(session=session, uid=copy.uid, examiner=examiner)
    with pytest.raises(guards.ExaminationError, match=message):
        decisions.determine(session=session, uid=copy.uid, examiner=examiner, **kwargs)
    session.refresh(copy)
    assert copy.status == Status.UNDER_EXAMINATION.value and count(session, Determination) == 0


def test_a_determined_filing_cannot_be_determined_again(session, filed):
    _earlier, copy, examiner = filed
    examining.claim(session=session, uid=copy.uid, examiner=examiner)
    decisions.determine(
        session=session, uid=copy.uid, examiner=examiner, outcome="registered", rationale="Fine."
    )
    with pytest.raises(guards.ExaminationError):
        examining.claim(session=session, uid=copy.uid, examiner=examiner)


# --------------------------------------------------------------------------- correspondence

from datetime import date  # noqa: E402

from registry.models import Notification, User  # noqa: E402


def _creator_of(session, reg):
    return session.get(User, reg.owner_id)


def test_a_request_waits_on_the_creator_until_answered(session, filed):
    _earlier, copy, examiner = filed
    examining.claim(session=session, uid=copy.uid, examiner=examiner)
    reg = correspondence.request_information(
        session=session,
        uid=copy.uid,
        examiner=examiner,
        question="Where did the picture come from?",
        today=date(2026, 11, 1),
    )
    assert reg.status == Status.CORRESPONDENCE.value
    [letter] = correspondence.letters(session, reg)
    assert letter.deadline == date(2026, 12, 16)  # 45 days by default
    creator = _creator_of(session, copy)
    reg = correspondence.reply(
        session=session, uid=copy.uid, creator=creator, body="I took it myself."
    )
    assert reg.status == Status.UNDER_EXAMINATION.value and reg.examiner_id == examiner.id
    assert [x.kind for x in correspondence.letters(session, reg)] == ["request", "reply"]
    with pytest.raises(guards.ExaminationError, match="not waiting"):
        correspondence.reply(session=session, uid=copy.uid, creator=creator, body="Again.")


def test_only_the_owner_replies(session, filed):
    earlier, copy, examiner = filed
    examining.claim(session=session, uid=copy.uid, examiner=examiner)
    correspondence.request_information(
        session=session, uid=copy.uid, examiner=examiner, question="Source?"
    )
    with pytest.raises(LookupError):
        correspondence.reply(
            session=session,
            uid=copy.uid,
            creator=_creator_of(session, earlier),
            body="Not mine to answer.",
        )


def test_a_missed_deadline_closes_the_filing_and_it_can_be_reopened(session, filed):
    _earlier, copy, examiner = filed
    examining.claim(session=session, uid=copy.uid, examiner=examiner)
    correspondence.request_information(
        session=session,
        uid=copy.uid,
        examiner=examiner,
        question="Source?",
        days=10,
        today=date(2026, 11, 1),
    )
    assert correspondence.close_overdue(session=session, today=date(2026, 11, 11)) == []
    assert correspondence.close_overdue(session=session, today=date(2026, 11, 12)) == [copy.number]
    session.refresh(copy)
    assert copy.status == Status.CLOSED_NO_RESPONSE.value
    assert correspondence.close_overdue(session=session, today=date(2026, 12, 1)) == []
    reg = examining.reopen(session=session, uid=copy.uid, examiner=examiner)
    assert reg.status == Status.UNDER_EXAMINATION.value


def _refuse(session, reg, examiner):
    examining.claim(session=session, uid=reg.uid, examiner=examiner)
    return decisions.determine(
        session=session,
        uid=reg.uid,
        examiner=examiner,
        outcome="refused",
        reason_code="no_human_authorship",
        rationale="Prompts only.",
    )


def test_reconsideration_twice_then_final_and_by_a_different_examiner(session, filed):
    _earlier, copy, examiner = filed
    second = make_user(session, email="second-examiner@example.org", role="examiner")
    creator = _creator_of(session, copy)
    _refuse(session, copy, examiner)
    reg = correspondence.request_reconsideration(
        session=session, uid=copy.uid, creator=creator, argument="I painted over it."
    )
    assert reg.status == Status.RECONSIDERATION.value and reg.examiner_id is None
    with pytest.raises(guards.ExaminationError, match="different examiner"):
        examining.claim(session=session, uid=copy.uid, examiner=examiner)
    _refuse(session, copy, second)
    correspondence.request_reconsideration(
        session=session, uid=copy.uid, creator=creator, argument="Second try."
    )
    third = make_user(session, email="third-examiner@example.org", role="examiner")
    _refuse(session, copy, third)
    with pytest.raises(guards.ExaminationError, match="final"):
        correspondence.request_reconsideration(
            session=session, uid=copy.uid, creator=creator, argument="Third try."
        )


def test_the_only_examiner_may_reconsider_their_own_decision(session, filed):
    _earlier, copy, examiner = filed
    _refuse(session, copy, examiner)
    correspondence.request_reconsideration(
        session=session, uid=copy.uid, creator=_creator_of(session, copy), argument="Please."
    )
    assert examining.claim(session=session, uid=copy.uid, examiner=examiner).examiner_id


def test_a_registration_can_be_cancelled_with_a_reason(session, filed):
    earlier, _copy, examiner = filed
    with pytest.raises(guards.ExaminationError, match="cannot become"):
        examining.cancel(session=session, uid=earlier.uid, examiner=examiner, reason="x")
    examining.claim(session=session, uid=earlier.uid, examiner=examiner)
    decisions.determine(
        session=session, uid=earlier.uid, examiner=examiner, outcome="registered", rationale="Fine."
    )
    with pytest.raises(guards.ExaminationError, match="reason"):
        examining.cancel(session=session, uid=earlier.uid, examiner=examiner, reason=" ")
    reg = examining.cancel(
        session=session,
        uid=earlier.uid,
        examiner=examiner,
        reason="The AI material was not disclosed.",
    )
    assert reg.status == Status.CANCELLED.value


def test_the_earlier_registrant_is_told_of_a_strong_match_once_determined(session, filed):
    earlier, copy, examiner = filed
    owner = _creator_of(session, earlier)
    examining.claim(session=session, uid=copy.uid, examiner=examiner)
    assert decisions.notifications(session, owner) == []
    decisions.determine(
        session=session,
        uid=copy.uid,
        examiner=examiner,
        outcome="refused",
        reason_code="prior_work",
        prior_number=earlier.number,
        rationale="Copied.",
    )
    [note] = decisions.notifications(session, owner)
    assert note.registration_id == copy.id
    assert earlier.number in note.message and copy.number in note.message
    assert "refused" in note.message
    assert decisions.notifications(session, _creator_of(session, copy)) == []


def test_no_notice_for_a_match_the_examiner_cleared(session, filed):
    earlier, copy, examiner = filed
    examining.claim(session=session, uid=copy.uid, examiner=examiner)
    examining.dispose(
        session=session,
        uid=copy.uid,
        examiner=examiner,
        number=earlier.number,
        outcome="cleared",
        note="",
    )
    decisions.determine(
        session=session,
        uid=copy.uid,
        examiner=examiner,
        outcome="registered",
        rationale="Not a copy.",
    )
    assert count(session, Notification) == 0


def test_amending_needs_correspondence_and_a_change(session, filed):
    from dataclasses import replace as dc_replace

    from registry.models import DeclarationVersion

    _earlier, copy, examiner = filed
    creator = _creator_of(session, copy)
    decl = filing.declaration_of(copy)
    with pytest.raises(intake.FilingRejected, match="only while the examiner"):
        filing.amend(session=session, owner=creator, uid=copy.uid, declaration=decl)
    examining.claim(session=session, uid=copy.uid, examiner=examiner)
    correspondence.request_information(
        session=session, uid=copy.uid, examiner=examiner, question="Which parts are AI?"
    )
    with pytest.raises(intake.FilingRejected, match="Nothing was changed"):
        filing.amend(session=session, owner=creator, uid=copy.uid, declaration=decl)
    reg = filing.amend(
        session=session,
        owner=creator,
        uid=copy.uid,
        declaration=dc_replace(decl, new_material="Painting and arrangement"),
    )
    assert reg.new_material == "Painting and arrangement"
    [version] = session.exec(DeclarationVersion.__table__.select()).all()
    assert '"new_material": "Painting"' in version.body
    with pytest.raises(filing.FilingNotFound):
        filing.amend(
            session=session, owner=_creator_of(session, _earlier), uid=copy.uid, declaration=decl
        )


def test_a_failed_originality_check_does_not_hold_up_the_provenance_reading(
    session, store, monkeypatch, caplog
):
    """``registry check``: a step that fails stays pending; the filing's independent steps
    still run, a step whose input is missing does nothing (and is not reported as done), and
    the step is done once it succeeds."""
    from registry.services import provenance

    a = make_user(session)
    reg = submit_work(session, store, a)
    policy = RoutingPolicy()
    real_check = matching.check

    def broken(**kwargs):
        raise RuntimeError("the engine failed on this deposit")

    monkeypatch.setattr(matching, "check", broken)
    done = checking.run_pending(
        session=session, store=store, matcher=matching.Matcher(), policy=policy
    )
    assert done == {"Checked": [], "Read the provenance of": [reg.number], "Triaged": []}
    assert "Checked of" in caplog.text and "stays pending" in caplog.text
    assert provenance.get_report(session, reg) is not None
    session.refresh(reg)
    assert reg.triaged_at is None
    monkeypatch.setattr(matching, "check", real_check)
    done = checking.run_pending(
        session=session, store=store, matcher=matching.Matcher(), policy=policy
    )
    assert done == {"Checked": [reg.number], "Read the provenance of": [], "Triaged": [reg.number]}
