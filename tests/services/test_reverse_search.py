"""The reverse search ("is this already registered?"): the same judgement as the originality
check, public facts only, never a draft, and nothing stored."""

import io
import tempfile
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import SQLModel, func, select

from registry.domain.risk import RoutingPolicy
from registry.models import Fingerprint
from registry.services import decisions, filing, intake, matching, reverse_search
from tests.conftest import stored_files
from tests.factories import (
    ESSAY,
    LIMITS,
    encoded,
    framed,
    image_bytes,
    make_user,
    save_draft,
    scene,
    submit_text,
    submit_work,
)


def upload_image(picture: Image.Image, fmt: str = "PNG", **params) -> intake.DepositUpload:
    return intake.DepositUpload(file=io.BytesIO(encoded(picture, fmt, **params)))


def search(session, store, upload, matcher=None) -> reverse_search.ReverseResult:
    return reverse_search.reverse_search(
        session=session,
        store=store,
        matcher=matcher or matching.Matcher(),
        limits=LIMITS,
        upload=upload,
    )


def row_counts(session) -> dict[str, int]:
    return {
        table.name: session.exec(select(func.count()).select_from(table)).one()
        for table in SQLModel.metadata.sorted_tables
    }


def scratch_folders() -> list[Path]:
    return list(Path(tempfile.gettempdir()).glob("registry-search-*"))


@pytest.fixture
def owner(session):
    return make_user(session, email="owner@example.org")


def test_a_mirrored_crop_finds_the_registered_image(session, store, owner):
    registered = submit_work(
        session, store, owner, upload=upload_image(scene(51)), matcher=matching.Matcher()
    )
    w, h = scene(51).size
    crop = scene(51).crop((w // 4, 0, w, h * 3 // 4)).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    # a fresh matcher: the search catches up from the database like any other process
    result = search(session, store, upload_image(crop, "JPEG", quality=70))
    assert result.modality == "image" and result.checked_against == 1
    [match] = result.matches
    assert match.number == registered.number and match.title == "Lighthouse in Fog"
    assert match.band == "strong" and 0 < match.score <= 1
    assert match.status == "submitted" and match.status_label == "Submitted"
    assert match.submitted_at == registered.submitted_at and match.determined_at is None
    assert match.modality == "image" and "key points" in match.signals
    assert match.coverage is None


def test_the_same_file_is_an_identical_match(session, store, owner):
    data = encoded(scene(52))
    registered = submit_work(
        session,
        store,
        owner,
        upload=intake.DepositUpload(file=io.BytesIO(data)),
        matcher=matching.Matcher(),
    )
    [match] = search(session, store, intake.DepositUpload(file=io.BytesIO(data))).matches
    assert match.number == registered.number and match.score == 1.0
    assert {"identical file", "identical pixels"} <= set(match.signals)


def test_a_pasted_excerpt_finds_the_registered_text(session, store, owner):
    registered = submit_text(session, store, owner, ESSAY, matcher=matching.Matcher())
    result = search(session, store, intake.DepositUpload(pasted_text=ESSAY[:260]))
    assert result.modality == "text"
    [match] = result.matches
    assert match.number == registered.number and match.title == "Tide Tables"
    assert match.modality == "text" and match.band == "strong"
    assert "shared passages" in match.signals
    assert match.coverage is not None and match.coverage > 0.9


def test_matches_come_best_first_with_the_determination_date(session, store, owner):
    matcher, policy = matching.Matcher(), RoutingPolicy()
    first = submit_work(
        session, store, owner, upload=upload_image(scene(53)), matcher=matcher, policy=policy
    )
    assert first.route == "fast-track"
    decisions.fast_track_due(session=session, today=first.fast_track_on)
    second = submit_work(
        session,
        store,
        make_user(session),
        upload=upload_image(framed(scene(53), 30), "JPEG", quality=50),
        matcher=matcher,
    )
    result = search(session, store, upload_image(scene(53)), matcher)
    assert [m.number for m in result.matches] == [first.number, second.number]
    top, other = result.matches
    assert top.score == 1.0 and top.score >= other.score
    assert top.status == "registered" and top.status_label == "Registered"
    assert top.determined_at is not None
    assert top.public_dict()["determined_on"] == top.determined_at.date().isoformat()
    assert other.determined_at is None and other.public_dict()["determined_on"] is None


def test_public_dict_carries_the_public_facts_only(session, store, owner):
    registered = submit_text(session, store, owner, ESSAY, matcher=matching.Matcher())
    [match] = search(session, store, intake.DepositUpload(pasted_text=ESSAY[:300])).matches
    data = match.public_dict()
    assert set(data) == {
        "number",
        "title",
        "status",
        "status_label",
        "filed_on",
        "determined_on",
        "modality",
        "band",
        "score",
        "signals",
        "coverage",
    }
    assert data["number"] == registered.number and data["status_label"] == "Submitted"
    assert data["filed_on"] == registered.submitted_at.date().isoformat()
    assert data["band"] == "strong" and isinstance(data["signals"], list)
    assert data["score"] == round(data["score"], 3) and 0 < data["coverage"] <= 1
    flat = repr(data)
    assert "Secret Street" not in flat and owner.email not in flat
    assert ESSAY[300:340] not in flat  # nothing of the registered text beyond what was sent


def test_a_draft_is_never_returned_even_when_fingerprinted(session, store, owner):
    draft = save_draft(session, store, owner, upload=upload_image(scene(54)))
    assert draft.number is None
    assert search(session, store, upload_image(scene(54))).matches == ()
    # Drafts are never fingerprinted; even if one were, the search would not name it.
    prepared = matching.prepare_image(store, draft.deposit_sha256)
    session.add(
        Fingerprint(
            registration_id=draft.id,
            kind="image",
            engine_version="test",
            pixel_sha256=prepared.fingerprint.pixel_sha256,
            pdq=prepared.fingerprint.pdq,
            region_hashes=matching._pack_codes(prepared.fingerprint.region_hashes),
        )
    )
    session.commit()
    result = search(session, store, upload_image(scene(54)))
    assert result.checked_against == 1 and result.matches == ()


def test_unrelated_works_match_nothing(session, store, owner):
    matcher = matching.Matcher()
    submit_work(session, store, owner, upload=upload_image(scene(55)), matcher=matcher)
    submit_text(session, store, owner, ESSAY, matcher=matcher)
    assert search(session, store, upload_image(scene(56)), matcher).matches == ()
    unrelated = "Quarterly minutes of the allotment society: the shed roof, the water butts."
    result = search(session, store, intake.DepositUpload(pasted_text=unrelated), matcher)
    assert result.matches == () and result.checked_against == 1


def test_a_search_writes_nothing(session, store, owner, app, monkeypatch):
    matcher = matching.Matcher()
    submit_work(session, store, owner, upload=upload_image(scene(57)), matcher=matcher)
    submit_text(session, store, owner, ESSAY, matcher=matcher)
    before = row_counts(session)
    files = sorted(stored_files(store))
    cache = Path(app.extensions["registry"].settings.cache_dir)
    cached = sorted(cache.rglob("*")) if cache.exists() else []
    scratch = scratch_folders()

    def no_writes(*args, **kwargs):
        raise AssertionError("the reverse search opened a write transaction")

    monkeypatch.setattr(matching, "writing", no_writes)
    monkeypatch.setattr(filing, "begin_write", no_writes)
    image = search(session, store, upload_image(scene(57), "WEBP"), matcher)
    text = search(session, store, intake.DepositUpload(pasted_text=ESSAY[:200]), matcher)
    assert len(image.matches) == 1 and len(text.matches) == 1
    session.rollback()
    assert row_counts(session) == before
    assert sorted(stored_files(store)) == files
    assert (sorted(cache.rglob("*")) if cache.exists() else []) == cached
    assert scratch_folders() == scratch


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (lambda: intake.DepositUpload(), "Choose an image or paste a text"),
        (lambda: intake.DepositUpload(pasted_text="  \n "), "Choose an image or paste a text"),
        (lambda: intake.DepositUpload(file=io.BytesIO(b"")), "The file is empty."),
        (
            lambda: intake.DepositUpload(file=io.BytesIO(b"%PDF-1.7 \x00\xff\xfe")),
            "not a JPEG, PNG or WebP image",
        ),
        (
            lambda: intake.DepositUpload(file=io.BytesIO("café".encode("latin-1") * 10)),
            "Texts must be UTF-8 plain text",
        ),
        (
            lambda: intake.DepositUpload(file=io.BytesIO(b"\xff" * (LIMITS.max_deposit_bytes + 1))),
            "larger than the limit",
        ),
        (
            lambda: intake.DepositUpload(pasted_text="x" * (LIMITS.max_text_bytes + 1)),
            "larger than the limit",
        ),
        (
            lambda: intake.DepositUpload(
                file=io.BytesIO(image_bytes()), pasted_text="and a text as well"
            ),
            "not both",
        ),
        (
            lambda: intake.DepositUpload(pasted_text="bell \x07 character"),
            "control characters",
        ),
    ],
    ids=[
        "nothing",
        "blank text",
        "empty file",
        "not an image",
        "not utf-8",
        "file too large",
        "text too large",
        "both",
        "control characters",
    ],
)
def test_bad_input_is_rejected_with_a_message_and_nothing_kept(
    session, store, owner, upload, message
):
    submit_work(session, store, owner, upload=upload_image(scene(58)), matcher=matching.Matcher())
    before = row_counts(session)
    files = sorted(stored_files(store))
    scratch = scratch_folders()
    with pytest.raises(intake.FilingRejected, match=message) as caught:
        search(session, store, upload())
    assert [p.field for p in caught.value.problems] == ["deposit"]
    session.rollback()
    assert row_counts(session) == before
    assert sorted(stored_files(store)) == files
    assert scratch_folders() == scratch


def test_an_image_over_the_pixel_limit_is_rejected(session, store):
    limits = intake.Limits(max_deposit_bytes=1 << 20, max_text_bytes=1 << 16, max_image_pixels=100)
    with pytest.raises(intake.FilingRejected, match="the limit is"):
        reverse_search.reverse_search(
            session=session,
            store=store,
            matcher=matching.Matcher(),
            limits=limits,
            upload=upload_image(scene(59)),
        )


def test_the_query_image_is_fingerprinted_like_a_filing(session, store, owner):
    """The search and the check share one code path: the same candidates, scores and bands."""
    matcher = matching.Matcher()
    earlier = submit_work(session, store, owner, upload=upload_image(scene(60)), matcher=matcher)
    disguise = framed(scene(60).transpose(Image.Transpose.FLIP_LEFT_RIGHT), 20)
    [found] = search(session, store, upload_image(disguise, "JPEG", quality=60), matcher).matches
    later = submit_work(
        session,
        store,
        make_user(session),
        upload=upload_image(disguise, "JPEG", quality=60),
        matcher=matcher,
    )
    [reported] = matching.report_matches(matching.get_report(session, later))
    assert reported.number == found.number == earlier.number
    assert reported.band == found.band and reported.score == found.score
    assert [s.name for s in reported.signals] == list(found.signals)
