from sqlmodel import select

from registry.models import User
from tests.conftest import csrf_token
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
