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


class Refusal(StrEnum):
    """Why a viewer may not take an action on a filing: what the services say when refusing it
    (their wording is in ``services.guards``)."""

    NOT_OWNER = "not_owner"  # only the filing's creator does this
    NOT_STAFF = "not_staff"  # only examiners do this
    NOT_ADMIN = "not_admin"  # only an administrator does this
    OWN_FILING = "own_filing"  # nobody examines their own filing
    NOT_DRAFT = "not_draft"
    NOT_OPEN = "not_open"  # not awaiting examination
    NOT_CLOSED = "not_closed"  # only a filing closed for no response is reopened
    NOT_REGISTERED = "not_registered"
    NOT_UNDER_EXAMINATION = "not_under_examination"
    NOT_WAITING = "not_waiting"  # the examiner is not waiting for the creator's answer
    NOT_REFUSED = "not_refused"
    NO_RECONSIDERATION_LEFT = "no_reconsideration_left"
    DECIDED_BEFORE = "decided_before"  # a different examiner reconsiders a refusal
    ALREADY_CLAIMED = "already_claimed"  # by this examiner: claiming again changes nothing
    CLAIMED_BY_OTHER = "claimed_by_other"
    NOT_CLAIMED = "not_claimed"  # by this examiner


#: What a filing's creator does; everything else is the examiners' (or an administrator's).
CREATOR_ACTIONS = frozenset(
    {Action.EDIT_DRAFT, Action.SUPPLEMENT, Action.AMEND, Action.REPLY, Action.RECONSIDER}
)


def _creator_refusal(action: Action, status: Status, reconsiderations: int) -> Refusal | None:
    if action is Action.EDIT_DRAFT:
        return None if status is Status.DRAFT else Refusal.NOT_DRAFT
    if action is Action.SUPPLEMENT:
        return None if status in REGISTERED else Refusal.NOT_REGISTERED
    if action in (Action.AMEND, Action.REPLY):
        return None if status is Status.CORRESPONDENCE else Refusal.NOT_WAITING
    if status is not Status.REFUSED:  # Action.RECONSIDER
        return Refusal.NOT_REFUSED
    if reconsiderations >= MAX_RECONSIDERATIONS:
        return Refusal.NO_RECONSIDERATION_LEFT
    return None


def refusal(
    action: Action | str,
    viewer_role: Role | str | None,
    is_owner: bool,
    status: Status | str,
    claimed_by_me: bool,
    *,
    claimed_by_other: bool = False,
    reconsiderations: int = 0,
    decided_it_before: bool = False,
) -> Refusal | None:
    """Why the viewer may not take ``action`` on a filing in ``status``; None when they may.

    The one statement of who may do what: ``allowed_actions`` (what a page offers) and the
    services' guards (what a step refuses, and why) both ask it. The viewer acts as the
    filing's owner (``is_owner``) and as staff (``viewer_role``), who never examine their own
    filing; ``claimed_by_me`` and ``claimed_by_other`` say who holds it; ``reconsiderations``
    how many the creator asked for; ``decided_it_before``, that the viewer determined the filing
    before while another examiner could reconsider it."""
    action, status, role = Action(action), Status(status), _role(viewer_role)
    if action in CREATOR_ACTIONS:
        return _creator_refusal(action, status, reconsiderations) if is_owner else Refusal.NOT_OWNER
    if action is Action.ASSIGN:  # to another examiner, even an administrator's own filing
        if role is not Role.ADMIN:
            return Refusal.NOT_ADMIN
        return None if status in OPEN else Refusal.NOT_OPEN
    if role is None or not role.is_staff:
        return Refusal.NOT_STAFF
    if is_owner:
        return Refusal.OWN_FILING
    if status is Status.DRAFT:  # a draft is its creator's alone
        return Refusal.NOT_OPEN
    if action is Action.CLAIM:
        if status not in OPEN:
            return Refusal.NOT_OPEN
        if claimed_by_me:
            return Refusal.ALREADY_CLAIMED
        if claimed_by_other:
            return Refusal.CLAIMED_BY_OTHER
        if status is Status.RECONSIDERATION and decided_it_before:
            return Refusal.DECIDED_BEFORE
        return None
    if action is Action.REOPEN:
        if status is not Status.CLOSED_NO_RESPONSE:
            return Refusal.NOT_CLOSED
        return Refusal.CLAIMED_BY_OTHER if claimed_by_other else None
    if action is Action.CANCEL:
        return None if status in REGISTERED else Refusal.NOT_REGISTERED
    # release, dispose, determine, request information: the claiming examiner's (whether the
    # determination's status can follow from this one is the lifecycle's to say)
    if not claimed_by_me:
        return Refusal.NOT_CLAIMED
    if action is Action.REQUEST_INFORMATION and status is not Status.UNDER_EXAMINATION:
        return Refusal.NOT_UNDER_EXAMINATION
    return None


def allowed_actions(
    viewer_role: Role | str | None,
    is_owner: bool,
    status: Status | str,
    claimed_by_me: bool,
    *,
    claimed_by_other: bool = False,
    reconsiderations: int = 0,
    decided_it_before: bool = False,
) -> frozenset[Action]:
    """What a viewer may do to a filing in ``status`` (each is a form or a link on its page):
    every action ``refusal`` does not refuse."""
    return frozenset(
        action
        for action in Action
        if refusal(
            action,
            viewer_role,
            is_owner,
            status,
            claimed_by_me,
            claimed_by_other=claimed_by_other,
            reconsiderations=reconsiderations,
            decided_it_before=decided_it_before,
        )
        is None
    )
