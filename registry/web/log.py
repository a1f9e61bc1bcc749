"""The transparency log's public page: the signed tree head, the entries, and inclusion and
consistency proofs anyone can ask for and see checked; and the log's public key."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from ..domain import merkle
from ..domain.transparency import decode_leaf, public_pem, raw_public_key
from ..services import transparency
from . import db_session, ext

bp = Blueprint("log", __name__, url_prefix="/log")
PAGE = 50


def _number(name: str) -> int | None:
    raw = request.args.get(name, "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 13 else None


def _inclusion(session, log, size: int):  # type: ignore[no-untyped-def]
    index, tree_size = _number("leaf_index"), _number("tree_size") or size
    if index is None:
        return None
    try:
        proof = log.inclusion_proof(session, index, tree_size)
        root = log.root(session, tree_size)
    except transparency.LogError as exc:
        return {"error": str(exc)}
    entry = transparency.entry(session, index)
    leaf_hash = bytes.fromhex(entry.leaf_hash)
    try:
        merkle.verify_inclusion(leaf_hash, index, tree_size, proof, root)
        verified = None
    except merkle.ProofError as exc:
        verified = str(exc)
    return {
        "index": index,
        "tree_size": tree_size,
        "entry": entry,
        "root": root.hex(),
        "proof": [h.hex() for h in proof],
        "problem": verified,
    }


def _consistency(session, log, size: int):  # type: ignore[no-untyped-def]
    first, second = _number("first"), _number("second") or size
    if first is None:
        return None
    try:
        proof = log.consistency_proof(session, first, second)
        old, new = log.root(session, first), log.root(session, second)
    except transparency.LogError as exc:
        return {"error": str(exc)}
    try:
        merkle.verify_consistency(first, second, old, new, proof)
        problem = None
    except merkle.ProofError as exc:
        problem = str(exc)
    return {
        "first": first,
        "second": second,
        "old": old.hex(),
        "new": new.hex(),
        "proof": [h.hex() for h in proof],
        "problem": problem,
    }


@bp.route("")
def index():  # type: ignore[no-untyped-def]
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
        key_id=log.key_id,
        public_key=raw_public_key(log.public_key),
        entries=entries,
        page=page,
        pages=pages,
        inclusion=inclusion,
        consistency=consistency,
    ), status


@bp.route("/key.pem")
def key():  # type: ignore[no-untyped-def]
    return Response(public_pem(ext().log.public_key), mimetype="text/plain")
