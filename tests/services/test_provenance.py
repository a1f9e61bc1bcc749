"""Provenance at submission: read once, judged against the declaration, feeding triage, shown."""

import io
import json

from PIL import PngImagePlugin

from registry.domain.risk import RoutingPolicy
from registry.models import ProvenanceReport
from registry.services import checking, intake, matching, provenance
from tests.factories import count, declaration, make_user, scene, submit_work


def _png_with(chunks: dict[str, str]) -> intake.DepositUpload:
    info = PngImagePlugin.PngInfo()
    for key, value in chunks.items():
        info.add_itxt(key, value)
    out = io.BytesIO()
    scene(61).save(out, "PNG", pnginfo=info)
    return intake.DepositUpload(file=io.BytesIO(out.getvalue()))


CAPTURE = {
    "digital_source_type": "digitalCapture",
    "ai_tools": (),
    "ai_material": "",
}


def test_a_declared_photograph_carrying_generation_parameters_conflicts(session, store):
    creator = make_user(session)
    reg = submit_work(
        session,
        store,
        creator,
        declaration(**CAPTURE),
        _png_with({"parameters": "harbour at dawn, Steps: 30, Sampler: Euler a, Seed: 7"}),
        matcher=matching.Matcher(),
        policy=RoutingPolicy(),
    )
    judged = provenance.judgement_of(provenance.get_report(session, reg))
    assert judged.verdict == "conflicting"
    assert judged.conflicts[0].startswith(
        "The creator declared “captured from the real world” and no AI tools, but its "
        "metadata names an image generator (generation parameters)."
    )
    # the conflict feeds the risk tier, with the reason
    assert reg.risk_tier in {"elevated", "high"}
    from registry.domain.risk import ReasonCode
    from registry.services import triage

    [conflict] = [r for r in triage.reasons_of(reg) if r.code is ReasonCode.PROVENANCE_CONFLICT]
    assert conflict.values["conflict"] == judged.conflicts[0]


def pending(session, store) -> list[str]:
    """The filings ``registry check`` reads the provenance of."""
    done = checking.run_pending(
        session=session, store=store, matcher=matching.Matcher(), policy=None
    )
    return done["Read the provenance of"]


def test_the_report_is_written_once_and_pending_ones_are_filled(session, store):
    creator = make_user(session)
    reg = submit_work(session, store, creator, declaration(**CAPTURE))  # no checks ran
    assert provenance.get_report(session, reg) is None
    assert pending(session, store) == [reg.number]
    assert pending(session, store) == []
    provenance.inspect(session=session, store=store, registration=reg)
    assert count(session, ProvenanceReport) == 1
    body = provenance.get_report(session, reg).body
    assert body["schema_version"] == 2 and body["judgement"]["verdict"] == "none_found"


def test_the_verdict_is_shown_to_the_creator_and_the_public(session, store, client, auth):
    creator = make_user(session)
    aigc = json.dumps({"Label": "1", "ContentProducer": "Example Model Co."})
    reg = submit_work(
        session, store, creator, upload=_png_with({"AIGC": aigc}), matcher=matching.Matcher()
    )
    auth.login(creator)
    page = client.get(f"/filings/{reg.uid}").get_data(as_text=True)
    assert "Provenance" in page and "AI label confirmed by the file" in page
    assert "Label=1 (AI-generated (confirmed)) from producer Example Model Co." in page
    auth.logout()
    public = client.get(f"/registrations/{reg.number}").get_data(as_text=True)
    assert "AI label confirmed by the file" in public and "Example Model Co." not in public


def _midjourney_jpeg(seed: int, **save) -> intake.DepositUpload:
    """A JPEG whose EXIF Software names Midjourney (and whatever else ``save`` adds)."""
    im = scene(seed)
    exif = im.getexif()
    exif[0x0131] = "Midjourney v6.1"
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif, **save)
    return intake.DepositUpload(file=io.BytesIO(out.getvalue()))


def test_the_form_is_prefilled_from_what_the_deposit_reveals(session, store, client, auth):
    import re

    from tests.factories import save_draft
    from tests.provenance.test_readers import xmp

    creator = make_user(session)
    upload = _midjourney_jpeg(62, xmp=xmp(source_type="compositeWithTrainedAlgorithmicMedia"))
    decl = declaration(digital_source_type=None, ai_tools=(), ai_material="")
    draft = save_draft(session, store, creator, decl, upload)
    auth.login(creator)
    page = client.get(f"/filings/{draft.uid}/edit").get_data(as_text=True)
    assert "What the file says" in page
    assert "AI tool: <strong>Midjourney</strong>, read from its EXIF field Software." in page
    assert "read from its XMP metadata (IPTC digital source type)" in page
    assert 'value="Midjourney"' in page  # the tool row is filled in
    chosen = re.search(r'<input[^>]*value="compositeWithTrainedAlgorithmicMedia"[^>]*>', page)
    assert chosen and "checked" in chosen.group(0), chosen


def test_what_the_creator_declared_is_never_overwritten(session, store, client, auth):
    from registry.domain.declaration import AiTool
    from tests.factories import save_draft

    creator = make_user(session)

    decl = declaration(ai_tools=(AiTool("Stable Diffusion XL", "1.0", "Stability AI", "Sky"),))
    draft = save_draft(session, store, creator, decl, _midjourney_jpeg(63))
    auth.login(creator)
    page = client.get(f"/filings/{draft.uid}/edit").get_data(as_text=True)
    assert 'value="Midjourney"' not in page and "What the file says" not in page
    assert 'value="Stable Diffusion XL"' in page
