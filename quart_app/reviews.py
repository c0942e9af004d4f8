"""``/books/{id}/reviews``: list a book's reviews, newest first, and add one per user."""

from __future__ import annotations

from typing import Any

from quart import Blueprint
from quart import request
from quart_schema import validate_request
from quart_schema import validate_response
from werkzeug.datastructures import Headers

from legacy_flask.schemas import PageQuery
from legacy_flask.schemas import ReviewIn
from legacy_flask.schemas import ReviewOut
from legacy_flask.schemas import ReviewPage
from legacy_flask.schemas import page_links
from legacy_flask.schemas import review_json
from quart_app import events
from quart_app.auth import load_user
from quart_app.auth import login_required
from quart_app.extensions import data_layer
from quart_app.openapi import headers
from quart_app.openapi import problems
from quart_app.responses import header_values
from quart_app.validation import json_body
from quart_app.validation import validate_query

bp = Blueprint("reviews", __name__, url_prefix="/books/<id:book_id>/reviews")


@bp.get("")
@headers(200, "Link", required=False)
@problems(400, 404)
@validate_query(PageQuery)
@validate_response(ReviewPage)
async def list_reviews(book_id: int, query_args: PageQuery) -> tuple[dict[str, Any], int, Headers]:
    reviews, total = await data_layer().list_reviews(book_id, query_args)
    page = {
        "items": [review_json(review, reviewer) for review, reviewer in reviews],
        "total": total,
        "limit": query_args.limit,
        "offset": query_args.offset,
    }
    link = page_links(request.path, {}, query_args.limit, query_args.offset, total)
    return page, 200, header_values(Link=link) if link else Headers()


@bp.post("")
@headers(201, "Location")
@problems(400, 401, 404, 409, 413, 415)
@login_required
@json_body()
@validate_request(ReviewIn)
@validate_response(ReviewOut, 201)
async def create_review(book_id: int, data: ReviewIn) -> tuple[dict[str, Any], int, Headers]:
    user = await load_user()
    assert user is not None  # login_required
    review = await data_layer().create_review(book_id, user, data)
    body = review_json(review, user.username)
    events.publish("review.created", review.id, body)
    return body, 201, header_values(Location=f"/books/{book_id}/reviews/{review.id}")
