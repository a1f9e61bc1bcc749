import pytest
from sqlmodel import select

from registry.models import User
from registry.services import accounts
from tests.conftest import csrf_token, sign_in
from tests.factories import PASSWORD, make_user


def signup(client, **data):
    form = {
        "display_name": "Ana Costa",
        "email": "Ana@Example.org",
        "password": "a long enough password",
        "confirm": "a long enough password",
        "csrf_token": csrf_token(client, "/account/signup"),
    }
    form.update(data)
    return client.post("/account/signup", data=form)


def test_sign_up_creates_a_creator_with_an_argon2_hash(client, session):
    response = signup(client)
    assert response.status_code == 302 and response.headers["Location"] == "/filings/"
    user = session.exec(select(User)).one()
    assert user.email == "ana@example.org" and user.role == "creator"
    assert user.password_hash.startswith("$argon2id$")
    assert "a long enough password" not in user.password_hash
    assert "My filings" in client.get("/filings/").get_data(as_text=True)


def test_sign_up_problems_are_shown_beside_the_field(client, session):
    make_user(session, email="taken@example.org")
    cases = [
        ({"email": "not-an-email"}, "not a valid email address"),
        ({"email": "taken@example.org"}, "exists already"),
        ({"password": "short", "confirm": "short"}, "at least 10 characters"),
        ({"confirm": "something else entirely"}, "The two passwords differ"),
        ({"display_name": ""}, "This field is required"),
    ]
    for change, message in cases:
        response = signup(client, **change)
        assert response.status_code == 422
        assert message in response.get_data(as_text=True), change
    assert len(session.exec(select(User)).all()) == 1


def test_sign_in_and_out(client, session):
    user = make_user(session)
    bad = client.post(
        "/account/signin",
        data={"email": user.email, "password": "wrong password!", "csrf_token": csrf_token(client)},
    )
    assert bad.status_code == 422
    assert "email address or password is not right" in bad.get_data(as_text=True)
    unknown = client.post(
        "/account/signin",
        data={
            "email": "nobody@example.org",
            "password": PASSWORD,
            "csrf_token": csrf_token(client),
        },
    )
    assert unknown.status_code == 422
    ok = client.post(
        "/account/signin",
        data={"email": user.email.upper(), "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert ok.status_code == 302
    assert client.get("/filings/").status_code == 200
    client.post("/account/signout", data={"csrf_token": csrf_token(client)})
    assert client.get("/filings/").status_code == 302


def test_disabled_accounts_cannot_sign_in(client, session):
    user = make_user(session)
    user.active = False
    session.add(user)
    session.commit()
    response = client.post(
        "/account/signin",
        data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 422


def test_next_only_goes_to_this_site(client, session):
    user = make_user(session)
    for target, expected in [
        ("/filings/new", "/filings/new"),
        ("https://evil.example/", "/filings/"),
        ("//evil.example/", "/filings/"),
    ]:
        client.post("/account/signout", data={"csrf_token": csrf_token(client)})
        response = client.post(
            f"/account/signin?next={target}",
            data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client)},
        )
        assert response.headers["Location"] == expected


def test_forms_without_a_csrf_token_are_refused(client, session):
    form = {
        "display_name": "X",
        "email": "x@example.org",
        "password": "p" * 12,
        "confirm": "p" * 12,
    }
    for token in ({}, {"csrf_token": "forged"}):
        response = client.post("/account/signup", data=form | token)
        assert response.status_code == 400
        assert "did not come from this site" in response.get_data(as_text=True)
    assert session.exec(select(User)).all() == []


def test_staff_accounts_come_from_the_cli(runner, session):
    result = runner.invoke(
        args=[
            "registry",
            "create-user",
            "--role",
            "examiner",
            "--email",
            "ex@example.org",
            "--name",
            "Eve Examiner",
            "--password",
            "examiner password 1",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Created examiner account ex@example.org" in result.output
    generated = runner.invoke(
        args=[
            "registry",
            "create-user",
            "--role",
            "admin",
            "--email",
            "ad@example.org",
            "--name",
            "Ad",
        ]
    )
    assert generated.exit_code == 0 and "Its password is:" in generated.output
    duplicate = runner.invoke(
        args=[
            "registry",
            "create-user",
            "--email",
            "ex@example.org",
            "--name",
            "Again",
            "--password",
            "another password 2",
        ]
    )
    assert duplicate.exit_code != 0 and "exists already" in duplicate.output
    roles = {u.email: u.role for u in session.exec(select(User)).all()}
    assert roles == {"ex@example.org": "examiner", "ad@example.org": "admin"}


# ---- sessions that end ---------------------------------------------------------------------
# A signed cookie stays valid until it expires (the session's 31 days, the remember-me cookie's
# 365) unless the registry refuses it: each carries the account's session version, which
# signing out, a new password and deactivation raise.


def _sign_in_remembered(client, user, password: str = PASSWORD) -> None:
    sign_in(client, user, password, remember=True)
    assert client.get_cookie("session") and client.get_cookie("remember_token")


def _copies(app, client):
    """Two other browsers: one given a copy of ``client``'s session cookie, one a copy of its
    remember-me cookie only (which signs it in by itself)."""
    with_session, with_remember = app.test_client(), app.test_client()
    with_session.set_cookie("session", client.get_cookie("session").value)
    with_remember.set_cookie("remember_token", client.get_cookie("remember_token").value)
    return with_session, with_remember


def _signed_in(client) -> bool:
    response = client.get("/filings/")
    assert response.status_code in {200, 302}
    return response.status_code == 200


def _sign_out(client) -> None:
    response = client.post("/account/signout", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302


def test_signing_out_ends_every_copy_of_the_session_and_the_remember_me_cookie(
    app, client, session
):
    user = make_user(session)
    _sign_in_remembered(client, user)
    copies = _copies(app, client)
    assert all(_signed_in(c) for c in copies)
    _sign_out(client)
    assert not _signed_in(client)
    assert not any(_signed_in(c) for c in copies)  # and they stay out on the next request
    assert not any(_signed_in(c) for c in copies)
    # Signing in again works, with new cookies; the old copies stay signed out.
    _sign_in_remembered(client, user)
    assert _signed_in(client)
    fresh = _copies(app, client)
    assert all(_signed_in(c) for c in fresh)
    assert not any(_signed_in(c) for c in copies)


def test_signing_out_on_one_device_signs_out_the_others(app, session):
    """The cookies are the browser's: a copy is indistinguishable from another device's
    sign-in, so a sign-out ends every session of the account (see the README)."""
    user = make_user(session)
    phone, laptop = app.test_client(), app.test_client()
    _sign_in_remembered(phone, user)
    _sign_in_remembered(laptop, user)
    _sign_out(phone)
    assert not _signed_in(laptop)


def test_a_password_change_ends_every_session_and_the_new_password_signs_in(app, client, session):
    user = make_user(session)
    _sign_in_remembered(client, user)
    copies = _copies(app, client)
    with pytest.raises(accounts.AccountError, match="current password is not right"):
        accounts.change_password(
            session=session,
            user=user,
            current_password="not the password",
            new_password="a new long password",
        )
    assert all(_signed_in(c) for c in (client, *copies))  # a refused change ends nothing
    accounts.change_password(
        session=session, user=user, current_password=PASSWORD, new_password="a new long password"
    )
    assert not any(_signed_in(c) for c in (client, *copies))
    again = app.test_client()
    refused = again.post(
        "/account/signin",
        data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(again)},
    )
    assert refused.status_code == 422
    _sign_in_remembered(again, user, password="a new long password")
    assert _signed_in(again)


def test_a_password_change_checks_the_new_password(session):
    user = make_user(session)
    with pytest.raises(accounts.AccountError, match="at least 10 characters"):
        accounts.change_password(
            session=session, user=user, current_password=PASSWORD, new_password="short"
        )
    with pytest.raises(accounts.AccountError, match="different from the current one"):
        accounts.change_password(
            session=session, user=user, current_password=PASSWORD, new_password=PASSWORD
        )
    session.refresh(user)
    assert user.session_version == 0


def test_deactivation_ends_every_session_and_sign_in_is_refused(app, client, session):
    user = make_user(session)
    _sign_in_remembered(client, user)
    copies = _copies(app, client)
    assert accounts.deactivate(session=session, user=user) is True
    assert not any(_signed_in(c) for c in (client, *copies))
    refused = client.post(
        "/account/signin",
        data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert refused.status_code == 422
    assert accounts.deactivate(session=session, user=user) is False  # nothing more to do


def test_the_version_is_checked_on_every_request(app, client, session):
    """A change made elsewhere (another process, the CLI) counts on the next request."""
    user = make_user(session)
    _sign_in_remembered(client, user)
    assert _signed_in(client)
    accounts.end_sessions(session=session, user=user)
    assert not _signed_in(client)


def test_sign_outs_from_two_stale_sessions_both_count(session):
    """The version is raised by one UPDATE, never read and written back."""
    from registry.db import new_session

    user = make_user(session)
    engine = session.get_bind()
    with new_session(engine) as first, new_session(engine) as second:
        one, two = first.get(User, user.id), second.get(User, user.id)
        accounts.end_sessions(session=first, user=one)
        accounts.end_sessions(session=second, user=two)
        assert (one.session_version, two.session_version) == (1, 2)
    session.refresh(user)
    assert user.session_version == 2


def test_a_cookie_naming_no_version_or_a_malformed_one_signs_nobody_in(session):
    user = make_user(session)
    assert accounts.session_user(session=session, token=user.get_id()) == user
    for token in (str(user.id), f"{user.id}:", f"{user.id}:1", f"{user.id}:x", ":0", "١:0", ""):
        assert accounts.session_user(session=session, token=token) is None, token
