"""Read models: a filing's case file (as its owner or an examiner sees it) and the public record.

Privacy and "which actions may this viewer take" are decided once, by the pure rules of
``domain.permissions``; the pages (a creator's filing, the examiner's review, the public record),
the API's record route and the certificate render these objects, and decide nothing themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from .. import provenance as prov
from ..domain import permissions
from ..domain.events import INTERNAL_EVENTS
from ..domain.permissions import MAX_RECONSIDERATIONS, Action
from ..domain.risk import Reason
from ..domain.statuses import Status
from ..domain.vocabulary import DepositKind, LetterKind, Signing
from ..models import (
    Determination,
    Event,
    Letter,
    MatchDisposition,
    MatchReport,
    Registration,
    User,
)
from ..similarity import Match
from ..storage import DepositDamaged, DepositStore
from . import checking, decisions, filing, guards, matching, provenance, triage
from .correspondence import letters as letters_of
from .matches import reported_to_earlier_owner


@dataclass(frozen=True)
class AuthorShown:
    """An author as one viewer may know them. The public knows an author only as the work names
    them (a pseudonym, "Anonymous"); the creator and examiners know the legal name too."""

    name: str  # the legal name (private view), or the name on the work (public view)
    signing: str | None
    on_the_work: str | None  # private view only: how the work names them, when not by name
    citizenship: str | None
    contribution: str | None


@dataclass(frozen=True)
class DeclarationShown:
    """The parts of a declaration whose showing depends on the viewer; the rest of the
    declaration (titles, dates, rights, AI disclosure, contributions, sources) is public and
    read from the registration."""

    private: bool  # the creator's or an examiner's view
    authors: list[AuthorShown]
    claimant_address: str | None  # None: not for this viewer


def _name_on_the_work(author: Any) -> str | None:
    if author.signing == Signing.ANONYMOUS:
        return "Anonymous"
    if author.signing == Signing.PSEUDONYM:
        return str(author.pseudonym)
    return None


def declaration_shown(reg: Registration, *, private: bool) -> DeclarationShown:
    """``reg``'s declaration as its owner and examiners see it (``private``) or as the public
    does: the one place that decides which of an author's names and whether the claimant's
    address are shown."""
    authors = []
    for a in reg.authors:
        on_the_work = _name_on_the_work(a)
        authors.append(
            AuthorShown(
                name=a.name if private or on_the_work is None else on_the_work,
                signing=a.signing,
                on_the_work=on_the_work if private else None,
                citizenship=a.citizenship or None,
                contribution=a.contribution or None,
            )
        )
    return DeclarationShown(
        private=private,
        authors=authors,
        claimant_address=reg.claimant_address if private else None,
    )


@dataclass(frozen=True)
class CaseFile:
    """A filing as one viewer may see it: what the filing's page and the review page show."""

    reg: Registration
    is_owner: bool
    sees_internal: bool  # the examiners' side: internal events, triage, dispositions
    actions: frozenset[Action]
    deposit_text: str | None
    deposit_damaged: DepositDamaged | None  # a text deposit whose stored bytes are not filed
    report: MatchReport | None
    checking: bool
    matches: list[Match]
    # each text match's passages (by earlier number), their text read now for this viewer
    passages: dict[str, list[matching.PassageShown]]
    copied: list[Any]  # the passages of this filing found in earlier works
    visible: set[str]  # matched works whose content this viewer may see beside this filing
    later_matches: list[Any]  # what this work's owner is told of later filings that match it
    risk_reasons: list[Reason]
    determination: Determination | None
    letters: list[Letter]
    provenance: prov.Judgement | None
    events: list[Event]  # oldest first, as this viewer may see them
    supplements: tuple[Registration | None, list[Registration]]
    reconsiderations: int
    declaration: DeclarationShown
    max_reconsiderations: int = MAX_RECONSIDERATIONS
    dispositions: dict[str, MatchDisposition] = field(default_factory=dict)

    def may(self, action: Action | str) -> bool:
        return Action(action) in self.actions

    def context(self) -> dict[str, Any]:
        """The names the templates render."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__} | {"may": self.may}


def case_file(session: Session, store: DepositStore, reg: Registration, viewer: User) -> CaseFile:
    """``reg``'s case file for ``viewer`` (who may view it: see ``filing.get_for_viewer``)."""
    is_owner = reg.owner_id == viewer.id
    text, damaged = None, None
    if reg.deposit is not None and reg.deposit.kind == DepositKind.TEXT:
        try:
            text = filing.deposit_text(store, reg.deposit)
        except DepositDamaged as exc:
            text, damaged = "", exc
    report = matching.get_report(session, reg) if reg.number else None
    matches = matching.report_matches(report) if report else []
    letters = letters_of(session, reg)
    asked = sum(1 for x in letters if x.kind == LetterKind.RECONSIDERATION)
    staff = permissions.sees_internal(viewer.role)
    assert reg.id is not None, "a row read from the database has its id"
    return CaseFile(
        reg=reg,
        is_owner=is_owner,
        sees_internal=staff,
        actions=guards.actions(session, reg, viewer, reconsiderations=asked),
        deposit_text=text,
        deposit_damaged=damaged,
        report=report,
        checking=reg.number is not None and report is None,
        matches=matches,
        passages=matching.passages_shown(session, store, matches, text or "", viewer),
        copied=[p.new for m in matches for p in m.passages],
        visible=matching.content_visible(session, {m.number for m in matches}, viewer),
        later_matches=(
            reported_to_earlier_owner(session, registration_ids=[reg.id]) if reg.number else []
        ),
        risk_reasons=triage.reasons_of(reg) if staff else [],
        determination=decisions.latest_determination(session, reg),
        letters=letters,
        provenance=provenance.judgement_of(provenance.get_report(session, reg)),
        events=[e for e in reg.events if staff or e.kind not in INTERNAL_EVENTS],
        supplements=filing.supplements(session, reg),
        reconsiderations=asked,
        declaration=declaration_shown(reg, private=True),
        dispositions=decisions.dispositions(session, reg) if staff else {},
    )


# --------------------------------------------------------------------------- the public record


@dataclass(frozen=True)
class PublicDetermination:
    outcome: str
    determined_at: datetime
    limitation: str | None


@dataclass(frozen=True)
class PublicRecord:
    """What anyone may know of a submitted filing: never the claimant's address, the deposit's
    content, the owner's account, the examiners' notes or the match report."""

    reg: Registration  # for the page's declaration section, which shows its public fields
    number: str
    title: str
    alternative_titles: list[str]
    status: Status
    checking: bool
    filed_at: datetime | None
    work_category: str | None
    claimant_name: str | None
    authors: list[AuthorShown]  # as the work names them (declaration.authors)
    digital_source_type: str | None
    ai_tools: list[dict[str, str | None]]
    ai_material_excluded: str | None
    new_material_claimed: str | None
    provenance: prov.Judgement | None  # the judgement (its label is what the API gives)
    determination: PublicDetermination | None
    determination_row: Determination | None  # for the page's wording of the determination
    deposit_sha256: str | None
    deposit_kind: str | None
    deposit_media_type: str | None
    supplements: Registration | None
    supplemented_by: list[Registration]
    declaration: DeclarationShown  # the public view: no legal names behind pseudonyms, no address

    @property
    def limitation(self) -> str:
        """The material a registration with limitation excludes ("" otherwise)."""
        if self.status is Status.REGISTERED_WITH_LIMITATION and self.determination:
            return self.determination.limitation or ""
        return ""


def public_record(session: Session, reg: Registration) -> PublicRecord:
    """The public record of the submitted filing ``reg`` (see ``lookup.by_number``)."""
    if reg.number is None or reg.status == Status.DRAFT:
        raise LookupError("a draft has no public record")
    determination = decisions.latest_determination(session, reg)
    original, later = filing.supplements(session, reg)
    deposit = reg.deposit
    declaration = declaration_shown(reg, private=False)
    return PublicRecord(
        reg=reg,
        number=reg.number,
        title=reg.title,
        alternative_titles=[t.title for t in reg.alternative_titles],
        status=Status(reg.status),
        checking=checking.is_checking(session, reg),
        filed_at=reg.submitted_at,
        work_category=reg.work_category,
        claimant_name=reg.claimant_name,
        authors=declaration.authors,
        digital_source_type=reg.digital_source_type,
        ai_tools=[
            {"name": t.name, "version": t.version or None, "provider": t.provider or None}
            for t in reg.ai_tools
        ],
        ai_material_excluded=reg.ai_material or None,
        new_material_claimed=reg.new_material or None,
        provenance=provenance.judgement_of(provenance.get_report(session, reg)),
        determination=PublicDetermination(
            determination.outcome, determination.at, determination.limitation or None
        )
        if determination
        else None,
        determination_row=determination,
        deposit_sha256=reg.deposit_sha256,
        deposit_kind=deposit.kind if deposit else None,
        deposit_media_type=deposit.media_type if deposit else None,
        supplements=original,
        supplemented_by=later,
        declaration=declaration,
    )
