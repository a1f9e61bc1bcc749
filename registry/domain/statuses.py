"""Registration statuses and the transitions between them.

The lifecycle (draft -> submitted -> under examination <-> correspondence -> a determination,
then reconsideration, supplementary registration or cancellation) is decided here, so every
service asks the same table whether a change is allowed.
"""

from __future__ import annotations

from .vocabulary import Labelled


class Status(Labelled):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    UNDER_EXAMINATION = "under_examination", "Under examination"
    CORRESPONDENCE = "correspondence", "Waiting on the creator"
    REGISTERED = "registered", "Registered"
    REGISTERED_WITH_LIMITATION = "registered_with_limitation", "Registered with limitation"
    REFUSED = "refused", "Refused"
    CLOSED_NO_RESPONSE = "closed_no_response", "Closed for no response"
    RECONSIDERATION = "reconsideration", "Reconsideration requested"
    CANCELLED = "cancelled", "Cancelled"

    @property
    def tone(self) -> str:
        """A word the stylesheet uses to colour the status badge."""
        return _TONES[self]

    @property
    def is_public(self) -> bool:
        """Whether a filing in this status appears in public lookup and search."""
        return self is not Status.DRAFT


_TONES = {
    Status.DRAFT: "neutral",
    Status.SUBMITTED: "pending",
    Status.UNDER_EXAMINATION: "pending",
    Status.CORRESPONDENCE: "attention",
    Status.REGISTERED: "good",
    Status.REGISTERED_WITH_LIMITATION: "good",
    Status.REFUSED: "bad",
    Status.CLOSED_NO_RESPONSE: "neutral",
    Status.RECONSIDERATION: "pending",
    Status.CANCELLED: "bad",
}

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.DRAFT: frozenset({Status.SUBMITTED}),
    Status.SUBMITTED: frozenset(
        {Status.UNDER_EXAMINATION, Status.REGISTERED, Status.REGISTERED_WITH_LIMITATION}
    ),
    Status.UNDER_EXAMINATION: frozenset(
        {
            Status.CORRESPONDENCE,
            Status.REGISTERED,
            Status.REGISTERED_WITH_LIMITATION,
            Status.REFUSED,
            Status.SUBMITTED,
        }
    ),
    Status.CORRESPONDENCE: frozenset({Status.UNDER_EXAMINATION, Status.CLOSED_NO_RESPONSE}),
    Status.CLOSED_NO_RESPONSE: frozenset({Status.UNDER_EXAMINATION}),
    Status.REFUSED: frozenset({Status.RECONSIDERATION}),
    Status.RECONSIDERATION: frozenset(
        {Status.REGISTERED, Status.REGISTERED_WITH_LIMITATION, Status.REFUSED}
    ),
    Status.REGISTERED: frozenset({Status.CANCELLED}),
    Status.REGISTERED_WITH_LIMITATION: frozenset({Status.CANCELLED}),
    Status.CANCELLED: frozenset(),
}


class IllegalTransition(ValueError):
    """Raised when a status change is not in :data:`TRANSITIONS`."""


def check_transition(current: Status, target: Status) -> None:
    """Return None when ``current -> target`` is allowed; raise IllegalTransition otherwise."""
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(f"a filing cannot go from {current.label!r} to {target.label!r}")
