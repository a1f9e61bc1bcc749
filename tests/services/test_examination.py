"""Triage through the services: the tier, reasons and route recorded once on the filing."""

import io

from PIL import Image

from registry.domain.risk import RoutingPolicy, Tier
from registry.models import Event
from registry.services import examination, filing, matching
from tests.factories import (
    declaration,
    encoded,
    make_user,
    scene,
    submit_work,
)


def _upload(img, fmt="PNG"):
    return filing.DepositUpload(file=io.BytesIO(encoded(img, fmt)))


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
    reasons = examination.reasons_of(copy)
    assert reasons[0].startswith(f"Strong match with {earlier.number}, registered earlier by")
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
    assert examination.triage(session=session, registration=reg, policy=RoutingPolicy()) is None
    assert examination.triage_pending(session=session, policy=RoutingPolicy()) == []
    session.refresh(reg)
    assert reg.triaged_at == first


def test_unchecked_filings_wait_for_their_report(session, store):
    a = make_user(session)
    reg = submit_work(session, store, a, declaration(digital_source_type="trainedAlgorithmicMedia"))
    policy = RoutingPolicy.parse("low=queue,elevated=queue,high=queue")
    assert examination.triage(session=session, registration=reg, policy=policy) is None
    matching.check_pending(session=session, store=store, matcher=matching.Matcher())
    assert examination.triage_pending(session=session, policy=policy) == [reg.number]
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
    ranked = [i.registration.number for i in examination.queue(session, examiner)]
    assert ranked == [copy.number, earlier.number]  # high risk first, although newer
    strong = examination.queue(session, examiner, examination.QueueFilter(strong_only=True))
    assert [i.registration.number for i in strong] == [copy.number]
    low = examination.queue(session, examiner, examination.QueueFilter(tier="low"))
    assert [i.registration.number for i in low] == [earlier.number]


def test_claiming_starts_examination_and_keeps_others_out(session, filed):
    _earlier, copy, examiner = filed
    other = make_user(session, email="second-examiner@example.org", role="examiner")
    reg = examination.claim(session=session, uid=copy.uid, examiner=examiner)
    assert reg.status == Status.UNDER_EXAMINATION.value and reg.examiner_id == examiner.id
    with pytest.raises(examination.ExaminationError, match="Another examiner"):
        examination.claim(session=session, uid=copy.uid, examiner=other)
    examination.release(session=session, uid=copy.uid, examiner=examiner)
    assert examination.claim(session=session, uid=copy.uid, examiner=other).examiner_id == other.id


def test_nobody_examines_their_own_filing_and_creators_examine_nothing(session, store, filed):
    earlier, copy, _examiner = filed
    staff_filer = make_user(session, email="staff@example.org", role="examiner")
    own = submit_work(session, store, staff_filer, upload=_upload(scene(44)))
    with pytest.raises(examination.ExaminationError, match="your own filing"):
        examination.claim(session=session, uid=own.uid, examiner=staff_filer)
    creator = session.get(type(staff_filer), earlier.owner_id)
    with pytest.raises(examination.ExaminationError, match="Only examiners"):
        examination.claim(session=session, uid=copy.uid, examiner=creator)


def test_dispositions_are_added_never_edited(session, filed):
    earlier, copy, examiner = filed
    with pytest.raises(examination.ExaminationError, match="Claim this filing first"):
        examination.dispose(
            session=session,
            uid=copy.uid,
            examiner=examiner,
            number=earlier.number,
            outcome="noted",
            note="x",
        )
    examination.claim(session=session, uid=copy.uid, examiner=examiner)
    with pytest.raises(examination.ExaminationError, match="note"):
        examination.dispose(
            session=session,
            uid=copy.uid,
            examiner=examiner,
            number=earlier.number,
            outcome="disputed",
            note=" ",
        )
    with pytest.raises(examination.ExaminationError, match="not among"):
        examination.dispose(
            session=session,
            uid=copy.uid,
            examiner=examiner,
            number="AIR-2026-999999",
            outcome="cleared",
            note="",
        )
    examination.dispose(
        session=session,
        uid=copy.uid,
        examiner=examiner,
        number=earlier.number,
        outcome="noted",
        note="Same photographer?",
    )
    examination.dispose(
        session=session,
        uid=copy.uid,
        examiner=examiner,
        number=earlier.number,
        outcome="disputed",
        note="Different owner, same picture.",
    )
    current = examination.dispositions(session, copy)
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
    examination.claim(session=session, uid=copy.uid, examiner=examiner)
    reg = examination.determine(
        session=session,
        uid=copy.uid,
        examiner=examiner,
        outcome=outcome,
        rationale="Because of what the file shows.",
        **extra,
    )
    assert reg.status == status.value and reg.examiner_id is None
    det = examination.latest_determination(session, reg)
    assert det.rationale == "Because of what the file shows." and det.outcome == status.value
    assert det.limitation == extra.get("limitation", "")


def test_a_refusal_for_prior_work_names_one_of_the_matches(session, filed):
    earlier, copy, examiner = filed
    examination.claim(session=session, uid=copy.uid, examiner=examiner)
    with pytest.raises(examination.ExaminationError, match="Name the earlier registration"):
        examination.determine(
            session=session,
            uid=copy.uid,
            examiner=examiner,
            outcome="refused",
            reason_code="prior_work",
            rationale="Copied.",
            prior_number="AIR-2026-999999",
        )
    reg = examination.determine(
        session=session,
        uid=copy.uid,
        examiner=examiner,
        outcome="refused",
        reason_code="prior_work",
        rationale="Copied.",
        prior_number=earlier.number.lower(),
    )
    assert examination.latest_determination(session, reg).prior_number == earlier.number


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
    examination.claim(session=session, uid=copy.uid, examiner=examiner)
    with pytest.raises(examination.ExaminationError, match=message):
        examination.determine(session=session, uid=copy.uid, examiner=examiner, **kwargs)
    session.refresh(copy)
    assert copy.status == Status.UNDER_EXAMINATION.value and count(session, Determination) == 0


def test_a_determined_filing_cannot_be_determined_again(session, filed):
    _earlier, copy, examiner = filed
    examination.claim(session=session, uid=copy.uid, examiner=examiner)
    examination.determine(
        session=session, uid=copy.uid, examiner=examiner, outcome="registered", rationale="Fine."
    )
    with pytest.raises(examination.ExaminationError):
        examination.claim(session=session, uid=copy.uid, examiner=examiner)
