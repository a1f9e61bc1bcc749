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

Pure: no Flask, no SQL.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import opencc
from rapidfuzz import fuzz

#: k-gram length in tokens, for character tokens and for word tokens.
K_CHARS = 4
K_WORDS = 3
#: Winnowing window: one fingerprint is kept in every window of this many k-grams.
WINDOW = 4
#: Seeds further than this many tokens from a passage's diagonal start a new passage.
MAX_DRIFT = 4
#: Gap, in query tokens, that a passage may bridge between seeds (reworded stretches).
MAX_GAP = 14
#: Most positions of one k-gram used as seeds (a refrain does not explode the alignment).
MAX_REPEATS = 8

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
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    cjk: bool  # mostly character tokens (Chinese, Japanese, ...)
    hashes: np.ndarray = field(repr=False, compare=False)  # uint64 per token
    is_char: np.ndarray = field(repr=False, compare=False)  # a character of an unsegmented script

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
        return x ^ (x >> np.uint64(31))


def _tokens(words: tuple[str, ...], starts, ends) -> Tokens:
    """Tokens with their hashes: one-character tokens hashed from the code point (vectorised),
    longer words through BLAKE2b (cached)."""
    n = len(words)
    single = np.fromiter(map(len, words), dtype=np.int64, count=n) == 1
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
    return Tokens(words, tuple(starts), tuple(ends), cjk, hashes, is_char)


def _is_unsegmented(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in UNSEGMENTED)


def fold(text: str) -> str:
    """NFKC (full-width to half-width and the like), case folding, Traditional to Simplified."""
    return _CONVERTER.convert(unicodedata.normalize("NFKC", text).casefold()).translate(_VARIANTS)


def _folded_chars(text: str) -> list[tuple[int, int, str]]:
    """(start, end, folded character) for every character folding produces, where start and end
    are the span of the original it came from: a character with the combining marks after it, so
    a decomposed accent folds with its letter."""
    clusters = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and unicodedata.combining(text[j]):
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
        return _from_matches(list(_ASCII_WORD.finditer(text.lower())))
    if unicodedata.is_normalized("NFC", text):
        folded = fold(text)
        if len(folded) == len(text):  # every character folded to one: offsets carry over
            return _from_matches(list(_TOKEN.finditer(folded)))
    words: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    current: list[str] = []
    current_start = current_end = 0

    def flush() -> None:
        if current:
            words.append("".join(current))
            starts.append(current_start)
            ends.append(current_end)
            current.clear()

    for start, end, part in _folded_chars(text):
        if _is_unsegmented(part):
            flush()
            words.append(part)
            starts.append(start)
            ends.append(end)
        elif part.isalnum():
            if not current:
                current_start = start
            current.append(part)
            current_end = end
        else:
            flush()
    flush()
    return _tokens(tuple(words), starts, ends)


def _from_matches(found: list[re.Match]) -> Tokens:
    words = tuple(m.group() for m in found)
    return _tokens(words, [m.start() for m in found], [m.end() for m in found])


@lru_cache(maxsize=200_000)
def _token_hash(token: str) -> int:
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
    grams = {}
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
        if grams[k] is None:
            continue
        m = grams[k].size
        pick = is_char[:m] == chars
        out[:m][pick] = grams[k][pick]
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


def align(new: Tokens, earlier: Tokens) -> TextAlignment:
    """Every passage the two texts share, found from shared k-gram seeds chained by diagonal."""
    new_grams = gram_hashes(new)
    earlier_grams = gram_hashes(earlier)
    lengths = gram_lengths(new)
    shared = np.intersect1d(new_grams[new_grams >= 0], earlier_grams[earlier_grams >= 0])
    positions: dict[int, list[int]] = {}
    in_earlier = np.flatnonzero(np.isin(earlier_grams, shared))
    for pos, g in zip(in_earlier.tolist(), earlier_grams[in_earlier].tolist(), strict=True):
        bucket = positions.setdefault(g, [])
        if len(bucket) < MAX_REPEATS:
            bucket.append(pos)
    chains: list[list[tuple[int, int]]] = []
    open_chains: list[list[tuple[int, int]]] = []
    in_new = np.flatnonzero(np.isin(new_grams, shared))
    for qi, g in zip(in_new.tolist(), new_grams[in_new].tolist(), strict=True):
        open_chains = [c for c in open_chains if qi - c[-1][0] <= MAX_GAP]
        for ri in positions[g]:
            chosen = None
            for chain in open_chains:
                last_q, last_r = chain[-1]
                if (
                    0 < qi - last_q <= MAX_GAP
                    and last_r < ri
                    and abs((ri - qi) - (last_r - last_q)) <= MAX_DRIFT
                ):
                    chosen = chain
                    break
            if chosen is None:
                chosen = []
                chains.append(chosen)
                open_chains.append(chosen)
            chosen.append((qi, ri))
    passages = [p for c in chains if (p := _passage(c, lengths, new, earlier))]
    passages = _untangle(passages)
    new_cov = _covered(((p[0], p[1]) for p in passages), len(new))
    earlier_cov = _covered(((p[2], p[3]) for p in passages), len(earlier))
    results = []
    weight = 0
    total = 0.0
    for q0, q1, r0, r1, sim in passages:
        results.append(
            Passage(
                new.starts[q0],
                new.ends[q1 - 1],
                earlier.starts[r0],
                earlier.ends[r1 - 1],
                round(sim, 3),
                q1 - q0,
            )
        )
        weight += q1 - q0
        total += sim * (q1 - q0)
    results.sort(key=lambda p: p.new_start)
    return TextAlignment(
        tuple(results),
        round(new_cov / max(1, len(new)), 4),
        round(earlier_cov / max(1, len(earlier)), 4),
        new_cov,
        round(total / weight, 4) if weight else 0.0,
    )


def _passage(chain, lengths, new: Tokens, earlier: Tokens):
    if len(chain) < 2:
        return None
    q0, r0 = chain[0]
    k = int(lengths[chain[-1][0]])
    q1, r1 = chain[-1][0] + k, chain[-1][1] + k
    if q1 - q0 < k + 2:
        return None
    sep = "" if new.cjk else " "
    sim = fuzz.ratio(sep.join(new.words[q0:q1]), sep.join(earlier.words[r0:r1])) / 100
    return (q0, q1, r0, r1, sim)


def _untangle(passages):
    """Keep the best of passages that overlap on the new side (a refrain matched twice)."""
    passages.sort(key=lambda p: -(p[1] - p[0]) * p[4])
    kept = []
    for p in passages:
        overlap = any(min(p[1], o[1]) - max(p[0], o[0]) > (p[1] - p[0]) // 2 for o in kept)
        if not overlap:
            kept.append(p)
    return kept


def _covered(spans, length: int) -> int:
    mask = np.zeros(length, dtype=bool)
    for a, b in spans:
        mask[a:b] = True
    return int(mask.sum())
