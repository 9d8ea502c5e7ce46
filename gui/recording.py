"""The live run's recording: frames while it runs, a Session once it finishes.

Each frame keeps the heap map and what every worker slot was doing; the finished
run adds its timeline and time breakdown (with telemetry), so a replay shows the
threads as the live run did."""

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
        self._run: Run | None = None
        #: The last finished run's recorder (it says whether frames were thinned).
        self.last_recorder: SessionRecorder | None = None
        #: The last finished live run, as a Session (what "Save session" writes).
        self.last_session: Session | None = None

    def begin(self, run: Run) -> None:
        """A new live run: capped in bytes (the recorder thins frames and cells past it)."""
        self._recorder = SessionRecorder(
            run.heap_cells, max_bytes=RECORDING_BUDGET, slot_count=run.slot_count
        )
        self._run = run
        states, owners = run.heap_map_copy() or (None, None)
        self._recorder.add_frame(0.0, states, owners, run.slot_states)

    def add_frame(
        self,
        t: float,
        states: np.ndarray | None,
        owners: np.ndarray | None,
        slot_states: np.ndarray | None = None,
    ) -> None:
        """One frame; ``slot_states`` from the same snapshot as the heap map, else
        read from the run's live view now (the recorder copies it)."""
        if self._recorder is None:
            return
        if slot_states is None and self._run is not None:
            slot_states = self._run.slot_states
        self._recorder.add_frame(t, states, owners, slot_states)

    def drop(self) -> None:
        self._recorder = None
        self._run = None

    def finish(self, run: Run, result: RunResult) -> None:
        """The run's last frame, its result and series, kept as :attr:`last_session`."""
        recorder, self._recorder = self._recorder, None
        self._run = None
        self.last_recorder = recorder
        if recorder is None:
            return
        states, owners = run.heap_map_copy() or (None, None)
        recorder.add_frame(result.wall_s, states, owners, run.slot_states)
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
            timeline=result.timeline,
            slot_times_ns=result.slot_times_ns,
        )
