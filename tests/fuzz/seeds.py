"""The fuzzers' starting corpus and shared plumbing: small valid files in every accepted format
(with the metadata the provenance readers look for), a few refused ones, and texts.

Made here with Pillow rather than kept as files, so the corpus is always in step with the code.
"""

from __future__ import annotations

import io
import json
import struct
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script: make the registry importable
    sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw, PngImagePlugin  # noqa: E402

from tests import factories  # noqa: E402

AIGC = json.dumps({"AIGC": factories.AIGC})
XMP = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
    'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
    'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/" '
    'Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/'
    'trainedAlgorithmicMedia" xmp:CreatorTool="Midjourney 6">'
    f"<TC260:AIGC>{AIGC}</TC260:AIGC></rdf:Description></rdf:RDF></x:xmpmeta>"
    '<?xpacket end="w"?>'
).encode()
TEXTS = [
    b"Tide Tables\n\nThe harbour does not remember him.\nThe gulls are other gulls.\n",
    "\ufeff山居秋暝\n空山新雨后，天气晚来秋。\n本内容由人工智能生成\n".encode(),
    b"An essay. Generated with ChatGPT.\r\n\tIndented.\f\n",
    "Café crème, déjà vu.\n".encode("utf-16"),
    b"caf\xe9",
]


def picture(size: tuple[int, int] = (24, 16)) -> Image.Image:
    img = Image.new("RGB", size, (200, 60, 40))
    draw = ImageDraw.Draw(img)
    draw.ellipse([2, 2, size[0] - 3, size[1] - 3], fill=(30, 90, 200))
    draw.line([0, 0, size[0], size[1]], fill=(255, 255, 0))
    return img


def exif_block() -> bytes:
    exif = Image.Exif()
    exif[0x0131] = "Stable Diffusion"  # Software
    exif[0x013B] = "Ana Costa"  # Artist
    exif[0x010E] = AIGC  # ImageDescription
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\0\0\0Steps: 20, Sampler: Euler a, Seed: 7"
    return exif.tobytes()


def encode(img: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    img.save(out, format=fmt, **params)
    return out.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def riff_chunk(kind: bytes, data: bytes) -> bytes:
    return kind + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")


def jpeg_segment(code: int, body: bytes) -> bytes:
    return bytes([0xFF, code]) + struct.pack(">H", len(body) + 2) + body


def png_with(chunks: list[bytes]) -> bytes:
    """A small PNG with ``chunks`` before its image data."""
    data = BASE["png"]
    at = data.index(b"IDAT") - 4
    return data[:at] + b"".join(chunks) + data[at:]


def jpeg_with(segments: list[bytes]) -> bytes:
    data = BASE["jpeg"]
    return data[:2] + b"".join(segments) + data[2:]


def webp_with(chunks: list[bytes]) -> bytes:
    """A lossy WebP in the extended format (VP8X, EXIF and XMP flags set) with ``chunks``."""
    simple = BASE["webp"]
    width, height = Image.open(io.BytesIO(simple)).size
    header = bytes([0x0C, 0, 0, 0]) + (width - 1).to_bytes(3, "little")
    header += (height - 1).to_bytes(3, "little")
    body = b"WEBP" + riff_chunk(b"VP8X", header) + simple[12:] + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


BASE = {
    "png": encode(picture(), "PNG"),
    "jpeg": encode(picture(), "JPEG", quality=60),
    "webp": encode(picture(), "WEBP", quality=60),
}


def images() -> list[bytes]:
    """Valid images of every accepted kind, most carrying metadata, and a few refused ones."""
    img = picture()
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a lighthouse in fog\nSteps: 20, Sampler: Euler a, Seed: 7")
    info.add_text("AIGC", AIGC, zip=True)
    info.add_itxt("XML:com.adobe.xmp", XMP.decode(), zip=False)
    animated = [picture(), picture((24, 16)).rotate(90)]
    out = [
        BASE["png"],
        BASE["jpeg"],
        BASE["webp"],
        encode(img, "PNG", pnginfo=info, exif=exif_block()),
        encode(img.convert("RGBA"), "PNG"),
        encode(img.convert("P"), "PNG"),
        encode(img.convert("1"), "PNG"),
        encode(img.convert("I;16"), "PNG"),
        encode(img, "PNG", save_all=True, append_images=animated[1:]),
        encode(img, "JPEG", exif=exif_block(), progressive=True),
        jpeg_with([jpeg_segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0" + XMP)]),
        encode(img, "WEBP", lossless=True, exif=exif_block(), xmp=XMP),
        encode(img, "WEBP", save_all=True, append_images=animated[1:]),
        encode(img, "GIF"),
        encode(img, "BMP"),
    ]
    return out


def write_corpus(directory: Path, samples: list[bytes]) -> None:
    """Fill an empty corpus folder with ``samples`` (a folder in use is left as it is)."""
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        return
    for i, sample in enumerate(samples):
        (directory / f"seed-{i:03d}").write_bytes(sample)


def corpus_dir(argv: list[str]) -> Path | None:
    """The corpus folder among libFuzzer's arguments (the first that is not an option)."""
    return next((Path(a) for a in argv[1:] if not a.startswith("-")), None)


def _jpeg_scans(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of each scan in a JPEG: its SOS segment and the entropy-coded data after it."""
    pos, scans = 2, []
    while data[pos + 1] != 0xD9:
        end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        if data[pos + 1] == 0xDA:  # the data runs to the next marker that is not a stuffed byte
            while data[data.index(b"\xff", end) + 1] in (0x00, *range(0xD0, 0xD8)):
                end = data.index(b"\xff", end) + 2
            end = data.index(b"\xff", end)
            scans.append((pos, end))
        pos = end
    return scans


def jpeg_with_scans(progressive: bytes, scans: int) -> bytes:
    """``progressive`` (a progressive JPEG) with its later scans, and the tables sent before
    each, repeated until it has ``scans`` scans: each costs a decoder a pass over the whole
    picture, as in the hundreds-of-scans attack (libjpeg warns of the odd progression and goes
    on)."""
    found = _jpeg_scans(progressive)
    head = progressive[: found[0][1]]
    later = [progressive[found[i - 1][1] : found[i][1]] for i in range(1, len(found))]
    # First passes only (Ah = 0): they set coefficients rather than refine them, so a repeat
    # decodes as cleanly, and at the same cost, as the first time.
    first = [
        part for part, (at, _) in zip(later, found[1:], strict=True) if _ah(progressive, at) == 0
    ]
    extra = [first[i % len(first)] for i in range(scans - len(found))]
    return head + b"".join(later) + b"".join(extra) + b"\xff\xd9"


def _ah(data: bytes, sos: int) -> int:
    count = data[sos + 4]
    return data[sos + 5 + 2 * count + 2] >> 4


# ---- multi-picture JPEGs (MPF), as phones write Ultra HDR photos --------------------------------

HDRGM = "http://ns.adobe.com/hdr-gain-map/1.0/"


def _xmp_packet(attributes: str, inner: str = "") -> bytes:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
        f'xmlns:hdrgm="{HDRGM}" {attributes}>{inner}</rdf:Description></rdf:RDF></x:xmpmeta>'
        '<?xpacket end="w"?>'
    ).encode()


def _mpf(sizes: list[int], at: int) -> bytes:
    """An APP2 MPF segment indexing pictures of ``sizes`` bytes laid one after another, the
    first (which holds this segment, its TIFF header at ``at`` in the file) starting at 0."""
    entries = b""
    offset = 0
    for i, size in enumerate(sizes):
        kind = 0x20030000 if i == 0 else 0  # representative, baseline primary; undefined
        entries += struct.pack("<IIIHH", kind, size, offset - at if i else 0, 0, 0)
        offset += size
    ifd = struct.pack("<H", 3)
    ifd += struct.pack("<HHI", 0xB000, 7, 4) + b"0100"
    ifd += struct.pack("<HHII", 0xB001, 4, 1, len(sizes))
    ifd += struct.pack("<HHII", 0xB002, 7, len(entries), 8 + 2 + 3 * 12 + 4)
    body = b"MPF\x00II*\x00" + struct.pack("<I", 8) + ifd + b"\0\0\0\0" + entries
    return jpeg_segment(0xE2, body)


def multi_picture(
    primary: bytes, *others: bytes, sizes: list[int] | None = None, count: int | None = None
) -> bytes:
    """``primary`` (a JPEG) with an MPF index right after its start listing itself and
    ``others``, which follow it; ``sizes`` and ``count`` overrule what the index says."""
    n = count or 1 + len(others)
    real = [len(primary) + len(_mpf([0] * n, 0)), *map(len, others)]
    listed = (sizes or real) + [1] * (n - len(real))  # entries beyond those sent: a byte each
    return primary[:2] + _mpf(listed, 2 + 4 + 4) + primary[2:] + b"".join(others)


def ultra_hdr(size: tuple[int, int] = (64, 48)) -> bytes:
    """An Ultra HDR JPEG as Android phones write it: the picture with hdrgm XMP and a container
    directory, an MPF index, then the gain map (a quarter-size JPEG with its hdrgm XMP)."""
    gain_map = encode(
        Image.new("L", (max(1, size[0] // 4), max(1, size[1] // 4)), 96),
        "JPEG",
        quality=85,
        xmp=_xmp_packet(
            'hdrgm:Version="1.0" hdrgm:GainMapMin="0" hdrgm:GainMapMax="2.3" hdrgm:Gamma="1" '
            'hdrgm:OffsetSDR="0.015625" hdrgm:OffsetHDR="0.015625" hdrgm:HDRCapacityMin="0" '
            'hdrgm:HDRCapacityMax="2.3" hdrgm:BaseRenditionIsHDR="False"'
        ),
    )
    directory = (
        "<Container:Directory><rdf:Seq>"
        '<rdf:li rdf:parseType="Resource"><Container:Item Item:Semantic="Primary" '
        'Item:Mime="image/jpeg"/></rdf:li>'
        '<rdf:li rdf:parseType="Resource"><Container:Item Item:Semantic="GainMap" '
        f'Item:Mime="image/jpeg" Item:Length="{len(gain_map)}"/></rdf:li>'
        "</rdf:Seq></Container:Directory>"
    )
    xmp = _xmp_packet(
        'xmlns:Container="http://ns.google.com/photos/1.0/container/" '
        'xmlns:Item="http://ns.google.com/photos/1.0/container/item/" hdrgm:Version="1.0"',
        directory,
    )
    primary = encode(picture(size), "JPEG", quality=90, exif=exif_block(), xmp=xmp)
    return multi_picture(primary, gain_map)


def mpo(size: tuple[int, int] = (64, 48)) -> bytes:
    """A stereo MPO as Pillow (and 3D cameras) write it: two pictures, the MPF index Pillow's."""
    left, right = picture(size), picture(size).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return encode(left, "MPO", save_all=True, append_images=[right], quality=85)
