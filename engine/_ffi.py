"""The one module that imports the compiled engine.

Everything else in the project goes through engine's Python API; nothing
outside ``engine`` touches ``ffi`` or ``lib``.
"""

from engine._engine_cffi import ffi, lib  # noqa: F401  (re-exported)

__all__ = ["ffi", "lib"]
