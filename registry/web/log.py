"""The transparency log's public page: the signed tree head, the entries, and inclusion and
consistency proofs anyone can ask for and see checked; the log's public key; and the newest
signed checkpoint (C2SP) for witnesses and monitors to poll."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask.typing import ResponseReturnValue

from ..domain.transparency import decode_leaf, public_pem, raw_public_key
from ..services import transparency
from . import db_session, ext, whole_number

bp = Blueprint("log", __name__, url_prefix="/log")
PAGE = 50


def _number(name: str) -> int | None:
    return whole_number(request.args.get(name))


def _inclusion(session, log, size: int) -> dict | None:
    index = _number("leaf_index")
    if index is None:
        return None
    try:
        return transparency.checked_inclusion(session, log, index, _number("tree_size") or size)
    except transparency.LogError as exc:
        return {"error": str(exc)}


def _consistency(session, log, size: int) -> dict | None:
    first = _number("first")
    if first is None:
        return None
    try:
        return transparency.checked_consistency(session, log, first, _number("second") or size)
    except transparency.LogError as exc:
        return {"error": str(exc)}


@bp.route("")
def index() -> ResponseReturnValue:
    session, log = db_session(), ext().log
    head = log.head(session)
    size = head.tree_size
    pages = max(1, -(-size // PAGE))
    page = min(max(_number("page") or 1, 1), pages)
    end = size - (page - 1) * PAGE
    rows = transparency.entries(session, max(0, end - PAGE), end)[::-1]
    entries = [(row, decode_leaf(row.leaf.encode("utf-8"))) for row in rows]
    inclusion = _inclusion(session, log, size) if size else None
    consistency = _consistency(session, log, size) if size else None
    status = 400 if any(r and "error" in r for r in (inclusion, consistency)) else 200
    return render_template(
        "public/log.html",
        head=head,
        checkpoint=log.checkpoint(head),
        origin=log.origin,
        verifier_key=log.verifier_key,
        key_id=log.key_id,
        public_key=raw_public_key(log.public_key),
        entries=entries,
        page=page,
        pages=pages,
        inclusion=inclusion,
        consistency=consistency,
    ), status


@bp.route("/key.pem")
def key() -> ResponseReturnValue:
    return Response(public_pem(ext().log.public_key), mimetype="text/plain")


def checkpoint_response(log, session) -> Response:
    """The log's newest signed head as a C2SP checkpoint, never cached for long."""
    response = Response(log.checkpoint(log.head(session)), mimetype="text/plain")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/checkpoint")
def checkpoint() -> ResponseReturnValue:
    return checkpoint_response(ext().log, db_session())
