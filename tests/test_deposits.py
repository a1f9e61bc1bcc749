import io
import struct
import warnings
import zlib

import pytest
from PIL import Image, ImageCms

from registry.deposits import (
    DepositRejected,
    check_xmp,
    decode_text,
    human_size,
    inspect,
    make_thumbnail,
)
from registry.domain.vocabulary import DepositKind
from tests.factories import encoded, image_bytes, png_bomb, scene

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


# --------------------------------------------------------------------------- the container walk


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_with(*chunks: bytes) -> bytes:
    data = image_bytes("PNG")
    at = data.index(b"IDAT") - 4
    return data[:at] + b"".join(chunks) + data[at:]


def _jpeg_with(*segments: bytes) -> bytes:
    data = image_bytes("JPEG")
    return data[:2] + b"".join(segments) + data[2:]


def _segment(code: int, body: bytes) -> bytes:
    return bytes([0xFF, code]) + struct.pack(">H", len(body) + 2) + body


def _camera_jpeg() -> bytes:
    """A JPEG as cameras and editors write them: EXIF with sub-directories, XMP, an ICC profile,
    progressive, with a thumbnail-sized comment."""
    img = Image.new("RGB", (64, 48), (90, 120, 200))
    exif = img.getexif()
    exif[0x0131] = "Adobe Photoshop 25.0"
    exif[0x010F] = "Canon"
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\0\0\0a comment"
    exif.get_ifd(0x8825)[1] = "N"
    out = io.BytesIO()
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    img.save(out, "JPEG", exif=exif, icc_profile=icc, progressive=True, comment=b"made by hand")
    data = out.getvalue()
    xmp = b"http://ns.adobe.com/xap/1.0/\0" + b'<x:xmpmeta xmlns:x="adobe:ns:meta/"/>'
    return data[:2] + _segment(0xE1, xmp) + data[2:]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_camera_jpeg(), id="camera jpeg"),
        pytest.param(image_bytes("JPEG") + b"\0" * 300, id="jpeg padded with zeros"),
        pytest.param(
            encoded(scene(1, (40, 30)), "PNG", save_all=True, append_images=[scene(2, (40, 30))]),
            id="animated png",
        ),
        pytest.param(encoded(scene(1, (40, 30)).convert("P"), "PNG"), id="palette png"),
        pytest.param(
            encoded(scene(1, (40, 30)), "WEBP", lossless=True, exif=b"Exif\0\0II*\0\x08\0\0\0\0\0"),
            id="webp with exif",
        ),
        pytest.param(
            encoded(scene(1, (40, 30)), "WEBP", save_all=True, append_images=[scene(2, (40, 30))]),
            id="animated webp",
        ),
        pytest.param(
            _png_with(_chunk(b"tEXt", b"parameters\0" + b"[[{}]] " * 2000)), id="png brackets"
        ),
    ],
)
def test_ordinary_images_pass_the_container_walk(tmp_path, data):
    assert check(tmp_path, data, DepositKind.IMAGE).kind == DepositKind.IMAGE


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
@pytest.mark.parametrize(
    "tail", [b"<html><script>alert(1)</script>", b"PK\x03\x04zip", b"%PDF-1.4", b"\0\0\0x"]
)
def test_data_after_the_end_of_an_image_is_refused(tmp_path, fmt, tail):
    with pytest.raises(DepositRejected, match="other data after the end of the image"):
        check(tmp_path, image_bytes(fmt) + tail, DepositKind.IMAGE)


def test_a_png_cut_short_or_with_a_bad_checksum_is_refused(tmp_path):
    data = image_bytes("PNG")
    with pytest.raises(DepositRejected, match="ends before the image does"):
        check(tmp_path, data[:-12], DepositKind.IMAGE)  # no IEND: Pillow alone would take it
    flipped = bytearray(data)
    flipped[-20] ^= 1
    with pytest.raises(DepositRejected, match="fails its checksum"):
        check(tmp_path, bytes(flipped), DepositKind.IMAGE)


def test_a_jpeg_with_an_unknown_marker_or_a_broken_picture_index_is_refused(tmp_path):
    data = bytearray(image_bytes("JPEG"))
    data[2:4] = b"\xff\x05"
    with pytest.raises(DepositRejected, match="unknown JPEG marker"):
        check(tmp_path, bytes(data), DepositKind.IMAGE)
    mpo = _jpeg_with(_segment(0xE2, b"MPF\0II*\0\x08\0\0\0"))
    with pytest.raises(DepositRejected, match=r"multi-picture \(MPF\) index is malformed"):
        check(tmp_path, mpo, DepositKind.IMAGE)


def test_a_header_pillow_cannot_read_is_called_damaged_not_another_format(tmp_path):
    data = image_bytes("PNG")
    ihdr = _chunk(b"IHDR", struct.pack(">II", 0, 48) + data[24:29])
    with pytest.raises(DepositRejected, match="marked as a PNG image, but its header is invalid"):
        check(tmp_path, data[:8] + ihdr + data[33:], DepositKind.IMAGE)


XMP_ENTITIES = (
    b'<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/">&b;</x:xmpmeta>'
)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            _png_with(_chunk(b"zTXt", b"parameters\0\0" + zlib.compress(b"\0" * 5_000_000))),
            "unpacks to more than 1 MB",
        ),
        (_png_with(_chunk(b"tEXt", b"Comment\0" + b"x" * 1_100_000)), "at most 1 MB"),
        (_png_with(_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + XMP_ENTITIES)), "DTD"),
        (
            _jpeg_with(_segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0" + XMP_ENTITIES)),
            "DTD or entities",
        ),
        (
            _jpeg_with(
                _segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0" + b"<a>" * 101 + b"</a>" * 101)
            ),
            "nested more than 100 levels",
        ),
        (_png_with(_chunk(b"tEXt", b"AIGC\0" + b"[" * 101 + b"]" * 101)), "nested more than 100"),
        (
            _png_with(_chunk(b"eXIf", b"II*\0\x08\0\0\0" + b"\0\0" + b"\x08\0\0\0")),
            "in a loop",
        ),
        (
            _jpeg_with(_segment(0xE1, b"Exif\0\0MM\0*\0\0\0\x08" + b"\xff\xff" + b"\0" * 8)),
            "declares 65,535 entries",
        ),
        (_png_with(*[_chunk(b"tEXt", b"k\0v")] * 1001), "more than 1,000 metadata blocks"),
    ],
    ids=[
        "ztxt bomb",
        "huge text",
        "xmp entities in png",
        "xmp entities in jpeg",
        "deep xmp",
        "deep json",
        "exif loop",
        "huge exif directory",
        "too many blocks",
    ],
)
def test_hostile_metadata_is_refused(tmp_path, data, message):
    with pytest.raises(DepositRejected, match=message):
        check(tmp_path, data, DepositKind.IMAGE)


def test_cut_short_exif_is_left_to_the_provenance_readers(tmp_path):
    """EXIF whose directory runs past its block is common and harmless: Pillow warns, the
    provenance reader reports it as unreadable, the deposit is taken (warnings as errors or
    not)."""
    broken = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x20" + b"\x00" * 30
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        info = check(tmp_path, _jpeg_with(_segment(0xE1, broken)), DepositKind.IMAGE)
    assert info.kind == DepositKind.IMAGE


@pytest.mark.parametrize(
    "data",
    [
        "Tide Tables\n".encode("utf-16"),
        "Tide Tables\n".encode("utf-16-le"),
        "Tide Tables\n".encode("utf-16-be"),
        "Tide Tables\n".encode("utf-32"),
    ],
    ids=["utf-16 with bom", "utf-16-le", "utf-16-be", "utf-32 with bom"],
)
def test_utf16_texts_are_named_as_such(tmp_path, data):
    with pytest.raises(DepositRejected, match="saved as UTF-16"):
        check(tmp_path, data, DepositKind.TEXT)


def test_the_text_limit_is_said_exactly(tmp_path):
    with pytest.raises(DepositRejected, match=r"65,537 bytes; the limit for texts is 64 KB"):
        check(tmp_path, b"a" * (64 * 1024 + 1), DepositKind.TEXT)


@pytest.mark.parametrize(
    ("n", "text"), [(0, "0 bytes"), (1023, "1023 bytes"), (262_144, "256 KB"), (3 << 20, "3 MB")]
)
def test_human_size(n, text):
    assert human_size(n) == text


@pytest.mark.parametrize("encoding", ["UTF-16", "gbk", "base64", "rot13", "no-such-codec"])
def test_xmp_declaring_an_odd_encoding_is_left_to_the_reader(encoding):
    """Found by fuzzing: expat looks the declared encoding up among Python's codecs, and one
    that is not a text encoding (or none at all) raised LookupError, not an XML error."""
    check_xmp(f'<?xml version="1.0" encoding="{encoding}"?><x:xmpmeta/>'.encode())
