"""Per-app resources: the async engine, the session factory, one session per request."""

from __future__ import annotations

from quart import Quart  # ok: QM101, QM102
from quart import current_app  # ok: QM101
from quart import g  # ok: QM101
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine


def init_database(app: Quart, url: str) -> None:  # ok: QM102
    created = create_async_engine(url)  # ok: QM416
    app.extensions["engine"] = created
    app.extensions["sessions"] = async_sessionmaker(created, expire_on_commit=False)  # ok: QM416
    app.teardown_appcontext(close_session)


def engine() -> AsyncEngine:
    found: AsyncEngine = current_app.extensions["engine"]
    return found


def session_factory() -> async_sessionmaker[AsyncSession]:
    factory: async_sessionmaker[AsyncSession] = current_app.extensions["sessions"]
    return factory


def db_session() -> AsyncSession:
    """Return this request's session, opening it on first use."""
    if "db_session" not in g:
        g.db_session = session_factory()()  # ok: QM416
    session: AsyncSession = g.db_session
    return session


async def close_session(_exc: BaseException | None) -> None:  # ok: QM303
    session: AsyncSession | None = g.pop("db_session", None)
    if session is not None:
        await session.close()  # ok: QM416
