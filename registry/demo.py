"""Sample filings for a newcomer's first look, filed through the same service as the web form."""

from __future__ import annotations

import io
import math
import random
import secrets
from collections.abc import Iterator
from dataclasses import replace
from datetime import date

from PIL import Image, ImageDraw, ImageFilter
from sqlmodel import Session

from .domain.declaration import AiTool, Author, Contribution, Declaration, InputSource
from .domain.risk import RoutingPolicy
from .domain.vocabulary import Role
from .services import accounts, checking, decisions, examining, filing, intake, matching
from .storage import DepositStore


def _harbour(seed: int) -> bytes:
    """A harbour at dawn: sky gradient, sun, hills, water with reflections, a few boats."""
    rnd = random.Random(seed)
    w, h = 960, 640
    img = Image.new("RGB", (w, h))
    px = ImageDraw.Draw(img)
    for y in range(h):
        t = y / h
        if y < h * 0.58:
            c = (int(252 - 90 * t), int(196 - 60 * t), int(150 + 60 * t))
        else:
            c = (int(60 + 40 * (1 - t)), int(90 + 30 * (1 - t)), int(130 + 40 * (1 - t)))
        px.line([(0, y), (w, y)], fill=c)
    px.ellipse([w * 0.62, h * 0.30, w * 0.62 + 90, h * 0.30 + 90], fill=(255, 226, 170))
    for layer, (base, colour) in enumerate(((0.50, (96, 86, 120)), (0.55, (70, 64, 96)))):
        pts = [(0, h * 0.58)]
        for x in range(0, w + 40, 40):
            pts.append(
                (x, h * base - 40 * math.sin(x / (90 + 40 * layer) + seed) - rnd.random() * 14)
            )
        pts.append((w, h * 0.58))
        px.polygon(pts, fill=colour)
    for _ in range(140):
        y = rnd.uniform(h * 0.6, h)
        x = rnd.uniform(w * 0.55, w * 0.78)
        px.line([(x, y), (x + rnd.uniform(10, 50), y)], fill=(250, 210, 160), width=2)
    for i in range(4):
        bx, by = 120 + i * 190 + rnd.randint(-20, 20), int(h * 0.72) + rnd.randint(-15, 25)
        px.polygon(
            [(bx, by), (bx + 90, by), (bx + 72, by + 18), (bx + 14, by + 18)], fill=(40, 36, 48)
        )
        px.line([(bx + 45, by), (bx + 45, by - 70)], fill=(40, 36, 48), width=3)
        px.polygon(
            [(bx + 47, by - 66), (bx + 47, by - 8), (bx + 85, by - 10)], fill=(236, 228, 214)
        )
    img = img.filter(ImageFilter.GaussianBlur(0.6))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=88)
    return out.getvalue()


def _mosaic(seed: int) -> bytes:
    """An abstract composition of overlapping translucent circles and bars."""
    rnd = random.Random(seed)
    w, h = 800, 800
    img = Image.new("RGBA", (w, h), (244, 239, 230, 255))
    palette = [(31, 78, 95), (214, 122, 76), (236, 196, 94), (120, 156, 140), (160, 70, 80)]
    for _ in range(26):
        layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
        d = ImageDraw.Draw(layer)
        colour = rnd.choice(palette) + (rnd.randint(90, 200),)
        if rnd.random() < 0.6:
            r = rnd.randint(40, 190)
            x, y = rnd.randint(0, w), rnd.randint(0, h)
            d.ellipse([x - r, y - r, x + r, y + r], fill=colour)
        else:
            x = rnd.randint(0, w)
            d.rectangle([x, 0, x + rnd.randint(12, 70), h], fill=colour)
        img = Image.alpha_composite(img, layer)
    out = io.BytesIO()
    img.convert("RGB").save(out, format="PNG", optimize=True)
    return out.getvalue()


POEM = """Tide Tables

I keep the tide tables my father kept,
the pencil ticks beside each morning low,
the margins where he wrote what the wind did
and whether the herring came.

Some mornings I walk the seawall with them,
checking his numbers against the water,
as if the sea had promised him something
and I had come to collect.

The harbour does not remember him.
The gulls are other gulls.
But the tide comes in at 6:14,
exactly when he said it would.
"""

STORY = """The Lantern Maker's Apprentice

Chapter One

The workshop smelled of solder and beeswax. Min-jun had swept it every evening for a year
before Master Oh let him touch a pane of glass, and another season before he was allowed to
cut one. "Glass remembers every mistake," the old man said, holding a cracked pane to the
window. "Your hand will forget. The lantern will not."

That winter the orders came from the new hotel on the hill: two hundred lanterns, each with
the hotel's crest etched into the amber glass. Master Oh looked at the drawing for a long time
and then handed it to Min-jun without a word.

He worked through the nights. He made the first forty by hand, the way he had been taught,
and then, when his fingers cramped and the deadline pressed, he asked the design program on
his phone to draw the crest a hundred different ways, and chose the one that looked least
like a machine had made it. He redrew it by hand, changed the curl of the wave, added the
small heron that was not in the hotel's drawing at all.

When Master Oh saw the heron he said nothing for a while. Then he laughed, the first time
Min-jun had heard him laugh, and said, "Now it is ours."
"""

#: A later filing that takes four lines of the poem above, in Traditional characters.
COPIED_POEM = """秋夜

夜來燈一盞，獨坐理舊文。
不知窗外月，已照半山雲。
松間風過處，溪聲入柴門。
此詩新續成，聊寄遠方人。
"""

POEM_ZH = """山居秋暝·新作

空山新雨后，石径湿苔痕。
松间风过处，溪声入柴门。
夜来灯一盏，独坐理旧文。
不知窗外月，已照半山云。
"""


def _disguised(original: bytes) -> bytes:
    """The demo's copy of an earlier image: mirrored, cropped, framed and re-encoded."""
    with Image.open(io.BytesIO(original)) as im:
        im = im.convert("RGB").transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        w, h = im.size
        im = im.crop((w // 8, h // 10, w, h))
        framed = Image.new("RGB", (im.width + 60, im.height + 60), (245, 245, 240))
        framed.paste(im, (30, 30))
        out = io.BytesIO()
        framed.save(out, "JPEG", quality=70)
        return out.getvalue()


def seed(
    *,
    session: Session,
    store: DepositStore,
    limits: intake.Limits,
    matcher: matching.Matcher | None = None,
    policy: RoutingPolicy | None = None,
) -> Iterator[str]:
    """Create demo accounts and submit a handful of filings (the last two copy earlier ones, so
    their match reports have something to show); yield what to tell the user."""
    password = secrets.token_urlsafe(10)
    examiner_password = secrets.token_urlsafe(10)
    creators = [
        accounts.create_user(
            session=session, email="lin.wei@demo.example", display_name="Lin Wei", password=password
        ),
        accounts.create_user(
            session=session,
            email="maria.santos@demo.example",
            display_name="Maria Santos",
            password=password,
        ),
    ]
    examiner = accounts.create_user(
        session=session,
        email="examiner@demo.example",
        display_name="Demo Examiner",
        password=examiner_password,
        role=Role.EXAMINER,
    )
    filings: list[tuple[int, Declaration, intake.DepositUpload]] = [
        (
            0,
            Declaration(
                title="Harbour at Dawn",
                alternative_titles=("黎明的港口",),
                work_category="visual_art",
                completion_date=date(2026, 3, 14),
                publication_status="published",
                publication_date=date(2026, 4, 2),
                publication_nation="China",
                authors=(
                    Author(
                        "Lin Wei",
                        "real_name",
                        "",
                        "China",
                        "Composition, colour and final painting over AI sketches",
                    ),
                ),
                claimant_name="Lin Wei",
                claimant_kind="natural",
                claimant_address="Room 1203, 88 Harbour Road, Qingdao",
                rights_obtained="original",
                rights_held="all",
                digital_source_type="compositeWithTrainedAlgorithmicMedia",
                ai_tools=(
                    AiTool(
                        "Stable Diffusion XL",
                        "1.0",
                        "Stability AI",
                        "Generated rough sketches of the sky and water",
                    ),
                ),
                ai_material="Early sketches of the sky and water surface, since painted over.",
                contributions=(
                    Contribution(
                        "modification",
                        "Repainted the sky and water by hand; added the boats and the sun.",
                    ),
                    Contribution(
                        "arrangement",
                        "Chose and combined three of forty generated sketches into one "
                        "composition.",
                    ),
                ),
                new_material="Painting; selection and arrangement of the composition",
                sources=(
                    InputSource(
                        "My own photographs of Qingdao harbour",
                        "Taken by the author, 2025",
                        "Own work",
                    ),
                ),
                training_use="not_allowed",
                attested=True,
            ),
            intake.DepositUpload(file=io.BytesIO(_harbour(7))),
        ),
        (
            1,
            Declaration(
                title="Tide Tables",
                work_category="literary",
                completion_date=date(2026, 1, 9),
                publication_status="unpublished",
                authors=(Author("Maria Santos", "real_name", "", "Portugal", "Text"),),
                claimant_name="Maria Santos",
                claimant_kind="natural",
                claimant_address="Rua das Flores 21, Porto",
                rights_obtained="original",
                rights_held="all",
                digital_source_type="digitalCreation",
                contributions=(Contribution("expressive_input", "Wrote the whole poem."),),
                new_material="Text",
                training_use="constrained",
                training_terms="Non-commercial research only, with attribution.",
                attested=True,
            ),
            intake.DepositUpload(pasted_text=POEM),
        ),
        (
            1,
            Declaration(
                title="The Lantern Maker's Apprentice, chapter one",
                work_category="literary",
                completion_date=date(2026, 6, 30),
                publication_status="unpublished",
                authors=(Author("Maria Santos", "pseudonym", "M. S. Vale", "Portugal", "Text"),),
                claimant_name="Harbourlight Press Ltd",
                claimant_kind="legal",
                claimant_address="4 Quay Street, Bristol",
                rights_obtained="transfer",
                transfer_statement="By written assignment from the author dated 1 July 2026.",
                rights_held="part",
                rights_held_detail="Print and e-book publication rights worldwide.",
                digital_source_type="humanEdits",
                ai_tools=(
                    AiTool("ChatGPT", "GPT-5", "OpenAI", "Suggested synonyms and checked grammar"),
                ),
                ai_material=(
                    "None of the AI's output appears in the text; it was used for "
                    "proofreading suggestions only."
                ),
                contributions=(Contribution("expressive_input", "Wrote and revised the chapter."),),
                new_material="Text",
                training_use="not_allowed",
                attested=True,
            ),
            intake.DepositUpload(pasted_text=STORY),
        ),
        (
            0,
            Declaration(
                title="Circles and Tides",
                work_category="visual_art",
                completion_date=date(2026, 8, 21),
                publication_status="unpublished",
                authors=(
                    Author(
                        "Lin Wei",
                        "real_name",
                        "",
                        "China",
                        "Generative composition: rules, palette and selection",
                    ),
                ),
                claimant_name="Lin Wei",
                claimant_kind="natural",
                claimant_address="Room 1203, 88 Harbour Road, Qingdao",
                rights_obtained="original",
                rights_held="all",
                digital_source_type="algorithmicMedia",
                contributions=(
                    Contribution(
                        "expressive_input",
                        "Wrote the drawing program, chose the palette and the rules.",
                    ),
                    Contribution("prompting", "Ran 300 seeds and selected this one."),
                ),
                new_material="Generative artwork",
                training_use="allowed",
                attested=True,
            ),
            intake.DepositUpload(file=io.BytesIO(_mosaic(11))),
        ),
        (
            0,
            Declaration(
                title="山居秋暝·新作",
                alternative_titles=("Autumn Evening in the Mountains (new verse)",),
                work_category="literary",
                completion_date=date(2026, 10, 3),
                publication_status="unpublished",
                authors=(Author("林伟", "real_name", "", "中国", "诗文"),),
                claimant_name="林伟",
                claimant_kind="natural",
                claimant_address="青岛市港湾路88号1203室",
                rights_obtained="original",
                rights_held="all",
                digital_source_type="digitalCreation",
                contributions=(Contribution("expressive_input", "全文由作者创作。"),),
                new_material="文字作品",
                training_use="not_allowed",
                attested=True,
            ),
            intake.DepositUpload(pasted_text=POEM_ZH),
        ),
    ]
    harbour_decl = filings[0][1]
    filings.append(
        (
            1,
            replace(
                harbour_decl,
                title="Morning Quay",
                alternative_titles=(),
                authors=(Author("Maria Santos", "real_name", "", "Portugal", "Editing"),),
                claimant_name="Maria Santos",
                claimant_address="Rua do Cais 12, Porto",
                publication_nation="Portugal",
            ),
            intake.DepositUpload(file=io.BytesIO(_disguised(filings[0][2].file.getvalue()))),
        )
    )
    filings.append(
        (
            1,
            replace(
                filings[-2][1],
                title="秋夜山居",
                alternative_titles=(),
                authors=(Author("Maria Santos", "real_name", "", "Portugal", "诗文"),),
                claimant_name="Maria Santos",
                claimant_address="Rua do Cais 12, Porto",
            ),
            intake.DepositUpload(pasted_text=COPIED_POEM),
        )
    )
    filed = []
    for owner_index, decl, upload in filings:
        reg = filing.submit(
            session=session,
            store=store,
            limits=limits,
            owner=creators[owner_index],
            declaration=decl,
            upload=upload,
        )
        if matcher is not None:  # checked here, one after another: each finds those before it
            checking.run(
                session=session, store=store, matcher=matcher, policy=policy, registration=reg
            )
        filed.append(reg)
        yield f"Filed {reg.number}: {reg.title}"
    # The examiner decides the first two, so the demo has certificates to show.
    for reg, limitation in (
        (filed[0], "The AI-generated sketches of the sky and the water, since painted over."),
        (filed[1], ""),
    ):
        examining.claim(session=session, uid=reg.uid, examiner=examiner)
        decisions.determine(
            session=session,
            uid=reg.uid,
            examiner=examiner,
            outcome="registered_with_limitation" if limitation else "registered",
            limitation=limitation,
            rationale="The human contribution is described and shown in the deposit.",
        )
        yield f"Registered {reg.number}; its certificate: /registrations/{reg.number}/certificate"
    yield ""
    yield "Demo accounts (passwords are shown only now):"
    yield f"  creators  lin.wei@demo.example, maria.santos@demo.example  password: {password}"
    yield f"  examiner  examiner@demo.example  password: {examiner_password}"
