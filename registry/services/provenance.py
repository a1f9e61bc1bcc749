"""Provenance at submission: read what the deposit says about its making, judge it against the
declaration, and store the result once (registry.provenance does the reading and judging)."""

from __future__ import annotations

import io
import logging
import warnings

from PIL import Image
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from .. import provenance as prov
from ..db import writing
from ..deposits import stored_text
from ..domain.vocabulary import DepositKind
from ..models import Deposit, ProvenanceReport, Registration
from ..storage import DepositStore

log = logging.getLogger(__name__)


def get_report(session: Session, registration: Registration) -> ProvenanceReport | None:
    return session.exec(
        select(ProvenanceReport).where(ProvenanceReport.registration_id == registration.id)
    ).first()


def report_of(report: ProvenanceReport) -> prov.Report:
    """The stored report, read by the provenance package (which upgrades an older layout)."""
    return prov.Report.from_json(report.body)


def judgement_of(report: ProvenanceReport | None) -> prov.Judgement | None:
    return report_of(report).judgement if report else None


def inspect(
    *, session: Session, store: DepositStore, registration: Registration
) -> ProvenanceReport:
    """Read and judge the filing's deposit; store and commit the report (once)."""
    if registration.number is None or registration.deposit is None:
        raise ValueError("only a submitted filing with a deposit is inspected")
    existing = get_report(session, registration)
    if existing is not None:
        return existing
    deposit = registration.deposit
    if deposit.kind == DepositKind.IMAGE.value:
        found = _read_image(store, deposit)
    else:
        found = prov.read_text(stored_text(store.read_bytes(deposit.sha256)))
    judged = prov.judge(
        found,
        declared_source_type=registration.digital_source_type,
        declared_ai_tools=[t.name for t in registration.ai_tools],
    )
    assert registration.id is not None, "a submitted filing is a stored row"
    report = ProvenanceReport(
        registration_id=registration.id,
        verdict=judged.verdict.value,
        body=prov.Report.of(found, judged).to_json(),
    )
    try:
        with writing(session):
            session.add(report)
    except IntegrityError:  # another process inspected it first: its report stands
        theirs = get_report(session, registration)
        if theirs is None:
            raise
        return theirs
    return report


def suggestions_for(store: DepositStore, deposit: Deposit | None) -> list[prov.Suggestion]:
    """What a (draft's) image deposit reveals for the form to pre-fill; nothing for texts."""
    if deposit is None or deposit.kind != DepositKind.IMAGE.value:
        return []
    return prov.suggestions(_read_image(store, deposit))


def _read_image(store: DepositStore, deposit: Deposit) -> prov.Provenance:
    """What an image deposit's metadata and credentials say, Pillow's warnings included."""
    data = store.read_bytes(deposit.sha256)
    with warnings.catch_warnings(record=True) as caught:  # Pillow warns of bad metadata
        warnings.simplefilter("always")
        with Image.open(io.BytesIO(data)) as im:
            found = prov.read_image(im, data=data, media_type=deposit.media_type)
    found.unreadable.extend(f"metadata: {w.message}" for w in caught)
    return found
