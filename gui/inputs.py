"""Test inputs: generated files (random, text-like, zeros, skewed) and bundled samples.

Generated files go to the user's data folder (``QStandardPaths``), or to
``$HEAPSCOPE_DATA_DIR`` when set (the tests use that to stay in a tmp dir).
Every kind is reproducible from its seed.
"""

from __future__ import annotations

import errno
import hashlib
import importlib.resources
import os
import pathlib
import stat
import tempfile

import numpy as np

from gui.file_modes import shared_file_mode

KINDS = ("random", "text", "zeros", "skewed")
KIND_DESCRIPTIONS = {
    "random": "random bytes: ~250 distinct values per block, big trees, many allocations",
    "text": "text-like: English-ish words, ~40 distinct values per block",
    "zeros": "zeros: one value per block, a one-node tree",
    "skewed": "skewed: a few very common values, small trees",
}
MAX_GENERATED = 256 * 1024 * 1024
_WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "that",
    "it",
    "was",
    "for",
    "on",
    "are",
    "as",
    "with",
    "his",
    "they",
    "at",
    "be",
    "this",
    "from",
    "have",
    "or",
    "by",
    "one",
    "had",
    "not",
    "but",
    "what",
    "all",
    "were",
    "when",
    "we",
    "there",
    "can",
    "an",
    "your",
    "which",
    "their",
    "said",
    "if",
    "do",
    "will",
    "each",
    "about",
    "how",
    "up",
    "out",
    "them",
    "then",
    "she",
    "many",
    "some",
    "so",
    "these",
    "would",
    "other",
    "into",
    "has",
    "more",
    "her",
    "two",
    "like",
    "him",
    "see",
    "time",
    "could",
    "no",
    "make",
    "than",
    "first",
    "been",
    "its",
    "who",
    "now",
    "people",
    "my",
    "made",
    "over",
    "did",
    "down",
    "only",
    "way",
    "find",
    "use",
    "may",
    "water",
    "long",
    "little",
    "very",
    "after",
    "words",
    "called",
    "just",
    "where",
    "most",
    "know",
    "get",
    "through",
    "back",
    "much",
    "before",
    "go",
    "good",
    "new",
    "write",
    "our",
    "used",
    "me",
    "man",
    "too",
    "any",
    "day",
    "same",
    "right",
    "look",
    "think",
    "also",
    "around",
    "another",
    "came",
    "come",
    "work",
    "three",
    "word",
    "must",
    "because",
    "does",
    "part",
    "heap",
    "lock",
    "thread",
    "pool",
    "block",
    "memory",
    "allocator",
    "signature",
    "huffman",
    "tree",
    "node",
    "free",
    "list",
]


def escaped(text: str) -> str:
    """``text`` with control characters (newlines too) escaped as ``\\xNN``."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


def one_line(text: object, limit: int) -> str:
    """``str(text)`` escaped for a one-line message, cut with "..." past ``limit``."""
    shown = escaped(str(text))
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def shown_path(path: str | os.PathLike, limit: int = 200) -> str:
    """A path for a one-line message: control characters escaped, long paths shortened."""
    text = escaped(os.fspath(path))
    if len(text) <= limit:
        return text
    head = (limit - 3) // 3
    return f"{text[:head]}...{text[len(text) - (limit - 3 - head) :]}"


def file_kind(mode: int) -> str:
    """What a non-regular file is, in the engine's own words."""
    for test, kind in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return "not a file"


def not_regular_reason(path: str | os.PathLike) -> str | None:
    """Why ``path`` cannot be an input, for anything that is not a regular file, else None.

    Only ``stat`` is used (never ``open``): opening a FIFO waits for a writer, and
    ``/dev/zero`` never ends.  A path that cannot be stat'ed at all (missing, no
    permission) returns None: the engine's own message says why.
    """
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    if stat.S_ISREG(mode):
        return None
    return f"cannot read '{shown_path(path)}': it is {file_kind(mode)}, not a regular file"


def open_regular(path: str | os.PathLike) -> int:
    """A read-only descriptor of a regular file; never blocks (FIFOs are refused).

    Raises
    ------
    OSError
        When the path cannot be opened or is not a regular file.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise OSError(
                errno.EINVAL, f"it is {file_kind(mode)}, not a regular file", os.fspath(path)
            )
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


#: (realpath, size, mtime_ns) -> identity; hashing a big input twice is a visible pause.
_IDENTITIES: dict[tuple, dict] = {}


def file_identity(path: str | os.PathLike) -> dict:
    """Name, size and SHA-256 of a regular file (as recorded in a session), cached.

    Like :func:`gui.session_file.file_identity`, but it never opens a FIFO or a
    device (it would block or never end).

    Raises
    ------
    OSError
        When the file cannot be read or is not a regular file.
    """
    fd = open_regular(path)
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        key = (os.path.realpath(path), st.st_size, st.st_mtime_ns)
        cached = _IDENTITIES.get(key)
        if cached is not None:
            return {**cached, "name": pathlib.Path(path).name}
        digest = hashlib.sha256()
        size = 0
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    identity = {"name": pathlib.Path(path).name, "bytes": size, "sha256": digest.hexdigest()}
    if len(_IDENTITIES) >= 16:
        _IDENTITIES.pop(next(iter(_IDENTITIES)))
    _IDENTITIES[key] = identity
    return dict(identity)


def data_dir() -> pathlib.Path:
    """Where generated inputs are written (created on demand)."""
    override = os.environ.get("HEAPSCOPE_DATA_DIR")
    if override:
        base = pathlib.Path(override)
    else:
        from PySide6.QtCore import QStandardPaths

        base = pathlib.Path(
            QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
            or pathlib.Path.home() / ".heapscope"
        )
    folder = base / "inputs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def size_label(size: int) -> str:
    if size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)}MiB"
    if size % 1024 == 0:
        return f"{size // 1024}KiB"
    return f"{size}B"


def generate_bytes(kind: str, size: int, seed: int = 1) -> bytes:
    """``size`` bytes of the given kind (deterministic for a seed).

    Raises
    ------
    ValueError
        For an unknown kind or a size outside 1 B .. 256 MiB.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown input kind '{kind}': choose one of {', '.join(KINDS)}")
    if not 1 <= size <= MAX_GENERATED:
        raise ValueError(f"input size must be between 1 byte and 256 MiB (got {size} bytes)")
    rng = np.random.default_rng(seed)
    if kind == "random":
        return rng.integers(0, 256, size, dtype=np.uint8).tobytes()
    if kind == "zeros":
        return bytes(size)
    if kind == "skewed":
        # Geometric: value 0 is ~10 % of the bytes, values past ~60 are rare.
        values = np.minimum(rng.geometric(0.1, size) - 1, 255).astype(np.uint8)
        return values.tobytes()
    # Text: Zipf-like word frequencies, spaces, a newline every ~12 words.
    words = np.array([w.encode() for w in _WORDS], dtype=object)
    weights = 1.0 / np.arange(1, len(words) + 1)
    weights /= weights.sum()
    out = bytearray()
    while len(out) < size:
        picks = rng.choice(len(words), 20000, p=weights)
        seps = np.where(rng.random(20000) < 1 / 12, b"\n", b" ")
        out += b"".join(w + s for w, s in zip(words[picks], seps, strict=True))
    return bytes(out[:size])


def generate(
    kind: str, size: int, folder: str | os.PathLike | None = None, seed: int = 1
) -> pathlib.Path:
    """Writes a generated input and returns its path (``<kind>_<size>.bin``)."""
    folder = pathlib.Path(folder) if folder is not None else data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".txt" if kind == "text" else ".bin"
    path = folder / f"{kind}_{size_label(size)}{suffix}"
    data = generate_bytes(kind, size, seed)
    # A fresh temporary name (O_EXCL): a fixed ".part" name could be a FIFO left there,
    # and writing to a FIFO waits for a reader for ever.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, shared_file_mode())
        os.replace(tmp, path)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise
    return path


def samples() -> list[pathlib.Path]:
    """The bundled sample inputs, by name."""
    folder = importlib.resources.files("resources") / "samples"
    try:
        entries = [pathlib.Path(str(p)) for p in folder.iterdir()]
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(p for p in entries if p.is_file() and not p.name.startswith("."))
