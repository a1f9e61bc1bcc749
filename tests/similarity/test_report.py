"""The match report's stored layout: written by the engine, read back typed, older layouts
upgraded, unknown ones refused."""

import json

import pytest

from registry.similarity import (
    ENGINE_VERSION,
    SCHEMA_VERSION,
    Band,
    Match,
    Region,
    Report,
    ReportError,
    SharedPassage,
    Signal,
    UnknownReportVersion,
)


def a_report() -> Report:
    return Report(
        ENGINE_VERSION,
        [
            Match(
                number="AIR-2026-000002",
                modality="text",
                score=0.9,
                band=Band.STRONG,
                signals=[Signal("shared passages", 2, "2 passage(s)")],
                earlier_first=True,
                earlier_status="registered",
                earlier_filed="2026-11-30",
                passages=[SharedPassage((0, 40), (10, 50), 1.0)],
                new_coverage=0.8,
                earlier_coverage=0.4,
            ),
            Match(
                number="AIR-2026-000001",
                modality="image",
                score=0.5,
                band=Band.REVIEW,
                signals=[Signal("perceptual hash", 6, "pHash 6/64 bits apart")],
                earlier_first=False,
                variant="mirrored",
                region=Region("region shown", (0.1, 0.2, 0.9, 1.0)),
            ),
        ],
    )


def test_a_report_survives_json_and_says_its_version():
    report = a_report()
    stored = json.loads(json.dumps(report.to_json()))  # as a JSON column gives it back
    assert stored["schema_version"] == SCHEMA_VERSION == 2
    assert stored["engine_version"] == ENGINE_VERSION
    assert Report.from_json(stored) == report
    assert report.strongest_band is Band.STRONG and report.top_score == 0.9


def test_passages_are_offsets_and_boxes_only():
    stored = a_report().to_json()
    assert stored["matches"][0]["passages"] == [
        {"new": [0, 40], "earlier": [10, 50], "similarity": 1.0}
    ]
    assert stored["matches"][1]["region"] == {"name": "region shown", "box": [0.1, 0.2, 0.9, 1.0]}


def test_the_first_layout_is_upgraded_and_its_texts_dropped():
    old = {
        "engine_version": "1.0.0",
        "matches": [
            {
                **a_report().to_json()["matches"][0],
                "passages": [
                    {
                        "new": [0, 40],
                        "earlier": [10, 50],
                        "similarity": 1.0,
                        "new_text": "the new work's text",
                        "earlier_text": "the earlier work's unpublished text",
                    }
                ],
            }
        ],
    }
    report = Report.from_json(old)
    assert report.engine_version == "1.0.0"
    assert report.matches[0].passages == [SharedPassage((0, 40), (10, 50), 1.0)]
    assert "unpublished" not in json.dumps(report.to_json())


@pytest.mark.parametrize(
    "stored",
    [{"schema_version": 3, "engine_version": "9", "matches": []}, {"schema_version": "2"}, []],
)
def test_an_unknown_layout_is_refused(stored):
    with pytest.raises(UnknownReportVersion):
        Report.from_json(stored)


def test_a_malformed_report_is_an_error_not_a_guess():
    with pytest.raises(ReportError):
        Report.from_json({"schema_version": 2, "engine_version": "1", "matches": [{"band": "x"}]})
