"""The catalogue database: a ``session`` property opens one session per app context."""

from __future__ import annotations

from flask import g  # error: QM101
from sqlalchemy import create_engine
from sqlalchemy.orm import scoped_session
from sqlalchemy.orm import sessionmaker


class CalibreDB:
    @property
    def session(self):
        if not g.get("lib_sql"):
            g.lib_sql = self.connect()
        return g.lib_sql

    @classmethod
    def connect(cls):
        return scoped_session(sessionmaker(bind=create_engine("sqlite:///metadata.db")))  # ok: QM416

    def get_book(self, book_id: int):
        # Reached only as ``calibre_db.get_book(...)``, a call the checker does not follow.
        return self.session.query(dict).filter_by(id=book_id).first()


def book_count() -> int:  # error: QM309
    return CalibreDB().session.query(dict).count()  # error: QM416
