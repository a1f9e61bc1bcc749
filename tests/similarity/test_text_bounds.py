"""Bounds on the text comparison: its work is linear in the texts' length whatever they hold.

The texts are registry.tools.bench's adversarial families (one character or one word repeated,
periodic word sequences, tiny vocabularies, near-identical lines, blocks each repeated eight
times, with ordinary English and Chinese prose beside them), each paired with itself, with a
rotated copy, and with an ordinary text quoting it, either way round. Work is the engine's own
count (k-gram positions and seeds examined, chain steps, characters handed to rapidfuzz), so the
bounds are exact, whatever else the machine is doing.
"""

import unicodedata

import pytest
from rapidfuzz import fuzz

from registry.similarity import report as R
from registry.similarity import text as T
from registry.tools.bench import ALIGN_FAMILIES, ALIGN_PAIRS, adversarial_pair, adversarial_text

#: Work per token and per character of the two texts that no family goes over (the engine's
#: budget, after which it stops, is three times as much per token and twice per character).
PER_TOKEN = 16
PER_CHAR = 4
#: A one-word text ("aaaa...") has no k-gram: nothing to align, nothing to find.
NO_GRAMS = {"latin-run"}


def _aligned(family: str, pair: str, size: int):
    new, earlier = adversarial_pair(family, pair, size)
    a, b = T.tokenize(new), T.tokenize(earlier)
    return a, b, T.align(a, b)


def _bound(a: T.Tokens, b: T.Tokens) -> int:
    return PER_TOKEN * (len(a) + len(b)) + PER_CHAR * (a.chars + b.chars)


@pytest.mark.parametrize("pair", ALIGN_PAIRS)
@pytest.mark.parametrize("family", ALIGN_FAMILIES)
def test_work_is_linear_in_the_length_of_both_texts(family, pair):
    work = {}
    for size in (5_000, 20_000, 80_000):
        a, b, al = _aligned(family, pair, size)
        assert not al.truncated
        assert al.work <= _bound(a, b), (size, al.seeds, al.chain_steps, al.scored_chars)
        assert al.work <= T.work_budget(a, b)
        work[size] = al.work
    assert work[80_000] <= 4.5 * work[20_000]


@pytest.mark.parametrize("pair", ["copy", "rotated"])
@pytest.mark.parametrize("family", sorted(set(ALIGN_FAMILIES) - NO_GRAMS))
def test_a_copy_of_a_repetitive_text_is_reported_as_one(family, pair):
    a, _b, al = _aligned(family, pair, 20_000)
    assert al.new_coverage >= 0.95 and al.earlier_coverage >= 0.95
    assert al.similarity >= 0.95
    judged = R.judge_text(al, a.cjk)
    assert judged is not None and judged[1] == R.Band.STRONG


@pytest.mark.parametrize(
    "family", [f"period-{p}" for p in range(2, 51)] + [f"vocab-{v}" for v in range(3, 11)]
)
def test_every_period_and_every_small_vocabulary(family):
    for pair in ("copy", "rotated"):
        a, b, al = _aligned(family, pair, 20_000)
        assert not al.truncated and al.work <= _bound(a, b)
        assert al.new_coverage >= 0.95 and al.earlier_coverage >= 0.95, pair


@pytest.mark.parametrize("pair", ["copy", "query-vs-it", "it-vs-query"])
def test_four_megabytes_of_one_character(pair):
    """The attack: a registered 4 MB text of one character, searched for with itself or with an
    ordinary text quoting it, and the other way round."""
    a, b, al = _aligned("cjk-char", pair, 4 * 2**20)
    assert not al.truncated and al.work <= _bound(a, b)
    assert len(al.passages) <= T.MAX_PASSAGES
    judged = R.judge_text(al, a.cjk)
    assert judged is not None
    if pair == "copy":
        assert al.new_coverage == al.earlier_coverage == 1.0 and judged[1] == R.Band.STRONG


def test_rapidfuzz_reads_bounded_stretches(monkeypatch):
    """Long passages are scored on windows, and only passages that may be kept are scored."""
    seen = []
    ratio = fuzz.ratio

    def counting(a, b, **kwargs):
        seen.append((len(a), len(b)))
        return ratio(a, b, **kwargs)

    monkeypatch.setattr(T.fuzz, "ratio", counting)
    for family in ("prose", "cjk-char", "lines"):
        seen.clear()
        a, b, al = _aligned(family, "copy", 80_000)
        assert al.new_coverage == 1.0
        assert max(max(s) for s in seen) <= T.SCORE_CHARS
        assert sum(x + y for x, y in seen) == al.scored_chars <= 2 * (a.chars + b.chars)


def test_passages_listed_are_bounded_and_coverage_counts_them_all():
    """A long repetitive text against a short quotation of it: a passage for every repeat, the
    best ``MAX_PASSAGES`` listed, coverage over all of them."""
    prose = adversarial_text("prose-zh", 4_000)
    new = "啊" * 60_000
    earlier = prose[:1000] + "啊" * 100 + prose[1000:]
    a, b = T.tokenize(new), T.tokenize(earlier)
    al = T.align(a, b)
    assert al.passage_count > T.MAX_PASSAGES == len(al.passages)
    assert al.new_coverage >= 0.99 and al.matched_tokens >= 0.99 * len(a)
    for p in al.passages:
        assert set(new[p.new_start : p.new_end]) == {"啊"} and p.new_end - p.new_start >= 90
        assert earlier[p.earlier_start : p.earlier_end] == "啊" * (p.earlier_end - p.earlier_start)
    _score, _band, signals = R.judge_text(al, a.cjk)
    shared = next(s for s in signals if s.name == "shared passages")
    assert shared.value == al.passage_count
    assert f"(the {T.MAX_PASSAGES} best listed)" in shared.detail


def test_a_comparison_out_of_budget_stops_and_says_so(monkeypatch):
    earlier = adversarial_text("prose", 40_000)
    new = ". ".join(reversed(earlier.split(". ")))  # the sentences backwards: many passages
    a, b = T.tokenize(new), T.tokenize(earlier)
    full = T.align(a, b)
    assert not full.truncated and full.passage_count > 20
    monkeypatch.setattr(T, "WORK_PER_TOKEN", 0)
    monkeypatch.setattr(T, "WORK_PER_CHAR", 0)
    monkeypatch.setattr(T, "WORK_BASE", full.seeds + full.chain_steps + full.scored_chars // 4)
    cut = T.align(a, b)
    assert cut.truncated and 0 < cut.passage_count < full.passage_count
    assert cut.work < full.work
    _score, band, signals = R.judge_text(cut, a.cjk)
    assert band == R.Band.REVIEW and "comparison cut short" in {s.name for s in signals}
    monkeypatch.setattr(T, "WORK_BASE", 0)
    assert T.align(a, b).passages == () and T.align(a, b).truncated


def _longest_mark_run(text: str) -> int:
    longest = run = 0
    for ch in text:
        run = run + 1 if unicodedata.combining(ch) else 0
        longest = max(longest, run)
    return longest


@pytest.mark.parametrize(
    "marks",
    [
        pytest.param("e" + "\u0316\u0301" * 20_000, id="decomposed"),
        pytest.param("a" + "\uff9e\u0301" * 20_000, id="normalised, half-width voiced marks"),
    ],
)
def test_normalisation_never_sees_a_long_run_of_combining_marks(monkeypatch, marks):
    """Unicode normalisation sorts a run of combining marks by insertion: quadratic in its
    length (a 4 MB run would take an hour). No run longer than MAX_MARKS reaches it."""
    longest = []
    normalize = unicodedata.normalize

    def watching(form, text):
        out = normalize(form, text)
        longest.append(max(_longest_mark_run(text), _longest_mark_run(out)))
        return out

    monkeypatch.setattr(unicodedata, "normalize", watching)
    text = f"Before {marks} café after."
    tokens = T.tokenize(text)
    assert max(longest) <= T.MAX_MARKS + 1
    assert tokens.words[0] == "before" and tokens.words[-2:] == ("café", "after")
    start, end = int(tokens.starts[-2]), int(tokens.ends[-2])
    assert text[start:end] == "café"
    safe = T.stream_safe(marks)
    assert len(safe) == len(marks) and _longest_mark_run(safe) <= T.MAX_MARKS


def test_long_words_stay_out_of_the_hash_cache_and_equal_words_share_a_string():
    T._short_token_hash.cache_clear()
    words = [f"{i:04d}" + "x" * 200 for i in range(50)]
    tokens = T.tokenize(" ".join(words + ["alpha", "beta", "alpha"]))
    assert T._short_token_hash.cache_info().currsize == 2
    assert tokens.words[50] is tokens.words[52]
