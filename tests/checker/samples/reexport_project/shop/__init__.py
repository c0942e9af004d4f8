"""The package re-exports its helpers: callers import them from ``shop``."""

from .carts import cart_total
from .carts import load_cart

__all__ = ["cart_total", "load_cart"]
