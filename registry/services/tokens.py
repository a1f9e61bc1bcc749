"""Personal API tokens: a creator makes one for a program that files on their behalf, sees it
once, and revokes it when done. Only the token's SHA-256 is stored, so a copy of the database
gives nobody a working token."""

from __future__ import annotations

import hashlib
import secrets

from sqlmodel import Session, col, select

from ..db import writing
from ..models import ApiToken, User, utcnow

PREFIX = "air_"
MAX_TOKENS = 20


class TokenError(ValueError):
    """A token request that cannot be met; ``str`` says why."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create(*, session: Session, user: User, name: str) -> tuple[ApiToken, str]:
    """Make a token for ``user``; return the row and the token itself (shown once)."""
    name = " ".join(name.split())
    if not name:
        raise TokenError("Give the token a name, such as the program that will use it.")
    if len(name) > 100:
        raise TokenError("Keep the name under 100 characters.")
    token = PREFIX + secrets.token_urlsafe(32)
    with writing(session):
        live = session.exec(
            select(ApiToken).where(ApiToken.user_id == user.id, col(ApiToken.revoked_at).is_(None))
        ).all()
        if len(live) >= MAX_TOKENS:
            raise TokenError(f"You have {MAX_TOKENS} tokens already; revoke one first.")
        assert user.id is not None, "a user who makes a token is a stored row"
        row = ApiToken(user_id=user.id, name=name, token_sha256=_digest(token), prefix=token[:10])
        session.add(row)
    return row, token


def list_for(*, session: Session, user: User) -> list[ApiToken]:
    return list(
        session.exec(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(col(ApiToken.id).desc())
        ).all()
    )


def revoke(*, session: Session, user: User, token_id: int) -> ApiToken:
    """Revoke one of ``user``'s tokens (revoking twice changes nothing). LookupError when the
    token is not theirs."""
    with writing(session):
        row = session.get(ApiToken, token_id)
        if row is None or row.user_id != user.id:
            raise LookupError(token_id)
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            session.add(row)
    return row


def authenticate(*, session: Session, token: str) -> User | None:
    """The active user a live token belongs to, or None. Notes when the token was last used
    (at most once a minute, so reads stay cheap)."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    row = session.exec(
        select(ApiToken)
        .where(ApiToken.token_sha256 == _digest(token))
        .execution_options(populate_existing=True)
    ).first()
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    now = utcnow()
    last = row.last_used_at
    if last is None or (now - last).total_seconds() > 60:
        with writing(session):
            fresh = session.get(ApiToken, row.id)
            assert fresh is not None, "tokens are never deleted: revoking keeps the row"
            row = fresh
            row.last_used_at = now
            session.add(row)
    return row.user
