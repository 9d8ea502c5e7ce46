"""Lecture files: every run of a lecture in one file, saved once, replayed later (no Qt).

A lecture file is a ZIP archive (format version 4) holding exactly:

``meta.json``
    ``{"format": "heapscope-session", "version": 4, "created": ISO time,
    "kind": "lecture", "runs": [{"member": "run-01.session", "run": 3}, ...]}``:
    the runs in the order they were on screen, with their run numbers then.
``run-01.session``, ``run-02.session``, ...
    Each a complete session file of one run (see :mod:`gui.session_file`: its
    heap-map frames, slot states, timeline, breakdown and slow motion), stored
    as is (already compressed).

Reading one is as hostile as reading a session: the lecture's own limits (at
most :data:`MAX_RUNS` runs, :data:`~gui.session_read.LECTURE_FILE_LIMIT` bytes)
are checked before anything is read, each run is checked as a session file with
its own limits, and all the runs together may expand to at most
:data:`~gui.session_read.LECTURE_BUDGET` bytes.  Every problem raises
:class:`SessionError` -- and nothing else -- with one line naming the run.
:func:`load_lecture` reads single-run session files (versions 1-4) too.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import json
import os
import pathlib
import zipfile

from gui import session_read as read
from gui.inputs import one_line
from gui.session_file import (
    Budget,
    Session,
    SessionError,
    check_out_path,
    load_from,
    open_zip,
    path_prefix,
    session_bytes,
    write_atomic,
)
from gui.session_validate import (
    FORMAT_NAME,
    LECTURE_RUNS_LIMIT,
    check_lecture_meta,
    parse_meta,
)

LECTURE_VERSION = 4
MAX_RUNS = LECTURE_RUNS_LIMIT


@dataclasses.dataclass
class Lecture:
    """The runs of a file: several for a lecture file, one for a session file."""

    runs: list[Session]
    #: Each run's number when it was saved (0 for a single-run session file).
    numbers: list[int]
    is_lecture: bool = True


# ------------------------------------------------------------------ saving


def lecture_bytes(runs: list[tuple[int, Session]]) -> bytes:
    """The lecture file's bytes for (run number, session) pairs, in screen order.

    Raises
    ------
    ValueError
        No run, more than MAX_RUNS, or more bytes than a lecture file may have.
    """
    if not runs:
        raise ValueError("no finished run to save: run baseline (B) or pooled (P) first")
    if len(runs) > MAX_RUNS:
        raise ValueError(f"{len(runs)} runs are on screen; a lecture file holds at most {MAX_RUNS}")
    members = [f"run-{i:02d}.session" for i in range(1, len(runs) + 1)]
    meta = {
        "format": FORMAT_NAME,
        "version": LECTURE_VERSION,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "kind": "lecture",
        "runs": [{"member": m, "run": n} for m, (n, _s) in zip(members, runs, strict=True)],
    }
    raw = io.BytesIO()
    total = 0
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("meta.json", json.dumps(meta, indent=1))
        for member, (number, session) in zip(members, runs, strict=True):
            data = session_bytes(session)
            if len(data) > read.FILE_LIMIT:
                raise ValueError(
                    f"run #{number}'s recording takes {len(data)} bytes, more than a "
                    f"session can be ({read.FILE_LIMIT})"
                )
            total += len(data)
            if total > read.LECTURE_FILE_LIMIT:
                raise ValueError(
                    f"the runs take more than {read.LECTURE_FILE_LIMIT} bytes, more than a "
                    "lecture file can be: clear some runs first"
                )
            zf.writestr(member, data, compress_type=zipfile.ZIP_STORED)
    return raw.getvalue()


def save_lecture(runs: list[tuple[int, Session]], path: str | os.PathLike) -> pathlib.Path:
    """Writes a lecture file atomically (mode 0666 minus the umask).

    Raises
    ------
    OSError
        A path no file can have, or a folder that cannot be written.
    ValueError
        See :func:`lecture_bytes`.
    """
    return write_atomic(check_out_path(path), lecture_bytes(runs))


# ------------------------------------------------------------------ loading


def load_lecture(path: str | os.PathLike) -> Lecture:
    """Every run of a lecture file, or the one run of a session file.

    Raises
    ------
    SessionError
        Only this, with a one-line reason (naming the run when one run is bad).
    """
    text, prefix = path_prefix(path)
    try:
        return _load(text, prefix)
    except SessionError:
        raise
    except MemoryError:
        raise SessionError(f"{prefix}there is not enough memory to load it") from None
    except Exception as exc:  # noqa: BLE001 -- the promise is SessionError and nothing else
        raise SessionError(f"{prefix}the file is damaged ({type(exc).__name__})") from None


def _load(path: str, prefix: str) -> Lecture:
    with os.fdopen(read.open_regular(path, prefix), "rb") as f:
        size = os.fstat(f.fileno()).st_size
        try:
            read.check_end_record(
                f, size, prefix, read.LECTURE_FILE_LIMIT, MAX_RUNS + 1, "a lecture file"
            )
        except SessionError:
            # A session's limits are stricter: a file past a lecture's is past a
            # session's too, and is told so as a session file would be.
            read.check_end_record(f, size, prefix)
            raise
        with open_zip(f, prefix) as zf:
            if read.lecture_members(zf) is not None:
                return _runs(zf, prefix)
        f.seek(0)
        return Lecture([load_from(f, size, prefix)], [0], is_lecture=False)


def _runs(zf: zipfile.ZipFile, prefix: str) -> Lecture:
    infos: dict[str, zipfile.ZipInfo] = {}
    for info in zf.infolist():
        name = info.filename
        if name != "meta.json" and not read.RUN_MEMBER.fullmatch(name):
            raise SessionError(
                f"{prefix}not a heapscope lecture file (unexpected member '{one_line(name, 100)}')"
            )
        if name in infos:
            raise SessionError(
                f"{prefix}not a heapscope lecture file (member '{name}' appears twice)"
            )
        infos[name] = info
    if "meta.json" not in infos:
        raise SessionError(f"{prefix}not a heapscope lecture file (it has no meta.json)")
    read.check_member(infos["meta.json"], prefix)
    meta = parse_meta(bytes(read.read_member(zf, infos["meta.json"], prefix)), prefix)
    members = [n for n in infos if n != "meta.json"]
    numbers = check_lecture_meta(meta, members, prefix)
    for name in members:
        _check_run_member(infos[name], prefix)
    budget = Budget()
    runs = []
    for k, name in enumerate(members, start=1):
        run_prefix = f"{prefix}run {k} of {len(members)} ({name}): "
        data = read.read_member(zf, infos[name], prefix)
        runs.append(load_from(io.BytesIO(data), len(data), run_prefix, budget))
        del data
    return Lecture(runs, numbers)


def _check_run_member(info: zipfile.ZipInfo, prefix: str) -> None:
    """A run is a session file stored as is: never compressed again, never encrypted."""
    name = info.filename
    if info.flag_bits & 0x1:
        raise SessionError(f"{prefix}its {name} is encrypted")
    if info.compress_type != zipfile.ZIP_STORED:
        raise SessionError(
            f"{prefix}its {name} uses compression method {info.compress_type} "
            "(a lecture file stores its runs as they are)"
        )
    if info.compress_size != info.file_size:
        raise SessionError(f"{prefix}its {name} is damaged (stored sizes differ)")
    if info.file_size > read.FILE_LIMIT:
        raise SessionError(
            f"{prefix}its {name} is {info.file_size} bytes, more than a session can be "
            f"({read.FILE_LIMIT})"
        )
