"""Crafted session files: each one must give exactly one SessionError line, quickly.

A session file comes from someone else (issue 7).  Every case below is built in
code from one good recorded session (tests/gui/crafted.py) and names the exact
message load_session must give.  A zip bomb must be refused from its directory
alone, without allocating what it claims.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import socket
import struct
import tracemalloc
import zlib
from collections.abc import Callable

import numpy as np
import pytest

from engine import COUNTER_NAMES
from gui import session_read
from gui.session_file import SessionError, load_session, save_session
from tests.gui import crafted
from tests.gui.crafted import (
    delta,
    load_npy,
    meta_of,
    npy,
    npy_header,
    raw_zip,
    stored_entry,
    with_meta,
    with_meta_text,
    write_zip,
)
from tests.gui.helpers import record

LIMIT = (1 << 63) - 1


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """One real pooled run of ramp.bin (2 MiB heap: 131072 cells, 20 slots, 2 frames)."""
    session, _, _ = record("ramp.bin")
    return save_session(session, tmp_path_factory.mktemp("good") / "good.session")


@dataclasses.dataclass
class Ctx:
    good: os.PathLike
    tmp: os.PathLike
    name: str

    @property
    def parts(self) -> dict[str, bytes]:
        return crafted.members(self.good)

    @property
    def out(self):
        return self.tmp / self.name


def meta(edit: Callable[[dict], None]):
    """A case that changes meta.json."""
    return lambda c: write_zip(c.out, with_meta(c.parts, edit))


def meta_text(text):
    return lambda c: write_zip(c.out, with_meta_text(c.parts, text))


def member(name: str, data_of: Callable[[dict], bytes]):
    """A case that replaces one member with ``data_of(parts)``."""
    return lambda c: write_zip(c.out, {**c.parts, name: data_of(c.parts)})


def frames(name: str, change: Callable[[np.ndarray], None]):
    """A case that changes the decoded heap-map frames of ``name``, then re-encodes them."""

    def data_of(parts):
        plain = np.bitwise_xor.accumulate(load_npy(parts[name]), axis=0)
        change(plain)
        return npy(delta(plain))

    return member(name, data_of)


def series(change: Callable[[np.ndarray], None]):
    def data_of(parts):
        rows = load_npy(parts["series.npy"]).copy()
        change(rows)
        return npy(rows)

    return member("series.npy", data_of)


def setitem(path: str, value):
    """An edit that sets meta[a][b] (path "a.b") to value."""

    def edit(m):
        *keys, last = path.split(".")
        for k in keys:
            m = m[k]
        m[last] = value

    return edit


def delitem(path: str):
    def edit(m):
        *keys, last = path.split(".")
        for k in keys:
            m = m[k]
        del m[last]

    return edit


def raw(build_entries, **kw):
    """A case written byte by byte: ``build_entries(parts)`` gives raw_zip entries."""

    def build(c):
        c.out.write_bytes(raw_zip(build_entries(c.parts), **kw))
        return c.out

    return build


def honest(parts, **changes):
    """raw_zip entries for every member, with ``changes[name]`` merged into one entry."""
    entries = []
    for name, data in parts.items():
        entry = stored_entry(name, data)
        entry.update(changes.get(name.replace(".", "_"), {}))
        entries.append(entry)
    return entries


def with_name_in_local_header(parts):
    return honest(parts, series_npy={"local_name": "seriez.npy"})


def encrypted(parts):
    return honest(parts, meta_json={"flags": 0x1})


def bzip2_series(parts):
    return honest(parts, series_npy={"method": 12})


def lying_ratio(parts):
    """heap_states.npy claims 400 MiB from the ~200 bytes it really holds."""
    return honest(parts, heap_states_npy={"file_size": 400 << 20})


def shorter_than_declared(parts):
    """meta.json's directory entry claims 100 more bytes than its deflate stream holds."""
    return honest(parts, meta_json={"file_size": len(parts["meta.json"]) + 100})


def wrong_crc(parts):
    return honest(parts, frame_times_npy={"crc": 12345})


def many_entries(parts):
    return [stored_entry(f"x{i}", b"") for i in range(1000)]


def zip64_marker(parts):
    return honest(parts)


def zip64_locator(c):
    """A zip64 locator before an honest end record: zipfile would take its counts instead."""
    data = bytearray(raw_zip(honest(c.parts)))
    end = data.rindex(b"PK\x05\x06")
    data[end:end] = struct.pack("<4sLQL", b"PK\x06\x07", 0, 0, 1)
    c.out.write_bytes(bytes(data))
    return c.out


def deep(n):
    return "[" * n + "]" * n


TOO_LONG_NAME = "x" * 5000 + ".session"


def fifo(c):
    path = c.tmp / "pipe.session"
    os.mkfifo(path)
    return path


def sock(c):
    path = c.tmp / "s.session"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()
    return path


def sparse_huge(c):
    with open(c.out, "wb") as f:
        f.truncate(session_read.FILE_LIMIT + 1)
    return c.out


def heap_256mib(parts):
    """2.4 KB of file claiming a 256 MiB heap and 100 frames of it (2.4 GiB in memory)."""

    def edit(m):
        m["config"]["heap_size"] = m["result"]["heap_size"] = 256 << 20
        m["heap_cells"] = (256 << 20) // 16

    out = with_meta(parts, edit)
    header = npy_header("{'descr': '|u1', 'fortran_order': False, 'shape': (100, 16777216), }")
    out["frame_times.npy"] = npy(np.arange(100, dtype=np.float64))
    out["heap_states.npy"] = out["heap_owners.npy"] = header
    return out


CASES = [
    # -- not a file we may open
    (
        "empty",
        lambda c: (c.out.write_bytes(b""), c.out)[1],
        "not a heapscope session, or the file is truncated",
    ),
    (
        "text",
        lambda c: (c.out.write_text("hello"), c.out)[1],
        "not a heapscope session, or the file is truncated",
    ),
    (
        "half",
        lambda c: (c.out.write_bytes(c.good.read_bytes()[: c.good.stat().st_size // 2]), c.out)[1],
        "not a heapscope session, or the file is truncated",
    ),
    (
        "last-byte-cut",
        lambda c: (c.out.write_bytes(c.good.read_bytes()[:-1]), c.out)[1],
        "not a heapscope session, or the file is truncated",
    ),
    ("missing", lambda c: c.out, "no such file"),
    ("directory", lambda c: (c.out.mkdir(), c.out)[1], "it is a directory, not a regular file"),
    ("fifo", fifo, "it is a FIFO (named pipe), not a regular file"),
    ("socket", sock, "it is a socket, not a regular file"),
    ("dev-zero", lambda c: "/dev/zero", "it is a character device, not a regular file"),
    (
        "symlink-to-dev-zero",
        lambda c: (c.out.symlink_to("/dev/zero"), c.out)[1],
        "it is a character device, not a regular file",
    ),
    (
        "symlink-loop",
        lambda c: (c.out.symlink_to(c.out.name), c.out)[1],
        "too many symbolic links in the path",
    ),
    (
        "too-big",
        sparse_huge,
        f"the file is {session_read.FILE_LIMIT + 1} bytes, more than a session can be "
        f"({session_read.FILE_LIMIT})",
    ),
    (
        "under-a-file",
        lambda c: (c.out.write_bytes(b""), c.out / "x.session")[1],
        "a part of the path is not a folder",
    ),
    # -- the zip directory
    (
        "1000-entries",
        raw(many_entries),
        "not a heapscope session file (its directory lists 1000 entries in 49890 bytes)",
    ),
    (
        "zip64-count",
        raw(zip64_marker, total_override=0xFFFF),
        "not a heapscope session file (a multi-part or zip64 archive)",
    ),
    (
        "zip64-locator",
        zip64_locator,
        "not a heapscope session file (a multi-part or zip64 archive)",
    ),
    (
        "unknown-member",
        lambda c: write_zip(c.out, {**c.parts, "evil.txt": b"x"}),
        "not a heapscope session file (unexpected member 'evil.txt')",
    ),
    (
        "absolute-name",
        lambda c: write_zip(c.out, {**c.parts, "/etc/passwd": b"x"}),
        "not a heapscope session file (unexpected member '/etc/passwd')",
    ),
    (
        "dotdot-name",
        lambda c: write_zip(c.out, [("../meta.json", c.parts["meta.json"]), *c.parts.items()]),
        "not a heapscope session file (unexpected member '../meta.json')",
    ),
    (
        "newline-name",
        lambda c: write_zip(c.out, [*c.parts.items(), ("a\nb", b"")]),
        "not a heapscope session file (unexpected member 'a\\x0ab')",
    ),
    (
        "duplicate-member",
        lambda c: write_zip(c.out, [*c.parts.items(), ("series.npy", c.parts["series.npy"])]),
        "not a heapscope session file (member 'series.npy' appears twice)",
    ),
    (
        "no-meta",
        lambda c: write_zip(c.out, {k: v for k, v in c.parts.items() if k != "meta.json"}),
        "not a heapscope session file",
    ),
    (
        "no-owners",
        lambda c: write_zip(c.out, {k: v for k, v in c.parts.items() if k != "heap_owners.npy"}),
        "it is incomplete (missing heap_owners.npy)",
    ),
    ("encrypted", raw(encrypted), "its meta.json is encrypted"),
    (
        "bzip2",
        raw(bzip2_series),
        "its series.npy uses compression method 12 (sessions use deflate)",
    ),
    (
        "header-name-differs",
        raw(with_name_in_local_header),
        "its series.npy is damaged (File name in directory 'series.npy' and header b'seriez.npy' "
        "differ.)",
    ),
    (
        "meta-over-limit",
        meta_text(" " * (2 << 20) + "{}"),
        f"its meta.json would expand to {(2 << 20) + 2} bytes (the limit is 1048576)",
    ),
    (
        "ratio-lie",
        raw(lying_ratio),
        re.compile(
            r"its heap_states\.npy claims to expand \d+ bytes to 419430400, more than "
            r"deflate can \(a zip bomb\?\)"
        ),
    ),
    (
        "shorter-than-declared",
        raw(shorter_than_declared),
        re.compile(r"its meta\.json is damaged \(it holds \d+ bytes, its directory says \d+\)"),
    ),
    (
        "bad-crc",
        raw(wrong_crc),
        "its frame_times.npy is damaged (Bad CRC-32 for file 'frame_times.npy')",
    ),
    # -- meta.json as JSON
    ("not-utf8", meta_text(b"\xff\xfe{}"), "its meta.json is damaged (not UTF-8 text)"),
    (
        "not-json",
        meta_text("{format: 1"),
        "its meta.json is damaged (not JSON: Expecting property name enclosed in double quotes at "
        "line 1 column 2)",
    ),
    ("json-list", meta_text("[1, 2]"), "not a heapscope session file"),
    (
        "deep-100000",
        meta_text(deep(100000)),
        "its meta.json is damaged (nested more than 8 levels deep)",
    ),
    (
        "deep-in-result",
        meta(setitem("result.path", json.loads(deep(9)))),
        "its meta.json is damaged (nested more than 8 levels deep)",
    ),
    (
        "brackets-in-strings-are-not-depth",
        meta(setitem("result.path", "[" * 50)),
        None,
    ),  # loads: brackets inside strings do not nest
    (
        "bytes-10e400",
        meta_text(json.dumps({"format": "heapscope-session"})[:-1] + ', "x": 1' + "0" * 400 + "}"),
        "its meta.json is damaged (it holds a number with 401 digits)",
    ),
    (
        "int-2e63",
        meta(setitem("result.bytes", 2**63)),
        "its meta.json is damaged (it holds the number 9223372036854775808, beyond 64 bits)",
    ),
    (
        "float-1e400",
        meta_text('{"format": "heapscope-session", "x": 1e400}'),
        "its meta.json is damaged (it holds the number 1e400, too large to be a float)",
    ),
    (
        "nan",
        meta_text('{"format": "heapscope-session", "x": NaN}'),
        "its meta.json is damaged (it holds NaN, which is not a number JSON allows)",
    ),
    (
        "minus-infinity",
        meta_text('{"x": -Infinity}'),
        "its meta.json is damaged (it holds -Infinity, which is not a number JSON allows)",
    ),
    (
        "duplicate-key",
        meta_text('{"format": "heapscope-session", "format": "x"}'),
        "its meta.json is damaged (it repeats the key 'format')",
    ),
    # -- meta.json fields
    ("foreign-format", meta(setitem("format", "something-else")), "not a heapscope session file"),
    (
        "version-text",
        meta(setitem("version", "1")),
        "its meta.json is invalid: version must be a whole number from 1 (got '1')",
    ),
    (
        "version-0",
        meta(setitem("version", 0)),
        "its meta.json is invalid: version must be a whole number from 1 (got 0)",
    ),
    (
        "version-true",
        meta(setitem("version", True)),
        "its meta.json is invalid: version must be a whole number from 1 (got True)",
    ),
    (
        "version-6",
        meta(setitem("version", 6)),
        "it was written by a newer heapscope (format version 6; this one reads up to 5)",
    ),
    (
        "unknown-field",
        meta(setitem("evil", 1)),
        "its meta.json is invalid: meta has an unknown field 'evil'",
    ),
    (
        "no-heap-cells",
        meta(delitem("heap_cells")),
        "its meta.json is invalid: meta has no 'heap_cells'",
    ),
    (
        "heap-cells-1e9",
        meta(setitem("heap_cells", 10**9)),
        "its meta.json is invalid: heap_cells is 1000000000 (it must be 131072)",
    ),
    (
        "slot-count-1e9",
        meta(setitem("slot_count", 10**9)),
        "its meta.json is invalid: slot_count is 1000000000 (it must be 20)",
    ),
    (
        "slot-count-float",
        meta(setitem("slot_count", 20.0)),
        "its meta.json is invalid: slot_count must be a whole number (got 20.0)",
    ),
    (
        "pool-reserved",
        meta(setitem("pool_reserved", 1)),
        "its meta.json is invalid: pool_reserved is 1 (it must be 655360)",
    ),
    (
        "config-list",
        meta(setitem("config", [])),
        "its meta.json is invalid: config must be an object",
    ),
    (
        "config-heap-2e40",
        meta(setitem("config.heap_size", 2**40)),
        "its meta.json is invalid: config: heap size must be between 4096 and 268435456 "
        "(got 1099511627776)",
    ),
    (
        "config-heap-4100",
        meta(setitem("config.heap_size", 4100)),
        "its meta.json is invalid: config: heap size must be a multiple of 16 bytes (got 4100)",
    ),
    (
        "config-pools-too-big",
        meta(setitem("config.pool_size", 1 << 20)),
        re.compile(r"its meta\.json is invalid: config: heap too small for the pools: .+"),
    ),
    (
        "config-floor",
        meta(setitem("config.strategy", "floor")),
        "its meta.json is invalid: config.strategy 'floor' is not one of "
        "single, baseline, pooled, sizeclass, batched, malloc, mimalloc, jemalloc, tcmalloc",
    ),
    (
        "config-strategy-number",
        meta(setitem("config.strategy", 2)),
        "its meta.json is invalid: config.strategy must be text (got 2)",
    ),
    (
        "config-batch-text",
        meta(setitem("config.batch_size", "20")),
        "its meta.json is invalid: config.batch_size must be a whole number (got '20')",
    ),
    (
        "config-batch-bool",
        meta(setitem("config.batch_size", True)),
        "its meta.json is invalid: config.batch_size must be a whole number (got True)",
    ),
    (
        "config-batch-1000",
        meta(setitem("config.batch_size", 1000)),
        "its meta.json is invalid: config: batch size must be between 1 and 128 (got 1000)",
    ),
    (
        "config-lock-before-v5",
        meta(setitem("config.lock", "spin")),
        "its meta.json is invalid: config has an unknown field 'lock'",
    ),
    (
        "config-lock-unknown",
        meta(lambda m: (setitem("version", 5)(m), setitem("config.lock", "ticket")(m))),
        "its meta.json is invalid: config.lock 'ticket' is not one of mutex, spin, adaptive",
    ),
    (
        "config-lock-number",
        meta(lambda m: (setitem("version", 5)(m), setitem("config.lock", 1)(m))),
        "its meta.json is invalid: config.lock must be text (got 1)",
    ),
    (
        "config-workers-text",
        meta(lambda m: (setitem("version", 5)(m), setitem("config.workers", "2")(m))),
        "its meta.json is invalid: config.workers must be a whole number (got '2')",
    ),
    (
        "config-workers-huge",
        meta(lambda m: (setitem("version", 5)(m), setitem("config.workers", 10**9)(m))),
        re.compile(r"its meta\.json is invalid: config: workers must be between 0 and \d+ .*"),
    ),
    (
        # 2 workers: 2 slots, not the batch's 20.
        "config-workers-slots",
        meta(lambda m: (setitem("version", 5)(m), setitem("config.workers", 2)(m))),
        "its meta.json is invalid: slot_count is 20 (it must be 2)",
    ),
    (
        "config-extra",
        meta(setitem("config.telemetry", True)),
        "its meta.json is invalid: config has an unknown field 'telemetry'",
    ),
    (
        "counter-names-text",
        meta(setitem("counter_names", "lock_contended")),
        "its meta.json is invalid: counter_names must be a list of at most "
        f"{len(COUNTER_NAMES)} counter names",
    ),
    (
        "counter-names-unknown",
        meta(setitem("counter_names", ["rm -rf"])),
        "its meta.json is invalid: counter_names holds 'rm -rf', which is not an engine counter",
    ),
    (
        "counter-names-number",
        meta(setitem("counter_names", [7])),
        "its meta.json is invalid: counter_names holds '7', which is not an engine counter",
    ),
    (
        "counter-names-twice",
        meta(setitem("counter_names", ["lock_contended"] * 2)),
        "its meta.json is invalid: counter_names names a counter twice",
    ),
    ("input-no-name", meta(delitem("input.name")), "its meta.json is invalid: input has no 'name'"),
    (
        "input-name-5000",
        meta(setitem("input.name", "n" * 5000)),
        "its meta.json is invalid: input.name is 5000 characters long (the limit is 4096)",
    ),
    (
        "input-sha",
        meta(setitem("input.sha256", "zz")),
        "its meta.json is invalid: input.sha256 is not valid ('zz')",
    ),
    (
        "input-bytes-negative",
        meta(setitem("input.bytes", -1)),
        f"its meta.json is invalid: input.bytes is -1 (valid 0-{LIMIT})",
    ),
    (
        "signature-2e31",
        meta(setitem("result.signature", 2**31)),
        "its meta.json is invalid: result.signature is 2147483648 (valid 0-2147483646)",
    ),
    (
        "signature-negative",
        meta(setitem("result.signature", -1)),
        "its meta.json is invalid: result.signature is -1 (valid 0-2147483646)",
    ),
    (
        "result-bytes-negative",
        meta(setitem("result.bytes", -5)),
        f"its meta.json is invalid: result.bytes is -5 (valid 0-{LIMIT})",
    ),
    (
        "result-no-signature",
        meta(delitem("result.signature")),
        "its meta.json is invalid: result has no 'signature'",
    ),
    (
        "result-counter-float",
        meta(setitem("result.lock_contended", 1.5)),
        "its meta.json is invalid: result.lock_contended must be a whole number (got 1.5)",
    ),
    (
        "wall-text",
        meta(setitem("result.wall_s", "fast")),
        "its meta.json is invalid: result.wall_s must be a number (got 'fast')",
    ),
    (
        "wall-1e300",
        meta(setitem("result.wall_s", 1e300)),
        "its meta.json is invalid: result.wall_s is 1e+300 (valid 0-1e+07)",
    ),
    (
        "result-strategy",
        meta(setitem("result.strategy", "baseline")),
        "its meta.json is invalid: result.strategy ('baseline') differs from config.strategy "
        "('pooled')",
    ),
    (
        "result-unknown",
        meta(setitem("result.evil", [])),
        "its meta.json is invalid: result has an unknown field 'evil'",
    ),
    (
        "result-path-nul",
        meta(setitem("result.path", "a\0b")),
        "its meta.json is invalid: result.path is empty or holds a NUL character",
    ),
    (
        "cell-group-in-v1",
        meta(setitem("recording.cell_group", 4)),
        "its meta.json is invalid: recording.cell_group is 4 (it must be 1)",
    ),
    (
        "note-1000",
        meta(setitem("recording.thinning_note", "n" * 1000)),
        "its meta.json is invalid: recording.thinning_note is 1000 characters long (the limit "
        "is 300)",
    ),
    (
        "thinned-text",
        meta(setitem("recording.thinned", "yes")),
        "its meta.json is invalid: recording.thinned must be true or false (got 'yes')",
    ),
    (
        "created-number",
        meta(setitem("created", 5)),
        "its meta.json is invalid: created must be text (got 5)",
    ),
    # -- the arrays
    (
        "pickle",
        member("series.npy", lambda p: crafted_pickle()),
        "its series.npy is damaged (not a plain float64 array, or pickled objects)",
    ),
    (
        "float32-series",
        member("series.npy", lambda p: npy(np.zeros((2, len(COUNTER_NAMES) + 1), np.float32))),
        "its series.npy is damaged (not a plain float64 array, or pickled objects)",
    ),
    (
        "float-heap",
        member("heap_states.npy", lambda p: npy(np.zeros((2, 131072)))),
        "its heap_states.npy is damaged (its values are float64, not uint8)",
    ),
    (
        "fortran",
        member(
            "series.npy",
            lambda p: npy_header("{'descr': '<f8', 'fortran_order': True, 'shape': (0, 17), }"),
        ),
        "its series.npy is damaged (not a plain float64 array, or pickled objects)",
    ),
    (
        "npy-version-3",
        member(
            "series.npy",
            lambda p: npy_header(
                "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 17), }", (3, 0)
            ),
        ),
        "its series.npy is damaged (numpy format version 3.0 is not one heapscope writes)",
    ),
    (
        "not-npy",
        member("frame_times.npy", lambda p: b"hello world, no numpy here"),
        "its frame_times.npy is damaged (not a numpy array file)",
    ),
    (
        "npy-header-64k",
        member(
            "frame_times.npy",
            lambda p: npy_header(
                "{'descr': '<f8', 'fortran_order': False, 'shape': (0,), }" + " " * 60000
            ),
        ),
        "its frame_times.npy is damaged (its array header is too long)",
    ),
    (
        "npy-header-eval",
        member(
            "frame_times.npy",
            lambda p: npy_header(
                "{'descr': '<f8', 'fortran_order': False, 'shape': (__import__('os'),), }"
            ),
        ),
        "its frame_times.npy is damaged (not a plain float64 array, or pickled objects)",
    ),
    (
        "series-columns",
        member("series.npy", lambda p: npy(np.zeros((2, 3)))),
        "its series.npy does not match its meta.json (shape (2, 3), expected "
        f"(samples, {len(COUNTER_NAMES) + 1}) for {len(COUNTER_NAMES)} counters)",
    ),
    (
        "frame-times-2d",
        member("frame_times.npy", lambda p: npy(np.zeros((2, 1)))),
        "its frame_times.npy does not match its meta.json (shape (2, 1), expected (frames,))",
    ),
    (
        "one-frame-too-many",
        member("frame_times.npy", lambda p: npy(np.arange(3.0))),
        "its heap_states.npy does not match its meta.json (shape (2, 131072), expected "
        "(3, 131072): 3 frames of 131072 cells)",
    ),
    (
        "claims-256mib-heap",
        lambda c: write_zip(c.out, heap_256mib(c.parts)),
        "its heap_states.npy is damaged (an array of shape (100, 16777216) takes 1677721600 "
        "bytes, the member holds 0)",
    ),
    (
        "heap-state-9",
        frames("heap_states.npy", lambda f: f.__setitem__((1, 77), 9)),
        "its heap_states.npy holds the value 9 (valid 0-7)",
    ),
    (
        "heap-state-255",
        frames("heap_states.npy", lambda f: f.__setitem__((0, 0), 255)),
        "its heap_states.npy holds the value 255 (valid 0-7)",
    ),
    (
        "owner-42",
        frames("heap_owners.npy", lambda f: f.__setitem__((1, 5), 42)),
        "its heap_owners.npy holds the value 42 (valid 0-19, 254 or 255)",
    ),
    (
        "owner-253",
        frames("heap_owners.npy", lambda f: f.__setitem__((0, 131071), 253)),
        "its heap_owners.npy holds the value 253 (valid 0-19, 254 or 255)",
    ),
    (
        "series-nan",
        series(lambda r: r.__setitem__((1, 3), np.nan)),
        "its series.npy holds a value that is not a finite number",
    ),
    (
        "series-inf",
        series(lambda r: r.__setitem__((0, 16), np.inf)),
        "its series.npy holds a value that is not a finite number",
    ),
    (
        "series-negative",
        series(lambda r: r.__setitem__((1, 2), -1.0)),
        "its series.npy holds a negative counter or time",
    ),
    (
        "series-time-backwards",
        series(lambda r: r.__setitem__((1, 0), r[0, 0] / 2)),
        "its series.npy has sample times that go backwards",
    ),
    (
        "frame-time-nan",
        member("frame_times.npy", lambda p: npy(np.array([0.0, np.nan]))),
        "its frame_times.npy holds a time that is negative or not a finite number",
    ),
    (
        "frame-time-negative",
        member("frame_times.npy", lambda p: npy(np.array([-1.0, 0.0]))),
        "its frame_times.npy holds a time that is negative or not a finite number",
    ),
    (
        "frame-times-backwards",
        member("frame_times.npy", lambda p: npy(np.array([1.0, 0.5]))),
        "its frame_times.npy has frame times that go backwards",
    ),
    (
        "data-cut",
        member("frame_times.npy", lambda p: p["frame_times.npy"][:-8]),
        "its frame_times.npy is damaged (an array of shape (2,) takes 16 bytes, the member "
        "holds 8)",
    ),
]


def crafted_pickle() -> bytes:
    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('executed!')",))

    import io

    buf = io.BytesIO()
    np.save(buf, np.array([Boom()], dtype=object), allow_pickle=True)
    return buf.getvalue()


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_crafted_file_gives_one_session_error_line(good, tmp_path, case):
    case_id, build, reason = case
    path = build(Ctx(good, tmp_path, f"{case_id}.session"))
    if reason is None:
        assert load_session(path).meta["result"]["path"] == "[" * 50
        return
    with pytest.raises(SessionError) as info:
        load_session(path)
    message = str(info.value)
    assert type(info.value) is SessionError and "\n" not in message
    name = os.path.basename(str(path).rstrip("/"))
    prefix = f"cannot open session '{name}': "
    assert message.startswith(prefix), message
    if isinstance(reason, re.Pattern):
        assert reason.fullmatch(message[len(prefix) :]), message
    else:
        assert message[len(prefix) :] == reason


@pytest.mark.parametrize(
    "path, message",
    [
        (
            "a\0b.session",
            "cannot open session 'a?b.session': the path contains a NUL byte, which "
            "no file name can hold",
        ),
        ("", "cannot open session: no file given (the path is empty)"),
        (3.5, "cannot open session: the path must be text or path-like (got float)"),
        (None, "cannot open session: the path must be text or path-like (got NoneType)"),
    ],
)
def test_impossible_paths(path, message):
    with pytest.raises(SessionError) as info:
        load_session(path)
    assert str(info.value) == message


def test_newline_and_very_long_paths_give_one_line(tmp_path):
    with pytest.raises(SessionError) as info:
        load_session(tmp_path / "two\nlines.session")
    assert str(info.value) == "cannot open session 'two\\x0alines.session': no such file"
    with pytest.raises(SessionError) as info:
        load_session(tmp_path / TOO_LONG_NAME)
    message = str(info.value)
    assert message.startswith("cannot open session 'xxx") and "..." in message
    assert message.endswith("x.session': the path is too long") and len(message) < 200
    with pytest.raises(SessionError) as info:
        load_session("/" + "/".join(["d" * 200] * 25))  # 5,025 characters, no long component
    assert str(info.value).endswith("': the path is too long")


def test_bytes_paths_are_accepted(good):
    assert (
        load_session(os.fsencode(good)).result["signature"]
        == load_session(good).result["signature"]
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(good, tmp_path):
    path = tmp_path / "secret.session"
    path.write_bytes(good.read_bytes())
    path.chmod(0)
    with pytest.raises(SessionError) as info:
        load_session(path)
    assert str(info.value) == "cannot open session 'secret.session': permission denied"


# ------------------------------------------------------------------ zip bombs


def _bomb_parts(parts, heap_entry):
    entries = []
    for name, data in parts.items():
        entries.append(heap_entry if name == "heap_states.npy" else stored_entry(name, data))
    return entries


@pytest.fixture(scope="module")
def gib_of_zeros():
    return crafted.zeros_bomb(1 << 30)


def test_a_1_mb_zip_bomb_is_refused_from_its_directory(good, tmp_path, gib_of_zeros):
    stream, crc = gib_of_zeros
    assert len(stream) == 1044162  # ~1 MB that inflates to 1 GiB
    path = tmp_path / "bomb.session"
    path.write_bytes(
        raw_zip(
            _bomb_parts(
                crafted.members(good),
                {"name": "heap_states.npy", "data": stream, "crc": crc, "file_size": 1 << 30},
            )
        )
    )
    tracemalloc.start()
    try:
        with pytest.raises(SessionError) as info:
            load_session(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(info.value) == (
        "cannot open session 'bomb.session': its heap_states.npy would "
        "expand to 1073741824 bytes (the limit is 536870912)"
    )
    assert peak < 8 << 20  # the directory was enough: nothing near 1 GiB was allocated


def test_a_bomb_whose_directory_lies_small_is_read_no_further_than_it_says(
    good, tmp_path, gib_of_zeros
):
    stream, _crc = gib_of_zeros
    header = npy_header("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 131072), }")
    declared = len(header) + 2 * 131072
    entry = {
        "name": "heap_states.npy",
        "data": deflate_prefixed(header, stream),
        "crc": 0,
        "file_size": declared,
    }
    path = tmp_path / "liar.session"
    path.write_bytes(raw_zip(_bomb_parts(crafted.members(good), entry)))
    tracemalloc.start()
    try:
        with pytest.raises(SessionError) as info:
            load_session(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(info.value).startswith(
        "cannot open session 'liar.session': its heap_states.npy is damaged ("
    )
    assert peak < 16 << 20


def deflate_prefixed(prefix: bytes, zeros_stream: bytes) -> bytes:
    """A raw deflate stream of ``prefix`` followed by the zeros of ``zeros_stream``."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(prefix) + c.flush(zlib.Z_FULL_FLUSH) + zeros_stream


def test_members_within_limits_but_over_the_budget_together(good, tmp_path):
    stream, crc = crafted.zeros_bomb(384 << 20)
    parts = crafted.members(good)
    entries = [stored_entry(n, d) for n, d in parts.items() if not n.startswith("heap_")]
    for name in ("heap_states.npy", "heap_owners.npy"):
        entries.append({"name": name, "data": stream, "crc": crc, "file_size": 384 << 20})
    path = tmp_path / "budget.session"
    path.write_bytes(raw_zip(entries))
    tracemalloc.start()
    try:
        with pytest.raises(SessionError) as info:
            load_session(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    total = sum(len(d) for n, d in parts.items() if not n.startswith("heap_")) + (768 << 20)
    assert str(info.value) == (
        f"cannot open session 'budget.session': it would take {total} "
        "bytes of memory to load (the limit is 536870912)"
    )
    assert peak < 8 << 20


def test_a_huge_heap_claim_allocates_nothing_big(good, tmp_path):
    path = write_zip(tmp_path / "claim.session", heap_256mib(crafted.members(good)))
    assert path.stat().st_size < 4096
    tracemalloc.start()
    try:
        with pytest.raises(SessionError):
            load_session(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20


# ------------------------------------------------------------------ fuzzing


def assert_specific(exc: SessionError) -> None:
    """One line, and a named problem: never load_session's last-resort catch-all."""
    message = str(exc)
    assert type(exc) is SessionError and "\n" not in message
    assert not re.search(r"': the file is damaged \(\w+\)$", message), message


def test_fuzzed_copies_of_a_good_file_load_or_give_one_session_error(good):
    """Byte flips, truncations and splices of a real session: SessionError or a good load."""
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import strategies as st

    data = good.read_bytes()
    outcomes = {"loaded": 0, "refused": 0}

    @hypothesis.settings(
        max_examples=300,
        deadline=None,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(
        st.lists(
            st.tuples(st.integers(0, len(data) - 1), st.integers(1, 255)), min_size=1, max_size=8
        ),
        st.one_of(st.none(), st.integers(0, len(data))),
    )
    def check(flips, cut):
        tmp = good.parent / "fuzz.session"
        mutated = bytearray(data)
        for at, xor in flips:
            mutated[at] ^= xor
        if cut is not None:
            mutated = mutated[:cut]
        tmp.write_bytes(bytes(mutated))
        try:
            session = load_session(tmp)
        except SessionError as exc:
            assert_specific(exc)
            outcomes["refused"] += 1
        else:
            assert session.heap_states.shape == (2, 131072)
            assert int(session.heap_states[0].max()) <= 5
            outcomes["loaded"] += 1

    check()
    assert outcomes["refused"] > 0 and sum(outcomes.values()) >= 300


def test_fuzzed_meta_values_load_or_give_one_session_error(good, tmp_path):
    """Any JSON value in any meta.json field: SessionError or a good load, nothing else."""
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import strategies as st

    parts = crafted.members(good)
    base = meta_of(parts)
    paths = [(k,) for k in base] + [
        (k, kk) for k, v in base.items() if isinstance(v, dict) for kk in v
    ]
    values = st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-(2**70), 2**70)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=8,
    )
    count = {"n": 0}

    @hypothesis.settings(
        max_examples=200,
        deadline=None,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(st.sampled_from(paths), values)
    def check(where, value):
        meta = json.loads(json.dumps(base))
        target = meta
        for k in where[:-1]:
            target = target[k]
        target[where[-1]] = value
        out = tmp_path / "fuzz-meta.session"
        write_zip(out, {**parts, "meta.json": json.dumps(meta).encode()})
        try:
            load_session(out)
        except SessionError as exc:
            assert_specific(exc)
        count["n"] += 1

    check()
    assert count["n"] >= 200


def test_the_crafted_cases_are_many_and_distinct():
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 40
