"""Sign-up, sign-in and sign-out for creators (staff accounts come from the CLI)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user

from ..services import accounts, tokens
from . import db_session, login_manager
from .forms import SignInForm, SignOutForm, SignUpForm, TokenForm
from .limits import signin_limit, signup_limit

if TYPE_CHECKING:
    from ..models import User

bp = Blueprint("auth", __name__, url_prefix="/account")


@login_manager.user_loader
def _load_user(token: str) -> User | None:
    """The user a session or remember-me cookie names, on every request: None (signed out)
    once the account's session version has moved on (see services.accounts)."""
    return accounts.session_user(session=db_session(), token=token)


def _safe_next(default: str) -> str:
    target = request.args.get("next", "")
    parts = urlsplit(target)
    if (
        target.startswith("/")
        and not target.startswith("//")
        and not parts.netloc
        and not parts.scheme
    ):
        return target
    return default


@bp.route("/signup", methods=["GET", "POST"])
@signup_limit
def signup() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("filing.dashboard"))
    form = SignUpForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                session=db_session(),
                email=form.email.data or "",
                display_name=form.display_name.data or "",
                password=form.password.data or "",
            )
        except accounts.AccountError as exc:
            getattr(form, exc.field).errors.append(exc.message)
        else:
            login_user(user)
            flash("Welcome. Your account is ready: file your first work below.", "success")
            return redirect(url_for("filing.dashboard"))
    return render_template("auth/signup.html", form=form), 422 if form.errors else 200


@bp.route("/signin", methods=["GET", "POST"])
@signin_limit
def signin() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(_safe_next(url_for("filing.dashboard")))
    form = SignInForm()
    failed = False
    if form.validate_on_submit():
        user = accounts.authenticate(
            session=db_session(), email=form.email.data or "", password=form.password.data or ""
        )
        if user is not None:
            login_user(user, remember=bool(form.remember.data))
            return redirect(_safe_next(url_for("filing.dashboard")))
        failed = True
    status = 422 if (failed or form.errors) else 200
    return render_template("auth/signin.html", form=form, failed=failed), status


@bp.route("/signout", methods=["POST"])
def signout() -> ResponseReturnValue:
    if SignOutForm().validate_on_submit():
        if current_user.is_authenticated:
            # Ends this session and every copy of it, and every remember-me cookie.
            accounts.end_sessions(session=db_session(), user=current_user)
        logout_user()
        flash("You are signed out.", "info")
    return redirect(url_for("public.home"))


@bp.route("/tokens", methods=["GET", "POST"])
@login_required
def api_tokens() -> ResponseReturnValue:
    """Personal API tokens: make one (shown once), see when each was last used, revoke."""
    form = TokenForm()
    new_token = None
    status = 200
    if form.validate_on_submit():
        try:
            _row, new_token = tokens.create(
                session=db_session(), user=current_user, name=form.name.data or ""
            )
        except tokens.TokenError as exc:
            form.name.errors = [*form.name.errors, str(exc)]
            status = 422
    elif form.errors:
        status = 422
    page = render_template(
        "auth/tokens.html",
        form=TokenForm(formdata=None) if new_token else form,
        revoke_form=SignOutForm(),
        tokens=tokens.list_for(session=db_session(), user=current_user),
        new_token=new_token,
    )
    # A new token is on this page once: no cache may keep it.
    return page, status, {"Cache-Control": "no-store"}


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int) -> ResponseReturnValue:
    if not SignOutForm().validate_on_submit():
        abort(400)
    try:
        row = tokens.revoke(session=db_session(), user=current_user, token_id=token_id)
    except LookupError:
        abort(404)
    flash(f"The token “{row.name}” is revoked; programs using it can no longer file.", "success")
    return redirect(url_for("auth.api_tokens"))
