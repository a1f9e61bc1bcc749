"""Image fingerprints and the pairwise check that explains an image match.

A registered image is fingerprinted once: SHA-256 of its decoded pixels, a 256-bit PDQ hash of the
picture with uniform borders trimmed, and 64-bit perceptual hashes (DCT pHash) of a few regions of
it (the whole, the centre, the four corners), which is what lets a cropped copy find its original.
A query is hashed in the ways people disguise a copy (as filed, borders trimmed, mirrored, turned,
straightened after a small rotation); each query hash is looked up against every region hash of
every registered image (see index.py). Candidates are then verified pairwise: ORB key points
matched under a similarity transform (RANSAC), which also gives the region of the earlier work the
new one shows.

Pure: Pillow, numpy, imagehash, pdqhash and OpenCV; no Flask, no SQL.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Any, cast, overload

import cv2
import imagehash
import numpy as np
import pdqhash
import scipy.fftpack  # noqa: F401  (see below)
import webp
from PIL import Image

# imagehash.phash imports scipy.fftpack on its first call. It is imported here instead, once per
# process: a child forked to check one upload (registry.sandbox) then inherits it rather than
# loading SciPy and starting its BLAS threads inside a memory budget.

#: Longest side an image is scaled to before hashing and feature extraction.
WORK_SIZE = 512

#: Regions of a registered image that get their own hash: name, (left, top, right, bottom) as
#: fractions of the trimmed picture. The order is the order of ``ImageFingerprint.region_hashes``.
REGIONS: tuple[tuple[str, tuple[float, float, float, float]], ...] = (
    ("whole picture", (0.0, 0.0, 1.0, 1.0)),
    ("centre", (0.05, 0.05, 0.95, 0.95)),
    ("inner centre", (0.125, 0.125, 0.875, 0.875)),
    ("top-left corner", (0.0, 0.0, 0.75, 0.75)),
    ("top-right corner", (0.25, 0.0, 1.0, 0.75)),
    ("bottom-left corner", (0.0, 0.25, 0.75, 1.0)),
    ("bottom-right corner", (0.25, 0.25, 1.0, 1.0)),
)

_DIHEDRAL = (
    ("mirrored", Image.Transpose.FLIP_LEFT_RIGHT),
    ("upside down", Image.Transpose.FLIP_TOP_BOTTOM),
    ("turned 180°", Image.Transpose.ROTATE_180),
    ("turned 90°", Image.Transpose.ROTATE_90),
    ("turned 270°", Image.Transpose.ROTATE_270),
    ("transposed", Image.Transpose.TRANSPOSE),
    ("transversed", Image.Transpose.TRANSVERSE),
)

_BORDER_STD = 4.0  # a row or column whose grey levels vary less than this is flat
_MIN_KEPT = 0.15  # never trim away more than 85 % of the picture
_FEATURE_MIN_SIDE = 320  # small pictures are scaled up to this before key points are sought
_FEATURE_MAX_SIDE = 1024
#: Below this PDQ quality (of 100) a picture is too flat for its hashes to mean anything alone.
MIN_QUALITY = 50


@dataclass(frozen=True)
class ImageFingerprint:
    """What is stored for a registered image (and computed for a query)."""

    pixel_sha256: str
    pdq: bytes  # 32 bytes, of the picture as filed
    pdq_quality: int  # 0..100: how much detail the picture has (flat pictures score low)
    region_hashes: tuple[int, ...]  # unsigned 64-bit pHash per REGIONS entry


@dataclass(frozen=True)
class QueryVariant:
    """One way of looking at a query image: its name for the report and its 64-bit pHash."""

    name: str
    phash: int


#: ORB key points (n x 2), their descriptors (None when none were found) and the grey
#: picture's shape, of one picture.
Features = tuple[np.ndarray, np.ndarray | None, tuple[int, ...]]


@dataclass
class PreparedImage:
    """An image decoded once and scaled for the engine, with its fingerprint."""

    picture: Image.Image  # RGB, longest side at most WORK_SIZE, borders not trimmed
    trimmed: Image.Image
    fingerprint: ImageFingerprint
    content: tuple[float, float, float, float]  # the trimmed box, as fractions of the picture
    _features: dict[bool, Features] = field(default_factory=dict, repr=False)

    def features(self, mirrored: bool = False) -> Features:
        """ORB key points and descriptors of the picture (or of its mirror image)."""
        if mirrored not in self._features:
            picture = self.picture
            if mirrored:
                picture = picture.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            self._features[mirrored] = _orb(picture)
        return self._features[mirrored]


# --------------------------------------------------------------------------- fingerprints


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def pixel_sha256(image: Image.Image) -> str:
    """SHA-256 of the decoded pixels (with their transparency) and the size: equal for the same
    picture in any file format."""
    return _pixel_digest(image, None)


#: EXIF orientation -> the turn that shows the picture upright (as ImageOps.exif_transpose).
ORIENTATIONS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_BAND_BYTES = 8 * 1024 * 1024  # pixels hashed a band of rows at a time, never all at once


def _orientation(image: Image.Image) -> Image.Transpose | None:
    try:
        return ORIENTATIONS.get(int(image.getexif().get(0x0112, 1)))
    except (TypeError, ValueError):
        return None


def _band_box(
    method: Image.Transpose | None, w: int, h: int, y0: int, y1: int
) -> tuple[int, int, int, int]:
    """The box of the stored picture (``w`` x ``h``) that rows ``y0`` .. ``y1`` of the upright
    picture come from."""
    T = Image.Transpose
    if method in (None, T.FLIP_LEFT_RIGHT):
        return (0, y0, w, y1)
    if method in (T.ROTATE_180, T.FLIP_TOP_BOTTOM):
        return (0, h - y1, w, h - y0)
    if method in (T.TRANSPOSE, T.ROTATE_270):
        return (y0, 0, y1, h)
    return (w - y1, 0, w - y0, h)  # TRANSVERSE, ROTATE_90


def _pixel_digest(image: Image.Image, method: Image.Transpose | None) -> str:
    """:func:`pixel_sha256` of ``image`` turned by ``method``, computed a band of rows at a time
    so that neither the turned picture nor its converted pixels are ever held whole."""
    mode = "RGBA" if _has_alpha(image) else "RGB"
    w, h = image.size
    upright = (h, w) if method in _QUARTER_TURNS else (w, h)
    digest = hashlib.sha256(f"{upright[0]}x{upright[1]}:{mode}:".encode())
    scale = _eight_bit_scale(image)
    rows = max(1, _BAND_BYTES // (4 * upright[0]))
    for y0 in range(0, upright[1], rows):
        y1 = min(upright[1], y0 + rows)
        band = image.crop(_band_box(method, w, h, y0, y1))
        if method is not None:
            band = band.transpose(method)
        if scale is not None:
            band = _scaled(band, *scale)
        digest.update(band.convert(mode).tobytes())
    return digest.hexdigest()


_QUARTER_TURNS = {
    Image.Transpose.TRANSPOSE,
    Image.Transpose.ROTATE_270,
    Image.Transpose.TRANSVERSE,
    Image.Transpose.ROTATE_90,
}
_WIDE_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N", "F")


def _eight_bit_scale(image: Image.Image) -> tuple[float, float] | None:
    """For 16-bit and floating-point greys, the (lowest, highest) value that 8 bits will span;
    None for pictures that are 8-bit already."""
    if image.mode not in _WIDE_MODES:
        return None
    lo, hi = cast(tuple[float, float], image.getextrema())  # one band: (lowest, highest)
    return float(lo), float(hi)


def _scaled(image: Image.Image, lo: float, hi: float) -> Image.Image:
    values = np.asarray(image, dtype=np.float64)
    scaled = (values - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(values)
    return Image.fromarray(scaled.round().astype(np.uint8), "L")


def _banded_eight_bit(image: Image.Image, lo: float, hi: float) -> Image.Image:
    """``_scaled`` a band of rows at a time, into one 8-bit grey picture."""
    out = Image.new("L", image.size)
    rows = max(1, _BAND_BYTES // (8 * image.width))
    for y0 in range(0, image.height, rows):
        box = (0, y0, image.width, min(image.height, y0 + rows))
        out.paste(_scaled(image.crop(box), lo, hi), box[:2])
    return out


def _eight_bit(image: Image.Image) -> Image.Image:
    """16-bit and floating-point greys scaled into 8 bits (Pillow would clip them to white)."""
    scale = _eight_bit_scale(image)
    return image if scale is None else _scaled(image, *scale)


def _rgb(image: Image.Image) -> Image.Image:
    """The picture as seen: transparent parts laid over white."""
    image = _eight_bit(image)
    if _has_alpha(image):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


#: Modes Pillow reduces directly (alpha premultiplied), so a large picture is shrunk before
#: any conversion copies it.
_REDUCIBLE = {"L", "LA", "RGB", "RGBA", "RGBa", "La"}


def _working(image: Image.Image, method: Image.Transpose | None) -> Image.Image:
    """The upright picture as seen (RGB over white), longest side at most WORK_SIZE, made from
    ``image`` without a full-size copy where its mode allows: shrunk by a whole factor first
    (box filter), then turned and converted, then resized as ``thumbnail`` does."""
    factor = max(image.size) // (2 * WORK_SIZE)
    if factor > 1:
        if (scale := _eight_bit_scale(image)) is not None:
            image = _banded_eight_bit(image, *scale)  # 1 byte a pixel, never 8 as floats
        elif image.mode not in _REDUCIBLE or "transparency" in image.info:
            image = _rgb(image)  # palettes, CMYK: converted once at full size
        image = image.reduce(factor)
    if method is not None:
        image = image.transpose(method)
    picture = _rgb(image)
    picture.thumbnail((WORK_SIZE, WORK_SIZE), Image.Resampling.BILINEAR)
    return picture


# libwebp's WebPDecode, which scales as it decodes (Pillow does not ask it to), through the
# ``webp`` package: cffi bindings compiled against libwebp's headers, with libwebp in the wheel.
# Its declaration of WebPDecoderOptions names only ``use_threads``; the three fields that ask for
# scaling (use_scaling, scaled_width, scaled_height) are the ints just before it in decode.h, as
# they have been since its ABI 2.0, and are found from where the compiler put ``use_threads``.
# Were they ever elsewhere, libwebp would decode at full size, find the buffer too small and
# answer VP8_STATUS_INVALID_PARAM, which only the caller's parameters cause, never a file's
# bytes: that is raised, not taken for damage, so every WebP test would fail.
_SCALING = webp.ffi.offsetof("WebPDecoderOptions", "use_threads") // webp.ffi.sizeof("int") - 3


def decode_webp_scaled(blob: bytes, size: tuple[int, int], mode: str) -> bytes | None:
    """Decode ``blob`` (a still WebP) scaled to ``size`` as ``mode`` ("RGB" or "RGBA"); the
    pixels, or None when libwebp finds it broken."""
    ffi, lib = webp.ffi, webp.lib
    config = webp.WebPDecoderConfig.new()
    width, height = size
    channels = len(mode)
    pixels = ffi.new("uint8_t[]", width * height * channels)
    options = ffi.cast("int *", ffi.addressof(config.ptr, "options"))
    options[_SCALING : _SCALING + 3] = [1, width, height]
    output = config.output
    output.colorspace = lib.MODE_RGBA if mode == "RGBA" else lib.MODE_RGB
    output.is_external_memory = 1
    output.u.RGBA.rgba = pixels
    output.u.RGBA.stride = width * channels
    output.u.RGBA.size = len(pixels)
    status = lib.WebPDecode(ffi.from_buffer(blob), len(blob), config.ptr)
    lib.WebPFreeDecBuffer(ffi.addressof(config.ptr, "output"))
    if status == lib.VP8_STATUS_INVALID_PARAM:
        raise RuntimeError(f"libwebp refused to decode at {width} × {height} into the buffer given")
    if status == lib.VP8_STATUS_OUT_OF_MEMORY:  # a memory budget, not the file
        raise MemoryError("libwebp ran out of memory")
    return ffi.buffer(pixels)[:] if status == lib.VP8_STATUS_OK else None


def _earlier_webp(image: Image.Image) -> Image.Image | None:
    """A still WebP decoded by libwebp straight at twice the working size (an earlier work,
    whose pixel hash is stored): a fraction of Pillow's full decode, which holds the canvas
    several times over. None for an animation or what libwebp cannot decode, left to Pillow."""
    if getattr(image, "is_animated", False) or image.fp is None:  # type: ignore[attr-defined]  # an ImageFile's
        return None
    scale = min(1.0, 2 * WORK_SIZE / max(image.size))
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    mode = "RGBA" if image.mode == "RGBA" else "RGB"
    image.fp.seek(0)  # type: ignore[attr-defined]  # an opened file is an ImageFile, with fp
    pixels = decode_webp_scaled(image.fp.read(), size, mode)  # type: ignore[attr-defined]  # as above
    return None if pixels is None else Image.frombytes(mode, size, pixels)


def decode_for_engine(image: Image.Image, *, pixel_hash: bool = True) -> tuple[Image.Image, str]:
    """Decode an opened image file for the engine: the working picture (see ``_working``) and
    the SHA-256 of its full-size upright pixels (``""`` when ``pixel_hash`` is False).

    Without the pixel hash a JPEG is decoded at a reduced scale (libjpeg's DCT scaling, "draft"
    mode), which costs a fraction of the full decode in time and memory. With it the picture is
    decoded once at full size, hashed a band at a time and shrunk: one full-size buffer, the
    decoder's own, is the most this holds."""
    method = _orientation(image)
    if not pixel_hash and image.format == "WEBP" and (small := _earlier_webp(image)) is not None:
        return _working(small, method), ""
    if not pixel_hash and image.format == "JPEG":
        image.draft("RGB", (2 * WORK_SIZE, 2 * WORK_SIZE))
    image.load()
    sha = _pixel_digest(image, method) if pixel_hash else ""
    return _working(image, method), sha


def prepare(image: Image.Image, *, pixel_hash: bool = True) -> PreparedImage:
    """Decode orientation, fingerprint, and keep a working copy for pairwise checks.

    ``image`` may be an opened, not yet decoded file (see ``decode_for_engine``); without the
    ``pixel_hash`` (an earlier work whose stored fingerprint has it) the fingerprint's
    ``pixel_sha256`` is empty."""
    picture, sha = decode_for_engine(image, pixel_hash=pixel_hash)
    box = trim_box(picture)
    trimmed = picture.crop(box) if box != (0, 0, *picture.size) else picture
    pdq, quality = pdq_hash(picture)
    hashes = tuple(phash(crop_fraction(picture, frac)) for _name, frac in REGIONS)
    fp = ImageFingerprint(sha, pdq, quality, hashes)
    pw, ph = picture.size
    content = (box[0] / pw, box[1] / ph, box[2] / pw, box[3] / ph)
    return PreparedImage(picture, trimmed, fp, content)


def phash(image: Image.Image) -> int:
    """The 64-bit DCT perceptual hash of ``image`` as an unsigned integer."""
    bits = imagehash.phash(image).hash.flatten()
    return int("".join("1" if b else "0" for b in bits), 2)


def pdq_hash(image: Image.Image) -> tuple[bytes, int]:
    bits, quality = pdqhash.compute(np.asarray(image.convert("RGB")))
    return np.packbits(bits.astype(np.uint8)).tobytes(), int(quality)


def pdq_dihedral(image: Image.Image) -> list[bytes]:
    hashes, _quality = pdqhash.compute_dihedral(np.asarray(image.convert("RGB")))
    return [np.packbits(h.astype(np.uint8)).tobytes() for h in hashes]


@overload
def hamming(a: int, b: int) -> int: ...
@overload
def hamming(a: bytes, b: bytes) -> int: ...
def hamming(a: Any, b: Any) -> int:  # both ints or both bytes (the overloads above)
    if isinstance(a, bytes):
        a, b = int.from_bytes(a, "big"), int.from_bytes(b, "big")
    differing: int = a ^ b
    return differing.bit_count()


def crop_fraction(image: Image.Image, frac: tuple[float, float, float, float]) -> Image.Image:
    if frac == (0.0, 0.0, 1.0, 1.0):
        return image
    w, h = image.size
    box = (round(frac[0] * w), round(frac[1] * h), round(frac[2] * w), round(frac[3] * h))
    return image.crop(box)


def trim_box(image: Image.Image) -> tuple[int, int, int, int]:
    """The box inside a frame: outer rows and columns of one flat colour (borders, letterboxing,
    a window's title bar). Each side's frame colour is its outermost line's; trimming stops where
    the colour changes, so a picture whose own flat edge (a clear sky) sits inside a frame keeps
    it."""
    grey = np.asarray(image.convert("L"), dtype=np.float32)
    h, w = grey.shape
    colours = (grey[0].mean(), grey[-1].mean(), grey[:, 0].mean(), grey[:, -1].mean())
    top, bottom, left, right = 0, h, 0, w
    for _ in range(4):
        inner = grey[top:bottom, left:right]
        t = _frame(inner, colours[0])
        b = _frame(inner[::-1], colours[1])
        lft = _frame(inner.T, colours[2])
        rgt = _frame(inner.T[::-1], colours[3])
        if not (t or b or lft or rgt):
            break
        top, bottom, left, right = top + t, bottom - b, left + lft, right - rgt
        if bottom - top < h * _MIN_KEPT or right - left < w * _MIN_KEPT:
            return (0, 0, w, h)
    return (left, top, right, bottom)


def _frame(grey: np.ndarray, colour: float) -> int:
    """How many leading rows of ``grey`` are flat and of the frame's colour."""
    if grey.shape[0] < 2:
        return 0
    flat = (grey.std(axis=1) < _BORDER_STD) & (np.abs(grey.mean(axis=1) - colour) < 10)
    n = _run(flat)
    return n if n < grey.shape[0] else 0


def _run(flags: np.ndarray) -> int:
    """How many leading entries of ``flags`` are true."""
    false = np.flatnonzero(~flags)
    return int(false[0]) if false.size else len(flags)


# --------------------------------------------------------------------------- query variants


def query_variants(prepared: PreparedImage) -> list[QueryVariant]:
    """The ways a query is looked up: as filed, trimmed, mirrored, turned, straightened."""
    base = prepared.trimmed
    mirror = Image.Transpose.FLIP_LEFT_RIGHT
    variants = [QueryVariant("as filed", phash(prepared.picture))]
    if base is not prepared.picture:
        variants.append(QueryVariant("borders trimmed", phash(base)))
        variants.append(QueryVariant("borders trimmed, mirrored", phash(base.transpose(mirror))))
    for name, op in _DIHEDRAL:
        variants.append(QueryVariant(name, phash(prepared.picture.transpose(op))))
    for angle, fill in straightening_angles(base):
        upright = base.rotate(angle, Image.Resampling.BICUBIC, expand=True, fillcolor=fill)
        upright = upright.crop(trim_box(upright))
        label = f"straightened by {abs(angle):.1f}° {'anticlockwise' if angle > 0 else 'clockwise'}"
        variants.append(QueryVariant(label, phash(upright)))
        variants.append(QueryVariant(f"{label}, mirrored", phash(upright.transpose(mirror))))
    return variants


def straightening_angles(image: Image.Image) -> list[tuple[float, tuple[int, ...]]]:
    """Angles (with the fill colour) that would undo a small rotation, read off the triangles of
    fill a rotation leaves in the corners of its canvas: each triangle's legs, measured a few
    pixels in from the edge, are in the ratio of the angle's tangent. A rotation leaves such a
    triangle, with the same angle, in at least two corners."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.int16)
    h, w, _ = rgb.shape
    if h < 24 or w < 24:
        return []
    found = []
    inset = 2
    for flip_y, flip_x in ((False, False), (False, True), (True, False), (True, True)):
        corner = rgb[::-1] if flip_y else rgb
        corner = corner[:, ::-1] if flip_x else corner
        colour = corner[0, 0]
        if np.abs(corner[: inset + 1, : inset + 1] - colour).max() > 16:
            continue
        along_x = _run(np.abs(corner[inset] - colour).max(axis=1) <= 24)
        along_y = _run(np.abs(corner[:, inset] - colour).max(axis=1) <= 24)
        if min(along_x, along_y) <= 2 * inset or along_x >= w - 1 or along_y >= h - 1:
            continue
        # the runs are measured ``inset`` pixels in: recover the legs at the edge itself
        leg_x, leg_y = float(along_x), float(along_y)
        for _ in range(5):
            leg_x, leg_y = along_x / (1 - inset / leg_y), along_y / (1 - inset / leg_x)
        angle = math.degrees(math.atan2(min(leg_x, leg_y), max(leg_x, leg_y)))
        found.append((angle, tuple(int(c) for c in colour)))
    found.sort()
    for (a, colour), (b, _) in zip(found, found[1:], strict=False):
        if b - a <= 1.0 and 0.5 <= a <= 20:
            angle = (a + b) / 2
            return [(angle, colour), (-angle, colour)]
    return []


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class FeatureMatch:
    """Key points of the query found again in the earlier work under one similarity transform."""

    inliers: int
    matches: int
    rotation: float  # degrees
    scale: float
    box: tuple[float, float, float, float]  # the query's outline in the earlier work, fractions
    mirrored: bool


def _orb(image: Image.Image) -> Features:
    # small pictures are scaled up, but a sliver never past _FEATURE_MAX_SIDE on its long side
    factor = min(_FEATURE_MIN_SIDE / min(image.size), _FEATURE_MAX_SIDE / max(image.size))
    if factor > 1:
        size = (round(image.width * factor), round(image.height * factor))
        image = image.resize(size, Image.Resampling.BICUBIC)
    grey = np.asarray(image.convert("L"))
    orb = cv2.ORB_create(nfeatures=800, fastThreshold=10)  # type: ignore[attr-defined]  # not in cv2's stubs
    keypoints, descriptors = orb.detectAndCompute(grey, None)
    points = (
        np.array([k.pt for k in keypoints], dtype=np.float32)
        if keypoints
        else np.zeros((0, 2), np.float32)
    )
    return points, descriptors, grey.shape


def feature_match(query: PreparedImage, earlier: PreparedImage) -> FeatureMatch | None:
    """The best similarity-transform match of the query (as is, or mirrored) onto the earlier
    work."""
    best = None
    for mirrored in (False, True):
        x0, y0, x1, y1 = query.content
        outline = (1 - x1, y0, 1 - x0, y1) if mirrored else (x0, y0, x1, y1)
        found = _match(*query.features(mirrored), *earlier.features(), mirrored, outline)
        if found and (best is None or found.inliers > best.inliers):
            best = found
    return best


def _match(
    q_points: np.ndarray,
    q_desc: np.ndarray | None,
    q_shape: tuple[int, ...],
    r_points: np.ndarray,
    r_desc: np.ndarray | None,
    r_shape: tuple[int, ...],
    mirrored: bool,
    outline: tuple[float, float, float, float],
) -> FeatureMatch | None:
    if q_desc is None or r_desc is None or len(q_desc) < 8 or len(r_desc) < 8:
        return None
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    pairs = matcher.knnMatch(q_desc, r_desc, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.8 * p[1].distance]
    if len(good) < 8:
        return None
    src = np.array([q_points[m.queryIdx] for m in good], dtype=np.float32)
    dst = np.array([r_points[m.trainIdx] for m in good], dtype=np.float32)
    transform, inlier_mask = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=4.0, maxIters=2000
    )
    if transform is None:
        return None
    inliers = int(inlier_mask.sum())
    scale = float(math.hypot(transform[0, 0], transform[1, 0]))
    rotation = float(math.degrees(math.atan2(transform[1, 0], transform[0, 0])))
    qh, qw = q_shape
    rh, rw = r_shape
    x0, y0, x1, y1 = outline[0] * qw, outline[1] * qh, outline[2] * qw, outline[3] * qh
    corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32)
    mapped = corners @ transform[:, :2].T + transform[:, 2]
    x0, y0 = np.clip(mapped.min(axis=0), 0, [rw, rh])
    x1, y1 = np.clip(mapped.max(axis=0), 0, [rw, rh])
    box = (float(x0 / rw), float(y0 / rh), float(x1 / rw), float(y1 / rh))
    return FeatureMatch(inliers, len(good), rotation, scale, box, mirrored)


# --------------------------------------------------------------------------- pairwise evidence


@dataclass(frozen=True)
class ImageEvidence:
    """Everything the pairwise check found between a query and one earlier image."""

    identical_bytes: bool
    identical_pixels: bool
    hash_distance: int  # best pHash distance between a query variant and a region
    variant: str  # which way of looking at the query matched
    region: str  # which region of the earlier work matched
    region_box: tuple[float, float, float, float]
    pdq_distance: int  # best PDQ distance over the query's dihedral variants, of 256
    quality: int  # the lower PDQ quality of the two pictures
    features: FeatureMatch | None


def query_pdqs(prepared: PreparedImage) -> list[bytes]:
    """PDQ of the query in its eight dihedral forms, as filed and with borders trimmed."""
    hashes = pdq_dihedral(prepared.picture)
    if prepared.trimmed is not prepared.picture:
        hashes += pdq_dihedral(prepared.trimmed)
    return hashes


def compare(
    query: PreparedImage,
    variants: list[QueryVariant],
    pdqs: list[bytes],
    earlier: PreparedImage,
    *,
    identical_bytes: bool = False,
) -> ImageEvidence:
    """Compare a query with one earlier image on every signal."""
    fp = earlier.fingerprint
    distance, v_index, r_index = min(
        (hamming(v.phash, h), vi, ri)
        for vi, v in enumerate(variants)
        for ri, h in enumerate(fp.region_hashes)
    )
    pdq = min(hamming(h, fp.pdq) for h in pdqs)
    identical_pixels = query.fingerprint.pixel_sha256 == fp.pixel_sha256
    features = None
    if not (identical_bytes or identical_pixels):
        features = feature_match(query, earlier)
    return ImageEvidence(
        identical_bytes=identical_bytes,
        identical_pixels=identical_pixels,
        hash_distance=distance,
        variant=variants[v_index].name,
        region=REGIONS[r_index][0],
        region_box=REGIONS[r_index][1],
        pdq_distance=pdq,
        quality=min(query.fingerprint.pdq_quality, fp.pdq_quality),
        features=features,
    )


def describe(features: FeatureMatch) -> str:
    """How the new picture places onto the earlier one, in words."""
    parts = []
    if features.mirrored:
        parts.append("mirrored")
    if abs(features.rotation) >= 1:
        parts.append(f"turned {abs(features.rotation):.0f}°")
    area = (features.box[2] - features.box[0]) * (features.box[3] - features.box[1])
    if area < 0.9:
        parts.append(f"cropped to {area:.0%} of the picture")
    if abs(features.scale - 1) >= 0.05:
        parts.append(f"scaled {1 / features.scale:.2f}×")
    return ", ".join(parts) or "as is"


def plausible(features: FeatureMatch | None) -> bool:
    """A feature match that describes a real copy: enough consistent key points, a sane scale,
    a sizeable region, and a small rotation or a quarter turn."""
    if features is None:
        return False
    if features.inliers < 15 or features.inliers < 0.5 * features.matches:
        return False
    if not 0.1 <= features.scale <= 10:
        return False
    x0, y0, x1, y1 = features.box
    if (x1 - x0) * (y1 - y0) < 0.02:
        return False
    return min(abs(features.rotation - k) for k in (-180, -90, 0, 90, 180)) <= 20
