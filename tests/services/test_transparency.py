"""The transparency log: a leaf for every public status change, in the same transaction; signed
tree heads; proofs from the service; and verify-log catching edited, removed and reordered rows."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from registry.domain import merkle
from registry.domain.transparency import TreeHead, decode_leaf
from registry.models import Event, LogEntry, Registration, TreeHeadRecord, User
from registry.services import (
    correspondence,
    decisions,
    examining,
    filing,
    guards,
    intake,
    transparency,
)
from tests.factories import LIMITS, count, make_user, submit_text


@pytest.fixture
def log(app):
    return app.extensions["registry"].log


@pytest.fixture
def signed(session, log):
    return transparency.attach_signer(session, log)


def _register(session, reg, examiner, outcome="registered", **kw):
    examining.claim(session=session, uid=reg.uid, examiner=examiner)
    return decisions.determine(
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
    examining.cancel(session=session, uid=one.uid, examiner=examiner, reason="Not disclosed.")
    draft = filing.start_supplementary(session=session, owner=b, uid=two.uid)
    supplement = filing.submit(
        session=session,
        store=store,
        limits=LIMITS,
        owner=b,
        declaration=replace(filing.declaration_of(draft), attested=True),
        upload=intake.DepositUpload(),
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


def test_every_append_signs_its_head_in_sessions_of_the_registrys_engine(session, store, log):
    """The test's plain session carries no key: its engine's does (as the CLI's, the demo's and
    the worker's sessions)."""
    owner = make_user(session)
    submit_text(session, store, owner, "Signed as it is filed.\n")
    submit_text(session, store, owner, "And so is this.\n")
    assert [h.tree_size for h in session.exec(select(TreeHeadRecord))] == [1, 2]
    transparency.head_at(session, 2).verify(log.public_key)
    assert log.head(session) == transparency.head_at(session, 2)  # nothing left to sign


def test_a_session_that_cannot_sign_changes_nothing(database_url, tmp_path):
    from registry.db import make_engine, new_session
    from registry.storage import DepositStore
    from tests.conftest import stored_files

    engine = make_engine(database_url)  # an engine of its own, with no signer bound
    store = DepositStore(tmp_path / "deposits")
    try:
        with new_session(engine) as session:
            owner = make_user(session)
            with pytest.raises(transparency.LogError, match="no signing key"):
                submit_text(session, store, owner, "Filed by a script without the key.\n")
            assert count(session, Registration) == 0 and count(session, LogEntry) == 0
            assert transparency.size(session) == 0 and stored_files(store) == []
    finally:
        engine.dispose()


def test_an_empty_log_has_a_signed_empty_head(session, log):
    head = log.head(session)
    assert head.tree_size == 0 and head.root_hash == merkle.EMPTY_ROOT
    head.verify(log.public_key)


def test_a_failed_status_change_leaves_no_leaf(signed, history):
    before = count(signed, LogEntry)
    examiner = signed.exec(select(User).where(User.role == "examiner")).one()
    with pytest.raises(guards.ExaminationError):
        examining.cancel(session=signed, uid=history["three"].uid, examiner=examiner, reason="x")
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
    transparency.attach_signer(session, log)
    submit_text(session, store, owner, "Signed by the log's key.\n")
    stranger = transparency.TransparencyLog(Ed25519PrivateKey.generate())
    transparency.attach_signer(session, stranger)
    with pytest.raises(transparency.LogError, match="REGISTRY_LOG_KEY_FILE"):
        submit_text(session, store, owner, "Filed on a misconfigured instance.\n")
    assert count(session, LogEntry) == 1 and count(session, TreeHeadRecord) == 1  # refused
    assert count(session, Registration) == 1
    with pytest.raises(transparency.LogError, match="REGISTRY_LOG_KEY_FILE"):
        stranger.head(session)
    assert log.head(session).tree_size == 1
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


# ---- tampering an attacker with the database can do consistently ----------------------------


def _column(session, sql, **params):
    return [row[0] for row in session.execute(text(sql), params)]


def _recompute_compact_range(session):
    """Set the log's compact range to what its (edited) leaves give, as a careful attacker
    would, so the recorded state agrees with the rows."""
    frontier: list[bytes] = []
    hashes = _column(session, "SELECT leaf_hash FROM log_entry ORDER BY idx")
    for index, digest in enumerate(hashes):
        frontier = merkle.frontier_push(frontier, index, bytes.fromhex(digest))
    _tamper(
        session,
        "UPDATE log_state SET tree_size = :n, frontier = :f WHERE id = 1",
        n=len(hashes),
        f=b"".join(frontier).hex(),
    )


def _rewrite_decision(session, index, outcome):
    """Rewrite the decision logged at ``index`` consistently in the event, the leaf (and its
    hash), the registration and the log's compact range."""
    row = session.get(LogEntry, index)
    leaf = json.loads(row.leaf)
    leaf["event"] = outcome
    forged = json.dumps(leaf, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    _tamper(
        session,
        "UPDATE log_entry SET leaf = :l, leaf_hash = :h WHERE idx = :i",
        l=forged,
        h=merkle.leaf_hash(forged.encode()).hex(),
        i=index,
    )
    _tamper(session, "UPDATE event SET to_status = :s WHERE id = :id", s=outcome, id=row.event_id)
    _tamper(
        session,
        "UPDATE registration SET status = :s WHERE id = :id",
        s=outcome,
        id=row.registration_id,
    )
    _recompute_compact_range(session)


def test_deleted_heads_and_a_consistent_rewrite_of_a_decision_are_named(signed, history, log):
    _rewrite_decision(signed, 5, "registered")  # "Rain" was refused; now it says registered
    _tamper(signed, "DELETE FROM tree_head")
    audit = transparency.verify(signed, log.public_key)
    assert not audit.ok
    assert any("sizes 1–8 have no signed tree head" in p for p in audit.problems), audit.problems


def test_a_single_missing_head_is_named(signed, history, log):
    _tamper(signed, "DELETE FROM tree_head WHERE tree_size = 4")
    audit = transparency.verify(signed, log.public_key)
    assert audit.problems == [
        "Tree size 4 has no signed tree head: every append signs the head of the log it "
        "makes, so it was deleted."
    ]


@pytest.mark.parametrize(
    ("which", "status", "logged"),
    [("three", "registered", "refused"), ("supplement", "cancelled", "supplementary")],
)
def test_a_status_changed_on_the_registration_alone_is_named(
    signed, history, log, which, status, logged
):
    reg = history[which]
    _tamper(signed, "UPDATE registration SET status = :s WHERE id = :id", s=status, id=reg.id)
    audit = transparency.verify(signed, log.public_key)
    assert not audit.ok
    assert any(
        p.startswith(
            f"{reg.number} is {status.replace('_', ' ')}, but its last logged event is {logged}"
        )
        for p in audit.problems
    ), audit.problems


def test_every_status_the_examination_reaches_agrees_with_the_log(signed, history, log, store):
    """Statuses the log leaves out (under examination, waiting on the creator, closed for no
    response, reconsideration) are consistent with the last logged event."""
    examiner = signed.exec(select(User).where(User.email == "ex@example.org")).one()
    owner = signed.exec(select(User).where(User.email == "a@example.org")).one()
    correspondence.request_reconsideration(
        session=signed, uid=history["three"].uid, creator=owner, argument="Look again."
    )
    waiting = submit_text(signed, store, owner, "Fourth.\n", title="Snow")
    examining.claim(session=signed, uid=waiting.uid, examiner=examiner)
    correspondence.request_information(
        session=signed, uid=waiting.uid, examiner=examiner, question="Which tool?"
    )
    closed = submit_text(signed, store, owner, "Fifth.\n", title="Hail")
    examining.claim(session=signed, uid=closed.uid, examiner=examiner)
    correspondence.request_information(
        session=signed, uid=closed.uid, examiner=examiner, question="Which tool?"
    )
    correspondence.close_overdue(session=signed, today=date(2100, 1, 1))
    statuses = {r.status for r in signed.exec(select(Registration))}
    assert {"reconsideration", "closed_no_response", "submitted"} <= statuses
    audit = transparency.verify(signed, log.public_key)
    assert audit.ok, audit.problems


# ---- checkpoints: heads published outside the database ---------------------------------------


def _roll_back(session, keep):
    """Remove every entry from ``keep`` on with its event and head, and set the statuses and
    the compact range back, consistently: what restoring an older copy of the database (or
    hiding the newest decisions) leaves."""
    for idx, event_id, reg_id in list(
        session.execute(
            text(
                "SELECT idx, event_id, registration_id FROM log_entry WHERE idx >= :k "
                "ORDER BY idx DESC"
            ),
            {"k": keep},
        )
    ):
        before = _column(session, "SELECT from_status FROM event WHERE id = :id", id=event_id)[0]
        _tamper(session, "DELETE FROM log_entry WHERE idx = :i", i=idx)
        _tamper(session, "DELETE FROM event WHERE id = :id", id=event_id)
        _tamper(session, "UPDATE registration SET status = :s WHERE id = :id", s=before, id=reg_id)
    _tamper(session, "DELETE FROM tree_head WHERE tree_size > :k", k=keep)
    _recompute_compact_range(session)


def test_a_checkpoint_kept_elsewhere_catches_a_consistent_rollback(signed, history, log):
    kept = log.checkpoint(log.head(signed))
    examiner = signed.exec(select(User).where(User.email == "ex@example.org")).one()
    examining.cancel(session=signed, uid=history["two"].uid, examiner=examiner, reason="Copied.")
    newer = log.checkpoint(log.head(signed))
    _roll_back(signed, 8)  # the cancellation is undone everywhere in the database
    assert transparency.verify(signed, log.public_key).ok  # the database alone cannot tell
    audit = transparency.verify(signed, log.public_key, [("kept", kept), ("newer", newer)])
    assert audit.problems == [
        "newer: the log was signed at size 9, but the database holds 8 entries: the newest 1 "
        "were removed (the log was rolled back)."
    ]
    assert audit.checked == [
        f"kept: size 8, consistent with the log of 8 entries (origin {log.origin}; a consistency "
        "proof of 0 hashes)."
    ]


def test_a_checkpoint_kept_elsewhere_catches_a_rewrite_even_with_every_head_re_signed(
    signed, history, log
):
    kept = log.checkpoint(log.head(signed))
    _rewrite_decision(signed, 5, "registered")
    # an insider with the signing key deletes every head and signs the rewritten log afresh
    _tamper(signed, "DELETE FROM tree_head")
    frontier: list[bytes] = []
    for index, digest in enumerate(_column(signed, "SELECT leaf_hash FROM log_entry ORDER BY idx")):
        frontier = merkle.frontier_push(frontier, index, bytes.fromhex(digest))
        head = TreeHead(index + 1, 1, merkle.frontier_root(frontier)).signed_with(log.key)
        signed.add(transparency._record(head, log.key_id))
    signed.commit()
    assert transparency.verify(signed, log.public_key).ok
    audit = transparency.verify(signed, log.public_key, [("kept", kept)])
    assert len(audit.problems) == 1
    assert audit.problems[0].startswith(
        "kept: the first 8 entries no longer give the root the log signed at that size"
    )
    assert "(the log was rewritten)" in audit.problems[0]


def test_checkpoints_that_are_not_the_logs_are_problems(signed, history, log):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    real = log.checkpoint(log.head(signed))
    forged = transparency.TransparencyLog(Ed25519PrivateKey.generate(), origin=log.origin)
    audit = transparency.verify(
        signed,
        log.public_key,
        [
            ("forged", forged.checkpoint(log.head(signed))),
            ("edited", real.replace("\n8\n", "\n7\n")),
            ("junk", "not a checkpoint"),
            ("history", real + real),
        ],
    )
    text_ = "\n".join(audit.problems)
    assert "forged: not a checkpoint signed by this log's key" in text_
    assert (
        "edited: not a checkpoint signed by this log's key" in text_ and "does not verify" in text_
    )
    assert "junk: not a checkpoint signed by this log's key" in text_
    assert len(audit.problems) == 3
    assert [c.split(":")[0] for c in audit.checked] == [
        "history (checkpoint 1 of 2)",
        "history (checkpoint 2 of 2)",
    ]


def test_each_commit_publishes_the_newest_checkpoint_and_its_history(app, session, store, log):
    from registry.domain.checkpoint import open_checkpoint, split_notes

    folder = log.checkpoint_dir
    assert folder == Path(app.instance_path) / "checkpoints"
    owner = make_user(session)
    for i in range(3):
        submit_text(session, store, owner, f"Poem {i}.\n")
    current = open_checkpoint((folder / "checkpoint").read_bytes(), log.public_key)
    assert current.tree_size == 3 and current.origin == log.origin
    assert current.root_hash == transparency.head_at(session, 3).root_hash
    history = split_notes((folder / "checkpoints").read_text(encoding="utf-8"))
    assert [open_checkpoint(n, log.public_key).tree_size for n in history] == [1, 2, 3]
    # a failed change publishes nothing
    examiner = make_user(session, role="examiner")
    with pytest.raises(guards.ExaminationError):
        examining.cancel(
            session=session,
            uid=session.exec(select(Registration)).first().uid,
            examiner=examiner,
            reason="Not registered.",
        )
    assert len(split_notes((folder / "checkpoints").read_text(encoding="utf-8"))) == 3


def test_a_published_checkpoint_never_goes_backwards(app, session, store, log):
    owner = make_user(session)
    submit_text(session, store, owner, "One.\n")
    submit_text(session, store, owner, "Two.\n")
    folder = log.checkpoint_dir
    older = transparency.head_at(session, 1)
    other = transparency.TransparencyLog(log.key, origin=log.origin, checkpoint_dir=folder)
    other.publish(older)  # another process, late with an older head
    from registry.domain.checkpoint import open_checkpoint, split_notes

    assert open_checkpoint((folder / "checkpoint").read_bytes(), log.public_key).tree_size == 2
    assert len(split_notes((folder / "checkpoints").read_text(encoding="utf-8"))) == 2


def test_a_log_begun_before_every_append_signed_still_verifies(signed, history, log):
    # as migration 0007 leaves a log of 8 entries whose heads were signed only when asked for
    _tamper(signed, "DELETE FROM tree_head WHERE tree_size IN (2, 3, 5, 6, 7, 8)")
    _tamper(signed, "UPDATE log_state SET signed_from = 9")
    audit = transparency.verify(signed, log.public_key)
    assert audit.ok, audit.problems
    assert any("Tree sizes 1–8 were written before every append signed" in n for n in audit.notes)
    assert any("4 newest entries are not yet covered" in n for n in audit.notes)
    assert log.head(signed).tree_size == 8  # signed now, when asked for
    examiner = signed.exec(select(User).where(User.email == "ex@example.org")).one()
    examining.cancel(session=signed, uid=history["two"].uid, examiner=examiner, reason="x")
    assert transparency.verify(signed, log.public_key).ok
    _tamper(signed, "DELETE FROM tree_head WHERE tree_size = 9")
    assert transparency.verify(signed, log.public_key).problems == [
        "Tree size 9 has no signed tree head: every append signs the head of the log it "
        "makes, so it was deleted."
    ]


def test_a_mark_beyond_the_log_is_named(signed, history, log):
    _tamper(signed, "DELETE FROM tree_head")
    _tamper(signed, "UPDATE log_state SET signed_from = 1000")
    problems = transparency.verify(signed, log.public_key).problems
    assert problems == [
        "The log records that every tree size from 1000 on is signed, but it holds 8 entries: "
        "that record was changed."
    ]
