"""Tables and the DDL that creates them."""

from __future__ import annotations

from sqlalchemy import Engine
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


def create_tables(engine: Engine) -> None:  # error: QM309
    Base.metadata.create_all(engine)  # error: QM416


def drop_tables(engine: Engine) -> None:
    # Only scripts call this: it never runs on the event loop.
    Base.metadata.drop_all(bind=engine)  # ok: QM416


def table_names() -> list[str]:
    return sorted(Base.metadata.tables)  # ok: QM416
