"""UnitOfWork: a SQLAlchemy session block in one worker call, on a real SQLite file."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy import String
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import SessionTransaction
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import sessionmaker

from migrate import UnitOfWork
from migrate import WorkerPool
from migrate import is_run_sync


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(200))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'notes.sqlite3'}")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine)


def add_note(session: Session, text: str) -> int:
    note = Note(text=text)
    session.add(note)
    session.flush()
    return note.id


def count_notes(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Note)) or 0


async def test_work_commits_and_returns_plain_data(
    pool: WorkerPool, factory: sessionmaker[Session]
) -> None:
    uow = UnitOfWork(factory)
    note_id = await uow.run(add_note, "first")
    assert note_id == 1
    assert await uow.run(count_notes) == 1


async def test_an_error_rolls_back_and_keeps_its_type(
    pool: WorkerPool, factory: sessionmaker[Session]
) -> None:
    uow = UnitOfWork(factory)

    def add_then_fail(session: Session) -> None:
        add_note(session, "doomed")
        raise ValueError("validation failed after the insert")

    with pytest.raises(ValueError, match="validation failed"):
        await uow.run(add_then_fail)
    assert await uow.run(count_notes) == 0


async def test_the_session_lives_in_one_thread_and_is_closed_before_the_await_ends(
    pool: WorkerPool, factory: sessionmaker[Session]
) -> None:
    events: list[tuple[str, str]] = []
    sessions: list[Session] = []

    def record(name: str) -> None:
        events.append((name, threading.current_thread().name))

    def on_transaction(_: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:  # The outermost transaction, not a flush's own.
            record("begin")

    event.listen(factory, "after_transaction_create", on_transaction)
    event.listen(factory, "after_commit", lambda *_: record("commit"))

    def work(session: Session) -> int:
        sessions.append(session)
        record("work")
        return add_note(session, "tracked")

    await UnitOfWork(factory).run(work)

    assert [name for name, _ in events] == ["begin", "work", "commit"]
    threads = {thread for _, thread in events}
    assert len(threads) == 1
    assert threads.pop().startswith(f"{pool.name}_")
    (session,) = sessions
    assert not session.in_transaction()
    assert len(session.identity_map) == 0  # Closed: nothing left attached.


async def test_read_only_rolls_back(pool: WorkerPool, factory: sessionmaker[Session]) -> None:
    reads = UnitOfWork(factory, read_only=True)
    assert await reads.run(add_note, "never saved") == 1
    assert await UnitOfWork(factory).run(count_notes) == 0


async def test_decorator_form_drops_the_session_parameter(
    pool: WorkerPool, factory: sessionmaker[Session]
) -> None:
    uow = UnitOfWork(factory)

    @uow
    def add_many(session: Session, *texts: str) -> int:
        for text in texts:
            add_note(session, text)
        return count_notes(session)

    assert await add_many("a", "b", "c") == 3
    assert add_many.__name__ == "add_many"
    assert is_run_sync(add_many)


async def test_returning_the_session_is_refused(
    pool: WorkerPool, factory: sessionmaker[Session]
) -> None:
    with pytest.raises(TypeError, match="must not return its session"):
        await UnitOfWork(factory).run(lambda session: session)


async def test_concurrent_units_do_not_share_sessions(
    pool: WorkerPool, factory: sessionmaker[Session]
) -> None:
    uow = UnitOfWork(factory)
    ids = await asyncio.gather(*(uow.run(add_note, f"note {n}") for n in range(12)))
    assert sorted(ids) == list(range(1, 13))
    assert await uow.run(count_notes) == 12
