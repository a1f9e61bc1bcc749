"""The JSON API under ``/api/v1``: file a registration (with a personal API token), read a
public record, search the catalog, reverse search, and the transparency log's tree head, entries
and proofs. ``/api/v1/openapi.json`` is generated from these routes and the models of
``registry.schemas`` they name (registry.web.openapi); the tests hold the two to each other and
run schemathesis against the document.

Errors are ``{"error": {"code": ..., "message": ..., "fields": {...}}}`` with a stable code. A
filing's declaration is validated by ``registry.schemas.DeclarationCreate`` (the models the
web form's validators come from) and goes to the same service as the web form.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask.wrappers import Response as FlaskResponse
from pydantic import ValidationError
from spectree import Response

from ..domain.statuses import Status
from ..domain.transparency import public_pem, raw_public_key
from ..runner import SearchUnavailable
from ..schemas import (
    CertificatePublic,
    ConsistencyProofPublic,
    ConsistencyQuery,
    DeclarationCreate,
    EntriesPublic,
    EntriesQuery,
    FilingCreate,
    FilingHeaders,
    InclusionProofPublic,
    InclusionQuery,
    LogKeyPublic,
    RegistrationPublic,
    ReverseSearchCreate,
    ReverseSearchPublic,
    SearchQuery,
    SearchResults,
    TreeHeadPublic,
)
from ..services import (
    certificates,
    filing,
    intake,
    lookup,
    records,
    tokens,
    transparency,
)
from . import csrf, db_session, ext, external_url, settings
from .errors import SEARCH_UNAVAILABLE, error_body
from .limits import filing_limit, reverse_search_limit
from .log import checkpoint_response
from .openapi import errors, spec
from .validation import field_problems

if TYPE_CHECKING:
    from ..models import User

# spectree resolves a validated view's annotations on each request (its `annotations` option):
# those views name FlaskResponse (importable at run time), not flask.typing's ResponseReturnValue.
bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

MAX_PAGE_SIZE = 100
MAX_ENTRIES = 100


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: dict[str, list[str]] | None = None,
        *,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields
        self.retry_after = retry_after


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> ResponseReturnValue:
    response = jsonify(error_body(exc.code, exc.message, exc.fields))
    response.status_code = exc.status
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="registry"'
    if exc.retry_after is not None:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


# ---- input -----------------------------------------------------------------------------------


def _int_arg(name: str, default: int | Callable[[], int] | None, low: int, high: int) -> int:
    """The whole-number query parameter ``name``; ``default`` (a value, or a function giving
    it, called only when the parameter is missing) when there is none."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        if default is None:
            raise ApiError(400, "invalid_request", f"The query parameter {name} is required.")
        return default() if callable(default) else default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise ApiError(400, "invalid_request", f"{name} must be a whole number.")
    value = int(raw)
    if not low <= value <= high:
        raise ApiError(400, "invalid_request", f"{name} must be between {low} and {high}.")
    return value


def _json_object() -> dict:
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Send the body as application/json.")
    data = request.get_data(cache=True)
    try:
        body = current_app.json.loads(data)
    except RecursionError:
        raise ApiError(400, "invalid_request", "The JSON is nested too deeply.") from None
    except json.JSONDecodeError as exc:
        raise ApiError(
            400,
            "invalid_request",
            f"The body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno} "
            f"(character {exc.pos}).",
        ) from None
    except ValueError:  # UnicodeDecodeError: bytes that are not UTF-8 (nor UTF-16 or -32)
        raise ApiError(
            400, "invalid_request", "The body is not valid JSON: it is not UTF-8 text."
        ) from None
    if not isinstance(body, dict):
        kind = {list: "an array", str: "a string", bool: "true or false", type(None): "null"}
        what = kind.get(type(body), "a number")
        raise ApiError(400, "invalid_request", f"The body must be a JSON object, not {what}.")
    return body


def _only(obj: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise ApiError(
            400,
            "invalid_request",
            f"Unknown field{'s' if len(unknown) > 1 else ''} in {where}: {', '.join(unknown)}.",
        )


def _deposit(body: dict) -> intake.DepositUpload:
    """The work sent as ``{"text": ...}`` or ``{"filename": ..., "content_base64": ...}``."""
    deposit = body.get("deposit")
    if not isinstance(deposit, dict):
        raise ApiError(400, "invalid_request", "deposit must be an object with text or a file.")
    _only(deposit, {"text", "filename", "content_base64"}, "deposit")
    text, content = deposit.get("text"), deposit.get("content_base64")
    if (text is None) == (content is None) or (text is not None and len(deposit) > 1):
        raise ApiError(
            400,
            "invalid_request",
            "Send the deposit as text, or as a file (content_base64 and a filename), not both.",
        )
    if text is not None:
        if not isinstance(text, str):
            raise ApiError(400, "invalid_request", "deposit.text must be a string.")
        return intake.DepositUpload(pasted_text=text)
    if not isinstance(content, str):
        raise ApiError(400, "invalid_request", "deposit.content_base64 must be a string.")
    try:
        data = base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, "invalid_request", "deposit.content_base64 is not base64.") from None
    return intake.DepositUpload(file=io.BytesIO(data))


def _with_upload_limit() -> None:
    """A deposit travels base64-encoded: allow for the third it adds."""
    request.max_content_length = settings().max_deposit_bytes * 4 // 3 + (2 << 20)


def _declaration(body: dict) -> DeclarationCreate:
    """The declaration, validated by the schema: an unknown field is a malformed request (400),
    any other problem is named by its field (422)."""
    declaration = body.get("declaration")
    if not isinstance(declaration, dict):
        raise ApiError(400, "invalid_request", "declaration must be an object.")
    try:
        return DeclarationCreate.model_validate(declaration)
    except ValidationError as exc:
        unknown = sorted(
            str(e["loc"][0])
            for e in exc.errors()
            if e["type"] == "extra_forbidden" and len(e["loc"]) == 1
        )
        if unknown:
            raise ApiError(
                400,
                "invalid_request",
                f"Unknown field{'s' if len(unknown) > 1 else ''} in declaration: "
                f"{', '.join(unknown)}.",
            ) from None
        problems = field_problems(exc, collapse=("contributions",))
        raise ApiError(422, "invalid_filing", "The declaration has problems.", problems) from None


def _authenticated_user() -> User:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401, "unauthenticated", "Send a personal API token: Authorization: Bearer <token>."
        )
    user = tokens.authenticate(session=db_session(), token=token.strip())
    if user is None:
        raise ApiError(401, "invalid_token", "The API token is unknown or has been revoked.")
    return user


# ---- output ----------------------------------------------------------------------------------


def _date(value) -> str | None:
    return value.isoformat() if value else None


def public_record(reg) -> dict:
    """What the public record page shows, as JSON (never the address or the deposit)."""
    session = db_session()
    rec = records.public_record(session, reg)
    determination = rec.determination
    return {
        "number": rec.number,
        "title": rec.title,
        "alternative_titles": rec.alternative_titles,
        "status": rec.status.value,
        "status_label": rec.status.label,
        "checking": rec.checking,
        "filed_at": _date(rec.filed_at),
        "work_category": rec.work_category,
        "claimant_name": rec.claimant_name,
        "authors": [
            {"name": a.name, "citizenship": a.citizenship, "contribution": a.contribution}
            for a in rec.authors
        ],
        "digital_source_type": rec.digital_source_type,
        "ai_tools": rec.ai_tools,
        "ai_material_excluded": rec.ai_material_excluded,
        "new_material_claimed": rec.new_material_claimed,
        "provenance": rec.provenance.label if rec.provenance else None,
        "determination": (
            {
                "outcome": determination.outcome,
                "determined_at": _date(determination.determined_at),
                "limitation": determination.limitation,
            }
            if determination
            else None
        ),
        "deposit": {
            "sha256": rec.deposit_sha256,
            "kind": rec.deposit_kind,
            "media_type": rec.deposit_media_type,
        },
        "supplements": rec.supplements.number if rec.supplements else None,
        "supplemented_by": [s.number for s in rec.supplemented_by],
        "log": [
            {"leaf_index": e.idx, "leaf": e.leaf, "leaf_hash": e.leaf_hash}
            for e in transparency.entries_of(session, reg)
        ],
        "url": external_url("public.record", number=reg.number),
    }


def _summary(reg) -> dict:
    return {
        "number": reg.number,
        "title": reg.title,
        "status": reg.status,
        "status_label": Status(reg.status).label,
        "claimant_name": reg.claimant_name,
        "filed_at": _date(reg.submitted_at),
        "url": external_url("api.registration", number=reg.number),
    }


def _hexes(hashes: list[bytes]) -> list[str]:
    return [h.hex() for h in hashes]


# ---- routes ----------------------------------------------------------------------------------


@bp.get("/openapi.json")
@spec.validate(resp=Response("HTTP_200"), operation_id="openapi", skip_validation=True)
def openapi() -> FlaskResponse:
    """This document"""
    from .openapi import document

    return jsonify(document())


@bp.get("/registrations")
@spec.validate(
    query=SearchQuery,
    resp=Response(HTTP_200=SearchResults, **errors(400)),
    operation_id="searchCatalog",
    skip_validation=True,
)
def registrations() -> FlaskResponse:
    """Search the public catalog (newest first)"""
    query = request.args.get("q", "")
    if len(query) > 200 or "\x00" in query:
        raise ApiError(400, "invalid_request", "q must be at most 200 characters, without NUL.")
    page = _int_arg("page", 1, 1, 100_000)
    page_size = _int_arg("page_size", 20, 1, MAX_PAGE_SIZE)
    results = lookup.search(session=db_session(), query=query, page=page, page_size=page_size)
    return jsonify(
        {
            "items": [_summary(r) for r in results.items],
            "total": results.total,
            "page": results.page,
            "page_size": results.page_size,
            "pages": results.pages,
        }
    )


@bp.get("/registrations/<number>")
@spec.validate(
    resp=Response(HTTP_200=RegistrationPublic, **errors(404)),
    operation_id="getRegistration",
    path_parameter_descriptions={"number": "A registration number, e.g. AIR-2026-000123."},
    skip_validation=True,
)
def registration(number: str) -> FlaskResponse:
    """A registration's public record and status"""
    reg = lookup.by_number(session=db_session(), number=number)
    if reg is None:
        raise ApiError(404, "not_found", f"No public registration {number[:40]!r}.")
    return jsonify(public_record(reg))


@bp.get("/registrations/<number>/certificate")
@spec.validate(
    resp=Response(HTTP_200=CertificatePublic, **errors(404, 409)),
    operation_id="getCertificate",
    skip_validation=True,
)
def certificate(number: str) -> FlaskResponse:
    """The signed certificate of a registered work (check it with python -m registry.verify)."""
    reg = lookup.by_number(session=db_session(), number=number)
    if reg is None:
        raise ApiError(404, "not_found", f"No public registration {number[:40]!r}.")
    try:
        cert = certificates.certificate(
            db_session(), ext().log, reg, registry_url=settings().public_url
        )
    except certificates.CertificateUnavailable as exc:
        raise ApiError(409, "no_certificate", str(exc)) from None
    return jsonify(cert)


@bp.post("/registrations")
@spec.validate(
    json=FilingCreate,
    headers=FilingHeaders,
    resp=Response(
        HTTP_201=RegistrationPublic,
        **errors(400, 401, 413, 415, 422, 429, 503),
    ),
    security={"token": []},
    operation_id="fileRegistration",
    skip_validation=True,
)
@filing_limit
def file_registration() -> FlaskResponse:
    """File (submit) a registration in the token owner's name

    The answer comes once the filing is committed; its originality check runs afterwards
    (`checking` is true until it is done). Send an Idempotency-Key to retry safely: a request
    repeated with the same key and body returns the filing the first one made (with
    Idempotent-Replayed: true), never a second filing. Every problem of the declaration is
    named by its field; the rules across fields (a pseudonym when signed under one, dates in
    order, no AI as an author) are the web form's.
    """
    user = _authenticated_user()
    _with_upload_limit()
    body = _json_object()
    _only(body, {"declaration", "deposit"}, "the body")
    declaration = _declaration(body)
    upload = _deposit(body)
    once = _idempotency(body)
    try:
        reg, replayed = filing.submit_once(
            session=db_session(),
            store=ext().store,
            limits=ext().limits,
            owner=user,
            declaration=declaration.to_domain(),
            upload=upload,
            defer=ext().runner.after_submit,
            idempotency=once,
        )
    except intake.FilingRejected as exc:
        fields: dict[str, list[str]] = {}
        for p in exc.problems:
            fields.setdefault(p.field or "filing", []).append(p.message)
        raise ApiError(422, "invalid_filing", str(exc), fields) from None
    except filing.IdempotencyConflict:
        raise ApiError(
            422,
            "idempotency_key_reused",
            "This Idempotency-Key was sent before with a different filing. Use a new key for a "
            "new filing; send the same key only to repeat the same request.",
        ) from None
    response = jsonify(public_record(reg))
    response.status_code = 201
    response.headers["Location"] = external_url("api.registration", number=reg.number)
    if once is not None and replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


IDEMPOTENCY_KEY = "Idempotency-Key"
_KEY = re.compile(r'"([\x20-\x21\x23-\x5b\x5d-\x7e]{1,255})"|([\x21\x23-\x7e]{1,255})')


def _idempotency(body: dict) -> filing.Idempotency | None:
    """The request's ``Idempotency-Key`` (a structured-field string, as the IETF draft has it,
    or a bare token such as a UUID) with the SHA-256 of the body it came with; None without."""
    raw = request.headers.get(IDEMPOTENCY_KEY)
    if raw is None:
        return None
    match = _KEY.fullmatch(raw.strip())
    if match is None:
        raise ApiError(
            400,
            "invalid_request",
            "Idempotency-Key must be a string of 1 to 255 printable ASCII characters, such as a "
            'UUID (optionally in double quotes: "…").',
        )
    key = match.group(1) or match.group(2)
    # ASCII-escaped: a body may hold lone surrogates, which the declaration's checks refuse later
    sent = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    digest = hashlib.sha256(sent.encode("ascii")).hexdigest()
    return filing.Idempotency(key=key, request_sha256=digest)


@bp.post("/search/similar")
@spec.validate(
    json=ReverseSearchCreate,
    resp=Response(
        HTTP_200=ReverseSearchPublic,
        **errors(400, 413, 415, 422, 429, 503),
    ),
    operation_id="reverseSearch",
    skip_validation=True,
)
@reverse_search_limit
def reverse_search() -> FlaskResponse:
    """Which registered works does this image or text match?

    Nothing sent is stored. Rate-limited per address.
    """
    _with_upload_limit()
    body = _json_object()
    _only(body, {"deposit"}, "the body")
    upload = _deposit(body)
    try:
        result = ext().runner.reverse_search(upload)
    except intake.FilingRejected as exc:
        raise ApiError(422, "invalid_deposit", str(exc)) from None
    except SearchUnavailable:
        raise ApiError(503, "search_unavailable", SEARCH_UNAVAILABLE, retry_after=30) from None
    return jsonify(result.public_dict())


@bp.get("/log/key")
@spec.validate(resp=Response(HTTP_200=LogKeyPublic), operation_id="logKey", skip_validation=True)
def log_key() -> FlaskResponse:
    """The log's public key (Ed25519), which signs tree heads and certificates"""
    log = ext().log
    return jsonify(
        {
            "algorithm": "Ed25519",
            "key_id": log.key_id,
            "public_key": raw_public_key(log.public_key),
            "pem": public_pem(log.public_key),
        }
    )


@bp.get("/log/tree-head")
@spec.validate(
    resp=Response(HTTP_200=TreeHeadPublic), operation_id="treeHead", skip_validation=True
)
def tree_head() -> FlaskResponse:
    """The latest signed tree head"""
    log = ext().log
    head = log.head(db_session())
    return jsonify({**head.to_json(), "key_id": log.key_id})


@bp.get("/log/entries")
@spec.validate(
    query=EntriesQuery,
    resp=Response(HTTP_200=EntriesPublic, **errors(400)),
    operation_id="logEntries",
    skip_validation=True,
)
def log_entries() -> FlaskResponse:
    """Entries start .. end-1; as in RFC 6962's get-entries, fewer may come back than asked
    for (at most 100, and none past the end of the log)."""
    size = transparency.size(db_session())
    start = _int_arg("start", 0, 0, 2**62)
    end = _int_arg("end", start + MAX_ENTRIES, 0, 2**62)
    if end < start:
        raise ApiError(400, "invalid_request", "end must not be smaller than start.")
    rows = transparency.entries(db_session(), start, min(end, start + MAX_ENTRIES, size))
    return jsonify(
        {
            "tree_size": size,
            "entries": [
                {"leaf_index": e.idx, "leaf": e.leaf, "leaf_hash": e.leaf_hash} for e in rows
            ],
        }
    )


@bp.get("/log/proof/inclusion")
@spec.validate(
    query=InclusionQuery,
    resp=Response(HTTP_200=InclusionProofPublic, **errors(400)),
    operation_id="inclusionProof",
    skip_validation=True,
)
def inclusion_proof() -> FlaskResponse:
    """RFC 6962 audit path for a leaf in a tree of a given size"""
    session = db_session()
    log = ext().log
    tree_size = _int_arg("tree_size", lambda: log.head(session).tree_size, 1, 2**62)
    leaf_index = _int_arg("leaf_index", None, 0, 2**62)
    try:
        proof, root = log.inclusion(session, leaf_index, tree_size)
    except transparency.LogError as exc:
        raise ApiError(400, "invalid_request", str(exc)) from None
    row = transparency.entry(session, leaf_index)
    return jsonify(
        {
            "leaf_index": leaf_index,
            "tree_size": tree_size,
            "leaf": row.leaf if row else None,
            "leaf_hash": row.leaf_hash if row else None,
            "root_hash": root.hex(),
            "audit_path": _hexes(proof),
        }
    )


@bp.get("/log/proof/consistency")
@spec.validate(
    query=ConsistencyQuery,
    resp=Response(HTTP_200=ConsistencyProofPublic, **errors(400)),
    operation_id="consistencyProof",
    skip_validation=True,
)
def consistency_proof() -> FlaskResponse:
    """RFC 6962 consistency proof between two tree sizes"""
    session = db_session()
    log = ext().log
    second = _int_arg("second", lambda: log.head(session).tree_size, 1, 2**62)
    first = _int_arg("first", None, 1, 2**62)
    try:
        proof, first_root, second_root = log.consistency(session, first, second)
    except transparency.LogError as exc:
        raise ApiError(400, "invalid_request", str(exc)) from None
    return jsonify(
        {
            "first": first,
            "second": second,
            "first_root_hash": first_root.hex(),
            "second_root_hash": second_root.hex(),
            "consistency": _hexes(proof),
        }
    )


@bp.get("/log/checkpoint")
@spec.validate(resp=Response("HTTP_200"), operation_id="logCheckpoint", skip_validation=True)
def log_checkpoint() -> FlaskResponse:
    """The latest signed tree head as a C2SP checkpoint (text), for witnesses to poll."""
    return checkpoint_response(ext().log, db_session())
