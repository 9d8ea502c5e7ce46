"""Recorded runs: the ``.session`` file format (no Qt here).

A session file is a ZIP archive (deflate-compressed) holding exactly:

``meta.json``
    ``{"format": "heapscope-session", "version": 1 or 2, "created": ISO time,
    "input": {"name", "bytes", "sha256"}, "config": {strategy, heap_size, pool_size,
    batch_size, block_size}, "result": {...RunResult.as_dict()...}, "counter_names": [...],
    "heap_cells": int, "slot_count": int, "pool_reserved": int,
    "recording": {"thinned", "thinning_note", "frame_stride", "cell_group", "max_bytes"}}``
``series.npy``
    float64, one row per sample: ``time_s`` then every counter in
    ``counter_names`` order.
``frame_times.npy``
    float64 seconds since the run started, one per heap-map frame, in order.
``heap_states.npy``, ``heap_owners.npy``
    uint8, (frames, ceil(heap_cells / cell_group)); frame 0 as recorded, every later
    frame XORed with the one before it (a run changes few cells between frames, so the
    differences compress to almost nothing).  ``cell_group`` is 1 (version 1 files)
    unless the heap was too big to record in full: then each stored value stands for
    ``cell_group`` cells (version 2, see :class:`SessionRecorder`).

Version 3 adds, each optional, the worker slots' states per frame
(``slot_states.npy``), the run's timeline (``timeline_time_s.npy`` and
``timeline_busy_s.npy``) and its time breakdown (``slot_times_ns`` in meta.json):
see :mod:`gui.session_times`.  Version 4 adds ``slow_motion`` to meta.json (a
slowed run's speeds: :mod:`gui.slow_motion`), and lecture files, several runs in one
file (:mod:`gui.lecture_file`, which reads single-run files too).  Files without any
of these are written as before (version 1, 2 or 3) and every older file is still read.

A session file comes from someone else.  Reading never unpickles and never
executes anything, and checks everything before using it (see
:mod:`gui.session_read` and :mod:`gui.session_validate`): a damaged, truncated,
foreign, oversized or newer file raises :class:`SessionError` -- and nothing
else -- with a one-line message.
"""

from __future__ import annotations

import errno
import io
import json
import os
import pathlib
import tempfile
import zipfile

import numpy as np

from engine import OWNER_COORDINATOR, OWNER_NONE, CellState
from gui import session_read as read
from gui import session_times as times
from gui.file_modes import shared_file_mode
from gui.inputs import shown_path
from gui.session_model import CellFrames, Session, file_identity
from gui.session_recorder import MAX_FRAMES, RECORDING_BYTES, SessionRecorder
from gui.session_validate import (
    FORMAT_NAME,
    FORMAT_VERSION,
    SessionError,
    check_frame_times,
    check_header,
    check_meta,
    check_series,
    decode_frames,
    owner_ok_table,
    parse_meta,
)

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MAX_FRAMES",
    "RECORDING_BYTES",
    "SUFFIX",
    "CellFrames",
    "Session",
    "SessionError",
    "SessionRecorder",
    "file_identity",
    "load_session",
    "save_session",
]

SUFFIX = ".session"
_REQUIRED = read.REQUIRED


def _delta_encode(frames: np.ndarray) -> np.ndarray:
    out = frames.copy()
    out[1:] ^= frames[:-1]
    return out


def _npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def _stored(frames) -> np.ndarray:
    return frames.stored if isinstance(frames, CellFrames) else np.asarray(frames, np.uint8)


def save_session(session: Session, path: str | os.PathLike) -> pathlib.Path:
    """Writes ``session`` atomically (temporary file in the same folder, then rename).

    The file gets mode 0666 minus the umask (0644 usually): sessions are made to be
    shared.  A path no file can have raises OSError with a one-line reason.
    """
    return write_atomic(check_out_path(path), session_bytes(session))


def check_out_path(path: str | os.PathLike) -> pathlib.Path:
    """A path a file can be written to, or OSError with a one-line reason."""
    text = os.fsdecode(os.fspath(path))
    if not text:
        raise OSError(errno.ENOENT, "no file name given")
    if "\0" in text:
        raise OSError(
            errno.EINVAL,
            "the path contains a NUL byte, which no file name can hold",
            shown_path(text.replace("\0", "?")),
        )
    return pathlib.Path(text)


def write_atomic(path: pathlib.Path, data: bytes) -> pathlib.Path:
    """Writes ``data`` to a temporary file in the same folder, then renames it
    (mode 0666 minus the umask: sessions are made to be shared)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, shared_file_mode())  # mkstemp makes it 0600
        with os.fdopen(fd, "wb") as raw:
            raw.write(data)
        os.replace(tmp, path)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise
    return path


def session_bytes(session: Session) -> bytes:
    """The session file's bytes (a ZIP archive: see the module's docstring)."""
    names = session.meta["counter_names"]
    columns = [session.series["time_s"]] + [session.series[n] for n in names]
    series = (
        np.column_stack([np.asarray(c, dtype=np.float64) for c in columns])
        if len(columns[0])
        else np.zeros((0, 1 + len(names)))
    )
    meta, extra = _version_3(session)
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("meta.json", json.dumps(meta, indent=1, allow_nan=False))
        zf.writestr("series.npy", _npy_bytes(series))
        zf.writestr("frame_times.npy", _npy_bytes(session.frame_times.astype(np.float64)))
        zf.writestr("heap_states.npy", _npy_bytes(_delta_encode(_stored(session.heap_states))))
        zf.writestr("heap_owners.npy", _npy_bytes(_delta_encode(_stored(session.heap_owners))))
        for name, array in extra.items():
            zf.writestr(name, _npy_bytes(array))
    return raw.getvalue()


def _version_3(session: Session) -> tuple[dict, dict[str, np.ndarray]]:
    """meta.json to write, and the version 3 members the session has (see gui.session_times)."""
    meta = dict(session.meta)
    meta.pop("slot_times_ns", None)
    extra: dict[str, np.ndarray] = {}
    if session.slot_states is not None:
        extra[times.SLOT_STATES] = np.ascontiguousarray(session.slot_states, dtype=np.uint8)
    if session.timeline is not None:
        extra[times.TIMELINE_TIME], extra[times.TIMELINE_BUSY] = times.timeline_columns(
            session.timeline.thinned(times.TIMELINE_ROWS)
        )
    if session.slot_times_ns is not None:
        meta["slot_times_ns"] = np.asarray(session.slot_times_ns, dtype=np.uint64).tolist()
    if extra or "slot_times_ns" in meta:
        meta["version"] = max(int(meta.get("version", 1)), 3)
    return meta, extra


# ------------------------------------------------------------------ loading


def path_prefix(path) -> tuple[str, str]:
    """The path as text, and the start of every message about it (one line, whatever it holds)."""
    try:
        text = os.fsdecode(os.fspath(path))
    except TypeError:
        raise SessionError(
            f"cannot open session: the path must be text or path-like (got {type(path).__name__})"
        ) from None
    if not text:
        raise SessionError("cannot open session: no file given (the path is empty)")
    name = text.rstrip("/").rsplit("/", 1)[-1] or text
    shown = shown_path(name.replace("\0", "?"), 120)
    if "\0" in text:
        raise SessionError(
            f"cannot open session '{shown}': the path contains a NUL byte, "
            "which no file name can hold"
        )
    return text, f"cannot open session '{shown}': "


def load_session(path: str | os.PathLike) -> Session:
    """Reads a session file someone else may have crafted.

    Raises
    ------
    SessionError
        Only this, with a one-line reason: missing, not a regular file, truncated or
        damaged, not a session, too big, inconsistent, or a newer version.
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


def _load(path: str, prefix: str) -> Session:
    with os.fdopen(read.open_regular(path, prefix), "rb") as f:
        return load_from(f, os.fstat(f.fileno()).st_size, prefix)


def open_zip(f, prefix: str) -> zipfile.ZipFile:
    """The archive of a file whose end record was checked (read.check_end_record)."""
    try:
        return zipfile.ZipFile(f)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        raise SessionError(f"{prefix}not a heapscope session, or the file is truncated") from None


class Budget:
    """Bytes a lecture file's runs may still expand to (read.LECTURE_BUDGET at first)."""

    def __init__(self, left: int | None = None):
        self.left = read.LECTURE_BUDGET if left is None else left


def load_from(f, size: int, prefix: str, budget: Budget | None = None) -> Session:
    """One run's session from an open binary file of ``size`` bytes (a file on disk,
    or a run of a lecture file, which spends its ``budget``).  Raises SessionError
    only (see :func:`load_session`)."""
    read.check_end_record(f, size, prefix)
    zf = open_zip(f, prefix)
    with zf:
        if read.lecture_members(zf) is not None:
            raise SessionError(
                f"{prefix}it is a lecture file of several runs (open it with "
                "File > Open session…, which replays every run)"
                if budget is None
                else f"{prefix}a lecture file inside a lecture file"
            )
        infos = read.check_names(zf, prefix)
        read.check_member(infos["meta.json"], prefix)
        meta = parse_meta(bytes(read.read_member(zf, infos["meta.json"], prefix)), prefix)
        check_header(meta, prefix)
        missing = [m for m in _REQUIRED if m not in infos]
        if missing:
            raise SessionError(f"{prefix}it is incomplete (missing {', '.join(missing)})")
        for info in infos.values():
            read.check_member(info, prefix)
        spent = read.check_budget(infos, prefix, None if budget is None else budget.left)
        if budget is not None:
            budget.left -= spent
        shapes = check_meta(meta, prefix)
        newer = [m for m in times.MEMBERS if m in infos]
        times.check_version(newer, shapes, prefix)
        slot_times_ns = times.slot_times_from_meta(meta, shapes, prefix)
        cols = 1 + len(shapes.counter_names)
        series_rows = read.read_npy(
            zf,
            infos["series.npy"],
            prefix,
            "<f8",
            lambda s: (
                None
                if len(s) == 2 and s[1] == cols
                else f"shape {s}, expected (samples, {cols}) for {cols - 1} counters"
            ),
        )
        frame_times = read.read_npy(
            zf,
            infos["frame_times.npy"],
            prefix,
            "<f8",
            lambda s: None if len(s) == 1 else f"shape {s}, expected (frames,)",
        )
        frames = (len(frame_times), shapes.stored_cells)
        heap = {}
        for member in ("heap_states.npy", "heap_owners.npy"):
            heap[member] = read.read_npy(
                zf,
                infos[member],
                prefix,
                "|u1",
                lambda s: (
                    None
                    if s == frames
                    else f"shape {s}, expected {frames}: {frames[0]} frames of {frames[1]} cells"
                ),
            )
        slot_states = timeline_time = timeline_busy = None
        if times.SLOT_STATES in infos:
            slot_states = read.read_npy(
                zf,
                infos[times.SLOT_STATES],
                prefix,
                "|u1",
                times.slot_states_shape(len(frame_times), shapes.slot_count),
            )
        if times.TIMELINE_TIME in infos:
            timeline_time = read.read_npy(
                zf,
                infos[times.TIMELINE_TIME],
                prefix,
                "<f8",
                times.timeline_time_shape,
                "has the wrong shape",
            )
            timeline_busy = read.read_npy(
                zf,
                infos[times.TIMELINE_BUSY],
                prefix,
                "<f8",
                times.timeline_busy_shape(len(timeline_time), shapes.slot_count),
            )
    check_series(series_rows, prefix)
    check_frame_times(frame_times, prefix)
    states_ok = np.zeros(256, dtype=bool)
    states_ok[[int(s) for s in CellState]] = True
    decode_frames(
        heap["heap_states.npy"], states_ok, "heap_states.npy", f"0-{max(CellState)}", prefix
    )
    decode_frames(
        heap["heap_owners.npy"],
        owner_ok_table(shapes.slot_count),
        "heap_owners.npy",
        f"0-{shapes.slot_count - 1}, {OWNER_COORDINATOR} or {OWNER_NONE}",
        prefix,
    )
    if slot_states is not None:
        times.check_slot_states(slot_states, prefix)
    timeline = None
    if timeline_time is not None and timeline_busy is not None:
        timeline = times.timeline_of(timeline_time, timeline_busy, shapes, prefix)
    series = {"time_s": series_rows[:, 0]}
    for i, counter in enumerate(shapes.counter_names):
        series[counter] = series_rows[:, 1 + i]
    stored_states, stored_owners = heap["heap_states.npy"], heap["heap_owners.npy"]
    states: np.ndarray | CellFrames = stored_states
    owners: np.ndarray | CellFrames = stored_owners
    if shapes.cell_group > 1:
        states = CellFrames(stored_states, shapes.cell_group, shapes.heap_cells)
        owners = CellFrames(stored_owners, shapes.cell_group, shapes.heap_cells)
    meta.pop("slot_times_ns", None)  # kept once, as the array
    return Session(
        meta=meta,
        series=series,
        frame_times=frame_times,
        heap_states=states,
        heap_owners=owners,
        slot_states=slot_states,
        timeline=timeline,
        slot_times_ns=slot_times_ns,
    )
