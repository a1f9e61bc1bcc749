"""What a deposited file is, decided by decoding it, never by its name.

An image must decode fully as JPEG, PNG or WebP within the pixel limit (a decompression bomb is
refused before its pixels are decoded); a text must be UTF-8 with something in it. Rejections
carry a message written for the person who uploaded the file. Pure: Pillow, no Flask, no SQL.
"""

from __future__ import annotations

import os
import tempfile
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path

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


def inspect_image(path: Path, *, max_pixels: int) -> DepositInfo:
    """Decode the image at ``path`` completely; raise DepositRejected when it is not acceptable."""
    with warnings.catch_warnings():
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
            raise DepositRejected(
                "The file is not a JPEG, PNG or WebP image. Save it in one of those formats."
            ) from exc
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, MemoryError) as exc:
            raise DepositRejected(
                "The image is damaged or incomplete and cannot be read. Export it again."
            ) from exc
    if fmt not in IMAGE_FORMATS:
        raise DepositRejected("The file is not a JPEG, PNG or WebP image.")
    return DepositInfo(DepositKind.IMAGE, IMAGE_FORMATS[fmt], width=width, height=height)


def decode_text(data: bytes) -> str:
    """The text in ``data`` (UTF-8, an optional BOM); raise DepositRejected when it is not one."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
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
            f"The text is {size / 1_048_576:.1f} MB; the limit for texts is "
            f"{max_bytes / 1_048_576:.0f} MB."
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


def make_thumbnail(source: Path, target: Path, *, max_side: int) -> None:
    """Write a WebP thumbnail of the image at ``source`` no larger than ``max_side`` pixels."""
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
