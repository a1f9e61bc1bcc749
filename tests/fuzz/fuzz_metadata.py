"""Fuzz the metadata: the container walk and the provenance readers on the metadata blocks a
file carries, the fuzzer's bytes wrapped in a valid carrier (checksums and lengths right, so the
input reaches the parsers rather than stopping at a broken chunk).

    python tests/fuzz/fuzz_metadata.py CORPUS_DIR -max_total_time=30

Carriers: PNG tEXt, zTXt, iTXt (plain, compressed, XMP) and eXIf; JPEG APP1 EXIF and XMP, and a
comment; WebP EXIF and XMP. The first three bytes pick the carrier, the text
key and a flag (compressed or not); the rest is the block. For each input:

- ``deposits.inspect`` accepts the image or refuses it with ``DepositRejected``, nothing else;
- whatever Pillow opens, ``provenance.read_image`` (EXIF, XMP, PNG text, C2PA) reads without
  raising, and its findings can be judged, turned into suggestions and stored as JSON (UTF-8,
  as the database takes it). Hostile metadata is reported as unreadable, never raised.
"""

from __future__ import annotations

import io
import json
import sys
import tempfile
import warnings
import zlib
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository

with atheris.instrument_imports():
    from PIL import Image

    Image.init()
    from registry import deposits, provenance
    from registry.provenance import readers

import seeds  # noqa: E402

UPLOAD = Path(tempfile.mkdtemp(prefix="fuzz-metadata-")) / "upload"
KEYS = [b"parameters", b"AIGC", b"Comment", b"prompt", b"workflow", b"XML:com.adobe.xmp"]
XMP_APP1 = b"http://ns.adobe.com/xap/1.0/\0"
CARRIERS = 11
MEDIA_TYPES = {b"\x89P": "image/png", b"\xff\xd8": "image/jpeg", b"RI": "image/webp"}
OPEN_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError)


def build(carrier: int, key: bytes, flag: int, block: bytes) -> bytes:
    """A small valid image carrying ``block`` in ``carrier``."""
    if carrier == 0:
        return seeds.png_with([seeds.png_chunk(b"tEXt", key + b"\0" + block)])
    if carrier == 1:
        return seeds.png_with([seeds.png_chunk(b"zTXt", key + b"\0\0" + zlib.compress(block))])
    if carrier == 2:
        text = zlib.compress(block) if flag & 1 else block
        return seeds.png_with(
            [seeds.png_chunk(b"iTXt", key + b"\0" + bytes([flag & 1, 0]) + b"en\0\0" + text)]
        )
    if carrier == 3:
        return seeds.png_with([seeds.png_chunk(b"eXIf", block)])
    if carrier == 4:
        return seeds.jpeg_with([seeds.jpeg_segment(0xE1, b"Exif\0\0" + block[:65000])])
    if carrier == 5:
        return seeds.jpeg_with([seeds.jpeg_segment(0xE1, XMP_APP1 + block[:65000])])
    if carrier == 6:
        return seeds.jpeg_with([seeds.jpeg_segment(0xFE, block[:65000])])
    if carrier == 7:
        return seeds.webp_with([seeds.riff_chunk(b"EXIF", block)])
    if carrier == 8:
        return seeds.webp_with([seeds.riff_chunk(b"XMP ", block)])
    if carrier == 9:  # XMP in a PNG, as Photoshop writes it
        key = b"XML:com.adobe.xmp"
        return seeds.png_with([seeds.png_chunk(b"iTXt", key + b"\0\0\0\0\0" + block)])
    return block  # the whole file


def read(data: bytes) -> None:
    """The provenance service's reading of a deposit (services/provenance.py), checked."""
    media_type = MEDIA_TYPES.get(data[:2])
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        try:
            im = Image.open(io.BytesIO(data))
        except (*OPEN_ERRORS, Image.DecompressionBombError):
            return  # not an image Pillow opens: no deposit would reach the readers
        with im:
            found = provenance.read_image(im, data=data, media_type=media_type)
    for declared in ("digitalCapture", "trainedAlgorithmicMedia", None):
        provenance.judge(found, declared_source_type=declared, declared_ai_tools=["Midjourney"])
    provenance.suggestions(found)
    json.dumps(found.to_dict(), ensure_ascii=False).encode("utf-8")
    readers.read_text(found.to_dict().__repr__()[:2000])


def test_one_input(data: bytes) -> None:
    if len(data) < 3:
        return
    carrier, key, flag = data[0] % CARRIERS, KEYS[data[1] % len(KEYS)], data[2]
    image = build(carrier, key, flag, data[3:])
    UPLOAD.write_bytes(image)
    try:
        deposits.inspect(UPLOAD, expected=None, max_pixels=1_000_000, max_text_bytes=65_536)
    except deposits.DepositRejected as exc:
        if not str(exc).strip():
            raise AssertionError("a rejection without a message") from exc
    read(image)


def main() -> None:
    corpus = seeds.corpus_dir(sys.argv)
    if corpus is not None:
        blocks = [
            seeds.exif_block(),
            seeds.exif_block()[6:] if seeds.exif_block().startswith(b"Exif") else b"",
            seeds.XMP,
            seeds.AIGC.encode(),
            b"a lighthouse\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Model hash: ab",
            b'{"prompt": {"3": {"class_type": "KSampler"}}}',
        ]
        samples = [
            bytes([c, k, f]) + b
            for c in range(CARRIERS - 1)
            for k, f in ((1, 0), (5, 1))
            for b in blocks
        ]
        samples += [bytes([CARRIERS - 1, 0, 0]) + image for image in seeds.images()]
        seeds.write_corpus(corpus, samples)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
