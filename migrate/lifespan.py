"""Set-up before, and clean-up after, everything else in a Quart app's lifespan."""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from quart import Quart

__all__ = ["around_lifespan"]

_SHUTDOWN_DONE = ("lifespan.shutdown.complete", "lifespan.shutdown.failed")


def around_lifespan(
    app: Quart, *, startup: Callable[[], None], shutdown: Callable[[], Awaitable[None]]
) -> None:
    """Call *startup* before the app's own start-up, and *shutdown* after its shutdown.

    Quart runs ``before_serving`` and ``after_serving`` functions in the order they were
    registered, so a pool closed from ``after_serving`` would be gone for the shutdown
    functions registered after it. Wrapping ``app.asgi_app`` at the ASGI lifespan level
    (the ASGI spec's ``lifespan.startup`` and ``lifespan.shutdown.complete`` messages)
    puts *startup* before every ``before_serving`` function and *shutdown* after every
    ``after_serving`` function, whatever the order of registration.

    Both run on the event loop, in the lifespan task. *shutdown* also runs when the
    start-up fails.
    """
    inner = app.asgi_app

    async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await inner(scope, receive, send)
            return

        async def lifespan_receive() -> Any:
            message = await receive()
            if message["type"] == "lifespan.startup":
                startup()
            return message

        async def lifespan_send(message: Any) -> None:
            if message["type"] in (*_SHUTDOWN_DONE, "lifespan.startup.failed"):
                await shutdown()
            await send(message)

        await inner(scope, lifespan_receive, lifespan_send)

    # Quart's documented way to add ASGI middleware.
    app.asgi_app = asgi_app  # type: ignore[method-assign]
