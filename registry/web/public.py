"""What anyone may see without an account: the home page, lookup by number, the catalog."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ..domain.numbering import parse_number
from ..services import lookup, records
from . import db_session, settings, whole_number

bp = Blueprint("public", __name__)


@bp.route("/")
def home() -> ResponseReturnValue:
    recent = lookup.search(session=db_session(), query="", page=1, page_size=6)
    return render_template("public/home.html", recent=recent)


@bp.route("/lookup")
def lookup_number() -> ResponseReturnValue:
    raw = request.args.get("number", "").strip()
    reg = lookup.by_number(session=db_session(), number=raw)
    if reg is not None:
        return redirect(url_for("public.record", number=reg.number))
    status = 404 if raw else 400
    return render_template("public/lookup.html", number=raw, parsed=parse_number(raw)), status


@bp.route("/registrations/<number>")
def record(number: str) -> ResponseReturnValue:
    reg = lookup.by_number(session=db_session(), number=number)
    if reg is None:
        abort(404)
    if reg.number != number:
        return redirect(url_for("public.record", number=reg.number), code=301)
    rec = records.public_record(db_session(), reg)
    return render_template(
        "public/record.html",
        record=rec,
        reg=rec.reg,
        determination=rec.determination_row,
        supplements=(rec.supplements, rec.supplemented_by),
        provenance=rec.provenance,
    )


@bp.route("/search")
def search() -> ResponseReturnValue:
    query = request.args.get("q", "").strip()[:200]
    page_number = max(whole_number(request.args.get("page"), at_most=99_999) or 1, 1)
    results = lookup.search(
        session=db_session(),
        query=query,
        page=page_number,
        page_size=settings().page_size,
    )
    return render_template("public/search.html", query=query, results=results)
