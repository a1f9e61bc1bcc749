"""Sentences for the limits ``registry.schemas`` states, made here at the edge from each
problem's code and values, the same for the web form and the API."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


def too_long(limit: int, size: int, what: str = "Field") -> str:
    return f"{what} cannot be longer than {limit:,} characters (this has {size:,})."


# What a list of a declaration's rows is called in a sentence.
NOUNS = {
    "alternative_titles": "other titles",
    "authors": "authors",
    "ai_tools": "AI tools",
    "contributions": "contributions",
    "sources": "sources",
}


def too_many(limit: int, size: int, noun: str = "entries") -> str:
    return f"A filing lists at most {limit} {noun}: this one has {size}."


def not_a_choice(codes: list[str]) -> str:
    return "Choose one of the options offered: " + ", ".join(codes) + "."


_SIMPLE = {
    "string_type": "Must be a string.",
    "string_unicode": "Contains characters that are not valid Unicode text (unpaired surrogates).",
    "nul": "Must not contain NUL characters.",
    "bool_type": "Must be true or false.",
    "list_type": "Must be a list.",
    "model_type": "Must be an object.",
    "model_attributes_type": "Must be an object.",
    "dict_type": "Must be an object.",
    "extra_forbidden": "Unknown field.",
    "missing": "Required.",
    "date_type": "Must be a date as text: YYYY-MM-DD.",
    "date_parsing": "Must be a date as text: YYYY-MM-DD.",
    "date_from_datetime_parsing": "Must be a date as text: YYYY-MM-DD.",
    "date_from_datetime_inexact": "Must be a date as text: YYYY-MM-DD.",
}


def message(error: Any) -> str:
    """The sentence for one pydantic error (a dict of ``ValidationError.errors()``)."""
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    if kind == "string_too_long":
        return too_long(ctx["max_length"], len(value))
    if kind == "too_long":
        noun = NOUNS.get(str(error["loc"][-1]), "entries")
        return too_many(ctx["max_length"], ctx.get("actual_length") or len(value), noun)
    if kind == "enum":
        return not_a_choice(
            [c.strip("'") for c in ctx["expected"].replace(" or ", ", ").split(", ")]
        )
    if kind in _SIMPLE:
        return _SIMPLE[kind]
    return str(error["msg"])


def field_problems(exc: ValidationError, *, collapse: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """The problems by dotted field path (``authors.0.name``); under a name in ``collapse``
    every problem of a row goes to the row itself (``contributions.0``)."""
    out: dict[str, list[str]] = {}
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        if loc and loc[0] in collapse:
            loc = loc[:2]
        out.setdefault(".".join(loc), []).append(message(error))
    return out
