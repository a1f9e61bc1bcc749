"""Text fingerprints and the pairwise alignment that explains a text match.

A text is normalised (Unicode NFKC, case folded, Traditional Chinese folded to Simplified,
punctuation and white space dropped) into tokens that remember where they came from: a word for
scripts that separate words, a single character for Chinese, Japanese and other unsegmented
scripts. Winnowing over hashed token k-grams (Schleimer, Wilkerson and Aiken, 2003) picks the
fingerprints kept in the inverted index; any copied run of ``k + w - 1`` tokens shares at least one
of them. A candidate found through the index is aligned with the new text: every shared k-gram is a
seed, seeds on one diagonal are chained into passages, and rapidfuzz scores each passage. Passages
carry character offsets into both original texts, so reordered, partly deleted, reworded and
stitched copies are all explained passage by passage.

Texts may be a few MB and made to be slow (one character repeated, a handful of words in random
order, near-identical lines): every step is bounded so that tokenising, fingerprinting and aligning
take time and memory linear in the texts' length (see ``align`` and ``stream_safe``).

Pure: no Flask, no SQL.
"""

from __future__ import annotations

import hashlib
import heapq
import re
import unicodedata
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import cast

import numpy as np
import numpy.typing as npt
import opencc
from rapidfuzz import fuzz

#: Most combining marks in a row normalisation is given (see ``stream_safe``).
MAX_MARKS = 30
#: k-gram length in tokens, for character tokens and for word tokens.
K_CHARS = 4
K_WORDS = 3
#: Winnowing window: one fingerprint is kept in every window of this many k-grams.
WINDOW = 4
#: Seeds further than this many tokens from a passage's diagonal start a new passage.
MAX_DRIFT = 4
#: Gap, in query tokens, that a passage may bridge between seeds (reworded stretches).
MAX_GAP = 14
#: A k-gram found at most this many times in each text gives a seed for every pair of its
#: positions; a more frequent one is lengthened until it has at most this many pairs (a refrain,
#: a text that repeats itself, does not explode the alignment).
MAX_REPEATS = 8
#: How many times a frequent k-gram may be doubled in length: k, 2k, 4k, 8k, 16k tokens.
LEVELS = 5
#: Passages up to this many tokens are scored whole; longer ones on at most SCORE_WINDOWS windows
#: of this many tokens spread over them. No stretch handed to rapidfuzz is longer than SCORE_CHARS.
SCORE_TOKENS = 512
SCORE_WINDOWS = 8
SCORE_CHARS = 4096
#: Most passages listed in an alignment (a text repeating a short earlier one may hold
#: thousands); the coverages count them all.
MAX_PASSAGES = 500
#: The work one alignment may do, per token and per character of the two texts, and in all
#: (see ``work_budget``).
WORK_PER_TOKEN = 48
WORK_PER_CHAR = 8
WORK_BASE = 200_000

_CONVERTER = opencc.OpenCC("t2s")
# Characters OpenCC leaves apart because both are valid Simplified (著 "write", 着 "-ing"); a
# conversion may produce either, so matching folds them together.
_VARIANTS = str.maketrans({"着": "著"})
_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)
_BASE = np.uint64(1099511628211)


@dataclass(frozen=True)
class Tokens:
    """The normalised tokens of a text with their character offsets in the original."""

    words: tuple[str, ...]
    starts: np.ndarray = field(repr=False, compare=False)  # int64 per token
    ends: np.ndarray = field(repr=False, compare=False)
    cjk: bool  # mostly character tokens (Chinese, Japanese, ...)
    hashes: np.ndarray = field(repr=False, compare=False)  # uint64 per token
    is_char: np.ndarray = field(repr=False, compare=False)  # a character of an unsegmented script
    chars: int = field(default=0, compare=False)  # characters in all the tokens

    def __len__(self) -> int:
        return len(self.words)


#: Scripts written without spaces between words: each of their characters is a token.
UNSEGMENTED = (
    (0x3040, 0x30FF),  # hiragana, katakana
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x20000, 0x3134F),  # CJK extensions B to G
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
)
_RANGES = np.array(UNSEGMENTED, dtype=np.uint64)
_CLASS = "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in UNSEGMENTED)
_TOKEN = re.compile(f"[{_CLASS}]|(?:(?![{_CLASS}])[^\\W_])+")
_ASCII_WORD = re.compile(r"[a-z0-9]+")


def _splitmix(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return cast(np.ndarray, x ^ (x >> np.uint64(31)))  # numpy types uint64 operators Any


def _tokens(words: tuple[str, ...], starts: npt.ArrayLike, ends: npt.ArrayLike) -> Tokens:
    """Tokens with their hashes: one-character tokens hashed from the code point (vectorised),
    longer words through BLAKE2b (cached)."""
    n = len(words)
    sizes = _sizes(words)
    single = sizes == 1
    idx = np.flatnonzero(single)
    points = np.zeros(n, dtype=np.uint64)
    if idx.size:
        joined = "".join(words[i] for i in idx.tolist())
        points[idx] = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    hashes = _splitmix(points)
    for i in np.flatnonzero(~single).tolist():
        hashes[i] = _token_hash(words[i])
    in_range = np.zeros(n, dtype=bool)
    for lo, hi in _RANGES:
        in_range |= (points >= lo) & (points <= hi)
    is_char = single & in_range
    cjk = int(is_char.sum()) * 2 > n
    begin = np.asarray(starts, dtype=np.int64)
    ends = np.asarray(ends, dtype=np.int64)
    return Tokens(words, begin, ends, cjk, hashes, is_char, int(sizes.sum()))


def _is_unsegmented(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in UNSEGMENTED)


def fold(text: str) -> str:
    """NFKC (full-width to half-width and the like), case folding, Traditional to Simplified."""
    text = unicodedata.normalize("NFKC", stream_safe(text)).casefold()
    return cast(str, _CONVERTER.convert(text)).translate(_VARIANTS)  # OpenCC is untyped


@cache
def _non_starters() -> np.ndarray:
    """Per code point: it decomposes to non-starters only (a combining mark, or one of the few
    such as U+FF9E whose compatibility form is one)."""
    table = np.zeros(0x110000, dtype=bool)
    for cp in range(0x110000):
        ch = chr(cp)
        table[cp] = bool(unicodedata.combining(ch)) or bool(
            unicodedata.decomposition(ch)
            and all(unicodedata.combining(c) for c in unicodedata.normalize("NFKD", ch))
        )
    return table


def stream_safe(text: str) -> str:
    """``text`` with no more than ``MAX_MARKS`` combining marks in a row (Unicode's stream-safe
    text format, UAX #15): every further one becomes U+034F COMBINING GRAPHEME JOINER, which
    blocks reordering. Normalisation sorts the marks of a run by insertion, quadratic in its
    length: a run of a million marks (a few MB of text) would take an hour. The length, hence
    every offset, is unchanged."""
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    marks = _non_starters()[points]
    if np.count_nonzero(marks) <= MAX_MARKS:
        return text
    edges = np.diff(marks.astype(np.int8), prepend=0, append=0)
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    long = ends - starts > MAX_MARKS
    if not long.any():
        return text
    points = points.copy()
    for a, b in zip(starts[long].tolist(), ends[long].tolist(), strict=True):
        points[a + MAX_MARKS : b : MAX_MARKS + 1] = 0x034F
    return points.tobytes().decode("utf-32-le", "surrogatepass")


def _folded_chars(text: str) -> list[tuple[int, int, str]]:
    """(start, end, folded character) for every character folding produces, where start and end
    are the span of the original it came from: a character with the combining marks after it, so
    a decomposed accent folds with its letter."""
    clusters = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and j - i <= MAX_MARKS and unicodedata.combining(text[j]):
            j += 1
        clusters.append((i, j))
        i = j
    flat = [
        (a, b, c) for a, b in clusters for c in unicodedata.normalize("NFKC", text[a:b]).casefold()
    ]
    joined = "".join(c for _a, _b, c in flat)
    converted = _CONVERTER.convert(joined).translate(_VARIANTS)
    if len(converted) == len(joined):
        return [(a, b, c) for (a, b, _old), c in zip(flat, converted, strict=True)]
    return [(a, b, c) for a, b, old in flat for c in _CONVERTER.convert(old).translate(_VARIANTS)]


def tokenize(text: str) -> Tokens:
    """Normalise ``text`` into tokens, each with the span of the original characters it covers."""
    if text.isascii():  # the common case, done by the regular expression engine
        return _from_matches(_ASCII_WORD.finditer(text.lower()))
    text = stream_safe(text)
    if unicodedata.is_normalized("NFC", text):
        folded = fold(text)
        if len(folded) == len(text):  # every character folded to one: offsets carry over
            return _from_matches(_TOKEN.finditer(folded))
    same: dict[str, str] = {}  # equal words share one string
    words: list[str] = []
    starts = array("q")
    ends = array("q")
    current: list[str] = []
    current_start = current_end = 0

    def flush() -> None:
        if current:
            word = "".join(current)
            words.append(same.setdefault(word, word))
            starts.append(current_start)
            ends.append(current_end)
            current.clear()

    for lo, hi in _pieces(text):  # a piece at a time: the lists below stay small
        for start, end, part in _folded_chars(text[lo:hi]):
            if _is_unsegmented(part):
                flush()
                words.append(same.setdefault(part, part))
                starts.append(lo + start)
                ends.append(lo + end)
            elif part.isalnum():
                if not current:
                    current_start = lo + start
                current.append(part)
                current_end = lo + end
            else:
                flush()
        flush()
    return _tokens(tuple(words), np.frombuffer(starts, np.int64), np.frombuffer(ends, np.int64))


#: Where a long text may be cut into pieces to be folded one by one: no word or phrase spans it.
_BREAK = re.compile(r"[\s!-/:-@\[-`{-~\u3000-\u303f\uff01-\uff0f]")
PIECE = 1 << 16


def _pieces(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of pieces of about ``PIECE`` characters covering ``text``, cut before white
    space or punctuation (before any character but a combining mark if there is none)."""
    lo, n = 0, len(text)
    while lo < n:
        hi = lo + PIECE
        if hi >= n:
            yield lo, n
            return
        found = _BREAK.search(text, hi, hi + PIECE)
        hi = found.start() if found else hi + PIECE
        while hi < n and unicodedata.combining(text[hi]):
            hi += 1
        yield lo, hi
        lo = hi


def _from_matches(found: Iterable[re.Match[str]]) -> Tokens:
    same: dict[str, str] = {}  # equal words share one string
    words: list[str] = []
    starts = array("q")
    for m in found:
        word = m.group()
        words.append(same.setdefault(word, word))
        starts.append(m.start())
    begin = np.frombuffer(starts, dtype=np.int64)
    return _tokens(tuple(words), begin, begin + _sizes(words))


def _sizes(words: Sequence[str]) -> np.ndarray:
    return np.fromiter(map(len, words), dtype=np.int64, count=len(words))


def _token_hash(token: str) -> int:
    if len(token) > 32:  # kept out of the cache, which would hold on to it
        return _blake(token)
    return _short_token_hash(token)


@lru_cache(maxsize=200_000)
def _short_token_hash(token: str) -> int:
    return _blake(token)


def _blake(token: str) -> int:
    return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")


def gram_hashes(tokens: Tokens) -> np.ndarray:
    """A 63-bit hash of the k-gram starting at every token: ``K_CHARS`` tokens from a character
    of an unsegmented script, ``K_WORDS`` from a word, so a passage hashes alike whatever text
    it sits in (a Chinese text quoting English and the other way round)."""
    n = len(tokens)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    h = tokens.hashes
    is_char = tokens.is_char
    grams: dict[int, np.ndarray | None] = {}
    with np.errstate(over="ignore"):
        for k in sorted({K_CHARS, K_WORDS}):
            m = n - k + 1
            if m <= 0:
                grams[k] = None
                continue
            acc = h[:m].copy()
            for j in range(1, k):
                acc = acc * _BASE + h[j : j + m]
            grams[k] = acc
    out = np.zeros(n, dtype=np.uint64)
    valid = np.zeros(n, dtype=bool)
    for k, chars in ((K_CHARS, True), (K_WORDS, False)):
        gram = grams[k]
        if gram is None:
            continue
        m = gram.size
        pick = is_char[:m] == chars
        out[:m][pick] = gram[pick]
        valid[:m] |= pick
    hashes = (out >> np.uint64(1)).astype(np.int64)
    hashes[~valid] = -1  # too near the end for a whole k-gram
    return hashes


def gram_lengths(tokens: Tokens) -> np.ndarray:
    """The k-gram length at every token (see ``gram_hashes``)."""
    return np.where(tokens.is_char, K_CHARS, K_WORDS)


def winnow(hashes: np.ndarray, window: int = WINDOW) -> np.ndarray:
    """The winnowed fingerprints: the smallest hash of every window (deduplicated, sorted)."""
    hashes = hashes[hashes >= 0]
    if hashes.size == 0:
        return hashes
    if hashes.size <= window:
        return np.unique(hashes[[int(np.argmin(hashes))]])
    windows = np.lib.stride_tricks.sliding_window_view(hashes, window)
    picks = np.argmin(windows, axis=1) + np.arange(windows.shape[0])
    return np.unique(hashes[picks])


def fingerprint_text(text: str) -> np.ndarray:
    """The winnowed fingerprints of ``text`` (sorted, unique int64) for the inverted index."""
    return winnow(gram_hashes(tokenize(text)))


# --------------------------------------------------------------------------- alignment


@dataclass(frozen=True)
class Passage:
    """A stretch of the new text that copies a stretch of the earlier one."""

    new_start: int  # character offsets in the new text
    new_end: int
    earlier_start: int  # character offsets in the earlier text
    earlier_end: int
    similarity: float  # 0..1, rapidfuzz ratio of the normalised stretches
    tokens: int  # length in tokens on the new side


@dataclass(frozen=True)
class TextAlignment:
    passages: tuple[Passage, ...]
    new_coverage: float  # share of the new text's tokens inside a passage
    earlier_coverage: float  # share of the earlier text's tokens inside a passage
    matched_tokens: int
    similarity: float  # token-weighted mean of the passages' similarity
    #: How many passages there are: only the ``MAX_PASSAGES`` best are listed in ``passages``,
    #: but the coverages, ``matched_tokens`` and ``similarity`` count every one.
    passage_count: int = 0
    #: The work spent, in steps: k-gram positions and seeds examined, chain steps, characters
    #: handed to rapidfuzz (see ``work``). Bounded by ``work_budget(new, earlier)``.
    seeds: int = 0
    chain_steps: int = 0
    scored_chars: int = 0
    #: The budget ran out before the comparison was done: the passages found so far are reported,
    #: and the texts may share more than they show.
    truncated: bool = False

    @property
    def work(self) -> int:
        return self.seeds + self.chain_steps + self.scored_chars


def work_budget(new: Tokens, earlier: Tokens) -> int:
    """The most work aligning ``new`` with ``earlier`` may do before it stops and says it was
    cut short: linear in their tokens and in their characters (rapidfuzz reads characters)."""
    tokens, chars = len(new) + len(earlier), new.chars + earlier.chars
    return WORK_PER_TOKEN * tokens + WORK_PER_CHAR * chars + WORK_BASE


class _Budget:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.seeds = 0
        self.chain_steps = 0
        self.scored_chars = 0
        self.truncated = False

    @property
    def left(self) -> int:
        return self.limit - self.seeds - self.chain_steps - self.scored_chars


def align(new: Tokens, earlier: Tokens) -> TextAlignment:
    """Every passage the two texts share, found from shared k-gram seeds chained by diagonal.

    The work is bounded by ``work_budget``, linear in the two texts' length whatever they hold,
    in either direction: no position of the new text gets more than ``MAX_REPEATS`` seeds (a
    k-gram too frequent to pair is lengthened until it is rare, tried on the diagonals of rare
    seeds nearby, and a text that repeats itself is paired in order); seeds become fragments
    (runs on one diagonal) and fragments chains in a few vectorised passes; rapidfuzz scores
    bounded windows of long passages, and only passages that may still be kept; overlapping
    passages are untangled with one sort and a heap. Should the budget run out all the same,
    the passages found so far are reported and ``truncated`` is set. The work done is reported
    (``seeds``, ``chain_steps``, ``scored_chars``).
    """
    budget = _Budget(work_budget(new, earlier))
    sq, sr, slen = _seeds(new, earlier, budget)
    if budget.left <= 0:
        budget.truncated = True
        sq, sr, slen = sq[:0], sr[:0], slen[:0]
    lengths = gram_lengths(new).astype(np.int16)
    chains = _chains(_fragments(sq, sr, slen, lengths, len(new)), len(new), budget)
    q1 = np.minimum(chains.q1, len(new))
    r1 = np.minimum(chains.r1, len(earlier))
    long_enough = (q1 - chains.q0 >= lengths[chains.last_q] + 2) & (r1 > chains.r0)
    candidates = np.flatnonzero(long_enough)
    need = (lengths[chains.last_q] + 2)[candidates].tolist()
    passages = _untangle(chains, candidates, q1, r1, need, new, earlier, budget)
    new_cov = _covered([(p[0], p[1]) for p in passages], len(new))
    earlier_cov = _covered([(p[2], p[3]) for p in passages], len(earlier))
    weight = sum(p[1] - p[0] for p in passages)
    total = sum(p[4] * (p[1] - p[0]) for p in passages)
    # The best passages are listed (they come best first); coverage and similarity count all.
    shown = [
        Passage(
            int(new.starts[q0]),
            int(new.ends[q1 - 1]),
            int(earlier.starts[r0]),
            int(earlier.ends[r1 - 1]),
            round(sim, 3),
            q1 - q0,
        )
        for q0, q1, r0, r1, sim in passages[:MAX_PASSAGES]
    ]
    shown.sort(key=lambda p: (p.new_start, p.earlier_start))
    return TextAlignment(
        tuple(shown),
        round(new_cov / max(1, len(new)), 4),
        round(earlier_cov / max(1, len(earlier)), 4),
        new_cov,
        round(total / weight, 4) if weight else 0.0,
        passage_count=len(passages),
        seeds=budget.seeds,
        chain_steps=budget.chain_steps,
        scored_chars=budget.scored_chars,
        truncated=budget.truncated,
    )


def _level_up(hashes: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The k-gram hashes and lengths one level up: each gram followed by the gram after it."""
    n = hashes.size
    after = np.arange(n, dtype=np.int32) + lengths
    ok = hashes >= 0
    ok &= after < n
    at = np.flatnonzero(ok)
    nxt = hashes[after[at]]
    at, nxt = at[nxt >= 0], nxt[nxt >= 0]
    with np.errstate(over="ignore"):
        mixed = hashes[at].astype(np.uint64) * _BASE
        mixed ^= _splitmix(nxt.astype(np.uint64))
        mixed = _splitmix(mixed)
    out = np.full(n, -1, dtype=np.int64)
    out[at] = (mixed >> np.uint64(1)).astype(np.int64)
    longer = np.zeros(n, dtype=lengths.dtype)
    longer[at] = lengths[at] + lengths[after[at]]
    return out, longer


def _ranks(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each element, how many equal ones come before it, and how many there are in all."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    first = np.ones(ordered.size, dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    del ordered
    starts = np.flatnonzero(first).astype(np.int32)
    group = (np.cumsum(first) - 1).astype(np.int32)
    counts = np.diff(np.append(starts, np.int32(values.size)))
    rank = np.empty(values.size, dtype=np.int32)
    rank[order] = np.arange(values.size, dtype=np.int32) - starts[group]
    total = np.empty(values.size, dtype=np.int32)
    total[order] = counts[group]
    return rank, total


#: Seeds: (new positions, earlier positions, lengths in tokens), one entry a seed.
Seeds = tuple[np.ndarray, np.ndarray, np.ndarray]
#: A passage kept by ``_untangle``: (q0, q1, r0, r1, similarity).
_Kept = tuple[int, int, int, int, float]
#: A scored passage waiting in ``_untangle``'s heap: (-worth, q0, r0, q1, r1, similarity,
#: candidate index, trimmed).
_Scored = tuple[float, int, int, int, int, float, int, bool]


def _seeds(new: Tokens, earlier: Tokens, budget: _Budget) -> Seeds:
    """Seeds (new position, earlier position, length in tokens): positions where the two texts
    hold the same k-gram. A k-gram found at most ``MAX_REPEATS`` times in each text gives a seed
    for every pair of its positions (a refrain); a more frequent one is doubled in length (a
    k-gram and the one after it), up to ``LEVELS`` times, until it is rare, now counting pairs:
    at most ``MAX_REPEATS`` of them. One still frequent at the longest level, or whose longer
    gram the other text lacks (a repeat of ``2k`` tokens or more, reordered), pairs its i-th
    position in the new text with the i-th in the earlier one (``_in_order``). A position whose
    k-gram is too frequent to pair is also tried on the diagonals of the rare seeds around it
    (``_anchored``). So no position of the new text gets more than ``MAX_REPEATS`` seeds, however
    repetitive the texts. Positions are int32, lengths int16: a few MB of text."""
    hq, hr = gram_hashes(new), gram_hashes(earlier)
    lq = gram_lengths(new).astype(np.int16)
    rare_seeds, out, too_frequent = _by_level(hq, hr, lq, gram_lengths(earlier), budget)
    if rare_seeds:
        rq, rr, rlen = (np.concatenate(parts) for parts in zip(*rare_seeds, strict=True))
    else:
        rq = rr = np.zeros(0, dtype=np.int32)
        rlen = np.zeros(0, dtype=np.int16)
    del rare_seeds
    unpaired = too_frequent[~np.isin(too_frequent, rq)]
    out.append(_anchored(unpaired, rq, rr, hq, hr, lq))
    del hq, hr, lq
    out.append((rq, rr, rlen))
    sq, sr, slen = (np.concatenate(parts) for parts in zip(*out, strict=True))
    del out, rq, rr, rlen
    # One seed per pair of positions, the longest.
    order = np.lexsort((-slen, sr, sq))
    sq, sr, slen = sq[order], sr[order], slen[order]
    first = np.ones(sq.size, dtype=bool)
    first[1:] = (sq[1:] != sq[:-1]) | (sr[1:] != sr[:-1])
    budget.seeds += int(sq.size)
    return sq[first], sr[first], slen[first]


#: Rare seeds on each side of a position whose k-gram is too frequent to pair, whose diagonals it
#: is tried on.
ANCHORS = 3


def _anchored(
    qs: np.ndarray,
    seeds_q: np.ndarray,
    seeds_r: np.ndarray,
    hq: np.ndarray,
    hr: np.ndarray,
    lengths: np.ndarray,
) -> Seeds:
    """Seeds for the positions ``qs``, whose k-gram is too frequent to pair: on the diagonals of
    the ``ANCHORS`` nearest rare seeds before and after each, wherever the earlier text holds
    the same k-gram there (a formula inside a copied passage, a refrain between copied verses)."""
    if qs.size == 0 or seeds_q.size == 0:
        return qs[:0], qs[:0], lengths[:0]
    order = np.lexsort((seeds_r, seeds_q))
    anchor_q, anchor_d = seeds_q[order], seeds_r[order] - seeds_q[order]
    at = np.searchsorted(anchor_q, qs, "left")
    found_q, found_r = [], []
    for offset in range(-ANCHORS, ANCHORS):
        i = at + offset
        ok = (i >= 0) & (i < anchor_q.size)
        q = qs[ok]
        r = q + anchor_d[i[ok]]
        ok = (r >= 0) & (r < hr.size)
        q, r = q[ok], r[ok]
        ok = hr[r] == hq[q]
        found_q.append(q[ok])
        found_r.append(r[ok])
    q = np.concatenate(found_q)
    return q, np.concatenate(found_r), lengths[q]


def _by_level(
    hq: np.ndarray, hr: np.ndarray, lq: np.ndarray, lr: np.ndarray, budget: _Budget
) -> tuple[list[Seeds], list[Seeds], np.ndarray]:
    """The seeds of ``_seeds`` level by level: (rare seeds, seeds paired in order, positions of
    the new text whose k-gram is shared but too frequent to pair)."""
    lr = lr.astype(np.int16)
    cq = np.flatnonzero(hq >= 0).astype(np.int32)  # positions: int32 (texts are a few MB)
    cr = np.flatnonzero(hr >= 0).astype(np.int32)
    out: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # paired in order
    rare_seeds: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    too_frequent = cq[:0]
    below = None  # the level below, for positions whose longer gram the earlier text lacks
    for level in range(LEVELS):
        if cq.size == 0 or cr.size == 0 or budget.left <= 0:
            budget.truncated |= budget.left <= 0
            break
        budget.seeds += int(cq.size + cr.size)
        gq, gr = hq[cq], hr[cr]
        order = np.argsort(gr, kind="stable").astype(np.int32)
        sorted_r = gr[order]
        lo = np.searchsorted(sorted_r, gq, "left").astype(np.int32)
        count_r = np.searchsorted(sorted_r, gq, "right").astype(np.int32) - lo
        del sorted_r
        rank, count_q = _ranks(gq)
        shared = count_r > 0
        if below is not None and not shared.all():
            out.append(_in_order(~shared, *below))
        if level == 0:
            rare = shared & (count_r <= MAX_REPEATS) & (count_q <= MAX_REPEATS)
        else:
            rare = shared & (count_r.astype(np.int64) * count_q <= MAX_REPEATS)
        del count_q
        if rare.any():
            counts = count_r[rare]
            firsts = np.repeat(lo[rare], counts)
            within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
            qs = np.repeat(cq[rare], counts)
            rare_seeds.append((qs, cr[order[firsts + within]], lq[qs]))
        frequent = shared & ~rare
        if level == 0:
            too_frequent = cq[frequent]
        if not frequent.any():
            break
        if level + 1 < LEVELS:  # a gram one level up starts there (not too near the end)
            after = cq + lq[cq]
            onward = frequent & (after < hq.size)
            onward[onward] = hq[after[onward]] >= 0
            del after
        else:
            onward = np.zeros(cq.size, dtype=bool)
        last = frequent & ~onward  # too frequent at the longest level, or too near the end
        here = (cq, lo, count_r, rank, order, cr, lq)
        if last.any():
            out.append(_in_order(last, *here))
        if not onward.any():
            break
        # A short formula (a k-gram frequent, its context not shared) is no evidence; a longer
        # repeat the earlier text lacks in that context is paired in order.
        below = tuple(a[onward] for a in here[:4]) + here[4:] if level > 0 else None
        next_r = cr[np.isin(gr, np.unique(gq[frequent]))]
        cq = cq[onward]
        del here, gq, gr, lo, count_r, rank, order, shared, rare, frequent, last, onward
        hq_up, lq_up = _level_up(hq, lq)
        hr_up, lr_up = _level_up(hr, lr)
        if level > 0:
            del hq, hr  # (level 0 is kept for the anchored seeds)
        cr = next_r[hr_up[next_r] >= 0]
        hq, lq, hr, lr = hq_up, lq_up, hr_up, lr_up
        del hq_up, lq_up, hr_up, lr_up, next_r
    return rare_seeds, out, too_frequent


def _in_order(
    pick: np.ndarray,
    cq: np.ndarray,
    lo: np.ndarray,
    count_r: np.ndarray,
    rank: np.ndarray,
    order: np.ndarray,
    cr: np.ndarray,
    lengths: np.ndarray,
) -> Seeds:
    """Seeds for the positions ``pick`` of a frequent k-gram: the i-th occurrence in the new
    text with the i-th in the earlier one, counting round again if the new text has more (a
    text repeating a shorter one is explained repeat by repeat)."""
    qs = cq[pick]
    rs = cr[order[lo[pick] + rank[pick] % count_r[pick]]]
    return qs, rs, lengths[qs]


@dataclass
class _Fragments:
    """Runs of seeds on one diagonal, none more than a gap apart (arrays, one entry a run)."""

    q0: np.ndarray  # first seed
    r0: np.ndarray
    last_q: np.ndarray  # last seed
    end_q: np.ndarray  # one past the last token a seed covers
    reach: np.ndarray  # the furthest new position a following seed may start at
    diagonal: np.ndarray  # r - q
    first: np.ndarray  # index of the first seed in ``seed_q``
    last: np.ndarray  # index of the last seed
    seed_q: np.ndarray  # the seeds' new positions, by fragment
    seed_diagonal: np.ndarray


def _fragments(
    sq: np.ndarray, sr: np.ndarray, slen: np.ndarray, base_lengths: np.ndarray, n: int
) -> _Fragments:
    """Seeds sorted by diagonal and position, cut where the diagonal changes or the gap to the
    next seed passes ``MAX_GAP`` (a long seed reaching as much further as it is long)."""
    if sq.size == 0:
        e = np.zeros(0, dtype=np.int64)
        return _Fragments(e, e, e, e, e, e, e, e, e, e)
    diag = sr - sq
    order = np.lexsort((sq, diag))
    sq, sr, slen, diag = sq[order], sr[order], slen[order], diag[order]
    del order
    reach = sq + (slen - base_lengths[sq] + MAX_GAP)
    new_diag = np.ones(sq.size, dtype=bool)
    new_diag[1:] = diag[1:] != diag[:-1]
    # The furthest reach so far on each diagonal: a running maximum, each diagonal lifted above
    # the ones before it.
    lift = np.cumsum(new_diag, dtype=np.int64)
    lift *= 2 * n + 10 * MAX_GAP + 1
    furthest = lift + reach
    np.maximum.accumulate(furthest, out=furthest)
    furthest -= lift
    del lift
    start = new_diag
    start[1:] |= sq[1:] > furthest[:-1]
    del furthest
    firsts = np.flatnonzero(start).astype(np.int32)
    lasts = np.append(firsts[1:], np.int32(sq.size)) - 1
    return _Fragments(
        q0=sq[firsts],
        r0=sr[firsts],
        last_q=sq[lasts],
        end_q=np.maximum.reduceat(sq + slen, firsts),
        reach=np.maximum.reduceat(reach, firsts),
        diagonal=diag[firsts],
        first=firsts,
        last=lasts,
        seed_q=sq,
        seed_diagonal=diag,
    )


#: The nearby diagonals a fragment's predecessor is looked for on, in order of preference.
_DRIFTS = (0, *(sign * i for i in range(1, MAX_DRIFT + 1) for sign in (-1, 1)))


@dataclass
class _Chains:
    """Chains of fragments (arrays, one entry a chain) and their members, chain by chain."""

    q0: np.ndarray
    q1: np.ndarray  # one past the last token of the new text a seed covers
    r0: np.ndarray
    r1: np.ndarray
    last_q: np.ndarray  # the last seed
    seeds: np.ndarray
    members: np.ndarray  # where each chain's members start in the two arrays below
    member_q: np.ndarray  # where a member takes over on the new side
    member_diagonal: np.ndarray


def _chains(fr: _Fragments, n: int, budget: _Budget) -> _Chains:
    """Fragments joined into chains, in order of the new text: a fragment continues the chain
    that ends before it within reach, on a diagonal at most ``MAX_DRIFT`` away (a word inserted
    or dropped), the nearest diagonal first; a fragment that starts before the chain's last
    seed continues it with its seeds after that one. Vectorised: on each nearby diagonal only
    the last fragment before can be within reach, found by one binary search for all fragments;
    a fragment wanted by several goes to the first of them, the others try their next choice,
    in at most ``len(_DRIFTS)`` rounds; then chains are followed by pointer jumping."""
    count = fr.q0.size
    if count == 0:
        e = np.zeros(0, dtype=np.int64)
        return _Chains(e, e, e, e, e, e, np.zeros(1, dtype=np.int64), e, e)
    big = np.int64(n + 2)
    low = int(fr.diagonal.min()) - MAX_DRIFT
    frag_key = (fr.diagonal - low) * big + fr.q0  # ascending: fragments come by diagonal, q
    seed_key = (fr.seed_diagonal - low) * big + fr.seed_q
    position = np.empty(count, dtype=np.int64)  # in order of the new text
    position[np.lexsort((fr.diagonal, fr.q0))] = np.arange(count)
    last_r = fr.last_q + fr.diagonal

    def candidate(k: int, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For fragments g, the fragment on diagonal + _DRIFTS[k] they may continue (or -1),
        and the index of their first seed after it."""
        drift = _DRIFTS[k]
        target = fr.diagonal[g] + drift
        before = fr.q0[g] - (1 if drift >= 0 else 0)  # ties in q go to the lower diagonal
        f = np.searchsorted(frag_key, (target - low) * big + before, "right") - 1
        ok = f >= 0
        f = np.maximum(f, 0)
        ok &= (fr.diagonal[f] == target) & (fr.last_q[f] < fr.last_q[g])
        after = np.searchsorted(seed_key, (fr.diagonal[g] - low) * big + fr.last_q[f], "right")
        after = np.clip(after, fr.first[g], fr.last[g])
        t = fr.seed_q[after]
        ok &= (t <= fr.reach[f]) & (last_r[f] < t + fr.diagonal[g])
        return np.where(ok, f, -1), after

    pred = np.full(count, -1, dtype=np.int64)
    entry = fr.first.copy()  # index of the seed where a fragment joins its chain
    taken = np.zeros(count, dtype=bool)
    choice = np.zeros(count, dtype=np.int64)
    active = np.arange(count)
    steps = 0
    while active.size:
        if steps >= budget.left:  # the rest start chains of their own
            budget.truncated = True
            break
        found = np.full(active.size, -1, dtype=np.int64)
        found_k = np.zeros(active.size, dtype=np.int64)
        found_at = np.zeros(active.size, dtype=np.int64)
        for k in range(len(_DRIFTS)):
            look = np.flatnonzero((found < 0) & (choice[active] <= k))
            if look.size == 0:
                continue
            steps += int(look.size)
            f, at = candidate(k, active[look])
            ok = f >= 0
            ok[ok] = ~taken[f[ok]]
            hit = look[ok]
            found[hit], found_k[hit], found_at[hit] = f[ok], k, at[ok]
        has = found >= 0
        g, f = active[has], found[has]
        ks, at = found_k[has], found_at[has]
        order = np.lexsort((position[g], f))  # a fragment wanted twice goes to the first
        g, f, ks, at = g[order], f[order], ks[order], at[order]
        win = np.ones(g.size, dtype=bool)
        win[1:] = f[1:] != f[:-1]
        pred[g[win]] = f[win]
        entry[g[win]] = at[win]
        taken[f[win]] = True
        choice[g[~win]] = ks[~win] + 1
        active = g[~win]
    budget.chain_steps += steps
    root = np.where(pred >= 0, pred, np.arange(count))
    while True:
        jumped = root[root]
        if np.array_equal(jumped, root):
            break
        root = jumped
        budget.chain_steps += count
    order = np.lexsort((position, root))
    starts = np.ones(count, dtype=bool)
    starts[1:] = root[order][1:] != root[order][:-1]
    heads = np.flatnonzero(starts)
    tails = np.append(heads[1:], count) - 1
    first = order[heads]
    end_r = fr.end_q + fr.diagonal
    return _Chains(
        q0=fr.q0[first],
        q1=np.maximum.reduceat(fr.end_q[order], heads),
        r0=fr.q0[first] + fr.diagonal[first],
        r1=np.maximum.reduceat(end_r[order], heads),
        last_q=fr.last_q[order[tails]],
        seeds=np.add.reduceat((fr.last - entry + 1)[order], heads),
        members=np.append(heads, count),
        member_q=fr.seed_q[entry[order]],
        member_diagonal=fr.diagonal[order],
    )


def _stretch(tokens: Tokens, a: int, b: int, sep: str) -> str:
    """The normalised tokens ``a`` to ``b`` joined, cut to ``SCORE_CHARS`` characters."""
    if b - a > SCORE_CHARS:
        b = a + SCORE_CHARS  # a token has at least one character
    return sep.join(tokens.words[a:b])[:SCORE_CHARS]


def _score(
    new: Tokens,
    earlier: Tokens,
    q0: int,
    q1: int,
    r0: int,
    r1: int,
    member_q: np.ndarray,
    member_diagonal: np.ndarray,
    sep: str,
    budget: _Budget,
) -> float:
    """rapidfuzz ratio of a passage's two stretches: the whole of a passage up to
    ``SCORE_TOKENS`` tokens, else the mean over at most ``SCORE_WINDOWS`` windows of that many
    tokens spread evenly over it, each placed on the earlier side by the diagonal of the chain's
    member it starts and ends in."""
    span = q1 - q0
    if span <= SCORE_TOKENS:
        windows = [(q0, q1, r0, r1)]
    else:
        count = min(SCORE_WINDOWS, -(-span // SCORE_TOKENS))
        step = (span - SCORE_TOKENS) / (count - 1)
        windows = []
        for i in range(count):
            a = q0 + round(i * step)
            b = a + SCORE_TOKENS
            at = np.searchsorted(member_q, [a, b], "right") - 1
            da, db = member_diagonal[np.maximum(at, 0)].tolist()
            ra = min(max(r0, a + da), r1 - 1)
            rb = min(max(ra + 1, b + db), r1)
            windows.append((a, b, ra, rb))
    total = 0.0
    weight = 0
    for a, b, ra, rb in windows:
        left, right = _stretch(new, a, b, sep), _stretch(earlier, ra, rb, sep)
        budget.scored_chars += len(left) + len(right)
        total += fuzz.ratio(left, right) / 100 * (b - a)
        weight += b - a
    return total / weight


def _untangle(
    chains: _Chains,
    candidates: np.ndarray,
    q1s: np.ndarray,
    r1s: np.ndarray,
    need: np.ndarray,
    new: Tokens,
    earlier: Tokens,
    budget: _Budget,
) -> list[_Kept]:
    """Score the candidate passages and keep the best of those that overlap on the new side (a
    refrain matched twice): in order of length times similarity, a passage is kept unless more
    than half of it lies in passages kept already; then the longest stretch of it not yet
    covered is tried in its place, if it is long enough to be a passage (``need`` tokens).

    Lazily: a passage's length bounds its worth until it is scored, so passages come longest
    first and wait, once scored, in a heap until nothing unscored can be worth more; a passage
    already more than half covered when it comes up is trimmed, or dropped, unscored. Whole
    batches of passages are checked against the coverage so far in one vectorised step (coverage
    only grows), so rapidfuzz, and Python, see little more than the passages kept: O(P log P)
    and the texts' length."""
    sep = "" if new.cjk else " "
    q0s, r0s = chains.q0[candidates], chains.r0[candidates]
    q1s, r1s = q1s[candidates], r1s[candidates]
    spans = q1s - q0s
    order = np.lexsort((r0s, q0s, -spans))
    mask = np.zeros(len(new), dtype=bool)
    changed = True
    prefix = np.zeros(len(new) + 1, dtype=np.int64)
    heap: list[_Scored] = []
    kept: list[_Kept] = []

    def members(j: int) -> tuple[np.ndarray, np.ndarray]:
        c = int(candidates[j])
        a, b = chains.members[c], chains.members[c + 1]
        return chains.member_q[a:b], chains.member_diagonal[a:b]

    def scored(j: int, q0: int, q1: int, r0: int, r1: int, trimmed: bool) -> _Scored:
        sim = _score(new, earlier, q0, q1, r0, r1, *members(j), sep, budget)
        return (-(q1 - q0) * sim, q0, r0, q1, r1, sim, j, trimmed)

    def covered(q0: int, q1: int) -> bool:
        budget.chain_steps += 1 + (q1 - q0) // 64
        return int(np.count_nonzero(mask[q0:q1])) > (q1 - q0) // 2

    def trim(j: int, q0: int, q1: int, r0: int, r1: int) -> None:
        """Score the longest uncovered stretch of passage j, and let it wait its turn."""
        budget.chain_steps += 1 + (q1 - q0) // 64
        free = np.diff((~mask[q0:q1]).astype(np.int8), prepend=0, append=0)
        starts, ends = np.flatnonzero(free == 1), np.flatnonzero(free == -1)
        if starts.size == 0:
            return
        longest = int(np.argmax(ends - starts))
        a, b = q0 + int(starts[longest]), q0 + int(ends[longest])
        if b - a < need[j] or budget.left <= 0:
            return
        member_q, member_diagonal = members(j)
        at = np.maximum(np.searchsorted(member_q, [a, b - 1], "right") - 1, 0)
        da, db = member_diagonal[at].tolist()
        ra, rb = min(max(r0, a + da), r1 - 1), min(max(r0, b + db), r1)
        if rb > ra:
            heapq.heappush(heap, scored(j, a, b, ra, rb, True))

    def decide(item: _Scored) -> None:
        _worth, q0, r0, q1, r1, sim, j, trimmed = item
        if not covered(q0, q1):
            kept.append((q0, q1, r0, r1, sim))
            mask[q0:q1] = True
        elif not trimmed:
            trim(j, q0, q1, r0, r1)

    batch = max(4096, -(-order.size // 32))
    for lo in range(0, order.size, batch):
        part = order[lo : lo + batch]
        if changed:
            np.cumsum(mask, out=prefix[1:])
            budget.chain_steps += len(new) // 64
            changed = False
        budget.chain_steps += int(part.size)
        inside = prefix[q1s[part]] - prefix[q0s[part]]
        part = part[inside < spans[part]]  # wholly covered already: nothing left of them
        for j in part.tolist():
            q0, q1, r0, r1 = int(q0s[j]), int(q1s[j]), int(r0s[j]), int(r1s[j])
            while heap and -heap[0][0] >= q1 - q0:
                decide(heapq.heappop(heap))
                changed = True
            if budget.left <= 0:
                budget.truncated = True
                break
            if covered(q0, q1):
                trim(j, q0, q1, r0, r1)
            else:
                heapq.heappush(heap, scored(j, q0, q1, r0, r1, False))
        if budget.truncated:
            break
    while heap:
        decide(heapq.heappop(heap))
    return kept


def _covered(spans: Sequence[tuple[int, ...]], length: int) -> int:
    """How many of ``length`` tokens lie in at least one of the spans."""
    if not spans:
        return 0
    edges = np.zeros(length + 1, dtype=np.int64)
    a, b = np.array(spans, dtype=np.int64).T
    np.add.at(edges, a, 1)
    np.add.at(edges, b, -1)
    return int(np.count_nonzero(np.cumsum(edges[:-1]) > 0))
