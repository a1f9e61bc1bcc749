"""In-memory candidate search: Hamming search over 64-bit image hashes, and an inverted index of
text fingerprints. Both are caches built from stored fingerprints and fed newer ones with ``add``.

Hamming search uses multi-index hashing (Norouzi, Punjani and Fleet, 2012): each 64-bit code is
cut into four 16-bit keys, one table per key. Two codes within distance ``r`` agree on some key to
within ``r // 4`` bits, so probing every key within ``flips`` bits of the query's finds every code
within ``4 * flips + 3`` bits, and most of those a little further. Each table is a counting sort:
an ``int32`` permutation and 65,537 bucket offsets, so memory is 8 bytes of code and 16 of tables
per hash. Codes added since the last build sit in a short tail searched by brute force; the tables
are rebuilt when the tail outgrows an eighth of them.

Pure: numpy only.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

_TABLES = 4
_KEY_BITS = 16
_BUCKETS = 1 << _KEY_BITS
_CANDIDATE_BUDGET = 20_000


def _flip_masks(bits: int, max_flips: int) -> np.ndarray:
    masks = [0]
    for f in range(1, max_flips + 1):
        masks.extend(sum(1 << b for b in combo) for combo in combinations(range(bits), f))
    return np.array(masks, dtype=np.int64)


_MASKS = {f: _flip_masks(_KEY_BITS, f) for f in (0, 1, 2, 3)}


class _Growable:
    """A numpy array that grows by doubling (amortised O(1) appends)."""

    def __init__(self, dtype) -> None:
        self.data = np.zeros(1024, dtype=dtype)
        self.size = 0

    def extend(self, values) -> None:
        values = np.asarray(values, dtype=self.data.dtype)
        need = self.size + values.size
        if need > self.data.size:
            grown = np.zeros(max(need, self.data.size * 2), dtype=self.data.dtype)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size : need] = values
        self.size = need

    @property
    def view(self) -> np.ndarray:
        return self.data[: self.size]

    @property
    def nbytes(self) -> int:
        return self.data.nbytes  # allocated, not only used


class HammingIndex:
    """Items with ``per_item`` 64-bit codes each; find items with a code near any query code."""

    def __init__(self, per_item: int) -> None:
        self.per_item = per_item
        self._codes = _Growable(np.uint64)
        self._ids = _Growable(np.int64)
        self._built = 0
        self._order: list[np.ndarray] = []
        self._starts: list[np.ndarray] = []

    def __len__(self) -> int:
        return self._ids.size

    def add(self, item_id: int, codes) -> None:
        if len(codes) != self.per_item:
            raise ValueError(f"expected {self.per_item} codes, got {len(codes)}")
        self._codes.extend(np.array([int(c) for c in codes], dtype=np.uint64))
        self._ids.extend([item_id])

    def add_many(self, item_ids: np.ndarray, codes: np.ndarray) -> None:
        """Add items in bulk: ``codes`` has shape (len(item_ids), per_item)."""
        codes = np.asarray(codes, dtype=np.uint64).reshape(-1, self.per_item)
        self._codes.extend(codes.ravel())
        self._ids.extend(item_ids)

    @property
    def nbytes(self) -> int:
        tables = sum(o.nbytes + s.nbytes for o, s in zip(self._order, self._starts, strict=True))
        return self._codes.nbytes + self._ids.nbytes + tables

    def build(self) -> None:
        codes = self._codes.view
        self._order, self._starts = [], []
        for t in range(_TABLES):
            keys = ((codes >> np.uint64(t * _KEY_BITS)) & np.uint64(_BUCKETS - 1)).astype(np.int64)
            order = np.argsort(keys, kind="stable").astype(np.int32)
            counts = np.bincount(keys, minlength=_BUCKETS)
            starts = np.zeros(_BUCKETS + 1, dtype=np.int32)
            np.cumsum(counts, out=starts[1:])
            self._order.append(order)
            self._starts.append(starts)
        self._built = codes.size

    def search(
        self, queries, *, radius: int, flips: int | None = None, limit: int = 10
    ) -> list[tuple[int, int, int, int]]:
        """Items with a code within ``radius`` of a query code, nearest first, at most ``limit``:
        ``(item_id, distance, query index, code index within the item)``.

        ``flips`` is how many bits of each 16-bit key are varied: 2 finds every code within 11
        bits, 1 every code within 7; both find most codes a few bits further. By default it is 2
        while the tables' buckets are small and 1 once they fill (above some 2.4 million codes,
        when two flips would check more than ``_CANDIDATE_BUDGET`` codes per query code)."""
        total = self._codes.size
        if total == 0 or len(queries) == 0:
            return []
        if total - self._built > max(4096, self._built // 8):
            self.build()
        if flips is None:  # expected candidates per query code with two flips, if keys spread
            per_query = self._built / _BUCKETS * len(_MASKS[2]) * _TABLES
            flips = 2 if per_query <= _CANDIDATE_BUDGET else 1
        q = np.array([int(c) for c in queries], dtype=np.uint64)
        codes = self._codes.view
        found_pos, found_dist, found_query = [], [], []

        def collect(pos: np.ndarray, which: np.ndarray) -> None:
            dist = np.bitwise_count(codes[pos] ^ q[which])
            keep = dist <= radius
            found_pos.append(pos[keep])
            found_dist.append(dist[keep])
            found_query.append(which[keep])

        tail = np.arange(self._built, total, dtype=np.int64)
        if tail.size:
            collect(np.tile(tail, q.size), np.repeat(np.arange(q.size), tail.size))
        if self._built:
            masks = _MASKS[flips]
            for t in range(_TABLES):
                keys = ((q >> np.uint64(t * _KEY_BITS)) & np.uint64(_BUCKETS - 1)).astype(np.int64)
                probes = keys[:, None] ^ masks[None, :]
                lo = self._starts[t][probes].astype(np.int64)
                hi = self._starts[t][probes + 1].astype(np.int64)
                which = np.repeat(np.arange(q.size), (hi - lo).sum(axis=1))
                pos = self._order[t][_ranges(lo.ravel(), hi.ravel())].astype(np.int64)
                collect(pos, which)
        pos = np.concatenate(found_pos)
        if pos.size == 0:
            return []
        best = np.concatenate(found_dist)
        which = np.concatenate(found_query)
        items = pos // self.per_item
        order = np.lexsort((which, best))
        found: dict[int, tuple[int, int, int, int]] = {}
        for i in order:
            item = int(items[i])
            if item not in found:
                found[item] = (
                    int(self._ids.view[item]),
                    int(best[i]),
                    int(which[i]),
                    int(pos[i] % self.per_item),
                )
                if len(found) == limit:
                    break
        return list(found.values())


def _ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The concatenation of ``range(lo[i], hi[i])`` for every i, without a Python loop."""
    lengths = hi - lo
    keep = lengths > 0
    lo, lengths = lo[keep], lengths[keep]
    if lengths.size == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    steps = np.ones(ends[-1], dtype=np.int64)
    steps[0] = lo[0]
    steps[ends[:-1]] = lo[1:] - (lo[:-1] + lengths[:-1] - 1)
    return np.cumsum(steps)


class FingerprintIndex:
    """An inverted index from text fingerprints (int64) to the items that contain them."""

    def __init__(self) -> None:
        self._keys = np.zeros(0, dtype=np.int64)
        self._offsets = np.zeros(1, dtype=np.int64)
        self._postings = np.zeros(0, dtype=np.int32)
        self._ids = _Growable(np.int64)
        self._tail_keys = _Growable(np.int64)
        self._tail_slots = _Growable(np.int32)
        self._built_postings = 0

    def __len__(self) -> int:
        return self._ids.size

    @property
    def nbytes(self) -> int:
        return (
            self._keys.nbytes
            + self._offsets.nbytes
            + self._postings.nbytes
            + self._ids.nbytes
            + self._tail_keys.nbytes
            + self._tail_slots.nbytes
        )

    def add(self, item_id: int, fingerprints: np.ndarray) -> None:
        slot = self._ids.size
        self._ids.extend([item_id])
        fps = np.unique(np.asarray(fingerprints, dtype=np.int64))
        self._tail_keys.extend(fps)
        self._tail_slots.extend(np.full(fps.size, slot, dtype=np.int32))

    def build(self) -> None:
        keys = np.concatenate([np.repeat(self._keys, np.diff(self._offsets)), self._tail_keys.view])
        slots = np.concatenate([self._postings, self._tail_slots.view])
        order = np.lexsort((slots, keys))
        keys, slots = keys[order], slots[order]
        self._keys, first = np.unique(keys, return_index=True)
        self._offsets = np.append(first, keys.size).astype(np.int64)
        self._postings = slots.astype(np.int32)
        self._tail_keys = _Growable(np.int64)
        self._tail_slots = _Growable(np.int32)
        self._built_postings = self._postings.size

    def _built_df(self, keys: np.ndarray) -> np.ndarray:
        """How many built items hold each of ``keys``."""
        if self._keys.size == 0:
            return np.zeros(keys.size, dtype=np.int64)
        idx = np.minimum(np.searchsorted(self._keys, keys), self._keys.size - 1)
        present = self._keys[idx] == keys
        return np.where(present, self._offsets[idx + 1] - self._offsets[idx], 0)

    def search(
        self,
        fingerprints: np.ndarray,
        *,
        max_share: float = 0.02,
        min_df_cap: int = 50,
        limit: int = 10,
        min_share_of_best: float = 0.1,
    ) -> list[tuple[int, int]]:
        """Items sharing the most fingerprints with the query: ``(item_id, shared)``, best first.
        A fingerprint held by more than ``max(min_df_cap, max_share * items)`` items is common
        phrasing, not evidence, and is skipped; so is an item sharing less than
        ``min_share_of_best`` of what the best one shares (chance overlap next to a copy)."""
        if self._tail_keys.size > max(10_000, self._built_postings // 8):
            self.build()
        n = self._ids.size
        if n == 0:
            return []
        fps = np.unique(np.asarray(fingerprints, dtype=np.int64))
        cap = max(min_df_cap, int(max_share * n))
        # how many items hold each query fingerprint, built part and tail together
        in_tail = np.isin(self._tail_keys.view, fps)
        tail_keys = self._tail_keys.view[in_tail]
        tail_df = np.searchsorted(np.sort(tail_keys), fps, side="right") - np.searchsorted(
            np.sort(tail_keys), fps, side="left"
        )
        df = self._built_df(fps) + tail_df
        common = fps[df > cap]
        hits = []
        if self._keys.size:
            idx = np.searchsorted(self._keys, fps)
            present = idx < self._keys.size
            idx, wanted = idx[present], fps[present]
            match = self._keys[idx] == wanted
            idx, wanted = idx[match], wanted[match]
            idx = idx[~np.isin(wanted, common)]
            hits.append(self._postings[_ranges(self._offsets[idx], self._offsets[idx + 1])])
        if tail_keys.size:
            hits.append(self._tail_slots.view[in_tail][~np.isin(tail_keys, common)])
        if not hits:
            return []
        slots = np.concatenate(hits)
        if slots.size == 0:
            return []
        counts = np.bincount(slots, minlength=n)
        top = np.argsort(-counts, kind="stable")[:limit]
        floor = max(1, int(counts[top[0]] * min_share_of_best)) if top.size else 1
        return [(int(self._ids.view[s]), int(counts[s])) for s in top if counts[s] >= floor]
