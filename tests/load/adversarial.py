"""What a hostile upload costs: a corpus of files built to be costly, each filed through the API
and sent to the anonymous reverse search, with the time and memory each took.

    python -m tests.load.adversarial [--out DIR] [--only NAME ...] [--serve]

The corpus is made here (``--out`` keeps it): pictures whose files are tiny and whose pixels are
not (lossless WebP and PNG of 7,000 x 7,000 and 50 megapixels, a 16-bit grey, a palette with
transparency), a progressive JPEG of 300 scans, a CMYK and a turned JPEG, and texts of up to
4 MB made of one character, one word or a short period repeated, plus the texts they attack
(registered first, so that searches and filings align against them). The registry runs with its
default limits and budgets on a scratch SQLite instance.

Each case runs in a process of its own (forked), so that what it used is its own: the wall time
of the request, the CPU time and the peak memory of the web side (the process answering) and of
the budgeted children it started (inspection, check, search), and what the registry answered.
With ``--serve``, the registry also runs under gunicorn (4 workers) while 8 clients send the
costliest uploads to the reverse search at once, and a ninth times ordinary page lookups
meanwhile: the figures show whether the site stays up.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import multiprocessing
import re
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

MB = 1024 * 1024


# --------------------------------------------------------------------------- the corpus


def _png(im: Image.Image) -> bytes:
    out = io.BytesIO()
    im.save(out, "PNG", optimize=True)
    return out.getvalue()


def _lines(size: int, mode: str = "RGB") -> Image.Image:
    im = Image.new(mode, (size, size), (200, 30, 40) if mode == "RGB" else 0)
    draw = ImageDraw.Draw(im)
    for i in range(0, size, 500):
        draw.line((0, i, size, size - i), fill=(0, 0, 0) if mode == "RGB" else 255, width=3)
    return im


def _webp_lossless(im: Image.Image) -> bytes:
    out = io.BytesIO()
    im.save(out, "WEBP", lossless=True, quality=0, method=0)
    return out.getvalue()


def _jpeg(im: Image.Image, **kw) -> bytes:
    out = io.BytesIO()
    im.save(out, "JPEG", **kw)
    return out.getvalue()


def many_scans(side: int = 6000, scans: int = 300) -> bytes:
    """A progressive JPEG whose refinement scans are repeated until it has ``scans`` scans:
    decoders take each one as another pass over every block (libjpeg warns and goes on)."""
    data = _jpeg(Image.new("RGB", (side, side), (90, 120, 200)), quality=50, progressive=True)
    starts = [m.start() for m in re.finditer(b"\xff\xda", data)]
    end = data.rindex(b"\xff\xd9")
    pieces = [data[a:b] for a, b in zip(starts, [*starts[1:], end], strict=True)]
    extra = []
    while len(starts) + len(extra) < scans:
        extra.extend(pieces[1:])
    return data[:end] + b"".join(extra[: scans - len(starts)]) + data[end:]


def turned_jpeg() -> bytes:
    im = _lines(6000).resize((6000, 4000))
    exif = im.getexif()
    exif[0x0112] = 6  # to be turned a quarter on display
    return _jpeg(im, quality=80, exif=exif.tobytes())


def sixteen_bit() -> bytes:
    grey = (np.add.outer(np.arange(7000), np.arange(7000)) % 65536).astype(np.uint16)
    return _png(Image.fromarray(grey))


def palette_with_transparency() -> bytes:
    im = _lines(7000).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    out = io.BytesIO()
    im.save(out, "PNG", transparency=0, optimize=True)
    return out.getvalue()


def _text(unit: str, size: int) -> str:
    """``unit`` repeated to about ``size`` bytes of UTF-8."""
    return unit * (size // len(unit.encode("utf-8")))


IMAGES: dict[str, Callable[[], bytes]] = {
    "webp-7000-flat": lambda: _webp_lossless(Image.new("RGB", (7000, 7000), (200, 30, 40))),
    "webp-7000-lines": lambda: _webp_lossless(_lines(7000)),
    "png-7000-lines": lambda: _png(_lines(7000)),
    "png-7070-flat-50mp": lambda: _png(Image.new("RGB", (7070, 7070), (10, 200, 90))),
    "png-16bit-7000": sixteen_bit,
    "png-palette-transparent-7000": palette_with_transparency,
    "jpeg-7000-baseline": lambda: _jpeg(_lines(7000), quality=60),
    "jpeg-6000-cmyk": lambda: _jpeg(_lines(6000).convert("CMYK"), quality=60),
    "jpeg-6000x4000-turned": turned_jpeg,
    "jpeg-6000-progressive-300-scans": many_scans,
}

TEXTS: dict[str, Callable[[], str]] = {
    "text-4mb-one-cjk-character": lambda: _text("啊", 4 * MB - 64),
    "text-4mb-one-latin-letter": lambda: _text("a", 4 * MB - 64),
    "text-4mb-one-word": lambda: _text("copyright ", 4 * MB - 64),
    "text-4mb-period-7-words": lambda: _text("the sea is wide and deep now ", 4 * MB - 64),
    "text-1mb-period-3-cjk": lambda: _text("春江水", 1 * MB),
    "text-80kb-one-cjk-character": lambda: _text("啊", 80 * 1024),
}


def build(out: Path, only: set[str] | None) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    made = {}
    for name, make in {**IMAGES, **TEXTS}.items():
        if only and name not in only:
            continue
        path = out / (name + (".txt" if name.startswith("text") else ".bin"))
        if not path.exists():
            value = make()
            path.write_bytes(value.encode("utf-8") if isinstance(value, str) else value)
        made[name] = path
    return made


# --------------------------------------------------------------------------- measuring


def _usage() -> tuple[float, float, int, int]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (
        me.ru_utime + me.ru_stime,
        kids.ru_utime + kids.ru_stime,
        me.ru_maxrss * 1024,
        kids.ru_maxrss * 1024,
    )


def _measured(app, token: str, path: Path, action: str, conn) -> None:  # type: ignore[no-untyped-def]
    """In a forked process: send ``path`` to ``action`` ("file" or "search") and report."""
    from tests.harness.server import API_DECLARATION, API_LITERARY

    text = path.suffix == ".txt"
    if text:
        deposit = {"text": path.read_text(encoding="utf-8")}
    else:
        deposit = {
            "filename": "upload",
            "content_base64": base64.b64encode(path.read_bytes()).decode(),
        }
    client = app.test_client()
    cpu0, kids0, _rss0, _k0 = _usage()
    started = time.monotonic()
    if action == "file":
        declaration = {**(API_LITERARY if text else API_DECLARATION), "title": path.stem}
        response = client.post(
            "/api/v1/registrations",
            json={"declaration": declaration, "deposit": deposit},
            headers={"Authorization": f"Bearer {token}"},
        )
        answered = time.monotonic() - started
        runner = getattr(app.extensions["registry"], "runner", None)  # (older registries: none)
        if runner is not None:
            runner.wait(timeout=600)  # the check, after the answer
    else:
        response = client.post("/api/v1/search/similar", json={"deposit": deposit})
        answered = time.monotonic() - started
    total = time.monotonic() - started
    cpu1, kids1, rss1, kids_rss = _usage()
    body = response.get_json(silent=True) or {}
    what = body.get("error", {}).get("message", "") if response.status_code >= 400 else ""
    if response.status_code < 300 and action == "search":
        what = f"{len(body.get('matches', []))} match(es)"
    conn.send(
        {
            "status": response.status_code,
            "answered_s": answered,
            "total_s": total,
            "web_cpu_s": cpu1 - cpu0,
            "children_cpu_s": kids1 - kids0,
            "web_peak_mb": rss1 / MB,
            "children_peak_mb": kids_rss / MB,
            "what": what[:160],
        }
    )


def measure(app, token: str, path: Path, action: str) -> dict:  # type: ignore[no-untyped-def]
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_measured, args=(app, token, path, action, child))
    proc.start()
    child.close()
    result = parent.recv() if parent.poll(900) else {"status": "timeout"}
    proc.join(60)
    return result


def _registry(instance: Path):  # type: ignore[no-untyped-def]
    from registry import create_app
    from registry.db import upgrade
    from registry.keys import init_instance
    from registry.services import accounts, tokens
    from registry.settings import load_settings

    settings = load_settings(instance_path=instance)
    init_instance(settings)
    app = create_app(settings, flask_config={"RATELIMIT_ENABLED": False})
    ext = app.extensions["registry"]
    upgrade(ext.engine)
    with ext.session() as session:
        user = accounts.create_user(
            session=session,
            email="adversary@example.org",
            display_name="Adversary",
            password="a long password for the adversary",
        )
        _row, token = tokens.create(session=session, user=user, name="adversarial")
    return app, token


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="folder for the corpus (kept)")
    parser.add_argument("--only", nargs="*", help="only these cases")
    parser.add_argument("--serve", action="store_true", help="also the gunicorn run")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="adversarial-") as scratch:
        out = args.out or Path(scratch) / "corpus"
        corpus = build(out, set(args.only) if args.only else None)
        app, token = _registry(Path(scratch) / "instance")
        rows = []
        # The texts are filed first (as a free account would), so that the searches and the
        # second filings of each align against a registered copy.
        for action in ("file", "search", "file"):
            for name, path in corpus.items():
                if (
                    action == "file"
                    and rows
                    and not name.startswith("text")
                    and any(r["case"] == name and r["action"] == "file" for r in rows)
                ):
                    continue  # pictures are filed once
                result = {"case": name, "action": action, **measure(app, token, path, action)}
                rows.append(result)
                if not args.json:
                    _print(result)
                    sys.stdout.flush()
        summary = _summary(rows)
        if args.serve:
            summary["serve"] = serve(app, corpus)
        if args.json:
            print(json.dumps({"rows": rows, "summary": summary}))
        else:
            print(json.dumps(summary, indent=2))
    return 0


def _print(r: dict) -> None:
    if r.get("status") == "timeout":
        print(f"{r['case']:34} {r['action']:6} TIMEOUT")
        return
    print(
        f"{r['case']:34} {r['action']:6} {r['status']}  answered {r['answered_s']:6.2f} s  "
        f"total {r['total_s']:6.2f} s  web cpu {r['web_cpu_s']:5.2f} s  "
        f"children cpu {r['children_cpu_s']:5.2f} s  web peak {r['web_peak_mb']:6.0f} MB  "
        f"children peak {r['children_peak_mb']:6.0f} MB  {r['what']}"
    )


def _summary(rows: list[dict]) -> dict:
    done = [r for r in rows if r.get("status") != "timeout"]
    out = {}
    for action in ("file", "search"):
        mine = [r for r in done if r["action"] == action]
        if not mine:
            continue
        out[action] = {
            "cases": len(mine),
            "worst_answer_s": round(max(r["answered_s"] for r in mine), 2),
            "worst_total_s": round(max(r["total_s"] for r in mine), 2),
            "worst_web_cpu_s": round(max(r["web_cpu_s"] for r in mine), 2),
            "worst_children_cpu_s": round(max(r["children_cpu_s"] for r in mine), 2),
            "worst_web_peak_mb": round(max(r["web_peak_mb"] for r in mine)),
            "worst_children_peak_mb": round(max(r["children_peak_mb"] for r in mine)),
        }
    out["timeouts"] = len(rows) - len(done)
    return out


# --------------------------------------------------------------------------- under gunicorn


def serve(app, corpus: dict[str, Path]) -> dict:  # type: ignore[no-untyped-def]
    """Gunicorn with 4 workers on the measured registry; 8 clients send the costliest uploads
    to the reverse search at once while another times page lookups."""
    import http.client
    import threading

    from tests.harness.server import Gunicorn, app_env

    costly = [p for n, p in corpus.items() if not n.startswith("text-80kb")][:8]
    server = Gunicorn(app_env(app), workers=4).start()
    try:
        lookups: list[float] = []
        stop = threading.Event()

        def lookup() -> None:
            while not stop.is_set():
                t = time.monotonic()
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
                conn.request("GET", "/")
                conn.getresponse().read()
                conn.close()
                lookups.append(time.monotonic() - t)
                time.sleep(0.2)

        def search(path: Path, results: list) -> None:
            text = path.suffix == ".txt"
            deposit = (
                {"text": path.read_text(encoding="utf-8")}
                if text
                else {
                    "filename": "x",
                    "content_base64": base64.b64encode(path.read_bytes()).decode(),
                }
            )
            t = time.monotonic()
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=300)
            conn.request(
                "POST",
                "/api/v1/search/similar",
                body=json.dumps({"deposit": deposit}),
                headers={"Content-Type": "application/json"},
            )
            status = conn.getresponse().status
            conn.close()
            results.append((status, time.monotonic() - t))

        watcher = threading.Thread(target=lookup)
        watcher.start()
        time.sleep(1)
        results: list = []
        threads = [threading.Thread(target=search, args=(p, results)) for p in costly]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        stop.set()
        watcher.join()
    finally:
        server.stop()
    ordered = sorted(lookups)
    return {
        "searches": len(results),
        "search_statuses": sorted(s for s, _ in results),
        "searches_all_done_s": round(elapsed, 2),
        "slowest_search_s": round(max(t for _, t in results), 2),
        "lookups": len(ordered),
        "lookup_median_s": round(ordered[len(ordered) // 2], 3) if ordered else None,
        "lookup_worst_s": round(ordered[-1], 3) if ordered else None,
    }


if __name__ == "__main__":
    sys.exit(main())
