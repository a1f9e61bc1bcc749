"""Accounts: sign-up, sign-in and staff accounts made from the command line.

Passwords are hashed with Argon2id (argon2-cffi's RFC 9106 profile) and rehashed on sign-in
when the parameters change.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlmodel import Session, select

from ..db import begin_write
from ..models import User

MIN_PASSWORD = 10
MAX_PASSWORD = 256
_hasher = PasswordHasher()
# Verified against when the email is unknown, so a miss takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")


class Role(StrEnum):
    CREATOR = "creator"
    EXAMINER = "examiner"
    ADMIN = "admin"


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
