"""Each carrier and field read from files the tests build, and the verdicts they lead to."""

import io
import json

import pytest
from PIL import Image, PngImagePlugin

from registry.provenance import Verdict, judge, read_image, read_text
from registry.provenance.verdict import NO_CREDENTIALS
from tests.factories import AIGC


def xmp(*, source_type: str | None = None, aigc: str | None = None, tool: str | None = None):
    attrs = ""
    if source_type:
        attrs += (
            f" Iptc4xmpExt:DigitalSourceType="
            f'"http://cv.iptc.org/newscodes/digitalsourcetype/{source_type}"'
        )
    if tool:
        attrs += f' xmp:CreatorTool="{tool}"'
    body = f"<TC260:AIGC>{aigc}</TC260:AIGC>" if aigc else ""
    return (
        '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
        'xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
        f'xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/"{attrs}>{body}</rdf:Description>'
        '</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()


def jpeg(**kw) -> Image.Image:
    im = Image.new("RGB", (32, 24), (90, 120, 200))
    exif = im.getexif()
    for tag, value in kw.pop("exif", {}).items():
        exif[tag] = value
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif, **kw)
    return Image.open(io.BytesIO(out.getvalue()))


def png(chunks: dict[str, str]) -> Image.Image:
    info = PngImagePlugin.PngInfo()
    for key, value in chunks.items():
        info.add_itxt(key, value)
    out = io.BytesIO()
    Image.new("RGB", (16, 16)).save(out, "PNG", pnginfo=info)
    return Image.open(io.BytesIO(out.getvalue()))


def verdict(image, source="digitalCapture", tools=()):
    return judge(read_image(image), declared_source_type=source, declared_ai_tools=list(tools))


def test_exif_software_artist_make_and_model_are_read():
    found = read_image(
        jpeg(
            exif={0x0131: "Midjourney v6.1", 0x013B: "Ana Costa", 0x010F: "Canon", 0x0110: "EOS R5"}
        )
    )
    fields = {f.field: f.value for f in found.findings}
    assert fields == {
        "Software": "Midjourney v6.1",
        "Artist": "Ana Costa",
        "Make": "Canon",
        "Model": "EOS R5",
    }
    assert found.generators == ["midjourney"]


def test_xmp_digital_source_type_and_creator_tool():
    found = read_image(jpeg(xmp=xmp(source_type="trainedAlgorithmicMedia", tool="Adobe Firefly 3")))
    assert found.digital_source_types == ["trainedAlgorithmicMedia"]
    assert "firefly" in found.generators


@pytest.mark.parametrize(
    "carrier, image",
    [
        ("XMP", lambda: jpeg(xmp=xmp(aigc=json.dumps(AIGC)))),
        ("EXIF", lambda: jpeg(exif={0x010E: json.dumps({"AIGC": AIGC})})),
        ("PNG text", lambda: png({"AIGC": json.dumps(AIGC)})),
    ],
)
def test_the_aigc_label_is_read_in_every_carrier(carrier, image):
    [label] = read_image(image()).aigc
    assert label.carrier.startswith(carrier)
    assert label.fields["Label"] == "1" and label.producer == AIGC["ContentProducer"]
    assert label.fields["ProduceID"] == "20260301-7f3a"
    assert label.meaning == "AI-generated (confirmed)"


def test_png_generation_parameters_are_recognised():
    found = read_image(
        png(
            {
                "parameters": "a lighthouse in fog\nSteps: 30, Sampler: DPM++, "
                "CFG scale: 7, Seed: 1234, Model hash: abc"
            }
        )
    )
    assert found.generators == ["an image generator (generation parameters)"]
    assert found.findings[0].field == "parameters" and found.findings[0].points_to_ai


def test_explicit_labels_in_texts_with_their_position():
    text = "夜来灯一盏。\n本内容由人工智能生成。\nThis poem was AI-generated, then edited."
    found = read_text(text)
    assert [(f.value, f.position) for f in found.findings] == [
        ("本内容由人工智能生成", 7),
        ("AI-generated", 33),
    ]
    assert read_text("A poem about the sea, written by hand.").findings == []


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("<x:xmpmeta><unclosed>", "not well-formed"),
        (
            '<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><x:xmpmeta '
            'xmlns:x="adobe:ns:meta/">&b;</x:xmpmeta>',
            "refused",
        ),
        ("<x:xmpmeta>" + "x" * 1_100_000 + "</x:xmpmeta>", "more than"),
    ],
    ids=["truncated", "entity expansion", "huge"],
)
def test_hostile_or_broken_xmp_is_reported_not_raised(raw, reason):
    found = read_image(png({"XML:com.adobe.xmp": raw}))
    assert any(reason in r for r in found.unreadable), found.unreadable
    assert found.aigc == []


def test_an_aigc_label_that_is_not_json_is_reported():
    found = read_image(png({"AIGC": '{"Label": "1", "ContentProducer": '}))
    assert found.aigc == [] and found.unreadable == [
        "PNG text AIGC: an AIGC label that is not valid JSON"
    ]


# --------------------------------------------------------------------------- verdicts


def test_confirmed_label_contradicting_a_declared_capture_is_a_conflict():
    j = verdict(jpeg(xmp=xmp(aigc=json.dumps(AIGC))), source="digitalCapture")
    assert j.verdict is Verdict.CONFLICTING
    assert j.conflicts[0].startswith(
        "The creator declared “captured from the real world” and no AI tools, but an AIGC "
        "implicit label (GB 45438-2025) in XMP AIGC: Label=1 (AI-generated (confirmed)) from "
        "producer 001191110108MA01KP2T5U00000."
    )


def test_generation_parameters_with_no_ai_tools_declared_are_a_conflict():
    j = verdict(png({"parameters": "cat, Steps: 20, Sampler: Euler"}), source="digitalCreation")
    assert j.verdict is Verdict.CONFLICTING
    assert "generation parameters" in j.conflicts[0]


def test_a_declared_ai_work_with_its_label_is_confirmed():
    j = verdict(
        jpeg(xmp=xmp(source_type="trainedAlgorithmicMedia")),
        source="trainedAlgorithmicMedia",
        tools=["Midjourney"],
    )
    assert j.verdict is Verdict.CONFIRMED and j.conflicts == []


def test_declared_ai_with_nothing_in_the_file_is_declared_and_says_absence_proves_nothing():
    j = verdict(jpeg(), source="compositeWithTrainedAlgorithmicMedia", tools=["SDXL"])
    assert j.verdict is Verdict.DECLARED and NO_CREDENTIALS in j.notes


def test_nothing_declared_and_nothing_found():
    j = verdict(jpeg(exif={0x010F: "Canon"}), source="digitalCapture")
    assert j.verdict is Verdict.NONE_FOUND and NO_CREDENTIALS in j.notes


def test_a_suspected_label_on_a_declared_ai_work_is_suspected():
    j = verdict(
        png({"AIGC": json.dumps({**AIGC, "Label": "3"})}),
        source="compositeWithTrainedAlgorithmicMedia",
        tools=["SDXL"],
    )
    assert j.verdict is Verdict.SUSPECTED


def test_suggestions_say_what_to_prefill_and_where_it_was_read():
    from registry.provenance import suggestions

    found = read_image(
        jpeg(
            exif={0x0131: "Midjourney v6"},
            xmp=xmp(source_type="compositeWithTrainedAlgorithmicMedia"),
        )
    )
    assert [(s.field, s.value, s.source) for s in suggestions(found)] == [
        (
            "digital_source_type",
            "compositeWithTrainedAlgorithmicMedia",
            "its XMP metadata (IPTC digital source type)",
        ),
        ("ai_tool", "Midjourney", "its EXIF field Software"),
    ]
    aigc_only = read_image(png({"AIGC": json.dumps(AIGC)}))
    assert [(s.field, s.value) for s in suggestions(aigc_only)] == [
        ("digital_source_type", "trainedAlgorithmicMedia")
    ]
    assert suggestions(read_image(jpeg())) == []


def test_truncated_exif_is_reported_not_raised():
    good = io.BytesIO()
    Image.new("RGB", (16, 16)).save(good, "JPEG")
    data = good.getvalue()
    # an APP1 Exif segment whose TIFF header promises an IFD far beyond its end
    broken = b"Exif\x00\x00MM\x00*\x00\x00\xff\xf0" + b"\x00" * 6
    segment = b"\xff\xe1" + (len(broken) + 2).to_bytes(2, "big") + broken
    with pytest.warns(UserWarning, match="Corrupt EXIF"):  # Pillow warns as it opens
        image = Image.open(io.BytesIO(data[:2] + segment + data[2:]))
    found = read_image(image)
    assert found.findings == [] and found.aigc == []
    judged = judge(found, declared_source_type="digitalCapture", declared_ai_tools=[])
    assert judged.verdict is Verdict.NONE_FOUND
