"""The OpenAPI document and the code agree: every /api/v1 route is described (and nothing
else), the document is valid OpenAPI 3.1, and schemathesis finds no response that breaks it."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis.specs.openapi.checks import positive_data_acceptance

from registry.deposits import IMAGE_FORMATS
from registry.domain.declaration import (
    AiTool,
    Author,
    Declaration,
    InputSource,
    submission_problems,
)
from registry.domain.vocabulary import DepositKind
from registry.schemas import (
    AiToolCreate,
    AuthorCreate,
    ContributionCreate,
    DeclarationCreate,
    InputSourceCreate,
    max_length,
)
from registry.services import tokens
from registry.web.openapi import document
from tests.factories import declaration, make_user

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
EXAMPLES = 30  # per operation and backend: bounded so CI stays quick


def test_the_document_is_valid_openapi(app):
    validate(document(app))


def test_the_document_states_what_filing_accepts(app):
    """Generated from the schema, the document asks for what a submission needs, names the
    image formats filing decodes (and no other), and states every limit the models state."""
    schemas = document(app)["components"]["schemas"]
    empty = submission_problems(Declaration(), deposit_kind=DepositKind.TEXT, today=date.today())
    assert set(schemas["DeclarationCreate"]["required"]) == {p.field for p in empty}
    for component, row, group in [
        ("AuthorCreate", Author(citizenship="x"), "authors"),
        ("AiToolCreate", AiTool(version="1"), "ai_tools"),
        ("InputSourceCreate", InputSource(origin="x"), "sources"),
    ]:
        decl = replace(declaration(), **{group: (row,)})
        asked = submission_problems(decl, deposit_kind=DepositKind.IMAGE, today=date.today())
        prefix = f"{group}.0."
        needed = {p.field.removeprefix(prefix) for p in asked if p.field.startswith(prefix)}
        assert set(schemas[component]["required"]) == needed, component

    formats = schemas["DepositFile"]["properties"]["content_base64"]["description"]
    for name in ("PNG", "JPEG", "WebP"):
        assert name in formats
    assert len(IMAGE_FORMATS) == 3 and "GIF" not in formats and "TIFF" not in formats

    for model in (
        DeclarationCreate,
        AuthorCreate,
        AiToolCreate,
        ContributionCreate,
        InputSourceCreate,
    ):
        properties = schemas[model.__name__]["properties"]
        for name in model.model_fields:
            most = max_length(model, name)
            if most is not None:
                stated = properties[name].get("maxLength", properties[name].get("maxItems"))
                assert stated == most, (model.__name__, name)
    titles = schemas["DeclarationCreate"]["properties"]["alternative_titles"]
    assert titles["items"]["maxLength"] == 300 and titles["maxItems"] == 10


def test_the_document_is_served(app, client):
    assert client.get("/api/v1/openapi.json").get_json() == document(app)


def test_every_api_route_is_described_and_nothing_else(app):
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
            routes |= {(path, m.lower()) for m in rule.methods & METHODS}
    described = {
        (path, method)
        for path, item in document(app)["paths"].items()
        for method in item
        if method.upper() in METHODS
    }
    assert routes == described


def test_the_api_keeps_to_its_document(app, session):
    """Generated requests to every operation (schemathesis, run in-process against the served
    document): no server error, and every response's status, content type, headers and body as
    documented. Schema-valid data is not required to be accepted: whether a request can be met
    depends on what is stored (a proof needs leaf_index < tree_size <= the log's size; a filing
    must also satisfy the declaration's rules across fields), and such requests are refused
    with a documented 400 or 422 that says why."""
    app.extensions["registry"].settings.reverse_search_limit = "100000 per minute"
    _row, token = tokens.create(session=session, user=make_user(session), name="schemathesis")
    headers = {"Authorization": f"Bearer {token}"}
    api = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) == 11

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def conforms(case):  # type: ignore[no-untyped-def]
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        conforms()
