"""In-memory candidate search: Hamming search over 64-bit image hashes, and an inverted index of
text fingerprints. Both are caches built from stored fingerprints and fed newer ones with ``add``.

Hamming search uses multi-index hashing (Norouzi, Punjani and Fleet, 2012): each 64-bit code is
cut into four 16-bit keys, one table per key. Two codes within distance ``r`` agree on some key to
within ``r // 4`` bits, so probing every key within ``flips`` bits of the query's finds every code
within ``4 * flips + 3`` bits, and most of those a little further. Each table is a counting sort:
an ``int32`` permutation and 65,537 bucket offsets, so memory is 8 bytes of code and 16 of tables
per hash. Codes added later sit in a short buffer searched by brute force, then get tables of their
own, merged with their neighbours by the logarithmic method (Bentley and Saxe, 1980); the text
index keeps its postings in sorted runs the same way. So neither a search nor an addition in a
running registry touches the whole index.

Pure: numpy only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import combinations
from typing import Protocol, TypeVar

import numpy as np
import numpy.typing as npt

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

    def __init__(self, dtype: npt.DTypeLike) -> None:
        self.data = np.zeros(1024, dtype=dtype)
        self.size = 0

    def extend(self, values: npt.ArrayLike) -> None:
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


class _Sized(Protocol):
    @property
    def size(self) -> int: ...


_Run = TypeVar("_Run", bound=_Sized)


def _merge_small(runs: list[_Run], merge: Callable[[_Run, _Run], _Run]) -> None:
    """The logarithmic method's upkeep after a run is appended: merge the newest two runs while
    the older is not over twice the newer, so sizes at least double towards the oldest and
    there are O(log n) runs."""
    while len(runs) > 1 and runs[-2].size <= 2 * runs[-1].size:
        last = runs.pop()
        runs[-1] = merge(runs[-1], last)


class _Tables:
    """The multi-index tables over the codes at positions ``lo`` to ``hi``: per table, the
    positions (from ``lo``) ordered by key, and each key's first place in that order."""

    __slots__ = ("lo", "hi", "order", "starts")

    def __init__(self, codes: np.ndarray, lo: int, hi: int) -> None:
        self.lo, self.hi = lo, hi
        self.order: list[np.ndarray] = []
        self.starts: list[np.ndarray] = []
        part = codes[lo:hi]
        for t in range(_TABLES):
            keys = ((part >> np.uint64(t * _KEY_BITS)) & np.uint64(_BUCKETS - 1)).astype(np.uint16)
            self.order.append(np.argsort(keys, kind="stable").astype(np.int32))  # a radix sort
            starts = np.zeros(_BUCKETS + 1, dtype=np.int32)
            np.cumsum(np.bincount(keys, minlength=_BUCKETS), out=starts[1:])
            self.starts.append(starts)

    @property
    def size(self) -> int:
        return self.hi - self.lo

    @property
    def nbytes(self) -> int:
        return sum(o.nbytes + s.nbytes for o, s in zip(self.order, self.starts, strict=True))


class HammingIndex:
    """Items with ``per_item`` 64-bit codes each; find items with a code near any query code.

    The tables cover the codes in runs kept by the logarithmic method, as the text index's
    postings are: codes added since the last run are searched by brute force until there are
    ``_BUFFER`` of them; they then get tables of their own, and neighbouring runs of similar
    size are merged, so a search probes O(log n) runs and never scans more than the buffer."""

    _BUFFER = 4096  # codes searched by brute force before they get tables

    def __init__(self, per_item: int) -> None:
        self.per_item = per_item
        self._codes = _Growable(np.uint64)
        self._ids = _Growable(np.int64)
        self._runs: list[_Tables] = []

    def __len__(self) -> int:
        return self._ids.size

    @property
    def _built(self) -> int:
        return self._runs[-1].hi if self._runs else 0

    def add(self, item_id: int, codes: Sequence[int] | np.ndarray) -> None:
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
        return self._codes.nbytes + self._ids.nbytes + sum(run.nbytes for run in self._runs)

    def build(self) -> None:
        """Tables over every code, in one run."""
        self._runs = [_Tables(self._codes.view, 0, self._codes.size)] if self._codes.size else []

    def _settle(self) -> None:
        """Give a full buffer its tables; merge runs until each is over twice the next one."""
        if self._codes.size - self._built < self._BUFFER:
            return
        codes = self._codes.view
        self._runs.append(_Tables(codes, self._built, codes.size))
        _merge_small(self._runs, lambda a, b: _Tables(codes, a.lo, b.hi))

    def search(
        self,
        queries: Sequence[int] | np.ndarray,
        *,
        radius: int,
        flips: int | None = None,
        limit: int = 10,
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
        self._settle()
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
        masks = _MASKS[flips]
        for t in range(_TABLES):
            keys = ((q >> np.uint64(t * _KEY_BITS)) & np.uint64(_BUCKETS - 1)).astype(np.int64)
            probes = keys[:, None] ^ masks[None, :]
            for run in self._runs:
                lo = run.starts[t][probes].astype(np.int64)
                hi = run.starts[t][probes + 1].astype(np.int64)
                which = np.repeat(np.arange(q.size), (hi - lo).sum(axis=1))
                pos = run.order[t][_ranges(lo.ravel(), hi.ravel())].astype(np.int64) + run.lo
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


class _Postings:
    """A sorted, immutable run of postings: each distinct fingerprint once in ``keys``, the
    slots holding it at ``slots[offsets[i]:offsets[i + 1]]``."""

    __slots__ = ("keys", "offsets", "slots")

    def __init__(self, keys: np.ndarray, slots: np.ndarray) -> None:
        order = np.lexsort((slots, keys))
        keys, self.slots = keys[order], slots[order].astype(np.int32)
        self.keys, first = np.unique(keys, return_index=True)
        self.offsets = np.append(first, keys.size).astype(np.int64)

    @property
    def size(self) -> int:
        return self.slots.size

    @property
    def nbytes(self) -> int:
        return self.keys.nbytes + self.offsets.nbytes + self.slots.nbytes

    def expanded(self) -> tuple[np.ndarray, np.ndarray]:
        """(key, slot) per posting, to merge runs."""
        return np.repeat(self.keys, np.diff(self.offsets)), self.slots

    def lookup(self, fps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For sorted distinct ``fps``: each one's position here and how many slots hold it."""
        idx = np.minimum(np.searchsorted(self.keys, fps), self.keys.size - 1)
        present = self.keys[idx] == fps
        return idx, np.where(present, self.offsets[idx + 1] - self.offsets[idx], 0)


def _join(runs: list[_Postings]) -> _Postings:
    parts = [run.expanded() for run in runs]
    return _Postings(np.concatenate([k for k, _ in parts]), np.concatenate([s for _, s in parts]))


class FingerprintIndex:
    """An inverted index from text fingerprints (int64) to the items that contain them.

    Postings live in sorted runs kept by the logarithmic method (Bentley and Saxe, 1980): new
    items collect in a small unsorted buffer searched by brute force; a full buffer becomes a
    run, and runs of similar size merge, so there are O(log n) runs, a search costs a binary
    search per run, and an addition costs O(log n) amortised. ``build`` merges everything into
    one run (after a bulk load)."""

    _BUFFER = 8192  # postings searched by brute force before they are sorted into a run

    def __init__(self) -> None:
        self._runs: list[_Postings] = []
        self._ids = _Growable(np.int64)
        self._tail_keys = _Growable(np.int64)
        self._tail_slots = _Growable(np.int32)

    def __len__(self) -> int:
        return self._ids.size

    @property
    def nbytes(self) -> int:
        return (
            sum(run.nbytes for run in self._runs)
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

    def _drain(self) -> _Postings:
        """The buffer, sorted into a run; the buffer is then empty."""
        run = _Postings(self._tail_keys.view.copy(), self._tail_slots.view.copy())
        self._tail_keys = _Growable(np.int64)
        self._tail_slots = _Growable(np.int32)
        return run

    def build(self) -> None:
        """Merge every run and the buffer into one run."""
        if self._runs or self._tail_keys.size:
            self._runs = [_join([*self._runs, self._drain()])]

    def _settle(self) -> None:
        """Sort a full buffer into a run; merge runs until each is over twice the next one."""
        if self._tail_keys.size < self._BUFFER:
            return
        self._runs.append(self._drain())
        _merge_small(self._runs, lambda a, b: _join([a, b]))

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
        self._settle()
        n = self._ids.size
        if n == 0:
            return []
        fps = np.unique(np.asarray(fingerprints, dtype=np.int64))
        cap = max(min_df_cap, int(max_share * n))
        # how many items hold each query fingerprint, over every run and the buffer
        in_tail = np.isin(self._tail_keys.view, fps)
        held = self._tail_keys.view[in_tail]
        tail_keys = np.sort(held)
        df = np.searchsorted(tail_keys, fps, side="right") - np.searchsorted(tail_keys, fps)
        found = [run.lookup(fps) for run in self._runs]
        for _idx, counts in found:
            df = df + counts
        rare = df <= cap
        hits = [self._tail_slots.view[in_tail][np.isin(held, fps[rare])]]
        for run, (idx, counts) in zip(self._runs, found, strict=True):
            take = idx[rare & (counts > 0)]
            hits.append(run.slots[_ranges(run.offsets[take], run.offsets[take + 1])])
        slots = np.concatenate(hits)
        if slots.size == 0:
            return []
        items, counts = np.unique(slots, return_counts=True)
        top = np.argsort(-counts, kind="stable")[:limit]
        floor = max(1, int(counts[top[0]] * min_share_of_best))
        return [(int(self._ids.view[items[t]]), int(counts[t])) for t in top if counts[t] >= floor]
