"""A migrated module: Quart imports, extensions and werkzeug helpers stay silent."""

from __future__ import annotations

import quart  # ok: QM101
from quart import Quart  # ok: QM102
from quart import request  # ok: QM101
from quart.testing import QuartClient  # ok: QM104
from werkzeug.security import check_password_hash  # ok: QM101
from werkzeug.utils import secure_filename  # ok: QM101

app = Quart(__name__)  # ok: QM102  # error: QM709 (a renamed class keeps Quart's 16 MiB default)


class Client(QuartClient):  # ok: QM104
    pass


@app.post("/upload")
async def upload():
    files = await request.files  # ok: QM201
    name = secure_filename(files["f"].filename)
    return quart.jsonify(name=name, hashed=check_password_hash)  # ok: QM103
