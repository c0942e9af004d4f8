"""ISBN-10 and ISBN-13 check digits (ISO 2108), framework-free."""

from __future__ import annotations

_SEPARATORS = str.maketrans("", "", "- ")


def _isbn10_valid(digits: str) -> bool:
    head, check = digits[:9], digits[9:]
    if not (digits.isascii() and head.isdigit() and (check.isdigit() or check in ("X", "x"))):
        return False
    values = [int(c) for c in digits[:9]] + [10 if digits[9] in "Xx" else int(digits[9])]
    return sum((10 - i) * v for i, v in enumerate(values)) % 11 == 0


def isbn13_check_digit(first12: str) -> str:
    """Return the check digit of the first 12 digits of an ISBN-13 (weights 1, 3, 1, 3, …)."""
    total = sum((3 if i % 2 else 1) * int(c) for i, c in enumerate(first12))
    return str((10 - total % 10) % 10)


def normalize_isbn(text: str) -> str:
    """Return ``text`` as a 13-digit ISBN without separators.

    Accepts ISBN-10 (``0-306-40615-2``, final ``X`` allowed) and ISBN-13
    (``978-0-306-40615-7``), with hyphens and spaces anywhere. An ISBN-10 becomes
    ``978`` + its first nine digits + a new ISBN-13 check digit.

    :raises ValueError: the text is not 10 or 13 digits after removing separators, or its check
        digit is wrong. The message says which.
    """
    digits = text.translate(_SEPARATORS)
    if len(digits) == 10:
        if not _isbn10_valid(digits):
            raise ValueError("not a valid ISBN-10: wrong check digit or characters")
        core = "978" + digits[:9]
        return core + isbn13_check_digit(core)
    if len(digits) == 13 and digits.isdigit() and digits.isascii():
        if isbn13_check_digit(digits[:12]) != digits[12]:
            raise ValueError("not a valid ISBN-13: wrong check digit")
        return digits
    raise ValueError("an ISBN has 10 or 13 digits (hyphens and spaces allowed)")
