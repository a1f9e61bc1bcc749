"""The originality check through the services: reports stored once, indexes caught up from the
database, earlier works found and explained."""

import io
import json

import pytest
from PIL import Image

from registry.models import Fingerprint, MatchReport
from registry.services import checking, intake, matching
from tests.factories import (
    ESSAY,
    count,
    encoded,
    framed,
    make_user,
    scene,
    submit_text,
    submit_work,
)


def upload_image(img: Image.Image, fmt: str = "PNG", **params) -> intake.DepositUpload:
    return intake.DepositUpload(file=io.BytesIO(encoded(img, fmt, **params)))


def matches_of(session, reg) -> list[dict]:
    """The filing's matches, as the stored report lays them out."""
    return [m.to_dict() for m in matching.report_matches(matching.get_report(session, reg))]


@pytest.fixture
def creators(session):
    return make_user(session, email="a@example.org"), make_user(session, email="b@example.org")


def test_a_disguised_copy_is_matched_to_the_earlier_registration(session, store, creators):
    a, b = creators
    matcher = matching.Matcher()
    original = submit_work(session, store, a, upload=upload_image(scene(11)), matcher=matcher)
    disguise = framed(scene(11).transpose(Image.Transpose.FLIP_LEFT_RIGHT), 24)
    copy = submit_work(
        session, store, b, upload=upload_image(disguise, "JPEG", quality=60), matcher=matcher
    )
    assert matches_of(session, original) == []
    [match] = matches_of(session, copy)
    assert match["number"] == original.number and match["modality"] == "image"
    assert match["band"] == "strong" and 0 < match["score"] <= 1
    assert match["earlier_first"] is True and match["earlier_status"] == "submitted"
    assert "mirrored" in match["variant"]
    assert {s["name"] for s in match["signals"]} >= {"key points"}
    x0, y0, x1, y1 = match["region"]["box"]
    assert x0 < 0.05 and y0 < 0.05 and x1 > 0.95 and y1 > 0.95
    report = matching.get_report(session, copy)
    assert report.match_count == 1 and report.strongest_band == "strong"
    assert report.checked_against == 1
    assert count(session, Fingerprint) == 2 and count(session, MatchReport) == 2


def test_the_report_is_written_once(session, store, creators):
    a, _b = creators
    matcher = matching.Matcher()
    reg = submit_work(session, store, a, upload=upload_image(scene(12)), matcher=matcher)
    first = matching.get_report(session, reg)
    again = matching.check(session=session, store=store, matcher=matcher, registration=reg)
    assert again.id == first.id and again.body == first.body
    assert count(session, MatchReport) == 1 and count(session, Fingerprint) == 1


def test_a_second_process_catches_up_from_the_database(session, store, creators):
    a, b = creators
    one, two = matching.Matcher(), matching.Matcher()
    first = submit_work(session, store, a, upload=upload_image(scene(13)), matcher=one)
    second = submit_work(
        session, store, b, upload=upload_image(scene(13).resize((180, 135))), matcher=two
    )
    assert [m["number"] for m in matches_of(session, second)] == [first.number]
    third = submit_work(session, store, b, upload=upload_image(scene(13), "WEBP"), matcher=one)
    assert {m["number"] for m in matches_of(session, third)} == {first.number, second.number}
    assert one.watermark == two.watermark + 1


def test_identical_bytes_are_a_strong_match_with_the_identical_file_signal(
    session, store, creators
):
    a, b = creators
    matcher = matching.Matcher()
    data = scene(14)
    first = submit_work(session, store, a, upload=upload_image(data), matcher=matcher)
    second = submit_work(session, store, b, upload=upload_image(data), matcher=matcher)
    [match] = matches_of(session, second)
    assert match["number"] == first.number and match["score"] == 1.0
    assert {"identical file", "identical pixels"} <= {s["name"] for s in match["signals"]}


def test_an_unrelated_image_matches_nothing(session, store, creators):
    a, b = creators
    matcher = matching.Matcher()
    submit_work(session, store, a, upload=upload_image(scene(15)), matcher=matcher)
    other = submit_work(session, store, b, upload=upload_image(scene(16)), matcher=matcher)
    assert matches_of(session, other) == []


def test_copied_passages_carry_offsets_into_both_texts(session, store, creators):
    a, b = creators
    matcher = matching.Matcher()
    earlier = submit_text(session, store, a, ESSAY, matcher=matcher)
    sentences = [s.strip() + "." for s in ESSAY.split(".") if s.strip()]
    new_text = "A new opening of my own, about the sea and the town. " + " ".join(
        sentences[3:6] + sentences[:2]
    )
    later = submit_text(session, store, b, new_text, title="Quay", matcher=matcher)
    [match] = matches_of(session, later)
    assert match["number"] == earlier.number and match["modality"] == "text"
    assert len(match["passages"]) >= 2
    for p in match["passages"]:
        a0, a1 = p["new"]
        b0, b1 = p["earlier"]
        assert new_text[a0:a1] == ESSAY[b0:b1]
        assert set(p) == {"new", "earlier", "similarity"}  # offsets only: no text is stored
    assert 0.7 < match["new_coverage"] < 1.0 and 0.5 < match["earlier_coverage"] < 1.0
    assert "sea and the town" not in json.dumps(matching.get_report(session, later).body)


def test_passage_text_is_read_at_view_time_for_whoever_may_see_it(session, store, creators):
    """The filing's own text is always shown; the earlier work's only to its owner (and to
    examiners), read from its deposit."""
    a, b = creators
    matcher = matching.Matcher()
    earlier = submit_text(session, store, a, ESSAY, matcher=matcher)
    new_text = "A line of my own. " + ESSAY[:300]
    later = submit_text(session, store, b, new_text, title="Later", matcher=matcher)
    found = matching.report_matches(matching.get_report(session, later))
    for viewer, sees_earlier in (
        (b, False),
        (a, True),
        (make_user(session, role="examiner"), True),
    ):
        [shown] = matching.passages_shown(session, store, found, new_text, viewer)[earlier.number]
        assert shown.new_text == new_text[shown.new[0] : shown.new[1]]
        assert shown.withheld is not sees_earlier
        if sees_earlier:
            assert shown.earlier_text == ESSAY[shown.earlier[0] : shown.earlier[1]]
        else:
            assert shown.earlier_text is None


def checked_pending(session, store, matcher) -> list[str]:
    """The filings ``registry check`` runs the originality check of."""
    done = checking.run_pending(session=session, store=store, matcher=matcher, policy=None)
    return done["Checked"]


def test_a_failed_check_leaves_the_filing_pending_until_registry_check(
    session, store, creators, monkeypatch
):
    a, _b = creators
    matcher = matching.Matcher()

    def broken(*args, **kwargs):
        raise RuntimeError("the engine fell over")

    monkeypatch.setattr(matching, "_check_image", broken)
    reg = submit_work(session, store, a, upload=upload_image(scene(17)))
    with pytest.raises(RuntimeError, match="fell over"):
        matching.check(session=session, store=store, matcher=matcher, registration=reg)
    session.rollback()
    assert reg.number and matching.get_report(session, reg) is None
    monkeypatch.undo()
    assert checked_pending(session, store, matcher) == [reg.number]
    assert matching.get_report(session, reg).body["matches"] == []
    assert checked_pending(session, store, matcher) == []


def test_a_draft_is_never_checked(session, store, creators):
    from tests.factories import save_draft

    draft = save_draft(session, store, creators[0], upload=upload_image(scene(18)))
    with pytest.raises(ValueError, match="submitted"):
        matching.check(session=session, store=store, matcher=matching.Matcher(), registration=draft)
    assert count(session, Fingerprint) == 0


def test_an_unreadable_earlier_deposit_is_skipped_not_fatal(session, store, creators):
    a, b = creators
    matcher = matching.Matcher()
    broken = submit_work(session, store, a, upload=upload_image(scene(19)), matcher=matcher)
    store.path_for(broken.deposit_sha256).write_bytes(b"not an image any more")
    fine = submit_work(
        session, store, a, upload=upload_image(scene(19).resize((300, 225))), matcher=matcher
    )
    assert matches_of(session, fine) == []  # the earlier one could not be read: skipped
    third = submit_work(session, store, b, upload=upload_image(scene(19), "WEBP"), matcher=matcher)
    assert [m["number"] for m in matches_of(session, third)] == [fine.number]


def test_registry_check_goes_on_past_a_filing_it_cannot_check(session, store, creators):
    a, _b = creators
    first = submit_work(session, store, a, upload=upload_image(scene(22)))
    second = submit_work(session, store, a, upload=upload_image(scene(23)))
    store.path_for(first.deposit_sha256).unlink()
    done = checked_pending(session, store, matching.Matcher())
    assert done == [second.number]
    assert matching.get_report(session, first) is None


def test_a_row_that_commits_after_a_later_one_is_still_indexed(session, store, creators):
    """On PostgreSQL ids are handed out before commit: id 2 can become visible after id 3."""
    from registry.db import begin_write

    a, _b = creators
    regs = [submit_work(session, store, a, upload=upload_image(scene(30 + i))) for i in range(3)]
    matcher = matching.Matcher()

    def add(reg, row_id):
        begin_write(session)
        session.add(
            Fingerprint(
                id=row_id,
                registration_id=reg.id,
                kind="image",
                engine_version="test",
                region_hashes=bytes(8 * 7),
            )
        )
        session.commit()

    add(regs[0], 1)
    add(regs[2], 3)
    matcher.catch_up(session)
    assert matcher.watermark == 3 and set(matcher.gaps) == {2} and len(matcher.images) == 2
    add(regs[1], 2)
    matcher.catch_up(session)
    assert len(matcher.images) == 3 and matcher.gaps == {}
