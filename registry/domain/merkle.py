"""The Merkle tree of RFC 6962 / RFC 9162 (section 2.1): tree heads, inclusion proofs and
consistency proofs, and their verification. Pure: hashlib only.

Leaf hash: SHA-256(0x00 || leaf). Node hash: SHA-256(0x01 || left || right). A tree of n > 1
leaves splits at k, the largest power of two smaller than n. Verification follows RFC 9162
sections 2.1.3.2 (inclusion) and 2.1.4.2 (consistency).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof that does not verify; ``str(exc)`` says why."""


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(hashes: Sequence[bytes]) -> bytes:
    """The Merkle tree hash of the leaves whose leaf hashes are ``hashes``."""
    return range_root(0, len(hashes), _slicer(hashes))


def inclusion_proof(index: int, hashes: Sequence[bytes]) -> list[bytes]:
    """The audit path for leaf ``index`` in the tree of ``hashes`` (RFC 6962 PATH)."""
    return inclusion_path(index, len(hashes), _slicer(hashes))


def consistency_proof(old_size: int, hashes: Sequence[bytes]) -> list[bytes]:
    """The proof that the tree of the first ``old_size`` leaves is a prefix of the tree of
    ``hashes`` (RFC 6962 PROOF)."""
    return consistency_path(old_size, len(hashes), _slicer(hashes))


# The algorithms below see the tree only through ``subroot(lo, hi)``: the hash of the subtree
# over leaves lo..hi-1, which the RFC's recursion asks for only where lo is a multiple of the
# largest power of two below hi - lo. A list of leaf hashes answers by recomputing; a
# MerkleTree answers from the complete subtrees it keeps.
SubRoot = Callable[[int, int], bytes]


def _slicer(hashes: Sequence[bytes]) -> SubRoot:
    def subroot(lo: int, hi: int) -> bytes:
        n = hi - lo
        if n == 1:
            return hashes[lo]
        k = _split(n)
        return node_hash(subroot(lo, lo + k), subroot(lo + k, hi))

    return subroot


def range_root(lo: int, hi: int, subroot: SubRoot) -> bytes:
    return EMPTY_ROOT if hi == lo else subroot(lo, hi)


def inclusion_path(index: int, size: int, subroot: SubRoot) -> list[bytes]:
    """RFC 6962 PATH(index, D[0:size]), leaf-side first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    path: list[bytes] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            path.append(subroot(lo + k, hi))
            hi = lo + k
        else:
            path.append(subroot(lo, lo + k))
            lo += k
    return path[::-1]


def consistency_path(old_size: int, size: int, subroot: SubRoot) -> list[bytes]:
    """RFC 6962 PROOF(old_size, D[0:size]), leaf-side first."""
    if not 0 < old_size <= size:
        raise ValueError(f"no consistency proof from {old_size} to {size}")
    path: list[bytes] = []
    m, lo, hi, complete = old_size, 0, size, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            path.append(subroot(lo + k, hi))
            hi = lo + k
        else:
            path.append(subroot(lo, lo + k))
            m, lo, complete = m - k, lo + k, False
    if not complete:
        path.append(subroot(lo, hi))
    return path[::-1]


class MerkleTree:
    """An append-only tree that keeps the hash of every complete subtree (64 bytes per leaf in
    all), so roots and proofs for any size up to its own cost O(log n) hashes."""

    def __init__(self) -> None:
        self._levels: list[bytearray] = [bytearray()]

    def __len__(self) -> int:
        return len(self._levels[0]) // 32

    def append(self, leaf_hash: bytes) -> None:
        if len(leaf_hash) != 32:
            raise ValueError("a leaf hash is 32 bytes")
        i = len(self)
        self._levels[0] += leaf_hash
        level = 0
        while i & 1:  # a right child completes its parent
            row = self._levels[level]
            parent = node_hash(bytes(row[-64:-32]), bytes(row[-32:]))
            level += 1
            if level == len(self._levels):
                self._levels.append(bytearray())
            self._levels[level] += parent
            i >>= 1

    def leaf(self, index: int) -> bytes:
        return bytes(self._levels[0][index * 32 : index * 32 + 32])

    def subroot(self, lo: int, hi: int) -> bytes:
        n = hi - lo
        if n & (n - 1) == 0:  # a complete subtree, kept
            level = n.bit_length() - 1
            at = (lo >> level) * 32
            return bytes(self._levels[level][at : at + 32])
        k = _split(n)
        return node_hash(self.subroot(lo, lo + k), self.subroot(lo + k, hi))

    def _size(self, size: int | None) -> int:
        size = len(self) if size is None else size
        if not 0 <= size <= len(self):
            raise ValueError(f"the tree has {len(self)} leaves, not {size}")
        return size

    def root(self, size: int | None = None) -> bytes:
        return range_root(0, self._size(size), self.subroot)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_path(index, self._size(size), self.subroot)

    def consistency_proof(self, old_size: int, size: int | None = None) -> list[bytes]:
        return consistency_path(old_size, self._size(size), self.subroot)


def frontier_push(frontier: list[bytes], size: int, leaf_hash: bytes) -> list[bytes]:
    """The compact range of a tree of ``size`` + 1 leaves, from that of ``size`` leaves: the
    roots of its complete subtrees, largest (leftmost) first, one per set bit of the size."""
    out = [*frontier, leaf_hash]
    while size & 1:
        right = out.pop()
        out[-1] = node_hash(out[-1], right)
        size >>= 1
    return out


def frontier_root(frontier: list[bytes]) -> bytes:
    """The root of the tree whose compact range is ``frontier``."""
    if not frontier:
        return EMPTY_ROOT
    acc = frontier[-1]
    for h in reversed(frontier[:-1]):
        acc = node_hash(h, acc)
    return acc


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], expected_root: bytes
) -> None:
    """Raise ProofError unless ``proof`` shows ``leaf`` (its leaf hash) at ``index`` in the tree
    of ``size`` leaves with ``expected_root`` (RFC 9162, 2.1.3.2)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size}")
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the proof is shorter than the tree is deep")
    if r != expected_root:
        raise ProofError("the proof leads to a different root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Raise ProofError unless ``proof`` shows the tree of ``old_size`` with ``old_root`` is a
    prefix of the tree of ``new_size`` with ``new_root`` (RFC 9162, 2.1.4.2)."""
    if not 0 < old_size <= new_size:
        raise ProofError(f"no consistency between sizes {old_size} and {new_size}")
    if old_size == new_size:
        if proof:
            raise ProofError("a proof between equal sizes must be empty")
        if old_root != new_root:
            raise ProofError("equal sizes with different roots")
        return
    if not proof:
        raise ProofError("the proof is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root starts the path
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the proof is longer than it should be")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the proof is shorter than it should be")
    if fr != old_root:
        raise ProofError("the proof does not lead to the old root")
    if sr != new_root:
        raise ProofError("the proof does not lead to the new root")
