import unittest

from webtest import TestApp

from shop import app


class ViewsTest(unittest.TestCase):  # error: QM608
    def setUp(self):
        self.client = app.test_client()

    def test_user(self):  # error: QM306
        client = app.test_client()
        response = client.get("/users/1")  # error: QM601
        assert b"ok" in response.data  # error: QM607, QM609


class PlainTest(unittest.TestCase):  # ok: QM608
    def test_sum(self):
        assert 1 + 1 == 2


class CheckedTest(unittest.IsolatedAsyncioTestCase):  # ok: QM608
    async def test_user(self):
        response = await app.test_client().get("/users/1")
        assert response.status_code == 200


def test_status_checked(client):  # error: QM306
    response = client.get("/users/1")  # error: QM601
    assert response.status_code == 200
    assert b"ok" in response.data  # error: QM607  # ok: QM609


def test_template_text(client):  # error: QM306
    response = client.get("/users/1")  # error: QM601
    # Only a template holds this text: a crash page, which quotes Python source, cannot.
    assert b"Welcome back to the shop" in response.data  # error: QM607  # ok: QM609


def test_not_a_response():
    class Payload:
        data = b"ok"

    # Neither haystack is a test client's response: no error page can answer them.
    assert b"ok" in Payload.data  # ok: QM609
    assert "ok" in {"ok": 1}  # ok: QM609


def test_webtest():
    wt = TestApp(app)  # error: QM706
    wt.get("/users/1")


def test_wsgi_callable():
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/"}
    app.wsgi_app(environ, lambda status, headers: None)  # error: QM106
    app.asgi_app  # ok: QM106
