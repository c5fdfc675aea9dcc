"""Reading a row id from outside text: one rule for every route, form, filter and service.

An id is 1 to 19 ASCII digits whose value fits a signed 64-bit column. ``str.isdigit()`` and
``int()`` are not that rule: they accept superscripts (``"¹"`` passes ``isdigit`` and then makes
``int`` raise) and other scripts' digits (fullwidth nineteen, U+FF11 U+FF19, reads as 19), and
``int`` takes any length, which the database then refuses with an overflow (a 500). Everything
that turns outside text into an id goes through :func:`parse_id`.
"""

from __future__ import annotations

import re

#: The largest value a BIGINT (signed 64-bit) column holds on every supported database.
MAX_ID = 2**63 - 1

_ASCII_DIGITS = re.compile(r"[0-9]{1,19}\Z")


def parse_id(value: object) -> int | None:
    """The positive id ``value`` names, or None when it is not one.

    Accepts an ``int`` (not a ``bool``) or a string of ASCII digits (surrounding whitespace is
    ignored); anything else, zero, and values beyond 64 bits give None.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if not _ASCII_DIGITS.match(text):
            return None
        number = int(text)
    else:
        return None
    return number if 0 < number <= MAX_ID else None


def is_id(value: object) -> bool:
    """Whether :func:`parse_id` reads ``value`` as an id."""
    return parse_id(value) is not None
