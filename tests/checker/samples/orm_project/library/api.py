"""A client object for a remote service; its ``session`` is not SQLAlchemy's."""

from __future__ import annotations


class Client:
    def __init__(self, session) -> None:
        self.session = session


client = Client(None)
