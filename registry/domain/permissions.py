"""Who may see what of a filing, and which actions a viewer may take on it: decided here once.

The pages (a creator's filing, the examiner's review, the public record), the API and the
certificate all render read models (``services.records``) built with these rules, so a new
privacy rule or a new button is one change here (and its row in tests/domain/test_permissions.py).
Pure: no Flask, no SQL; the viewer is described by plain values.
"""

from __future__ import annotations

from enum import StrEnum

from .statuses import Status
from .vocabulary import Role

#: Statuses in which a filing waits for, or is in, examination.
OPEN = frozenset(
    {Status.SUBMITTED, Status.UNDER_EXAMINATION, Status.CORRESPONDENCE, Status.RECONSIDERATION}
)
#: Statuses of a registration (one with a certificate).
REGISTERED = frozenset({Status.REGISTERED, Status.REGISTERED_WITH_LIMITATION})
#: Reconsiderations a creator may ask for after a refusal: the first, then the second and final.
MAX_RECONSIDERATIONS = 2


class Action(StrEnum):
    """Something a viewer may do to a filing (each is a form or a link on its page)."""

    EDIT_DRAFT = "edit_draft"
    SUPPLEMENT = "supplement"  # file a supplementary registration
    AMEND = "amend"  # correct the declaration while the examiner waits
    REPLY = "reply"
    RECONSIDER = "reconsider"
    CLAIM = "claim"
    RELEASE = "release"
    DISPOSE = "dispose"  # record what to do with a match
    DETERMINE = "determine"
    REQUEST_INFORMATION = "request_information"
    REOPEN = "reopen"
    CANCEL = "cancel"
    ASSIGN = "assign"


def _role(role: Role | str | None) -> Role | None:
    return Role(role) if role else None


def is_staff(role: Role | str | None) -> bool:
    r = _role(role)
    return r is not None and r.is_staff


def may_view(role: Role | str | None, *, is_owner: bool, status: Status | str) -> bool:
    """Whether the viewer may see the filing's case file: its owner always; staff once it is
    submitted (a draft is its creator's alone)."""
    return is_owner or (is_staff(role) and Status(status) is not Status.DRAFT)


def sees_internal(role: Role | str | None) -> bool:
    """Whether the viewer sees the examiners' side of a case file: internal events, triage
    (tier, reasons, route) and match dispositions."""
    return is_staff(role)


def sees_earlier_content(role: Role | str | None, *, owns_earlier: bool) -> bool:
    """Whether the viewer may see an earlier registered work's content (its image, its copied
    passages' text) beside a filing that matches it. Deposits are not public: staff see every
    one, a creator only their own works."""
    return is_staff(role) or owns_earlier


def allowed_actions(
    viewer_role: Role | str | None,
    is_owner: bool,
    status: Status | str,
    claimed_by_me: bool,
    *,
    claimed_by_other: bool = False,
    reconsiderations: int = 0,
) -> frozenset[Action]:
    """What a viewer may do to a filing in ``status``: as its owner (``is_owner``), and as
    staff (``viewer_role``), who never examine their own filing. ``claimed_by_me`` and
    ``claimed_by_other`` say who holds it; ``reconsiderations`` how many the creator asked."""
    status = Status(status)
    role = _role(viewer_role)
    allowed: set[Action] = set()
    if role is Role.ADMIN and status in OPEN:
        allowed.add(Action.ASSIGN)  # to another examiner, even an administrator's own filing
    if is_owner:
        if status is Status.DRAFT:
            allowed.add(Action.EDIT_DRAFT)
        if status in REGISTERED:
            allowed.add(Action.SUPPLEMENT)
        if status is Status.CORRESPONDENCE:
            allowed |= {Action.AMEND, Action.REPLY}
        if status is Status.REFUSED and reconsiderations < MAX_RECONSIDERATIONS:
            allowed.add(Action.RECONSIDER)
        return frozenset(allowed)  # nobody examines their own filing
    if role is None or not role.is_staff or status is Status.DRAFT:
        return frozenset(allowed)
    if claimed_by_me:
        allowed |= {Action.RELEASE, Action.DISPOSE, Action.DETERMINE}
        if status is Status.UNDER_EXAMINATION:
            allowed.add(Action.REQUEST_INFORMATION)
    elif not claimed_by_other:
        if status is Status.CLOSED_NO_RESPONSE:
            allowed.add(Action.REOPEN)
        elif status in OPEN:
            allowed.add(Action.CLAIM)
    if status in REGISTERED:
        allowed.add(Action.CANCEL)
    return frozenset(allowed)
