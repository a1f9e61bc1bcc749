import pytest

from registry.domain.statuses import TRANSITIONS, IllegalTransition, Status, check_transition


def test_every_status_has_a_transition_entry_and_a_tone():
    assert set(TRANSITIONS) == set(Status)
    for status in Status:
        assert status.tone in {"neutral", "pending", "attention", "good", "bad"}
        assert status.label


def test_draft_only_goes_to_submitted():
    check_transition(Status.DRAFT, Status.SUBMITTED)
    for target in set(Status) - {Status.SUBMITTED}:
        with pytest.raises(IllegalTransition):
            check_transition(Status.DRAFT, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (Status.SUBMITTED, Status.DRAFT),
        (Status.REGISTERED, Status.REFUSED),
        (Status.CANCELLED, Status.REGISTERED),
        (Status.REFUSED, Status.REGISTERED),
    ],
)
def test_illegal_transitions(current, target):
    with pytest.raises(IllegalTransition):
        check_transition(current, target)


def test_only_drafts_are_private():
    assert [s for s in Status if not s.is_public] == [Status.DRAFT]


def test_the_statuses_each_last_logged_event_allows():
    """The log records only public status changes; the statuses in between follow from the
    transitions, and a registration in any other status was changed without the log."""
    from registry.domain.transparency import LOGGED_EVENTS, consistent_statuses

    allowed = {e: {s.value for s in consistent_statuses(e)} for e in (None, *LOGGED_EVENTS)}
    open_ = {"submitted", "under_examination", "correspondence", "closed_no_response"}
    assert allowed == {
        None: {"draft"},
        "submitted": open_,
        "supplementary": open_,
        "registered": {"registered"},
        "registered_with_limitation": {"registered_with_limitation"},
        "refused": {"refused", "reconsideration"},
        "cancelled": {"cancelled"},
    }
    assert set().union(*allowed.values()) == {s.value for s in Status}
