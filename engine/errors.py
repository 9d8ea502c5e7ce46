"""The engine's error hierarchy and the one place a C status becomes one."""

from __future__ import annotations

from typing import Any

from engine._ffi import ffi, lib


class EngineError(Exception):
    """An engine failure.

    Attributes
    ----------
    code : int
        The engine status code (``ENGINE_E_*``).
    details : dict
        What the engine knew: block index, thread slot, bytes requested, what
        was being allocated, and the state of the shared region.
    """

    def __init__(self, message: str, code: int, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.details = details or {}

    @property
    def message(self) -> str:
        return str(self)


class InputError(EngineError, ValueError):
    """Bad parameters, or an input file that cannot be read."""


class InputChanged(InputError):
    """The input file shrank, grew or was rewritten during the run: no signature."""


class HeapExhausted(EngineError):
    """umalloc found no free chunk big enough: the run stopped."""


class InvalidFree(EngineError):
    """ufree of a pointer that is not an allocated chunk (double free, foreign pointer)."""


class RunCancelled(EngineError):
    """The run was cancelled before it finished."""


_CLASS_BY_CODE = {
    lib.ENGINE_E_INVALID_ARG: InputError,
    lib.ENGINE_E_OPEN: InputError,
    lib.ENGINE_E_IS_DIR: InputError,
    lib.ENGINE_E_READ: InputError,
    lib.ENGINE_E_NOT_FILE: InputError,
    lib.ENGINE_E_INPUT_CHANGED: InputChanged,
    lib.ENGINE_E_HEAP_EXHAUSTED: HeapExhausted,
    lib.ENGINE_E_INVALID_FREE: InvalidFree,
    lib.ENGINE_E_CANCELLED: RunCancelled,
}


def _details(err) -> dict[str, Any]:
    slot = int(err.slot)
    return {
        "block_index": int(err.block_index),
        "slot": "coordinator"
        if slot == lib.ENGINE_OWNER_COORDINATOR
        else (None if slot < 0 else slot),
        "requested": int(err.requested),
        "what": ffi.string(err.what).decode(errors="replace"),
        "arena_free_bytes": int(err.arena_free_bytes),
        "largest_free": int(err.largest_free),
        "free_list_length": int(err.free_list_length),
        "errno": int(err.sys_errno),
    }


def error_from_status(code: int, err=None) -> EngineError:
    """Turns a non-zero status (and its ``engine_error``, if any) into an exception."""
    message = ffi.string(err.message).decode(errors="replace") if err is not None else ""
    if not message:
        message = ffi.string(lib.engine_strerror(code)).decode()
    cls = _CLASS_BY_CODE.get(code, EngineError)
    return cls(message, code, _details(err) if err is not None else None)


def check(code: int, err=None) -> None:
    """Raises the matching EngineError for a non-zero status."""
    if code != lib.ENGINE_OK:
        raise error_from_status(code, err)
