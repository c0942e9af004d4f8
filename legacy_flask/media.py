"""Recognise cover images by their leading bytes; framework-free, shared by both apps."""

from __future__ import annotations

#: Leading bytes ("magic numbers") of the accepted image formats; the client's Content-Type
#: is not trusted.
_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


def sniff_image(data: bytes) -> str | None:
    """Return ``image/png`` or ``image/jpeg`` from the first bytes of ``data``, else ``None``."""
    for signature, media_type in _SIGNATURES:
        if data.startswith(signature):
            return media_type
    return None
