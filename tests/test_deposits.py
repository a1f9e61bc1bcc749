import io
import struct
import subprocess
import sys
import warnings
import zipfile
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageCms

from registry import deposits
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
from tests.fuzz import seeds

ROOT = Path(__file__).resolve().parents[1]

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


# --------------------------------------------------------------------------- the outside attack

FIXTURES = Path(__file__).parent / "fixtures" / "jpeg"


def _progressive(mode: str = "RGB") -> bytes:
    return encoded(scene(3, (64, 48)).convert(mode), "JPEG", progressive=True, quality=80)


@pytest.mark.parametrize(
    ("data", "scans"),
    [
        pytest.param(lambda: _progressive("RGB"), 10, id="libjpeg progression, colour"),
        pytest.param(lambda: _progressive("L"), 6, id="libjpeg progression, grey"),
        pytest.param(lambda: _progressive("CMYK"), 18, id="libjpeg progression, cmyk"),
        pytest.param(lambda: (FIXTURES / "cjpeg-progressive.jpg").read_bytes(), 10, id="cjpeg"),
        pytest.param(lambda: (FIXTURES / "mozjpeg-optimized.jpg").read_bytes(), 8, id="mozjpeg"),
        pytest.param(lambda: seeds.jpeg_with_scans(_progressive(), 32), 32, id="at the limit"),
    ],
)
def test_jpegs_in_as_many_scans_as_encoders_write_are_taken(tmp_path, data, scans):
    data = data()
    assert len(seeds._jpeg_scans(data)) == scans
    assert check(tmp_path, data, DepositKind.IMAGE).media_type == "image/jpeg"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(lambda: seeds.jpeg_with_scans(_progressive(), 33), id="33 scans"),
        pytest.param(lambda: seeds.jpeg_with_scans(_progressive(), 300), id="300 scans"),
        pytest.param(lambda: (FIXTURES / "cjpeg-100-scans.jpg").read_bytes(), id="legal 100"),
    ],
)
def test_a_jpeg_in_too_many_scans_is_refused_before_decoding(tmp_path, data):
    with pytest.raises(DepositRejected, match="written in more than 32 scans"):
        check(tmp_path, data(), DepositKind.IMAGE)


def _zip(jar: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        if jar:
            z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nMain-Class: X\n")
        z.writestr("index.html", "<script>alert(1)</script>")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (lambda: _jpeg_with(_segment(0xFE, _zip())), "JPEG comment segment"),
        (lambda: _jpeg_with(_segment(0xE1, _zip(jar=True))), "JPEG APP1 segment"),
        (lambda: _jpeg_with(_segment(0xE1, seeds.exif_block() + _zip())), "JPEG APP1 segment"),
        (lambda: _jpeg_with(_segment(0xEF, _zip(jar=True))), "JPEG APP15 segment"),
        (lambda: _png_with(_chunk(b"tEXt", b"Comment\0" + _zip())), "PNG “tEXt” chunk"),
        (lambda: _png_with(_chunk(b"zipP", _zip(jar=True))), "PNG “zipP” chunk"),
        (lambda: seeds.webp_with([seeds.riff_chunk(b"ZIPF", _zip())]), "WebP “ZIPF” chunk"),
        (lambda: seeds.webp_with([seeds.riff_chunk(b"EXIF", _zip())]), "WebP “EXIF” chunk"),
        (lambda: _jpeg_with(_segment(0xFE, _zip()[-22:])), "JPEG comment segment"),  # the end
        (lambda: _jpeg_with(_segment(0xFE, b"x Rar!\x1a\x07\x01\x00 y")), "JPEG comment"),
        (lambda: _jpeg_with(_segment(0xE9, b"7z\xbc\xaf\x27\x1c\x00\x04")), "JPEG APP9"),
        (lambda: _png_with(_chunk(b"tEXt", b"Comment\0%PDF-1.7\n1 0 obj")), "PNG “tEXt”"),
    ],
    ids=[
        "zip in jpeg comment",
        "jar in jpeg app1",
        "zip after exif",
        "jar in jpeg app15",
        "zip in png text",
        "jar in png private chunk",
        "zip in webp chunk",
        "zip in webp exif",
        "zip directory end alone",
        "rar",
        "7z",
        "pdf",
    ],
)
def test_an_archive_inside_a_segment_or_chunk_is_refused_naming_it(tmp_path, data, where):
    with pytest.raises(DepositRejected, match="another file is hidden in the image") as refused:
        check(tmp_path, data(), DepositKind.IMAGE)
    assert where in str(refused.value)


def test_the_images_the_corpus_and_cameras_make_carry_no_archive_signature(tmp_path):
    """Real metadata (EXIF with a thumbnail, ICC profiles, XMP) passes the signature scan."""
    with_thumbnail = encoded(scene(5, (800, 600)), "JPEG", exif=_exif_with_thumbnail())
    for data in [*seeds.images()[:13], _camera_jpeg(), with_thumbnail]:
        check(tmp_path, data, DepositKind.IMAGE)


def _exif_with_thumbnail() -> bytes:
    exif = Image.Exif()
    exif[0x0131] = "Camera firmware 1.0"
    thumb = encoded(scene(6, (160, 120)), "JPEG", quality=90)
    return exif.tobytes() + thumb  # a thumbnail's bytes inside the EXIF block, as cameras write


def test_an_ultra_hdr_photo_is_taken_as_its_primary_picture(tmp_path):
    data = seeds.ultra_hdr((120, 90))
    info = check(tmp_path, data, DepositKind.IMAGE)
    assert (info.media_type, info.width, info.height) == ("image/jpeg", 120, 90)
    assert b'hdrgm:Version="1.0"' in data and data.count(b"\xff\xd8\xff") == 2
    make_thumbnail(tmp_path / "upload", tmp_path / "t.webp", max_side=60)
    with Image.open(tmp_path / "t.webp") as im:
        assert im.size == (60, 45)


def test_a_stereo_mpo_is_taken_as_its_first_picture(tmp_path):
    info = check(tmp_path, seeds.mpo((80, 60)), DepositKind.IMAGE)
    assert (info.media_type, info.width, info.height) == ("image/jpeg", 80, 60)


def _plain() -> bytes:
    return encoded(scene(8, (64, 48)), "JPEG", quality=80)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (lambda: seeds.ultra_hdr() + b"PK\x05\x06" + b"\0" * 18, "other data after the end"),
        (lambda: seeds.ultra_hdr()[:-40], "ends before the image does"),
        (lambda: seeds.multi_picture(_plain(), _plain(), sizes=[100, 50]), "not what its index"),
        (lambda: seeds.multi_picture(_plain(), _zip()), "not what its index lists"),
        (lambda: seeds.multi_picture(_plain(), _plain() + _zip()), "not what its index lists"),
        (lambda: seeds.multi_picture(_plain(), _plain(), count=3), "ends before the image does"),
        (lambda: seeds.multi_picture(_plain(), count=9), "at most 8 are taken"),
        (
            lambda: seeds.multi_picture(_plain(), _jpeg_with(_segment(0xFE, _zip()))),
            "another file is hidden",
        ),
        (
            lambda: seeds.multi_picture(_plain(), seeds.jpeg_with_scans(_progressive(), 40)),
            "more than 32 scans",
        ),
        (
            lambda: seeds.multi_picture(_plain(), _jpeg_with(_segment(0xE1, _XMP + XMP_ENTITIES))),
            "DTD or entities",
        ),
    ],
    ids=[
        "archive after the gain map",
        "gain map cut short",
        "sizes that do not add up",
        "a zip where the gain map should be",
        "a zip after the gain map, inside its size",
        "a picture listed but missing",
        "nine pictures",
        "an archive in the gain map",
        "a gain map in 40 scans",
        "hostile xmp in the gain map",
    ],
)
def test_a_multi_picture_jpeg_whose_pictures_do_not_match_its_index_is_refused(
    tmp_path, data, message
):
    with pytest.raises(DepositRejected, match=message):
        check(tmp_path, data(), DepositKind.IMAGE)


_XMP = b"http://ns.adobe.com/xap/1.0/\0"


def _png_data(img: Image.Image, raw: bytes | None = None, level: int = 6) -> bytes:
    """``img`` as a PNG whose image data is ``raw`` (filter bytes and rows) compressed, with
    every checksum right: damage only a decoder of the pixels finds."""
    data = encoded(img, "PNG")
    start = data.index(b"IDAT") - 4
    end = data.index(b"IEND") - 4
    return data[:start] + _chunk(b"IDAT", zlib.compress(raw, level)) + data[end:]


def _rows(img: Image.Image) -> bytes:
    w = img.size[0] * len(img.getbands())
    pixels = img.tobytes()
    return b"".join(b"\0" + pixels[y * w : (y + 1) * w] for y in range(img.size[1]))


def test_a_png_whose_image_data_is_damaged_behind_good_checksums_is_refused(tmp_path):
    img = scene(9, (40, 30))
    rows = _rows(img)
    assert check(tmp_path, _png_data(img, rows), DepositKind.IMAGE).width == 40
    cases = {
        "ends before the picture does": rows[:-41],
        "unknown filter": rows[: 121 * 7] + b"\x07" + rows[121 * 7 + 1 :],  # row 7's filter
        "holds more than the picture": rows + b"\0" * 121,
    }
    for message, raw in cases.items():
        with pytest.raises(DepositRejected, match=message):
            check(tmp_path, _png_data(img, raw), DepositKind.IMAGE)
    packed = bytearray(zlib.compress(rows))
    packed[-3] ^= 0xFF  # the Adler-32 checksum at the end of the stream
    data = encoded(img, "PNG")
    start, end = data.index(b"IDAT") - 4, data.index(b"IEND") - 4
    broken = data[:start] + _chunk(b"IDAT", bytes(packed)) + data[end:]
    with pytest.raises(DepositRejected, match="image data is corrupt"):
        check(tmp_path, broken, DepositKind.IMAGE)


def test_an_interlaced_png_is_checked_pass_by_pass(tmp_path):
    img = seeds.picture((37, 23))  # sizes that leave Adam7's passes uneven
    width, height = img.size
    pixels = img.tobytes()
    raw = b""
    for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4),
                           (1, 0, 2, 2), (0, 1, 1, 2)):  # fmt: skip
        for y in range(y0, height, dy):
            row = b"".join(pixels[3 * (y * width + x) : 3 * (y * width + x) + 3]
                           for x in range(x0, width, dx))  # fmt: skip
            raw += b"\0" + row if row else b""
    data = encoded(img, "PNG")
    ihdr = _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 1))
    start, end = data.index(b"IDAT") - 4, data.index(b"IEND") - 4
    interlaced = data[:8] + ihdr + data[33:start] + _chunk(b"IDAT", zlib.compress(raw))
    interlaced += data[end:]
    assert check(tmp_path, interlaced, DepositKind.IMAGE).width == width
    with Image.open(io.BytesIO(interlaced)) as im:
        assert im.tobytes() == pixels  # the layout is Adam7's, as Pillow reads it
    short = data[:8] + ihdr + data[33:start] + _chunk(b"IDAT", zlib.compress(raw[:-3]))
    with pytest.raises(DepositRejected, match="ends before the picture does"):
        check(tmp_path, short + data[end:], DepositKind.IMAGE)


@pytest.mark.parametrize("lossless", [True, False])
def test_a_webp_whose_bitstream_is_cut_behind_good_sizes_is_refused(tmp_path, lossless):
    data = encoded(scene(11, (120, 90)), "WEBP", lossless=lossless, quality=80)
    chunk = data[12:16]
    body = data[20:]
    cut = body[: len(body) * 2 // 3]
    cut += b"\0" * (len(cut) & 1)
    rebuilt = b"WEBP" + chunk + struct.pack("<I", len(cut)) + cut
    with pytest.raises(DepositRejected, match="damaged or incomplete"):
        check(tmp_path, b"RIFF" + struct.pack("<I", len(rebuilt)) + rebuilt, DepositKind.IMAGE)


def test_every_frame_of_an_animated_webp_is_decoded(tmp_path):
    frames = [scene(12, (40, 30)), scene(13, (40, 30)), scene(14, (40, 30))]
    data = encoded(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    assert check(tmp_path, data, DepositKind.IMAGE).width == 40
    last = data.rindex(b"VP8L")
    length = int.from_bytes(data[last + 4 : last + 8], "little")
    broken = bytearray(data)
    broken[last + 8 + length // 2 : last + 8 + length] = b"\0" * (length - length // 2)
    with pytest.raises(DepositRejected, match="damaged or incomplete"):
        check(tmp_path, bytes(broken), DepositKind.IMAGE)


@pytest.mark.parametrize(("mode", "colour"), [("RGB", (200, 40, 90)), ("RGBA", (255, 0, 255, 128))])
def test_libwebp_decodes_a_webp_at_the_size_asked(mode, colour):
    data = encoded(Image.new(mode, (640, 480), colour), "WEBP", lossless=True)
    assert deposits.decode_webp_scaled(data, (64, 48), mode) == bytes(colour) * 64 * 48
    assert deposits.decode_webp_scaled(data, (1, 1), mode) == bytes(colour)


@pytest.mark.parametrize("shift", [-3, 1])
def test_scaling_options_out_of_place_fail_loudly_not_as_damage(tmp_path, monkeypatch, shift):
    """Were the options that ask libwebp to scale ever elsewhere in its WebPDecoderOptions than
    where deposits writes them, no WebP would be refused as damaged: the decoding raises."""
    from registry.similarity import image as image_engine

    monkeypatch.setattr(image_engine, "_SCALING", image_engine._SCALING + shift)
    data = encoded(scene(16, (40, 30)), "WEBP", lossless=True)
    with pytest.raises(RuntimeError, match="refused to decode at 1 × 1"):
        check(tmp_path, data, DepositKind.IMAGE)
    with pytest.raises(RuntimeError, match="refused to decode at 20 × 15"):
        make_thumbnail(io.BytesIO(data), tmp_path / "t.webp", max_side=20)


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_a_thumbnail_is_turned_upright_after_it_is_made_small(tmp_path, fmt, orientation):
    img = scene(15, (200, 100))
    exif = Image.Exif()
    exif[0x0112] = orientation
    src = tmp_path / "src"
    src.write_bytes(encoded(img, fmt, exif=exif.tobytes()))
    make_thumbnail(src, tmp_path / "t.webp", max_side=50)
    with Image.open(tmp_path / "t.webp") as im:
        assert im.size == ((50, 25) if orientation in (1, 3) else (25, 50))


# Peak memory of one step in a fresh process, as the rise of its resident set's high-water mark:
# Pillow's and the codecs' buffers are C memory, which tracemalloc does not see.
_PEAK = r"""
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from registry import deposits

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) // 1024

path = Path(sys.argv[2])
open("/proc/self/clear_refs", "w").write("5")
before = status("VmRSS")
if sys.argv[3] == "inspect":
    deposits.inspect_image(path, max_pixels=50_000_000)
else:
    deposits.make_thumbnail(path, path.with_suffix(".webp"), max_side=640)
print(status("VmHWM") - before)
"""


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux's /proc")
def test_a_large_image_is_inspected_and_thumbnailed_without_a_full_size_copy(tmp_path):
    """7000 x 7000 pixels: a full-size RGB copy is 140 MB. (The figures before the change:
    about 190 MB to inspect either, 390 MB to thumbnail, 750 MB for the lossless WebP.)"""
    big = Image.new("RGB", (7000, 7000), (12, 34, 56))
    files = {
        "png": encoded(big, "PNG"),
        "jpeg": encoded(big, "JPEG", quality=85),
        "webp": encoded(big, "WEBP", lossless=True),
    }
    del big
    peaks = {}
    for name, data in files.items():
        path = tmp_path / name
        path.write_bytes(data)
        for step in ("inspect", "thumbnail"):
            if name == "png" and step == "thumbnail":
                continue  # Pillow decodes a PNG only at full size: one copy, then reduced
            result = subprocess.run(
                [sys.executable, "-c", _PEAK, str(ROOT), str(path), step],
                capture_output=True,
                text=True,
                check=True,
            )
            peaks[f"{name} {step}"] = int(result.stdout)
    assert max(peaks.values()) < 70, peaks  # 4 to 30 MB when measured


def test_nel_is_a_line_break_and_taken(tmp_path):
    info = check(tmp_path, "first line\u0085second line\n".encode(), DepositKind.TEXT)
    assert info.char_count == 23


@pytest.mark.parametrize(
    "text",
    [
        "\u200b",
        "\u200b\u200c\u200d\u2060",
        "\u200e\u200f\u202a\u202c\u2066\u2069",
        " \n\u200b\t\u00a0\ufeff\u3000",
        "\u3164\u115f\u2800",
        "\U000e0041\U000e007f",
        "\ufe0f" * 10,
    ],
    ids=["zwsp", "zero-width", "bidi", "mixed with spaces", "fillers", "tags", "selectors"],
)
def test_a_text_with_nothing_visible_is_refused(tmp_path, text):
    with pytest.raises(DepositRejected, match="no visible characters"):
        check(tmp_path, text.encode(), DepositKind.TEXT)


@pytest.mark.parametrize("text", ["\u200bA", "\u200f\u05e9\u05dc\u05d5\u05dd", "·", "\u0301x"])
def test_a_text_with_something_visible_among_invisible_characters_is_taken(tmp_path, text):
    assert check(tmp_path, text.encode(), DepositKind.TEXT).kind == DepositKind.TEXT


def test_the_control_check_names_the_first_control_in_a_long_text():
    text = ("Gulls are other gulls. " * 180_000) + "\x1b" + "end\x07"
    assert len(text.encode()) > 4_000_000
    with pytest.raises(DepositRejected, match=r"such as U\+001B"):
        decode_text(text.encode())
    assert decode_text(("Gulls are other gulls.\u0085" * 180_000).encode())


def test_a_zip_hidden_in_the_pixels_of_a_png_is_refused(tmp_path):
    """The ZIP sits in an uncompressed deflate block of the image data, where no segment is
    looked into; a ZIP tool would open the file as an archive."""
    import io
    import struct
    import zipfile
    import zlib

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("payload.txt", "hidden archive " * 10)
    archive = buf.getvalue()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", len(archive), 1, 8, 0, 0, 0, 0)  # one grey row
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" + archive, 0))
        + chunk(b"IEND", b"")
    )
    path = tmp_path / "polyglot.png"
    path.write_bytes(png)
    assert zipfile.ZipFile(path).namelist() == ["payload.txt"]  # it is an archive, too
    with pytest.raises(DepositRejected, match="ZIP archive is hidden in the image"):
        inspect(path, expected=None, **LIMITS)


def test_a_stored_text_is_read_back_whatever_the_rules_say_now():
    from registry.deposits import stored_text

    invisible = "\u200b\u200e".encode()  # accepted once; nothing visible, so refused today
    with pytest.raises(DepositRejected, match="no visible"):
        decode_text(invisible)
    assert stored_text(invisible) == "\u200b\u200e"
    assert stored_text(b"\xef\xbb\xbfpoem") == "poem"


def test_the_scan_limit_counts_every_picture_of_a_multi_picture_jpeg(tmp_path):
    """Eight pictures of 30 scans each stay under the limit one by one, not together."""
    from PIL import Image

    progressive = seeds.encode(Image.new("RGB", (32, 24), (80, 90, 100)), "JPEG", progressive=True)
    many = seeds.jpeg_with_scans(progressive, 30)
    path = tmp_path / "eight.jpg"
    path.write_bytes(seeds.multi_picture(many, *[many] * 7))
    with pytest.raises(DepositRejected, match="scans together"):
        inspect(path, expected=None, **LIMITS)
    path.write_bytes(seeds.multi_picture(many, many))  # two: 60 scans
    assert inspect(path, expected=None, **LIMITS).media_type == "image/jpeg"
