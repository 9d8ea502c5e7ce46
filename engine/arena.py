"""The bare umalloc/ufree allocator, one call at a time (tests and teaching)."""

from __future__ import annotations

import operator
import threading

import numpy as np

from engine._ffi import ffi, lib
from engine.errors import InputError, InvalidFree, check
from engine.run import COUNTER_NAMES


def _whole(value, what: str) -> int:
    """An integer (numpy's included) or InputError naming ``what``."""
    if isinstance(value, bool):
        raise InputError(f"{what} must be a whole number (got {value!r})", lib.ENGINE_E_INVALID_ARG)
    try:
        return operator.index(value)
    except TypeError:
        raise InputError(
            f"{what} must be a whole number (got {value!r})", lib.ENGINE_E_INVALID_ARG
        ) from None


class Arena:
    """A private arena with the exercise's allocator.

    Offsets are payload offsets from the arena start (what umalloc's pointer
    minus the arena base would be); ``None`` stands for NULL.  The C allocator
    has no lock of its own (the exercise's umalloc has none); this class
    serialises its calls, so one Arena may be shared by Python threads.
    """

    def __init__(self, size: int = lib.ENGINE_DEFAULT_HEAP_SIZE):
        size = _whole(size, "arena size")
        low, high = lib.ENGINE_MIN_HEAP_SIZE, lib.ENGINE_MAX_HEAP_SIZE
        self._lock = threading.Lock()
        if not (low <= size <= high) or size % 16:
            raise InputError(
                f"arena size must be a multiple of 16 between {low} and {high} bytes (got {size})",
                lib.ENGINE_E_INVALID_ARG,
            )
        out = ffi.new("engine_arena **")
        check(lib.engine_arena_create(size, out))
        self._arena = ffi.gc(out[0], lib.engine_arena_destroy)
        self.size = size

    def umalloc(self, size: int) -> int | None:
        """Payload offset of a new chunk; None for a request of 0.

        Raises
        ------
        HeapExhausted
        """
        size = _whole(size, "allocation size")
        if size < 0:
            raise InputError(f"cannot allocate a negative size ({size})", lib.ENGINE_E_INVALID_ARG)
        if size >= 2**64:
            raise InputError(
                f"cannot allocate {size} bytes: more than any arena holds", lib.ENGINE_E_INVALID_ARG
            )
        offset = ffi.new("int64_t *")
        err = ffi.new("engine_error *")
        with self._lock:
            check(lib.engine_arena_alloc(self._arena, size, offset, err), err)
        return None if offset[0] == -1 else int(offset[0])

    def ufree(self, offset: int | None) -> None:
        """Frees the chunk at ``offset`` (None is a no-op).

        Raises
        ------
        InvalidFree
        """
        if offset is not None:
            offset = _whole(offset, "offset")
            if not 0 <= offset < self.size:
                raise InvalidFree(
                    f"invalid free: offset {offset} is outside the {self.size}-byte heap",
                    lib.ENGINE_E_INVALID_FREE,
                )
        err = ffi.new("engine_error *")
        with self._lock:
            check(lib.engine_arena_free(self._arena, -1 if offset is None else offset, err), err)

    def free_list(self) -> list[tuple[int, int]]:
        """(header offset, payload size) of every free chunk, in list order."""
        n = self.size // 32 + 1
        offsets = ffi.new("int64_t[]", n)
        payloads = ffi.new("uint64_t[]", n)
        with self._lock:
            count = lib.engine_arena_free_list(self._arena, offsets, payloads, n)
        return [(int(offsets[i]), int(payloads[i])) for i in range(count)]

    def counters(self) -> dict[str, int]:
        out = np.zeros(lib.ENGINE_COUNTER_COUNT, dtype=np.uint64)
        with self._lock:
            lib.engine_arena_counters(self._arena, ffi.from_buffer("uint64_t[]", out))
        return dict(zip(COUNTER_NAMES, out.tolist(), strict=True))

    def heap_states(self) -> np.ndarray:
        """A copy of the heap map (one CellState byte per 16-byte cell)."""
        cells = lib.engine_arena_heap_cells(self._arena)
        with self._lock:
            return np.frombuffer(
                ffi.buffer(lib.engine_arena_heap_states(self._arena), cells), dtype=np.uint8
            ).copy()
