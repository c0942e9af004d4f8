import pytest
from flaskr.db import get_db
from quart import g  # ok: QM101
from quart import session  # ok: QM101, QM721


async def test_register(client, app):  # ok: QM306
    assert (await client.get("/auth/register")).status_code == 200  # ok: QM601
    response = await client.post(  # ok: QM601
        "/auth/register", form={"username": "a", "password": "a"}  # ok: QM603
    )
    assert response.headers["Location"] == "/auth/login"  # ok: QM607

    async with app.app_context():  # ok: QM211
        db = await get_db()  # ok: QM307
        cursor = await db.execute("SELECT * FROM user WHERE username = 'a'")  # ok: QM409
        assert await cursor.fetchone() is not None  # ok: QM409


@pytest.mark.parametrize(
    ("username", "password", "message"),
    (
        ("", "", b"Username is required."),
        ("a", "", b"Password is required."),
        ("test", "test", b"already registered"),
    ),
)
async def test_register_validate_input(client, username, password, message):  # ok: QM306
    response = await client.post(  # ok: QM601
        "/auth/register", form={"username": username, "password": password}  # ok: QM603
    )
    assert response.status_code == 200 and message in await response.get_data()  # ok: QM607, QM609


async def test_login(client, auth):  # ok: QM306
    assert (await client.get("/auth/login")).status_code == 200  # ok: QM601
    response = await auth.login()  # ok: QM307
    assert response.headers["Location"] == "/"  # ok: QM607

    async with client:  # ok: QM602
        await client.get("/")  # ok: QM601
        assert session["user_id"] == 1
        assert g.user["username"] == "test"


async def test_logout(client, auth):  # ok: QM306
    await auth.login()  # ok: QM307

    async with client:  # ok: QM602
        await auth.logout()  # ok: QM307
        assert "user_id" not in session


def test_credentials(auth):  # ok: QM305
    assert auth.credentials() == ("test", "test")  # ok: QM307


async def test_api(client):  # ok: QM306
    client.set_cookie("localhost", "theme", "dark")  # ok: QM606
    response = await client.get("/api/books", query_string={"page": 2})  # ok: QM601, QM605
    assert await response.get_json() == {"books": []}  # ok: QM607
    assert await response.get_data(as_text=True) == ""  # ok: QM607
    raw = await client.post(  # ok: QM601
        "/upload", data=b"a,b", headers={"Content-Type": "text/csv"}  # ok: QM603, QM604
    )
    assert raw.status_code == 201  # ok: QM607
    async with client.session_transaction() as sess:  # ok: QM602
        sess["user_id"] = 1
