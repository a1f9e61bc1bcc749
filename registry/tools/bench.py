"""Benchmarks of the originality engine's candidate search, against the obvious baselines run in
the same process, reported as ratios
(``python -m registry.tools.bench images|texts|align|ablation``).

    python -m registry.tools.bench images --sizes 10000 100000 1000000
    python -m registry.tools.bench texts --sizes 10000 100000
    python -m registry.tools.bench ablation DATASET   # what each image signal adds (labelled set)
    python -m registry.tools.bench align --sizes 5000 20000 80000 1048576 4194304  # adversarial

Registries are synthetic and seeded. Images: each registered image has one 64-bit code per region
(as the engine stores), drawn at random; a query is the engine's set of query codes (as filed,
trimmed, dihedral, straightened: 13 codes), one of which lies a few bits from a registered region
code. Uniform random codes spread evenly over the index's buckets; real pHashes cluster, which
fills some buckets more. Texts: word texts from a Zipf vocabulary; a query is 2,000 characters
holding a reworded passage of one registered text; then n/8 more texts are filed one by one, each
added and searched for, as a running registry does. Needs the development requirements (faiss-cpu,
pybktree) for the baselines. Times are wall-clock on whatever else the machine is doing: compare
the ratios, measured in the same run, rather than the absolute figures across runs.

Alignment: one pairwise comparison of texts built to be slow (``ALIGN_FAMILIES``, paired as in
``ALIGN_PAIRS``), at each size; CPU seconds (``time.process_time``, so the machine's load matters
less), peak memory of the alignment (tracemalloc, in a second run) and the engine's own work
counter, which tests/similarity/test_text_bounds.py bounds.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import string
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from ..similarity import image as img
from ..similarity import report as rep
from ..similarity import text as txt
from ..similarity.index import FingerprintIndex, HammingIndex

QUERY_CODES = 13  # as filed, borders trimmed (+mirrored), 7 dihedral, 2 straightened (+mirrored)


def _ms(seconds: list[float]) -> tuple[float, float]:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered) * 1000, p95 * 1000


def _line(name: str, times: list[float], extra: str = "") -> str:
    med, p95 = _ms(times)
    return f"  {name:34} median {med:10.3f} ms   p95 {p95:10.3f} ms  {extra}"


# --------------------------------------------------------------------------- images


def _image_queries(codes: np.ndarray, rng: np.random.Generator, n: int, max_flips: int):
    """(target item, query codes, planted distance) triples."""
    out = []
    for _ in range(n):
        item = int(rng.integers(0, codes.shape[0]))
        region = int(rng.integers(0, codes.shape[1]))
        flips = int(rng.integers(0, max_flips + 1))
        code = int(codes[item, region])
        for b in rng.choice(64, size=flips, replace=False):
            code ^= 1 << int(b)
        others = rng.integers(0, 2**63, size=QUERY_CODES - 1, dtype=np.uint64).tolist()
        position = int(rng.integers(0, QUERY_CODES))
        query = [int(c) for c in others]
        query.insert(position, code)
        out.append((item, query, flips))
    return out


def bench_images(sizes: list[int], queries: int, seed: int) -> None:
    import faiss
    import pybktree

    per_item = len(img.REGIONS)
    radius = rep.IMAGE_RETRIEVE_DISTANCE
    print(f"Image candidate search: {per_item} codes per image, {QUERY_CODES} codes per query,")
    print(f"radius {radius}; planted near-duplicates 0..10 bits away.\n")
    for n in sizes:
        rng = np.random.default_rng(seed)
        codes = rng.integers(0, 2**63, size=(n, per_item), dtype=np.uint64) | (
            rng.integers(0, 2, size=(n, per_item), dtype=np.uint64) << np.uint64(63)
        )
        started = time.perf_counter()
        index = HammingIndex(per_item)
        index.add_many(np.arange(n, dtype=np.int64), codes)
        index.build()
        build = time.perf_counter() - started
        qs = _image_queries(codes, rng, queries, 10)
        times, hits = [], 0
        for item, query, _flips in qs:
            t0 = time.perf_counter()
            found = index.search(query, radius=radius, limit=8)
            times.append(time.perf_counter() - t0)
            hits += any(f[0] == item for f in found)
        print(
            f"{n:,} images ({n * per_item:,} codes): build {build:.2f} s, "
            f"index {index.nbytes / n:.0f} bytes per image, recall {hits / len(qs):.3f}"
        )
        print(_line("multi-index hashing (registry)", times))
        base = statistics.median(times) * 1000
        if n * per_item > 2_400_000:  # the default dropped to one flip: show what two cost
            t2, hits2 = [], 0
            for item, query, _flips in qs:
                t0 = time.perf_counter()
                found = index.search(query, radius=radius, limit=8, flips=2)
                t2.append(time.perf_counter() - t0)
                hits2 += any(f[0] == item for f in found)
            print(_line("  the same with two flips", t2, f"recall {hits2 / len(qs):.3f}"))

        # numpy popcount over every code
        flat = codes.ravel()
        sample = qs[: max(5, queries // 10)]
        t_np = []
        for _item, query, _f in sample:
            t0 = time.perf_counter()
            q = np.array(query, dtype=np.uint64)
            for c in q:
                d = np.bitwise_count(flat ^ c)
                np.flatnonzero(d <= radius)
            t_np.append(time.perf_counter() - t0)
        print(_line("numpy popcount, every code", t_np, _slower(t_np, base)))

        # faiss binary flat (exhaustive) and multi-hash (radius search)
        as_bytes = flat.byteswap().view(np.uint8).reshape(-1, 8)
        flat_index = faiss.IndexBinaryFlat(64)
        flat_index.add(as_bytes)
        t_ff = []
        for _item, query, _f in sample:
            qb = np.array(query, dtype=np.uint64).byteswap().view(np.uint8).reshape(-1, 8)
            t0 = time.perf_counter()
            flat_index.search(qb, 8)
            t_ff.append(time.perf_counter() - t0)
        print(_line("faiss IndexBinaryFlat (k=8)", t_ff, _slower(t_ff, base)))
        del flat_index
        mh = faiss.IndexBinaryMultiHash(64, 4, 16)
        mh.nflip = 2
        t0 = time.perf_counter()
        mh.add(as_bytes)
        mh_build = time.perf_counter() - t0
        t_mh = []
        for _item, query, _f in sample:
            qb = np.array(query, dtype=np.uint64).byteswap().view(np.uint8).reshape(-1, 8)
            t0 = time.perf_counter()
            mh.range_search(qb, radius + 1)
            t_mh.append(time.perf_counter() - t0)
        print(
            _line(
                "faiss IndexBinaryMultiHash",
                t_mh,
                _slower(t_mh, base) + f" (build {mh_build:.2f} s)",
            )
        )
        del mh

        # pybktree over whole-picture codes, and a loop over imagehash objects
        if n <= 100_000:
            t0 = time.perf_counter()
            tree = pybktree.BKTree(_popcount, [int(c) for c in codes[:, 0]])
            tree_build = time.perf_counter() - t0
            t_bk = []
            for _item, query, _f in sample[:5]:
                t0 = time.perf_counter()
                for c in query:
                    tree.find(c, radius)
                t_bk.append(time.perf_counter() - t0)
            print(
                _line(
                    "pybktree (whole-picture codes only)",
                    t_bk,
                    _slower(t_bk, base) + f" (build {tree_build:.1f} s)",
                )
            )
            del tree
        else:
            print(
                "  pybktree                            skipped above 100,000 images "
                "(a Python tree: build and query grow past minutes)"
            )
        loop_items = min(n, 20_000)
        hashes = [_imagehash(c) for c in codes[:loop_items, 0]]
        t_loop = []
        for _item, query, _f in sample[:3]:
            qh = [_imagehash(c) for c in query]
            t0 = time.perf_counter()
            for h in hashes:
                for q in qh:
                    if h - q <= radius:
                        pass
            t_loop.append((time.perf_counter() - t0) * (n * per_item) / loop_items)
        print(
            _line(
                "loop over imagehash objects",
                t_loop,
                _slower(t_loop, base) + f" (timed on {loop_items:,} codes, scaled)",
            )
        )
        live = []
        for i, row in enumerate(rng.integers(0, 2**63, size=(max(10, n // 8), per_item))):
            t0 = time.perf_counter()
            index.add(n + i, row.tolist())
            index.search(qs[i % len(qs)][1], radius=radius, limit=8)
            live.append(time.perf_counter() - t0)
        _live_line(times, live)
        print()


def _popcount(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def _imagehash(code):
    import imagehash

    bits = np.array([(int(code) >> (63 - i)) & 1 for i in range(64)], dtype=bool).reshape(8, 8)
    return imagehash.ImageHash(bits)


def _slower(times: list[float], base_ms: float) -> str:
    med = statistics.median(times) * 1000
    return f"registry {med / base_ms:,.1f}x faster"


# --------------------------------------------------------------------------- texts


def _vocabulary(rng: random.Random, script: str) -> tuple[np.ndarray, np.ndarray, str]:
    """Zipf-weighted words (English-like) or characters (3,500 common CJK ideographs)."""
    if script == "zh":
        units = np.array([chr(c) for c in range(0x4E00, 0x4E00 + 3500)])
        rng.shuffle(units)
        sep = ""
    else:
        words: set[str] = set()
        while len(words) < 20_000:
            words.add("".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 10))))
        units, sep = np.array(sorted(words)), " "
    weights = 1 / np.arange(1, len(units) + 1)
    return units, weights / weights.sum(), sep


def _text(rng: random.Random, vocab, chars: int) -> str:
    """Zipf-distributed units in sentences of 8 to 20, cut to ``chars`` characters."""
    units, p, sep = vocab
    picks = np.random.default_rng(rng.getrandbits(63)).choice(units, size=chars, p=p)
    out, length, i = [], 0, 0
    stop = "。" if not sep else ". "
    while length < chars and i < len(picks):
        n = rng.randint(8, 20)
        s = sep.join(picks[i : i + n]).capitalize() + stop
        i += n
        out.append(s)
        length += len(s)
    return "".join(out)[:chars]


def bench_texts(sizes: list[int], queries: int, seed: int, script: str = "en") -> None:
    from rapidfuzz import fuzz, process

    unit = "character" if script == "zh" else "word"
    print(
        f"Text search ({script}): registered texts of 1,000-3,000 characters; queries of "
        f"2,000 characters embedding a 600-character passage of one registered text with one "
        f"{unit} in ten replaced; the registry's time includes tokenising, winnowing, the "
        "index and the alignment of the top candidates.\n"
    )
    for n in sizes:
        rng = random.Random(seed)
        vocab = _vocabulary(rng, script)
        texts = [_text(rng, vocab, rng.randint(1000, 3000)) for _ in range(n)]
        started = time.perf_counter()
        index = FingerprintIndex()
        tokens_cache = {}
        prints = [txt.fingerprint_text(t) for t in texts]
        for i, fps in enumerate(prints):
            index.add(i, fps)
        index.build()
        build = time.perf_counter() - started
        times, hits = [], 0
        qs = []
        for _ in range(queries):
            target = rng.randrange(n)
            start = rng.randrange(0, max(1, len(texts[target]) - 600))
            sep = vocab[2]
            chunk = texts[target][start : start + 600]
            passage = chunk.split(sep) if sep else list(chunk)
            for j in range(0, len(passage), 10):
                passage[j] = str(rng.choice(vocab[0]))
            filler = _text(rng, vocab, 1400)
            cut = rng.randrange(0, 1400)
            qs.append((target, filler[:cut] + sep + sep.join(passage) + sep + filler[cut:]))
        for target, query in qs:
            t0 = time.perf_counter()
            tokens = txt.tokenize(query)
            fps = txt.winnow(txt.gram_hashes(tokens))
            flagged = []
            for item, _shared in index.search(fps, limit=10):
                other = tokens_cache.get(item) or txt.tokenize(texts[item])
                tokens_cache[item] = other
                if rep.judge_text(txt.align(tokens, other), tokens.cjk):
                    flagged.append(item)
            times.append(time.perf_counter() - t0)
            hits += target in flagged
        tokens_cache.clear()
        print(
            f"{n:,} texts: build {build:.1f} s, index {index.nbytes / n:.0f} bytes per text, "
            f"recall {hits / len(qs):.3f}"
        )
        print(_line("winnowing index + alignment (registry)", times))
        base = statistics.median(times) * 1000
        sample = qs[: min(3, len(qs))]
        t_rf = []
        for _target, query in sample:
            t0 = time.perf_counter()
            process.extract(query, texts, scorer=fuzz.token_set_ratio, limit=10)
            t_rf.append(time.perf_counter() - t0)
        print(_line("rapidfuzz token_set_ratio, every text", t_rf, _slower(t_rf, base)))
        _live_filings(index, prints, rng)
        print()


def _live_filings(index: FingerprintIndex, prints: list[np.ndarray], rng: random.Random) -> None:
    """n/8 filings (a copy of a registered text's fingerprints each) added and searched for one
    by one, against searches of the index as built."""
    n = len(prints)
    picks = [prints[rng.randrange(n)] for _ in range(max(10, n // 8))]
    built = []
    for fps in picks[:200]:
        t0 = time.perf_counter()
        index.search(fps, limit=10)
        built.append(time.perf_counter() - t0)
    print(_line("index search alone, as built", built))
    live = []
    for i, fps in enumerate(picks):
        t0 = time.perf_counter()
        index.add(n + i, fps)
        index.search(fps, limit=10)
        live.append(time.perf_counter() - t0)
    _live_line(built, live)


def _live_line(built: list[float], live: list[float]) -> None:
    """A running registry adds each filing to the index, then searches: n/8 filings so, timed
    add and search together, against a search of the index as built."""
    ratio = statistics.median(live) / statistics.median(built)
    print(_line(f"add + search, {len(live):,} filings live", live, f"{ratio:.1f}x as built"))


# --------------------------------------------------------------------------- alignment

#: Texts built to make a pairwise alignment slow: repeats of every period, small vocabularies,
#: near-identical lines, short blocks each repeated as often as a seed allows; with ordinary
#: prose (English, Chinese) for comparison.
ALIGN_FAMILIES = (
    "cjk-char",
    "latin-char",
    "latin-run",
    "word",
    "period-2",
    "period-7",
    "period-50",
    "cjk-period-7",
    "vocab-3",
    "vocab-10",
    "lines",
    "blocks",
    "prose",
    "prose-zh",
)
#: How a family's text is paired: with itself, with a rotated copy, and with an ordinary text
#: quoting 2,500 characters of it, either way round (a search against a registered repetitive
#: text, and a repetitive text searched against a registered ordinary one).
ALIGN_PAIRS = ("copy", "rotated", "query-vs-it", "it-vs-query")


def adversarial_text(family: str, size: int, seed: int = 1) -> str:
    """About ``size`` bytes (UTF-8) of the family's text, the same for the same seed."""
    rng = random.Random(f"{family}:{seed}")

    def repeat(unit: str) -> str:
        return unit * max(1, size // len(unit.encode()))

    def words(count: int) -> list[str]:
        out: list[str] = []
        while len(out) < count:
            w = "".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 9)))
            if w not in out:
                out.append(w)
        return out

    if family == "cjk-char":
        return repeat("啊")
    if family == "latin-char":
        return repeat("a ")
    if family == "latin-run":
        return repeat("a")
    if family == "word":
        return repeat("alpha ")
    if family.startswith("cjk-period-"):
        return repeat("".join(chr(0x4E00 + rng.randrange(3500)) for _ in range(int(family[11:]))))
    if family.startswith("period-"):
        return repeat(" ".join(words(int(family[7:]))) + " ")
    if family.startswith("vocab-"):
        vocab = words(int(family[6:]))
        mean = sum(len(w) + 1 for w in vocab) / len(vocab)
        return " ".join(rng.choice(vocab) for _ in range(int(size / mean)))
    if family == "lines":
        line = "The pump in bay {} reported a {} pressure reading at {} o'clock."
        out, length = [], 0
        while length < size:
            s = line.format(rng.randint(1, 12), rng.choice(["normal", "low"]), rng.randint(1, 12))
            out.append(s)
            length += len(s) + 1
        return "\n".join(out)
    if family == "blocks":  # blocks of six words, each block eight times, shuffled
        kinds = max(1, size // (8 * 40))
        vocab = words(max(60, kinds))
        blocks = [" ".join(rng.choices(vocab, k=6)) for _ in range(kinds)] * 8
        rng.shuffle(blocks)
        return " ".join(blocks)
    if family == "prose":
        return _text(rng, _vocabulary(rng, "en"), size)
    if family == "prose-zh":
        return _text(rng, _vocabulary(rng, "zh"), size // 3)
    raise ValueError(f"no text family {family!r}")


def adversarial_pair(family: str, pair: str, size: int, seed: int = 1) -> tuple[str, str]:
    """(new, earlier) texts for one family and pairing."""
    text = adversarial_text(family, size, seed)
    if pair == "copy":
        return text, text
    if pair == "rotated":
        cut = len(text) // 3
        return text[cut:] + "\n" + text[:cut], text
    filler = adversarial_text("prose-zh" if family.startswith("cjk") else "prose", 5_000, seed)
    half = len(filler) // 2
    query = filler[:half] + "\n" + text[: min(len(text), 2_500)] + "\n" + filler[half:]
    if pair == "query-vs-it":
        return query, text
    if pair == "it-vs-query":
        return text, query
    raise ValueError(f"no pairing {pair!r}")


def bench_align(sizes: list[int], families: list[str], pairs: list[str], memory: bool) -> None:
    """CPU time, peak memory and work of one alignment per family, pairing and size; and of
    tokenising and fingerprinting one text."""
    import tracemalloc

    print(
        "Text alignment on adversarial texts: CPU seconds (time.process_time) of tokenize +"
        " fingerprint of the new text, and of align(new, earlier) with both already tokenized;"
        " peak memory of align (tracemalloc, a second run); the work counter and its ratio to"
        " the two texts' tokens; whether the budget cut the comparison short.\n"
    )
    print(
        f"  {'family':13} {'pair':12} {'size':>7} {'tokens':>9} {'fp s':>6} {'align s':>8}"
        f" {'peak MB':>8} {'passages':>8} {'cov new':>7} {'cov old':>7} {'sim':>5}"
        f" {'work':>11} {'/token':>6}  cut"
    )
    for family in families:
        for pair in pairs:
            for size in sizes:
                new, earlier = adversarial_pair(family, pair, size)
                t0 = time.process_time()
                tokens = txt.tokenize(new)
                txt.winnow(txt.gram_hashes(tokens))
                fp_s = time.process_time() - t0
                other = txt.tokenize(earlier)
                t0 = time.process_time()
                al = txt.align(tokens, other)
                align_s = time.process_time() - t0
                peak = ""
                if memory:
                    tracemalloc.start()
                    txt.align(tokens, other)
                    peak = f"{tracemalloc.get_traced_memory()[1] / 2**20:8.1f}"
                    tracemalloc.stop()
                n = len(tokens) + len(other)
                label = f"{size / 1000:.0f}K" if size < 10**6 else f"{size / 2**20:.0f}M"
                print(
                    f"  {family:13} {pair:12} {label:>7} {n:9,} {fp_s:6.2f} {align_s:8.3f}"
                    f" {peak:>8} {len(al.passages):8,} {al.new_coverage:7.3f}"
                    f" {al.earlier_coverage:7.3f} {al.similarity:5.2f} {al.work:11,}"
                    f" {al.work / max(1, n):6.1f}  {'yes' if al.truncated else 'no'}",
                    flush=True,
                )


# --------------------------------------------------------------------------- ablation


def ablation(dataset: Path) -> None:
    """Image recall and precision on a labelled set as the engine's signals are added one by
    one, comparing every query with every registered image (no index: the signals alone)."""
    from PIL import Image

    truth = [r for r in csv.DictReader((dataset / "truth.csv").open()) if r["modality"] == "image"]
    names = sorted(p.name for p in (dataset / "registered").iterdir() if p.suffix == ".jpg")
    registered = {}
    for name in names:
        with Image.open(dataset / "registered" / name) as im:
            registered[name] = img.prepare(im)
    steps = [  # label, variants allowed (None: all), regions used, straighten, key points
        ("pHash of the whole picture (d <= 8)", {"as filed"}, 1, False, False),
        ("+ trimmed borders", {"as filed", "borders trimmed"}, 1, False, False),
        ("+ mirrored and turned variants", None, 1, False, False),
        ("+ region hashes (centre, corners)", None, len(img.REGIONS), False, False),
        ("+ straightening small rotations", None, len(img.REGIONS), True, False),
        ("+ key-point verification (ORB)", None, len(img.REGIONS), True, True),
    ]
    rows = []
    per_query = []
    for row in truth:
        with Image.open(dataset / "queries" / row["query"]) as im:
            q = img.prepare(im)
        variants = img.query_variants(q)
        per_query.append((row, q, variants))
    for label, allowed, regions, straighten, features in steps:
        fam = defaultdict(lambda: [0, 0, 0])
        for row, q, variants in per_query:
            expected = {e for e in row["expected"].split(";") if e}
            usable = [
                v
                for v in variants
                if (allowed is None or v.name in allowed)
                and (straighten or not v.name.startswith("straightened"))
            ]
            flagged = set()
            for name, earlier in registered.items():
                hashes = earlier.fingerprint.region_hashes[:regions]
                d, vi, ri = min(
                    (img.hamming(v.phash, h), i, j)
                    for i, v in enumerate(usable)
                    for j, h in enumerate(hashes)
                )
                whole = ri == 0 and usable[vi].name in ("as filed", "borders trimmed")
                if d <= rep.IMAGE_ANY_DISTANCE or (whole and d <= rep.IMAGE_WHOLE_DISTANCE):
                    flagged.add(name)
                elif features and d <= rep.IMAGE_RETRIEVE_DISTANCE:
                    if img.plausible(img.feature_match(q, earlier)):
                        flagged.add(name)
            f = fam[row["family"]]
            f[0] += len(expected & flagged)
            f[1] += len(expected - flagged)
            f[2] += len(flagged - expected)
        tp = sum(f[0] for f in fam.values())
        fn = sum(f[1] for f in fam.values())
        fp = sum(f[2] for f in fam.values())
        weak = sorted(
            (k, f[0] / (f[0] + f[1]))
            for k, f in fam.items()
            if f[0] + f[1] and f[0] / (f[0] + f[1]) < 0.9
        )
        rows.append((label, tp / max(1, tp + fp), tp / max(1, tp + fn), weak))
    print(f"Image signals on {dataset} ({len(truth)} queries, {len(names)} registered):\n")
    print(f"  {'signals':40} {'precision':>9} {'recall':>7}  families below 0.90 recall")
    for label, p, r, weak in rows:
        below = ", ".join(f"{k} {v:.2f}" for k, v in weak) or "none"
        print(f"  {label:40} {p:9.3f} {r:7.3f}  {below}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m registry.tools.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="what", required=True)
    p_img = sub.add_parser("images", help="Hamming search over image hashes")
    p_img.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    p_img.add_argument("--queries", type=int, default=200)
    p_img.add_argument("--seed", type=int, default=1)
    p_txt = sub.add_parser("texts", help="text fingerprint search and alignment")
    p_txt.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    p_txt.add_argument("--queries", type=int, default=100)
    p_txt.add_argument("--seed", type=int, default=1)
    p_txt.add_argument("--script", choices=["en", "zh"], default="en")
    p_aln = sub.add_parser("align", help="pairwise text alignment on adversarial texts")
    p_aln.add_argument(
        "--sizes", type=int, nargs="+", default=[5_000, 20_000, 80_000, 2**20, 4 * 2**20]
    )
    p_aln.add_argument("--families", nargs="+", choices=ALIGN_FAMILIES, default=ALIGN_FAMILIES)
    p_aln.add_argument("--pairs", nargs="+", choices=ALIGN_PAIRS, default=ALIGN_PAIRS)
    p_aln.add_argument("--no-memory", action="store_true", help="skip the tracemalloc run")
    p_abl = sub.add_parser("ablation", help="what each image signal adds, on a labelled set")
    p_abl.add_argument("dataset", type=Path)
    args = parser.parse_args(argv)
    if args.what == "images":
        bench_images(args.sizes, args.queries, args.seed)
    elif args.what == "texts":
        bench_texts(args.sizes, args.queries, args.seed, args.script)
    elif args.what == "align":
        bench_align(args.sizes, args.families, args.pairs, not args.no_memory)
    else:
        ablation(args.dataset)
    return 0


if __name__ == "__main__":
    sys.exit(main())
