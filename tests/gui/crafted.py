"""Builds crafted (hostile or broken) session files in a test's tmp_path.

Everything is made in code from one good recorded session: its members are
taken apart (:func:`members`), changed, and put back together, either with
:mod:`zipfile` (:func:`write_zip`) or byte by byte (:func:`raw_zip`) when the
zip directory itself must lie (sizes, flags, entry counts).
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib

import numpy as np


def members(path) -> dict[str, bytes]:
    """The good session's members, uncompressed, in their file order."""
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def meta_of(parts: dict[str, bytes]) -> dict:
    return json.loads(parts["meta.json"])


def write_zip(path, parts, method=zipfile.ZIP_DEFLATED):
    """``parts``: dict or list of (name, bytes); names may repeat (zipfile warns, writes)."""
    items = parts.items() if isinstance(parts, dict) else parts
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name" is the point of some cases
        with zipfile.ZipFile(path, "w", method) as zf:
            for name, data in items:
                zf.writestr(name, data)
    return path


def with_meta(parts: dict[str, bytes], edit) -> dict[str, bytes]:
    """A copy of ``parts`` whose meta.json went through ``edit(meta)`` (in place)."""
    meta = meta_of(parts)
    edit(meta)
    return {**parts, "meta.json": json.dumps(meta).encode()}


def with_meta_text(parts, text: str | bytes) -> dict[str, bytes]:
    return {**parts, "meta.json": text.encode() if isinstance(text, str) else text}


def npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def npy_header(header: str, version: tuple[int, int] = (1, 0), data: bytes = b"") -> bytes:
    """A .npy file with a hand-written header dict (padded like numpy does)."""
    text = header.encode("latin-1")
    fixed = 10 if version[0] == 1 else 12
    pad = (-(fixed + len(text) + 1)) % 64
    text += b" " * pad + b"\n"
    length = struct.pack("<H" if version[0] == 1 else "<I", len(text))
    return b"\x93NUMPY" + bytes(version) + length + text + data


def delta(frames: np.ndarray) -> np.ndarray:
    """The XOR encoding session files store heap maps in."""
    out = frames.copy()
    out[1:] ^= frames[:-1]
    return out


def load_npy(data: bytes) -> np.ndarray:
    return np.load(io.BytesIO(data), allow_pickle=False)


# ------------------------------------------------------------------ raw zips


def deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def zeros_bomb(size: int, chunk: int = 16 << 20) -> tuple[bytes, int]:
    """A raw deflate stream of ``size`` zero bytes and its CRC, without ever holding them.

    After a full flush the compressor starts afresh, so every ``chunk`` of zeros
    compresses to the same bytes: one chunk is compressed, its output repeated.
    """
    assert size % chunk == 0
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bytes(chunk)
    block = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(size // chunk):
        crc = zlib.crc32(zeros, crc)
    return block * (size // chunk) + c.flush(), crc


def raw_zip(entries, *, total_override: int | None = None) -> bytes:
    """A zip built byte by byte, so its directory can say anything.

    ``entries``: dicts with ``name``, ``data`` (the bytes as stored) and optionally
    ``method`` (8), ``crc``, ``file_size`` (declared uncompressed size), ``flags``,
    ``local_name`` (a different name in the local header).
    """
    out, central = bytearray(), bytearray()
    for e in entries:
        name = e["name"].encode()
        local_name = e.get("local_name", e["name"]).encode()
        data, method, flags = e["data"], e.get("method", 8), e.get("flags", 0)
        crc, usize = e.get("crc", 0), e["file_size"]
        offset = len(out)
        out += (
            struct.pack(
                "<4s5H3L2H",
                b"PK\x03\x04",
                20,
                flags,
                method,
                0,
                0x21,
                crc,
                len(data),
                usize,
                len(local_name),
                0,
            )
            + local_name
            + data
        )
        central += (
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                20,
                20,
                flags,
                method,
                0,
                0x21,
                crc,
                len(data),
                usize,
                len(name),
                0,
                0,
                0,
                0,
                0o644 << 16,
                offset,
            )
            + name
        )
    count = len(entries) if total_override is None else total_override
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(central), len(out), 0)
    return bytes(out + central + end)


def stored_entry(name: str, data: bytes) -> dict:
    """An honest deflated entry for :func:`raw_zip`."""
    return {"name": name, "data": deflate(data), "crc": zlib.crc32(data), "file_size": len(data)}
