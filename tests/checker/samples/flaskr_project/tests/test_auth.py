import pytest
from flask import g  # error: QM101
from flask import session  # error: QM101  # ok: QM721
from flaskr.db import get_db


def test_register(client, app):  # error: QM306
    assert client.get("/auth/register").status_code == 200  # error: QM601
    response = client.post("/auth/register", data={"username": "a", "password": "a"})  # error: QM601, QM603
    assert response.headers["Location"] == "/auth/login"  # ok: QM607

    with app.app_context():  # error: QM211
        assert (
            get_db().execute("SELECT * FROM user WHERE username = 'a'").fetchone()  # error: QM307
            is not None
        )


@pytest.mark.parametrize(
    ("username", "password", "message"),
    (
        ("", "", b"Username is required."),
        ("a", "", b"Password is required."),
        ("test", "test", b"already registered"),
    ),
)
def test_register_validate_input(client, username, password, message):  # error: QM306
    response = client.post(  # error: QM601
        "/auth/register", data={"username": username, "password": password}  # error: QM603
    )
    assert message in response.data  # error: QM607, QM609


def test_login(client, auth):  # error: QM306
    assert client.get("/auth/login").status_code == 200  # error: QM601
    response = auth.login()  # error: QM307
    assert response.headers["Location"] == "/"  # ok: QM607

    with client:  # error: QM602
        client.get("/")  # error: QM601
        assert session["user_id"] == 1
        assert g.user["username"] == "test"


def test_logout(client, auth):  # error: QM306
    auth.login()  # error: QM307

    with client:  # error: QM602
        auth.logout()  # error: QM307
        assert "user_id" not in session


def test_api(client):  # error: QM306
    client.set_cookie("theme", "dark")  # error: QM606
    response = client.get("/api/books", query_string="page=2")  # error: QM601, QM605
    assert response.get_json() == {"books": []}  # error: QM607
    assert response.text == ""  # error: QM607
    raw = client.post("/upload", data=b"a,b", content_type="text/csv")  # error: QM601, QM604
    assert raw.status_code == 201  # ok: QM607
    client.set_cookie("localhost", "theme", "dark")  # ok: QM606
    ok = client.get("/api/books", query_string={"page": 2})  # error: QM601
    assert ok.status_code == 200  # ok: QM605


def test_credentials(auth):  # ok: QM305
    assert auth.credentials() == ("test", "test")  # ok: QM307


def test_helpers_are_not_clients(tmp_path):
    data = {"username": "a"}
    text = data.get("username")  # ok: QM601
    assert text == "a"  # ok: QM607
