"""``UnitOfWork``: a whole SQLAlchemy session block in one worker call."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from collections.abc import Coroutine
from typing import TYPE_CHECKING
from typing import Any
from typing import Concatenate
from typing import Generic
from typing import ParamSpec
from typing import TypeVar

from .current import current_pool
from .pool import WorkerPool
from .threads import RUN_SYNC_MARKER

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["UnitOfWork"]

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S", bound="Session")


class UnitOfWork(Generic[S]):
    """Run a function with a fresh session, and commit or roll back, in one worker call.

    The session is opened, used, committed (or rolled back) and closed inside a single
    call to the worker pool, so it never crosses an ``await``: no other task can touch
    it while it is open, and it never changes thread mid-transaction. A SQLAlchemy
    ``Session`` may move between threads only sequentially and is never safe to share
    (https://github.com/sqlalchemy/sqlalchemy/issues/5828)::

        uow = UnitOfWork(sessionmaker(engine))

        def add_book(session: Session, title: str) -> int:
            book = Book(title=title)
            session.add(book)
            session.flush()
            return book.id

        book_id = await uow.run(add_book, "Dune")

        @uow
        def count_books(session: Session) -> int: ...

        total = await count_books()

    *work* gets the session as its first argument and must not commit, close or keep
    it. Return plain data (ids, dicts, dataclasses): after the commit and the close, ORM
    instances are expired and detached, and reading them raises
    ``DetachedInstanceError`` unless the factory sets ``expire_on_commit=False``.

    :param session_factory: a ``sessionmaker`` or any callable returning a new
        ``Session`` that can be used as a context manager.
    :param pool: the :class:`~migrate.WorkerPool`; by default the one current at each call.
    :param timeout: seconds per unit of work, queueing included; ``None`` for no deadline.
        At the deadline :class:`TimeoutError` is raised while the work runs on in its
        thread and still commits or rolls back on its own (see :func:`~migrate.run_sync`).
    :param read_only: roll back instead of committing, for pure reads.
    :raises ValueError: if *timeout* is not positive.
    """

    def __init__(
        self,
        session_factory: Callable[[], S],
        *,
        pool: WorkerPool | None = None,
        timeout: float | None = None,
        read_only: bool = False,
    ) -> None:
        if timeout is not None and timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        self.session_factory = session_factory
        self.pool = pool
        self.timeout = timeout
        self.read_only = read_only

    async def run(
        self, work: Callable[Concatenate[S, P], R], /, *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """Call ``work(session, *args, **kwargs)`` in a transaction and return its result.

        The transaction commits when *work* returns and rolls back when it raises.

        :raises TypeError: if *work* returns the session itself.
        :raises BaseException: what *work*, the commit or the rollback raises, with its
            type and traceback; :class:`TimeoutError` and :class:`asyncio.CancelledError`
            as :func:`~migrate.run_sync` does.
        """
        pool = self.pool if self.pool is not None else current_pool()
        async with asyncio.timeout(self.timeout):
            return await pool.call(self._transaction, (work, args, kwargs))

    def __call__(self, work: Callable[Concatenate[S, P], R]) -> Callable[P, Coroutine[Any, Any, R]]:
        """Decorate *work* into an async function without the session parameter."""

        @functools.wraps(work)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            return await self.run(work, *args, **kwargs)

        setattr(wrapper, RUN_SYNC_MARKER, True)
        return wrapper

    def _transaction(
        self,
        work: Callable[..., R],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> R:
        # Runs in one worker thread, from the session's opening to its closing.
        with self.session_factory() as session:
            if self.read_only:
                try:
                    result = work(session, *args, **kwargs)
                finally:
                    session.rollback()
            else:
                with session.begin():
                    result = work(session, *args, **kwargs)
        if result is session:
            raise TypeError("a unit of work must not return its session: it is closed")
        return result
