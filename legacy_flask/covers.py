"""``/books/{id}/cover``: upload a PNG or JPEG cover and fetch it with an ETag."""

from __future__ import annotations

import io

from flask import Blueprint
from flask import Response
from flask import request
from flask import send_file
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.exceptions import UnsupportedMediaType

from legacy_flask import store
from legacy_flask.auth import login_required
from legacy_flask.extensions import db_session
from legacy_flask.media import sniff_image
from legacy_flask.responses import no_content
from legacy_flask.responses import not_modified
from legacy_flask.settings import MAX_COVER_BYTES

bp = Blueprint("covers", __name__, url_prefix="/books/<id:book_id>/cover")


@bp.put("")
@login_required
def put_cover(book_id: int) -> Response:
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMediaType("upload the cover as multipart/form-data, field 'file'")
    upload = request.files.get("file")
    if upload is None:
        raise BadRequest("the form has no 'file' field")
    data = upload.stream.read(MAX_COVER_BYTES + 1)
    if len(data) > MAX_COVER_BYTES:
        raise RequestEntityTooLarge(f"a cover may have at most {MAX_COVER_BYTES} bytes")
    media_type = sniff_image(data)
    if media_type is None:
        raise UnsupportedMediaType("the cover must be a PNG or JPEG image")
    store.set_cover(db_session(), book_id, media_type, data)
    db_session().commit()
    return no_content()


@bp.get("")
def get_cover(book_id: int) -> Response:
    cover = store.get_cover(db_session(), book_id)
    if request.if_none_match.contains_weak(cover.sha256):
        return not_modified(cover.sha256)
    # max_age=0: clients revalidate with If-None-Match every time. send_file answers a Range
    # request with 206 (its conditional=True).
    response = send_file(io.BytesIO(cover.data), mimetype=cover.media_type, max_age=0)
    response.set_etag(cover.sha256)
    return cover_headers(response)


def cover_headers(response: Response) -> Response:
    """Give a cover the headers both apps send: revalidate every time, never sniff the type,
    ranges accepted."""
    response.headers["Cache-Control"] = "no-cache"
    response.headers.pop("Expires", None)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Accept-Ranges"] = "bytes"
    return response
