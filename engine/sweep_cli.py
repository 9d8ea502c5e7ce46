"""``python -m engine sweep FILE ...``: experiments over lists of parameters (issue 12)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    print("python -m engine sweep: not built yet", file=sys.stderr)
    return 2
