"""``AsyncFacade``: a legacy sync object's public methods as awaitable twins."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from collections.abc import Coroutine
from typing import Any
from typing import Generic
from typing import TypeVar

from .pool import WorkerPool
from .threads import run_sync

__all__ = ["AsyncFacade"]

T = TypeVar("T")

# Descriptors whose getter would run code on the event loop just to be looked up.
_PROPERTIES = (property, functools.cached_property)


class AsyncFacade(Generic[T]):
    """Expose every public method of *wrapped* as an awaitable twin run in the worker pool.

    One line turns a repository or an SDK client into something async code can await::

        books = AsyncFacade(BookRepository(session_factory))
        book = await books.get(7)  # BookRepository.get(7) ran in a worker thread

    ``facade.name`` is ``run_sync(wrapped.name, pool=pool, timeout=timeout)``: same
    name, docstring and signature, the caller's context copied (PEP 567), the same
    errors (see :func:`~migrate.run_sync`). Methods are looked up once and cached.

    Only methods are exposed. A name starting with ``_``, a property (its getter would
    run on the event loop) or a plain data attribute raises :class:`AttributeError`;
    read those through :attr:`wrapped`, or in a thread with ``run_sync``.

    The wrapped object is shared by every awaiting task, so concurrent calls run in
    several threads at once: wrap only objects that are thread-safe, or give each task
    its own facade (a SQLAlchemy ``Session`` is not thread-safe; see
    :class:`~migrate.UnitOfWork`).

    :param wrapped: the sync object.
    :param pool: the :class:`~migrate.WorkerPool`; by default the one current at each call.
    :param timeout: seconds per call, queueing included; ``None`` for no deadline.
    :raises ValueError: if *timeout* is not positive.
    """

    __slots__ = ("_methods", "_pool", "_timeout", "_wrapped")

    def __init__(
        self, wrapped: T, *, pool: WorkerPool | None = None, timeout: float | None = None
    ) -> None:
        if timeout is not None and timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        self._wrapped = wrapped
        self._pool = pool
        self._timeout = timeout
        self._methods: dict[str, Callable[..., Coroutine[Any, Any, Any]]] = {}

    @property
    def wrapped(self) -> T:
        """The sync object behind the facade."""
        return self._wrapped

    def __getattr__(self, name: str) -> Callable[..., Coroutine[Any, Any, Any]]:
        # Checked first: before __init__ has run (copy, pickle) even _methods is missing.
        if name.startswith("_"):
            raise AttributeError(f"AsyncFacade exposes public methods only, not {name!r}")
        method = self._methods.get(name)
        if method is not None:
            return method
        owner = type(self._wrapped).__name__
        # Looked up statically first, so that a property's getter never runs on the loop.
        raw = inspect.getattr_static(self._wrapped, name)  # AttributeError if absent
        if isinstance(raw, _PROPERTIES):
            raise AttributeError(
                f"{owner}.{name} is a property; read it through .wrapped or with run_sync"
            )
        value = getattr(self._wrapped, name)
        if not callable(value):
            raise AttributeError(f"{owner}.{name} is not a method; read it through .wrapped")
        method = run_sync(value, pool=self._pool, timeout=self._timeout)
        self._methods[name] = method
        return method

    def __dir__(self) -> list[str]:
        names = set(super().__dir__())
        for name in dir(self._wrapped):
            if name.startswith("_"):
                continue
            raw = inspect.getattr_static(self._wrapped, name, None)
            if not isinstance(raw, _PROPERTIES) and callable(getattr(self._wrapped, name, None)):
                names.add(name)
        return sorted(names)

    def __repr__(self) -> str:
        return f"AsyncFacade({self._wrapped!r})"
