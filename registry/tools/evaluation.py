"""Measure the originality check on a labelled set (``flask --app wsgi registry evaluate DATASET``).

A set is ``registered/`` (works to register first), ``queries/`` (works to check afterwards) and
``truth.csv`` (query, expected registered names separated by ``;``, family, modality). Everything
runs in a scratch registry in a temporary directory, through the same services a filing goes
through: each registered work is filed and checked, then each query is checked as a filing of its
own (and removed again, so queries never match each other). A registered work counts as flagged
for a query when the query's match report names it, in either band.

TP = expected works flagged, FN = expected works missed, FP = other works flagged;
recall = TP / (TP + FN), precision = TP / (TP + FP), per modality and per family.

A file the registry refuses or cannot check (a text with control characters, an image it cannot
decode, a file named in truth.csv that is missing) is an error of the evaluation, not of the
engine: it is reported (``Result.errors``: path, code, message) and the run goes on. A query in
error is not tallied; a registered work in error counts as missed by the queries expecting it.
"""

from __future__ import annotations

import csv
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session, delete

from .. import db
from ..domain.declaration import Author, Contribution, Declaration, InputSource
from ..domain.risk import RoutingPolicy
from ..models import (
    Event,
    FilingMatch,
    Fingerprint,
    LogEntry,
    MatchReport,
    ProvenanceReport,
    Registration,
)
from ..services import accounts, checking, filing, intake, matching, transparency
from ..storage import DepositStore

#: Every file is checked as the registry checks a submission: the whole pipeline.
_POLICY = RoutingPolicy()
_LIMITS = intake.Limits(
    max_deposit_bytes=64 * 1024 * 1024,
    max_text_bytes=16 * 1024 * 1024,
    max_image_pixels=200_000_000,
)


@dataclass
class Tally:
    tp: int = 0
    fn: int = 0
    fp: int = 0

    def add(self, other: Tally) -> None:
        self.tp += other.tp
        self.fn += other.fn
        self.fp += other.fp

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


# Why a file could not be evaluated (``FileError.code``).
REJECTED = "rejected"  # the registry refuses it as a deposit (its reasons are the message)
UNREADABLE = "unreadable"  # it could not be read (missing, a folder, no permission)
CHECK_FAILED = "check_failed"  # filed, but the check failed on it


@dataclass(frozen=True)
class FileError:
    """A file of the set that could not be registered or checked."""

    path: str  # relative to the set, e.g. queries/q-7.txt
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "code": self.code, "message": self.message}


@dataclass
class Result:
    modalities: dict[str, dict[str, Tally]] = field(default_factory=dict)
    queries: int = 0
    registered: int = 0
    seconds: float = 0.0
    mistakes: list[tuple[str, str, list[str], list[str]]] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)

    def total(self, modality: str) -> Tally:
        total = Tally()
        for tally in self.modalities.get(modality, {}).values():
            total.add(tally)
        return total

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for modality, families in sorted(self.modalities.items()):
            total = self.total(modality)
            out[modality] = {
                "precision": round(total.precision, 4),
                "recall": round(total.recall, 4),
                "tp": total.tp,
                "fn": total.fn,
                "fp": total.fp,
                "families": {
                    name: {
                        "precision": round(t.precision, 4),
                        "recall": round(t.recall, 4),
                        "tp": t.tp,
                        "fn": t.fn,
                        "fp": t.fp,
                    }
                    for name, t in sorted(families.items())
                },
            }
        out["errors"] = [e.as_dict() for e in self.errors]
        return out


def _declaration(name: str, is_image: bool) -> Declaration:
    return Declaration(
        title=name,
        work_category="visual_art" if is_image else "literary",
        completion_date=date(2026, 1, 1),
        publication_status="unpublished",
        authors=(Author("Evaluation Author", "real_name", "", "", "All of it"),),
        claimant_name="Evaluation Author",
        claimant_kind="natural",
        claimant_address="Evaluation",
        rights_obtained="original",
        rights_held="all",
        digital_source_type="digitalCreation",
        ai_tools=(),
        ai_material="",
        contributions=(Contribution("expressive_input", "Made the work."),),
        new_material="All of it",
        sources=(InputSource("The author's own material", "", "Own work"),),
        training_use="not_allowed",
        attested=True,
        alternative_titles=(),
    )


class _NotEvaluated(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _file(session, store, owner, path: Path, matcher) -> Registration:
    """File ``path`` and check it; raises _NotEvaluated when it cannot be, with nothing kept
    of it."""
    is_image = path.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp")
    try:
        with path.open("rb") as fh:
            reg = filing.submit(
                session=session,
                store=store,
                limits=_LIMITS,
                owner=owner,
                declaration=_declaration(path.name, is_image),
                upload=intake.DepositUpload(file=fh),
            )
    except intake.FilingRejected as exc:
        session.rollback()
        raise _NotEvaluated(REJECTED, str(exc)) from None
    except OSError as exc:
        session.rollback()
        raise _NotEvaluated(UNREADABLE, exc.strerror or str(exc)) from None
    try:
        checking.run(
            session=session, store=store, matcher=matcher, policy=_POLICY, registration=reg
        )
    except Exception as exc:  # the engine failed on this file: say so, and go on
        session.rollback()
        _forget(session, reg)
        raise _NotEvaluated(CHECK_FAILED, f"{type(exc).__name__}: {exc}") from None
    return reg


def _forget(session: Session, reg: Registration) -> None:
    """Take a checked query back out of the scratch registry (queries must not match each other).
    Only ever the scratch registry: its transparency log loses the entry too."""
    with db.writing(session):
        session.exec(delete(FilingMatch).where(FilingMatch.filing_id == reg.id))
        for table in (MatchReport, ProvenanceReport, Fingerprint, LogEntry, Event):
            session.exec(delete(table).where(table.registration_id == reg.id))
        session.delete(reg)


def evaluate(dataset: Path, progress: Callable[[str], None] | None = None) -> Result:
    """Register ``dataset/registered``, check every query of ``truth.csv``, and tally."""
    dataset = Path(dataset)
    truth = list(csv.DictReader((dataset / "truth.csv").open(encoding="utf-8")))
    registered = sorted(p for p in (dataset / "registered").iterdir() if p.is_file())
    result = Result(registered=len(registered))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="registry-eval-") as scratch:
        engine = db.make_engine(f"sqlite:///{scratch}/eval.sqlite3")
        db.upgrade(engine)
        # the scratch registry's log is thrown away with it: a key of its own signs its heads
        transparency.bind_signer(engine, transparency.TransparencyLog(Ed25519PrivateKey.generate()))
        store = DepositStore(Path(scratch) / "deposits")
        matcher = matching.Matcher()
        with db.new_session(engine) as session:
            owner = accounts.create_user(
                session=session,
                email="evaluation@example.org",
                display_name="Evaluation",
                password="evaluation-only-password-1",
            )

            def failed(path: Path, why: _NotEvaluated) -> None:
                error = FileError(str(path.relative_to(dataset)), why.code, why.message)
                result.errors.append(error)
                if progress:
                    progress(f"error: {error.path}: {error.code}: {error.message}")

            names: dict[str, str] = {}
            for i, path in enumerate(registered, 1):
                try:
                    reg = _file(session, store, owner, path, matcher)
                except _NotEvaluated as why:
                    failed(path, why)
                    continue
                assert reg.number is not None  # a submitted filing has its number
                names[reg.number] = path.name
                if progress and i % 100 == 0:
                    progress(f"registered {i}/{len(registered)}")
            for i, row in enumerate(truth, 1):
                query = dataset / "queries" / row["query"]
                try:
                    reg = _file(session, store, owner, query, matcher)
                except _NotEvaluated as why:
                    failed(query, why)
                    continue
                report = matching.get_report(session, reg)
                flagged = {names.get(m.number, m.number) for m in matching.report_matches(report)}
                _forget(session, reg)
                expected = {e for e in row["expected"].split(";") if e}
                tally = Tally(
                    len(expected & flagged), len(expected - flagged), len(flagged - expected)
                )
                families = result.modalities.setdefault(row["modality"], defaultdict(Tally))
                families[row["family"]].add(tally)
                if tally.fn or tally.fp:
                    result.mistakes.append(
                        (row["query"], row["family"], sorted(expected), sorted(flagged))
                    )
                if progress and i % 200 == 0:
                    progress(f"checked {i}/{len(truth)}")
        engine.dispose()
    result.queries = len(truth)
    result.seconds = time.perf_counter() - started
    return result


def format_table(result: Result) -> str:
    def row(modality: str, family: str, t: Tally) -> str:
        return (
            f"{modality:9} {family:16} {t.precision:9.3f} {t.recall:7.3f} "
            f"{t.tp:5} {t.fn:4} {t.fp:4}"
        )

    lines = [
        f"{result.registered} registered, {result.queries} queries, {result.seconds:.0f} s",
        "",
        f"{'modality':9} {'family':16} {'precision':>9} {'recall':>7} "
        f"{'TP':>5} {'FN':>4} {'FP':>4}",
    ]
    for modality, families in sorted(result.modalities.items()):
        lines.extend(row(modality, name, t) for name, t in sorted(families.items()))
        lines.append(row(modality, "ALL", result.total(modality)))
        lines.append("")
    if result.errors:
        lines.append(f"{len(result.errors)} file(s) could not be evaluated:")
        lines.extend(f"error: {e.path}: {e.code}: {e.message}" for e in result.errors)
    return "\n".join(lines)
