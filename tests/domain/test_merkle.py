"""RFC 6962 / 9162 Merkle trees: the published reference vectors, and every proof for every
tree size up to 64 verified, and every tampered proof rejected."""

import pytest

from registry.domain import merkle as M

LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
HASHES = [M.leaf_hash(leaf) for leaf in LEAVES]


def test_the_empty_tree_and_the_reference_roots_for_sizes_1_to_8():
    assert M.root([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    for n in range(1, 9):
        assert M.root(HASHES[:n]).hex() == ROOTS[n - 1], n


@pytest.mark.parametrize(
    "index, size, proof",
    [
        (
            0,
            8,
            [
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            [
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
        (
            1,
            5,
            [
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ],
)
def test_reference_inclusion_proofs(index, size, proof):
    assert [p.hex() for p in M.inclusion_proof(index, HASHES[:size])] == proof
    M.verify_inclusion(
        HASHES[index],
        index,
        size,
        [bytes.fromhex(p) for p in proof],
        bytes.fromhex(ROOTS[size - 1]),
    )


@pytest.mark.parametrize(
    "old, new, proof",
    [
        (1, 1, []),
        (
            1,
            8,
            [
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            [
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            [
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ],
)
def test_reference_consistency_proofs(old, new, proof):
    assert [p.hex() for p in M.consistency_proof(old, HASHES[:new])] == proof
    M.verify_consistency(
        old,
        new,
        bytes.fromhex(ROOTS[old - 1]),
        bytes.fromhex(ROOTS[new - 1]),
        [bytes.fromhex(p) for p in proof],
    )


MANY = [M.leaf_hash(i.to_bytes(2, "big") * 3) for i in range(64)]


def _tampered(proof):
    """Every way of spoiling a proof: each element changed, one dropped, one added."""
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = bytes([bad[i][0] ^ 1]) + bad[i][1:]
        yield bad
        yield proof[:i] + proof[i + 1 :]
    yield [*proof, M.EMPTY_ROOT]


def test_every_inclusion_proof_up_to_64_verifies_and_every_tampered_one_fails():
    for size in range(1, 65):
        tree = MANY[:size]
        top = M.root(tree)
        for index in range(size):
            proof = M.inclusion_proof(index, tree)
            M.verify_inclusion(tree[index], index, size, proof, top)
            for bad in _tampered(proof):
                with pytest.raises(M.ProofError):
                    M.verify_inclusion(tree[index], index, size, bad, top)
            with pytest.raises(M.ProofError):
                M.verify_inclusion(M.leaf_hash(b"other"), index, size, proof, top)
            if size > 1:
                with pytest.raises(M.ProofError):
                    M.verify_inclusion(tree[index], (index + 1) % size, size, proof, top)


def test_every_consistency_proof_up_to_64_verifies_and_every_tampered_one_fails():
    roots = [M.root(MANY[:n]) for n in range(65)]
    for new in range(1, 65):
        for old in range(1, new + 1):
            proof = M.consistency_proof(old, MANY[:new])
            M.verify_consistency(old, new, roots[old], roots[new], proof)
            if old == new:
                continue
            for bad in _tampered(proof):
                with pytest.raises(M.ProofError):
                    M.verify_consistency(old, new, roots[old], roots[new], bad)
            with pytest.raises(M.ProofError):
                M.verify_consistency(old, new, M.leaf_hash(b"x"), roots[new], proof)
            with pytest.raises(M.ProofError):
                M.verify_consistency(old, new, roots[old], M.leaf_hash(b"x"), proof)


def test_the_kept_tree_and_the_compact_range_agree_with_the_recomputed_tree_at_every_size():
    hashes = [M.leaf_hash(i.to_bytes(4, "big")) for i in range(70)]
    tree = M.MerkleTree()
    frontier: list[bytes] = []
    for n, h in enumerate(hashes):
        tree.append(h)
        frontier = M.frontier_push(frontier, n, h)
        assert len(frontier) == bin(n + 1).count("1")
        assert M.frontier_root(frontier) == M.root(hashes[: n + 1]) == tree.root()
    for size in range(1, 71):
        assert tree.root(size) == M.root(hashes[:size])
        for index in range(size):
            assert tree.inclusion_proof(index, size) == M.inclusion_proof(index, hashes[:size])
        for old in range(1, size + 1):
            assert tree.consistency_proof(old, size) == M.consistency_proof(old, hashes[:size])
    assert tree.leaf(69) == hashes[69]
    with pytest.raises(ValueError):
        tree.root(71)


def test_the_kept_tree_matches_the_reference_vectors():
    tree = M.MerkleTree()
    for h in HASHES:
        tree.append(h)
    assert [tree.root(n).hex() for n in range(1, 9)] == ROOTS
