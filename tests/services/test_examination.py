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
