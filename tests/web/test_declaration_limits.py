"""Every limit registry.schemas states is kept identically by the web form and the API, on both
databases: at the limit a filing is accepted and stored whole; one past it, the field (or the
list) is named, and nothing is stored. The cases come from the models' fields, so a new field
or a new list is covered without a word here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import select

from registry.models import Registration
from registry.schemas import (
    AiToolCreate,
    AuthorCreate,
    ContributionCreate,
    DeclarationCreate,
    InputSourceCreate,
    item_max_length,
    max_length,
)
from registry.services import tokens
from tests.conftest import stored_files
from tests.factories import count, make_user
from tests.harness.server import API_DECLARATION
from tests.web.forms import form_fields

# A literary work with an AI tool and a source: every list of the declaration is in use.
BASE = {
    **API_DECLARATION,
    "work_category": "literary",
    "alternative_titles": ["Other"],
}
TEXT = "A short poem about fog.\n"
ROW_MODELS = {"authors": AuthorCreate, "ai_tools": AiToolCreate, "sources": InputSourceCreate}
CONTRIBUTION = "expressive_input"


@dataclass(frozen=True)
class Limit:
    """One limit: how to put a value of a given size into the API's JSON and the form's fields,
    where each says the problem, and how to read back what was stored."""

    name: str
    most: int
    api_error: str  # the key under error.fields
    form_error: str  # the id of the form element the message is beside

    def api(self, size: int) -> dict:
        body = {k: (list(v) if isinstance(v, list) else v) for k, v in BASE.items()}
        kind, _, rest = self.name.partition(":")
        if kind == "text":
            body[rest] = "x" * size
        elif kind == "row":
            group, _index, field = rest.split(".")
            body[group] = [{**body[group][0], field: "x" * size}]
        elif kind == "contribution":
            body["contributions"] = [{"category": CONTRIBUTION, "description": "x" * size}]
        elif kind == "title":
            body["alternative_titles"] = ["x" * size]
        elif kind == "rows":
            body[rest] = [_row(rest, i) for i in range(size)]
        return body

    def form(self, size: int) -> dict:
        decl = DeclarationCreate.model_validate(BASE).to_domain()
        fields = form_fields(decl)
        kind, _, rest = self.name.partition(":")
        if kind == "text":
            fields[rest] = "x" * size
        elif kind == "row":
            group, _index, field = rest.split(".")
            fields[f"{group}-0-{field}"] = "x" * size
        elif kind == "contribution":
            fields = {k: v for k, v in fields.items() if not k.startswith("contributions-")}
            fields[f"contributions-{CONTRIBUTION}-selected"] = "y"
            fields[f"contributions-{CONTRIBUTION}-description"] = "x" * size
        elif kind == "title":
            fields["alternative_titles"] = "x" * size
        elif kind == "rows":
            if rest == "alternative_titles":
                fields[rest] = "\n".join(_row(rest, i) for i in range(size))
            else:
                fields = {k: v for k, v in fields.items() if not k.startswith(f"{rest}-")}
                for i in range(size):
                    fields.update({f"{rest}-{i}-{k}": v for k, v in _row(rest, i).items()})
        return fields

    def stored(self, reg: Registration) -> int:
        """The size of what ``reg`` holds for this limit."""
        kind, _, rest = self.name.partition(":")
        if kind == "text":
            return len(getattr(reg, rest))
        if kind == "row":
            group, _index, field = rest.split(".")
            return len(getattr(getattr(reg, group)[0], field))
        if kind == "contribution":
            return len(reg.contributions[0].description)
        if kind == "title":
            return len(reg.alternative_titles[0].title)
        return len(getattr(reg, rest))


def _row(group: str, i: int) -> Any:
    """The i-th distinct row of a list, complete enough to be filed."""
    if group == "alternative_titles":
        return f"Title {i}"
    first = BASE[group][0]
    if group == "authors":
        return {**first, "name": f"Ana Costa {i}"}
    return {**first, next(iter(first)): f"{first[next(iter(first))]} {i}"}


def limits() -> list[Limit]:
    out = []
    for name in DeclarationCreate.model_fields:
        most = max_length(DeclarationCreate, name)
        if most is None or name in ROW_MODELS or name in {"alternative_titles", "contributions"}:
            continue
        out.append(Limit(f"text:{name}", most, name, name))
    for group, model in ROW_MODELS.items():
        for name in model.model_fields:
            most = max_length(model, name)
            if most is not None:
                key = f"{group}.0.{name}"
                out.append(Limit(f"row:{key}", most, key, f"{group}-0-{name}"))
    out.append(
        Limit(
            "contribution:description",
            max_length(ContributionCreate, "description"),  # type: ignore[arg-type]
            "contributions.0",
            f"contributions-{CONTRIBUTION}-description",
        )
    )
    out.append(
        Limit(
            "title:alternative_titles",
            item_max_length(DeclarationCreate, "alternative_titles"),  # type: ignore[arg-type]
            "alternative_titles.0",
            "alternative_titles",
        )
    )
    for group in ("alternative_titles", *ROW_MODELS):
        most = max_length(DeclarationCreate, group)
        form_error = "alternative_titles" if group == "alternative_titles" else ""
        out.append(Limit(f"rows:{group}", most, group, form_error))  # type: ignore[arg-type]
    return out


LIMITS = limits()


def test_every_stated_limit_is_a_case():
    """The cases follow the models: each text field with a length, each list with a maximum."""
    names = {limit.name for limit in LIMITS}
    assert "title:alternative_titles" in names and "text:title" in names
    assert {"row:authors.0.name", "row:ai_tools.0.usage", "row:sources.0.origin"} <= names
    assert {"rows:authors", "rows:ai_tools", "rows:sources", "rows:alternative_titles"} <= names
    assert len(LIMITS) >= 25


@pytest.fixture
def token(session):
    _row, value = tokens.create(session=session, user=make_user(session), name="limits")
    return value


def _api(client, token, body):
    return client.post(
        "/api/v1/registrations",
        json={"declaration": body, "deposit": {"text": TEXT}},
        headers={"Authorization": f"Bearer {token}"},
    )


def _stored(session) -> Registration:
    session.expire_all()
    return session.exec(select(Registration).order_by(Registration.id.desc())).first()


@pytest.mark.parametrize("limit", LIMITS, ids=lambda limit: limit.name)
def test_the_form_and_the_api_keep_the_same_limit(client, auth, session, store, token, limit):
    # the API: at the limit, filed and stored whole; one past it, a field error and nothing
    response = _api(client, token, limit.api(limit.most))
    assert response.status_code == 201, (limit, response.get_data(as_text=True)[:500])
    assert limit.stored(_stored(session)) == limit.most
    files = stored_files(store)
    before = count(session, Registration)
    response = _api(client, token, limit.api(limit.most + 1))
    assert response.status_code == 422, (limit, response.get_data(as_text=True)[:500])
    error = response.get_json()["error"]
    assert error["code"] == "invalid_filing" and limit.api_error in error["fields"], error
    assert count(session, Registration) == before and stored_files(store) == files

    # the web form: the same
    auth.login()
    response = _post(client, limit.form(limit.most))
    assert response.status_code == 302, (limit, _errors(response))
    assert limit.stored(_stored(session)) == limit.most
    before = count(session, Registration)
    response = _post(client, limit.form(limit.most + 1))
    html = response.get_data(as_text=True)
    assert response.status_code == 422, limit
    if limit.form_error:
        assert f'id="{limit.form_error}-errors"' in html, (limit, _errors(response))
        beside = html.split(f'id="{limit.form_error}-errors"', 1)[1][:600]
        assert "cannot be longer than" in beside or "at most" in beside, (limit, beside)
    else:  # too many rows: said beside the last row the form takes
        assert "A filing lists at most" in html, limit
    assert count(session, Registration) == before and stored_files(store) == files


def test_a_400_character_other_title_is_a_field_error_everywhere(client, auth, session, token):
    """The issue's case: it used to be saved on SQLite and a 500 on PostgreSQL."""
    body = {**BASE, "alternative_titles": ["Harbour", "x" * 400]}
    response = _api(client, token, body)
    assert response.status_code == 422
    [message] = response.get_json()["error"]["fields"]["alternative_titles.1"]
    assert message == "Field cannot be longer than 300 characters (this has 400)."
    auth.login()
    fields = form_fields(DeclarationCreate.model_validate(BASE).to_domain())
    fields["alternative_titles"] = "Harbour\n" + "x" * 400
    response = _post(client, fields)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    beside = html.split('id="alternative_titles-errors"', 1)[1][:600]
    assert "Line 2 cannot be longer than 300 characters (this has 400)." in beside
    assert count(session, Registration) == 0


def _post(client, fields: dict):  # type: ignore[no-untyped-def]
    from tests.conftest import csrf_token

    data = {**fields, "action": "submit", "csrf_token": csrf_token(client)}
    data["deposit_text"] = TEXT
    return client.post("/filings/new", data=data, content_type="multipart/form-data")


def _errors(response) -> str:  # type: ignore[no-untyped-def]
    html = response.get_data(as_text=True)
    return " | ".join(part[:200] for part in html.split('class="field-errors"')[1:])
