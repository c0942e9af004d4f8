"""``/books/{id}/cover``: PNG or JPEG by their leading bytes, at most 5 MiB, with an ETag."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.contract.helpers import JPEG
from tests.contract.helpers import PNG
from tests.contract.helpers import assert_problem
from tests.contract.helpers import create_book

Snapshot = Callable[[], dict[str, list[tuple[Any, ...]]]]
FIVE_MIB = 5 * 1024 * 1024


@pytest.mark.parametrize(("image", "media_type"), [(PNG, "image/png"), (JPEG, "image/jpeg")])
def test_upload_and_fetch_a_cover(
    user: httpx.Client, api: httpx.Client, image: bytes, media_type: str
) -> None:
    book = create_book(user)
    # The client's Content-Type for the part is deliberately wrong: the bytes decide.
    response = user.put(
        f"/books/{book['id']}/cover", files={"file": ("cover.bin", image, "text/plain")}
    )
    assert response.status_code == 204 and response.content == b""
    fetched = api.get(f"/books/{book['id']}/cover")
    assert fetched.status_code == 200
    assert fetched.content == image
    assert fetched.headers["Content-Type"] == media_type
    etag = fetched.headers["ETag"]
    again = api.get(f"/books/{book['id']}/cover", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == etag


def test_a_new_cover_gets_a_new_etag(user: httpx.Client, api: httpx.Client) -> None:
    book = create_book(user)
    user.put(f"/books/{book['id']}/cover", files={"file": ("c.png", PNG)})
    first = api.get(f"/books/{book['id']}/cover").headers["ETag"]
    user.put(f"/books/{book['id']}/cover", files={"file": ("c.jpg", JPEG)})
    response = api.get(f"/books/{book['id']}/cover", headers={"If-None-Match": first})
    assert response.status_code == 200 and response.content == JPEG
    assert response.headers["ETag"] != first


def test_a_cover_of_exactly_five_mebibytes_is_accepted(
    user: httpx.Client, api: httpx.Client
) -> None:
    book = create_book(user)
    image = PNG + b"\x00" * (FIVE_MIB - len(PNG))
    assert (
        user.put(f"/books/{book['id']}/cover", files={"file": ("c.png", image)}).status_code == 204
    )
    assert len(api.get(f"/books/{book['id']}/cover").content) == FIVE_MIB


def test_a_cover_over_five_mebibytes_is_413(user: httpx.Client, db_snapshot: Snapshot) -> None:
    book = create_book(user)
    before = db_snapshot()
    image = PNG + b"\x00" * (FIVE_MIB + 1 - len(PNG))
    assert_problem(user.put(f"/books/{book['id']}/cover", files={"file": ("c.png", image)}), 413)
    assert db_snapshot() == before


@pytest.mark.parametrize(
    "data",
    [
        b"GIF89a" + bytes(32),
        b"%PDF-1.7",
        b"",
        b"\x89PNG",
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
    ],
)
def test_anything_but_png_or_jpeg_is_415(
    user: httpx.Client, db_snapshot: Snapshot, data: bytes
) -> None:
    book = create_book(user)
    before = db_snapshot()
    response = user.put(f"/books/{book['id']}/cover", files={"file": ("c.png", data, "image/png")})
    assert_problem(response, 415)
    assert db_snapshot() == before


def test_a_body_that_is_not_a_form_is_415(user: httpx.Client, db_snapshot: Snapshot) -> None:
    book = create_book(user)
    before = db_snapshot()
    response = user.put(
        f"/books/{book['id']}/cover", content=PNG, headers={"Content-Type": "image/png"}
    )
    assert_problem(response, 415)
    assert db_snapshot() == before


def test_a_form_without_a_file_is_400(user: httpx.Client, db_snapshot: Snapshot) -> None:
    book = create_book(user)
    before = db_snapshot()
    assert_problem(user.put(f"/books/{book['id']}/cover", files={"image": ("c.png", PNG)}), 400)
    assert_problem(
        user.put(
            f"/books/{book['id']}/cover", data={"file": "not a file"}, files={"x": ("y", b"z")}
        ),
        400,
    )
    assert db_snapshot() == before


def test_cover_errors(user: httpx.Client, api: httpx.Client, db_snapshot: Snapshot) -> None:
    book = create_book(user)
    before = db_snapshot()
    assert_problem(api.put(f"/books/{book['id']}/cover", files={"file": ("c.png", PNG)}), 401)
    assert_problem(user.put("/books/4242/cover", files={"file": ("c.png", PNG)}), 404)
    assert_problem(api.get("/books/4242/cover"), 404)
    assert_problem(api.get(f"/books/{book['id']}/cover"), 404)
    assert db_snapshot() == before
