"""Text normalisation, winnowing and alignment on texts the tests write themselves."""

import numpy as np
import pytest

from registry.similarity import report as R
from registry.similarity import text as T
from tests.factories import ESSAY, ESSAY_ZH

SENTENCES = [s.strip() + "." for s in ESSAY.split(".") if s.strip()]
UNRELATED = (
    "Quarterly revenue rose four percent on stronger demand for industrial sensors, the company "
    "said, while margins narrowed because of higher freight costs and a weaker currency. The "
    "board approved a dividend and a buyback of shares worth two hundred million."
)


def test_tokens_fold_width_case_punctuation_and_script():
    text = "ＦＵＬＬ-width, Café!  漢字與繁體"
    tokens = T.tokenize(text)
    assert tokens.words == ("full", "width", "café", "汉", "字", "与", "繁", "体")
    for word, start, end in zip(tokens.words, tokens.starts, tokens.ends, strict=True):
        assert T.fold(text[start:end]).lower().replace("-", "") in (word, word.upper())
    assert T.tokenize(ESSAY_ZH).cjk and not T.tokenize(ESSAY).cjk


def test_traditional_and_simplified_are_one_text():
    traditional = "港口比小鎮醒得更早。漁船在灰色的晨光中解開纜繩，海鷗跟著它們飛過防波堤。"
    simplified = "港口比小镇醒得更早。渔船在灰色的晨光中解开缆绳，海鸥跟着它们飞过防波堤。"
    assert T.tokenize(traditional).words == T.tokenize(simplified).words
    assert np.array_equal(T.fingerprint_text(traditional), T.fingerprint_text(simplified))


def test_winnowing_guarantees_a_shared_fingerprint_for_a_long_enough_copy():
    tokens = T.tokenize(ESSAY)
    run = T.K_WORDS + T.WINDOW - 1
    for start in range(0, len(tokens) - run, 7):
        passage = " ".join(tokens.words[start : start + run])
        shared = np.intersect1d(T.fingerprint_text(passage), T.fingerprint_text(ESSAY))
        assert shared.size >= 1, passage


def test_an_embedded_passage_is_aligned_with_exact_offsets():
    passage = " ".join(SENTENCES[2:5])
    new = f"{UNRELATED} {passage} {UNRELATED}"
    al = T.align(T.tokenize(new), T.tokenize(ESSAY))
    assert len(al.passages) == 1
    p = al.passages[0]
    assert new[p.new_start : p.new_end] == passage.rstrip(".")
    assert ESSAY[p.earlier_start : p.earlier_end] == passage.rstrip(".")
    assert 0.2 < al.new_coverage < 0.5 and p.similarity == 1.0


def test_reordered_sentences_are_separate_passages_covering_the_whole():
    new = " ".join(SENTENCES[4:] + SENTENCES[:4])
    al = T.align(T.tokenize(new), T.tokenize(ESSAY))
    assert len(al.passages) >= 2
    assert al.new_coverage > 0.95 and al.earlier_coverage > 0.95


def test_reworded_text_still_aligns_with_lower_similarity():
    words = ESSAY.split()
    for i in range(3, len(words), 7):  # one word in seven replaced
        words[i] = "zebra"
    al = T.align(T.tokenize(" ".join(words)), T.tokenize(ESSAY))
    assert al.new_coverage > 0.9
    assert 0.75 < al.similarity < 1.0


def test_two_works_stitched_together_match_both_halves():
    other = (
        "Lighthouse keepers kept a log of every ship that passed, its flag, its course and "
        "the weather, and those logs are now read by historians of the coast."
    )
    new = " ".join(SENTENCES[:3]) + " " + other
    first = T.align(T.tokenize(new), T.tokenize(ESSAY))
    second = T.align(T.tokenize(new), T.tokenize(other))
    assert first.passages and second.passages
    assert first.passages[0].new_end <= second.passages[0].new_start + 1


@pytest.mark.parametrize(
    "new",
    [
        pytest.param(" ".join(SENTENCES[1:4]), id="excerpt"),
        pytest.param(ESSAY.upper().replace(",", "").replace(".", ";"), id="case and punctuation"),
        pytest.param(f"{UNRELATED} {' '.join(SENTENCES[:5])}", id="embedded"),
    ],
)
def test_judge_flags_copies(new):
    tokens = T.tokenize(new)
    judged = R.judge_text(T.align(tokens, T.tokenize(ESSAY)), tokens.cjk)
    assert judged is not None
    _score, _band, signals = judged
    assert {s.name for s in signals} >= {"shared passages", "coverage of the new work"}


def test_judge_passes_unrelated_text_and_a_shared_cliche():
    tokens = T.tokenize(UNRELATED)
    assert R.judge_text(T.align(tokens, T.tokenize(ESSAY)), tokens.cjk) is None
    cliche = UNRELATED + " By dusk the quay is quiet."
    tokens = T.tokenize(cliche)
    assert R.judge_text(T.align(tokens, T.tokenize(ESSAY)), tokens.cjk) is None


def test_chinese_excerpt_in_traditional_script_is_a_strong_match():
    traditional = (
        "七點鐘，市場的攤位開張了，第一批鯖魚已經冰好堆起。"
        "老托馬斯在他父親建造的棚子裡賣繩子和焦油。"
    )
    tokens = T.tokenize(traditional)
    judged = R.judge_text(T.align(tokens, T.tokenize(ESSAY_ZH)), tokens.cjk)
    assert judged is not None and judged[1] == R.Band.STRONG


def test_decomposed_accents_fold_with_their_letters():
    import unicodedata

    composed = "Naïve café crème brûlée is served at the little place by the harbour each day."
    decomposed = unicodedata.normalize("NFD", composed)
    tokens = T.tokenize(decomposed)
    assert tokens.words[:4] == ("naïve", "café", "crème", "brûlée")
    assert [decomposed[a:b] for a, b in zip(tokens.starts[:2], tokens.ends[:2], strict=True)] == [
        unicodedata.normalize("NFD", "Naïve"),
        unicodedata.normalize("NFD", "café"),
    ]
    assert T.align(tokens, T.tokenize(composed)).new_coverage == 1.0


def test_offsets_stay_right_when_folding_changes_lengths():
    text = "Straße x e\u0301té word"
    tokens = T.tokenize(text)
    assert tokens.words == ("strasse", "x", "été", "word")
    assert [text[a:b] for a, b in zip(tokens.starts, tokens.ends, strict=True)] == [
        "Straße",
        "x",
        "e\u0301té",
        "word",
    ]
