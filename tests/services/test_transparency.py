"""The transparency log: a leaf for every public status change, in the same transaction; signed
tree heads; proofs from the service; and verify-log catching edited, removed and reordered rows."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlmodel import select

from registry.domain import merkle
from registry.domain.transparency import TreeHead, decode_leaf
from registry.models import Event, LogEntry, Registration, TreeHeadRecord, User
from registry.services import examination, filing, transparency
from tests.factories import LIMITS, count, make_user, submit_text


@pytest.fixture
def log(app):
    return app.extensions["registry"].log


@pytest.fixture
def signed(session, log):
    return transparency.attach_signer(session, log.key)


def _register(session, reg, examiner, outcome="registered", **kw):
    examination.claim(session=session, uid=reg.uid, examiner=examiner)
    return examination.determine(
        session=session, uid=reg.uid, examiner=examiner, outcome=outcome, rationale="Fine.", **kw
    )


@pytest.fixture
def history(signed, store):
    """Three filings: one registered then cancelled, one registered with a limitation, one
    refused; a supplementary registration of the second. Eight public status changes."""
    session = signed
    a, b = make_user(session, email="a@example.org"), make_user(session, email="b@example.org")
    examiner = make_user(session, email="ex@example.org", role="examiner")
    one = submit_text(session, store, a, "The first poem, about the sea.\n", title="Sea")
    two = submit_text(session, store, b, "The second poem, about hills.\n", title="Hills")
    three = submit_text(session, store, a, "The third poem, about rain.\n", title="Rain")
    _register(session, one, examiner)
    _register(session, two, examiner, "registered_with_limitation", limitation="The AI images.")
    _register(session, three, examiner, "refused", reason_code="no_human_authorship")
    examination.cancel(session=session, uid=one.uid, examiner=examiner, reason="Not disclosed.")
    draft = filing.start_supplementary(session=session, owner=b, uid=two.uid)
    supplement = filing.submit(
        session=session,
        store=store,
        limits=LIMITS,
        owner=b,
        declaration=replace(filing.declaration_of(draft), attested=True),
        upload=filing.DepositUpload(),
        uid=draft.uid,
    )
    return {"one": one, "two": two, "three": three, "supplement": supplement}


def _leaves(session):
    return [
        decode_leaf(e.leaf.encode()) for e in session.exec(select(LogEntry).order_by(LogEntry.idx))
    ]


def test_each_public_status_change_is_one_leaf_in_order(signed, history):
    leaves = _leaves(signed)
    one, two, three, sup = (history[k].number for k in ("one", "two", "three", "supplement"))
    assert [(leaf["number"], leaf["event"]) for leaf in leaves] == [
        (one, "submitted"),
        (two, "submitted"),
        (three, "submitted"),
        (one, "registered"),
        (two, "registered_with_limitation"),
        (three, "refused"),
        (one, "cancelled"),
        (sup, "supplementary"),
    ]
    assert leaves[-1]["supplements"] == two
    assert leaves[0]["deposit_sha256"] == history["one"].deposit_sha256
    assert leaves[-1]["deposit_sha256"] == history["two"].deposit_sha256
    # claims, letters and drafts are not public status changes
    assert count(signed, Event) > len(leaves)
    # each append signed the head of the tree it made
    assert [
        h.tree_size for h in signed.exec(select(TreeHeadRecord).order_by(TreeHeadRecord.tree_size))
    ] == list(range(1, 9))


def test_signed_heads_and_proofs_verify(signed, history, log):
    hashes = [
        bytes.fromhex(e.leaf_hash) for e in signed.exec(select(LogEntry).order_by(LogEntry.idx))
    ]
    for size in range(1, len(hashes) + 1):
        head = transparency.head_at(signed, size)
        head.verify(log.public_key)
        assert head.root_hash == merkle.root(hashes[:size])
        for index in range(size):
            proof = log.inclusion(signed, index, size)[0]
            merkle.verify_inclusion(hashes[index], index, size, proof, head.root_hash)
        for old in range(1, size + 1):
            proof = log.consistency(signed, old, size)[0]
            old_root = transparency.head_at(signed, old).root_hash
            merkle.verify_consistency(old, size, old_root, head.root_hash, proof)
    with pytest.raises(transparency.LogError, match="between 1 and 8"):
        log.inclusion(signed, 0, 9)
    with pytest.raises(transparency.LogError, match="leaf_index"):
        log.inclusion(signed, 8, 8)
    with pytest.raises(transparency.LogError, match="first"):
        log.consistency(signed, 0, 8)


def test_without_the_key_in_the_session_the_head_is_signed_when_asked(session, store, log):
    owner = make_user(session)
    submit_text(session, store, owner, "Unsigned for now.\n")
    assert count(session, TreeHeadRecord) == 0
    head = log.head(session)
    assert head.tree_size == 1
    head.verify(log.public_key)
    assert log.head(session) == head  # once signed, the same head is served
    assert count(session, TreeHeadRecord) == 1


def test_an_empty_log_has_a_signed_empty_head(session, log):
    head = log.head(session)
    assert head.tree_size == 0 and head.root_hash == merkle.EMPTY_ROOT
    head.verify(log.public_key)


def test_a_failed_status_change_leaves_no_leaf(signed, history):
    before = count(signed, LogEntry)
    examiner = signed.exec(select(User).where(User.role == "examiner")).one()
    with pytest.raises(examination.ExaminationError):
        examination.cancel(session=signed, uid=history["three"].uid, examiner=examiner, reason="x")
    assert count(signed, LogEntry) == before


# ---- verify-log ------------------------------------------------------------------------------


def test_an_untouched_log_verifies(signed, history, log):
    audit = transparency.verify(signed, log.public_key)
    assert audit.ok, audit.problems
    assert audit.entries == 8 and audit.heads == 8 and audit.latest.tree_size == 8


def _tamper(session, sql, **params):
    session.execute(text(sql), params)
    session.commit()


def test_an_edited_record_is_named(signed, history, log):
    reg = history["two"]
    _tamper(signed, "UPDATE registration SET number = 'AIR-1999-000001' WHERE id = :id", id=reg.id)
    audit = transparency.verify(signed, log.public_key)
    assert not audit.ok
    assert any(
        p.startswith("Entry 1 ") and "number is 'AIR-1999-000001' in the records" in p
        for p in audit.problems
    ), audit.problems
    assert any("root signed at tree size 2" in p for p in audit.problems), audit.problems


def test_an_edited_leaf_and_an_edited_event_time_are_named(signed, history, log):
    leaf = json.loads(signed.get(LogEntry, 3).leaf)
    leaf["event"] = "refused"
    forged = json.dumps(leaf, sort_keys=True, separators=(",", ":"))
    digest = merkle.leaf_hash(forged.encode()).hex()
    _tamper(
        signed, "UPDATE log_entry SET leaf = :l, leaf_hash = :h WHERE idx = 3", l=forged, h=digest
    )
    event_id = signed.get(LogEntry, 5).event_id
    _tamper(
        signed,
        "UPDATE event SET at = :at WHERE id = :id",
        at="2020-01-01 00:00:00.000000",
        id=event_id,
    )
    audit = transparency.verify(signed, log.public_key)
    text_ = "\n".join(audit.problems)
    assert "Entry 3 " in text_ and "event is 'registered' in the records but 'refused'" in text_
    assert "Entry 5 " in text_ and "time is" in text_
    assert "Entry 5 " in text_ and "out of order" in text_


def test_a_removed_row_is_named(signed, history, log):
    _tamper(signed, "DELETE FROM log_entry WHERE idx = 4")
    audit = transparency.verify(signed, log.public_key)
    text_ = "\n".join(audit.problems)
    assert "Entry 4 is missing" in text_
    assert "not in the log" in text_  # its event is a public status change with no leaf
    assert "root signed at tree size 5" in text_


def test_a_removed_last_row_is_named(signed, history, log):
    _tamper(signed, "DELETE FROM log_entry WHERE idx = 7")
    audit = transparency.verify(signed, log.public_key)
    text_ = "\n".join(audit.problems)
    assert "covers 8 entries but the log holds 7" in text_


def test_reordered_rows_are_named(signed, history, log):
    # entries 2 and 3 trade places
    _tamper(signed, "UPDATE log_entry SET idx = 1000 WHERE idx = 2")
    _tamper(signed, "UPDATE log_entry SET idx = 2 WHERE idx = 3")
    _tamper(signed, "UPDATE log_entry SET idx = 3 WHERE idx = 1000")
    audit = transparency.verify(signed, log.public_key)
    text_ = "\n".join(audit.problems)
    assert "Entry 3 " in text_ and "out of order" in text_
    assert "root signed at tree size 3" in text_


def test_a_forged_signature_and_a_wrong_key_are_named(signed, history, log):
    head = signed.get(TreeHeadRecord, 8)
    forged = TreeHead(8, head.timestamp + 1, bytes.fromhex(head.root_hash), b"\0" * 64)
    _tamper(
        signed,
        "UPDATE tree_head SET timestamp = :t, signature = :s WHERE tree_size = 8",
        t=forged.timestamp,
        s=forged.to_json()["signature"],
    )
    audit = transparency.verify(signed, log.public_key)
    assert any("Tree head 8" in p and "does not verify" in p for p in audit.problems)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other = transparency.verify(signed, Ed25519PrivateKey.generate().public_key())
    assert sum("does not verify" in p for p in other.problems) == 8


def test_the_registration_row_count_is_untouched_by_verify(signed, history, log):
    before = count(signed, Registration)
    transparency.verify(signed, log.public_key)
    assert count(signed, Registration) == before


def test_one_log_one_key_a_second_key_neither_signs_nor_serves(session, store, log):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    owner = make_user(session)
    transparency.attach_signer(session, log.key)
    submit_text(session, store, owner, "Signed by the log's key.\n")
    stranger = transparency.TransparencyLog(Ed25519PrivateKey.generate())
    transparency.attach_signer(session, stranger.key)
    submit_text(session, store, owner, "Filed on a misconfigured instance.\n")
    assert count(session, LogEntry) == 2 and count(session, TreeHeadRecord) == 1  # not signed
    with pytest.raises(transparency.LogError, match="REGISTRY_LOG_KEY_FILE"):
        stranger.head(session)
    assert log.head(session).tree_size == 2  # the log's own key signs it
    assert transparency.verify(session, log.public_key).ok


def test_logged_times_never_go_backwards(signed, store, monkeypatch):
    owner = make_user(signed)
    submit_text(signed, store, owner, "First.\n")
    # a clock that runs behind (another machine, say): the next event would predate the last
    monkeypatch.setattr(transparency, "utcnow", lambda: datetime(2000, 1, 1, tzinfo=UTC))
    second = submit_text(signed, store, owner, "Second.\n")
    times = [decode_leaf(e.leaf.encode())["time"] for e in transparency.entries(signed, 0, 9)]
    assert times[1] == times[0]
    assert second.events[-1].at.year != 2000  # the event keeps the time it was logged with
