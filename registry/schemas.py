"""The declaration and the API's bodies: the one statement of every field, limit and choice.

A declaration is stated here once, as SQLModel models in SQLModel's naming style:

* ``...Base``: the fields a table stores, each with its type, its limit (``max_length``) and, for
  a choice, its vocabulary (an enum of ``registry.domain.vocabulary``). ``registry.models``
  builds the tables on them (``class Author(AuthorBase, table=True)``), so a column's width is
  the same ``max_length`` the form and the API check.
* ``...Create``: what a filer sends (the API's JSON, the web form's fields): the Base plus the
  rows and their maxima (at most 20 authors, 10 other titles...) and the attestation.
* ``...Public``: what the API answers.

The web form (``registry.web.forms``) reads its validators from these fields, the API validates
its JSON with ``DeclarationCreate`` directly, and the OpenAPI document is generated from them.
Rules that need several fields at once (a pseudonym when signed under a pseudonym, dates in
order, an AI named as an author) stay in ``registry.domain.declaration``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Strict,
    ValidationInfo,
    field_validator,
)
from pydantic import Field as PydanticField
from pydantic_core import PydanticCustomError
from sqlalchemy import String, Text
from sqlmodel import Field, SQLModel

from .deposits import IMAGE_FORMATS
from .domain import declaration as domain
from .domain.vocabulary import (
    ClaimantKind,
    ContributionCategory,
    DigitalSourceType,
    PublicationStatus,
    RightsHeld,
    RightsObtained,
    Signing,
    TrainingUse,
    WorkCategory,
)

# ---- how a field is stated -------------------------------------------------------------------


def _iso_date(value: Any) -> Any:
    """A date is sent as text (``2026-02-01``); empty or absent means "not given"."""
    if value is None or value == "":
        return None
    if isinstance(value, date) or isinstance(value, str):
        return value
    raise PydanticCustomError("date_type", "Input should be a date as text: YYYY-MM-DD")


OptionalDate = Annotated[date | None, BeforeValidator(_iso_date)]
# "true" or "yes" is not an attestation: only JSON's true.
StrictBool = Annotated[bool, Strict()]


def text(max_length: int, description: str | None = None, *, long: bool = False) -> Any:
    """A free text of at most ``max_length`` characters, empty when not given.

    Stored as VARCHAR(max_length), or as TEXT when ``long`` (the limit is then the form's and
    the API's alone)."""
    if long:
        return Field(default="", max_length=max_length, sa_type=Text, description=description)
    return Field(default="", max_length=max_length, description=description)


def choice(width: int, description: str | None = None) -> Any:
    """A code of the field's vocabulary (its annotation), or None; stored as a plain string of
    ``width`` characters so that adding a code needs no migration."""
    return Field(default=None, sa_type=String(width), description=description)


def rows(most: int, description: str | None = None) -> Any:
    """A list of at most ``most`` rows (authors, tools, titles...)."""
    return Field(default_factory=list, max_length=most, description=description)


# ---- the declaration's tables ----------------------------------------------------------------


class WorkBase(SQLModel):
    """The work: what it is called, what kind it is, when it was made and published."""

    title: str = text(300, "The work's title.")
    work_category: WorkCategory | None = choice(32, "What kind of work this is.")
    completion_date: OptionalDate = Field(default=None, description="When it was completed.")
    publication_status: PublicationStatus | None = choice(16)
    publication_date: OptionalDate = Field(default=None, description="When first published.")
    publication_nation: str = text(100, "The country of first publication.")


class ClaimantBase(SQLModel):
    """Who holds the copyright, and how."""

    claimant_name: str = text(300, "Who holds the copyright.")
    claimant_kind: ClaimantKind | None = choice(16)
    claimant_address: str = text(1000, "Kept private: never on the public record.", long=True)
    rights_obtained: RightsObtained | None = choice(16)
    transfer_statement: str = text(2000, "How the rights passed to the claimant.", long=True)
    rights_held: RightsHeld | None = choice(8)
    rights_held_detail: str = text(2000, "Which rights, when only some.", long=True)


class AiDisclosureBase(SQLModel):
    """How the work was made, what an AI generated (excluded), what is claimed."""

    digital_source_type: DigitalSourceType | None = choice(64, "The IPTC digital source type.")
    ai_material: str = text(10_000, "What the AI generated (excluded from the claim).", long=True)
    new_material: str = text(2000, "The new material claimed.", long=True)


class DataProvenanceBase(SQLModel):
    """Whether the work may be used to train AI models, and on which conditions."""

    training_use: TrainingUse | None = choice(16)
    training_terms: str = text(2000, "The conditions, when allowed on conditions.", long=True)


class DeclarationBase(DataProvenanceBase, AiDisclosureBase, ClaimantBase, WorkBase):
    """A registration's own declaration fields (its rows are tables of their own)."""


class AlternativeTitleBase(SQLModel):
    title: str = Field(max_length=300, description="An earlier, translated or series title.")


class AuthorBase(SQLModel):
    name: str = text(200, "The author's full name (a person).")
    signing: Signing | None = choice(16, "How the author is named on the work.")
    pseudonym: str = text(200)
    citizenship: str = text(100, "Citizenship or domicile.")
    contribution: str = text(1000, "What this author created.", long=True)


class AiToolBase(SQLModel):
    name: str = text(200, "The tool.")
    version: str = text(100)
    provider: str = text(200)
    usage: str = text(1000, "What it was used for.", long=True)


class HumanContributionBase(SQLModel):
    category: ContributionCategory = Field(sa_type=String(32))
    description: str = text(10_000, long=True)


class InputSourceBase(SQLModel):
    description: str = text(1000, "The input material.", long=True)
    origin: str = text(500, "Where it came from.")
    licence: str = text(200, "The licence or permission it was used under.")


# ---- what a filer sends ----------------------------------------------------------------------


class Input(SQLModel):
    """What every body a client sends shares: no unknown fields; ``null`` is "not given"."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]  # SQLModel types it as its own SQLModelConfig

    @field_validator("*", mode="before")
    @classmethod
    def _not_given(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name is not None:
            field = cls.model_fields[info.field_name]
            if field.default == "":
                return ""
            if field.default_factory is list:
                return []
        if value == "" and info.field_name is not None:
            if cls.model_fields[info.field_name].default is None:
                return None  # an empty choice
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        """No database keeps NUL (pydantic itself refuses unpaired surrogates)."""
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and "\x00" in item:
                raise PydanticCustomError("nul", "Must not contain NUL characters.")
        return value


def _requires(*names: str) -> Any:
    """A row's JSON schema asks for what a submission needs of each row it lists (the model
    itself takes a draft's empty fields; the domain's rules say what is missing, by field)."""

    def extra(schema: dict[str, Any]) -> None:
        schema["required"] = list(names)

    return extra


class AuthorCreate(AuthorBase, Input):
    model_config = ConfigDict(json_schema_extra=_requires("name", "signing", "contribution"))


class AiToolCreate(AiToolBase, Input):
    model_config = ConfigDict(json_schema_extra=_requires("name"))


class ContributionCreate(HumanContributionBase, Input):
    model_config = ConfigDict(json_schema_extra=_requires("category", "description"))


class InputSourceCreate(InputSourceBase, Input):
    model_config = ConfigDict(json_schema_extra=_requires("description", "licence"))


# What a submission needs in any case (its rules add more, field by field: a publication date
# when published, a pseudonym when signed under one...). Held to submission_problems by a test.
REQUIRED_TO_SUBMIT = (
    "title",
    "work_category",
    "completion_date",
    "publication_status",
    "authors",
    "claimant_name",
    "claimant_kind",
    "claimant_address",
    "rights_obtained",
    "rights_held",
    "digital_source_type",
    "contributions",
    "new_material",
    "training_use",
    "attested",
)


def _submission_schema(schema: dict[str, Any]) -> None:
    """The API files (it keeps no drafts): its document asks for what a submission needs."""
    schema["required"] = list(REQUIRED_TO_SUBMIT)
    schema["properties"]["authors"]["minItems"] = 1
    schema["properties"]["contributions"]["minItems"] = 1


AlternativeTitle = Annotated[str, PydanticField(max_length=300)]


class DeclarationCreate(DeclarationBase, Input):
    """Everything a creator states about a work. A submission needs the required fields; the
    rules across fields ask for more (a publication date and country when published, a
    pseudonym when signed under one, the AI tools and what they generated when the work
    includes AI-generated material), each named by its field. A draft may leave anything out."""

    model_config = ConfigDict(json_schema_extra=_submission_schema)

    alternative_titles: list[AlternativeTitle] = rows(10, "Earlier, translated or series titles.")
    authors: list[AuthorCreate] = rows(20, "The people who made the work.")
    ai_tools: list[AiToolCreate] = rows(20, "The AI tools used.")
    contributions: list[ContributionCreate] = rows(
        len(ContributionCategory), "What people contributed: at most one of each category."
    )
    sources: list[InputSourceCreate] = rows(30, "The input material used.")
    attested: StrictBool = Field(
        default=False, description="The filer confirms the statements are true and complete."
    )

    @field_validator("contributions")
    @classmethod
    def _one_per_category(cls, value: list[ContributionCreate]) -> list[ContributionCreate]:
        categories = [c.category for c in value]
        if len(set(categories)) != len(categories):
            raise PydanticCustomError("duplicate", "Each category at most once.")
        return value

    def to_domain(self) -> domain.Declaration:
        """The domain's Declaration: texts trimmed, codes as strings, other titles on one line."""
        plain = self.model_dump(mode="python")

        def strip(row: dict) -> dict:
            return {k: v.strip() if isinstance(v, str) else v for k, v in row.items()}

        return domain.Declaration(
            **strip({k: v for k, v in plain.items() if k in domain.SCALAR_FIELDS}),
            alternative_titles=tuple(
                " ".join(t.splitlines()).strip() for t in self.alternative_titles if t.strip()
            ),
            authors=tuple(domain.Author(**strip(a)) for a in plain["authors"]),
            ai_tools=tuple(domain.AiTool(**strip(t)) for t in plain["ai_tools"]),
            contributions=tuple(domain.Contribution(**strip(c)) for c in plain["contributions"]),
            sources=tuple(domain.InputSource(**strip(s)) for s in plain["sources"]),
            attested=self.attested,
        )


class DepositText(Input):
    text: str = PydanticField(
        description="The text of the work (UTF-8); an empty one is a field error (422)."
    )


# The image formats filing accepts (registry.deposits decodes these and no others).
_FORMATS = ", ".join({"WEBP": "WebP"}.get(f, f) for f in IMAGE_FORMATS)


class DepositFile(Input):
    filename: str = PydanticField(default="", max_length=255)
    content_base64: str = PydanticField(
        description=f"The image ({_FORMATS}) or UTF-8 text file, in base64.",
        json_schema_extra={"contentEncoding": "base64"},
    )


Deposit = Annotated[
    DepositText | DepositFile,
    PydanticField(description="The work: its text, or a file in base64; the web form's limits."),
]


class FilingCreate(Input):
    """A filing: the declaration and the work."""

    declaration: DeclarationCreate
    deposit: Deposit


class FilingHeaders(BaseModel):
    idempotency_key: str | None = PydanticField(
        default=None,
        alias="Idempotency-Key",
        max_length=257,
        description="A unique key for this filing (a UUID, say), at most 255 printable ASCII "
        "characters, optionally in double quotes. A request repeated with the same key and body "
        "returns the filing the first one made (with Idempotent-Replayed: true).",
    )


class ReverseSearchCreate(Input):
    deposit: Deposit


# ---- what the API answers --------------------------------------------------------------------

DateTimeText = Annotated[str, PydanticField(json_schema_extra={"format": "date-time"})]
Hex32 = Annotated[str, PydanticField(pattern="^[0-9a-f]{64}$")]


class Public(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorDetail(Public):
    code: str = PydanticField(
        description="Stable: invalid_request, invalid_filing, invalid_deposit, no_certificate, "
        "unauthenticated, invalid_token, not_found, method_not_allowed, too_large, "
        "unsupported_media_type, rate_limited, idempotency_key_reused, search_unavailable, "
        "storage_unavailable, busy, server_error."
    )
    message: str
    fields: dict[str, list[str]] | None = PydanticField(
        default=None, description="Problems per field, by dotted path (authors.0.name)."
    )


class ErrorPublic(Public):
    error: ErrorDetail


class LogEntryPublic(Public):
    leaf_index: int = PydanticField(ge=0)
    leaf: str = PydanticField(
        description="Canonical JSON: v, number, event, deposit_sha256, time (and supplements). "
        "The leaf hash is SHA-256(0x00 || UTF-8 bytes)."
    )
    leaf_hash: Hex32


class AuthorPublic(Public):
    name: str | None = PydanticField(description="The name as signed: a pseudonym, Anonymous.")
    citizenship: str | None = PydanticField(
        default=None, description="Citizenship or domicile, as declared."
    )
    contribution: str | None


class AiToolPublic(Public):
    name: str
    version: str | None
    provider: str | None


class DeterminationPublic(Public):
    outcome: str
    determined_at: DateTimeText
    limitation: str | None = None


class DepositPublic(Public):
    sha256: str | None
    kind: str | None
    media_type: str | None


class RegistrationPublic(Public):
    """A public record: never the claimant's address or the deposit itself."""

    number: str
    title: str
    alternative_titles: list[str] = []
    status: str
    status_label: str
    checking: bool = PydanticField(
        description="True while the originality check of a submitted filing is running."
    )
    filed_at: DateTimeText | None = None
    work_category: WorkCategory | None = None
    claimant_name: str = ""
    authors: list[AuthorPublic] = []
    digital_source_type: DigitalSourceType | None = None
    ai_tools: list[AiToolPublic] = []
    ai_material_excluded: str | None = None
    new_material_claimed: str | None = None
    provenance: str | None = None
    determination: DeterminationPublic | None = None
    deposit: DepositPublic
    supplements: str | None = None
    supplemented_by: list[str] = []
    log: list[LogEntryPublic]
    url: str


class RegistrationSummary(Public):
    number: str
    title: str
    status: str
    status_label: str
    claimant_name: str = ""
    filed_at: DateTimeText | None
    url: str


class SearchResults(Public):
    items: list[RegistrationSummary]
    total: int
    page: int
    page_size: int
    pages: int


class SearchQuery(BaseModel):
    q: str = PydanticField(
        default="",
        max_length=200,
        description="Words matched against title, other titles, claimant and number.",
    )
    page: int = PydanticField(default=1, ge=1, le=100_000, description="From 1.")
    page_size: int = PydanticField(default=20, ge=1, le=100, description="Default 20.")


class ReverseMatchPublic(Public):
    number: str
    title: str
    status: str
    status_label: str | None = None
    filed_on: str | None = None
    determined_on: str | None = None
    modality: str | None = None
    band: Literal["strong", "review"]
    score: float
    signals: list[str] = []
    coverage: float | None = None


class ReverseSearchPublic(Public):
    modality: Literal["image", "text"]
    checked_against: int = PydanticField(description="Registered works compared in full.")
    matches: list[ReverseMatchPublic]


class CertificatePublic(BaseModel):
    """The signed certificate; check it with ``python -m registry.verify`` or at /verify."""

    format: Literal["air-certificate/1"]
    signature: str


class LogKeyPublic(Public):
    algorithm: Literal["Ed25519"]
    key_id: Hex32
    public_key: str = PydanticField(description="Base64 of the 32 raw bytes.")
    pem: str


class TreeHeadPublic(Public):
    tree_size: int = PydanticField(ge=0)
    timestamp: int = PydanticField(description="Milliseconds since the epoch.")
    time: str | None = None
    root_hash: Hex32
    signature: str = PydanticField(
        description="Base64 Ed25519 signature over RFC 6962's TreeHeadSignature: version 0, "
        "signature type 1, uint64 timestamp, uint64 tree_size, root hash."
    )
    key_id: Hex32


class EntriesQuery(BaseModel):
    start: int = PydanticField(default=0, ge=0, le=2**62, description="First index.")
    end: int | None = PydanticField(default=None, ge=0, le=2**62, description="One past the last.")


class EntriesPublic(Public):
    tree_size: int
    entries: list[LogEntryPublic]


class InclusionQuery(BaseModel):
    leaf_index: int = PydanticField(ge=0, le=2**62, description="The leaf.")
    tree_size: int | None = PydanticField(
        default=None, ge=1, le=2**62, description="Default: the latest signed size."
    )


class InclusionProofPublic(Public):
    leaf_index: int
    tree_size: int
    leaf: str | None
    leaf_hash: Hex32 | None
    root_hash: Hex32
    audit_path: list[Hex32]


class ConsistencyQuery(BaseModel):
    first: int = PydanticField(ge=1, le=2**62, description="The older size.")
    second: int | None = PydanticField(
        default=None, ge=1, le=2**62, description="Default: the latest signed size."
    )


class ConsistencyProofPublic(Public):
    first: int
    second: int
    first_root_hash: Hex32
    second_root_hash: Hex32
    consistency: list[Hex32]


# ---- reading the limits back (the form and the tests) ----------------------------------------


def max_length(model: type[BaseModel], name: str) -> int | None:
    """The ``max_length`` a model states for one of its fields (a text's characters, a list's
    rows), or None."""
    for meta in model.model_fields[name].metadata:
        if getattr(meta, "max_length", None) is not None:
            return int(meta.max_length)
    return None


def item_max_length(model: type[BaseModel], name: str) -> int | None:
    """For a list of texts (the other titles), the limit on each one."""
    (item,) = model.model_fields[name].annotation.__args__  # type: ignore[union-attr]  # a list field: annotated
    for meta in getattr(item, "__metadata__", ()):
        for inner in getattr(meta, "metadata", [meta]):
            if getattr(inner, "max_length", None) is not None:
                return int(inner.max_length)
    return None


def vocabulary(model: type[BaseModel], name: str) -> type | None:
    """The enum a choice field takes its codes from, or None for any other field."""
    from enum import Enum

    annotation = model.model_fields[name].annotation
    for candidate in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(candidate, type) and issubclass(candidate, Enum):
            return candidate
    return None
