"""Reading a session file safely: open, zip directory and members, .npy headers.

Everything here is bounded before it happens: the file is opened without
blocking and must be a regular file of at most :data:`FILE_LIMIT` bytes; the
zip's end record and central directory are checked before :mod:`zipfile`
parses them; every member's name, method, flags, declared size and
compression ratio are checked before anything is decompressed; a member is
read in chunks into a buffer of its declared size, never more; a ``.npy``
header is matched against the exact form ``numpy.save`` writes (no eval) and
its shape against meta.json before its data is read.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import struct
import zipfile
import zlib

import numpy as np

from gui import session_times
from gui.inputs import file_kind, one_line
from gui.session_validate import SessionError

# What zipfile and zlib raise on a damaged member: reported as "damaged", never a crash.
_READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    RuntimeError,
    NotImplementedError,
)

#: Every session has these; version 3 may add session_times.MEMBERS.
REQUIRED = ("meta.json", "series.npy", "frame_times.npy", "heap_states.npy", "heap_owners.npy")
MEMBERS = REQUIRED + session_times.MEMBERS
FILE_LIMIT = 256 << 20  # bytes of the .session file itself
LOAD_BUDGET = 512 << 20  # uncompressed bytes of all members together
#: A lecture file (gui/lecture_file.py): its size, and the uncompressed bytes of
#: every run's members together.
LECTURE_FILE_LIMIT = 1 << 30
LECTURE_BUDGET = 1 << 30
MEMBER_LIMITS = {
    "meta.json": 1 << 20,
    "series.npy": 256 << 20,
    "frame_times.npy": 16 << 20,
    "heap_states.npy": LOAD_BUDGET,
    "heap_owners.npy": LOAD_BUDGET,
    **session_times.MEMBER_LIMITS,
}
#: Deflate cannot expand more than 1032:1; a directory claiming more is lying.  (Real heap
#: maps, delta-encoded, do reach ~1000:1, so no lower limit can be used: the declared
#: sizes, the budget and the bounded reads are what stop a zip bomb.)
RATIO_LIMIT = 1100
_CENTRAL_LIMIT = 4096  # bytes of central directory (8 entries take ~500)
_EOCD = struct.Struct("<4s4H2LH")
_CHUNK = 1 << 20


def open_regular(path, prefix: str) -> int:
    """A non-blocking read-only descriptor of a regular file, or SessionError."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        try:  # a socket cannot be opened at all (ENXIO): say what it is
            mode = os.stat(path).st_mode
        except (OSError, ValueError):
            mode = stat.S_IFREG
        if not stat.S_ISREG(mode):
            raise SessionError(f"{prefix}it is {file_kind(mode)}, not a regular file") from None
        reasons: dict[int | None, str] = {
            errno.ENOENT: "no such file",
            errno.EACCES: "permission denied",
            errno.EPERM: "permission denied",
            errno.ENAMETOOLONG: "the path is too long",
            errno.ENOTDIR: "a part of the path is not a folder",
            errno.ELOOP: "too many symbolic links in the path",
            errno.ENXIO: "it is a socket or device with nothing behind it",
        }
        reason = reasons.get(exc.errno) or (exc.strerror or "cannot be opened").lower()
        raise SessionError(f"{prefix}{reason}") from None
    try:
        mode = os.fstat(fd).st_mode
    except OSError as exc:
        os.close(fd)
        raise SessionError(f"{prefix}cannot read its status ({exc.strerror})") from None
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise SessionError(f"{prefix}it is {file_kind(mode)}, not a regular file")
    return fd


def check_end_record(
    f,
    size: int,
    prefix: str,
    file_limit: int = FILE_LIMIT,
    entries: int = 2 * len(MEMBERS),
    what: str = "a session",
) -> None:
    """The zip end record, before zipfile reads the directory it points at.

    A session has five to eight members (a lecture file one per run and its
    meta.json), so its central directory is tiny; a file claiming thousands of
    entries or a zip64 directory would have zipfile build them all.
    """
    if size > file_limit:
        raise SessionError(
            f"{prefix}the file is {size} bytes, more than {what} can be ({file_limit})"
        )
    tail_len = min(size, _EOCD.size + 0xFFFF)
    f.seek(size - tail_len)
    tail = f.read(tail_len)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _EOCD.size:
        raise SessionError(f"{prefix}not a heapscope session, or the file is truncated")
    _sig, disk, cd_disk, here, total, cd_size, cd_offset, comment = _EOCD.unpack_from(tail, at)
    if at + _EOCD.size + comment != len(tail):
        # Not the archive's own end record (heapscope writes it last, with no comment):
        # bytes after it, or the end record of a session stored inside a lecture file
        # whose own end record is damaged.
        raise SessionError(f"{prefix}not a heapscope session, or the file is damaged at its end")
    # zipfile trusts a zip64 locator just before the end record over the record itself.
    zip64 = at >= 20 and tail[at - 20 : at - 16] == b"PK\x06\x07"
    if zip64 or disk or cd_disk or here != total or total == 0xFFFF or cd_offset == 0xFFFFFFFF:
        raise SessionError(f"{prefix}not a heapscope session file (a multi-part or zip64 archive)")
    if total > entries or cd_size > _CENTRAL_LIMIT:
        raise SessionError(
            f"{prefix}not a heapscope session file (its directory lists "
            f"{total} entries in {cd_size} bytes)"
        )
    f.seek(0)


#: A lecture file's run members: run-01.session, run-02.session, ...
RUN_MEMBER = re.compile(r"run-(\d{2})\.session")


def lecture_members(zf: zipfile.ZipFile) -> list[zipfile.ZipInfo] | None:
    """The run members when the archive is a lecture file (it has one), else None."""
    runs = [i for i in zf.infolist() if RUN_MEMBER.fullmatch(i.filename)]
    return runs or None


def check_names(zf: zipfile.ZipFile, prefix: str) -> dict[str, zipfile.ZipInfo]:
    """Exactly the known member names, once each (missing ones are reported later)."""
    infos: dict[str, zipfile.ZipInfo] = {}
    for info in zf.infolist():
        name = info.filename
        if name not in MEMBERS:
            raise SessionError(
                f"{prefix}not a heapscope session file (unexpected member '{_shown(name)}')"
            )
        if name in infos:
            raise SessionError(
                f"{prefix}not a heapscope session file (member '{name}' appears twice)"
            )
        infos[name] = info
    if "meta.json" not in infos:
        raise SessionError(f"{prefix}not a heapscope session file")
    return infos


def check_member(info: zipfile.ZipInfo, prefix: str) -> None:
    """Method, flags, declared size and ratio of one member, from the directory only."""
    name = info.filename
    if info.flag_bits & 0x1:
        raise SessionError(f"{prefix}its {name} is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise SessionError(
            f"{prefix}its {name} uses compression method {info.compress_type} "
            "(sessions use deflate)"
        )
    limit = MEMBER_LIMITS[name]
    if info.file_size > limit:
        raise SessionError(
            f"{prefix}its {name} would expand to {info.file_size} bytes (the limit is {limit})"
        )
    if info.file_size > _CHUNK and info.file_size > RATIO_LIMIT * max(info.compress_size, 1):
        raise SessionError(
            f"{prefix}its {name} claims to expand {info.compress_size} bytes "
            f"to {info.file_size}, more than deflate can (a zip bomb?)"
        )
    if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
        raise SessionError(f"{prefix}its {name} is damaged (stored sizes differ)")


def check_budget(infos: dict[str, zipfile.ZipInfo], prefix: str, left: int | None = None) -> int:
    """Bytes the members expand to; at most LOAD_BUDGET, and at most ``left`` (what a
    lecture file's budget has left for this run) when given."""
    total = sum(i.file_size for i in infos.values())
    if total > LOAD_BUDGET:
        raise SessionError(
            f"{prefix}it would take {total} bytes of memory to load (the limit is {LOAD_BUDGET})"
        )
    if left is not None and total > left:
        raise SessionError(
            f"{prefix}it would take {total} bytes of memory to load, more than the "
            f"{max(left, 0)} bytes left of the lecture file's {LECTURE_BUDGET}"
        )
    return total


def read_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, prefix: str, start: bytes = b"", stream=None
) -> bytearray:
    """All of a member's bytes, at most its declared size (already checked)."""
    try:
        src = stream if stream is not None else zf.open(info)
        with src:
            out = bytearray(info.file_size)
            out[: len(start)] = start
            view, filled = memoryview(out), len(start)
            while filled < info.file_size:
                chunk = src.read(min(_CHUNK, info.file_size - filled))
                if not chunk:
                    break
                view[filled : filled + len(chunk)] = chunk
                filled += len(chunk)
            if filled != info.file_size or src.read(1):
                raise SessionError(
                    f"{prefix}its {info.filename} is damaged (it holds "
                    f"{filled} bytes, its directory says {info.file_size})"
                )
            return out
    except SessionError:
        raise
    except _READ_ERRORS as exc:
        raise SessionError(f"{prefix}its {info.filename} is damaged ({_why(exc)})") from None


# The one header form numpy.save writes for these arrays (version 1.0 / 2.0 framing).
_NPY_HEADER = re.compile(
    r"\{'descr': '(<f8|\|u1)', 'fortran_order': False, 'shape': \((\d{1,12}),(?: (\d{1,12}))?\), \}"
    r" *\n"
)
_DTYPES: dict[str, np.dtype] = {"<f8": np.dtype("<f8"), "|u1": np.dtype("u1")}


def read_npy(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    prefix: str,
    dtype: str,
    shape_ok,
    mismatch: str = "does not match its meta.json",
) -> np.ndarray:
    """A member's array; ``shape_ok(shape)`` returns None or why the shape is wrong
    (the message then says the member ``mismatch`` and why).

    The header is read and checked (dtype, order, shape against meta.json, data size
    against the directory) before the data is.
    """
    name = info.filename

    def damaged(why: str):
        return SessionError(f"{prefix}its {name} is damaged ({why})")

    try:
        stream = zf.open(info)
        head = stream.read(12)
    except _READ_ERRORS as exc:
        raise damaged(_why(exc)) from None
    try:
        if len(head) < 10 or head[:6] != b"\x93NUMPY":
            raise damaged("not a numpy array file")
        if head[6:8] == b"\x01\x00":
            header_len, fixed = struct.unpack_from("<H", head, 8)[0], 10
        elif head[6:8] == b"\x02\x00" and len(head) >= 12:
            header_len, fixed = struct.unpack_from("<I", head, 8)[0], 12
        else:
            raise damaged(f"numpy format version {head[6]}.{head[7]} is not one heapscope writes")
        if header_len > 1024 or fixed + header_len > info.file_size:
            raise damaged("its array header is too long")
        prefix_bytes = head + stream.read(max(0, fixed + header_len - len(head)))
        match = _NPY_HEADER.fullmatch(prefix_bytes[fixed : fixed + header_len].decode("latin-1"))
        if match is None:
            raise damaged(
                f"not a plain {'float64' if dtype == '<f8' else 'uint8'} array, or pickled objects"
            )
        if match.group(1) != dtype:
            raise damaged(f"its values are {_DTYPES[match.group(1)]}, not {_DTYPES[dtype]}")
        shape = tuple(int(g) for g in match.groups()[1:] if g is not None)
        why = shape_ok(shape)
        if why:
            raise SessionError(f"{prefix}its {name} {mismatch} ({why})")
        data_len = int(np.prod(shape, dtype=object)) * _DTYPES[dtype].itemsize
        if fixed + header_len + data_len != info.file_size:
            raise damaged(
                f"an array of shape {shape} takes {data_len} bytes, the member holds "
                f"{info.file_size - fixed - header_len}"
            )
        raw = read_member(zf, info, prefix, prefix_bytes, stream)
    except SessionError:
        stream.close()
        raise
    except _READ_ERRORS as exc:
        stream.close()
        raise damaged(_why(exc)) from None
    # A writable view of the buffer: no second copy of a big array.
    return np.frombuffer(raw, dtype=_DTYPES[dtype], offset=fixed + header_len).reshape(shape)


def _why(exc: BaseException) -> str:
    """What zipfile/zlib said, as a short line."""
    if isinstance(exc, OSError) and not isinstance(exc, zipfile.BadZipFile):
        return f"its place in the file is wrong: {exc.strerror or exc}"
    return _shown(str(exc) or type(exc).__name__)


def _shown(text: str, limit: int = 100) -> str:
    return one_line(text, limit)
