"""The OpenAPI 3.1 document of ``/api/v1``, served at ``/api/v1/openapi.json``.

Written beside the code it describes and held to it by the tests: every route under /api/v1 must
appear here with its methods (and nothing else may), the document must validate, and
schemathesis checks the responses of generated requests against it.
"""

from __future__ import annotations

from typing import Any

from ..domain.vocabulary import (
    ClaimantKind,
    ContributionCategory,
    DigitalSourceType,
    PublicationStatus,
    RightsHeld,
    RightsObtained,
    Signing,
    TrainingUse,
    WorkCategory,
)

API_VERSION = "1.0.0"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict) -> dict:
    kind = schema.get("type")
    if kind is not None:
        return {**schema, "type": [kind, "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


STRING = {"type": "string"}
HEX32 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
DATE_TIME = {"type": "string", "format": "date-time"}


def _codes(vocabulary) -> dict:  # type: ignore[no-untyped-def]
    """A code from the vocabulary, or empty/absent for "not given"."""
    return {"type": ["string", "null"], "enum": [*(c.value for c in vocabulary), "", None]}


def _object(properties: dict, required: list[str] | None = None, **extra: Any) -> dict:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    schema.update(extra)
    return schema


def _text(max_length: int) -> dict:
    return {"type": ["string", "null"], "maxLength": max_length}


DECLARATION = _object(
    {
        "title": _text(300),
        "alternative_titles": {"type": "array", "items": {"type": "string", "maxLength": 300}},
        "work_category": _codes(WorkCategory),
        "completion_date": {"type": ["string", "null"], "format": "date"},
        "publication_status": _codes(PublicationStatus),
        "publication_date": {"type": ["string", "null"], "format": "date"},
        "publication_nation": _text(100),
        "authors": {
            "type": "array",
            "maxItems": 20,
            "items": _object(
                {
                    "name": _text(200),
                    "signing": _codes(Signing),
                    "pseudonym": _text(200),
                    "citizenship": _text(100),
                    "contribution": _text(1000),
                }
            ),
        },
        "claimant_name": _text(300),
        "claimant_kind": _codes(ClaimantKind),
        "claimant_address": _text(1000),
        "rights_obtained": _codes(RightsObtained),
        "transfer_statement": _text(2000),
        "rights_held": _codes(RightsHeld),
        "rights_held_detail": _text(2000),
        "digital_source_type": _codes(DigitalSourceType),
        "ai_tools": {
            "type": "array",
            "maxItems": 20,
            "items": _object(
                {
                    "name": _text(200),
                    "version": _text(100),
                    "provider": _text(200),
                    "usage": _text(1000),
                }
            ),
        },
        "ai_material": _text(10_000),
        "contributions": {
            "type": "array",
            "items": _object(
                {
                    "category": {"type": "string", "enum": [c.value for c in ContributionCategory]},
                    "description": _text(10_000),
                },
                ["category"],
            ),
        },
        "new_material": _text(2000),
        "sources": {
            "type": "array",
            "maxItems": 30,
            "items": _object(
                {"description": _text(1000), "origin": _text(500), "licence": _text(200)}
            ),
        },
        "training_use": _codes(TrainingUse),
        "training_terms": _text(2000),
        "attested": {
            "type": "boolean",
            "description": "The filer confirms the statements are true and complete.",
        },
    },
    description="The same declaration as the web form, with the same rules. A submission "
    "needs at least a title, an author, a claimant, how the work was made, the new material "
    "claimed and attested: true; the response names each problem by field.",
)

DEPOSIT = {
    "oneOf": [
        _object(
            {"text": {"type": "string", "minLength": 1, "description": "The text of the work."}},
            ["text"],
        ),
        _object(
            {
                "filename": {"type": "string", "maxLength": 255},
                "content_base64": {
                    "type": "string",
                    "contentEncoding": "base64",
                    "description": "The image (PNG, JPEG, WebP, GIF, TIFF) or text file.",
                },
            },
            ["content_base64"],
        ),
    ],
    "description": "The work: its text, or a file in base64. Same size limits as the web form.",
}

ERROR = _object(
    {
        "error": _object(
            {
                "code": {
                    "type": "string",
                    "description": "Stable: invalid_request, invalid_filing, invalid_deposit, "
                    "no_certificate, "
                    "unauthenticated, invalid_token, not_found, method_not_allowed, too_large, "
                    "unsupported_media_type, rate_limited, server_error.",
                },
                "message": STRING,
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": STRING},
                    "description": "Problems per field, by dotted path (authors.0.name).",
                },
            },
            ["code", "message"],
        )
    },
    ["error"],
)

LOG_ENTRY = _object(
    {
        "leaf_index": {"type": "integer", "minimum": 0},
        "leaf": {
            "type": "string",
            "description": "Canonical JSON: v, number, event, deposit_sha256, time "
            "(and supplements). The leaf hash is SHA-256(0x00 || UTF-8 bytes).",
        },
        "leaf_hash": HEX32,
    },
    ["leaf_index", "leaf", "leaf_hash"],
)

SUMMARY = _object(
    {
        "number": STRING,
        "title": STRING,
        "status": STRING,
        "status_label": STRING,
        "claimant_name": STRING,
        "filed_at": _nullable(DATE_TIME),
        "url": STRING,
    },
    ["number", "title", "status", "status_label", "filed_at", "url"],
)

RECORD = _object(
    {
        "number": STRING,
        "title": STRING,
        "alternative_titles": {"type": "array", "items": STRING},
        "status": STRING,
        "status_label": STRING,
        "checking": {
            "type": "boolean",
            "description": "True while the originality check of a submitted filing is running.",
        },
        "filed_at": _nullable(DATE_TIME),
        "work_category": {"type": ["string", "null"]},
        "claimant_name": STRING,
        "authors": {
            "type": "array",
            "items": _object(
                {"name": {"type": ["string", "null"]}, "contribution": {"type": ["string", "null"]}}
            ),
        },
        "digital_source_type": {"type": ["string", "null"]},
        "ai_tools": {
            "type": "array",
            "items": _object(
                {
                    "name": STRING,
                    "version": {"type": ["string", "null"]},
                    "provider": {"type": ["string", "null"]},
                }
            ),
        },
        "ai_material_excluded": {"type": ["string", "null"]},
        "new_material_claimed": {"type": ["string", "null"]},
        "provenance": {"type": ["string", "null"]},
        "determination": _nullable(
            _object(
                {
                    "outcome": STRING,
                    "determined_at": DATE_TIME,
                    "limitation": {"type": ["string", "null"]},
                },
                ["outcome", "determined_at"],
            )
        ),
        "deposit": _object(
            {
                "sha256": {"type": ["string", "null"]},
                "kind": {"type": ["string", "null"]},
                "media_type": {"type": ["string", "null"]},
            }
        ),
        "supplements": {"type": ["string", "null"]},
        "supplemented_by": {"type": "array", "items": STRING},
        "log": {"type": "array", "items": _ref("LogEntry")},
        "url": STRING,
    },
    ["number", "title", "status", "status_label", "checking", "deposit", "log", "url"],
)

TREE_HEAD = _object(
    {
        "tree_size": {"type": "integer", "minimum": 0},
        "timestamp": {"type": "integer", "description": "Milliseconds since the epoch."},
        "time": STRING,
        "root_hash": HEX32,
        "signature": {
            "type": "string",
            "description": "Base64 Ed25519 signature over RFC 6962's TreeHeadSignature: "
            "version 0, signature type 1, uint64 timestamp, uint64 tree_size, root hash.",
        },
        "key_id": HEX32,
    },
    ["tree_size", "timestamp", "root_hash", "signature", "key_id"],
)

REVERSE_MATCH = _object(
    {
        "number": STRING,
        "title": STRING,
        "status": STRING,
        "status_label": STRING,
        "filed_on": {"type": ["string", "null"]},
        "determined_on": {"type": ["string", "null"]},
        "modality": STRING,
        "band": {"type": "string", "enum": ["strong", "review"]},
        "score": {"type": "number"},
        "signals": {"type": "array", "items": STRING},
        "coverage": {"type": ["number", "null"]},
    },
    ["number", "title", "status", "band", "score"],
)


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _response(description: str, schema: dict, headers: dict | None = None) -> dict:
    out: dict[str, Any] = {"description": description, "content": _json(schema)}
    if headers:
        out["headers"] = headers
    return out


def _errors(*codes: int) -> dict:
    words = {
        400: "Bad input",
        401: "No token, or a token that is unknown or revoked",
        404: "Not found",
        413: "The body is larger than the registry accepts",
        415: "The body is not JSON",
        422: "The filing or deposit has problems (per field)",
        429: "Rate limited; see Retry-After",
        503: "The registry cannot do this right now; try again after Retry-After seconds",
    }
    return {str(c): _response(words[c], _ref("Error")) for c in codes}


def _query(name: str, schema: dict, description: str, required: bool = False) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema,
        "description": description,
    }


def document() -> dict:
    number = {
        "name": "number",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "maxLength": 40},
        "description": "A registration number, e.g. AIR-2026-000123.",
    }
    positive = {"type": "integer", "minimum": 1}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "AIR — Registry of AI-assisted works",
            "version": API_VERSION,
            "description": "File registrations, read public records, search the catalog, ask "
            "whether content is registered already, and audit the transparency log "
            "(RFC 6962 Merkle tree, Ed25519-signed tree heads).",
        },
        "servers": [{"url": "/"}],
        "paths": {
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "responses": {"200": _response("The OpenAPI document", {"type": "object"})},
                }
            },
            "/api/v1/registrations": {
                "get": {
                    "operationId": "searchCatalog",
                    "summary": "Search the public catalog (newest first)",
                    "parameters": [
                        _query(
                            "q",
                            {"type": "string", "maxLength": 200},
                            "Words matched against title, other titles, claimant and number.",
                        ),
                        _query("page", {**positive, "maximum": 100000}, "From 1."),
                        _query("page_size", {**positive, "maximum": 100}, "Default 20."),
                    ],
                    "responses": {
                        "200": _response(
                            "A page of public registrations",
                            _object(
                                {
                                    "items": {"type": "array", "items": _ref("Summary")},
                                    "total": {"type": "integer"},
                                    "page": {"type": "integer"},
                                    "page_size": {"type": "integer"},
                                    "pages": {"type": "integer"},
                                },
                                ["items", "total", "page", "page_size", "pages"],
                            ),
                        ),
                        **_errors(400),
                    },
                },
                "post": {
                    "operationId": "fileRegistration",
                    "summary": "File (submit) a registration in the token owner's name",
                    "description": (
                        "The answer comes once the filing is committed; its originality check "
                        "runs afterwards (`checking` is true until it is done). Send an "
                        "Idempotency-Key to retry safely: a request repeated with the same key "
                        "and body returns the filing the first one made (with "
                        "Idempotent-Replayed: true), never a second filing."
                    ),
                    "security": [{"token": []}],
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "description": (
                                "A unique key for this filing (a UUID, say), at most 255 "
                                "printable ASCII characters, optionally in double quotes."
                            ),
                            "schema": {"type": "string", "maxLength": 257},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": _json(
                            _object(
                                {"declaration": _ref("Declaration"), "deposit": _ref("Deposit")},
                                ["declaration", "deposit"],
                            )
                        ),
                    },
                    "responses": {
                        "201": _response(
                            "Filed: the new public record, with its log entry",
                            _ref("Record"),
                            {
                                "Location": {"schema": STRING},
                                "Idempotent-Replayed": {
                                    "schema": STRING,
                                    "description": "true when an earlier request made it",
                                },
                            },
                        ),
                        **_errors(400, 401, 413, 415, 422, 503),
                    },
                },
            },
            "/api/v1/registrations/{number}": {
                "get": {
                    "operationId": "getRegistration",
                    "summary": "A registration's public record and status",
                    "parameters": [number],
                    "responses": {
                        "200": _response("The public record", _ref("Record")),
                        **_errors(404),
                    },
                }
            },
            "/api/v1/registrations/{number}/certificate": {
                "get": {
                    "operationId": "getCertificate",
                    "summary": "The signed certificate of a registered work",
                    "description": "Check it offline with python -m registry.verify, or at "
                    "/verify. Only registered works (with or without a limitation) have one.",
                    "parameters": [number],
                    "responses": {
                        "200": _response(
                            "The certificate",
                            {
                                "type": "object",
                                "required": ["format", "signature"],
                                "properties": {
                                    "format": {"const": "air-certificate/1"},
                                    "signature": STRING,
                                },
                            },
                        ),
                        **_errors(404),
                        "409": _response(
                            "The registration has no certificate (pending, refused or "
                            "cancelled); the message says which",
                            _ref("Error"),
                        ),
                    },
                }
            },
            "/api/v1/search/similar": {
                "post": {
                    "operationId": "reverseSearch",
                    "summary": "Which registered works does this image or text match?",
                    "description": "Nothing sent is stored. Rate-limited per address.",
                    "requestBody": {
                        "required": True,
                        "content": _json(
                            _object({"deposit": _ref("Deposit")}, ["deposit"]),
                        ),
                    },
                    "responses": {
                        "200": _response(
                            "Matching public registrations, best first",
                            _object(
                                {
                                    "modality": {"type": "string", "enum": ["image", "text"]},
                                    "checked_against": {
                                        "type": "integer",
                                        "description": "Registered works compared in full.",
                                    },
                                    "matches": {"type": "array", "items": _ref("ReverseMatch")},
                                },
                                ["modality", "checked_against", "matches"],
                            ),
                        ),
                        **_errors(400, 413, 415, 422, 429, 503),
                    },
                }
            },
            "/api/v1/log/key": {
                "get": {
                    "operationId": "logKey",
                    "summary": "The log's public key",
                    "responses": {
                        "200": _response(
                            "The Ed25519 key that signs tree heads and certificates",
                            _object(
                                {
                                    "algorithm": {"const": "Ed25519"},
                                    "key_id": HEX32,
                                    "public_key": {
                                        "type": "string",
                                        "description": "Base64 of the 32 raw bytes.",
                                    },
                                    "pem": STRING,
                                },
                                ["algorithm", "key_id", "public_key", "pem"],
                            ),
                        )
                    },
                }
            },
            "/api/v1/log/tree-head": {
                "get": {
                    "operationId": "treeHead",
                    "summary": "The latest signed tree head",
                    "responses": {"200": _response("The signed tree head", _ref("TreeHead"))},
                }
            },
            "/api/v1/log/entries": {
                "get": {
                    "operationId": "logEntries",
                    "summary": "Entries start .. end-1: at most 100, none past the end of the log",
                    "parameters": [
                        _query("start", {"type": "integer", "minimum": 0}, "First index."),
                        _query("end", {"type": "integer", "minimum": 0}, "One past the last."),
                    ],
                    "responses": {
                        "200": _response(
                            "The entries",
                            _object(
                                {
                                    "tree_size": {"type": "integer"},
                                    "entries": {"type": "array", "items": _ref("LogEntry")},
                                },
                                ["tree_size", "entries"],
                            ),
                        ),
                        **_errors(400),
                    },
                }
            },
            "/api/v1/log/proof/inclusion": {
                "get": {
                    "operationId": "inclusionProof",
                    "summary": "RFC 6962 audit path for a leaf in a tree of a given size",
                    "parameters": [
                        _query("leaf_index", {"type": "integer", "minimum": 0}, "The leaf.", True),
                        _query("tree_size", positive, "Default: the latest signed size."),
                    ],
                    "responses": {
                        "200": _response(
                            "The proof",
                            _object(
                                {
                                    "leaf_index": {"type": "integer"},
                                    "tree_size": {"type": "integer"},
                                    "leaf": {"type": ["string", "null"]},
                                    "leaf_hash": _nullable(HEX32),
                                    "root_hash": HEX32,
                                    "audit_path": {"type": "array", "items": HEX32},
                                },
                                ["leaf_index", "tree_size", "root_hash", "audit_path"],
                            ),
                        ),
                        **_errors(400),
                    },
                }
            },
            "/api/v1/log/proof/consistency": {
                "get": {
                    "operationId": "consistencyProof",
                    "summary": "RFC 6962 consistency proof between two tree sizes",
                    "parameters": [
                        _query("first", positive, "The older size.", True),
                        _query("second", positive, "Default: the latest signed size."),
                    ],
                    "responses": {
                        "200": _response(
                            "The proof",
                            _object(
                                {
                                    "first": {"type": "integer"},
                                    "second": {"type": "integer"},
                                    "first_root_hash": HEX32,
                                    "second_root_hash": HEX32,
                                    "consistency": {"type": "array", "items": HEX32},
                                },
                                ["first", "second", "consistency"],
                            ),
                        ),
                        **_errors(400),
                    },
                }
            },
            "/api/v1/log/checkpoint": {
                "get": {
                    "operationId": "logCheckpoint",
                    "summary": "The latest signed tree head as a C2SP signed checkpoint",
                    "description": "Text (https://c2sp.org/tlog-checkpoint): the log's origin, "
                    "the tree size, the base64 root hash, an empty line, and the Ed25519 "
                    "signature line of the log's key named by the origin "
                    "(https://c2sp.org/signed-note), for witnesses and monitors to check, "
                    "keep and cosign.",
                    "responses": {
                        "200": {
                            "description": "The signed checkpoint",
                            "content": {"text/plain": {"schema": STRING}},
                        }
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "token": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal API token, made under Account → API tokens.",
                }
            },
            "schemas": {
                "Error": ERROR,
                "Declaration": DECLARATION,
                "Deposit": DEPOSIT,
                "LogEntry": LOG_ENTRY,
                "Summary": SUMMARY,
                "Record": RECORD,
                "TreeHead": TREE_HEAD,
                "ReverseMatch": REVERSE_MATCH,
            },
        },
    }
