"""The kinds of event on a filing's record, and which of them stay internal.

Every change to a filing is an event (who, when, what, why). Most are shown to anyone who may
see the filing; the internal ones are the examiners' working notes, shown only to staff. Whether
an event is a leaf of the public transparency log is decided by the status change it records
(``domain.transparency.logged_event``), never by its kind.
"""

from __future__ import annotations

from .vocabulary import Labelled


class EventKind(Labelled):
    CREATED = "created", "Draft started"
    SUBMITTED = "submitted", "Submitted"
    DECLARATION_AMENDED = "declaration_amended", "Declaration amended"
    TRIAGED = "triaged", "Triaged"
    CLAIMED = "claimed", "Claimed"
    RELEASED = "released", "Released"
    ASSIGNED = "assigned", "Assigned"
    MATCH_DISPOSED = "match_disposed", "Match disposed"
    INFORMATION_REQUESTED = "information_requested", "Information requested"
    REPLIED = "replied", "Replied"
    CLOSED_NO_RESPONSE = "closed_no_response", "Closed no response"
    REOPENED = "reopened", "Reopened"
    DETERMINED = "determined", "Determined"
    RECONSIDERATION_REQUESTED = "reconsideration_requested", "Reconsideration requested"
    CANCELLED = "cancelled", "Cancelled"

    @property
    def is_internal(self) -> bool:
        """Shown only to examiners: their triage, match dispositions and releases."""
        return self in INTERNAL_EVENTS


#: Events only examiners see on a filing's record.
INTERNAL_EVENTS = frozenset({EventKind.TRIAGED, EventKind.MATCH_DISPOSED, EventKind.RELEASED})
