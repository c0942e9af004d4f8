"""quart_app as ``python -m compare c10k`` serves it: with the event feed's subscriber cap raised.

quart_app may cap the clients of ``/ws/events`` at once (the Quart config key
``EVENTS_MAX_SUBSCRIBERS``); Hypercorn can only call a factory without arguments, so this one
reads the cap for the run from ``COMPARE_EVENTS_MAX_SUBSCRIBERS`` and passes it to
:func:`quart_app.create_app`. Every other setting comes from the ``BOOKSTORE_*`` variables, as
for ``quart_app:create_app()``::

    COMPARE_EVENTS_MAX_SUBSCRIBERS=10000 python -m hypercorn 'compare.harness.c10k_app:create_app()'
"""

from __future__ import annotations

import os
from typing import Final

from quart import Quart

import quart_app

__all__ = ["CAP_CONFIG_KEY", "CAP_ENV", "create_app"]

#: quart_app's config key of the subscriber cap.
CAP_CONFIG_KEY: Final = "EVENTS_MAX_SUBSCRIBERS"
#: The variable this factory reads the cap from.
CAP_ENV: Final = "COMPARE_EVENTS_MAX_SUBSCRIBERS"


def create_app() -> Quart:
    """Return quart_app with ``EVENTS_MAX_SUBSCRIBERS`` from :data:`CAP_ENV` when it is set.

    :raises ValueError: the variable is not a positive integer.
    """
    text = os.environ.get(CAP_ENV, "")
    if not text:
        return quart_app.create_app()
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{CAP_ENV} must be a positive integer, not {text!r}")
    return quart_app.create_app({CAP_CONFIG_KEY: int(text)})
