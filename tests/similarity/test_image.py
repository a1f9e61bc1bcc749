"""Each image signal on pictures the tests draw themselves."""

import io

import pytest
from PIL import Image, ImageEnhance, ImageFilter

from registry.similarity import image as I
from registry.similarity import report as R
from tests.factories import encoded, framed, scene


def prepared(img: Image.Image, fmt: str = "PNG", **params) -> I.PreparedImage:
    return I.prepare(Image.open(io.BytesIO(encoded(img, fmt, **params))))


@pytest.fixture(scope="module")
def original():
    return scene(1)


@pytest.fixture(scope="module")
def registered(original):
    return prepared(original)


def best(query: I.PreparedImage, earlier: I.PreparedImage) -> tuple[int, str, str]:
    """The nearest (distance, variant, region) between a query's variants and a registered work."""
    return min(
        (I.hamming(v.phash, h), v.name, I.REGIONS[i][0])
        for v in I.query_variants(query)
        for i, h in enumerate(earlier.fingerprint.region_hashes)
    )


def test_pixel_hash_is_the_picture_not_the_file(original, registered):
    again = prepared(original, "WEBP", lossless=True)
    assert again.fingerprint.pixel_sha256 == registered.fingerprint.pixel_sha256
    changed = original.copy()
    changed.putpixel((0, 0), (1, 2, 3))
    assert prepared(changed).fingerprint.pixel_sha256 != registered.fingerprint.pixel_sha256


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda im: im, id="identical"),
        pytest.param(
            lambda im: Image.open(io.BytesIO(encoded(im, "JPEG", quality=30))), id="jpeg_q30"
        ),
        pytest.param(lambda im: im.resize((im.width // 4, im.height // 4)), id="resize_quarter"),
        pytest.param(lambda im: ImageEnhance.Brightness(im).enhance(1.4), id="brightness"),
        pytest.param(lambda im: im.filter(ImageFilter.GaussianBlur(2)), id="blur"),
        pytest.param(lambda im: im.convert("L"), id="grayscale"),
    ],
)
def test_whole_picture_hash_survives_photometric_edits(original, registered, edit):
    distance, variant, region = best(prepared(edit(original)), registered)
    assert distance <= R.IMAGE_WHOLE_DISTANCE
    assert region == "whole picture"


def test_an_unrelated_picture_is_far(registered):
    distance, _variant, _region = best(prepared(scene(2)), registered)
    assert distance > R.IMAGE_WHOLE_DISTANCE + 4


def test_a_mirrored_copy_is_found_through_the_mirrored_variant(original, registered):
    distance, variant, _region = best(
        prepared(original.transpose(Image.Transpose.FLIP_LEFT_RIGHT)), registered
    )
    assert distance <= R.IMAGE_ANY_DISTANCE and variant == "mirrored"


def test_trimming_takes_off_a_frame_and_a_title_bar_but_keeps_a_flat_sky():
    sky = Image.new("RGB", (300, 200), (120, 170, 230))  # flat blue top half
    sky.paste(scene(3, (300, 100)), (0, 100))
    boxed = framed(sky, 20)
    assert I.trim_box(boxed) == (20, 20, 320, 220)
    bar = Image.new("RGB", (300, 230), (230, 230, 230))
    bar.paste(sky, (0, 30))
    assert I.trim_box(bar) == (0, 30, 300, 230)
    # Unframed, a flat sky looks like a frame; the query keeps its untrimmed variant for that.
    assert I.trim_box(sky) == (0, 100, 300, 200)
    assert I.query_variants(prepared(sky))[0].name == "as filed"


def test_a_framed_copy_matches_once_trimmed(original, registered):
    distance, variant, region = best(prepared(framed(original, 40, (0, 0, 0))), registered)
    assert distance <= R.IMAGE_ANY_DISTANCE
    assert variant.startswith("borders trimmed") and region == "whole picture"


def test_a_corner_crop_matches_the_corner_region(original, registered):
    w, h = original.size
    corner = original.crop((w // 4, h // 4, w, h))
    distance, _variant, region = best(prepared(corner), registered)
    assert region == "bottom-right corner" and distance <= R.IMAGE_ANY_DISTANCE + 2


def test_a_small_rotation_is_straightened_from_its_corner_triangles(original, registered):
    turned = original.rotate(5, Image.Resampling.BICUBIC, expand=True)
    angles = [round(a, 0) for a, _fill in I.straightening_angles(turned)]
    assert angles == [5.0, -5.0]
    distance, variant, _region = best(prepared(turned), registered)
    assert variant.startswith("straightened by 5") and distance <= R.IMAGE_WHOLE_DISTANCE


def test_no_straightening_for_an_upright_picture(original):
    assert I.straightening_angles(original) == []


def test_key_points_place_an_off_centre_third_in_the_earlier_picture(original, registered):
    w, h = original.size
    box = (w // 2, h // 6, w // 2 + w * 5 // 12, h // 6 + h * 3 // 4)  # about a third
    crop = prepared(original.crop(box).transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    fm = I.feature_match(crop, registered)
    assert I.plausible(fm) and fm.mirrored
    expected = (box[0] / w, box[1] / h, box[2] / w, box[3] / h)
    assert all(abs(a - b) < 0.03 for a, b in zip(fm.box, expected, strict=True))
    assert "mirrored" in I.describe(fm) and "cropped" in I.describe(fm)


def test_key_points_do_not_match_unrelated_pictures(registered):
    assert not I.plausible(I.feature_match(prepared(scene(4)), registered))


def test_judge_bands_and_signals(original, registered):
    query = prepared(original)
    same = I.compare(query, I.query_variants(query), I.query_pdqs(query), registered)
    score, band, signals = R.judge_image(same)
    assert (score, band) == (1.0, R.Band.STRONG)
    assert "identical pixels" in {s.name for s in signals}
    other = prepared(scene(5))
    unrelated = I.compare(other, I.query_variants(other), I.query_pdqs(other), registered)
    assert R.judge_image(unrelated) is None


@pytest.mark.parametrize(
    "a, b",
    [
        pytest.param(
            Image.new("RGB", (200, 150), "white"),
            Image.new("RGB", (200, 150), "black"),
            id="white and black",
        ),
        pytest.param(
            Image.new("RGB", (200, 150), "red"),
            Image.new("RGB", (200, 150), "blue"),
            id="red and blue",
        ),
        pytest.param(
            Image.linear_gradient("L").resize((200, 150)),
            Image.new("L", (200, 150), 128),
            id="gradient and grey",
        ),
    ],
)
def test_flat_pictures_do_not_match_on_their_hashes(a, b):
    qa, qb = I.prepare(a), I.prepare(b)
    assert min(qa.fingerprint.pdq_quality, qb.fingerprint.pdq_quality) < I.MIN_QUALITY
    assert R.judge_image(I.compare(qa, I.query_variants(qa), I.query_pdqs(qa), qb)) is None


def test_sixteen_bit_greys_keep_their_picture():
    import numpy as np

    values = (np.linspace(0, 60000, 120 * 90).reshape(90, 120)).astype(np.uint16)
    sixteen = Image.open(io.BytesIO(encoded(Image.fromarray(values))))
    assert sixteen.mode.startswith("I")
    picture = np.asarray(I.prepare(sixteen).picture, dtype=float)
    assert 100 < picture.mean() < 160 and picture.std() > 50


def test_transparency_is_part_of_the_pixel_hash(original):
    opaque = original.convert("RGBA")
    see_through = opaque.copy()
    see_through.putalpha(128)
    assert I.pixel_sha256(opaque) != I.pixel_sha256(see_through)
