"""Both apps on one database at the same time: a row written by one is read by the other.

This is what makes a gradual cut-over possible (both apps behind one load balancer), and it
holds only while ``legacy_flask/models.py`` and ``quart_app/models.py`` map the same columns
the same way (``docs/database.md``).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.conftest import ADMIN
from tests.contract.conftest import USER
from tests.contract.conftest import login
from tests.contract.conftest import no_server_errors
from tests.contract.helpers import JPEG
from tests.contract.helpers import assert_problem
from tests.contract.helpers import create_book
from tests.contract.targets import TARGETS


@pytest.mark.parametrize(
    ("writer", "other"), [("flask", "quart"), ("quart", "flask"), ("quart-threaded", "quart")]
)
def test_a_book_written_through_one_app_is_read_changed_and_deleted_through_the_other(
    bookstore_config: dict[str, Any], writer: str, other: str
) -> None:
    with (
        TARGETS[writer](bookstore_config, no_server_errors) as first,
        TARGETS[other](bookstore_config, no_server_errors) as second,
    ):
        author = first.client()
        assert (
            author.post(
                "/auth/register", json={"username": USER[0], "password": USER[1]}
            ).status_code
            == 201
        )
        login(author, *USER)
        editor = login(second.client(), *USER)  # the same account, through the other app
        admin = login(second.client(), *ADMIN)

        book = create_book(author)
        assert second.client().get(f"/books/{book['id']}").json() == book

        patched = editor.patch(
            f"/books/{book['id']}", json={"price_cents": 5}, headers={"If-Match": '"1"'}
        )
        assert patched.status_code == 200 and patched.json()["version"] == 2
        assert author.get(f"/books/{book['id']}").json() == patched.json()
        assert_problem(
            author.put(
                f"/books/{book['id']}",
                json={"title": "T", "author": "A"},
                headers={"If-Match": '"1"'},
            ),
            412,
        )

        review = author.post(f"/books/{book['id']}/reviews", json={"rating": 4, "text": "ok"})
        assert review.status_code == 201
        assert editor.get(f"/books/{book['id']}/reviews").json()["items"] == [review.json()]
        assert_problem(editor.post(f"/books/{book['id']}/reviews", json={"rating": 1}), 409)

        assert (
            editor.put(f"/books/{book['id']}/cover", files={"file": ("c.jpg", JPEG)}).status_code
            == 204
        )
        cover = author.get(f"/books/{book['id']}/cover")
        assert cover.content == JPEG and cover.headers["Content-Type"] == "image/jpeg"

        listed = author.get("/books/export.csv").text.splitlines()
        assert listed[1] == second.client().get("/books/export.csv").text.splitlines()[1]

        assert admin.delete(f"/books/{book['id']}", headers={"If-Match": '"2"'}).status_code == 204
        assert_problem(author.get(f"/books/{book['id']}"), 404)
        assert_problem(author.get(f"/books/{book['id']}/cover"), 404)
