"""The command line's paths, checked before anything runs: one line naming the problem.

Inputs (the FILE and ``--open``'s session) must be regular files: only
``stat`` is used here, never ``open``, because opening a FIFO waits for a
writer and ``/dev/zero`` never ends.  Outputs (``--screenshot``,
``--save-session``, ``--export``) are checked by creating (and removing) a
temporary file where the output will go, which is the only test that holds
for root, read-only mounts and pseudo-filesystems alike; an output that
names a directory, a device or a FIFO is refused (the atomic rename would
replace it).  Each function returns None when the path is fine, else the
message (without the ``heapscope: error:`` prefix).
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
from collections.abc import Iterable

from gui.inputs import file_kind, shown_path

#: Linux's limits (PATH_MAX counts the final NUL); os.pathconf says otherwise where it can.
_PATH_MAX = 4096
_NAME_MAX = 255


def _limits(folder: str) -> tuple[int, int]:
    try:
        folder = folder or "."
        return os.pathconf(folder, "PC_PATH_MAX"), os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return _PATH_MAX, _NAME_MAX


def text_problem(path: str, what: str) -> str | None:
    """Empty, NUL byte, too long: what no file name can be (``what``: "input path"...)."""
    if path == "":
        return f"the {what} is empty"
    if "\0" in path:
        return (
            f"the {what} '{shown_path(path.replace(chr(0), '?'))}' contains a NUL byte, "
            f"which no file name can hold"
        )
    try:
        raw = os.fsencode(path)
    except UnicodeError:
        return f"the {what} '{shown_path(path)}' cannot be encoded for this file system"
    path_max, name_max = _limits("/")
    if len(raw) >= path_max:
        return (
            f"the {what} is too long: {len(raw):,} bytes, the limit is {path_max - 1:,} "
            f"('{shown_path(path, 60)}')"
        )
    longest = max((len(part) for part in raw.split(b"/")), default=0)
    if longest > name_max:
        return (
            f"the {what} '{shown_path(path, 60)}' has a name of {longest:,} bytes, "
            f"the limit is {name_max}"
        )
    return None


def reason(exc: OSError) -> str:
    """The part of an OSError a user needs: strerror, without errno or file name."""
    if exc.errno == errno.ENAMETOOLONG:
        return "the path is too long"
    return exc.strerror or str(exc)


def input_problem(path: str, what: str = "input path") -> str | None:
    """Why ``path`` cannot be read as an input, or None: it exists and is a regular file."""
    problem = text_problem(path, what)
    if problem:
        return problem
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return f"cannot open '{shown_path(path)}': {reason(exc)}"
    if not stat.S_ISREG(mode):
        return f"cannot read '{shown_path(path)}': it is {file_kind(mode)}, not a regular file"
    if not os.access(path, os.R_OK):
        return f"cannot open '{shown_path(path)}': Permission denied"
    return None


def _probe_folder(folder: str) -> OSError | None:
    """Creates and removes a temporary file in ``folder``: the error if that fails."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".heapscope-probe-", dir=folder or ".")
    except OSError as exc:
        return exc
    os.close(fd)
    try:
        os.unlink(tmp)
    except OSError:
        pass
    return None


def output_file_problem(path: str, what: str) -> str | None:
    """Why a file cannot be written at ``path`` (``what``: "screenshot"...), or None."""
    problem = text_problem(path, f"{what} path")
    if problem:
        return problem
    shown = shown_path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        return f"cannot write the {what} '{shown}': {reason(exc)}"
    if mode is not None and not stat.S_ISREG(mode):
        return f"cannot write the {what} '{shown}': it is {file_kind(mode)}, not a regular file"
    folder = os.path.dirname(path)
    try:
        folder_mode = os.stat(folder or ".").st_mode
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return (
                f"cannot write the {what} '{shown}': the folder '{shown_path(folder)}' "
                f"does not exist"
            )
        return f"cannot write the {what} '{shown}': {reason(exc)}"
    if not stat.S_ISDIR(folder_mode):
        return f"cannot write the {what} '{shown}': '{shown_path(folder)}' is not a folder"
    probe_error = _probe_folder(folder)
    if probe_error is not None:
        return (
            f"cannot write the {what} '{shown}': cannot create files in "
            f"'{shown_path(folder or '.')}': {reason(probe_error)}"
        )
    return None


def export_folder_problem(path: str, names: Iterable[str] = ()) -> str | None:
    """Creates the export folder (and its parents) if missing; why it cannot be used, or None.

    ``names``: the files the export writes there; one that exists as a directory,
    FIFO or device would make the export fail after the run.
    """
    problem = text_problem(path, "export folder")
    if problem:
        return problem
    shown = shown_path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        return f"cannot export to '{shown}': {reason(exc)}"
    if mode is not None and not stat.S_ISDIR(mode):
        kind = "a file" if stat.S_ISREG(mode) else file_kind(mode)
        return f"cannot export to '{shown}': it is {kind}, not a folder"
    if mode is None:
        try:
            os.makedirs(path, exist_ok=True)
        except OSError as exc:
            return f"cannot create the export folder '{shown}': {reason(exc)}"
    probe_error = _probe_folder(path)
    if probe_error is not None:
        return f"cannot export to '{shown}': cannot create files there: {reason(probe_error)}"
    for name in names:
        try:
            mode = os.lstat(os.path.join(path, name)).st_mode
        except OSError:
            continue
        if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
            return (
                f"cannot export to '{shown}': '{shown_path(name)}' in it is "
                f"{file_kind(mode)}, not a regular file"
            )
    return None


def same_file(a: str | None, b: str | None) -> bool:
    """True when both name the same existing file, or the same path if either is missing."""
    if not a or not b:
        return False
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return os.path.realpath(a) == os.path.realpath(b)


def clash_problem(
    outputs: dict[str, str | None],
    inputs: dict[str, str | None],
    export_folder: str | None = None,
    export_names: Iterable[str] = (),
) -> str | None:
    """An output that would overwrite an input, another output or an exported file."""
    written = {what: path for what, path in outputs.items() if path}
    if export_folder:
        for name in export_names:
            written.setdefault(f"exported {name}", os.path.join(export_folder, name))
    items = list(written.items())
    for what, path in items:
        for source, source_path in inputs.items():
            if same_file(path, source_path):
                return (
                    f"the {what} '{shown_path(path)}' is the {source} itself: "
                    f"it would be overwritten"
                )
    for i, (what, path) in enumerate(items):
        for other, other_path in items[i + 1 :]:
            if same_file(path, other_path):
                return f"the {what} and the {other} are the same file '{shown_path(path)}'"
    return None


_ERRNO_PREFIX = re.compile(r"^\[Errno \d+\] ")
_FILENAME_SUFFIX = re.compile(r": '[^']*'$")  # OSError's str() names the temporary file


def write_failure(what: str, path: str, detail: str) -> str:
    """One line for an output that failed when it was written (after the run)."""
    detail = detail.splitlines()[0] if detail else "unknown error"
    detail = _FILENAME_SUFFIX.sub("", _ERRNO_PREFIX.sub("", detail)) or "unknown error"
    return f"cannot write the {what} '{shown_path(path)}': {detail}"


def write_failure_from(what: str, path: str, exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return write_failure(what, path, reason(exc))
    return write_failure(what, path, str(exc) or type(exc).__name__)


__all__ = [
    "clash_problem",
    "export_folder_problem",
    "input_problem",
    "output_file_problem",
    "reason",
    "same_file",
    "shown_path",
    "text_problem",
    "write_failure",
    "write_failure_from",
]
