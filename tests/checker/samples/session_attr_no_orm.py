"""Without SQLAlchemy in the run, ``x.session.query`` is some other library's session."""

from __future__ import annotations

from quart import Quart

app = Quart(__name__)
app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024  # ok: QM709


class Search:
    def __init__(self, session) -> None:
        self.session = session


search = Search(None)


@app.get("/search")
async def find():
    return {"hits": search.session.query("books")}  # ok: QM416
