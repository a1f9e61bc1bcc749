"""What a creator declares about a work, and the rules a declaration must meet.

A draft may be incomplete; a submission may not. :func:`draft_problems` returns what is wrong
even in a draft (an AI named as an author, dates in the future); :func:`submission_problems`
adds everything a complete filing needs. Both return problems keyed by a dotted field path
(``authors.0.name``) so any interface can put each message beside its field.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, fields, replace
from datetime import date
from enum import Enum

from .vocabulary import (
    ClaimantKind,
    ContributionCategory,
    DepositKind,
    DigitalSourceType,
    PublicationStatus,
    RightsHeld,
    RightsObtained,
    Signing,
    TrainingUse,
    WorkCategory,
)


@dataclass(frozen=True)
class Author:
    name: str = ""
    signing: str | None = None
    pseudonym: str = ""
    citizenship: str = ""
    contribution: str = ""

    def is_blank(self) -> bool:
        return not any((self.name, self.pseudonym, self.citizenship, self.contribution))


@dataclass(frozen=True)
class AiTool:
    name: str = ""
    version: str = ""
    provider: str = ""
    usage: str = ""

    def is_blank(self) -> bool:
        return not any((self.name, self.version, self.provider, self.usage))


@dataclass(frozen=True)
class Contribution:
    category: str
    description: str = ""


@dataclass(frozen=True)
class InputSource:
    description: str = ""
    origin: str = ""
    licence: str = ""

    def is_blank(self) -> bool:
        return not any((self.description, self.origin, self.licence))


@dataclass(frozen=True)
class Declaration:
    """Everything a creator states about a work, apart from the deposit itself."""

    title: str = ""
    alternative_titles: tuple[str, ...] = ()
    work_category: str | None = None
    completion_date: date | None = None
    publication_status: str | None = None
    publication_date: date | None = None
    publication_nation: str = ""
    authors: tuple[Author, ...] = ()
    claimant_name: str = ""
    claimant_kind: str | None = None
    claimant_address: str = ""
    rights_obtained: str | None = None
    transfer_statement: str = ""
    rights_held: str | None = None
    rights_held_detail: str = ""
    digital_source_type: str | None = None
    ai_tools: tuple[AiTool, ...] = ()
    ai_material: str = ""
    contributions: tuple[Contribution, ...] = ()
    new_material: str = ""
    sources: tuple[InputSource, ...] = ()
    training_use: str | None = None
    training_terms: str = ""
    attested: bool = False

    def without_blank_rows(self) -> Declaration:
        """The same declaration with empty author, tool, source and title rows dropped."""
        return replace(
            self,
            alternative_titles=tuple(t for t in self.alternative_titles if t.strip()),
            authors=tuple(a for a in self.authors if not a.is_blank()),
            ai_tools=tuple(t for t in self.ai_tools if not t.is_blank()),
            sources=tuple(s for s in self.sources if not s.is_blank()),
            contributions=tuple(c for c in self.contributions if c.description.strip()),
        )


# The rows (people, tools, contributions, inputs), the other titles and the attestation have a
# shape of their own; every other field of a declaration is a plain text, code or date.
_SHAPED = {"authors", "ai_tools", "contributions", "sources", "alternative_titles", "attested"}
SCALAR_FIELDS = tuple(f.name for f in fields(Declaration) if f.name not in _SHAPED)


@dataclass(frozen=True)
class Problem:
    field: str
    message: str


# --- AI tools named as authors -------------------------------------------------------------

# Names that are an AI system or its maker and nothing else: refused wherever they stand.
_UNAMBIGUOUS = {
    "chatgpt",
    "openai",
    "midjourney",
    "dall e",
    "dalle",
    "stable diffusion",
    "stablediffusion",
    "stability ai",
    "anthropic",
    "deepmind",
    "google gemini",
    "microsoft copilot",
    "github copilot",
    "adobe firefly",
    "leonardo ai",
    "ideogram",
    "novelai",
    "runwayml",
    "deepseek",
    "chatglm",
    "zhipu ai",
    "moonshot ai",
    "baichuan",
    "ernie bot",
    "tongyi",
    "qwen",
    "doubao",
    "hunyuan",
    "sensenova",
    "xai grok",
    "perplexity ai",
    "character ai",
    "文心一言",
    "文心",
    "通义千问",
    "通义",
    "豆包",
    "混元",
    "讯飞星火",
    "智谱",
    "即梦",
    "可灵",
    "人工智能",
    "生成式人工智能",
    "ai生成",
    "人工智能生成",
}
# Names that are also people's names (Claude, Kimi, Gemini): refused only as the whole name,
# optionally followed by a version ("Claude 3.5", "Gemini Pro").
_AMBIGUOUS = {
    "claude",
    "gemini",
    "bard",
    "copilot",
    "grok",
    "llama",
    "mistral",
    "kimi",
    "flux",
    "firefly",
    "sora",
    "runway",
    "leonardo",
    "ernie",
    "bing",
    "pi",
    "gpt",
    "ai",
    "artificial intelligence",
    "a i",
    "an ai",
    "the ai",
    "bot",
    "chatbot",
    "llm",
}
_VERSION_WORDS = {
    "pro",
    "ultra",
    "flash",
    "turbo",
    "mini",
    "max",
    "plus",
    "xl",
    "sdxl",
    "large",
    "small",
    "opus",
    "sonnet",
    "haiku",
    "chat",
    "instruct",
    "preview",
    "beta",
    "model",
    "v",
    "version",
}
_GPT = re.compile(r"\bgpt\s*-?\s*\d")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"[^\w\u4e00-\u9fff]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def _is_version_token(token: str) -> bool:
    return token in _VERSION_WORDS or bool(re.fullmatch(r"v?\d+(\.\d+)*[a-z]?|\d+[a-z]+", token))


def names_an_ai(name: str, declared_tools: tuple[AiTool, ...] = ()) -> bool:
    """True when ``name`` is an AI system, its maker, or a tool declared in the same filing.

    Human names that happen to contain such a word ("Claude Monet") are not refused.
    """
    folded = _fold(name)
    if not folded:
        return False
    padded = f" {folded} "
    if any(f" {word} " in padded for word in _UNAMBIGUOUS):
        return True
    if any(word in folded.replace(" ", "") for word in _UNAMBIGUOUS if not word.isascii()):
        return True
    if _GPT.search(folded):
        return True
    for word in _AMBIGUOUS:
        if folded == word:
            return True
        if folded.startswith(word + " "):
            rest = folded[len(word) + 1 :].split()
            if rest and all(_is_version_token(t) for t in rest):
                return True
    for tool in declared_tools:
        for candidate in (tool.name, tool.provider):
            c = _fold(candidate)
            if c and (folded == c or (len(c) >= 4 and f" {c} " in padded)):
                return True
    return False


# --- the rules ----------------------------------------------------------------------------


def _choice(value: str | None, allowed: type[Enum], path: str, problems: list[Problem]) -> None:
    if value is not None and value not in {m.value for m in allowed}:
        problems.append(Problem(path, "Choose one of the options offered."))


def draft_problems(decl: Declaration, *, today: date) -> list[Problem]:
    """Problems that make even a draft wrong; an empty list when there are none."""
    problems: list[Problem] = []
    for value, allowed, path in (
        (decl.work_category, WorkCategory, "work_category"),
        (decl.publication_status, PublicationStatus, "publication_status"),
        (decl.claimant_kind, ClaimantKind, "claimant_kind"),
        (decl.rights_obtained, RightsObtained, "rights_obtained"),
        (decl.rights_held, RightsHeld, "rights_held"),
        (decl.digital_source_type, DigitalSourceType, "digital_source_type"),
        (decl.training_use, TrainingUse, "training_use"),
    ):
        _choice(value, allowed, path, problems)
    if decl.completion_date and decl.completion_date > today:
        problems.append(Problem("completion_date", "The completion date cannot be in the future."))
    if decl.publication_date and decl.publication_date > today:
        problems.append(
            Problem("publication_date", "The publication date cannot be in the future.")
        )
    if (
        decl.publication_date
        and decl.completion_date
        and decl.publication_date < decl.completion_date
    ):
        problems.append(
            Problem(
                "publication_date",
                "A work cannot be published before it was completed: check both dates.",
            )
        )
    for i, author in enumerate(decl.authors):
        _choice(author.signing, Signing, f"authors.{i}.signing", problems)
        if names_an_ai(author.name, decl.ai_tools):
            problems.append(
                Problem(
                    f"authors.{i}.name",
                    f"“{author.name.strip()}” is an AI system or its maker. Only people can be "
                    "authors: list the tool under “AI tools used” and describe what it "
                    "generated instead.",
                )
            )
    if decl.claimant_kind == ClaimantKind.NATURAL and names_an_ai(decl.claimant_name):
        problems.append(
            Problem("claimant_name", "An AI system cannot hold rights: name a person or company.")
        )
    for c in decl.contributions:
        _choice(c.category, ContributionCategory, f"contributions.{c.category}", problems)
    return problems


def submission_problems(
    decl: Declaration, *, deposit_kind: DepositKind | None, today: date
) -> list[Problem]:
    """Everything that stops ``decl`` (with a deposit of ``deposit_kind``) from being filed.

    Returns an empty list when the filing is complete and consistent.
    """
    decl = decl.without_blank_rows()
    problems = draft_problems(decl, today=today)

    def need(value: object, path: str, message: str) -> None:
        if value is None or (isinstance(value, str) and not value.strip()):
            problems.append(Problem(path, message))

    need(decl.title, "title", "Give the work's title.")
    need(decl.work_category, "work_category", "Choose what kind of work this is.")
    need(decl.completion_date, "completion_date", "Give the date the work was completed.")
    need(decl.publication_status, "publication_status", "Say whether the work is published.")
    if decl.publication_status == PublicationStatus.PUBLISHED:
        need(decl.publication_date, "publication_date", "Give the date of first publication.")
        need(
            decl.publication_nation,
            "publication_nation",
            "Give the country where the work was first published.",
        )

    if not decl.authors:
        problems.append(Problem("authors", "Name at least one author (a person)."))
    for i, author in enumerate(decl.authors):
        need(author.name, f"authors.{i}.name", "Give the author's name.")
        need(author.signing, f"authors.{i}.signing", "Say how the author is named on the work.")
        if author.signing == Signing.PSEUDONYM:
            need(author.pseudonym, f"authors.{i}.pseudonym", "Give the pseudonym.")
        need(
            author.contribution,
            f"authors.{i}.contribution",
            "Say what this author created (for example “text”, “photograph”, “selection and "
            "arrangement of images”).",
        )

    need(decl.claimant_name, "claimant_name", "Name who holds the copyright (the claimant).")
    need(
        decl.claimant_kind,
        "claimant_kind",
        "Say whether the claimant is a person or an organisation.",
    )
    need(decl.claimant_address, "claimant_address", "Give the claimant's address (kept private).")
    need(decl.rights_obtained, "rights_obtained", "Say how the claimant obtained the rights.")
    if decl.rights_obtained and decl.rights_obtained != RightsObtained.ORIGINAL:
        need(
            decl.transfer_statement,
            "transfer_statement",
            "Describe how the rights passed to the claimant (for example “by written agreement”).",
        )
    need(decl.rights_held, "rights_held", "Say whether the claimant holds all rights or some.")
    if decl.rights_held == RightsHeld.PART:
        need(decl.rights_held_detail, "rights_held_detail", "Say which rights the claimant holds.")

    need(
        decl.digital_source_type,
        "digital_source_type",
        "Say how the work was made (its digital source type).",
    )
    source_type = (
        DigitalSourceType(decl.digital_source_type)
        if decl.digital_source_type in {m.value for m in DigitalSourceType}
        else None
    )
    if source_type is not None and source_type.involves_generative_ai and not decl.ai_tools:
        problems.append(
            Problem(
                "ai_tools",
                "You said the work includes AI-generated material: list the AI tools used.",
            )
        )
    for i, tool in enumerate(decl.ai_tools):
        need(tool.name, f"ai_tools.{i}.name", "Give the tool's name.")
    if decl.ai_tools or (source_type is not None and source_type.involves_generative_ai):
        need(
            decl.ai_material,
            "ai_material",
            "Describe what the AI generated (this material is excluded from the claim), or say "
            "that none of its output appears in the work.",
        )
    if not decl.contributions:
        problems.append(
            Problem(
                "contributions",
                "Describe at least one human contribution: copyright protects only what "
                "people made.",
            )
        )
    need(
        decl.new_material,
        "new_material",
        "Say what new material you claim (for example “text”, “photograph”, “selection and "
        "arrangement”).",
    )
    for i, source in enumerate(decl.sources):
        need(source.description, f"sources.{i}.description", "Describe the input material.")
        need(
            source.licence,
            f"sources.{i}.licence",
            "Give the licence or permission under which you used it (“own work” is fine).",
        )
    need(decl.training_use, "training_use", "Say whether the work may be used to train AI.")
    if decl.training_use == TrainingUse.CONSTRAINED:
        need(decl.training_terms, "training_terms", "Give the conditions for AI training.")

    if deposit_kind is None:
        problems.append(Problem("deposit", "Attach the work itself: an image file or the text."))
    elif decl.work_category in {m.value for m in WorkCategory}:
        expected = WorkCategory(decl.work_category).deposit_kind
        if deposit_kind != expected:
            problems.append(
                Problem(
                    "deposit",
                    f"A {WorkCategory(decl.work_category).label.split(' (')[0].lower()} is "
                    f"deposited as {expected.with_article}, but this filing holds "
                    f"{deposit_kind.with_article}.",
                )
            )
    if not decl.attested:
        problems.append(Problem("attested", "Confirm that the statements in this filing are true."))
    return problems


def expected_deposit_kind(work_category: str | None) -> DepositKind | None:
    """The deposit kind a category takes; None when the category is missing or unknown."""
    if work_category in {m.value for m in WorkCategory}:
        return WorkCategory(work_category).deposit_kind
    return None


__all__ = [
    "AiTool",
    "Author",
    "Contribution",
    "Declaration",
    "InputSource",
    "Problem",
    "draft_problems",
    "expected_deposit_kind",
    "names_an_ai",
    "submission_problems",
]
