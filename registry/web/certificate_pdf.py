"""The printable PDF of a registration certificate, with the certificate's JSON attached.

Titles and names come in any script, so the PDF uses the first Unicode font it finds (the
``REGISTRY_PDF_FONT`` setting, then the usual places of DejaVu, Noto and Liberation fonts), with
CJK fonts as fallbacks for what the main font lacks. With no usable font it falls back to the
PDF core Helvetica, replaces what Helvetica cannot show and says so on the page: the exact text
is always in the attached certificate.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF, XPos, YPos
from fpdf.enums import WrapMode
from fpdf.errors import FPDFException

from ..domain.certificate import AS_OF, PROVED_BY_LOG, STATED_BY_REGISTRY, logged_entries
from ..domain.statuses import Status
from .templating import logged_time

# (regular, bold) pairs: the first whose regular file loads is the main font.
FONT_CANDIDATES: list[tuple[str, str]] = [
    (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    ),
    (
        "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
        "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf",
    ),
    (
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",  # Fedora, Alpine
        "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
    ),
    (
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    ),
    ("/Library/Fonts/Arial Unicode.ttf", ""),
    ("C:/Windows/Fonts/arial.ttf", "C:/Windows/Fonts/arialbd.ttf"),
]
# Fonts for the characters the main font lacks (Chinese, Japanese, Korean above all).
FALLBACK_CANDIDATES: list[str] = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/noto/NotoNaskhArabic-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf",
    "C:/Windows/Fonts/msyh.ttc",
]
_PLAIN = str.maketrans(
    {"“": '"', "”": '"', "‘": "'", "’": "'", "—": "-", "–": "-", "…": "...", "→": "->"}
)
MONO = "Courier"  # hashes, leaves and signatures are ASCII: the core font shows them all


@dataclass
class _Fonts:
    family: str = "Helvetica"
    path: str | None = None
    covered: set[int] | None = None  # None: the core font, Latin-1 only
    replaced: bool = False
    unshaped: bool = False
    fallbacks: list[str] = field(default_factory=list)

    def text(self, value: str) -> str:
        """``value`` with what no loaded font can show replaced by "?" (and noted)."""
        if self.covered is None:
            wanted = value.translate(_PLAIN)
            safe = wanted.encode("latin-1", "replace").decode("latin-1")
        else:
            wanted = value
            safe = "".join(c if ord(c) in self.covered or c in "\n\t" else "?" for c in value)
        if safe != wanted:
            self.replaced = True
        if not self.unshaped and any(unicodedata.bidirectional(c) in {"R", "AL"} for c in value):
            self.unshaped = True
        return safe


def _candidates(preferred: str | None) -> Iterable[tuple[str, str]]:
    if preferred:
        yield preferred, ""
    yield from FONT_CANDIDATES


def _load_fonts(pdf: FPDF, preferred: str | None) -> _Fonts:
    fonts = _Fonts()
    for n, (regular, bold) in enumerate(_candidates(preferred)):
        if not Path(regular).is_file():
            continue
        family = f"main{n}"
        try:
            pdf.add_font(family, "", regular)
            pdf.add_font(family, "B", bold if bold and Path(bold).is_file() else regular)
        except (OSError, ValueError, FPDFException, RuntimeError, KeyError, AssertionError):
            continue  # not a font fpdf2 can embed (a Type 1 or bitmap font, a broken file)
        fonts.family, fonts.path = family, regular
        fonts.covered = set(pdf.fonts[family].cmap)  # type: ignore[union-attr]  # a TTFFont: add_font read a file
        break
    if fonts.covered is None:
        return fonts
    for n, path in enumerate(FALLBACK_CANDIDATES):
        if not Path(path).is_file() or path == fonts.path:
            continue
        name = f"fallback{n}"
        try:
            pdf.add_font(name, "", path)
        except (OSError, ValueError, FPDFException, RuntimeError, KeyError, AssertionError):
            continue
        fonts.fallbacks.append(name)
        fonts.covered |= set(pdf.fonts[name].cmap)  # type: ignore[union-attr]  # a TTFFont: add_font read a file
    if fonts.fallbacks:
        pdf.set_fallback_fonts(fonts.fallbacks, exact_match=False)
    return fonts


class _Page:
    """The few layout moves the certificate needs, on an A4 page."""

    LABEL = 46

    def __init__(self, pdf: FPDF, fonts: _Fonts) -> None:
        self.pdf, self.fonts = pdf, fonts

    def font(self, size: float, bold: bool = False, mono: bool = False) -> None:
        if mono:
            self.pdf.set_font(MONO, "B" if bold else "", size)
        else:
            self.pdf.set_font(self.fonts.family, "B" if bold else "", size)

    def para(self, text: str, size: float = 10, bold: bool = False, gap: float = 2) -> None:
        self.font(size, bold)
        self.pdf.multi_cell(
            0, size * 0.5, self.fonts.text(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        self.pdf.ln(gap)

    def heading(self, text: str) -> None:
        self.pdf.ln(3)
        self.para(text, 13, bold=True, gap=1)
        y = self.pdf.get_y()
        self.pdf.set_draw_color(190, 196, 190)
        self.pdf.line(self.pdf.l_margin, y, self.pdf.w - self.pdf.r_margin, y)
        self.pdf.ln(2)

    def fact(self, label: str, value: str, mono: bool = False, size: float = 10) -> None:
        pdf = self.pdf
        if pdf.will_page_break(8):
            pdf.add_page()
        y = pdf.get_y()
        self.font(9, bold=True)
        pdf.set_text_color(90, 100, 107)
        pdf.multi_cell(
            self.LABEL - 2, 5, self.fonts.text(label), align="L", new_x=XPos.RIGHT, new_y=YPos.TOP
        )
        pdf.set_text_color(29, 35, 39)
        pdf.set_xy(pdf.l_margin + self.LABEL, y)
        self.font(size - 1 if mono else size, mono=mono)
        text = _ascii(value) if mono else self.fonts.text(value)
        pdf.multi_cell(
            0,
            5,
            text,
            align="L",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
            wrapmode=WrapMode.CHAR if mono else WrapMode.WORD,
        )
        pdf.ln(1.2)

    def code(self, text: str, size: float = 7.5) -> None:
        self.font(size, mono=True)
        self.pdf.multi_cell(
            0,
            size * 0.48,
            text,
            align="L",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
            wrapmode=WrapMode.CHAR,
        )
        self.pdf.ln(1)


def _ascii(value: str) -> str:
    return value.encode("ascii", "replace").decode("ascii")


def render(cert: dict, attachment: bytes, *, font: str | None = None) -> bytes:
    """The PDF of the (well-formed) certificate ``cert``, with ``attachment`` (its JSON) embedded
    as ``<number>-certificate.json``. ``font`` is a TTF/OTF file to try before the usual places.
    """
    reg, log, head = cert["registration"], cert["log"], cert["tree_head"]
    number = reg["number"]
    pdf = FPDF(format="A4")
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, margin=16)
    fonts = _load_fonts(pdf, font)
    try:  # right-to-left scripts need shaping, which fpdf2 does with uharfbuzz when installed
        pdf.set_text_shaping(True)
    except FPDFException:
        shaped = False
    else:
        shaped = True
    pdf.set_title(f"Certificate of registration {number}")
    pdf.set_author("AIR - Registry of AI-assisted works")
    pdf.set_creator("AIR")
    pdf.add_page()
    page = _Page(pdf, fonts)
    det = reg["determination"]

    pdf.set_text_color(90, 100, 107)
    page.para("AIR - REGISTRY OF AI-ASSISTED WORKS", 8.5, bold=True, gap=1)
    pdf.set_text_color(29, 35, 39)
    page.para("Certificate of registration", 22, bold=True, gap=1)
    page.font(15, bold=True, mono=True)
    pdf.cell(0, 9, _ascii(number), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)

    status = Status.label_of(reg["status"])
    page.fact("Title", reg["title"] or "Untitled", size=12)
    page.fact("Claimant", reg["claimant_name"])
    page.fact("Kind of work", reg.get("work_category_label") or reg.get("work_category") or "")
    page.fact("Status", status)
    page.fact("Filed", logged_time(reg["filed_at"]))
    page.fact("Determined", logged_time(det["at"]))
    if det["limitation"]:
        page.fact("Limitation of claim", f"Excluded from the claim: {det['limitation']}")
    if reg.get("supplements"):
        page.fact("Supplements", reg["supplements"])
    page.fact("Deposit (SHA-256)", reg["deposit"]["sha256"], mono=True)
    if reg["deposit"].get("media_type"):
        page.fact("Media type", reg["deposit"]["media_type"])

    page.heading("Transparency log")
    page.fact("Log key id", log.get("key_id", ""), mono=True)
    page.fact("Algorithm", log.get("algorithm", ""))
    signed = logged_time(head["time"])
    page.fact("Signed tree head", f"{head['tree_size']} entries, signed {signed}")
    page.fact("Root hash", head["root_hash"], mono=True)
    page.fact("Signature", head["signature"], mono=True)
    for entry, leaf in logged_entries(cert):
        what = f"{leaf['event'].replace('_', ' ')}, {logged_time(leaf['time'])}" if leaf else ""
        page.fact(f"Log entry {entry['index']}", what)
        page.code("leaf: " + _ascii(entry["leaf"]))
        proof = entry["inclusion_proof"]
        page.code("inclusion proof: " + (", ".join(proof) if proof else "(empty: the only leaf)"))

    page.heading("What this certificate proves, and how to check it")
    page.para(PROVED_BY_LOG, 9.5)
    page.para(STATED_BY_REGISTRY, 9.5)
    page.para(AS_OF, 9.5)
    where = log.get("published_key") or "/log/key.pem on the registry"
    page.para(
        f"To verify it yourself, offline: save the attached file {number}-certificate.json (your "
        "PDF reader lists it among the attachments), download the log's public key from "
        f"{where}, and run: python -m registry.verify {number}-certificate.json [the "
        "registered file] --key key.pem. Compare the key id above with the one the registry "
        "publishes. Or upload the certificate on the registry's Verify a certificate page, "
        "which also checks this tree head against today's log.",
        9.5,
    )
    page.para(f"Issued {logged_time(cert.get('issued_at', ''))}.", 9)
    if fonts.replaced or (fonts.unshaped and not shaped):
        pdf.set_text_color(155, 44, 44)
        page.para(
            "Some characters of the title, the claimant or the limitation cannot be shown "
            "exactly in this PDF (they appear as '?', or letter by letter without joining): the "
            f"exact text is in the attached certificate, {number}-certificate.json.",
            9,
            bold=True,
        )
        pdf.set_text_color(29, 35, 39)

    pdf.embed_file(
        bytes=attachment,
        basename=f"{_ascii(number)}-certificate.json",
        mime_type="application/json",
        desc=f"The signed certificate of {_ascii(number)} ({cert['format']})",
        modification_date=datetime.now(UTC),
    )
    return bytes(pdf.output())


def font_in_use(font: str | None = None) -> str:
    """The file the PDF would use as its main font, or "Helvetica (core)"."""
    pdf = FPDF()
    fonts = _load_fonts(pdf, font)
    return fonts.path or "Helvetica (core)"
