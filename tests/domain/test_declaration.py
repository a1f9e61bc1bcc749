from dataclasses import replace
from datetime import date

import pytest

from registry.domain.declaration import (
    AiTool,
    Author,
    Contribution,
    InputSource,
    draft_problems,
    names_an_ai,
    submission_problems,
)
from registry.domain.vocabulary import DepositKind
from tests.factories import declaration

TODAY = date(2026, 11, 24)


def fields(problems):
    return {p.field for p in problems}


@pytest.mark.parametrize(
    "name",
    [
        "ChatGPT",
        "chat gpt-4o",
        "GPT-4",
        "OpenAI",
        "Midjourney v6",
        "Stable Diffusion XL",
        "DALL·E 3",
        "Claude",
        "Claude 3.5 Sonnet",
        "Gemini Pro",
        "Copilot",
        "AI",
        "A.I.",
        "Artificial Intelligence",
        "文心一言",
        "通义千问",
        "豆包",
        "人工智能",
        "Kimi",
        "DeepSeek",
        "Adobe Firefly",
        "ＣｈａｔＧＰＴ",
    ],
)
def test_ai_names_are_refused_as_authors(name):
    assert names_an_ai(name)


@pytest.mark.parametrize(
    "name",
    [
        "Claude Monet",
        "Ana Costa",
        "Gemini Ruiz",
        "Kimi Räikkönen",
        "李白",
        "Aidan Smith",
        "Mai Nguyen",
        "Grokowski",
        "Piotr Nowak",
        "Sora Tanaka",
        "Bard Johansen",
    ],
)
def test_people_are_not_refused(name):
    assert not names_an_ai(name)


def test_a_tool_declared_in_the_filing_cannot_be_an_author():
    tools = (AiTool(name="Painter Pal", provider="Pal Labs"),)
    assert names_an_ai("Painter Pal", tools)
    assert names_an_ai("pal labs", tools)
    assert not names_an_ai("Ana Costa", tools)


def test_a_complete_declaration_has_no_problems():
    assert submission_problems(declaration(), deposit_kind=DepositKind.IMAGE, today=TODAY) == []


# Each row: a change to the complete declaration, and the field that must then be reported.
RULES = [
    ({"title": ""}, "title"),
    ({"work_category": None}, "work_category"),
    ({"work_category": "sculpture"}, "work_category"),
    ({"completion_date": None}, "completion_date"),
    ({"completion_date": date(2027, 1, 1)}, "completion_date"),
    ({"publication_status": None}, "publication_status"),
    ({"publication_date": None}, "publication_date"),
    ({"publication_date": date(2027, 1, 1)}, "publication_date"),
    ({"publication_date": date(2026, 1, 1)}, "publication_date"),  # before completion
    ({"publication_nation": ""}, "publication_nation"),
    ({"authors": ()}, "authors"),
    ({"authors": (Author("", "real_name", "", "", "Text"),)}, "authors.0.name"),
    ({"authors": (Author("Midjourney", "real_name", "", "", "Image"),)}, "authors.0.name"),
    ({"authors": (Author("Ana", None, "", "", "Text"),)}, "authors.0.signing"),
    ({"authors": (Author("Ana", "pseudonym", "", "", "Text"),)}, "authors.0.pseudonym"),
    ({"authors": (Author("Ana", "real_name", "", "", ""),)}, "authors.0.contribution"),
    ({"claimant_name": ""}, "claimant_name"),
    ({"claimant_kind": None}, "claimant_kind"),
    ({"claimant_address": ""}, "claimant_address"),
    ({"rights_obtained": None}, "rights_obtained"),
    ({"rights_obtained": "transfer"}, "transfer_statement"),
    ({"rights_held": None}, "rights_held"),
    ({"rights_held": "part"}, "rights_held_detail"),
    ({"digital_source_type": None}, "digital_source_type"),
    ({"digital_source_type": "madeByMagic"}, "digital_source_type"),
    ({"ai_tools": ()}, "ai_tools"),  # the source type says AI generated parts
    ({"ai_tools": (AiTool(version="6"),)}, "ai_tools.0.name"),
    ({"ai_material": ""}, "ai_material"),
    ({"contributions": ()}, "contributions"),
    ({"contributions": (Contribution("expressive_input", ""),)}, "contributions"),
    ({"contributions": (Contribution("telepathy", "x"),)}, "contributions.telepathy"),
    ({"new_material": ""}, "new_material"),
    ({"sources": (InputSource("Photo", "", ""),)}, "sources.0.licence"),
    ({"sources": (InputSource("", "", "CC BY"),)}, "sources.0.description"),
    ({"training_use": None}, "training_use"),
    ({"training_use": "constrained"}, "training_terms"),
    ({"attested": False}, "attested"),
]


@pytest.mark.parametrize(("change", "field"), RULES)
def test_submission_rules(change, field):
    problems = submission_problems(
        replace(declaration(), **change), deposit_kind=DepositKind.IMAGE, today=TODAY
    )
    assert field in fields(problems), problems
    assert all(p.message for p in problems)


def test_a_digital_capture_with_no_ai_needs_no_tools_or_excluded_material():
    decl = replace(declaration(), digital_source_type="digitalCapture", ai_tools=(), ai_material="")
    assert submission_problems(decl, deposit_kind=DepositKind.IMAGE, today=TODAY) == []


def test_deposit_rules():
    assert "deposit" in fields(submission_problems(declaration(), deposit_kind=None, today=TODAY))
    mismatch = submission_problems(declaration(), deposit_kind=DepositKind.TEXT, today=TODAY)
    assert [p.message for p in mismatch if p.field == "deposit"] == [
        "A visual art is deposited as an image, but this filing holds a text."
    ]


def test_blank_rows_are_ignored():
    decl = replace(
        declaration(),
        authors=declaration().authors + (Author(),),
        sources=(InputSource(),),
        ai_tools=declaration().ai_tools + (AiTool(),),
    )
    assert submission_problems(decl, deposit_kind=DepositKind.IMAGE, today=TODAY) == []


def test_a_draft_may_be_incomplete_but_not_wrong():
    empty = replace(
        declaration(),
        title="",
        authors=(),
        claimant_name="",
        attested=False,
        digital_source_type=None,
    )
    assert draft_problems(empty, today=TODAY) == []
    wrong = replace(
        empty, authors=(Author("ChatGPT"),), completion_date=date(2030, 1, 1), publication_date=None
    )
    assert fields(draft_problems(wrong, today=TODAY)) == {"authors.0.name", "completion_date"}
