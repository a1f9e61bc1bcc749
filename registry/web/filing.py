"""The creator's side: the dashboard, the filing form, the receipt and the record page."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..domain.declaration import AiTool
from ..domain.statuses import Status
from ..domain.vocabulary import ContributionCategory, DepositKind
from ..services import (
    checking,
    correspondence,
    decisions,
    filing,
    intake,
    matching,
    provenance,
    records,
)
from ..storage import DepositDamaged
from . import db_session, ext, perform, settings
from .forms import FilingForm, form_data, problem_map, to_declaration
from .limits import filing_limit

if TYPE_CHECKING:
    from ..domain.declaration import Declaration
    from ..models import Registration
    from ..provenance import Suggestion

bp = Blueprint("filing", __name__, url_prefix="/filings")

THUMBNAIL_SIDE = 640
_ADD_ROW = {"add_author": "authors", "add_tool": "ai_tools", "add_source": "sources"}


@bp.route("/")
@login_required
def dashboard() -> ResponseReturnValue:
    filings = filing.list_own(session=db_session(), user=current_user)
    notices = decisions.notifications(db_session(), current_user)
    return render_template("filing/dashboard.html", filings=filings, notices=notices)


@bp.route("/new", methods=["GET", "POST"])
@login_required
@filing_limit
def new() -> ResponseReturnValue:
    return _form_view(registration=None)


@bp.route("/<uid>/edit", methods=["GET", "POST"])
@login_required
@filing_limit
def edit(uid: str) -> ResponseReturnValue:
    reg = filing.get_own(session=db_session(), uid=uid, user=current_user)
    if reg is None:
        abort(404)
    if reg.status not in (Status.DRAFT, Status.CORRESPONDENCE):
        flash("This filing was submitted and can no longer be edited.", "info")
        return redirect(url_for("filing.record", uid=uid))
    return _form_view(registration=reg)


def _form_view(registration) -> ResponseReturnValue:
    """The filing form: a new filing or a draft (saved or submitted), or, while the examiner
    waits on the creator, an amendment of the declaration."""
    amending = registration is not None and registration.status == Status.CORRESPONDENCE
    prefilled: list = []
    if request.method == "GET" and registration is not None:
        decl = filing.declaration_of(registration)
        if not amending:
            decl, prefilled = _prefill(decl, registration)
        form = FilingForm(data=form_data(decl))
    else:
        form = FilingForm()
    problems: dict[str, list[str]] = {}
    action = request.form.get("action", "")
    if request.method == "POST" and action in _ADD_ROW:
        # Adding a row without script: keep what was typed, add an empty row, save nothing.
        getattr(form, _ADD_ROW[action]).append_entry()
        return _render_form(form, registration, problems)
    if form.validate_on_submit():
        try:
            return _amend(form, registration) if amending else _save(form, registration, action)
        except filing.FilingNotFound:
            abort(404)
        except intake.FilingRejected as exc:
            problems = problem_map(exc.problems)
    status = 422 if request.method == "POST" else 200
    return _render_form(form, registration, problems, prefilled), status


def _save(form, registration, action: str) -> ResponseReturnValue:
    """Save the draft, or submit it (then check, read the provenance and triage)."""
    upload = intake.DepositUpload(
        file=form.deposit_file.data.stream if form.deposit_file.data else None,
        pasted_text=form.deposit_text.data or None,
    )
    common = {
        "session": db_session(),
        "store": ext().store,
        "limits": ext().limits,
        "owner": current_user,
        "declaration": to_declaration(form),
        "upload": upload,
        "uid": registration.uid if registration is not None else None,
    }
    if action == "submit":
        reg = filing.submit(**common, defer=ext().runner.after_submit)
        return redirect(url_for("filing.receipt", uid=reg.uid))
    reg = filing.save_draft(**common)
    flash("Draft saved. You can come back to it from “My filings”.", "success")
    return redirect(url_for("filing.edit", uid=reg.uid))


def _amend(form, registration) -> ResponseReturnValue:
    filing.amend(
        session=db_session(),
        owner=current_user,
        uid=registration.uid,
        declaration=to_declaration(form),
    )
    flash(
        "Your amended declaration is recorded; the earlier one is kept on file. "
        "Answer the examiner on this page.",
        "success",
    )
    return redirect(url_for("filing.record", uid=registration.uid))


def _prefill(decl, registration) -> tuple[Declaration, list[Suggestion]]:
    """Fill what the declaration leaves empty with what the deposit reveals; say what and where."""
    found = provenance.suggestions_for(ext().store, registration.deposit)
    used = []
    source = next((s for s in found if s.field == "digital_source_type"), None)
    if source and not decl.digital_source_type:
        decl = replace(decl, digital_source_type=source.value)
        used.append(source)
    tools = [s for s in found if s.field == "ai_tool" and s.value]
    if tools and not any(t.name.strip() for t in decl.ai_tools):
        decl = replace(decl, ai_tools=tuple(AiTool(t.value, "", "", "") for t in tools))
        used.extend(tools)
    hints = [s for s in found if s.field == "ai_tool" and not s.value]
    return decl, used + hints


def _render_form(form, registration, problems, prefilled=()) -> str:
    current_text = None
    if registration is not None and registration.deposit is not None:
        if registration.deposit.kind == DepositKind.TEXT:
            current_text = _deposit_text(registration)
    return render_template(
        "filing/form.html",
        form=form,
        reg=registration,
        amending=registration is not None and registration.status == Status.CORRESPONDENCE,
        prefilled=prefilled,
        problems=problems,
        categories=list(ContributionCategory),
        current_text=current_text,
        limits=ext().limits,
    )


def _viewable(uid: str) -> Registration:
    reg = filing.get_for_viewer(session=db_session(), uid=uid, user=current_user)
    if reg is None:
        abort(404)
    return reg


@bp.route("/<uid>")
@login_required
def record(uid: str) -> ResponseReturnValue:
    return render_template("filing/record.html", **case_file(_viewable(uid)))


def case_file(reg) -> dict:
    """The names the filing's page and the examiner's review page render: the viewer's case
    file (``services.records``), and the routing policy the triage is described against."""
    case = records.case_file(db_session(), ext().store, reg, current_user)
    if case.deposit_damaged is not None:
        flash(report_damage(case.deposit_damaged, reg.number), "error")
    return case.context() | {"policy": settings().routing_policy}


@bp.route("/<uid>/receipt")
@login_required
def receipt(uid: str) -> ResponseReturnValue:
    reg = filing.get_own(session=db_session(), uid=uid, user=current_user)
    if reg is None or reg.status == Status.DRAFT:
        abort(404)
    return render_template(
        "filing/receipt.html", reg=reg, checking=checking.is_checking(db_session(), reg)
    )


@bp.route("/<uid>/deposit")
@login_required
def deposit(uid: str) -> ResponseReturnValue:
    reg = _viewable(uid)
    if reg.deposit is None:
        abort(404)
    dep = reg.deposit
    extension = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}.get(
        dep.media_type, "txt"
    )
    name = f"{reg.number or 'draft'}.{extension}"
    try:
        verified = ext().store.open_verified(dep.sha256)
    except DepositDamaged as exc:
        return _damaged(exc, reg.number)
    response = send_file(
        verified,
        mimetype=dep.media_type,
        as_attachment=dep.kind != DepositKind.IMAGE,
        download_name=name,
        etag=dep.sha256,
        max_age=0,
    )
    # the bytes verified are those of the open file, whose size Werkzeug cannot read itself
    response.content_length = os.fstat(verified.fileno()).st_size
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/<uid>/thumbnail")
@login_required
def thumbnail(uid: str) -> ResponseReturnValue:
    reg = _viewable(uid)
    if reg.deposit is None or reg.deposit.kind != DepositKind.IMAGE:
        abort(404)
    return _send_thumbnail(reg.deposit.sha256, reg.number)


@bp.route("/<uid>/matches/<number>/thumbnail")
@login_required
def match_thumbnail(uid: str, number: str) -> ResponseReturnValue:
    """The earlier work a filing matched, shown to whoever may see the filing's match report."""
    earlier = matching.matched_registration(db_session(), _viewable(uid), number, current_user)
    if earlier is None or earlier.deposit is None or earlier.deposit.kind != DepositKind.IMAGE:
        abort(404)
    return _send_thumbnail(earlier.deposit.sha256, earlier.number)


def _send_thumbnail(sha: str, number: str | None) -> ResponseReturnValue:
    """The thumbnail of a deposit whose bytes still hash to ``sha`` (checked on every request,
    so a thumbnail cached before the file was damaged is not shown after), made from those
    bytes."""
    cached = ext().cache_dir / "thumbnails" / f"{sha}-{THUMBNAIL_SIDE}.webp"
    try:
        verified = ext().store.open_verified(sha)
    except DepositDamaged as exc:
        return _damaged(exc, number)
    with verified:
        if not cached.exists():
            ext().runner.thumbnail(verified, cached, max_side=THUMBNAIL_SIDE)
    response = send_file(cached, mimetype="image/webp", etag=sha, max_age=0)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def report_damage(exc: DepositDamaged, number: str | None) -> str:
    """Log a deposit whose stored file is missing or changed, for the operator, and return
    what the viewer reads instead of its bytes."""
    current_app.logger.error(
        "Deposit %s of %s is damaged: %s; it was not served (check the store with: "
        "flask --app wsgi registry verify-log --deposits)",
        exc.sha256,
        number or "a draft",
        "the file is missing" if exc.actual is None else f"its bytes now hash to {exc.actual}",
    )
    what = "is missing" if exc.actual is None else "no longer matches its SHA-256"
    return (
        f"The stored file of {number or 'this draft'} {what} ({exc.sha256[:16]}…), so it was "
        "not sent: the registry shows no bytes but those it registered. The registry's staff "
        "have been alerted."
    )


def _damaged(exc: DepositDamaged, number: str | None) -> ResponseReturnValue:
    message = report_damage(exc, number)
    return render_template("error.html", code=500, title="Deposit damaged", message=message), 500


def _deposit_text(reg) -> str:
    """A text deposit's text, or nothing (with the reason flashed) when its file is damaged."""
    try:
        return filing.deposit_text(ext().store, reg.deposit)
    except DepositDamaged as exc:
        flash(report_damage(exc, reg.number), "error")
        return ""


def _creator_step(uid: str, action: Callable[[], object], success: str) -> ResponseReturnValue:
    return perform(action, success, url_for("filing.record", uid=uid))


@bp.post("/<uid>/reply")
@login_required
def reply(uid: str) -> ResponseReturnValue:
    return _creator_step(
        uid,
        lambda: correspondence.reply(
            session=db_session(), uid=uid, creator=current_user, body=request.form.get("body", "")
        ),
        "Your answer has been sent to the examiner.",
    )


@bp.post("/<uid>/reconsideration")
@login_required
def reconsideration(uid: str) -> ResponseReturnValue:
    return _creator_step(
        uid,
        lambda: correspondence.request_reconsideration(
            session=db_session(),
            uid=uid,
            creator=current_user,
            argument=request.form.get("argument", ""),
        ),
        "Reconsideration requested: the filing is back in the examination queue.",
    )


@bp.post("/<uid>/supplementary")
@login_required
def supplementary(uid: str) -> ResponseReturnValue:
    try:
        draft = filing.start_supplementary(session=db_session(), uid=uid, owner=current_user)
    except filing.FilingNotFound:
        abort(404)
    except intake.FilingRejected as exc:
        flash(" ".join(p.message for p in exc.problems), "error")
        return redirect(url_for("filing.record", uid=uid))
    flash(
        "A supplementary registration has been started from your registration: correct or add "
        "what you need, attest again and submit. The original registration stays as it is.",
        "success",
    )
    return redirect(url_for("filing.edit", uid=draft.uid))
