"""The provenance report's stored layout: versioned, the first layout upgraded, unknown ones
refused."""

import json

import pytest

from registry.provenance import (
    SCHEMA_VERSION,
    Judgement,
    Provenance,
    Report,
    ReportError,
    UnknownReportVersion,
    Verdict,
)


def test_a_report_survives_json_and_its_label_comes_from_the_verdict():
    judged = Judgement(Verdict.CONFLICTING, ["a conflict"], ["evidence"], ["a note"])
    report = Report.of(Provenance(generators=["Example"]), judged)
    stored = json.loads(json.dumps(report.to_json()))
    assert stored["schema_version"] == SCHEMA_VERSION == 2
    assert "label" not in stored["judgement"]
    back = Report.from_json(stored)
    assert back == report and back.judgement.label == "The file contradicts the declaration"
    assert back.found["generators"] == ["Example"]


def test_the_first_layout_is_read():
    old = {
        "found": {"findings": []},
        "judgement": {
            "verdict": "none_found",
            "label": "No AI label found",
            "conflicts": [],
            "evidence": [],
            "notes": ["absence proves nothing"],
        },
    }
    report = Report.from_json(old)
    assert report.judgement.verdict is Verdict.NONE_FOUND
    assert report.judgement.notes == ["absence proves nothing"]


@pytest.mark.parametrize("stored", [{"schema_version": 99, "judgement": {}}, "text", None])
def test_an_unknown_layout_is_refused(stored):
    with pytest.raises(UnknownReportVersion):
        Report.from_json(stored)


def test_a_malformed_report_is_an_error():
    with pytest.raises(ReportError):
        Report.from_json({"schema_version": 2, "judgement": {"verdict": "maybe"}})
