"""The live run's recording: frames while it runs, a Session once it finishes."""

from __future__ import annotations

import os

import numpy as np

from engine import Run, RunResult
from gui import inputs
from gui.session_file import Session, SessionRecorder

#: Memory a live run's recording may take (the recorder thins frames past it).
RECORDING_BUDGET = 256 * 1024 * 1024


class Recording:
    """Records the live run's heap map; keeps the last finished run as a Session."""

    def __init__(self) -> None:
        self._recorder: SessionRecorder | None = None
        #: The last finished run's recorder (it says whether frames were thinned).
        self.last_recorder: SessionRecorder | None = None
        #: The last finished live run, as a Session (what "Save session" writes).
        self.last_session: Session | None = None

    def begin(self, run: Run) -> None:
        """A new live run: capped in bytes (the recorder thins frames and cells past it)."""
        self._recorder = SessionRecorder(run.heap_cells, max_bytes=RECORDING_BUDGET)
        self._recorder.add_frame(0.0, *(run.heap_map_copy() or (None, None)))

    def add_frame(self, t: float, states: np.ndarray | None, owners: np.ndarray | None) -> None:
        if self._recorder is not None:
            self._recorder.add_frame(t, states, owners)

    def drop(self) -> None:
        self._recorder = None

    def finish(self, run: Run, result: RunResult) -> None:
        """The run's last frame, its result and series, kept as :attr:`last_session`."""
        recorder, self._recorder = self._recorder, None
        self.last_recorder = recorder
        if recorder is None:
            return
        heap = run.heap_map_copy()
        recorder.add_frame(result.wall_s, *(heap or (None, None)))
        c = result.config
        try:
            # Never blocks: the input may have been replaced by a FIFO since the run.
            identity = inputs.file_identity(result.path)
        except OSError:
            identity = {"name": os.path.basename(result.path)}
        self.last_session = recorder.finish(
            input_identity=identity,
            config={
                "strategy": c.strategy.label,
                "heap_size": c.heap_size,
                "pool_size": c.pool_size,
                "batch_size": c.batch_size,
                "block_size": c.block_size,
            },
            result=result.as_dict(),
            series=result.series,
            slot_count=run.slot_count,
            pool_reserved=run.pool_reserved,
        )
