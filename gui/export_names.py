"""The names of one export's files, and the one-line message that lists them (no Qt).

An export never replaces a file silently.  Its files are a set: when any name of
the set is already taken in the folder (by an earlier export, or anything else),
every file of the new set gets the next free number, the same for all of them:
``heapscope_dashboard.png`` first, then ``heapscope_dashboard-2.png`` (with
``heapscope_locks-2.png``, ``heapscope_handout-2.pdf``...), then ``-3``.  So the
files of one export always belong together, and a lecturer who presses E three
times keeps three sets.  Only an explicit ``overwrite`` (the command line's
``--overwrite``) replaces the plain names, for scripts that rebuild the same slides.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Iterable, Sequence

#: More sets than anyone exports into one folder: past this, say so instead of looping.
MAX_SETS = 9999


def numbered(name: str, number: int) -> str:
    """``name`` for the export set ``number``: unchanged for 1, else ``stem-N.ext``."""
    if number <= 1:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        return f"{name}-{number}"
    return f"{stem}-{number}.{ext}"


def _taken(folder: pathlib.Path, name: str) -> bool:
    return os.path.lexists(folder / name)  # a dangling symlink is taken too


def set_number(folder: str | os.PathLike[str], names: Iterable[str]) -> int:
    """The first set number whose names are all free in ``folder`` (1 if the folder is new).

    Raises
    ------
    OSError
        When :data:`MAX_SETS` sets are there already.
    """
    folder = pathlib.Path(folder)
    names = list(names)
    for number in range(1, MAX_SETS + 1):
        if not any(_taken(folder, numbered(name, number)) for name in names):
            return number
    raise OSError(f"'{folder}' already holds {MAX_SETS:,} exports: choose another folder")


def set_names(
    folder: str | os.PathLike[str], names: dict[str, str], overwrite: bool = False
) -> dict[str, str]:
    """Each kind's file name for the next export into ``folder`` (see the module's rule)."""
    number = 1 if overwrite else set_number(folder, names.values())
    return {kind: numbered(name, number) for kind, name in names.items()}


def written_message(folder: str | os.PathLike[str], paths: Sequence[os.PathLike[str] | str]) -> str:
    """One line for the status bar: how many files, where, and each name in order.

    "Exported 14 files to /home/me/slides: heapscope_handout.pdf, ..."; a numbered set
    says why: "... (numbered -2: the earlier export is kept)".
    """
    names = [pathlib.Path(p).name for p in paths]
    count = f"{len(names)} file" if len(names) == 1 else f"{len(names)} files"
    suffix = _set_suffix(names)
    kept = f" (numbered {suffix}: the earlier export is kept)" if suffix else ""
    return f"Exported {count} to {os.fspath(folder)}{kept}: {', '.join(names)}"


def _set_suffix(names: list[str]) -> str:
    """ "-N" when every name ends in the same set number N > 1, else ""."""
    suffixes = set()
    for name in names:
        stem = name.rpartition(".")[0] or name
        head, dash, tail = stem.rpartition("-")
        if not dash or not head or not tail.isdigit() or int(tail) < 2:
            return ""
        suffixes.add(tail)
    return f"-{suffixes.pop()}" if len(suffixes) == 1 else ""


__all__ = ["MAX_SETS", "numbered", "set_names", "set_number", "written_message"]
