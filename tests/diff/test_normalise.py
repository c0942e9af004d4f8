"""Normalising answers and rendering their differences, on canned responses (no server)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from compare.diff import TIMESTAMP
from compare.diff import Answer
from compare.diff import Comparison
from compare.diff import capture
from compare.diff import normalise
from compare.diff import normalise_json
from compare.diff import normalise_media_type
from compare.diff import report_json
from compare.diff import report_text

BASE = "http://127.0.0.1:8000"


def answer(
    status: int = 200,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    *,
    json_body: Any = None,
) -> Answer:
    """Normalise a canned response from the deployment at :data:`BASE`."""
    if json_body is not None:
        body = json.dumps(json_body).encode()
        headers = {"Content-Type": "application/json", **(headers or {})}
    return normalise(httpx.Response(status, headers=headers, content=body), BASE)


def comparison(old: Answer, new: Answer) -> Comparison:
    return Comparison("read a book", 2, "one book", "GET", "/books/1", "/books/1", old, new)


@pytest.mark.parametrize(
    "value",
    [
        "2024-05-06T07:08:09Z",
        "2024-05-06T07:08:09.123456Z",
        "2024-05-06T07:08:09+02:00",
        "2024-05-06t07:08:09.5-05:30",
    ],
)
def test_rfc3339_timestamps_become_the_placeholder_at_any_depth(value: str) -> None:
    document = {"created_at": value, "items": [{"updated_at": value}], "nested": {"at": [value]}}

    assert normalise_json(document) == {
        "created_at": TIMESTAMP,
        "items": [{"updated_at": TIMESTAMP}],
        "nested": {"at": [TIMESTAMP]},
    }


@pytest.mark.parametrize(
    "value",
    [
        "2024-05-06",
        "2024-05-06 07:08:09Z",
        "2024-05-06T07:08Z",
        "2024-05-06T07:08:09",
        "updated 2024-05-06T07:08:09Z",
        "Emma",
    ],
)
def test_other_strings_stay_as_they_are(value: str) -> None:
    assert normalise_json({"title": value}) == {"title": value}


def test_checked_at_becomes_the_placeholder_whatever_its_form() -> None:
    document = {"book_id": 1, "in_stock": 7, "checked_at": "a moment ago"}

    assert normalise_json(document) == {"book_id": 1, "in_stock": 7, "checked_at": TIMESTAMP}
    # Only strings: a null or a number there is a difference worth seeing.
    assert normalise_json({"checked_at": None}) == {"checked_at": None}
    assert normalise_json({"checked_at": 5}) == {"checked_at": 5}


def test_numbers_booleans_and_nulls_are_kept() -> None:
    document = {"id": 1, "price_cents": 0, "is_admin": False, "year": None, "ratio": 1.5}

    assert normalise_json(document) == document


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("text/csv; charset=utf-8", "text/csv;charset=utf-8"),
        ("text/csv; charset=utf-8", "Text/CSV ;  Charset=UTF-8"),
        ("text/csv; charset=utf-8", 'text/csv; charset="utf-8"'),
        ("multipart/mixed; a=1; b=2", "multipart/mixed; b=2; a=1"),
        ("application/json", " application/json "),
    ],
)
def test_media_types_equal_up_to_case_spacing_quoting_and_order(one: str, other: str) -> None:
    assert normalise_media_type(one) == normalise_media_type(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("text/csv", "text/csv; charset=utf-8"),
        ("text/csv; charset=utf-8", "text/csv; charset=latin-1"),
        ("application/json", "application/problem+json"),
        ("application/json", "application/json; charset=utf-8"),
        ("multipart/mixed; boundary=AB", "multipart/mixed; boundary=ab"),
    ],
)
def test_media_types_differ_in_type_parameters_and_values(one: str, other: str) -> None:
    assert normalise_media_type(one) != normalise_media_type(other)


def test_compared_headers_are_normalised_and_the_rest_ignored() -> None:
    normalised = answer(
        201,
        {
            "content-type": "Application/JSON",
            "location": f"{BASE}/books/37",
            "etag": '"1"',
            "allow": "PUT,GET, OPTIONS ,HEAD,GET",
            "link": f'<{BASE}/books?limit=20&offset=20>; rel="next", <https://elsewhere/x>; rel="a"',
            "Date": "Sun, 06 May 2024 07:08:09 GMT",
            "Server": "waitress",
            "Set-Cookie": "session=abc; HttpOnly",
            "Content-Length": "0",
        },
    )

    assert normalised.headers == {
        "Content-Type": "application/json",
        "Location": "/books/37",
        "ETag": '"1"',
        "Allow": "GET, HEAD, OPTIONS, PUT",
        "Link": '</books?limit=20&offset=20>; rel="next", <https://elsewhere/x>; rel="a"',
    }


def test_a_location_on_another_origin_is_kept_whole() -> None:
    assert answer(201, {"Location": "http://127.0.0.1:9999/books/1"}).headers == {
        "Location": "http://127.0.0.1:9999/books/1"
    }


def test_json_and_problem_bodies_are_parsed_and_normalised() -> None:
    problem = {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "gone"}
    book = {"id": 1, "created_at": "2024-05-06T07:08:09Z"}

    assert answer(200, json_body=book).body == {"id": 1, "created_at": TIMESTAMP}
    found = answer(404, {"Content-Type": "application/problem+json"}, json.dumps(problem).encode())
    assert found.body == problem


def test_text_bodies_have_their_timestamps_replaced() -> None:
    csv = b"id,title,created_at\r\n1,Emma,2024-05-06T07:08:09.000001Z\r\n"

    normalised = answer(200, {"Content-Type": "text/csv; charset=utf-8"}, csv)

    assert normalised.body == f"id,title,created_at\r\n1,Emma,{TIMESTAMP}\r\n"


def test_other_bodies_become_their_size_and_digest() -> None:
    png = b"\x89PNG\r\n\x1a\n0000"

    normalised = answer(200, {"Content-Type": "image/png"}, png)

    assert normalised.body.startswith("<12 bytes, sha256 ")
    assert normalised.body == answer(200, {"Content-Type": "image/png"}, png).body
    assert normalised.body != answer(200, {"Content-Type": "image/png"}, png + b"1").body


def test_a_json_media_type_with_a_broken_body_is_compared_as_text() -> None:
    normalised = answer(200, {"Content-Type": "application/json"}, b"{not json")

    assert normalised.body == "{not json"


def test_an_empty_body_is_none() -> None:
    assert answer(204).body is None


def test_key_order_does_not_make_a_difference() -> None:
    one = answer(json_body={"id": 1, "title": "Emma"})
    other = answer(json_body={"title": "Emma", "id": 1})

    assert not comparison(one, other).differs
    assert comparison(one, other).diff() == ""


@pytest.mark.parametrize(
    ("one", "other"), [(1, 1.0), (1, True), (0, False), ("1", 1), (None, "null"), ([], {})]
)
def test_json_types_make_a_difference(one: Any, other: Any) -> None:
    old, new = answer(json_body={"value": one}), answer(json_body={"value": other})

    assert comparison(old, new).differs
    assert comparison(old, new).diff()


def test_a_difference_is_a_unified_diff_of_the_rendered_answers() -> None:
    old = answer(200, {"ETag": '"1"'}, json_body={"id": 1, "title": "Emma", "year": 1815})
    new = answer(200, {"ETag": '"2"'}, json_body={"id": 1, "title": "Emma", "year": 1816})

    assert comparison(old, new).diff() == "\n".join(
        [
            "--- old GET /books/1",
            "+++ new GET /books/1",
            "@@ -1,9 +1,9 @@",
            " HTTP 200",
            " Content-Type: application/json",
            '-ETag: "1"',
            '+ETag: "2"',
            " ",
            " {",
            '   "id": 1,',
            '   "title": "Emma",',
            '-  "year": 1815',
            '+  "year": 1816',
            " }",
        ]
    )


def test_status_and_missing_headers_show_in_the_diff() -> None:
    old = answer(304, {"ETag": '"1"'})
    new = answer(200, json_body={"id": 1})

    diff = comparison(old, new).diff()

    assert "-HTTP 304" in diff
    assert "+HTTP 200" in diff
    assert '-ETag: "1"' in diff
    assert "+Content-Type: application/json" in diff


def test_reports_list_only_the_differences() -> None:
    same = comparison(answer(json_body={"a": 1}), answer(json_body={"a": 1}))
    different = comparison(answer(json_body={"a": 1}), answer(json_body={"a": 2}))

    text = report_text([same, different])
    document = report_json([same, different], BASE, "http://127.0.0.1:8001")

    assert text.startswith("# read a book / step 2: one book\n--- old GET /books/1\n")
    assert text.count("--- old") == 1
    assert document["requests"] == 2
    assert document["old"] == BASE
    assert [d["label"] for d in document["differences"]] == ["one book"]
    assert document["differences"][0]["old"]["body"] == {"a": 1}
    assert document["differences"][0]["new"]["body"] == {"a": 2}
    assert json.loads(json.dumps(document)) == document


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("status", 201),
        ("header.ETag", '"1"'),
        ("header.etag", '"1"'),
        ("header.X-Missing", None),
        ("body.id", 37),
        ("body.items.0.id", 5),
        ("body.items.3.id", None),
        ("body.nothing.here", None),
        ("body", {"id": 37, "items": [{"id": 5}]}),
    ],
)
def test_captures_pick_status_headers_and_json_values(expression: str, expected: Any) -> None:
    response = httpx.Response(201, headers={"ETag": '"1"'}, json={"id": 37, "items": [{"id": 5}]})

    assert capture(response, expression) == expected


def test_a_capture_from_a_body_that_is_not_json_is_none() -> None:
    assert capture(httpx.Response(200, content=b"id=37"), "body.id") is None


def test_the_deployments_own_origin_is_removed_from_bodies() -> None:
    html = f'<a href="{BASE}/books/1">{BASE}/books/1</a> at 2024-05-06T07:08:09Z'.encode()
    problem = {"detail": f"see {BASE}/books/1, not http://elsewhere/books/1"}

    text = answer(308, {"Content-Type": "text/html; charset=utf-8"}, html)
    document = answer(400, json_body=problem)

    assert text.body == f'<a href="/books/1">/books/1</a> at {TIMESTAMP}'
    assert document.body == {"detail": "see /books/1, not http://elsewhere/books/1"}
