"""SQLModel tables: the one place the registry's tables are defined.

Every change here needs an Alembic revision in ``migrations/versions``.
Times are timezone-aware UTC.
The declaration's tables (Registration's declaration fields, AlternativeTitle, Author, AiTool,
HumanContribution, InputSource) are built on the models of ``registry.schemas``, where each
field's type and limit is stated once for the column, the form and the API.
Enumerated columns hold the codes of ``registry.domain.vocabulary``; the database stores plain
strings so adding a code never needs a type migration.
"""

from datetime import UTC, date, datetime
from typing import Any, Optional

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, Relationship, SQLModel

from .domain.vocabulary import STAFF_ROLES, Role
from .schemas import (
    AiToolBase,
    AlternativeTitleBase,
    AuthorBase,
    DeclarationBase,
    HumanContributionBase,
    InputSourceBase,
)

#: A JSON document column: JSONB on PostgreSQL, JSON (text) elsewhere. What is in it is typed
#: and versioned by the package that owns it (see the columns using it).
JSONDocument = JSON().with_variant(JSONB(), "postgresql")
#: The same for a nullable column: Python's None is stored as SQL NULL, not as JSON ``null``.
JSONOrNull = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    display_name: str = Field(max_length=120)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=16, default=Role.CREATOR.value)
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)
    # Part of every sign-in cookie (see get_id); signing out, a new password and deactivation
    # raise it, which ends every session and remember-me cookie the account had.
    session_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})

    # The interface Flask-Login expects, written out so this module stays free of Flask.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """Flask-Login's "alternative token", kept in the session and the remember-me cookie
        (both signed with the secret key): the account's id and its session version."""
        return f"{self.id}:{self.session_version}"

    @staticmethod
    def parse_session_token(token: str) -> tuple[int, int] | None:
        """The (id, session version) a ``get_id`` token names, or None for anything else."""
        user_id, sep, version = token.partition(":")
        if not sep or not (user_id + version).isascii():
            return None
        if not user_id.isdigit() or not version.isdigit() or len(token) > 40:
            return None
        return int(user_id), int(version)

    @property
    def is_examiner(self) -> bool:
        return self.role in STAFF_ROLES


class Deposit(SQLModel, table=True):
    """A stored work, named by the SHA-256 of its bytes; filings with equal bytes share one."""

    sha256: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=8)
    media_type: str = Field(max_length=64)
    byte_size: int
    width: int | None = None
    height: int | None = None
    char_count: int | None = None
    created_at: datetime = Field(default_factory=utcnow)


class NumberSequence(SQLModel, table=True):
    """The last registration number handed out in a year."""

    __tablename__ = "number_sequence"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last_value: int = Field(default=0)


class Registration(DeclarationBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=32, unique=True, index=True)
    number: str | None = Field(default=None, max_length=20, unique=True, index=True)
    owner_id: int = Field(foreign_key="user_account.id", index=True)
    status: str = Field(max_length=32, index=True)

    # The declaration's own fields come from registry.schemas.DeclarationBase.

    deposit_sha256: str | None = Field(default=None, foreign_key="deposit.sha256", index=True)
    attested_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = Field(default=None, index=True)
    # Graded triage (registry.domain.risk), set once the originality check has run.
    risk_tier: str | None = Field(default=None, max_length=16, index=True)
    risk_points: int | None = None
    # registry.domain.risk.RiskReport.to_json(): the reasons as codes and values; None until triage
    risk_reasons: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONOrNull))
    route: str | None = Field(default=None, max_length=16)  # fast-track or queue
    fast_track_on: date | None = None  # registered on this day unless an examiner takes it
    triaged_at: datetime | None = None
    # The examiner who has claimed the filing (two examiners never work one filing).
    examiner_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    # A supplementary registration names the registration it corrects or amplifies; that one
    # stays as it was.
    supplements_id: int | None = Field(default=None, foreign_key="registration.id", index=True)

    owner: User = Relationship(sa_relationship_kwargs={"foreign_keys": "[Registration.owner_id]"})
    examiner: Optional["User"] = Relationship(
        sa_relationship_kwargs={"foreign_keys": "[Registration.examiner_id]"}
    )
    deposit: Optional["Deposit"] = Relationship()
    alternative_titles: list["AlternativeTitle"] = Relationship(
        back_populates="registration",
        sa_relationship_kwargs={
            "order_by": "AlternativeTitle.position",
            "cascade": "all, delete-orphan",
        },
    )
    authors: list["Author"] = Relationship(
        back_populates="registration",
        sa_relationship_kwargs={"order_by": "Author.position", "cascade": "all, delete-orphan"},
    )
    ai_tools: list["AiTool"] = Relationship(
        back_populates="registration",
        sa_relationship_kwargs={"order_by": "AiTool.position", "cascade": "all, delete-orphan"},
    )
    contributions: list["HumanContribution"] = Relationship(
        back_populates="registration",
        sa_relationship_kwargs={
            "order_by": "HumanContribution.id",
            "cascade": "all, delete-orphan",
        },
    )
    sources: list["InputSource"] = Relationship(
        back_populates="registration",
        sa_relationship_kwargs={
            "order_by": "InputSource.position",
            "cascade": "all, delete-orphan",
        },
    )
    events: list["Event"] = Relationship(
        back_populates="registration",
        sa_relationship_kwargs={"order_by": "Event.id"},
    )


class AlternativeTitle(AlternativeTitleBase, table=True):
    __tablename__ = "alternative_title"

    id: int | None = Field(default=None, primary_key=True)
    registration_id: int = Field(foreign_key="registration.id", index=True)
    position: int

    registration: Registration = Relationship(back_populates="alternative_titles")


class Author(AuthorBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    registration_id: int = Field(foreign_key="registration.id", index=True)
    position: int

    registration: Registration = Relationship(back_populates="authors")


class AiTool(AiToolBase, table=True):
    __tablename__ = "ai_tool"

    id: int | None = Field(default=None, primary_key=True)
    registration_id: int = Field(foreign_key="registration.id", index=True)
    position: int

    registration: Registration = Relationship(back_populates="ai_tools")


class HumanContribution(HumanContributionBase, table=True):
    __tablename__ = "human_contribution"
    __table_args__ = (UniqueConstraint("registration_id", "category"),)

    id: int | None = Field(default=None, primary_key=True)
    registration_id: int = Field(foreign_key="registration.id", index=True)

    registration: Registration = Relationship(back_populates="contributions")


class InputSource(InputSourceBase, table=True):
    __tablename__ = "input_source"

    id: int | None = Field(default=None, primary_key=True)
    registration_id: int = Field(foreign_key="registration.id", index=True)
    position: int

    registration: Registration = Relationship(back_populates="sources")


class Event(SQLModel, table=True):
    """One change on a filing's record: who, when, what, from which status to which, and why."""

    id: int | None = Field(default=None, primary_key=True)
    registration_id: int = Field(foreign_key="registration.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="user_account.id")
    at: datetime = Field(default_factory=utcnow)
    kind: str = Field(max_length=32)
    from_status: str | None = Field(default=None, max_length=32)
    to_status: str | None = Field(default=None, max_length=32)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))

    registration: Registration = Relationship(back_populates="events")
    actor: User | None = Relationship()


class Fingerprint(SQLModel, table=True):
    """The originality engine's fingerprint of a submitted filing's deposit.

    Rows are only ever added; ``id`` is the watermark the in-memory indexes catch up from.
    Image rows hold the pixel hash, the PDQ hash and the region pHashes (8 bytes each, big-endian);
    text rows hold the winnowed fingerprints (8 bytes each, little-endian int64).
    """

    id: int | None = Field(default=None, primary_key=True)
    registration_id: int = Field(foreign_key="registration.id", unique=True)
    kind: str = Field(max_length=16, index=True)
    engine_version: str = Field(max_length=16)
    pixel_sha256: str | None = Field(default=None, max_length=64, index=True)
    pdq: bytes | None = None
    region_hashes: bytes | None = None
    text_fingerprints: bytes | None = None
    created_at: datetime = Field(default_factory=utcnow)


class MatchReport(SQLModel, table=True):
    """The match report of a filing: written once, never edited (a re-check adds nothing here)."""

    __tablename__ = "match_report"

    id: int | None = Field(default=None, primary_key=True)
    registration_id: int = Field(foreign_key="registration.id", unique=True)
    engine_version: str = Field(max_length=16)
    checked_against: int = Field(default=0)  # registered works in the index at the time
    match_count: int = Field(default=0)
    strongest_band: str | None = Field(default=None, max_length=16)
    top_score: float = Field(default=0.0)
    # registry.similarity.Report.to_json(): the matches, with offsets and boxes, no text
    body: dict[str, Any] = Field(sa_column=Column(JSONDocument, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class FilingMatch(SQLModel, table=True):
    """One match of a filing's report, as a row, written with the report (and never edited), so
    that "which later filings match these works" is a query. The report stays the record of
    the evidence; this row repeats its band, score and signal names."""

    __tablename__ = "filing_match"
    __table_args__ = (
        UniqueConstraint("filing_id", "earlier_id"),
        Index("ix_filing_match_earlier_band", "earlier_id", "band"),
    )

    id: int | None = Field(default=None, primary_key=True)
    filing_id: int = Field(foreign_key="registration.id", index=True)  # whose report it is
    earlier_id: int = Field(foreign_key="registration.id")  # the registration it matches
    earlier_first: bool  # the matched registration was filed before the filing
    band: str = Field(max_length=16)  # registry.similarity.Band
    score: float
    signals: list[str] = Field(sa_column=Column(JSONDocument, nullable=False))  # their names
    created_at: datetime = Field(default_factory=utcnow)


class MatchDisposition(SQLModel, table=True):
    """An examiner's decision on one match of a filing's report. Never edited: a later row for the
    same match supersedes an earlier one, and both stay on the record."""

    __tablename__ = "match_disposition"

    id: int | None = Field(default=None, primary_key=True)
    registration_id: int = Field(foreign_key="registration.id", index=True)
    match_number: str = Field(max_length=32)
    outcome: str = Field(max_length=32)  # cleared, noted, narrowed, disputed
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    examiner_id: int = Field(foreign_key="user_account.id")
    at: datetime = Field(default_factory=utcnow)


class Determination(SQLModel, table=True):
    """An examiner's determination on a filing, with the rationale the creator reads."""

    id: int | None = Field(default=None, primary_key=True)
    registration_id: int = Field(foreign_key="registration.id", index=True)
    outcome: str = Field(max_length=32)  # registered, registered_with_limitation, refused
    reason_code: str | None = Field(default=None, max_length=32)  # for a refusal
    prior_number: str | None = Field(default=None, max_length=32)  # refused as prior work
    limitation: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    rationale: str = Field(sa_column=Column(Text, nullable=False))
    examiner_id: int | None = Field(default=None, foreign_key="user_account.id")  # None: policy
    at: datetime = Field(default_factory=utcnow)


class Letter(SQLModel, table=True):
    """Correspondence on a filing: an examiner's request (with its deadline), the creator's reply,
    a request for reconsideration. Letters are only ever added."""

    id: int | None = Field(default=None, primary_key=True)
    registration_id: int = Field(foreign_key="registration.id", index=True)
    author_id: int = Field(foreign_key="user_account.id")
    kind: str = Field(max_length=32)  # request, reply, reconsideration
    body: str = Field(sa_column=Column(Text, nullable=False))
    deadline: date | None = None  # for a request
    at: datetime = Field(default_factory=utcnow)


class Notification(SQLModel, table=True):
    """A message in a user's in-app inbox, e.g. a new filing found to copy their work."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    registration_id: int = Field(foreign_key="registration.id")  # the filing it is about
    message: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    read_at: datetime | None = None


class DeclarationVersion(SQLModel, table=True):
    """A declaration as it stood before the creator amended it (during correspondence), so an
    amendment never erases what was filed."""

    __tablename__ = "declaration_version"

    id: int | None = Field(default=None, primary_key=True)
    registration_id: int = Field(foreign_key="registration.id", index=True)
    body: str = Field(sa_column=Column(Text, nullable=False))  # JSON of the declaration
    replaced_at: datetime = Field(default_factory=utcnow)
    replaced_by_id: int = Field(foreign_key="user_account.id")


class ProvenanceReport(SQLModel, table=True):
    """What the deposit says about its own making, judged against the declaration; written once
    at submission."""

    __tablename__ = "provenance_report"

    id: int | None = Field(default=None, primary_key=True)
    registration_id: int = Field(foreign_key="registration.id", unique=True)
    verdict: str = Field(max_length=16)
    # registry.provenance.Report.to_json(): what the file says, and the judgement
    body: dict[str, Any] = Field(sa_column=Column(JSONDocument, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class LogEntry(SQLModel, table=True):
    """One leaf of the transparency log: a public status change, in the order it happened.

    ``idx`` is given out under the lock on ``log_state`` in the transaction that changes the
    status, so the log never has a gap or two leaves at one index. ``leaf`` is the canonical
    encoding (registry.domain.transparency) and can be recomputed from the event, the filing
    and its deposit; ``registry verify-log`` does exactly that.
    """

    __tablename__ = "log_entry"

    idx: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    event_id: int = Field(foreign_key="event.id", unique=True)
    registration_id: int = Field(foreign_key="registration.id", index=True)
    leaf: str = Field(sa_column=Column(Text, nullable=False))
    leaf_hash: str = Field(max_length=64)


class LogState(SQLModel, table=True):
    """The log's one row: its size and compact range (the roots of its complete subtrees, hex,
    largest first), locked by each append.

    ``signed_from`` is the first tree size that must have a signed head: every append signs the
    head of the log it makes, so from this size on a size without a head was tampered with. A
    log begun before that rule (migration 0009) signed its earlier sizes only when asked."""

    __tablename__ = "log_state"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    tree_size: int = Field(default=0)
    frontier: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    signed_from: int = Field(default=1)


class TreeHeadRecord(SQLModel, table=True):
    """A signed tree head (RFC 6962 TreeHeadSignature, Ed25519), one per tree size signed."""

    __tablename__ = "tree_head"

    tree_size: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    timestamp: int = Field(sa_column=Column(BigInteger, nullable=False))  # ms since the epoch
    root_hash: str = Field(max_length=64)
    signature: str = Field(max_length=200)  # base64
    key_id: str = Field(max_length=64)


class ApiToken(SQLModel, table=True):
    """A personal API token. Only its SHA-256 is kept; the token is shown once, when made."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    name: str = Field(max_length=100)
    token_sha256: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    user: User = Relationship()


class IdempotencyKey(SQLModel, table=True):
    """An API filing's ``Idempotency-Key``: the filing it made and what was sent, so that a
    client retrying after a lost answer gets the same filing, never a second one. Written in
    the transaction that submits the filing."""

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id")
    key: str = Field(max_length=255)
    request_sha256: str = Field(max_length=64)
    registration_id: int = Field(foreign_key="registration.id")
    created_at: datetime = Field(default_factory=utcnow)
