"""Is it registered? Anyone may upload an image or paste a text and see which registered works
it matches, with their public facts. Nothing sent is kept; searches are rate-limited."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import TextAreaField

from ..runner import SearchUnavailable
from ..services import intake
from . import ext
from .errors import SEARCH_UNAVAILABLE
from .forms import problem_map
from .limits import reverse_search_limit

bp = Blueprint("similar", __name__)


class ReverseSearchForm(FlaskForm):
    image = FileField("Upload an image")
    text = TextAreaField("Or paste a text")


@bp.route("/check", methods=["GET", "POST"])
@reverse_search_limit
def check() -> ResponseReturnValue:
    form = ReverseSearchForm()
    result = None
    problems: dict[str, list[str]] = {}
    status = 200
    if form.validate_on_submit():
        upload = intake.DepositUpload(
            file=form.image.data.stream if form.image.data else None,
            pasted_text=form.text.data or None,
        )
        try:
            result = ext().runner.reverse_search(upload)
        except intake.FilingRejected as exc:
            problems = problem_map(exc.problems)
        except SearchUnavailable:
            problems = {"deposit": [SEARCH_UNAVAILABLE]}
            status = 503
    if status == 200 and request.method == "POST" and result is None:
        status = 422
    page = render_template(
        "public/similar.html", form=form, result=result, problems=problems, limits=ext().limits
    )
    return page, status, ({"Retry-After": "30"} if status == 503 else {})
