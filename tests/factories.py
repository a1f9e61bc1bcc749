"""Test data: users, complete declarations, and small image and text files made in memory."""

from __future__ import annotations

import io
import itertools
import struct
import zlib
from dataclasses import replace
from datetime import date

from argon2 import PasswordHasher
from PIL import Image
from sqlmodel import func, select

from registry.domain.declaration import AiTool, Author, Contribution, Declaration, InputSource
from registry.models import User
from registry.services import filing

PASSWORD = "correct horse battery staple"
_HASH = PasswordHasher().hash(PASSWORD)
_seq = itertools.count(1)


LIMITS = filing.Limits(max_deposit_bytes=1 << 20, max_text_bytes=64 * 1024, max_image_pixels=10**6)


def count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def submit_work(session, store, owner, decl=None, upload=None, **kw):
    """Submit through the service; by default a complete declaration with a small PNG."""
    return filing.submit(
        session=session,
        store=store,
        limits=LIMITS,
        owner=owner,
        declaration=decl or declaration(),
        upload=upload or filing.DepositUpload(file=io.BytesIO(image_bytes())),
        **kw,
    )


def save_draft(session, store, owner, decl=None, upload=None, uid=None):
    return filing.save_draft(
        session=session,
        store=store,
        limits=LIMITS,
        owner=owner,
        declaration=decl or declaration(),
        upload=upload or filing.DepositUpload(),
        uid=uid,
    )


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
