"""``/books/{id}/cover``: upload a PNG or JPEG cover and fetch it with an ETag."""

from __future__ import annotations

import io

from quart import Blueprint
from quart import Response
from quart import request
from quart import send_file
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.exceptions import UnsupportedMediaType

from legacy_flask.media import sniff_image
from legacy_flask.settings import MAX_COVER_BYTES
from migrate import run_sync
from quart_app.auth import login_required
from quart_app.extensions import data_layer
from quart_app.extensions import worker_pool
from quart_app.openapi import headers
from quart_app.openapi import links
from quart_app.openapi import problems
from quart_app.openapi import request_body
from quart_app.openapi import responds
from quart_app.responses import no_content
from quart_app.responses import not_modified

bp = Blueprint("covers", __name__, url_prefix="/books/<id:book_id>/cover")


@bp.put("")
@responds(204)
@links(204, "book_id", "$request.path.book_id", "get_get_cover")
@problems(400, 401, 404, 413, 415)
@request_body(
    "multipart/form-data",
    {
        "type": "object",
        "properties": {"file": {"type": "string", "format": "binary"}},
        "required": ["file"],
    },
)
@login_required
async def put_cover(book_id: int) -> Response:
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMediaType("upload the cover as multipart/form-data, field 'file'")
    upload = (await request.files).get("file")
    if upload is None:
        raise BadRequest("the form has no 'file' field")
    # The parsed upload may be spooled to a temporary file: read it off the event loop.
    data = await run_sync(upload.stream.read, pool=worker_pool())(MAX_COVER_BYTES + 1)
    if len(data) > MAX_COVER_BYTES:
        raise RequestEntityTooLarge(f"a cover may have at most {MAX_COVER_BYTES} bytes")
    media_type = sniff_image(data)
    if media_type is None:
        raise UnsupportedMediaType("the cover must be a PNG or JPEG image")
    await data_layer().set_cover(book_id, media_type, data)
    return no_content()


@bp.get("")
@headers(200, "ETag")
@headers(206, "ETag")
@headers(304, "ETag")
@responds(200, "image/png", "image/jpeg")
@responds(206, "image/png", "image/jpeg")
@responds(304)
@problems(404, 416)
async def get_cover(book_id: int) -> Response:
    cover = await data_layer().get_cover(book_id)
    if request.if_none_match.contains_weak(cover.sha256):
        return not_modified(cover.sha256)
    # Quart's send_file takes a path or a BytesIO (not any file object) and sets no ETag
    # for one; the cover's ETag is its SHA-256. cache_timeout=0: revalidate every time.
    # conditional=True answers a Range request with 206, as Flask's send_file does.
    response = await send_file(
        io.BytesIO(cover.data), mimetype=cover.media_type, cache_timeout=0, conditional=True
    )
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
