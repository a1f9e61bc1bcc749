"""The web forms, and the translation between the filing form and a domain Declaration.

WTForms checks each field's shape (a real date, a length, a choice); the filing form's lengths,
choices and row maxima are read from ``registry.schemas`` (see :func:`declared`), the statement
the tables and the API use too, never written here. The rules that need several fields at once
live in ``registry.domain.declaration`` and come back as problems keyed by field path.
"""

from __future__ import annotations

import re
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    FieldList,
    Form,
    FormField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.utils import unset_value
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from ..deposits import human_size
from ..domain.declaration import (
    SCALAR_FIELDS,
    AiTool,
    Author,
    Contribution,
    Declaration,
    InputSource,
    Problem,
)
from ..domain.vocabulary import ContributionCategory, Labelled
from ..schemas import (
    AiToolCreate,
    AuthorCreate,
    ContributionCreate,
    DeclarationCreate,
    InputSourceCreate,
    item_max_length,
    max_length,
    vocabulary,
)
from . import settings
from .validation import too_long, too_many

# ---- the filing form's fields, read from the schema ------------------------------------------


class MaxChars:
    """At most ``limit`` characters (the schema's ``max_length``), said with the count."""

    def __init__(self, limit: int) -> None:
        self.max = limit
        self.field_flags = {"maxlength": limit}  # rendered as the input's maxlength, as Length

    def __call__(self, form: Any, field: Any) -> None:
        size = len(field.data or "")
        if size > self.max:
            raise ValidationError(too_long(self.max, size))


class EachLine:
    """A box of one entry per line (the other titles): at most ``most`` lines, each at most
    ``limit`` characters; the error names the line."""

    def __init__(self, limit: int, most: int, noun: str) -> None:
        self.limit, self.most, self.noun = limit, most, noun

    def __call__(self, form: Any, field: Any) -> None:
        lines = [line for line in (field.data or "").splitlines() if line.strip()]
        if len(lines) > self.most:
            raise ValidationError(too_many(self.most, len(lines), self.noun))
        for number, line in enumerate(lines, 1):
            if len(line.strip()) > self.limit:
                raise ValidationError(too_long(self.limit, len(line.strip()), f"Line {number}"))


def declared(model: type, name: str) -> list[Any]:
    """The validators of a text field: optional, and at most the schema's ``max_length``."""
    limit = max_length(model, name)
    return [Optional()] + ([MaxChars(limit)] if limit is not None else [])


def options(model: type, name: str, *, blank: bool = False) -> list[SelectChoice]:
    """The choices of a field, from the vocabulary the schema gives it."""
    codes: type[Labelled] = vocabulary(model, name)  # type: ignore[assignment]  # every choice field names a Labelled enum
    first = [SelectChoice("", "Choose…")] if blank else []
    return first + [SelectChoice(code, label) for code, label in codes.choices()]


def most(name: str) -> int:
    """How many rows the schema lets a declaration list under ``name``."""
    return max_length(DeclarationCreate, name)  # type: ignore[return-value]  # every list field has a max_length


class RowList(FieldList):
    """A FieldList that refuses more rows than it takes, with a message beside the last row.

    WTForms would drop the extra rows without a word (and assert when one more is added)."""

    def __init__(self, *args: Any, noun: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.noun = noun

    def _too_many(self) -> str:
        return f"A filing lists at most {self.max_entries} {self.noun}."

    def _mark_last(self, message: str, *, process: bool) -> None:
        if not self.entries:
            return
        first = next(iter(self.entries[-1].form))  # the last row's first field
        if process:
            first.process_errors.append(message)
        else:
            first.errors = [*first.errors, message]

    def process(self, formdata, data=unset_value, extra_filters=None) -> None:
        super().process(formdata, data, extra_filters)
        if formdata and self.max_entries:
            sent = len(set(self._extract_indices(self.name, formdata)))
            if sent > self.max_entries:
                self._mark_last(
                    f"{self._too_many()} This one had {sent}: remove the extra ones.", process=True
                )

    def append_entry(self, data=None) -> Any:
        if self.max_entries and len(self.entries) >= self.max_entries:
            self._mark_last(self._too_many(), process=False)
            return None
        return super().append_entry(data)


class OneFileField(FileField):
    """The deposit: one file. Several file parts under its name are refused rather than all but
    the first silently dropped."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        files = [v for v in valuelist if isinstance(v, FileStorage) and v]
        super().process_formdata(valuelist)
        if len(files) > 1:
            raise ValueError(f"Attach one file: {len(files)} were sent.")


def _pasted_text(form: Any, field: Any) -> None:
    """Pasted text: its size, said here beside the box (the filing service checks it too, and
    its content, for the form and the API alike)."""
    text = field.data or ""
    limit = settings().max_text_bytes
    size = len(text.replace("\r\n", "\n").encode("utf-8", "surrogatepass"))
    if limit and size > limit:
        raise ValidationError(
            f"The pasted text is {size:,} bytes; the limit for texts is {human_size(limit)} "
            f"({limit:,} bytes)."
        )


_SURROGATE = re.compile("[\ud800-\udfff]")
_NOT_UNICODE = "Contains characters that are not valid Unicode text (unpaired surrogates)."


def _leaves(form: Any) -> Any:
    for f in form:
        if isinstance(f, FieldList):
            for entry in f.entries:
                yield from _leaves(entry.form) if isinstance(entry, FormField) else [entry]
        elif isinstance(f, FormField):
            yield from _leaves(f.form)
        else:
            yield f


class SignUpForm(FlaskForm):
    display_name = StringField("Your name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("Email address", validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        "Password",
        validators=[
            DataRequired(),
            Length(min=10, max=256, message="Use at least 10 characters (and at most 256)."),
        ],
        description="At least 10 characters. A few unrelated words make a strong password.",
    )
    confirm = PasswordField(
        "Repeat the password",
        validators=[DataRequired(), EqualTo("password", message="The two passwords differ.")],
    )


class SignInForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])
    remember = BooleanField("Keep me signed in on this device")


class SignOutForm(FlaskForm):
    """Only carries the CSRF token: signing out is a POST."""


class TokenForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[DataRequired(), Length(max=100)],
        description="What will use it, for example “Studio batch uploader”.",
    )


class AuthorForm(Form):
    name = StringField("Full name", validators=declared(AuthorCreate, "name"))
    signing = SelectField(
        "Named on the work",
        choices=options(AuthorCreate, "signing", blank=True),
        validators=[Optional()],
    )
    pseudonym = StringField("Pseudonym", validators=declared(AuthorCreate, "pseudonym"))
    citizenship = StringField(
        "Citizenship or domicile", validators=declared(AuthorCreate, "citizenship")
    )
    contribution = StringField(
        "What this author created",
        validators=declared(AuthorCreate, "contribution"),
        description="For example: text; photograph; selection and arrangement of images.",
    )


class ToolForm(Form):
    name = StringField("Tool", validators=declared(AiToolCreate, "name"))
    version = StringField("Version", validators=declared(AiToolCreate, "version"))
    provider = StringField("Provider", validators=declared(AiToolCreate, "provider"))
    usage = StringField("What you used it for", validators=declared(AiToolCreate, "usage"))


class SourceForm(Form):
    description = StringField(
        "Input material", validators=declared(InputSourceCreate, "description")
    )
    origin = StringField("Where it came from", validators=declared(InputSourceCreate, "origin"))
    licence = StringField(
        "Licence or permission", validators=declared(InputSourceCreate, "licence")
    )


class ContributionForm(Form):
    selected = BooleanField()
    description = TextAreaField(validators=declared(ContributionCreate, "description"))


class ContributionsForm(Form):
    expressive_input = FormField(ContributionForm)
    arrangement = FormField(ContributionForm)
    modification = FormField(ContributionForm)
    prompting = FormField(ContributionForm)


class FilingForm(FlaskForm):
    # The work
    title = StringField("Title", validators=declared(DeclarationCreate, "title"))
    alternative_titles = TextAreaField(
        "Other titles",
        validators=[
            Optional(),
            EachLine(
                item_max_length(DeclarationCreate, "alternative_titles"),  # type: ignore[arg-type]  # each other title has a max_length
                most("alternative_titles"),
                "other titles",
            ),
        ],
        description="Earlier, translated or series titles, one per line.",
    )
    work_category = SelectField(
        "Kind of work",
        choices=options(DeclarationCreate, "work_category", blank=True),
        validators=[Optional()],
    )
    completion_date = DateField("Date completed", validators=[Optional()])
    publication_status = RadioField(
        "Publication",
        choices=options(DeclarationCreate, "publication_status"),
        validators=[Optional()],
    )
    publication_date = DateField("Date of first publication", validators=[Optional()])
    publication_nation = StringField(
        "Country of first publication",
        validators=declared(DeclarationCreate, "publication_nation"),
    )
    # Authors and rights
    authors = RowList(
        FormField(AuthorForm), min_entries=1, max_entries=most("authors"), noun="authors"
    )
    claimant_name = StringField(
        "Claimant (who holds the copyright)",
        validators=declared(DeclarationCreate, "claimant_name"),
    )
    claimant_kind = RadioField(
        "The claimant is",
        choices=options(DeclarationCreate, "claimant_kind"),
        validators=[Optional()],
    )
    claimant_address = TextAreaField(
        "Claimant's address",
        validators=declared(DeclarationCreate, "claimant_address"),
        description="Kept private: never shown on the public record.",
    )
    rights_obtained = SelectField(
        "How the claimant obtained the rights",
        choices=options(DeclarationCreate, "rights_obtained", blank=True),
        validators=[Optional()],
    )
    transfer_statement = TextAreaField(
        "How the rights passed to the claimant",
        validators=declared(DeclarationCreate, "transfer_statement"),
    )
    rights_held = RadioField(
        "Rights held", choices=options(DeclarationCreate, "rights_held"), validators=[Optional()]
    )
    rights_held_detail = TextAreaField(
        "Which rights", validators=declared(DeclarationCreate, "rights_held_detail")
    )
    # AI disclosure
    digital_source_type = RadioField(
        "How the work was made",
        choices=options(DeclarationCreate, "digital_source_type"),
        validators=[Optional()],
    )
    ai_tools = RowList(
        FormField(ToolForm), min_entries=1, max_entries=most("ai_tools"), noun="AI tools"
    )
    ai_material = TextAreaField(
        "What the AI generated (excluded from the claim)",
        validators=declared(DeclarationCreate, "ai_material"),
        description="Describe the AI-generated material in the work, for example “background "
        "imagery”, “first draft of chapters 2–4”. Leave empty if you used no AI.",
    )
    contributions = FormField(ContributionsForm)
    new_material = TextAreaField(
        "New material claimed",
        validators=declared(DeclarationCreate, "new_material"),
        description="What the claim covers, in a few words: for example “text”, “photograph”, "
        "“selection, coordination and arrangement of AI-generated images”.",
    )
    # Data provenance
    sources = RowList(
        FormField(SourceForm), min_entries=1, max_entries=most("sources"), noun="sources"
    )
    training_use = RadioField(
        "May the work be used to train AI models?",
        choices=options(DeclarationCreate, "training_use"),
        validators=[Optional()],
    )
    training_terms = TextAreaField(
        "Conditions", validators=declared(DeclarationCreate, "training_terms")
    )
    # The deposit
    deposit_file = OneFileField("Upload the work")
    deposit_text = TextAreaField("Or paste the text", validators=[_pasted_text])
    attested = BooleanField(
        "I confirm that the statements in this filing are true and complete to the best of my "
        "knowledge, and that I am the claimant or authorised to act for the claimant."
    )

    def validate(self, extra_validators=None) -> bool:
        # Unpaired surrogates reach a form only through the JSON API (a browser's form data is
        # decoded with replacement); no database can store them.
        for f in _leaves(self):
            if isinstance(f.data, str) and _SURROGATE.search(f.data):
                f.process_errors.append(_NOT_UNICODE)
        return super().validate(extra_validators)


def _s(value: Any) -> str:
    """A text field as stored: trimmed, and without NUL characters (which no database keeps)."""
    return (value or "").replace("\x00", "").strip() if isinstance(value, str) else ""


def _choice(value: Any) -> str | None:
    return value or None


def _scalar(form: FilingForm, name: str) -> Any:
    """A plain field of the form as the declaration holds it: a code or None, a date or None,
    a trimmed text (which the schema says)."""
    data = getattr(form, name).data
    if vocabulary(DeclarationCreate, name) is not None:
        return _choice(data)
    if DeclarationCreate.model_fields[name].default == "":
        return _s(data)
    return data  # a date, or None


def to_declaration(form: FilingForm) -> Declaration:
    """The Declaration the filled-in form states."""
    contributions = []
    for category in ContributionCategory:
        sub = form.contributions.form[category.value].form
        if sub.selected.data or _s(sub.description.data):
            contributions.append(Contribution(category.value, _s(sub.description.data)))
    return Declaration(
        **{name: _scalar(form, name) for name in SCALAR_FIELDS},
        alternative_titles=tuple(
            _s(line) for line in (form.alternative_titles.data or "").splitlines() if _s(line)
        ),
        authors=tuple(
            Author(
                name=_s(e.form.name.data),
                signing=_choice(e.form.signing.data),
                pseudonym=_s(e.form.pseudonym.data),
                citizenship=_s(e.form.citizenship.data),
                contribution=_s(e.form.contribution.data),
            )
            for e in form.authors
        ),
        ai_tools=tuple(
            AiTool(
                name=_s(e.form.name.data),
                version=_s(e.form.version.data),
                provider=_s(e.form.provider.data),
                usage=_s(e.form.usage.data),
            )
            for e in form.ai_tools
        ),
        contributions=tuple(contributions),
        sources=tuple(
            InputSource(
                description=_s(e.form.description.data),
                origin=_s(e.form.origin.data),
                licence=_s(e.form.licence.data),
            )
            for e in form.sources
        ),
        attested=bool(form.attested.data),
    )


def form_data(decl: Declaration) -> dict[str, Any]:
    """Keyword data that fills a FilingForm with ``decl`` (for editing a draft)."""
    contributions = {c.value: {"selected": False, "description": ""} for c in ContributionCategory}
    for c in decl.contributions:
        contributions[c.category] = {"selected": True, "description": c.description}
    return {
        **{name: getattr(decl, name) for name in SCALAR_FIELDS},
        "work_category": decl.work_category or "",  # the select's "Choose…"
        "rights_obtained": decl.rights_obtained or "",
        "alternative_titles": "\n".join(decl.alternative_titles),
        "authors": [a.__dict__ for a in decl.authors] or [{}],
        "ai_tools": [t.__dict__ for t in decl.ai_tools] or [{}],
        "contributions": contributions,
        "sources": [s.__dict__ for s in decl.sources] or [{}],
        "attested": decl.attested,
    }


def problem_map(problems: list[Problem]) -> dict[str, list[str]]:
    """Problems keyed by the id of the form element they belong to (``authors-0-name``).

    Contribution problems go to the category's description box; an empty path goes under ``""``
    (the top of the form).
    """
    out: dict[str, list[str]] = {}
    for p in problems:
        key = p.field.replace(".", "-")
        if p.field.startswith("contributions."):
            key = f"{key}-description"
        out.setdefault(key, []).append(p.message)
    return out


__all__ = [
    "FilingForm",
    "SignInForm",
    "SignOutForm",
    "SignUpForm",
    "TokenForm",
    "form_data",
    "problem_map",
    "to_declaration",
]
