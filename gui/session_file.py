"""Recorded runs: the ``.session`` file format (no Qt here).

A session file is a ZIP archive (deflate-compressed) holding:

``meta.json``
    ``{"format": "heapscope-session", "version": 1, "created": ISO time,
    "input": {"name", "bytes", "sha256"}, "config": {...RunConfig fields...},
    "result": {...RunResult.as_dict()...}, "counter_names": [...],
    "heap_cells": int, "slot_count": int, "pool_reserved": int}``
``series.npy``
    float64, one row per sample: ``time_s`` then every counter in
    ``counter_names`` order.
``frame_times.npy``
    float64 seconds since the run started, one per heap-map frame.
``heap_states.npy``, ``heap_owners.npy``
    uint8, (frames, heap_cells); frame 0 as recorded, every later frame XORed
    with the one before it (a run changes few cells between frames, so the
    differences compress to almost nothing).

Reading never unpickles (``allow_pickle=False``) and never executes anything.
A damaged, truncated, foreign or newer file raises :class:`SessionError`
with a one-line message.
"""
from __future__ import annotations

import dataclasses
import datetime
import hashlib
import io
import json
import os
import pathlib
import tempfile
import zipfile

import numpy as np

FORMAT_NAME = "heapscope-session"
FORMAT_VERSION = 1
SUFFIX = ".session"
#: Frames kept per run; past this the recorder keeps every other frame.
MAX_FRAMES = 1200
_MEMBERS = ("meta.json", "series.npy", "frame_times.npy", "heap_states.npy", "heap_owners.npy")


class SessionError(ValueError):
    """A session file that cannot be opened; the message says why, in one line."""


@dataclasses.dataclass
class Session:
    """A recorded run, as saved and as loaded."""

    meta: dict
    series: dict[str, np.ndarray]      # "time_s" + every counter
    frame_times: np.ndarray            # float64 (frames,)
    heap_states: np.ndarray            # uint8 (frames, cells), plain (not XORed)
    heap_owners: np.ndarray            # uint8 (frames, cells)

    @property
    def result(self) -> dict:
        return self.meta["result"]

    @property
    def config(self) -> dict:
        return self.meta["config"]

    @property
    def input_name(self) -> str:
        return self.meta["input"]["name"]

    @property
    def duration_s(self) -> float:
        return float(self.meta["result"]["wall_s"])

    def frame_at(self, t: float) -> int:
        """Index of the last frame recorded at or before ``t`` seconds."""
        if len(self.frame_times) == 0:
            return -1
        return max(0, int(np.searchsorted(self.frame_times, t, side="right")) - 1)

    def series_until(self, t: float) -> dict[str, np.ndarray]:
        """The time series cut at ``t`` seconds (for scrubbing)."""
        n = int(np.searchsorted(self.series["time_s"], t, side="right"))
        return {k: v[:n] for k, v in self.series.items()}


def file_identity(path: str | os.PathLike) -> dict:
    """Name, size and SHA-256 of an input file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return {"name": pathlib.Path(path).name, "bytes": size, "sha256": digest.hexdigest()}


class SessionRecorder:
    """Collects heap-map frames during a run; :meth:`finish` makes the Session.

    Frames beyond :data:`MAX_FRAMES` are thinned (every other one dropped,
    the first and the newest kept), so memory stays bounded on long runs.
    """

    def __init__(self, heap_cells: int):
        self.heap_cells = heap_cells
        self._times: list[float] = []
        self._states: list[np.ndarray] = []
        self._owners: list[np.ndarray] = []
        self._min_gap = 0.0

    def add_frame(self, t: float, states: np.ndarray | None, owners: np.ndarray | None) -> None:
        if states is None or owners is None:
            return
        if len(self._times) >= 2 and t - self._times[-2] < self._min_gap:
            self._replace_last(t, states, owners)  # the newest frame is always kept
            return
        self._times.append(float(t))
        self._states.append(np.array(states, dtype=np.uint8, copy=True))
        self._owners.append(np.array(owners, dtype=np.uint8, copy=True))
        if len(self._times) > MAX_FRAMES:
            keep = list(range(0, len(self._times) - 1, 2)) + [len(self._times) - 1]
            self._times = [self._times[i] for i in keep]
            self._states = [self._states[i] for i in keep]
            self._owners = [self._owners[i] for i in keep]
            self._min_gap = (self._times[-1] - self._times[0]) / (MAX_FRAMES / 2)

    def _replace_last(self, t, states, owners):
        self._times[-1] = float(t)
        self._states[-1] = np.array(states, dtype=np.uint8, copy=True)
        self._owners[-1] = np.array(owners, dtype=np.uint8, copy=True)

    @property
    def frame_count(self) -> int:
        return len(self._times)

    def finish(self, *, input_identity: dict, config: dict, result: dict,
               series: dict[str, np.ndarray], slot_count: int, pool_reserved: int) -> Session:
        names = [k for k in series if k != "time_s"]
        meta = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "input": input_identity,
            "config": config,
            "result": result,
            "counter_names": names,
            "heap_cells": self.heap_cells,
            "slot_count": slot_count,
            "pool_reserved": pool_reserved,
        }
        shape = (0, self.heap_cells)
        return Session(
            meta=meta,
            series={k: np.asarray(v) for k, v in series.items()},
            frame_times=np.array(self._times, dtype=np.float64),
            heap_states=np.stack(self._states) if self._states else np.zeros(shape, np.uint8),
            heap_owners=np.stack(self._owners) if self._owners else np.zeros(shape, np.uint8),
        )


def _delta_encode(frames: np.ndarray) -> np.ndarray:
    out = frames.copy()
    out[1:] ^= frames[:-1]
    return out


def _delta_decode(frames: np.ndarray) -> np.ndarray:
    return np.bitwise_xor.accumulate(frames, axis=0) if len(frames) else frames


def _npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def save_session(session: Session, path: str | os.PathLike) -> pathlib.Path:
    """Writes ``session`` atomically (temporary file in the same folder, then rename)."""
    path = pathlib.Path(path)
    names = session.meta["counter_names"]
    columns = [session.series["time_s"]] + [session.series[n] for n in names]
    series = np.column_stack([np.asarray(c, dtype=np.float64) for c in columns]) \
        if len(columns[0]) else np.zeros((0, 1 + len(names)))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("meta.json", json.dumps(session.meta, indent=1))
            zf.writestr("series.npy", _npy_bytes(series))
            zf.writestr("frame_times.npy", _npy_bytes(session.frame_times.astype(np.float64)))
            zf.writestr("heap_states.npy", _npy_bytes(_delta_encode(session.heap_states)))
            zf.writestr("heap_owners.npy", _npy_bytes(_delta_encode(session.heap_owners)))
        os.replace(tmp, path)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _load_array(zf: zipfile.ZipFile, member: str, name: str) -> np.ndarray:
    try:
        return np.load(io.BytesIO(zf.read(member)), allow_pickle=False)
    except ValueError as exc:
        raise SessionError(f"cannot open session '{name}': its {member} is damaged ({exc})") from None


def load_session(path: str | os.PathLike) -> Session:
    """Reads a session file.

    Raises
    ------
    SessionError
        One-line reason: missing, truncated/damaged, not a session, or newer version.
    """
    path = pathlib.Path(path)
    name = path.name
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise SessionError(f"cannot open session '{name}': no such file") from None
    except IsADirectoryError:
        raise SessionError(f"cannot open session '{name}': it is a directory") from None
    except PermissionError:
        raise SessionError(f"cannot open session '{name}': permission denied") from None
    except (zipfile.BadZipFile, OSError, EOFError):
        raise SessionError(f"cannot open session '{name}': not a heapscope session, or the file "
                           "is truncated") from None
    try:
        with zf:
            members = set(zf.namelist())
            if "meta.json" not in members:
                raise SessionError(f"cannot open session '{name}': not a heapscope session file")
            try:
                meta = json.loads(zf.read("meta.json"))
            except (ValueError, UnicodeDecodeError):
                raise SessionError(f"cannot open session '{name}': its meta.json is damaged") from None
            if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
                raise SessionError(f"cannot open session '{name}': not a heapscope session file")
            version = meta.get("version")
            if not isinstance(version, int) or version > FORMAT_VERSION:
                raise SessionError(
                    f"cannot open session '{name}': it was written by a newer heapscope (format "
                    f"version {version}; this one reads up to {FORMAT_VERSION})")
            missing = [m for m in _MEMBERS if m not in members]
            if missing:
                raise SessionError(f"cannot open session '{name}': it is incomplete "
                                   f"(missing {', '.join(missing)})")
            series_rows = _load_array(zf, "series.npy", name)
            frame_times = _load_array(zf, "frame_times.npy", name)
            states = _load_array(zf, "heap_states.npy", name)
            owners = _load_array(zf, "heap_owners.npy", name)
    except zipfile.BadZipFile as exc:
        raise SessionError(f"cannot open session '{name}': the file is damaged ({exc})") from None
    except (OSError, EOFError, KeyError) as exc:
        raise SessionError(f"cannot open session '{name}': the file is damaged ({exc})") from None
    return _assemble(name, meta, series_rows, frame_times, states, owners)


def _assemble(name, meta, series_rows, frame_times, states, owners) -> Session:
    try:
        names = list(meta["counter_names"])
        cells = int(meta["heap_cells"])
        for key in ("input", "config", "result"):
            if not isinstance(meta[key], dict):
                raise TypeError(key)
    except (KeyError, TypeError, ValueError):
        raise SessionError(f"cannot open session '{name}': its meta.json is incomplete") from None
    frames = len(frame_times)
    if (series_rows.ndim != 2 or series_rows.shape[1] != 1 + len(names)
            or states.dtype != np.uint8 or owners.dtype != np.uint8
            or states.shape != (frames, cells) or owners.shape != (frames, cells)):
        raise SessionError(f"cannot open session '{name}': its arrays do not match its meta.json")
    series = {"time_s": series_rows[:, 0]}
    for i, counter in enumerate(names):
        series[counter] = series_rows[:, 1 + i]
    return Session(meta=meta, series=series, frame_times=frame_times.astype(np.float64),
                   heap_states=_delta_decode(states), heap_owners=_delta_decode(owners))
