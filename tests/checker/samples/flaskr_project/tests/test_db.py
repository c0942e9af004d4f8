import sqlite3

import pytest
from flaskr.db import get_db


def test_get_close_db(app):  # error: QM306
    with app.app_context():  # error: QM211
        db = get_db()  # error: QM307
        assert db is get_db()  # error: QM307

    with pytest.raises(sqlite3.ProgrammingError) as e:  # error: QM681
        db.execute("SELECT 1")

    assert "closed" in str(e.value)


def test_closed_db_type_only(app):  # error: QM306
    with app.app_context():  # error: QM211
        db = get_db()  # error: QM307

    with pytest.raises(sqlite3.ProgrammingError):  # ok: QM681
        db.execute("SELECT 1")


def test_integrity_error_message(app):  # error: QM306
    with app.app_context():  # error: QM211
        db = get_db()  # error: QM307
        with pytest.raises(sqlite3.IntegrityError) as e:  # ok: QM681
            db.execute("INSERT INTO user (id) VALUES (1), (1)")
        assert "UNIQUE" in str(e.value)
