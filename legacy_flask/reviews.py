"""``/books/{id}/reviews``: list a book's reviews, newest first, and add one per user."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import jsonify
from flask import request

from legacy_flask import store
from legacy_flask.auth import current_user
from legacy_flask.auth import login_required
from legacy_flask.extensions import db_session
from legacy_flask.schemas import PageQuery
from legacy_flask.schemas import ReviewIn
from legacy_flask.schemas import page_links
from legacy_flask.schemas import review_json
from legacy_flask.validation import json_body
from legacy_flask.validation import query_args

bp = Blueprint("reviews", __name__, url_prefix="/books/<id:book_id>/reviews")


@bp.get("")
def list_reviews(book_id: int) -> Response:
    page = query_args(PageQuery)
    reviews, total = store.list_reviews(db_session(), book_id, page)
    response = jsonify(
        {
            "items": [review_json(review, reviewer) for review, reviewer in reviews],
            "total": total,
            "limit": page.limit,
            "offset": page.offset,
        }
    )
    link = page_links(request.path, {}, page.limit, page.offset, total)
    if link:
        response.headers["Link"] = link
    return response


@bp.post("")
@login_required
def create_review(book_id: int) -> Response:
    data = json_body(ReviewIn)
    user = current_user()
    assert user is not None  # login_required
    review = store.create_review(db_session(), book_id, user, data)
    db_session().commit()
    response = jsonify(review_json(review, user.username))
    response.status_code = 201
    response.headers["Location"] = f"/books/{book_id}/reviews/{review.id}"
    return response
