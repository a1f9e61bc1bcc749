"""What inspecting and thumbnailing a large image costs: time and peak memory, each measured in a
fresh Python process: the rise of its resident set's high-water mark (VmHWM, reset just before),
which counts Pillow's and the codecs' C buffers that tracemalloc does not see. (``ru_maxrss``
would not do: a child inherits the parent's high-water mark across fork and exec.) Linux only.

    python -m tests.harness.inspection_cost [--keep DIR]

The images are made here: a 7000 x 7000 lossless WebP (a couple of KB), a 7000 x 7000 PNG, a
7000 x 7000 baseline JPEG, and 6000 x 6000 progressive JPEGs with libjpeg's ordinary 10 scans
and with 64 and 300 (first-pass scans sent again, as in the many-scans attack).
Printed figures are wall-clock on whatever else the machine is doing; compare them within a run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

from tests.fuzz.seeds import jpeg_with_scans

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from registry import deposits
from PIL import Image
Image.MAX_IMAGE_PIXELS = None
path, what = Path(sys.argv[2]), sys.argv[3]
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])
open("/proc/self/clear_refs", "w").write("5")  # the high-water mark starts again from here
before = status("VmRSS")
started = time.perf_counter()
outcome = "ok"
try:
    if what == "inspect":
        deposits.inspect_image(path, max_pixels=50_000_000)
    else:
        deposits.make_thumbnail(path, path.with_suffix(".thumb.webp"), max_side=640)
except deposits.DepositRejected as exc:
    outcome = "refused: " + str(exc)[:90]
seconds = time.perf_counter() - started
after = status("VmHWM")
print(json.dumps({"seconds": seconds, "extra_mb": (after - before) / 1024, "outcome": outcome}))
"""


def _picture(size: tuple[int, int]) -> Image.Image:
    img = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(img)
    w, h = size
    for i in range(12):
        draw.ellipse(
            [w * i // 14, h * i // 16, w * i // 14 + w // 5, h * i // 16 + h // 6],
            fill=(40 + 17 * i, 200 - 13 * i, 90 + 11 * i),
        )
    return img


def make_images(folder: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    solid = Image.new("RGB", (7000, 7000), (12, 34, 56))
    out["webp-lossless-7000"] = folder / "lossless.webp"
    solid.save(out["webp-lossless-7000"], "WEBP", lossless=True)
    big = _picture((7000, 7000))
    out["png-7000"] = folder / "big.png"
    big.save(out["png-7000"], "PNG")
    out["jpeg-baseline-7000"] = folder / "baseline.jpg"
    big.save(out["jpeg-baseline-7000"], "JPEG", quality=85)
    six = _picture((6000, 6000))
    out["jpeg-progressive-6000-10-scans"] = folder / "progressive10.jpg"
    six.save(out["jpeg-progressive-6000-10-scans"], "JPEG", quality=85, progressive=True)
    progressive = out["jpeg-progressive-6000-10-scans"].read_bytes()
    for scans in (64, 300):
        out[f"jpeg-progressive-6000-{scans}-scans"] = folder / f"progressive{scans}.jpg"
        out[f"jpeg-progressive-6000-{scans}-scans"].write_bytes(jpeg_with_scans(progressive, scans))
    return out


def measure(path: Path, what: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(ROOT), str(path), what],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        return {"seconds": float("nan"), "extra_mb": float("nan"), "outcome": result.stderr[-200:]}
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="make the images in this folder and keep them")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="inspection-cost-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        images = make_images(folder)
        print(f"{'image':<34} {'bytes':>9}  {'step':<9} {'seconds':>8} {'peak MB':>8}  outcome")
        for name, path in images.items():
            for what in ("inspect", "thumbnail"):
                m = measure(path, what)
                print(
                    f"{name:<34} {path.stat().st_size:>9,}  {what:<9} {m['seconds']:>8.2f} "
                    f"{m['extra_mb']:>8.0f}  {m['outcome']}"
                )
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
