"""The indexes return what a brute-force scan returns."""

import numpy as np

from registry.similarity.index import FingerprintIndex, HammingIndex


def _flip(code: int, bits: list[int]) -> int:
    for b in bits:
        code ^= 1 << b
    return code


def test_hamming_index_finds_every_code_within_the_guaranteed_radius():
    rng = np.random.default_rng(7)
    index = HammingIndex(per_item=3)
    codes = rng.integers(0, 2**63, size=(6000, 3), dtype=np.uint64)
    index.add_many(np.arange(6000) + 100, codes)
    index.build()  # then a tail of later additions
    late = rng.integers(0, 2**63, size=(50, 3), dtype=np.uint64)
    index.add_many(np.arange(50) + 90_000, late)
    everything = np.vstack([codes, late])
    ids = np.concatenate([np.arange(6000) + 100, np.arange(50) + 90_000])
    for trial in range(40):
        row = int(rng.integers(0, len(everything)))
        col = int(rng.integers(0, 3))
        flips = rng.choice(64, size=int(rng.integers(0, 12)), replace=False).tolist()
        query = _flip(int(everything[row, col]), flips)
        found = index.search([query], radius=11, flips=2, limit=5)
        assert found[0][0] == ids[row] and found[0][1] == len(flips), trial
        assert found[0][3] == col
        brute = np.bitwise_count(everything ^ np.uint64(query)).min(axis=1)
        assert [f[1] for f in found] == sorted(brute[brute <= 11].tolist())[:5]


def test_hamming_index_reports_which_query_matched():
    index = HammingIndex(per_item=1)
    index.add(1, [0b1111])
    found = index.search([2**40, 0b1110], radius=3)
    assert found == [(1, 1, 1, 0)]
    assert index.search([2**40], radius=3) == []


def test_fingerprint_index_counts_shared_fingerprints_and_skips_common_ones():
    index = FingerprintIndex()
    common = np.array([999], dtype=np.int64)
    for item in range(120):
        index.add(item, np.concatenate([common, np.arange(item * 10, item * 10 + 10)]))
    index.build()
    index.add(500, np.array([5, 6, 7, 999, 123456], dtype=np.int64))  # in the tail
    found = index.search(np.array([5, 6, 7, 8, 999]), max_share=0.02, min_df_cap=3)
    assert found[0] == (0, 4)  # 999 is in 121 items: skipped
    assert found[1] == (500, 3)
    assert index.search(np.array([424242])) == []


def test_a_fingerprint_the_index_lacks_counts_for_nothing():
    index = FingerprintIndex()
    index.add(100, np.array([7]))
    index.build()
    assert index.search(np.array([1, 2, 3, 4, 7])) == [(100, 1)]


def test_document_frequency_counts_built_and_tail_items_together():
    index = FingerprintIndex()
    for item in range(40):
        index.add(item, np.array([5, 1000 + item]))
    index.build()
    for item in range(20):
        index.add(100 + item, np.array([5, 2000 + item]))
    # 60 items hold fingerprint 5: over the cap of 50, so it is common phrasing everywhere
    assert index.search(np.array([5]), max_share=0.0, min_df_cap=50) == []
