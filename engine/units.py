"""Byte sizes as people write them: 2M, 32K, 1536, 0.5M."""

from __future__ import annotations

import re
from fractions import Fraction

_SUFFIX = {
    "": 1,
    "B": 1,
    "K": 1024,
    "KB": 1024,
    "KIB": 1024,
    "M": 1024**2,
    "MB": 1024**2,
    "MIB": 1024**2,
    "G": 1024**3,
    "GB": 1024**3,
    "GIB": 1024**3,
}
# ASCII digits only (\d would take any script's digits), and a length cap so a
# 10,000-digit "size" is refused before any arithmetic.
_PATTERN = re.compile(r"^\s*(\d{1,30}(?:\.\d{1,30})?)\s*([A-Za-z]{0,3})\s*$", re.ASCII)


def parse_size(text: str | int) -> int:
    """Parses ``"32K"`` (KiB), ``"2M"`` (MiB) or a plain byte count.

    Raises
    ------
    ValueError
        With a message that shows the accepted forms.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    text = str(text)
    shown = text if len(text) <= 40 else f"{text[:20]}...{text[-10:]}"
    match = _PATTERN.match(text)
    unit = match.group(2).upper() if match else None
    if not match or unit not in _SUFFIX:
        raise ValueError(f"'{shown}' is not a size: use bytes or a K/M suffix, e.g. 2M, 32K, 1024")
    value = Fraction(match.group(1)) * _SUFFIX[unit]  # exact: 0.5M is 524288, 1e30 stays 1e30
    if value.denominator != 1:
        raise ValueError(f"'{shown}' is not a whole number of bytes")
    return int(value)


def format_size(n: int) -> str:
    """2097152 -> '2 MiB', 32768 -> '32 KiB', 1000 -> '1000 B'."""
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= factor and n % factor == 0:
            return f"{n // factor} {unit}"
    if n >= 1024**2:
        return f"{n / 1024**2:.1f} MiB"
    if n >= 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n} B"
