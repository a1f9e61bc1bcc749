"""The declaration's tables take their columns from the schema: a text's width is the limit the
form and the API check, and every code of a choice fits its column."""

from __future__ import annotations

import pytest
from sqlalchemy import String, Text

from registry import models
from registry.schemas import (
    AiToolBase,
    AlternativeTitleBase,
    AuthorBase,
    DeclarationBase,
    DeclarationCreate,
    HumanContributionBase,
    InputSourceBase,
    max_length,
    vocabulary,
)

TABLES = [
    (models.Registration, DeclarationBase),
    (models.AlternativeTitle, AlternativeTitleBase),
    (models.Author, AuthorBase),
    (models.AiTool, AiToolBase),
    (models.HumanContribution, HumanContributionBase),
    (models.InputSource, InputSourceBase),
]


@pytest.mark.parametrize(("table", "base"), TABLES, ids=lambda t: t.__name__)
def test_columns_come_from_the_schema(table, base):
    for name in base.model_fields:
        column = table.__table__.c[name]
        codes = vocabulary(base, name)
        if codes is not None:
            assert isinstance(column.type, String) and not isinstance(column.type, Text)
            assert max(len(c.value) for c in codes) <= column.type.length, name
        elif isinstance(column.type, Text):
            assert max_length(base, name) is not None, name  # long, but still limited
        elif isinstance(column.type, String):
            assert column.type.length == max_length(base, name), name


def test_a_declaration_in_json_becomes_the_domains():
    sent = {
        "title": "  Fog  ",
        "alternative_titles": ["One\nline", "  "],
        "work_category": "",
        "completion_date": "2026-02-01",
        "publication_nation": None,
        "authors": [{"name": "Ana", "signing": "real_name"}],
        "contributions": [{"category": "arrangement", "description": "Chose."}],
        "attested": True,
    }
    decl = DeclarationCreate.model_validate(sent).to_domain()
    assert decl.title == "Fog" and decl.alternative_titles == ("One line",)
    assert decl.work_category is None and decl.publication_nation == ""
    assert decl.completion_date.isoformat() == "2026-02-01"
    assert decl.authors[0].signing == "real_name" and type(decl.authors[0].signing) is str
    assert decl.contributions[0].category == "arrangement" and decl.attested
