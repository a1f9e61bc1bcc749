"""What a deposited file is, decided by decoding it, never by its name.

An image must decode fully as JPEG, PNG or WebP within the pixel limit (a decompression bomb is
refused before its pixels are decoded); a text must be UTF-8 with something in it. Rejections
carry a message written for the person who uploaded the file. Pure: Pillow, no Flask, no SQL.

Before Pillow sees an image its container is walked (:func:`check_container`): it must end where
the image ends (a file cut short, or with another file appended to it, is refused), every PNG
chunk must pass its checksum, and the metadata it carries must be of a sane size and shape: no
block over 1 MB (compressed ones are unpacked only that far), no XML with a DTD or entities, no
nesting deeper than 100 levels, no EXIF directories that loop. What passes can still be odd (the
provenance readers report what they cannot read), but it cannot be a bomb or a polyglot.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from xml.parsers import expat

from PIL import Image, ImageOps, UnidentifiedImageError

from .domain.vocabulary import DepositKind

IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
TEXT_MEDIA_TYPE = "text/plain; charset=utf-8"
_ALLOWED_CONTROLS = {"\t", "\n", "\r", "\f"}


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
    return f"{n / 1_000_000:.0f} million pixels"


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
    """What a file's metadata adds up to, checked block by block as the container is walked."""

    blocks: int = 0
    total: int = 0

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


def _check_png(data: bytes, meta: _Metadata) -> int:
    view = memoryview(data)
    n, pos = len(data), 8
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


def _check_jpeg(data: bytes, meta: _Metadata) -> int:
    n, pos = len(data), 2
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
            return pos
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
            if code == 0xE1 and body.startswith(b"Exif\x00\x00"):
                meta.block("EXIF", len(body))
                check_exif(body)
            elif code == 0xE1 and body.startswith(_XMP_APP1):
                meta.block("XMP", len(body))
                check_xmp(body[len(_XMP_APP1) :])
            elif code == 0xE2 and body.startswith(b"MPF\x00"):
                raise DepositRejected(
                    "The file holds several pictures (a multi-picture “MPO” JPEG, as some "
                    "cameras save). Export the main picture as a plain JPEG and upload that."
                )
            else:
                meta.block("JPEG comment" if code == 0xFE else f"JPEG APP{code - 0xE0}", len(body))
        pos = end
        if code == 0xDA:  # start of scan: entropy-coded data runs to the next real marker
            found = _JPEG_SCAN_END.search(data, pos)
            if found is None:
                raise DepositRejected(_TRUNCATED)
            pos = found.start()


_WEBP_IMAGE_CHUNKS = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF"}


def _check_webp(data: bytes, meta: _Metadata) -> int:
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
        if kind == b"EXIF":
            meta.block("EXIF", length)
            check_exif(body)
        elif kind == b"XMP ":
            meta.block("XMP", length)
            check_xmp(body)
        elif kind not in _WEBP_IMAGE_CHUNKS:
            meta.block("ICC colour profile" if kind == b"ICCP" else "WebP extra", length)
        pos = body_end + (length & 1)
    return max(end, min(pos, n))


def check_container(data: bytes) -> str | None:
    """Walk a PNG, JPEG or WebP file's container and return its format (None for other files,
    left to Pillow, which refuses them); raise DepositRejected when it is cut short, damaged,
    has data after its end, or carries metadata that is too large or hostile."""
    meta = _Metadata()
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        fmt, end = "PNG", _check_png(data, meta)
    elif data.startswith(b"\xff\xd8\xff"):
        fmt, end = "JPEG", _check_jpeg(data, meta)
    elif len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        fmt, end = "WebP", _check_webp(data, meta)
    else:
        return None
    extra = len(data) - end
    if extra > 0 and data.count(0, end) != extra:  # padding with zero bytes is harmless
        raise DepositRejected(
            f"The file has {human_size(extra)} of other data after the end of the image (another "
            "file may be hidden in it). Export the image again so that the file holds the image "
            "alone."
        )
    return fmt


def inspect_image(path: Path, *, max_pixels: int) -> DepositInfo:
    """Decode the image at ``path`` completely; raise DepositRejected when it is not acceptable."""
    container = check_container(path.read_bytes())
    with warnings.catch_warnings():
        # Pillow warns of odd metadata ("Corrupt EXIF data"): the provenance readers report it;
        # here it is no reason to refuse, nor (with warnings as errors) to fail.
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path, formats=list(IMAGE_FORMATS)) as im:
                width, height = im.size
                if width < 1 or height < 1:
                    raise DepositRejected("The image has no pixels.")
                if width * height > max_pixels:
                    raise DepositRejected(
                        f"The image is {width} × {height} pixels; the limit is "
                        f"{_megapixels(max_pixels)}. Scale it down and upload it again."
                    )
                fmt = im.format or ""
                im.load()
        except DepositRejected:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise DepositRejected(
                f"The image declares more pixels than the limit of {_megapixels(max_pixels)} "
                "(it may be a decompression bomb). Scale it down and upload it again."
            ) from exc
        except UnidentifiedImageError as exc:
            if container:  # the right signature, but a header Pillow cannot read
                raise _damaged(
                    f"it is marked as a {container} image, but its header is invalid"
                ) from exc
            raise DepositRejected(
                "The file is not a JPEG, PNG or WebP image. Save it in one of those formats."
            ) from exc
        # MemoryError is left to the caller: the picture ran out of its memory budget (see
        # registry.sandbox), which says so; it is no sign that the file is damaged.
        except (OSError, SyntaxError, ValueError, EOFError, IndexError) as exc:
            raise DepositRejected(
                "The image is damaged or incomplete and cannot be read. Export it again."
            ) from exc
    if fmt not in IMAGE_FORMATS:
        raise DepositRejected("The file is not a JPEG, PNG or WebP image.")
    return DepositInfo(DepositKind.IMAGE, IMAGE_FORMATS[fmt], width=width, height=height)


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
    for ch in text:
        if unicodedata.category(ch) == "Cc" and ch not in _ALLOWED_CONTROLS:
            raise DepositRejected(
                f"The text contains control characters (such as U+{ord(ch):04X}), "
                "so it is not a plain text file."
            )
    if not text.strip():
        raise DepositRejected("The text is empty.")
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


def make_thumbnail(source: Path | BinaryIO, target: Path, *, max_side: int) -> None:
    """Write a WebP thumbnail of the image at ``source`` (a path, or an open file such as a
    deposit the store verified) no larger than ``max_side`` pixels."""
    with Image.open(source, formats=list(IMAGE_FORMATS)) as im:
        im = ImageOps.exif_transpose(im)
        im.thumbnail((max_side, max_side))
        if im.mode not in {"RGB", "RGBA"}:
            im = im.convert("RGBA" if "A" in im.getbands() else "RGB")
        target.parent.mkdir(parents=True, exist_ok=True)
        # a temporary name of its own: two requests may make the same thumbnail at once
        fd, name = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        tmp = Path(name)
        try:
            with os.fdopen(fd, "wb") as fh:
                im.save(fh, format="WEBP", quality=80)
            tmp.replace(target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
