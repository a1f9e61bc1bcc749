import pytest

from registry.deposits import DepositRejected, decode_text, inspect, make_thumbnail
from registry.domain.vocabulary import DepositKind
from tests.factories import image_bytes, png_bomb

LIMITS = {"max_pixels": 4_000_000, "max_text_bytes": 64 * 1024}


def check(tmp_path, data: bytes, expected=None):
    path = tmp_path / "upload"
    path.write_bytes(data)
    return inspect(path, expected=expected, **LIMITS)


@pytest.mark.parametrize(
    ("fmt", "media_type"), [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")]
)
def test_allowed_image_formats(tmp_path, fmt, media_type):
    info = check(tmp_path, image_bytes(fmt, (30, 20)))
    assert (info.kind, info.media_type, info.width, info.height) == (
        DepositKind.IMAGE,
        media_type,
        30,
        20,
    )


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "ICO"])
def test_other_image_formats_are_refused_by_decoding(tmp_path, fmt):
    with pytest.raises(DepositRejected, match="not a JPEG, PNG or WebP"):
        check(tmp_path, image_bytes(fmt, (16, 16)), DepositKind.IMAGE)


def test_truncated_image_is_refused(tmp_path):
    data = image_bytes("JPEG", (400, 300))
    with pytest.raises(DepositRejected, match="damaged or incomplete"):
        check(tmp_path, data[: len(data) // 2], DepositKind.IMAGE)


def test_decompression_bomb_is_refused_before_decoding(tmp_path):
    with pytest.raises(DepositRejected, match="pixels"):
        check(tmp_path, png_bomb(), DepositKind.IMAGE)


def test_pixel_limit(tmp_path):
    with pytest.raises(DepositRejected, match="2100 × 2000 pixels"):
        check(tmp_path, image_bytes("PNG", (2100, 2000)), DepositKind.IMAGE)


def test_an_image_named_txt_is_still_an_image(tmp_path):
    assert check(tmp_path, image_bytes("PNG")).kind == DepositKind.IMAGE


@pytest.mark.parametrize(
    ("data", "chars"),
    [(b"Tide Tables\n", 12), ("\ufeff山居秋暝\n".encode(), 5), (b"ok\r\n\tx", 6)],
)
def test_texts(tmp_path, data, chars):
    info = check(tmp_path, data, DepositKind.TEXT)
    assert info.kind == DepositKind.TEXT and info.char_count == chars


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"caf\xe9", "not valid UTF-8"),
        ("山居".encode("gbk"), "not valid UTF-8"),
        (b"", "empty"),
        (b"   \n\t ", "empty"),
        (b"text\x00with nul", "control characters"),
        (b"\x1b[31mred", "control characters"),
    ],
)
def test_bad_texts(tmp_path, data, message):
    with pytest.raises(DepositRejected, match=message):
        check(tmp_path, data, DepositKind.TEXT)


def test_text_size_limit(tmp_path):
    with pytest.raises(DepositRejected, match="limit for texts"):
        check(tmp_path, b"a" * (64 * 1024 + 1), DepositKind.TEXT)


def test_unknown_kind_tries_image_then_text(tmp_path):
    assert check(tmp_path, b"plain words").kind == DepositKind.TEXT
    with pytest.raises(DepositRejected, match="JPEG, PNG or WebP"):
        check(tmp_path, b"GIF89a\x00\x00\xff\xfe")


def test_decode_text_strips_bom():
    assert decode_text(b"\xef\xbb\xbfhello") == "hello"


def test_thumbnail(tmp_path):
    src = tmp_path / "src"
    src.write_bytes(image_bytes("PNG", (1200, 600)))
    make_thumbnail(src, tmp_path / "t.webp", max_side=300)
    from PIL import Image

    with Image.open(tmp_path / "t.webp") as im:
        assert im.format == "WEBP" and max(im.size) == 300
