"""Readers for what a file says about its own making.

Images: EXIF (Software, Artist, Make, Model, ImageDescription, UserComment), XMP (IPTC
``Iptc4xmpExt:DigitalSourceType``, ``xmp:CreatorTool``, ``photoshop:Credit`` and friends, and an
``AIGC`` property), PNG text chunks (generation parameters and prompts written by image
generators, an ``AIGC`` chunk). The GB 45438-2025 implicit label is the ``AIGC`` block with
``Label``, ``ContentProducer``, ``ProduceID``, ``ReservedCode1``, ``ContentPropagator``,
``PropagateID`` and ``ReservedCode2``; it is looked for in every carrier, as JSON or as XML.
Texts: explicit AI labels written in the text, in Chinese and English, with their position.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException
from PIL import Image

#: Fields of the GB 45438-2025 implicit label, in the standard's order.
AIGC_FIELDS = (
    "Label",
    "ContentProducer",
    "ProduceID",
    "ReservedCode1",
    "ContentPropagator",
    "PropagateID",
    "ReservedCode2",
)
#: What the label's value says (confirmed; possibly, as the user declared; suspected, detected).
AIGC_LABELS = {
    "1": "AI-generated (confirmed)",
    "2": "possibly AI-generated (declared by the user)",
    "3": "suspected AI-generated (detected)",
}

# IPTC digital source types that say generative AI made (part of) the content.
AI_SOURCE_TYPES = frozenset(
    {"trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia", "compositeSynthetic"}
)
IPTC_PREFIX = "http://cv.iptc.org/newscodes/digitalsourcetype/"
_MAX_METADATA = 1_000_000  # bytes of one metadata block read; more is reported, not parsed
_MAX_VALUE = 2_000  # characters kept of one value

#: Names that generate images or text, as they appear in metadata (lower case), and the tool
#: they name.
GENERATORS = {
    "midjourney": "Midjourney",
    "dall-e": "DALL·E",
    "dall·e": "DALL·E",
    "dalle": "DALL·E",
    "stable diffusion": "Stable Diffusion",
    "stablediffusion": "Stable Diffusion",
    "automatic1111": "Stable Diffusion (AUTOMATIC1111)",
    "comfyui": "ComfyUI",
    "invokeai": "InvokeAI",
    "novelai": "NovelAI",
    "firefly": "Adobe Firefly",
    "imagen": "Imagen",
    "ideogram": "Ideogram",
    "leonardo": "Leonardo",
    "flux": "FLUX",
    "chatgpt": "ChatGPT",
    "gpt-4": "GPT-4",
    "gpt-5": "GPT-5",
    "openai": "OpenAI",
    "gemini": "Gemini",
    "claude": "Claude",
    "copilot": "Copilot",
    "kling": "Kling",
    "runway": "Runway",
    "sora": "Sora",
    "dreamina": "Dreamina",
    "tongyi": "Tongyi",
    "文心": "文心一格",
    "通义": "通义万相",
    "豆包": "豆包",
    "即梦": "即梦",
    "可灵": "可灵",
}
#: PNG text keys image generators write their parameters under.
_GENERATION_KEYS = {
    "parameters",
    "prompt",
    "workflow",
    "negative_prompt",
    "sd-metadata",
    "invokeai_metadata",
    "dream",
    "comment",
}


@dataclass(frozen=True)
class Finding:
    """One thing the file says: where, which field, the value, and whether it points to AI."""

    carrier: str  # EXIF, XMP, PNG text, text
    field: str
    value: str
    points_to_ai: bool
    position: int | None = None  # for a label in a text: the character offset


@dataclass(frozen=True)
class AigcLabel:
    carrier: str
    fields: dict[str, str]

    @property
    def label(self) -> str:
        return self.fields.get("Label", "")

    @property
    def meaning(self) -> str:
        return AIGC_LABELS.get(self.label, f"unknown label “{self.label}”")

    @property
    def producer(self) -> str:
        return self.fields.get("ContentProducer", "")


@dataclass
class Provenance:
    findings: list[Finding] = field(default_factory=list)
    aigc: list[AigcLabel] = field(default_factory=list)
    digital_source_types: list[str] = field(default_factory=list)  # IPTC codes
    generators: list[str] = field(default_factory=list)  # software names that generate
    unreadable: list[str] = field(default_factory=list)  # what could not be read, and why
    c2pa: dict[str, Any] | None = None  # the active C2PA manifest, summarised (see credentials.py)

    def to_dict(self) -> dict[str, Any]:
        return {
            "findings": [f.__dict__ for f in self.findings],
            "aigc": [{"carrier": a.carrier, **a.fields} for a in self.aigc],
            "digital_source_types": self.digital_source_types,
            "generators": self.generators,
            "unreadable": self.unreadable,
            "c2pa": self.c2pa,
        }


def _clip(value: object) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    text = text.replace("\x00", "").strip()
    return text[:_MAX_VALUE]


def _generator_in(text: str) -> str | None:
    low = text.lower()
    return next((g for g in GENERATORS if g in low), None)


# --------------------------------------------------------------------------- images

_EXIF_FIELDS = {
    0x0131: "Software",
    0x013B: "Artist",
    0x010F: "Make",
    0x0110: "Model",
    0x010E: "ImageDescription",
    0x9286: "UserComment",
    0x9C9C: "XPComment",
    0x8298: "Copyright",
}


def read_image(
    image: Image.Image, *, data: bytes | None = None, media_type: str | None = None
) -> Provenance:
    """Everything the image's metadata says about its making (with ``data`` and its
    ``media_type``, its C2PA content credentials too); never raises on bad metadata."""
    found = Provenance()
    if data is not None and media_type:
        from .credentials import read_credentials

        read_credentials(data, media_type, found)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for reader in (_read_exif, _read_xmp, _read_png_text):
            _run_reader(reader, image, found)
    found.unreadable.extend(f"metadata: {_clip(w.message)[:200]}" for w in caught)
    found.generators = sorted(set(found.generators))
    found.digital_source_types = sorted(set(found.digital_source_types))
    return found


def _run_reader(
    reader: Callable[[Image.Image, Provenance], None], image: Image.Image, found: Provenance
) -> None:
    try:
        reader(image, found)
    except Exception as exc:  # hostile or broken metadata: report, never fail the filing
        found.unreadable.append(
            f"{reader.__name__[6:].upper()}: {type(exc).__name__}: {_clip(exc)[:200]}"
        )


def _read_exif(image: Image.Image, found: Provenance) -> None:
    exif = image.getexif()
    tags = dict(exif)
    try:
        tags.update(exif.get_ifd(0x8769))  # the Exif sub-IFD holds UserComment
    except Exception:  # noqa: BLE001 - an unreadable sub-IFD is reported below
        found.unreadable.append("EXIF: the Exif sub-directory could not be read")
    for tag, name in _EXIF_FIELDS.items():
        if tag not in tags:
            continue
        raw = tags[tag]
        if tag == 0x9C9C and isinstance(raw, bytes):  # XP tags are UTF-16
            value = _clip(raw.decode("utf-16-le", "replace"))
        elif tag == 0x9286 and isinstance(raw, bytes):  # 8-byte character code, then text
            value = _clip(raw[8:] if raw[:8] in (b"ASCII\0\0\0", b"UNICODE\0", b"\0" * 8) else raw)
        else:
            value = _clip(raw)
        if not value:
            continue
        generator = (
            _generator_in(value)
            if name in ("Software", "ImageDescription", "UserComment", "XPComment")
            else None
        )
        if generator:
            found.generators.append(generator)
        found.findings.append(Finding("EXIF", name, value, bool(generator)))
        _aigc_in_text(value, f"EXIF {name}", found)


def _read_xmp(image: Image.Image, found: Provenance) -> None:
    raw = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
    if not raw:
        return
    if len(raw) > _MAX_METADATA:
        found.unreadable.append(f"XMP: {len(raw):,} bytes, more than the {_MAX_METADATA:,} read")
        return
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    packet = _XPACKET.sub("", text).strip().strip("\x00")
    try:
        root = SafeET.fromstring(packet)
    except DefusedXmlException:
        found.unreadable.append("XMP: refused (it declares entities or a DTD, as attacks do)")
        return
    except (SafeET.ParseError, ValueError) as exc:
        found.unreadable.append(f"XMP: not well-formed ({_clip(exc)[:120]})")
        return
    for element in root.iter():
        _xmp_node(_local(element.tag), element.text or "", found)
        for key, value in element.attrib.items():
            _xmp_node(_local(key), value, found)
        if _local(element.tag) == "AIGC":
            _aigc_from_element(element, found)


_XPACKET = re.compile(r"<\?xpacket[^>]*\?>")


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


_XMP_FIELDS = {
    "DigitalSourceType",
    "CreatorTool",
    "Credit",
    "Creator",
    "Software",
    "Agent",
    "softwareAgent",
    "Description",
    "AIGC",
}


def _xmp_node(name: str, value: str, found: Provenance) -> None:
    value = _clip(value)
    if name not in _XMP_FIELDS or not value:
        return
    if name == "DigitalSourceType":
        code = value.removeprefix(IPTC_PREFIX).strip("/")
        found.digital_source_types.append(code)
        ai = code in AI_SOURCE_TYPES | {"algorithmicMedia"}
        found.findings.append(Finding("XMP", "Iptc4xmpExt:DigitalSourceType", code, ai))
        return
    if name == "AIGC":
        _aigc_in_text(value, "XMP AIGC", found)
        return
    generator = _generator_in(value)
    if generator:
        found.generators.append(generator)
    found.findings.append(Finding("XMP", name, value, bool(generator)))


def _aigc_from_element(element: Element, found: Provenance) -> None:
    fields = {
        _local(child.tag): _clip(child.text or "")
        for child in element.iter()
        if _local(child.tag) in AIGC_FIELDS
    }
    fields.update(
        {_local(k): _clip(v) for k, v in element.attrib.items() if _local(k) in AIGC_FIELDS}
    )
    if fields:
        found.aigc.append(AigcLabel("XMP", fields))


def _read_png_text(image: Image.Image, found: Provenance) -> None:
    chunks = getattr(image, "text", None) or {}
    for key, raw in chunks.items():
        if key == "XML:com.adobe.xmp":  # XMP in a PNG: read as XMP
            continue
        value = _clip(raw)
        if key.upper() == "AIGC":
            _aigc_in_text(value, "PNG text AIGC", found)
            continue
        low = key.lower()
        generation = low in _GENERATION_KEYS and _looks_like_generation(value)
        generator = (
            _generator_in(value)
            if low in ("software", "source", "comment", "description")
            else None
        )
        if generator:
            found.generators.append(generator)
        if generation:
            found.generators.append("an image generator (generation parameters)")
        found.findings.append(Finding("PNG text", key, value, bool(generation or generator)))
        _aigc_in_text(value, f"PNG text {key}", found)


def _looks_like_generation(value: str) -> bool:
    low = value.lower()
    return any(
        k in low
        for k in (
            "steps:",
            "sampler",
            "cfg scale",
            "seed:",
            "negative prompt",
            '"class_type"',
            "ksampler",
            "checkpoint",
            "model hash",
        )
    ) or (len(value) > 0 and low.startswith("{") and "prompt" in low)


def _aigc_in_text(value: str, carrier: str, found: Provenance) -> None:
    """An AIGC block written as JSON (possibly wrapped as {"AIGC": {...}}) inside ``value``."""
    if "Label" not in value:
        return
    start = value.find("{")
    if start < 0:
        return
    try:
        data = json.loads(value[start : value.rfind("}") + 1])
    except (ValueError, RecursionError):
        found.unreadable.append(f"{carrier}: an AIGC label that is not valid JSON")
        return
    if isinstance(data, dict) and isinstance(data.get("AIGC"), dict):
        data = data["AIGC"]
    if isinstance(data, dict) and "Label" in data:
        found.aigc.append(AigcLabel(carrier, {k: _clip(data[k]) for k in AIGC_FIELDS if k in data}))


# --------------------------------------------------------------------------- texts

_TEXT_LABELS = re.compile(
    r"(本(?:内容|文|作品|图片|视频)?(?:由|系|为)?(?:人工智能|AI|ＡＩ|AIGC)(?:辅助)?(?:生成|创作|合成)"
    r"|(?:人工智能|AI|ＡＩ)(?:生成|合成)(?:内容|作品)?"
    r"|AI[- ]generated|generated (?:by|with|using) (?:an? )?(?:AI|artificial intelligence"
    r"|ChatGPT|GPT-?\d|Claude|Gemini|a (?:large )?language model)"
    r"|written (?:by|with) (?:an? )?(?:AI|ChatGPT|GPT-?\d|Claude|Gemini)"
    r"|created (?:by|with) (?:an? )?(?:AI|artificial intelligence))",
    re.IGNORECASE,
)


def read_text(text: str) -> Provenance:
    """Explicit AI labels written in a text, each with its character offset."""
    found = Provenance()
    for m in _TEXT_LABELS.finditer(text):
        found.findings.append(Finding("text", "explicit label", m.group(0), True, m.start()))
    return found
