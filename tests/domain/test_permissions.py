"""allowed_actions and the privacy rules, as a table: one row per viewer and filing."""

from __future__ import annotations

import pytest

from registry.domain.permissions import (
    Action,
    allowed_actions,
    may_view,
    sees_earlier_content,
    sees_internal,
)
from registry.domain.statuses import Status

A = Action
S = Status
CREATOR, EXAMINER, ADMIN = "creator", "examiner", "admin"

# (role, is_owner, status, claimed_by_me, claimed_by_other, reconsiderations) -> actions
TABLE = [
    # the creator, on their own filing
    ((CREATOR, True, S.DRAFT, False, False, 0), {A.EDIT_DRAFT}),
    ((CREATOR, True, S.SUBMITTED, False, False, 0), set()),
    ((CREATOR, True, S.UNDER_EXAMINATION, False, True, 0), set()),
    ((CREATOR, True, S.CORRESPONDENCE, False, True, 0), {A.AMEND, A.REPLY}),
    ((CREATOR, True, S.REFUSED, False, False, 0), {A.RECONSIDER}),
    ((CREATOR, True, S.REFUSED, False, False, 1), {A.RECONSIDER}),
    ((CREATOR, True, S.REFUSED, False, False, 2), set()),  # the second was final
    ((CREATOR, True, S.REGISTERED, False, False, 0), {A.SUPPLEMENT}),
    ((CREATOR, True, S.REGISTERED_WITH_LIMITATION, False, False, 0), {A.SUPPLEMENT}),
    ((CREATOR, True, S.CANCELLED, False, False, 0), set()),
    # a creator on someone else's filing: nothing (they cannot even see it)
    ((CREATOR, False, S.SUBMITTED, False, False, 0), set()),
    ((CREATOR, False, S.REGISTERED, False, False, 0), set()),
    # an examiner
    ((EXAMINER, False, S.SUBMITTED, False, False, 0), {A.CLAIM}),
    ((EXAMINER, False, S.SUBMITTED, False, True, 0), set()),  # another examiner holds it
    ((EXAMINER, False, S.RECONSIDERATION, False, False, 0), {A.CLAIM}),
    (
        (EXAMINER, False, S.UNDER_EXAMINATION, True, False, 0),
        {A.RELEASE, A.DISPOSE, A.DETERMINE, A.REQUEST_INFORMATION},
    ),
    ((EXAMINER, False, S.CORRESPONDENCE, True, False, 0), {A.RELEASE, A.DISPOSE, A.DETERMINE}),
    ((EXAMINER, False, S.CLOSED_NO_RESPONSE, False, False, 0), {A.REOPEN}),
    # closed while the examiner waited for the creator: still theirs, and theirs to reopen
    (
        (EXAMINER, False, S.CLOSED_NO_RESPONSE, True, False, 0),
        {A.REOPEN, A.RELEASE, A.DISPOSE, A.DETERMINE},
    ),
    ((EXAMINER, False, S.CLOSED_NO_RESPONSE, False, True, 0), set()),  # another's to reopen
    ((EXAMINER, False, S.REGISTERED, False, False, 0), {A.CANCEL}),
    ((EXAMINER, False, S.REFUSED, False, False, 0), set()),
    ((EXAMINER, False, S.DRAFT, False, False, 0), set()),
    # an examiner's own filing: they act on it as its creator only
    ((EXAMINER, True, S.SUBMITTED, False, False, 0), set()),
    ((EXAMINER, True, S.REGISTERED, False, False, 0), {A.SUPPLEMENT}),
    # an administrator also assigns open filings
    ((ADMIN, False, S.SUBMITTED, False, False, 0), {A.CLAIM, A.ASSIGN}),
    ((ADMIN, False, S.UNDER_EXAMINATION, False, True, 0), {A.ASSIGN}),
    ((ADMIN, False, S.REGISTERED, False, False, 0), {A.CANCEL}),
    ((ADMIN, True, S.SUBMITTED, False, False, 0), {A.ASSIGN}),  # to another examiner
    # nobody signed in
    ((None, False, S.REGISTERED, False, False, 0), set()),
]


def test_the_examiner_who_refused_does_not_reconsider_while_another_can():
    args = ("examiner", False, S.RECONSIDERATION, False)
    assert A.CLAIM in allowed_actions(*args)
    assert A.CLAIM not in allowed_actions(*args, decided_it_before=True)
    assert A.CLAIM in allowed_actions(*args[:2], S.SUBMITTED, False, decided_it_before=True)


@pytest.mark.parametrize(("viewer", "expected"), TABLE)
def test_allowed_actions(viewer, expected):
    role, is_owner, status, mine, other, asked = viewer
    got = allowed_actions(
        role, is_owner, status, mine, claimed_by_other=other, reconsiderations=asked
    )
    assert got == frozenset(expected)


@pytest.mark.parametrize(
    ("role", "is_owner", "status", "expected"),
    [
        (CREATOR, True, S.DRAFT, True),
        (CREATOR, False, S.SUBMITTED, False),
        (EXAMINER, False, S.DRAFT, False),  # a draft is its creator's alone
        (EXAMINER, False, S.SUBMITTED, True),
        (ADMIN, False, S.CANCELLED, True),
        (None, False, S.REGISTERED, False),
    ],
)
def test_who_may_view_a_case_file(role, is_owner, status, expected):
    assert may_view(role, is_owner=is_owner, status=status) is expected


@pytest.mark.parametrize(
    ("role", "owns_earlier", "internal", "content"),
    [
        (CREATOR, False, False, False),
        (CREATOR, True, False, True),
        (EXAMINER, False, True, True),
        (ADMIN, False, True, True),
        (None, False, False, False),
    ],
)
def test_what_a_viewer_sees(role, owns_earlier, internal, content):
    assert sees_internal(role) is internal
    assert sees_earlier_content(role, owns_earlier=owns_earlier) is content
