"""C2SP signed notes and checkpoints: byte for byte the reference implementation's (Go's
golang.org/x/mod/sumdb/note test vector), and every malformed or tampered note refused."""

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from registry.domain import merkle
from registry.domain.checkpoint import (
    Checkpoint,
    CheckpointError,
    key_hash,
    open_checkpoint,
    open_note,
    parse_checkpoint,
    sign_note,
    split_notes,
    verifier_key,
)

# golang.org/x/mod/sumdb/note's example: its signer key is "PRIVATE+KEY+PeterNeumann+c74f20a3+"
# followed by the base64 of 0x01 and the Ed25519 seed.
GO_SEED = base64.b64decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")[1:]
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXg"
    "KvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
GO_KEY = Ed25519PrivateKey.from_private_bytes(GO_SEED)


def test_signing_reproduces_the_reference_note_and_key():
    assert sign_note(GO_TEXT, "PeterNeumann", GO_KEY) == GO_NOTE
    assert verifier_key("PeterNeumann", GO_KEY.public_key()) == GO_VKEY
    assert key_hash("PeterNeumann", GO_KEY.public_key()).hex() == "c74f20a3"
    assert open_note(GO_NOTE, "PeterNeumann", GO_KEY.public_key()) == GO_TEXT


def test_a_changed_text_or_another_key_is_refused():
    with pytest.raises(CheckpointError, match="does not verify"):
        open_note(
            GO_NOTE.replace("cryptography", "cryptographY"), "PeterNeumann", GO_KEY.public_key()
        )
    other = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(CheckpointError, match="not signed by the log's key"):
        open_note(GO_NOTE, "PeterNeumann", other)


def test_other_signatures_on_a_note_are_ignored():
    witness = Ed25519PrivateKey.generate()
    cosigned = GO_NOTE + sign_note(GO_TEXT, "witness.example/w1", witness).split("\n\n")[1]
    assert open_note(cosigned, "PeterNeumann", GO_KEY.public_key()) == GO_TEXT


@pytest.mark.parametrize(
    "note",
    [
        "",
        "no signature\n",
        GO_TEXT + "\n",
        GO_TEXT + "\n— PeterNeumann not-base64!\n",
        GO_TEXT + "\n- PeterNeumann AAAAAAA=\n",
        GO_TEXT + "\n— PeterNeumann AAAA\n",  # shorter than a key hash and a signature
        GO_NOTE.rstrip("\n"),
        GO_NOTE.replace("problem,", "problem,\x07"),
        b"\xff\xfe" + GO_NOTE.encode(),
    ],
)
def test_malformed_notes_are_refused(note):
    with pytest.raises(CheckpointError):
        open_note(note, "PeterNeumann", GO_KEY.public_key())


def test_a_checkpoint_is_three_lines_signed_under_its_origin():
    key = Ed25519PrivateKey.generate()
    root = merkle.root([merkle.leaf_hash(b"a"), merkle.leaf_hash(b"b")])
    note = Checkpoint("air.example/log", 2, root).signed_with(key)
    body, signature = note.split("\n\n")
    assert body.split("\n") == ["air.example/log", "2", base64.b64encode(root).decode()]
    assert signature.startswith("— air.example/log ")
    assert open_checkpoint(note, key.public_key()) == Checkpoint("air.example/log", 2, root)
    empty = Checkpoint("air.example/log", 0, merkle.EMPTY_ROOT).signed_with(key)
    assert open_checkpoint(empty, key.public_key()).tree_size == 0


@pytest.mark.parametrize(
    "text",
    [
        "air.example/log\n02\nAAAA\n",
        "air.example/log\n-1\n" + base64.b64encode(b"\0" * 32).decode() + "\n",
        "air.example/log\n" + str(2**64) + "\n" + base64.b64encode(b"\0" * 32).decode() + "\n",
        "air.example/log\n1\n" + base64.b64encode(b"\0" * 31).decode() + "\n",
        "air.example/log\n1\n",
        "air.example/log\n1\n" + base64.b64encode(b"\0" * 32).decode() + "\n\n",
    ],
)
def test_malformed_checkpoints_are_refused(text):
    with pytest.raises(CheckpointError):
        parse_checkpoint(text)


@pytest.mark.parametrize("origin", ["", "air example", "air+example", "air\texample"])
def test_an_origin_must_be_a_valid_key_name(origin):
    with pytest.raises(CheckpointError):
        Checkpoint(origin, 0, merkle.EMPTY_ROOT).signed_with(GO_KEY)


def test_a_history_of_checkpoints_splits_into_its_notes():
    key = Ed25519PrivateKey.generate()
    notes = [
        Checkpoint("air.example/log", n, merkle.root([b"\0" * 32] * n)).signed_with(key)
        for n in (1, 2, 3)
    ]
    assert split_notes("".join(notes)) == notes
    assert [
        open_checkpoint(n, key.public_key()).tree_size for n in split_notes("".join(notes))
    ] == [
        1,
        2,
        3,
    ]
