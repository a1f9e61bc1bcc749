"""Triage on representative evidence, and the routing policy as configured."""

import pytest

from registry.domain.risk import (
    Evidence,
    MatchEvidence,
    Reason,
    ReasonCode,
    RiskReport,
    Route,
    RouteKind,
    RoutingPolicy,
    Tier,
    UnknownRiskReportVersion,
    assess,
)
from registry.web.wording import risk_reason


def worded(a) -> list[str]:
    """The assessment's reasons as the examiner's page words them."""
    return [risk_reason(r) for r in a.reasons]


def evidence(
    matches=(),
    source="digitalCapture",
    ai_material="",
    contributions=("expressive_input",),
    conflicts=(),
):
    return Evidence(tuple(matches), source, ai_material, frozenset(contributions), tuple(conflicts))


def match(band="strong", score=0.95, coverage=0.8, same_owner=False, earlier_first=True):
    return MatchEvidence("AIR-2026-000007", band, score, coverage, same_owner, earlier_first)


def test_a_photograph_with_no_match_is_low_risk_and_says_why():
    a = assess(evidence())
    assert a.tier is Tier.LOW and a.points == 0
    assert a.reasons == (Reason(ReasonCode.NOTHING_FOUND),)
    assert worded(a) == ["No match with another registrant's work, and no AI material declared."]


def test_a_strong_match_with_someone_elses_earlier_work_is_high_risk():
    a = assess(evidence([match()]))
    assert a.tier is Tier.HIGH
    assert a.reasons[0] == Reason(
        ReasonCode.STRONG_MATCH, 60, {"number": "AIR-2026-000007", "score": 0.95, "coverage": 0.8}
    )
    assert worded(a)[0].startswith(
        "Strong match with AIR-2026-000007, registered earlier by someone"
    )
    assert "80% of this work" in worded(a)[0]


def test_a_match_for_review_alone_is_elevated():
    assert assess(evidence([match(band="review", score=0.6, coverage=None)])).tier is Tier.ELEVATED


def test_matching_ones_own_earlier_work_or_a_later_filing_weighs_little():
    own = assess(evidence([match(same_owner=True)]))
    assert own.tier is Tier.LOW and own.reasons[0].code is ReasonCode.OWN_EARLIER_WORK
    assert "supplementary registration" in worded(own)[0]
    later = assess(evidence([match(earlier_first=False)]))
    assert later.tier is Tier.LOW


def test_prompts_alone_on_a_fully_generated_work_are_high_risk():
    a = assess(
        evidence(source="trainedAlgorithmicMedia", contributions=("prompting",), ai_material="")
    )
    assert a.tier is Tier.HIGH
    codes = {r.code for r in a.reasons}
    assert {ReasonCode.PROMPTING_ONLY, ReasonCode.AI_NOT_EXCLUDED} <= codes
    assert any("only human contribution declared is prompting" in r for r in worded(a))
    assert any("none is excluded" in r for r in worded(a))


def test_a_composite_with_excluded_ai_parts_and_real_input_is_low():
    a = assess(
        evidence(
            source="compositeWithTrainedAlgorithmicMedia",
            ai_material="The sky.",
            contributions=("modification", "prompting"),
        )
    )
    assert a.tier is Tier.LOW and a.points == 15


def test_provenance_conflicts_raise_the_tier():
    a = assess(evidence(conflicts=["declared a camera capture, the file carries an AIGC label"]))
    assert a.tier is Tier.ELEVATED
    assert a.reasons[0].values == {
        "conflict": "declared a camera capture, the file carries an AIGC label"
    }
    assert worded(a)[0] == (
        "Provenance conflict: declared a camera capture, the file carries an AIGC label"
    )


def test_reasons_are_stored_versioned_and_old_sentences_are_kept():
    a = assess(evidence([match()], source="trainedAlgorithmicMedia", conflicts=["x"]))
    stored = a.report.to_json()
    assert stored["schema_version"] == 2
    assert RiskReport.from_json(stored) == a.report
    old = RiskReport.from_json(["Strong match with AIR-2026-000001 (an old sentence)."])
    assert [risk_reason(r) for r in old.reasons] == [
        "Strong match with AIR-2026-000001 (an old sentence)."
    ]
    for unknown in ({"schema_version": 3, "reasons": []}, {"reasons": []}, "text", None):
        with pytest.raises(UnknownRiskReportVersion):
            RiskReport.from_json(unknown)


def test_the_default_policy_fast_tracks_low_risk_only():
    policy = RoutingPolicy()
    assert policy.route(Tier.LOW) == Route(RouteKind.FAST_TRACK, 14)
    assert policy.route(Tier.ELEVATED).kind is RouteKind.QUEUE
    assert policy.route(Tier.HIGH).kind is RouteKind.QUEUE
    assert policy.describe().startswith("Low risk: fast track, registered after 14 days")


def test_a_policy_is_read_from_configuration():
    policy = RoutingPolicy.parse("low=queue, elevated=fast-track:30, high=queue")
    assert policy.route(Tier.LOW).kind is RouteKind.QUEUE
    assert policy.route(Tier.ELEVATED) == Route(RouteKind.FAST_TRACK, 30)


@pytest.mark.parametrize(
    "text, message",
    [
        ("low=queue,elevated=queue", "no route for high"),
        ("low=queue,elevated=queue,high=fast-track:3", "must go to the examination queue"),
        ("low=soon,elevated=queue,high=queue", "'soon' is not a route"),
        ("low=fast-track:0,elevated=queue,high=queue", "'fast-track:0' is not a route"),
        ("medium=queue", "unknown tier 'medium'"),
        ("low", "'low' is not tier=route"),
    ],
)
def test_a_bad_policy_is_refused_with_the_reason(text, message):
    with pytest.raises(ValueError, match=message):
        RoutingPolicy.parse(text)
