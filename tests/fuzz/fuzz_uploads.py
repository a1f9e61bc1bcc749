"""Fuzz the upload decoding: ``registry.deposits.inspect`` on arbitrary bytes, as each kind.

    python tests/fuzz/fuzz_uploads.py CORPUS_DIR -max_total_time=30

The first byte picks the kind the category expects (none, image, text); the rest is the file.
Every input must be accepted, as what it is, or refused with ``DepositRejected`` and a message;
any other exception is a crash (an upload that would answer 500).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository

with atheris.instrument_imports():  # Pillow's Python side too, its plugins included
    from PIL import Image

    Image.init()
    from registry import deposits
    from registry.domain.vocabulary import DepositKind

import seeds  # noqa: E402

MAX_PIXELS = 1_000_000
MAX_TEXT_BYTES = 64 * 1024
KINDS = [None, DepositKind.IMAGE, DepositKind.TEXT]
UPLOAD = Path(tempfile.mkdtemp(prefix="fuzz-uploads-")) / "upload"


def test_one_input(data: bytes) -> None:
    if not data:
        return
    expected, body = KINDS[data[0] % 3], data[1:]
    UPLOAD.write_bytes(body)
    try:
        info = deposits.inspect(
            UPLOAD, expected=expected, max_pixels=MAX_PIXELS, max_text_bytes=MAX_TEXT_BYTES
        )
    except deposits.DepositRejected as exc:
        if not str(exc).strip():
            raise AssertionError("a rejection without a message") from exc
        return
    if expected is not None and info.kind != expected:
        raise AssertionError(f"accepted as {info.kind} when {expected} was expected")
    if info.kind == DepositKind.IMAGE:
        if not (info.width and info.height and info.width * info.height <= MAX_PIXELS):
            raise AssertionError(f"accepted an image of {info.width} x {info.height}")
        deposits.check_container(body)  # what was accepted passes the walk on its own
    elif not (info.char_count and len(body) <= MAX_TEXT_BYTES):
        raise AssertionError(f"accepted a text of {len(body)} bytes, {info.char_count} chars")


def main() -> None:
    corpus = seeds.corpus_dir(sys.argv)
    if corpus is not None:
        samples = [bytes([k]) + s for s in seeds.images() for k in (0, 1)]
        samples += [bytes([k]) + t for t in seeds.TEXTS for k in (0, 2)]
        seeds.write_corpus(corpus, samples)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
