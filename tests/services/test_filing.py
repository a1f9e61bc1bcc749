import io
import json
import re
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from registry.db import new_session
from registry.domain.declaration import Author
from registry.models import Deposit, Event, Registration
from registry.services import filing, intake, transparency
from tests.conftest import stored_files
from tests.factories import (
    count,
    declaration,
    image_bytes,
    make_user,
    save_draft,
    text_declaration,
)
from tests.factories import submit_work as submit

ROOT = Path(__file__).resolve().parents[2]


def test_submit_numbers_stores_and_records(session, store):
    owner = make_user(session)
    reg = submit(session, store, owner)
    year = datetime.now(UTC).year
    assert re.fullmatch(rf"AIR-{year}-\d{{6}}", reg.number)
    assert reg.number == f"AIR-{year}-000001"
    assert reg.status == "submitted" and reg.submitted_at is not None
    assert store.exists(reg.deposit_sha256)
    assert [(e.kind, e.from_status, e.to_status, e.actor_id) for e in reg.events] == [
        ("created", None, "draft", owner.id),
        ("submitted", "draft", "submitted", owner.id),
    ]
    second = submit(
        session,
        store,
        owner,
        upload=intake.DepositUpload(file=io.BytesIO(image_bytes(colour=(1, 2, 3)))),
    )
    assert second.number == f"AIR-{year}-000002"


def test_draft_then_edit_then_submit(session, store):
    owner = make_user(session)
    draft = save_draft(session, store, owner, replace(declaration(), title="", attested=False))
    assert draft.status == "draft" and draft.number is None and draft.deposit_sha256 is None
    with pytest.raises(intake.FilingRejected) as exc:
        submit(
            session,
            store,
            owner,
            decl=replace(declaration(), title=""),
            upload=intake.DepositUpload(),
            uid=draft.uid,
        )
    assert {p.field for p in exc.value.problems} == {"title", "deposit"}
    # Nothing of the failed submission was written.
    session.expire_all()
    assert session.get(Registration, draft.id).status == "draft"
    edited = save_draft(
        session,
        store,
        owner,
        declaration(title="Second title"),
        upload=intake.DepositUpload(file=io.BytesIO(image_bytes())),
        uid=draft.uid,
    )
    assert edited.id == draft.id and edited.title == "Second title" and edited.deposit_sha256
    done = submit(session, store, owner, upload=intake.DepositUpload(), uid=draft.uid)
    assert done.status == "submitted" and done.deposit_sha256 == edited.deposit_sha256
    # A second submission (a double click) changes nothing.
    again = submit(session, store, owner, upload=intake.DepositUpload(), uid=draft.uid)
    assert again.number == done.number
    assert count(session, Event) == 2
    with pytest.raises(intake.FilingRejected, match="submitted already"):
        save_draft(session, store, owner, declaration(), uid=draft.uid)


def test_children_are_replaced_on_edit(session, store):
    owner = make_user(session)
    d1 = declaration(
        authors=(
            Author("A One", "real_name", "", "", "x"),
            Author("B Two", "real_name", "", "", "y"),
        )
    )
    draft = save_draft(session, store, owner, d1)
    d2 = declaration(authors=(Author("C Three", "real_name", "", "", "z"),), alternative_titles=())
    save_draft(session, store, owner, d2, uid=draft.uid)
    session.expire_all()
    reg = session.get(Registration, draft.id)
    assert [a.name for a in reg.authors] == ["C Three"]
    assert reg.alternative_titles == []
    assert filing.declaration_of(reg).authors == d2.authors


def test_other_creators_cannot_touch_a_draft(session, store):
    owner, other = make_user(session), make_user(session)
    draft = save_draft(session, store, owner, declaration())
    with pytest.raises(filing.FilingNotFound):
        save_draft(session, store, other, declaration(), uid=draft.uid)
    assert filing.get_own(session=session, uid=draft.uid, user=other) is None
    assert filing.get_for_viewer(session=session, uid=draft.uid, user=other) is None
    examiner = make_user(session, role="examiner")
    assert filing.get_for_viewer(session=session, uid=draft.uid, user=examiner) is None
    submit(
        session,
        store,
        owner,
        upload=intake.DepositUpload(file=io.BytesIO(image_bytes())),
        uid=draft.uid,
    )
    assert filing.get_for_viewer(session=session, uid=draft.uid, user=examiner) is not None
    assert filing.get_for_viewer(session=session, uid=draft.uid, user=other) is None


@pytest.mark.parametrize(
    ("data", "pasted", "message"),
    [
        (b"GIF89a" + b"\x00" * 40, None, "JPEG, PNG or WebP"),
        (b"x" * ((1 << 20) + 1), None, "larger than the limit"),
        (image_bytes("PNG", (1100, 1000)), None, "limit is"),
        (b"caf\xe9 au lait", None, "JPEG, PNG or WebP"),
        (b"", None, "The file is empty"),
        (b"hi", "hello", "not both"),
    ],
)
def test_bad_deposits_leave_nothing_behind(session, store, data, pasted, message):
    owner = make_user(session)
    upload = intake.DepositUpload(file=io.BytesIO(data), pasted_text=pasted)
    with pytest.raises(intake.FilingRejected, match=message):
        submit(session, store, owner, upload=upload)
    assert count(session, Registration) == 0 and count(session, Deposit) == 0
    assert stored_files(store) == []


def test_a_text_for_an_image_category_is_named_as_such(session, store):
    owner = make_user(session)
    with pytest.raises(intake.FilingRejected, match="This file is a text, but the category"):
        submit(session, store, owner, upload=intake.DepositUpload(pasted_text="A poem"))
    with pytest.raises(intake.FilingRejected, match="This file is an image, but the category"):
        submit(
            session,
            store,
            owner,
            decl=text_declaration(),
            upload=intake.DepositUpload(file=io.BytesIO(image_bytes())),
        )
    assert stored_files(store) == []


def test_pasted_text_is_normalised_and_shared_by_hash(session, store):
    owner = make_user(session)
    a = submit(
        session,
        store,
        owner,
        decl=text_declaration(),
        upload=intake.DepositUpload(pasted_text="line one\r\nline two\r\n"),
    )
    b = submit(
        session,
        store,
        owner,
        decl=text_declaration(),
        upload=intake.DepositUpload(file=io.BytesIO(b"line one\nline two\n")),
    )
    assert a.deposit_sha256 == b.deposit_sha256
    assert filing.deposit_text(store, a.deposit) == "line one\nline two\n"
    assert count(session, Deposit) == 1 and len(stored_files(store)) == 1


def test_a_failed_commit_takes_the_new_file_back(session, store, monkeypatch):
    owner = make_user(session)

    def broken_commit():
        raise RuntimeError("database went away")

    monkeypatch.setattr(session, "commit", broken_commit)
    with pytest.raises(RuntimeError):
        submit(session, store, owner)
    monkeypatch.undo()
    session.rollback()
    assert count(session, Registration) == 0
    assert stored_files(store) == []


def test_numbers_are_unique_under_concurrent_threads(app, engine, store, session):
    owner = make_user(session)
    numbers: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker(t: int) -> None:
        try:
            with new_session(engine) as s:
                user = s.get(type(owner), owner.id)
                barrier.wait()
                for i in range(5):
                    reg = submit(
                        s,
                        store,
                        user,
                        decl=text_declaration(),
                        upload=intake.DepositUpload(pasted_text=f"thread {t} poem {i}"),
                    )
                    numbers.append(reg.number)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(numbers) == 40 and len(set(numbers)) == 40
    year = datetime.now(UTC).year
    assert sorted(numbers) == [f"AIR-{year}-{i:06d}" for i in range(1, 41)]
    assert count(session, Registration) == 40
    _log_holds_each_filing_once(app, session, numbers)


def _log_holds_each_filing_once(app, session, numbers) -> None:
    log = app.extensions["registry"].log
    log.head(session)
    audit = transparency.verify(session, log.public_key)
    assert audit.ok, audit.problems
    assert audit.entries == len(numbers)
    logged = [json.loads(e.leaf)["number"] for e in transparency.entries(session, 0, 10_000)]
    assert sorted(logged) == sorted(numbers)


@pytest.mark.slow
def test_numbers_are_unique_across_processes(app, database_url, store, session):
    owner = make_user(session)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.services.concurrent_filer",
                database_url,
                str(store.root),
                str(owner.id),
                "10",
                f"p{p}",
                app.extensions["registry"].settings.log_key_path,
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in range(4)
    ]
    numbers = []
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err[-2000:]
        numbers += json.loads(out)
    assert len(numbers) == 40 and len(set(numbers)) == 40
    assert count(session, Registration) == 40
    _log_holds_each_filing_once(app, session, numbers)
