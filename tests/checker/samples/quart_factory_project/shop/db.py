"""Tables and the DDL that creates them, run through the async engine."""

from __future__ import annotations

from sqlalchemy import Connection
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column


class Base(DeclarativeBase):
    pass


class Book(Base):
    __tablename__ = "book"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]


class User(Base):
    __tablename__ = "user"
    name: Mapped[str] = mapped_column(primary_key=True)


def create_tables(connection: Connection) -> None:  # ok: QM309
    # Passed to ``AsyncConnection.run_sync``: SQLAlchemy drives it through the async driver.
    Base.metadata.create_all(connection)  # ok: QM416
