"""Test data: users, complete declarations, and small image and text files made in memory."""

from __future__ import annotations

import io
import itertools
import random
import struct
import zlib
from dataclasses import replace
from datetime import date

from argon2 import PasswordHasher
from PIL import Image, ImageDraw
from sqlmodel import func, select

from registry.domain.declaration import AiTool, Author, Contribution, Declaration, InputSource
from registry.models import User
from registry.services import checking, filing, intake

PASSWORD = "correct horse battery staple"
_HASH = PasswordHasher().hash(PASSWORD)
_seq = itertools.count(1)


LIMITS = intake.Limits(max_deposit_bytes=1 << 20, max_text_bytes=64 * 1024, max_image_pixels=10**6)


def count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def submit_work(session, store, owner, decl=None, upload=None, *, matcher=None, policy=None, **kw):
    """Submit through the service; by default a complete declaration with a small PNG. Given a
    ``matcher``, the filing's checks run too (and triage, given a ``policy``), as a worker
    would run them."""
    reg = filing.submit(
        session=session,
        store=store,
        limits=LIMITS,
        owner=owner,
        declaration=decl or declaration(),
        upload=upload or intake.DepositUpload(file=io.BytesIO(image_bytes())),
        **kw,
    )
    if matcher is not None:
        checking.run(session=session, store=store, matcher=matcher, policy=policy, registration=reg)
    return reg


def submit_text(session, store, owner, text: str, *, title: str = "Tide Tables", **kw):
    """Submit a literary work whose deposit is ``text``, pasted."""
    return submit_work(
        session,
        store,
        owner,
        text_declaration(title=title),
        intake.DepositUpload(pasted_text=text),
        **kw,
    )


def save_draft(session, store, owner, decl=None, upload=None, uid=None):
    return filing.save_draft(
        session=session,
        store=store,
        limits=LIMITS,
        owner=owner,
        declaration=decl or declaration(),
        upload=upload or intake.DepositUpload(),
        uid=uid,
    )


# A TC260 (GB 45438-2025) implicit AI label as generators write it, in JSON.
AIGC = {
    "Label": "1",
    "ContentProducer": "001191110108MA01KP2T5U00000",
    "ProduceID": "20260301-7f3a",
    "ReservedCode1": "",
    "ContentPropagator": "",
    "PropagateID": "",
    "ReservedCode2": "",
}


def make_user(session, *, email: str | None = None, role: str = "creator", name: str = "") -> User:
    n = next(_seq)
    user = User(
        email=email or f"creator{n}@example.org",
        display_name=name or f"Creator {n}",
        password_hash=_HASH,
        role=role,
    )
    session.add(user)
    session.commit()
    return user


def declaration(**overrides) -> Declaration:
    """A complete, consistent declaration of an AI-assisted image; override any field."""
    base = Declaration(
        title="Lighthouse in Fog",
        alternative_titles=("灯塔与雾",),
        work_category="visual_art",
        completion_date=date(2026, 2, 1),
        publication_status="published",
        publication_date=date(2026, 3, 1),
        publication_nation="Portugal",
        authors=(Author("Ana Costa", "real_name", "", "Portugal", "Painting and composition"),),
        claimant_name="Ana Costa",
        claimant_kind="natural",
        claimant_address="Secret Street 7, Lisbon",
        rights_obtained="original",
        rights_held="all",
        digital_source_type="compositeWithTrainedAlgorithmicMedia",
        ai_tools=(AiTool("Midjourney", "6", "Midjourney Inc.", "Background fog"),),
        ai_material="The fog in the background.",
        contributions=(Contribution("modification", "Painted the lighthouse over the output."),),
        new_material="Painting",
        sources=(InputSource("Own sketch", "Sketchbook 2025", "Own work"),),
        training_use="not_allowed",
        attested=True,
    )
    return replace(base, **overrides)


def text_declaration(**overrides) -> Declaration:
    return declaration(
        title=overrides.pop("title", "Tide Tables"),
        work_category="literary",
        digital_source_type="digitalCreation",
        ai_tools=(),
        ai_material="",
        contributions=(Contribution("expressive_input", "Wrote the poem."),),
        new_material="Text",
        **overrides,
    )


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (64, 48), colour=(200, 40, 40)) -> bytes:
    img = Image.new("RGB", size, colour)
    for x in range(0, size[0], 4):
        img.putpixel((x, x % size[1]), (x % 256, 90, 200))
    out = io.BytesIO()
    img.save(out, format=fmt)
    return out.getvalue()


def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A tiny PNG that declares width x height pixels (its data is a short run of zeros)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (width // 8 + 1) * 64, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


POEM = "Tide Tables\n\nThe harbour does not remember him.\nThe gulls are other gulls.\n"


def scene(seed: int, size: tuple[int, int] = (360, 270)) -> Image.Image:
    """A made-up photograph: a sky gradient and a hundred random shapes, different per seed."""
    rng = random.Random(seed)
    w, h = size
    img = Image.new("RGB", size)
    top = tuple(rng.randrange(60, 200) for _ in range(3))
    bottom = tuple(rng.randrange(0, 120) for _ in range(3))
    draw = ImageDraw.Draw(img)
    for y in range(h):
        t = y / (h - 1)
        draw.line(
            [(0, y), (w, y)],
            fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)),
        )
    for _ in range(100):
        x0, y0 = rng.randrange(-20, w), rng.randrange(-20, h)
        x1, y1 = x0 + rng.randrange(8, w // 3), y0 + rng.randrange(8, h // 3)
        colour = tuple(rng.randrange(256) for _ in range(3))
        if rng.random() < 0.5:
            draw.ellipse([x0, y0, x1, y1], fill=colour, outline=(0, 0, 0))
        else:
            draw.rectangle([x0, y0, x1, y1], fill=colour)
    return img


def encoded(img: Image.Image, fmt: str = "PNG", **params) -> bytes:
    out = io.BytesIO()
    img.save(out, format=fmt, **params)
    return out.getvalue()


def framed(img: Image.Image, border: int, colour=(255, 255, 255)) -> Image.Image:
    out = Image.new("RGB", (img.width + 2 * border, img.height + 2 * border), colour)
    out.paste(img, (border, border))
    return out


ESSAY = (
    "The harbour wakes before the town does. Fishing boats slip their moorings in the grey "
    "light, and the gulls follow them out past the breakwater. By seven the market stalls are "
    "open and the first crates of mackerel are iced and stacked. Old Tomas sells rope and "
    "tar from the same shed his father built. Children run along the quay to school, dodging "
    "nets laid out to dry. In the afternoon the wind turns and the boats come home heavy. "
    "The auction is loud and quick, and by dusk the quay is hosed clean and quiet again."
)
ESSAY_ZH = (
    "港口比小镇醒得更早。渔船在灰色的晨光中解开缆绳，海鸥跟着它们飞过防波堤。"
    "七点钟，市场的摊位开张了，第一批鲭鱼已经冰好堆起。老托马斯在他父亲建造的棚子里卖绳子和焦油。"
    "孩子们沿着码头跑去上学，躲开铺开晾晒的渔网。下午风向转了，渔船满载而归。"
    "拍卖又吵又快，到了黄昏，码头被冲洗干净，又安静下来。"
)
