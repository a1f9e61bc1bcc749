"""Accounts: sign-up, sign-in and staff accounts made from the command line.

Passwords are hashed with Argon2id (argon2-cffi's RFC 9106 profile) and rehashed on sign-in
when the parameters change.

Every sign-in cookie names the account's session version (``User.get_id``) and is honoured
only while that is the account's current one (``session_user``). ``end_sessions`` (signing
out), ``change_password``, ``set_password`` and ``deactivate`` raise it: every session and
remember-me cookie of the account, on every device and every copy, stops working at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlmodel import Session, col, select, update

from ..db import begin_write, writing
from ..domain.vocabulary import Role
from ..models import User

MIN_PASSWORD = 10
MAX_PASSWORD = 256
_hasher = PasswordHasher()
# Verified against when the email is unknown, so a miss takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")


@dataclass
class AccountError(ValueError):
    """A sign-up or account problem; ``field`` names the form field it belongs to."""

    field: str
    message: str

    def __str__(self) -> str:
        return self.message


def normalise_email(email: str) -> str:
    """The canonical (lower-cased) form of ``email``; raises AccountError when it is not one."""
    try:
        result = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise AccountError("email", f"That is not a valid email address: {exc}") from exc
    return result.normalized.lower()


def check_password(password: str, *, email: str = "") -> None:
    """Return None when ``password`` is acceptable; raise AccountError saying why not."""
    if len(password) < MIN_PASSWORD:
        raise AccountError("password", f"Use at least {MIN_PASSWORD} characters.")
    if len(password) > MAX_PASSWORD:
        raise AccountError("password", f"Use at most {MAX_PASSWORD} characters.")
    if email and password.strip().lower() == email.lower():
        raise AccountError("password", "Do not use your email address as the password.")


def create_user(
    *, session: Session, email: str, display_name: str, password: str, role: Role = Role.CREATOR
) -> User:
    """Create and commit an account; raises AccountError for a bad or taken email or password."""
    email = normalise_email(email)
    check_password(password, email=email)
    display_name = display_name.strip()
    if not display_name:
        raise AccountError("display_name", "Give the name to show on your filings.")
    password_hash = _hasher.hash(password)
    begin_write(session)
    if session.exec(select(User).where(User.email == email)).first() is not None:
        session.rollback()
        raise AccountError(
            "email", "An account with this email address exists already. Sign in instead."
        )
    user = User(
        email=email, display_name=display_name, password_hash=password_hash, role=role.value
    )
    session.add(user)
    session.commit()
    return user


def authenticate(*, session: Session, email: str, password: str) -> User | None:
    """The active user with these credentials, or None (unknown email, wrong password, disabled)."""
    try:
        email = normalise_email(email)
    except AccountError:
        email = ""
    user = session.exec(select(User).where(User.email == email)).first() if email else None
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        new_hash = _hasher.hash(password)
        begin_write(session)
        user = session.get(User, user.id)
        if user is None:
            return None
        user.password_hash = new_hash
        session.add(user)
        session.commit()
    return user


def get_user(*, session: Session, user_id: int) -> User | None:
    """The user with ``user_id``, or None."""
    return session.get(User, user_id)


def get_user_by_email(*, session: Session, email: str) -> User | None:
    """The account with ``email`` (any spelling), or None; AccountError for a malformed one."""
    return session.exec(select(User).where(User.email == normalise_email(email))).first()


def session_user(*, session: Session, token: str) -> User | None:
    """The active user a sign-in cookie's token (``User.get_id``) names, or None when the
    account is gone or deactivated, or the token's session version is no longer current."""
    parsed = User.parse_session_token(token)
    if parsed is None:
        return None
    user_id, version = parsed
    user = session.get(User, user_id)
    if user is None or not user.active or user.session_version != version:
        return None
    return user


def _bump(session: Session, row: User) -> None:
    """Raise the session version of ``row`` (a User of ``session``) inside the caller's write
    transaction, in one UPDATE so that two at once both count; ``row`` then holds the new
    value."""
    session.exec(
        update(User).where(col(User.id) == row.id).values(session_version=User.session_version + 1)
    )
    session.refresh(row, ["session_version"])


def end_sessions(*, session: Session, user: User) -> None:
    """Sign ``user`` out everywhere: every session and remember-me cookie issued so far ends,
    copies included (the cookies are signed but kept by the browser, so the registry cannot tell
    one device's from a copy of it)."""
    with writing(session):
        row = session.get(User, user.id)
        if row is not None:
            _bump(session, row)


def set_password(*, session: Session, user: User, password: str) -> User:
    """Give ``user`` a new password (staff use: no current password asked) and end every
    session of the account; raises AccountError for an unacceptable password."""
    check_password(password, email=user.email)
    password_hash = _hasher.hash(password)
    with writing(session):
        row = session.get(User, user.id)
        if row is None:
            raise LookupError(user.id)
        row.password_hash = password_hash
        session.add(row)
        _bump(session, row)
    return row


def change_password(
    *, session: Session, user: User, current_password: str, new_password: str
) -> User:
    """The account holder's own change of password: ``current_password`` must be right. Ends
    every session of the account, this one too; a view signs the holder in again with the
    returned user (whose ``get_id`` names the new version)."""
    try:
        _hasher.verify(user.password_hash, current_password)
    except (VerificationError, InvalidHashError):
        raise AccountError("current_password", "Your current password is not right.") from None
    if new_password == current_password:
        raise AccountError("password", "Choose a password different from the current one.")
    return set_password(session=session, user=user, password=new_password)


def deactivate(*, session: Session, user: User) -> bool:
    """Deactivate ``user``: no sign-in, no session, no remember-me cookie and no API token of
    theirs works any more. False (and nothing changes) when it was deactivated already."""
    with writing(session):
        row = session.get(User, user.id)
        if row is None:
            raise LookupError(user.id)
        if not row.active:
            return False
        row.active = False
        session.add(row)
        _bump(session, row)
    return True
