"""A library app whose database layer hides SQLAlchemy sessions behind modules and properties."""

from __future__ import annotations

from flask import Flask  # error: QM101, QM102

from library import ub
from library.db import CalibreDB

app = Flask(__name__)  # error: QM102
app.config["MAX_CONTENT_LENGTH"] = 64 * 1024 * 1024  # ok: QM709
calibre_db = CalibreDB()
ub.init_db("sqlite:///app.db")
