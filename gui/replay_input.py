"""What a replayed session may be compared with, and what the UI says about it.

A session file comes from someone else: the input path it names is never
opened, let alone run (it may be ``/dev/zero``, a FIFO, or another file that
happens to have that name here).  The recorded signature is checked against a
single-threaded reference only when the input the *user* has open has the
session's recorded size and SHA-256; the reference is then computed from the
user's own path.
"""

from __future__ import annotations

import os
import re

from gui import inputs
from gui.slowed_rows import rekey_speedup

_SHA256 = re.compile(r"[0-9a-f]{64}")


def recorded_identity(meta: dict) -> tuple[str, int | None, str | None]:
    """The session's input name, byte count and SHA-256 (None where absent or malformed)."""
    identity = meta.get("input") if isinstance(meta, dict) else None
    identity = identity if isinstance(identity, dict) else {}
    name = identity.get("name")
    name = os.path.basename(name) if isinstance(name, str) and name else "(unnamed input)"
    size = identity.get("bytes")
    size = size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None
    digest = identity.get("sha256")
    digest = (
        digest.lower() if isinstance(digest, str) and _SHA256.fullmatch(digest.lower()) else None
    )
    return name, size, digest


def matches_open_input(meta: dict, input_path: str | None) -> bool:
    """True when the user's open input has the session's recorded size and SHA-256."""
    _name, size, digest = recorded_identity(meta)
    if input_path is None or size is None or digest is None:
        return False
    try:
        if os.stat(input_path).st_size != size:
            return False  # no need to hash a file of another size
        return inputs.file_identity(input_path)["sha256"] == digest
    except OSError:
        return False


def not_checked_note(meta: dict) -> str:
    """One line: why a replay's signature has no ✓ or ✗."""
    name, _size, _digest = recorded_identity(meta)
    return (
        f"input file '{inputs.shown_path(name)}' is not here (open it, then the session, "
        "to check); the reference signature was not checked"
    )


def thinning_note(source) -> str:
    """The recorder's or session's note when its recording was thinned, else ''."""
    meta = getattr(source, "meta", None)
    meta = meta if isinstance(meta, dict) else {}
    recording = meta.get("recording")
    recording = recording if isinstance(recording, dict) else {}
    thinned = (
        getattr(source, "thinned", False) is True
        or meta.get("thinned") is True
        or recording.get("thinned") is True
    )
    if not thinned:
        return ""
    for note in (
        getattr(source, "thinning_note", None),
        meta.get("thinning_note"),
        recording.get("thinning_note"),
        recording.get("note"),
    ):
        if isinstance(note, str) and note.strip():
            return " ".join(note.split())[:300]
    return "the recording was thinned to stay within its memory budget"


def session_key(meta: dict, block_size: int) -> tuple:
    """A results-table key for a replay that is not the open input: never a path here."""
    name, size, digest = recorded_identity(meta)
    return ("session", digest or name, size, block_size)


def rekey_row(model, row, key: tuple) -> None:
    """Gives a freshly added row another key, and its speedup against that key's first
    baseline at full speed (a slowed run keeps no speedup: gui.slowed_rows)."""
    row.key = key
    rekey_speedup(model, row)
