"""Filing: drafts, submission, registration numbers and the creator's own records.

A save or a submission is one transaction: the deposit row, the registration and its children,
the number and the event are written together, and the deposit file is moved into the store just
before the commit (and taken out again if the commit fails). Bad input raises FilingRejected
before anything is written.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from datetime import date

from sqlalchemy import func, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from .. import deposits as deposit_rules
from ..db import begin_write, writing
from ..domain import declaration as rules
from ..domain import permissions
from ..domain.declaration import SCALAR_FIELDS, Declaration, Problem
from ..domain.events import EventKind
from ..domain.numbering import format_number
from ..domain.permissions import Action, refusal
from ..domain.statuses import Status, check_transition
from ..domain.vocabulary import ContributionCategory, DepositKind, Signing
from ..models import (
    AiTool,
    AlternativeTitle,
    Author,
    DeclarationVersion,
    Deposit,
    HumanContribution,
    IdempotencyKey,
    InputSource,
    NumberSequence,
    Registration,
    User,
    utcnow,
)
from ..storage import DepositStore
from . import status as lifecycle
from .intake import DepositUpload, FilingRejected, Incoming, Limits, staged_upload

log = logging.getLogger(__name__)


class FilingNotFound(LookupError):
    """No filing with that id belongs to this creator."""


def save_draft(
    *,
    session: Session,
    store: DepositStore,
    limits: Limits,
    owner: User,
    declaration: Declaration,
    upload: DepositUpload,
    uid: str | None = None,
    today: date | None = None,
) -> Registration:
    """Create or update the owner's draft and commit it; return the registration.

    Raises FilingRejected for problems even a draft may not have (a bad deposit, an AI named as
    an author, impossible dates) and FilingNotFound when ``uid`` is not one of the owner's drafts.
    """
    registration, _written = _write(
        session, store, limits, owner, declaration, upload, uid, today, submit=False
    )
    return registration


def submit(
    *,
    session: Session,
    store: DepositStore,
    limits: Limits,
    owner: User,
    declaration: Declaration,
    upload: DepositUpload,
    uid: str | None = None,
    today: date | None = None,
    defer: Callable[[int], object] | None = None,
) -> Registration:
    """Save ``declaration`` and submit it: number, status ``submitted``, event; commit. Then
    hand the registration's id to ``defer``, which starts its checks (:mod:`.checking`) off
    this request: queued for a worker or in a child process (see ``registry.runner``); until
    they are done the filing is "checking". The filing is acknowledged at its commit: a check
    that fails, or cannot be started, leaves it pending for ``registry check``.

    Submitting a filing that is already submitted returns it unchanged (a double click files
    once). Raises FilingRejected when the filing is incomplete or inconsistent, with nothing
    written, and FilingNotFound when ``uid`` is not the owner's.
    """
    reg, _replayed = submit_once(
        session=session,
        store=store,
        limits=limits,
        owner=owner,
        declaration=declaration,
        upload=upload,
        uid=uid,
        today=today,
        defer=defer,
    )
    return reg


@dataclass(frozen=True)
class Idempotency:
    """An ``Idempotency-Key`` sent with a submission, and the SHA-256 of what was sent with it."""

    key: str
    request_sha256: str


class IdempotencyConflict(ValueError):
    """The idempotency key was used before for a different request."""


def submit_once(
    *,
    session: Session,
    store: DepositStore,
    limits: Limits,
    owner: User,
    declaration: Declaration,
    upload: DepositUpload,
    uid: str | None = None,
    today: date | None = None,
    defer: Callable[[int], object] | None = None,
    idempotency: Idempotency | None = None,
) -> tuple[Registration, bool]:
    """:func:`submit`, and at most once per ``idempotency`` key of the owner: a request
    repeated with the same key and the same content returns the filing the first one made.
    Returns the registration and whether it was made earlier (by a repeated request or a
    double click), in which case nothing was written and no check started.

    Raises IdempotencyConflict when the key was used for a different request; otherwise as
    :func:`submit`. Two requests with one key at once file once: the second waits for the
    first (SQLite's write lock) or loses on the key's unique constraint and returns its filing.
    """
    try:
        reg, written = _write(
            session,
            store,
            limits,
            owner,
            declaration,
            upload,
            uid,
            today,
            submit=True,
            once=idempotency,
        )
    except IntegrityError:
        if idempotency is None:
            raise
        session.rollback()
        earlier = _earlier_submission(session, owner, idempotency)
        if earlier is None:
            raise
        return earlier, True
    if written and defer is not None:
        assert reg.id is not None, "a filed registration is a stored row"
        try:
            defer(reg.id)
        except Exception:  # the filing stands; `registry check` does what was not started
            log.exception("could not start the checks of %s; it stays pending", reg.number)
    return reg, not written


def _write(
    session: Session,
    store: DepositStore,
    limits: Limits,
    owner: User,
    declaration: Declaration,
    upload: DepositUpload,
    uid: str | None,
    today: date | None,
    *,
    submit: bool,
    once: Idempotency | None = None,
) -> tuple[Registration, bool]:
    """Save (and submit) in one transaction; the registration, and False when nothing was
    written (submitted already, or an idempotent retry of an earlier submission)."""
    today = today or utcnow().date()
    decl = declaration.without_blank_rows()
    with staged_upload(store, limits, upload, decl) as incoming:
        begin_write(session)
        try:
            if once is not None:
                earlier = _earlier_submission(session, owner, once)
                if earlier is not None:
                    session.rollback()
                    return earlier, False
            registration = _load_or_create(session, owner, uid)
            if not _creator_may(registration, owner, Action.EDIT_DRAFT):
                if not submit:
                    raise FilingRejected(
                        [
                            Problem(
                                "", "This filing was submitted already and can no longer be edited."
                            )
                        ]
                    )
                session.rollback()
                return registration, False  # submitted already: a double click files once
            problems = _problems(decl, registration, incoming, today, submit=submit)
            if problems:
                raise FilingRejected(problems)
            if incoming:
                registration.deposit = _upsert_deposit(session, incoming)
            _apply(session, registration, decl)
            registration.updated_at = utcnow()
            session.add(registration)
            session.flush()
            if uid is None:
                lifecycle.created(session, registration, owner, "Draft started")
            if submit:
                _submit(session, registration, owner)
            if once is not None:
                assert owner.id is not None, "a signed-in user is a stored row"
                assert registration.id is not None, "flushed rows have their ids"
                session.add(
                    IdempotencyKey(
                        user_id=owner.id,
                        key=once.key,
                        request_sha256=once.request_sha256,
                        registration_id=registration.id,
                    )
                )
            created_file = incoming.staged.promote() if incoming else False
        except BaseException:
            session.rollback()
            raise
        _commit_or_unstore(session, store, incoming, created_file)
        return registration, True


def _earlier_submission(session: Session, owner: User, once: Idempotency) -> Registration | None:
    """The filing an earlier request with ``once.key`` made, if any; raises IdempotencyConflict
    when that request was not this one."""
    row = session.exec(
        select(IdempotencyKey).where(
            IdempotencyKey.user_id == owner.id, IdempotencyKey.key == once.key
        )
    ).first()
    if row is None:
        return None
    if row.request_sha256 != once.request_sha256:
        raise IdempotencyConflict(once.key)
    return session.get(Registration, row.registration_id)


def _commit_or_unstore(
    session: Session, store: DepositStore, incoming: Incoming | None, created_file: bool
) -> None:
    try:
        session.commit()
    except BaseException:
        session.rollback()
        if incoming and created_file:
            sha = incoming.staged.sha256
            if session.get(Deposit, sha) is None:
                store.remove(sha)
        raise


def _problems(
    decl: Declaration,
    registration: Registration,
    incoming: Incoming | None,
    today: date,
    *,
    submit: bool,
) -> list[Problem]:
    if not submit:
        return rules.draft_problems(decl, today=today)
    if incoming:
        kind: DepositKind | None = incoming.info.kind
    else:
        kind = DepositKind(registration.deposit.kind) if registration.deposit else None
    return rules.submission_problems(decl, deposit_kind=kind, today=today)


def _load_or_create(session: Session, owner: User, uid: str | None) -> Registration:
    if uid is None:
        assert owner.id is not None, "a signed-in user is a stored row"
        return Registration(uid=uuid.uuid4().hex, owner_id=owner.id, status=Status.DRAFT.value)
    reg = session.exec(
        select(Registration).where(Registration.uid == uid, Registration.owner_id == owner.id)
    ).first()
    if reg is None:
        raise FilingNotFound(uid)
    return reg


def _upsert_deposit(session: Session, incoming: Incoming) -> Deposit:
    existing = session.get(Deposit, incoming.staged.sha256)
    if existing is not None:
        return existing
    info = incoming.info
    deposit = Deposit(
        sha256=incoming.staged.sha256,
        kind=info.kind.value,
        media_type=info.media_type,
        byte_size=incoming.staged.size,
        width=info.width,
        height=info.height,
        char_count=info.char_count,
    )
    session.add(deposit)
    return deposit


def _apply(session: Session, reg: Registration, d: Declaration) -> None:
    """Copy the declaration onto the registration, replacing its child rows."""
    if reg.id is not None:
        # Delete the old rows first: the unit of work would insert the new ones before
        # deleting, which trips the unique constraint on (registration, category).
        for children in (
            reg.alternative_titles,
            reg.authors,
            reg.ai_tools,
            reg.contributions,
            reg.sources,
        ):
            children.clear()
        session.flush()
    for name in SCALAR_FIELDS:  # publication_date and _nation are settled just below
        value = getattr(d, name)
        setattr(reg, name, value.strip() if isinstance(value, str) else value)
    reg.publication_date = d.publication_date if d.publication_status == "published" else None
    if d.publication_status != "published":
        reg.publication_nation = ""
    reg.alternative_titles = [
        AlternativeTitle(position=i, title=t.strip())  # type: ignore[call-arg]  # registration_id: set by the relationship
        for i, t in enumerate(d.alternative_titles)
    ]
    reg.authors = [
        Author(  # type: ignore[call-arg]  # registration_id: set by the relationship
            position=i,
            name=a.name.strip(),
            signing=Signing(a.signing) if a.signing is not None else None,
            pseudonym=a.pseudonym.strip(),
            citizenship=a.citizenship.strip(),
            contribution=a.contribution.strip(),
        )
        for i, a in enumerate(d.authors)
    ]
    reg.ai_tools = [
        AiTool(  # type: ignore[call-arg]  # registration_id: set by the relationship
            position=i,
            name=t.name.strip(),
            version=t.version.strip(),
            provider=t.provider.strip(),
            usage=t.usage.strip(),
        )
        for i, t in enumerate(d.ai_tools)
    ]
    reg.contributions = [
        HumanContribution(  # type: ignore[call-arg]  # registration_id: set by the relationship
            category=ContributionCategory(c.category), description=c.description.strip()
        )
        for c in d.contributions
    ]
    reg.sources = [
        InputSource(  # type: ignore[call-arg]  # registration_id: set by the relationship
            position=i,
            description=s.description.strip(),
            origin=s.origin.strip(),
            licence=s.licence.strip(),
        )
        for i, s in enumerate(d.sources)
    ]
    reg.attested_at = utcnow() if d.attested else None


def _submit(session: Session, reg: Registration, actor: User) -> None:
    check_transition(Status(reg.status), Status.SUBMITTED)  # before a number is taken
    now = utcnow()
    reg.number = allocate_number(session, now.year)
    reg.submitted_at = now
    lifecycle.change_status(
        session, reg, Status.SUBMITTED, actor, EventKind.SUBMITTED, "Filed by the creator"
    )


def allocate_number(session: Session, year: int) -> str:
    """Take the next number of ``year`` inside the caller's write transaction.

    Race-free on both databases: the counter row is updated in place (SQLite holds the write
    lock from BEGIN IMMEDIATE; PostgreSQL locks the row until commit), and the UNIQUE constraint
    on ``registration.number`` backs it up.
    """
    dialect = session.get_bind().dialect.name
    insert: Callable[..., postgresql.Insert | sqlite.Insert] = (
        postgresql.insert if dialect == "postgresql" else sqlite.insert
    )
    session.execute(
        insert(NumberSequence)
        .values(year=year, last_value=0)
        .on_conflict_do_nothing(index_elements=["year"])
    )
    last = session.execute(
        update(NumberSequence)
        .where(col(NumberSequence.year) == year)
        .values(last_value=NumberSequence.last_value + 1)
        .returning(col(NumberSequence.last_value))
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return format_number(year, last)


# --- reading -------------------------------------------------------------------------------


def get_own(*, session: Session, uid: str, user: User) -> Registration | None:
    """The filing ``uid`` when ``user`` owns it; None otherwise (callers answer 404)."""
    return session.exec(
        select(Registration).where(Registration.uid == uid, Registration.owner_id == user.id)
    ).first()


def get_for_viewer(*, session: Session, uid: str, user: User) -> Registration | None:
    """The filing ``uid`` as ``user`` may see it: owners see theirs, examiners any submitted one.

    Returns None when the user may not see it, so that a stranger cannot tell it exists.
    """
    reg = session.exec(select(Registration).where(Registration.uid == uid)).first()
    if reg is None:
        return None
    if permissions.may_view(user.role, is_owner=reg.owner_id == user.id, status=reg.status):
        return reg
    return None


def list_own(*, session: Session, user: User) -> list[Registration]:
    """The user's filings, drafts first, then the most recently submitted."""
    rows = session.exec(
        select(Registration)
        .where(Registration.owner_id == user.id)
        .order_by(
            (col(Registration.status) == Status.DRAFT.value).desc(),
            func.coalesce(Registration.submitted_at, Registration.updated_at).desc(),
        )
    ).all()
    return list(rows)


def declaration_of(reg: Registration) -> Declaration:
    """The registration's declaration, as a creator would edit it."""
    return Declaration(
        **{name: getattr(reg, name) for name in SCALAR_FIELDS},
        alternative_titles=tuple(t.title for t in reg.alternative_titles),
        authors=tuple(
            rules.Author(
                name=a.name,
                signing=a.signing,
                pseudonym=a.pseudonym,
                citizenship=a.citizenship,
                contribution=a.contribution,
            )
            for a in reg.authors
        ),
        ai_tools=tuple(
            rules.AiTool(name=t.name, version=t.version, provider=t.provider, usage=t.usage)
            for t in reg.ai_tools
        ),
        contributions=tuple(
            rules.Contribution(category=c.category, description=c.description)
            for c in reg.contributions
        ),
        sources=tuple(
            rules.InputSource(description=s.description, origin=s.origin, licence=s.licence)
            for s in reg.sources
        ),
        attested=reg.attested_at is not None,
    )


def deposit_text(store: DepositStore, deposit: Deposit) -> str:
    """The text of a text deposit (as filed, UTF-8 decoded); raises ValueError for an image and
    storage.DepositDamaged when the stored bytes are not the ones filed."""
    if deposit.kind != DepositKind.TEXT:
        raise ValueError("not a text deposit")
    return deposit_rules.stored_text(store.read_verified(deposit.sha256))


def _creator_may(reg: Registration, owner: User, action: Action) -> bool:
    """Whether the filing's owner may take ``action`` on it now (``domain.permissions``, the
    rule its page offers the action by)."""
    return refusal(action, owner.role, reg.owner_id == owner.id, reg.status, False) is None


def start_supplementary(*, session: Session, uid: str, owner: User) -> Registration:
    """Open a draft supplementary registration of the owner's registration ``uid``: its
    declaration and deposit copied, to correct or amplify and submit for a number of its own.
    The original stays as it was. Raises FilingNotFound, or FilingRejected when the original is
    not registered."""
    with writing(session):
        original = _load_or_create(session, owner, uid)
        if not _creator_may(original, owner, Action.SUPPLEMENT):
            raise FilingRejected(
                [Problem("", "Only a registered work can get a supplementary registration.")]
            )
        assert owner.id is not None, "a signed-in user is a stored row"
        draft = Registration(
            uid=uuid.uuid4().hex,
            owner_id=owner.id,
            status=Status.DRAFT.value,
            supplements_id=original.id,
            deposit_sha256=original.deposit_sha256,
        )
        # the creator attests afresh to what they submit
        _apply(session, draft, replace(declaration_of(original), attested=False))
        session.add(draft)
        session.flush()
        lifecycle.created(
            session, draft, owner, f"Supplementary registration of {original.number} started"
        )
    return draft


def supplements(session: Session, registration: Registration) -> tuple[Registration | None, list]:
    """The registration this one supplements (if any) and the submitted ones supplementing it."""
    original = (
        session.get(Registration, registration.supplements_id)
        if registration.supplements_id
        else None
    )
    later = session.exec(
        select(Registration)
        .where(
            Registration.supplements_id == registration.id,
            Registration.status != Status.DRAFT.value,
        )
        .order_by(col(Registration.id))
    ).all()
    return original, list(later)


def amend(
    *,
    session: Session,
    owner: User,
    uid: str,
    declaration: Declaration,
    today: date | None = None,
) -> Registration:
    """While the examiner waits on the creator, the creator may amend the declaration (not the
    deposit: the work filed is the work examined). The declaration as it stood is kept as a
    version, and the change is an event naming the fields that changed; commit."""
    today = today or utcnow().date()
    decl = declaration.without_blank_rows()
    with writing(session):
        reg = _load_or_create(session, owner, uid)
        if not _creator_may(reg, owner, Action.AMEND):
            raise FilingRejected(
                [
                    Problem(
                        "",
                        "The declaration can be amended only while the examiner is "
                        "waiting for your answer.",
                    )
                ]
            )
        kind = DepositKind(reg.deposit.kind) if reg.deposit else None
        problems = rules.submission_problems(decl, deposit_kind=kind, today=today)
        if problems:
            raise FilingRejected(problems)
        before = declaration_of(reg)
        changed = [
            f.name
            for f in fields(Declaration)
            if f.name != "attested" and getattr(before, f.name) != getattr(decl, f.name)
        ]
        if not changed:
            raise FilingRejected([Problem("", "Nothing was changed.")])
        assert reg.id is not None and owner.id is not None, (
            "rows read from the database have their ids"
        )
        session.add(
            DeclarationVersion(
                registration_id=reg.id,
                body=json.dumps(asdict(before), default=str, ensure_ascii=False),
                replaced_by_id=owner.id,
            )
        )
        _apply(session, reg, decl)
        reg.updated_at = utcnow()
        session.add(reg)
        lifecycle.note(
            session,
            reg,
            owner,
            EventKind.DECLARATION_AMENDED,
            "Declaration amended: " + ", ".join(n.replace("_", " ") for n in changed),
        )
    return reg
