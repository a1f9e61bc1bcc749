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


def _brute_force(items: dict[int, np.ndarray], query: np.ndarray, cap: int) -> dict[int, int]:
    fps = set(query.tolist())
    df = {f: sum(f in set(v.tolist()) for v in items.values()) for f in fps}
    rare = {f for f in fps if df[f] <= cap}
    shared = {i: len(rare & set(v.tolist())) for i, v in items.items()}
    return {i: n for i, n in shared.items() if n}


def test_additions_between_searches_give_what_a_full_scan_gives(monkeypatch):
    """Hundreds of additions with searches between them, across many buffer flushes and run
    merges: every answer equals a brute-force count, and the runs stay few."""
    monkeypatch.setattr(FingerprintIndex, "_BUFFER", 64)
    rng = np.random.default_rng(11)
    index = FingerprintIndex()
    items: dict[int, np.ndarray] = {}
    most_runs = 0
    for step in range(600):
        fps = np.unique(rng.integers(0, 3000, size=int(rng.integers(5, 40))))
        items[1000 + step] = fps
        index.add(1000 + step, fps)
        if step % 7 == 0:
            query = np.unique(rng.integers(0, 3000, size=30))
            want = _brute_force(items, query, cap=max(50, int(0.02 * len(items))))
            got = index.search(query, limit=len(items), min_share_of_best=0.0)
            assert dict(got) == want, step
            counts = [n for _, n in got]
            assert counts == sorted(counts, reverse=True)
            most_runs = max(most_runs, len(index._runs))
    assert 1 < most_runs <= 12
    index.build()
    assert len(index._runs) == 1 and len(index) == 600


def test_hamming_runs_built_one_by_one_find_what_one_build_finds(monkeypatch):
    """Images added a few at a time with searches between them (many runs and merges) give the
    answers of an index built once over the same codes."""
    monkeypatch.setattr(HammingIndex, "_BUFFER", 32)
    rng = np.random.default_rng(5)
    live, codes = HammingIndex(per_item=2), rng.integers(0, 2**63, size=(900, 2), dtype=np.uint64)
    most_runs = 0
    for item in range(900):
        live.add(item, codes[item].tolist())
        if item % 9 == 0:
            target = int(rng.integers(0, item + 1))
            query = _flip(int(codes[target, 1]), rng.choice(64, size=5, replace=False).tolist())
            once = HammingIndex(per_item=2)
            once.add_many(np.arange(item + 1), codes[: item + 1])
            once.build()
            want = once.search([query], radius=11, flips=2, limit=5)
            assert live.search([query], radius=11, flips=2, limit=5) == want
            assert want[0][0] == target
            most_runs = max(most_runs, len(live._runs))
    assert 1 < most_runs <= 12


def test_items_without_fingerprints_are_counted_and_never_found():
    index = FingerprintIndex()
    index.add(1, np.array([], dtype=np.int64))
    index.build()
    assert len(index) == 1 and index.search(np.array([5, 6])) == []
    index.add(2, np.array([5]))
    assert index.search(np.array([5, 6])) == [(2, 1)]
