"""The examiner's workspace: the queue, the review page, claims, dispositions, determinations."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    abort,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..domain.permissions import Action
from ..domain.risk import Tier
from ..domain.vocabulary import Disposition, RefusalReason, WorkCategory
from ..services import correspondence, decisions, examining, filing, guards
from ..services import queue as work_queue
from . import db_session, perform, whole_number
from .filing import case_file

bp = Blueprint("examine", __name__, url_prefix="/examine")


def examiner_required(
    view: Callable[..., ResponseReturnValue],
) -> Callable[..., ResponseReturnValue]:
    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        if not current_user.is_examiner:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


@bp.route("/")
@examiner_required
def queue() -> ResponseReturnValue:
    filters = work_queue.QueueFilter(
        tier=request.args.get("tier", "")
        if request.args.get("tier") in Tier.__members__.values()
        else "",
        category=request.args.get("category", "")
        if request.args.get("category") in WorkCategory.__members__.values()
        else "",
        strong_only=request.args.get("strong") == "1",
        waiting_on_creator=request.args.get("waiting") == "1",
        mine_only=request.args.get("mine") == "1",
    )
    page = max(whole_number(request.args.get("page"), at_most=99_999) or 1, 1)
    items = work_queue.queue(db_session(), current_user, filters, page=page)
    return render_template(
        "examine/queue.html",
        items=items,
        filters=filters,
        tiers=list(Tier),
        categories=list(WorkCategory),
    )


@bp.route("/<uid>")
@examiner_required
def review(uid: str) -> ResponseReturnValue:
    session = db_session()
    reg = filing.get_for_viewer(session=session, uid=uid, user=current_user)
    if reg is None:
        abort(404)
    case = case_file(reg)
    return render_template(
        "examine/review.html",
        **case,
        disposition_choices=list(Disposition),
        staff=guards.examiners(session) if case["may"](Action.ASSIGN) else [],
        default_days=correspondence.DEFAULT_DEADLINE_DAYS,
        refusal_reasons=list(RefusalReason),
        own=case["is_owner"],
    )


def _step(uid: str, action: Callable[[], object], success: str) -> ResponseReturnValue:
    return perform(action, success, url_for("examine.review", uid=uid))


@bp.post("/<uid>/claim")
@examiner_required
def claim(uid: str) -> ResponseReturnValue:
    return _step(
        uid,
        lambda: examining.claim(session=db_session(), uid=uid, examiner=current_user),
        "You have claimed this filing.",
    )


@bp.post("/<uid>/release")
@examiner_required
def release(uid: str) -> ResponseReturnValue:
    return _step(
        uid,
        lambda: examining.release(session=db_session(), uid=uid, examiner=current_user),
        "The filing is back in the queue.",
    )


@bp.post("/<uid>/matches/<number>/disposition")
@examiner_required
def dispose(uid: str, number: str) -> ResponseReturnValue:
    return _step(
        uid,
        lambda: examining.dispose(
            session=db_session(),
            uid=uid,
            examiner=current_user,
            number=number,
            outcome=request.form.get("outcome", ""),
            note=request.form.get("note", ""),
        ),
        f"Disposition of {number} recorded.",
    )


@bp.post("/<uid>/determination")
@examiner_required
def determine(uid: str) -> ResponseReturnValue:
    form = request.form
    return _step(
        uid,
        lambda: decisions.determine(
            session=db_session(),
            uid=uid,
            examiner=current_user,
            outcome=form.get("outcome", ""),
            rationale=form.get("rationale", ""),
            limitation=form.get("limitation", ""),
            reason_code=form.get("reason_code", ""),
            prior_number=form.get("prior_number", ""),
        ),
        "Determination recorded.",
    )


@bp.post("/<uid>/request")
@examiner_required
def request_information(uid: str) -> ResponseReturnValue:
    days = request.form.get("days", "")
    return _step(
        uid,
        lambda: correspondence.request_information(
            session=db_session(),
            uid=uid,
            examiner=current_user,
            question=request.form.get("question", ""),
            days=(
                correspondence.DEFAULT_DEADLINE_DAYS
                if (n := whole_number(days, at_most=10_000)) is None
                else n
            ),
        ),
        "Request sent; the filing waits on the creator.",
    )


@bp.post("/<uid>/reopen")
@examiner_required
def reopen(uid: str) -> ResponseReturnValue:
    return _step(
        uid,
        lambda: examining.reopen(session=db_session(), uid=uid, examiner=current_user),
        "Reopened: the filing is back under examination.",
    )


@bp.post("/<uid>/cancel")
@examiner_required
def cancel(uid: str) -> ResponseReturnValue:
    return _step(
        uid,
        lambda: examining.cancel(
            session=db_session(),
            uid=uid,
            examiner=current_user,
            reason=request.form.get("reason", ""),
        ),
        "Registration cancelled.",
    )


@bp.post("/<uid>/assign")
@examiner_required
def assign(uid: str) -> ResponseReturnValue:
    chosen = request.form.get("examiner_id", "")
    return _step(
        uid,
        lambda: examining.assign(
            session=db_session(),
            uid=uid,
            admin=current_user,
            examiner_id=whole_number(chosen) or 0,
        ),
        "Filing assigned.",
    )
