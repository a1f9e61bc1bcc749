"""What a deposited file is, decided by decoding it, never by its name.

An image must decode fully as JPEG, PNG or WebP within the pixel limit (a decompression bomb is
refused before its pixels are decoded); a text must be UTF-8 with something visible in it.
Rejections carry a message written for the person who uploaded the file. Pure: Pillow, no Flask,
no SQL.

Before Pillow sees an image its container is walked (:func:`check_container`): it must end where
the image ends (a file cut short, or with another file appended to it, is refused), every PNG
chunk must pass its checksum, and the metadata it carries must be of a sane size and shape: no
block over 1 MB (compressed ones are unpacked only that far), no XML with a DTD or entities, no
nesting deeper than 100 levels, no EXIF directories that loop, no archive (ZIP, JAR, RAR, 7z,
...) or PDF inside a segment or chunk. A JPEG may be written in at most 32 scans (each costs a
decoding pass over the whole picture). A JPEG with a multi-picture (MPF) index, as phones write
Ultra HDR photos (the picture, then its gain map), is taken when what follows the picture is
exactly the pictures its index lists, each passing the same rules; the first is the work. What
passes can still be odd (the provenance readers report what they cannot read), but it cannot be
a bomb or a polyglot.

The pixels are then decoded completely, but never into a full-size copy: a JPEG at an eighth of
its size (every scan is still entropy-decoded, so damage is still found), a PNG's image data
inflated and its rows' filters checked as a stream, a WebP (each frame of an animation) by libwebp
scaled down as it decodes, through the ``webp`` package's bindings and the libwebp they bundle
(its lossless decoder still keeps the whole picture inside, up to four bytes a pixel).
Thumbnails are made the same way.
"""

from __future__ import annotations

import io
import os
import re
import struct
import tempfile
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO
from xml.parsers import expat

from PIL import Image, ImageFile, UnidentifiedImageError

from .domain.vocabulary import DepositKind
from .similarity.image import ORIENTATIONS, decode_webp_scaled

IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
_OPENED_AS = {**IMAGE_FORMATS, "MPO": "image/jpeg"}  # Pillow opens a JPEG with an MPF index so
TEXT_MEDIA_TYPE = "text/plain; charset=utf-8"


class DepositRejected(ValueError):
    """Raised when a deposit cannot be accepted; ``str(exc)`` is the message to show."""


@dataclass(frozen=True)
class DepositInfo:
    kind: DepositKind
    media_type: str
    width: int | None = None
    height: int | None = None
    char_count: int | None = None


def _megapixels(n: int) -> str:
    return f"{n / 1_000_000:,.0f} million pixels"


def human_size(n: int) -> str:
    """A byte count for people: 300 bytes, 256 KB, 1.5 MB."""
    if n < 1024:
        return f"{n} bytes"
    if n < 1_048_576:
        return f"{n / 1024:.0f} KB"
    return f"{n / 1_048_576:.1f}".removesuffix(".0") + " MB"


# --------------------------------------------------------------------------- image containers

MAX_METADATA_BLOCK = 1_048_576  # one text chunk, XMP packet, EXIF block or ICC profile, unpacked
MAX_METADATA_TOTAL = 8 * 1_048_576  # all of a file's metadata together, unpacked
MAX_METADATA_BLOCKS = 1_000
MAX_NESTING = 100  # levels of XML elements, or of JSON brackets in a text chunk
MAX_EXIF_DIRECTORIES = 64
MAX_EXIF_ENTRIES = 1_000  # entries in one EXIF directory

_TRUNCATED = (
    "The image is damaged or incomplete: the file ends before the image does (it may have "
    "been cut short while it was copied or uploaded). Export it again."
)
_METADATA_ADVICE = "Remove the metadata (or export the image again without it) and upload it again."


def _damaged(detail: str) -> DepositRejected:
    return DepositRejected(f"The image is damaged or incomplete: {detail}. Export it again.")


@dataclass
class _Metadata:
    """What a file's metadata adds up to, checked block by block as the container is walked
    (and its JPEG scans, all its pictures together)."""

    blocks: int = 0
    total: int = 0
    scans: int = 0

    def block(self, carrier: str, size: int) -> None:
        self.blocks += 1
        self.total += size
        if self.blocks > MAX_METADATA_BLOCKS:
            raise DepositRejected(
                f"The image carries more than {MAX_METADATA_BLOCKS:,} metadata blocks. "
                + _METADATA_ADVICE
            )
        if size > MAX_METADATA_BLOCK:
            raise DepositRejected(
                f"The image's {carrier} metadata is {human_size(size)}; one metadata block may "
                f"be at most {human_size(MAX_METADATA_BLOCK)}. " + _METADATA_ADVICE
            )
        if self.total > MAX_METADATA_TOTAL:
            raise DepositRejected(
                f"The image carries more than {human_size(MAX_METADATA_TOTAL)} of metadata. "
                + _METADATA_ADVICE
            )

    def inflate(self, carrier: str, packed: bytes | memoryview) -> bytes | None:
        """Unpack a zlib-compressed block no further than the limit; None when it is corrupt
        (Pillow skips those too)."""
        unpacker = zlib.decompressobj()
        try:
            data = unpacker.decompress(packed, MAX_METADATA_BLOCK + 1)
        except zlib.error:
            return None
        if len(data) > MAX_METADATA_BLOCK or unpacker.unconsumed_tail:
            raise DepositRejected(
                f"The image's {carrier} metadata unpacks to more than "
                f"{human_size(MAX_METADATA_BLOCK)} (it may be a decompression bomb). "
                + _METADATA_ADVICE
            )
        self.block(carrier, len(data))
        return data


MAX_JPEG_SCANS = 32  # libjpeg's progression writes 10 (6 grey, 14 RGB, 18 CMYK), mozjpeg 5 to 17
MAX_PICTURES = 8  # pictures one multi-picture (MPF) index may list: Ultra HDR and stereo write 2

# Signatures that make a file open as an archive or document wherever they sit in it (ZIP and JAR
# readers look for the end-of-directory record near the end, RAR and 7-Zip scan for theirs, PDF
# readers take "%PDF-" in the first KB). Four bytes at least: in random bytes (an EXIF
# thumbnail, an ICC profile) one of these turns up about once in 700 MB; a two-byte signature
# would every 64 KB.
_ARCHIVES = {
    b"PK\x03\x04": "a ZIP archive (a ZIP or JAR file's entry)",
    b"PK\x01\x02": "a ZIP archive (a ZIP or JAR file's directory)",
    b"PK\x05\x06": "a ZIP archive (a ZIP or JAR file's directory end)",
    b"PK\x06\x06": "a ZIP archive (a ZIP64 directory end)",
    b"PK\x06\x07": "a ZIP archive (a ZIP64 directory locator)",
    b"PK\x07\x08": "a ZIP archive (a ZIP entry's descriptor)",
    b"Rar!\x1a\x07": "a RAR archive",
    b"7z\xbc\xaf\x27\x1c": "a 7-Zip archive",
    b"\xfd7zXZ\x00": "an XZ archive",
    b"MSCF\x00\x00\x00\x00": "a Windows cabinet (CAB) archive",
    b"%PDF-": "a PDF document",
}
_ARCHIVE = re.compile(b"|".join(re.escape(k) for k in _ARCHIVES))


def _no_archive(body: bytes | memoryview, carrier: str) -> None:
    """Refuse a segment or chunk body that carries another file's signature."""
    found = _ARCHIVE.search(body)
    if found:
        raise DepositRejected(
            f"The image's {carrier} holds {_ARCHIVES[found.group()]}: another file is hidden "
            "in the image. " + _METADATA_ADVICE
        )


class _Refused(Exception):
    def __init__(self, why: str) -> None:
        self.why = why


def check_xmp(packet: bytes, carrier: str = "XMP") -> None:
    """Refuse XML that declares a DTD or entities (billion laughs, external entities) or nests
    deeper than MAX_NESTING. XML that is merely not well-formed is left to the provenance reader,
    which reports it as unreadable."""
    parser = expat.ParserCreate()
    depth = 0

    def start(_name: str, _attrs: object) -> None:
        nonlocal depth
        depth += 1
        if depth > MAX_NESTING:
            raise _Refused("deep")

    def end(_name: str) -> None:
        nonlocal depth
        depth -= 1

    def dtd(*_args: object) -> None:
        raise _Refused("dtd")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = dtd
    parser.EntityDeclHandler = dtd
    parser.ExternalEntityRefHandler = dtd
    try:
        parser.Parse(bytes(packet), True)
    except _Refused as refused:
        if refused.why == "deep":
            raise DepositRejected(
                f"The image's {carrier} metadata is nested more than {MAX_NESTING} levels deep. "
                + _METADATA_ADVICE
            ) from None
        raise DepositRejected(
            f"The image's {carrier} metadata declares a DTD or entities, as XML attacks do (it "
            "could expand without end or read other files). " + _METADATA_ADVICE
        ) from None
    except (expat.ExpatError, ValueError, LookupError):  # LookupError: an unknown encoding
        return


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


def _check_nesting(value: bytes, carrier: str) -> None:
    """Refuse JSON-like text nested deeper than MAX_NESTING (brackets inside strings aside)."""
    if value.count(b"[") + value.count(b"{") <= MAX_NESTING:
        return
    depth = 0
    for m in _BRACKET.finditer(_JSON_STRING.sub(b"", value)):
        if m.group() in (b"[", b"{"):
            depth += 1
            if depth > MAX_NESTING:
                raise DepositRejected(
                    f"The image's {carrier} metadata is nested more than {MAX_NESTING} levels "
                    "deep. " + _METADATA_ADVICE
                )
        else:
            depth = max(0, depth - 1)


_EXIF_POINTERS = {0x8769, 0x8825, 0xA005}  # the Exif, GPS and Interoperability directories


def check_exif(block: bytes) -> None:
    """Refuse EXIF whose directories loop, chain without end or declare huge entry counts.

    Offsets that point outside the block are left to the provenance reader (which reports the
    EXIF as unreadable): cut-short EXIF is common and harmless."""
    data = bytes(block)
    if data.startswith(b"Exif\x00\x00"):
        data = data[6:]
    if len(data) < 8 or data[:4] not in (b"II*\x00", b"MM\x00*"):
        return
    order = "little" if data[:2] == b"II" else "big"

    def u16(at: int) -> int:
        return int.from_bytes(data[at : at + 2], order)

    def u32(at: int) -> int:
        return int.from_bytes(data[at : at + 4], order)

    pending, seen = [u32(4)], set()
    while pending:
        offset = pending.pop()
        if offset == 0:
            continue
        if offset in seen:
            raise DepositRejected(
                "The image's EXIF metadata is malformed: its directories point back to one "
                "already read, in a loop. " + _METADATA_ADVICE
            )
        seen.add(offset)
        if len(seen) > MAX_EXIF_DIRECTORIES:
            raise DepositRejected(
                f"The image's EXIF metadata is malformed: it chains more than "
                f"{MAX_EXIF_DIRECTORIES} directories. " + _METADATA_ADVICE
            )
        if offset + 2 > len(data):
            continue
        count = u16(offset)
        if count > MAX_EXIF_ENTRIES:
            raise DepositRejected(
                f"The image's EXIF metadata is malformed: one directory declares {count:,} "
                f"entries (at most {MAX_EXIF_ENTRIES:,} are read). " + _METADATA_ADVICE
            )
        entries = offset + 2
        for at in range(entries, min(entries + 12 * count, len(data) - 11), 12):
            if u16(at) in _EXIF_POINTERS and u16(at + 2) in (4, 13) and u32(at + 4) == 1:
                pending.append(u32(at + 8))
        if entries + 12 * count + 4 <= len(data):
            pending.append(u32(entries + 12 * count))  # the next directory in the chain


def _keyword(raw: bytes) -> str:
    name = "".join(c for c in raw[:40].decode("latin-1") if c.isprintable())
    return f"PNG text “{name}”"


def _png_text(kind: bytes, body: memoryview, meta: _Metadata) -> None:
    raw = bytes(body)
    key, _, rest = raw.partition(b"\x00")
    carrier = "XMP" if key == b"XML:com.adobe.xmp" else _keyword(key)
    value: bytes | None
    if kind == b"tEXt":
        value = rest
        meta.block(carrier, len(value))
    elif kind == b"zTXt":
        value = meta.inflate(carrier, rest[1:])
    else:  # iTXt: flag, method, language, translated keyword, text
        flag = rest[:1]
        _lang, _, rest2 = rest[2:].partition(b"\x00")
        _tkey, _, text = rest2.partition(b"\x00")
        if flag == b"\x01":
            value = meta.inflate(carrier, text)
        else:
            value = text
            meta.block(carrier, len(value))
    if value is None:
        return
    if carrier == "XMP":
        check_xmp(value)
    else:
        _check_nesting(value, carrier)


_PNG_IMAGE_CHUNKS = {
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT", b"bKGD",
    b"hIST", b"pHYs", b"sPLT", b"tIME", b"cICP", b"mDCv", b"cLLi", b"acTL", b"fcTL", b"fdAT",
}  # fmt: skip


@dataclass
class _Walk:
    """What the container walk found: the format, where the image ends, and where its pixel
    data lies for the decoding check."""

    fmt: str  # "PNG", "JPEG" or "WebP"
    end: int
    pictures: list[tuple[int, int]] = field(default_factory=list)  # JPEG: each picture's bytes
    ihdr: bytes = b""  # PNG
    idat: list[tuple[int, int]] = field(default_factory=list)  # PNG: the image data's bodies
    frames: list[tuple[int, int]] = field(default_factory=list)  # WebP: animation frames' bodies


def _check_png(data: bytes, meta: _Metadata, walk: _Walk) -> int:
    view = memoryview(data)
    n, pos = len(data), 8
    idat_run = "before"  # the image data: before it, in its one run of IDAT chunks, after it
    while True:
        if pos + 8 > n:
            raise DepositRejected(_TRUNCATED)
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        if not kind.isalpha() or length > 0x7FFF_FFFF:
            raise _damaged("its PNG chunks are garbled")
        end = pos + 12 + length
        if end > n:
            raise DepositRejected(_TRUNCATED)
        name = kind.decode("ascii")
        if zlib.crc32(view[pos + 4 : end - 4]) != int.from_bytes(data[end - 4 : end], "big"):
            raise _damaged(f"its PNG chunk “{name}” fails its checksum")
        if pos == 8 and kind != b"IHDR":
            raise _damaged("it does not begin with a PNG header")
        body = view[pos + 8 : end - 4]
        if kind == b"IDAT":
            if idat_run != "after":
                walk.idat.append((pos + 8, end - 4))
                idat_run = "in"
        else:
            if idat_run == "in":
                idat_run = "after"
            if kind not in (b"fdAT", b"IEND"):
                _no_archive(body, f"PNG “{name}” chunk")
        if kind == b"IHDR":
            walk.ihdr = bytes(body)
        if kind == b"IEND":
            return end
        if kind in (b"tEXt", b"zTXt", b"iTXt"):
            _png_text(kind, body, meta)
        elif kind == b"eXIf":
            meta.block("EXIF", length)
            check_exif(bytes(body))
        elif kind == b"iCCP":
            _name, _, packed = bytes(body).partition(b"\x00")
            meta.inflate("ICC colour profile", packed[1:])
        elif kind not in _PNG_IMAGE_CHUNKS:
            meta.block(f"PNG “{name}” chunk", length)
        pos = end


_JPEG_SCAN_END = re.compile(rb"\xff(?![\x00\xd0-\xd7\xff])")
_XMP_APP1 = b"http://ns.adobe.com/xap/1.0/\x00"
_SEVERAL = "The file holds several pictures (a multi-picture JPEG, as phones save HDR photos)"


@dataclass
class _Jpeg:
    end: int
    mpf: tuple[int, int] | None = None  # where its MPF index's TIFF header starts and ends


def _check_jpeg(data: bytes, meta: _Metadata, start: int = 0) -> _Jpeg:
    n, pos = len(data), start + 2
    scans, mpf = 0, None
    while True:
        if pos < n and data[pos] != 0xFF:  # stray bytes before a marker: libjpeg skips them
            pos = data.find(b"\xff", pos)
            if pos < 0:
                raise DepositRejected(_TRUNCATED)
        while pos < n and data[pos] == 0xFF:
            pos += 1
        if pos >= n:
            raise DepositRejected(_TRUNCATED)
        code = data[pos]
        pos += 1
        if code == 0xD9:  # end of image
            return _Jpeg(pos, mpf)
        if code == 0x00 or 0x02 <= code <= 0xBF:
            raise _damaged(f"it holds an unknown JPEG marker (FF{code:02X})")
        if code == 0xD8:
            raise _damaged("it holds a second start-of-image marker")
        if code == 0x01 or 0xD0 <= code <= 0xD7:  # markers without a segment
            continue
        if pos + 2 > n:
            raise DepositRejected(_TRUNCATED)
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2:
            raise _damaged("a JPEG segment declares an impossible length")
        end = pos + length
        if end > n:
            raise DepositRejected(_TRUNCATED)
        if 0xE0 <= code <= 0xEF or code == 0xFE:
            body = data[pos + 2 : end]
            name = "comment" if code == 0xFE else f"APP{code - 0xE0}"
            _no_archive(body, f"JPEG {name} segment")
            if code == 0xE1 and body.startswith(b"Exif\x00\x00"):
                meta.block("EXIF", len(body))
                check_exif(body)
            elif code == 0xE1 and body.startswith(_XMP_APP1):
                meta.block("XMP", len(body))
                check_xmp(body[len(_XMP_APP1) :])
            else:
                meta.block(f"JPEG {name}", len(body))
                if code == 0xE2 and body.startswith(b"MPF\x00") and mpf is None:
                    mpf = (pos + 6, end)
        pos = end
        if code == 0xDA:  # start of scan: entropy-coded data runs to the next real marker
            scans += 1
            meta.scans += 1
            if meta.scans > MAX_JPEG_SCANS * 2:  # a multi-picture file's pictures together
                raise DepositRejected(
                    f"The JPEG file's pictures are written in more than {MAX_JPEG_SCANS * 2} "
                    "scans together (passes over a picture, each of which must be decoded in "
                    "full). Export the main picture as an ordinary JPEG and upload it again."
                )
            if scans > MAX_JPEG_SCANS:
                raise DepositRejected(
                    f"The JPEG image is written in more than {MAX_JPEG_SCANS} scans (passes "
                    "over the picture, each of which must be decoded in full); cameras and "
                    "editors write 1 to about 20. Export it again as an ordinary JPEG "
                    "(baseline, or progressive with the default settings) and upload it again."
                )
            found = _JPEG_SCAN_END.search(data, pos)
            if found is None:
                raise DepositRejected(_TRUNCATED)
            pos = found.start()


def _mpf_index(data: bytes, at: int, end: int) -> list[tuple[int, int]]:
    """The pictures after the first that an MPF index lists: (where each starts, its size)."""
    block = data[at:end]
    malformed = _damaged("its multi-picture (MPF) index is malformed")
    if len(block) < 8 or block[:4] not in (b"II*\x00", b"MM\x00*"):
        raise malformed
    order = "little" if block[:2] == b"II" else "big"

    def u16(i: int) -> int:
        return int.from_bytes(block[i : i + 2], order)

    def u32(i: int) -> int:
        return int.from_bytes(block[i : i + 4], order)

    ifd = u32(4)
    if ifd + 2 > len(block):
        raise malformed
    tags = {}
    for i in range(min(u16(ifd), 64)):
        entry = ifd + 2 + 12 * i
        if entry + 12 > len(block):
            raise malformed
        tags[u16(entry)] = (u32(entry + 4), u32(entry + 8))  # count, value or offset
    if 0xB001 not in tags or 0xB002 not in tags:
        raise malformed
    number = tags[0xB001][1]  # a LONG, held in the entry itself
    if number > MAX_PICTURES:
        raise DepositRejected(
            f"{_SEVERAL}: its index lists {number:,}, and at most {MAX_PICTURES} are taken. "
            "Export the main picture as a plain JPEG and upload that."
        )
    size, offset = tags[0xB002]
    if number < 1 or size != 16 * number or offset + size > len(block):
        raise malformed
    pictures = []
    for i in range(1, number):  # the first entry is the main picture itself
        entry = offset + 16 * i
        length, start = u32(entry + 4), u32(entry + 8)
        if start == 0:
            raise malformed
        pictures.append((at + start, length))
    return sorted(pictures)


def _check_pictures(data: bytes, meta: _Metadata, first: _Jpeg, walk: _Walk) -> int:
    """Walk the pictures after the first that its MPF index lists: they must be exactly what
    follows it (zero padding aside), each a JPEG passing the same rules. Returns their end."""
    walk.pictures.append((0, first.end))
    if first.mpf is None:
        return first.end
    end = first.end
    mismatch = DepositRejected(
        f"{_SEVERAL}, but what follows the first picture is not what its index lists (another "
        "file may be hidden in it). Export the image again."
    )
    for start, length in _mpf_index(data, *first.mpf):
        if start + length > len(data):
            raise DepositRejected(_TRUNCATED)
        if start < end or data.count(0, end, start) != start - end:
            raise mismatch
        if not data.startswith(b"\xff\xd8\xff", start):
            raise mismatch
        picture = _check_jpeg(data, meta, start)
        if picture.end > start + length or data.count(0, picture.end, start + length) != (
            start + length - picture.end
        ):
            raise mismatch
        walk.pictures.append((start, start + length))
        end = start + length
    return end


_WEBP_IMAGE_CHUNKS = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF"}


def _check_webp(data: bytes, meta: _Metadata, walk: _Walk) -> int:
    n = len(data)
    size = int.from_bytes(data[4:8], "little")
    end = 8 + size
    if size < 4:
        raise _damaged("its WebP header declares an impossible size")
    if end > n:
        raise DepositRejected(_TRUNCATED)
    pos = 12
    while pos < end:
        if pos + 8 > end:
            raise _damaged("its WebP chunks do not add up to the size it declares")
        kind = data[pos : pos + 4]
        length = int.from_bytes(data[pos + 4 : pos + 8], "little")
        body_end = pos + 8 + length
        if body_end > end:
            raise _damaged("a WebP chunk runs past the end of the image")
        body = data[pos + 8 : body_end]
        if kind not in _WEBP_IMAGE_CHUNKS:
            name = "".join(c if c.isprintable() else "?" for c in kind.decode("latin-1"))
            _no_archive(body, f"WebP “{name.strip()}” chunk")
        if kind == b"EXIF":
            meta.block("EXIF", length)
            check_exif(body)
        elif kind == b"XMP ":
            meta.block("XMP", length)
            check_xmp(body)
        elif kind == b"ANMF":
            walk.frames.append((pos + 8, body_end))
        elif kind not in _WEBP_IMAGE_CHUNKS:
            meta.block("ICC colour profile" if kind == b"ICCP" else "WebP extra", length)
        pos = body_end + (length & 1)
    return max(end, min(pos, n))


def _walk(data: bytes) -> _Walk | None:
    meta = _Metadata()
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        walk = _Walk("PNG", 0)
        walk.end = _check_png(data, meta, walk)
    elif data.startswith(b"\xff\xd8\xff"):
        walk = _Walk("JPEG", 0)
        walk.end = _check_pictures(data, meta, _check_jpeg(data, meta), walk)
    elif len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        walk = _Walk("WebP", 0)
        walk.end = _check_webp(data, meta, walk)
    else:
        return None
    extra = len(data) - walk.end
    if extra > 0 and data.count(0, walk.end) != extra:  # padding with zero bytes is harmless
        raise DepositRejected(
            f"The file has {human_size(extra)} of other data after the end of the image (another "
            "file may be hidden in it). Export the image again so that the file holds the image "
            "alone."
        )
    if zipfile.is_zipfile(io.BytesIO(data)):
        # A ZIP's directory can hide in the image data itself (a PNG's uncompressed deflate
        # blocks, say), where no segment is looked into: ask the reader a ZIP tool would use.
        raise DepositRejected(
            "A ZIP archive is hidden in the image: a ZIP tool would open this file as an "
            "archive. Export the image again so that the file holds the image alone."
        )
    return walk


def check_container(data: bytes) -> str | None:
    """Walk a PNG, JPEG or WebP file's container and return its format (None for other files,
    left to Pillow, which refuses them); raise DepositRejected when it is cut short, damaged,
    has data after its end, or carries metadata that is too large or hostile."""
    walk = _walk(data)
    return walk.fmt if walk else None


# --------------------------------------------------------------------------- decoding in full


_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_ADAM7 = (  # Adam7's passes: first column and row, steps across and down
    (0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
    (0, 1, 1, 2),
)  # fmt: skip
_FILTERS = bytes(range(5))
_PIECE = 1 << 20


def _png_passes(ihdr: bytes) -> list[tuple[int, int]]:
    """(rows, bytes a row takes with its filter byte) of each pass over the picture: one, or
    Adam7's seven when it is interlaced."""
    width, height, depth, colour, _method, _filter, interlace = struct.unpack(">IIBBBBB", ihdr)
    if colour not in _PNG_CHANNELS:
        raise _damaged("its PNG header names an unknown colour type")
    bits = depth * _PNG_CHANNELS[colour]
    passes = []
    for x0, y0, dx, dy in _ADAM7 if interlace else ((0, 0, 1, 1),):
        w = (width - x0 + dx - 1) // dx if width > x0 else 0
        h = (height - y0 + dy - 1) // dy if height > y0 else 0
        if w and h:
            passes.append((h, 1 + (w * bits + 7) // 8))
    return passes


def _inflate_png(data: bytes, walk: _Walk) -> None:
    """Inflate a PNG's image data as a stream, a megabyte at a time, and check that it is a
    valid zlib stream (its checksum included) holding exactly the picture's rows, each with a
    known filter: all Pillow's decoder would find wrong, without the picture in memory."""
    passes, first = [], 0
    for rows, stride in _png_passes(walk.ihdr):
        passes.append((first, first + rows * stride, stride))
        first += rows * stride
    expected, done = first, 0
    inflater = zlib.decompressobj()
    view = memoryview(data)
    try:
        for start, end in walk.idat:
            pending: bytes | memoryview = view[start:end]
            while pending and not inflater.eof:
                piece = inflater.decompress(pending, _PIECE)
                pending = inflater.unconsumed_tail
                for lo, hi, stride in passes:  # the filter bytes of each pass in this piece
                    a, b = max(lo, done), min(hi, done + len(piece))
                    if a < b:
                        at = lo + -(-(a - lo) // stride) * stride
                        if piece[at - done : b - done : stride].translate(None, _FILTERS):
                            raise _damaged("a row of its image data has an unknown filter")
                done += len(piece)
                if done > expected:
                    raise _damaged("its image data holds more than the picture")
            if inflater.eof and (pending or inflater.unused_data):
                raise _damaged("its image data holds more than the picture")
    except zlib.error as exc:
        raise _damaged("its image data is corrupt") from exc
    if done < expected:
        raise _damaged("its image data ends before the picture does")


def _load_reduced(im: Image.Image) -> None:
    """Decode a JPEG at an eighth of its size: every scan's data is still decoded (so damage is
    found as at full size), only the inverse DCT and colour conversion are done small."""
    width, height = im.size
    im.draft(None, (max(1, width // 8), max(1, height // 8)))
    im.load()


def _check_jpeg_pictures(data: bytes, walk: _Walk, max_pixels: int) -> None:
    """Decode the pictures after the first (a gain map) too, each reduced."""
    for start, end in walk.pictures[1:]:
        with Image.open(io.BytesIO(data[start:end]), formats=["JPEG"]) as picture:
            width, height = picture.size
            if width * height > max_pixels:
                raise DepositRejected(
                    f"One of the file's pictures is {width} × {height} pixels; the limit is "
                    f"{_megapixels(max_pixels)}."
                )
            _load_reduced(picture)


def _frame_size(data: bytes, start: int) -> tuple[int, int]:
    """The width and height an ANMF frame whose body starts at ``start`` declares."""
    width = int.from_bytes(data[start + 6 : start + 9], "little") + 1
    return width, int.from_bytes(data[start + 9 : start + 12], "little") + 1


def _webp_stills(data: bytes, walk: _Walk) -> list[bytes]:
    """The file as still WebPs libwebp can decode: itself, or each animation frame's
    bitstream (its alpha with it) in a file of its own."""
    if not walk.frames:
        return [data[: walk.end]]
    stills = []
    for start, end in walk.frames:
        width, height = _frame_size(data, start)
        chunks, pos = {}, start + 16
        while pos + 8 <= end:
            length = int.from_bytes(data[pos + 4 : pos + 8], "little")
            chunks.setdefault(data[pos : pos + 4], data[pos : pos + 8 + length + (length & 1)])
            pos += 8 + length + (length & 1)
        bitstream = chunks.get(b"VP8 ") or chunks.get(b"VP8L") or b""
        body = b"WEBP"
        if b"ALPH" in chunks and bitstream.startswith(b"VP8 "):
            header = bytes([0x10, 0, 0, 0]) + (width - 1).to_bytes(3, "little")
            body += b"VP8X" + struct.pack("<I", 10) + header + (height - 1).to_bytes(3, "little")
            body += chunks[b"ALPH"]
        body += bitstream
        stills.append(b"RIFF" + struct.pack("<I", len(body)) + body)
    return stills


def _decode_webp(data: bytes, walk: _Walk) -> None:
    for still in _webp_stills(data, walk):
        if decode_webp_scaled(still, (1, 1), "RGBA") is None:
            raise _damaged("its WebP image data is corrupt or cut short")


#: An animation's frames, each decoded in full, may add up to this many times the pixel limit.
ANIMATION_PIXELS = 4


def _check_animation(data: bytes, walk: _Walk, max_pixels: int) -> None:
    """Refuse a WebP animation whose frames add up to more pixels than ANIMATION_PIXELS times
    the limit: each frame is decoded to be checked, and a few bytes can repeat a frame
    thousands of times."""
    total = 0
    for start, _end in walk.frames:
        width, height = _frame_size(data, start)
        total += width * height
    if total > ANIMATION_PIXELS * max_pixels:
        raise DepositRejected(
            f"The animation's {len(walk.frames):,} frames add up to {_megapixels(total)}; "
            f"they may add up to {_megapixels(ANIMATION_PIXELS * max_pixels)}. Shorten it or "
            "scale it down, or upload one picture of it."
        )


_OUT_OF_MEMORY = ImageFile.ERRORS[-9]  # "out of memory error"


def inspect_image(path: Path, *, max_pixels: int) -> DepositInfo:
    """Decode the image at ``path`` completely; raise DepositRejected when it is not acceptable."""
    data = path.read_bytes()
    walk = _walk(data)
    if walk is not None and walk.frames:
        _check_animation(data, walk, max_pixels)
    with warnings.catch_warnings():
        # Pillow warns of odd metadata ("Corrupt EXIF data"): the provenance readers report it;
        # here it is no reason to refuse, nor (with warnings as errors) to fail.
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=list(IMAGE_FORMATS)) as im:
                width, height = im.size
                if width < 1 or height < 1:
                    raise DepositRejected("The image has no pixels.")
                if width * height > max_pixels:
                    raise DepositRejected(
                        f"The image is {width} × {height} pixels; the limit is "
                        f"{_megapixels(max_pixels)}. Scale it down and upload it again."
                    )
                fmt = im.format or ""
                if fmt not in _OPENED_AS or walk is None:
                    raise DepositRejected("The file is not a JPEG, PNG or WebP image.")
                if walk.fmt == "JPEG":
                    _load_reduced(im)
                    _check_jpeg_pictures(data, walk, max_pixels)
                elif walk.fmt == "PNG":
                    _inflate_png(data, walk)
                else:
                    _decode_webp(data, walk)
        except DepositRejected:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise DepositRejected(
                f"The image declares more pixels than the limit of {_megapixels(max_pixels)} "
                "(it may be a decompression bomb). Scale it down and upload it again."
            ) from exc
        except UnidentifiedImageError as exc:
            if walk:  # the right signature, but a header Pillow cannot read
                raise _damaged(
                    f"it is marked as a {walk.fmt} image, but its header is invalid"
                ) from exc
            raise DepositRejected(
                "The file is not a JPEG, PNG or WebP image. Save it in one of those formats."
            ) from exc
        # Running out of memory is left to the caller: the picture ran out of its memory budget
        # (see registry.sandbox), which says so; it is no sign that the file is damaged.
        except OSError as exc:
            if _OUT_OF_MEMORY in str(exc):  # a decoder's allocation failed (Pillow's error -9)
                raise MemoryError(str(exc)) from exc
            raise DepositRejected(
                "The image is damaged or incomplete and cannot be read. Export it again."
            ) from exc
        except (SyntaxError, ValueError, EOFError, IndexError) as exc:
            raise DepositRejected(
                "The image is damaged or incomplete and cannot be read. Export it again."
            ) from exc
    return DepositInfo(DepositKind.IMAGE, _OPENED_AS[fmt], width=width, height=height)


_UTF16 = (
    "The text is not valid UTF-8: it is saved as UTF-16 (or UTF-32), two or four bytes to a "
    "character. Save it as UTF-8 and try again."
)


def _looks_like_utf16(data: bytes) -> bool:
    """UTF-16 or UTF-32 with a byte-order mark, or UTF-16 without one: every other byte zero
    (as in mostly Latin text), the bytes between them not."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or data[:4] == b"\x00\x00\xfe\xff":
        return True
    pairs = min(len(data), 4096) // 2
    if pairs < 2:
        return False
    even = data[0 : 2 * pairs : 2].count(0)
    odd = data[1 : 2 * pairs : 2].count(0)
    return max(even, odd) >= 0.4 * pairs and min(even, odd) <= 0.05 * pairs


# C0 and C1 controls but tab, line feed, form feed, carriage return and next line (U+0085, a
# line break in Unicode and in EBCDIC-born texts).
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x84\x86-\x9f]")
# Something that shows: not white space, not a default-ignorable code point (zero-width
# characters, direction marks and isolates, variation selectors, tags, Hangul fillers, ...:
# Unicode's Default_Ignorable_Code_Point), not the blank Braille pattern.
_VISIBLE = re.compile(
    "[^\\s\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)


def stored_text(data: bytes) -> str:
    """The text of a text deposit already accepted (UTF-8, an optional BOM), for reading it
    back: the rules of ``decode_text`` judged it when it was filed, and rules made since do not
    make a registered text unreadable."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8", "replace")


def decode_text(data: bytes) -> str:
    """The text in ``data`` (UTF-8, an optional BOM); raise DepositRejected when it is not one."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if _looks_like_utf16(data):
        raise DepositRejected(_UTF16)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DepositRejected(
            f"The text is not valid UTF-8 (at byte {exc.start}). Save it as UTF-8 and try again."
        ) from exc
    if found := _CONTROL.search(text):
        raise DepositRejected(
            f"The text contains control characters (such as U+{ord(found.group()):04X}), "
            "so it is not a plain text file."
        )
    if not text.strip():
        raise DepositRejected("The text is empty.")
    if not _VISIBLE.search(text):
        raise DepositRejected(
            "The text has no visible characters: only spaces, line breaks and invisible "
            "formatting characters (such as zero-width spaces or direction marks). Attach or "
            "paste the text of the work itself."
        )
    return text


def inspect_text(path: Path, *, max_bytes: int) -> DepositInfo:
    """Check the text file at ``path``; raise DepositRejected when it is not acceptable."""
    size = path.stat().st_size
    if size > max_bytes:
        raise DepositRejected(
            f"The text is {size:,} bytes; the limit for texts is {human_size(max_bytes)} "
            f"({max_bytes:,} bytes)."
        )
    text = decode_text(path.read_bytes())
    return DepositInfo(DepositKind.TEXT, TEXT_MEDIA_TYPE, char_count=len(text))


def inspect(
    path: Path, *, expected: DepositKind | None, max_pixels: int, max_text_bytes: int
) -> DepositInfo:
    """Inspect a staged deposit as ``expected``; with None, as an image and failing that a text.

    Raises DepositRejected with the message for the uploader; when the file is fine but of the
    other kind than ``expected``, the message says so.
    """

    def as_kind(kind: DepositKind) -> DepositInfo:
        if kind == DepositKind.IMAGE:
            return inspect_image(path, max_pixels=max_pixels)
        return inspect_text(path, max_bytes=max_text_bytes)

    first = expected or DepositKind.IMAGE
    other = DepositKind.TEXT if first == DepositKind.IMAGE else DepositKind.IMAGE
    try:
        return as_kind(first)
    except DepositRejected as error:
        try:
            info = as_kind(other)
        except DepositRejected:
            if expected is None:
                raise DepositRejected(f"{error} Texts must be UTF-8 plain text.") from error
            raise error from None
        if expected is None:
            return info
        raise DepositRejected(
            f"This file is {other.with_article}, but the category you chose is deposited as "
            f"{expected.with_article}. Change the category or attach the right file."
        ) from error


def _webp_thumbnail(source: Path | BinaryIO, im: Image.Image, max_side: int) -> Image.Image | None:
    """A still WebP decoded by libwebp straight at thumbnail size; None to leave it to Pillow."""
    if getattr(im, "is_animated", False):
        return None
    width, height = im.size
    scale = min(1.0, max_side / max(width, height))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    mode = "RGBA" if im.mode == "RGBA" else "RGB"
    if isinstance(source, Path):
        data = source.read_bytes()
    else:
        at = source.tell()
        source.seek(0)
        data = source.read()
        source.seek(at)
    pixels = decode_webp_scaled(data, size, mode)
    return None if pixels is None else Image.frombytes(mode, size, pixels)


def make_thumbnail(source: Path | BinaryIO, target: Path, *, max_side: int) -> None:
    """Write a WebP thumbnail of the image at ``source`` (a path, or an open file such as a
    deposit the store verified) no larger than ``max_side`` pixels,
    turned upright as its EXIF orientation says. Made small before anything else is done to
    it: a JPEG decoded at a reduced scale, a WebP scaled as libwebp decodes it, a PNG reduced
    right after decoding; turned and converted once small."""
    with Image.open(source, formats=list(IMAGE_FORMATS)) as im:
        orientation = im.getexif().get(0x0112)
        small = _webp_thumbnail(source, im, max_side) if im.format == "WEBP" else None
        if small is None:
            im.thumbnail((max_side, max_side))
            small = im
        if orientation in ORIENTATIONS:
            small = small.transpose(ORIENTATIONS[orientation])
        if small.mode not in {"RGB", "RGBA"}:
            small = small.convert("RGBA" if "A" in small.getbands() else "RGB")
        target.parent.mkdir(parents=True, exist_ok=True)
        # a temporary name of its own: two requests may make the same thumbnail at once
        fd, name = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        tmp = Path(name)
        try:
            with os.fdopen(fd, "wb") as fh:
                small.save(fh, format="WEBP", quality=80)
            tmp.replace(target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
