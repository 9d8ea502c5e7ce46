"""The live run's recording: frames while it runs, a Session once it finishes.

Each frame keeps the heap map and what every worker slot was doing; the finished
run adds its timeline and time breakdown (with telemetry), so a replay shows the
threads as the live run did."""

from __future__ import annotations

import os

import numpy as np

from engine import LockKind, Run, RunResult
from gui import inputs
from gui.session_file import Session, SessionRecorder
from gui.slow_motion import SpeedLog

#: Memory a live run's recording may take (the recorder thins frames past it).
RECORDING_BUDGET = 256 * 1024 * 1024
#: Memory the recordings of every run on screen may take together (a lecture file
#: saves them all): past it, the oldest runs' recordings are dropped (their rows and
#: curves stay; the lecture file then says which runs it lacks).
KEPT_BUDGET = 1024 * 1024 * 1024


def session_bytes(session: Session) -> int:
    """Memory a session's heap-map frames take (the bulk of it)."""
    return int(session.heap_states.nbytes + session.heap_owners.nbytes)


class Recording:
    """Records the live run's heap map; keeps the last finished run as a Session."""

    def __init__(self) -> None:
        self._recorder: SessionRecorder | None = None
        self._run: Run | None = None
        #: The last finished run's recorder (it says whether frames were thinned).
        self.last_recorder: SessionRecorder | None = None
        #: The last finished live run, as a Session (what "Save session" writes).
        self.last_session: Session | None = None
        #: Every run on screen with its recording, by run number, oldest first (live
        #: runs and replays: what "Save lecture" writes).
        self.sessions: dict[int, Session] = {}
        #: Runs whose recordings were dropped to stay within KEPT_BUDGET.
        self.dropped: list[int] = []

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

    def keep(self, run_id: int, session: Session) -> None:
        """Keeps run ``run_id``'s session for the lecture file (oldest dropped past
        KEPT_BUDGET, never the newest)."""
        self.sessions[run_id] = session
        total = sum(session_bytes(s) for s in self.sessions.values())
        for old in list(self.sessions):
            if total <= KEPT_BUDGET or old == run_id:
                break
            total -= session_bytes(self.sessions.pop(old))
            self.dropped.append(old)

    def forget_runs(self) -> None:
        """Clear runs: no run is on screen any more (the last session stays saveable)."""
        self.sessions = {}
        self.dropped = []

    def finish(
        self, run: Run, result: RunResult, speeds: SpeedLog | None = None, run_id: int = 0
    ) -> None:
        """The run's last frame, its result and series, kept as :attr:`last_session`
        (and by ``run_id`` in :attr:`sessions`); ``speeds``: its slow motion."""
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
        meta = self.last_session.meta
        if c.lock is not LockKind.MUTEX or c.workers:
            # Version 5: without them a replay would run mutex, one thread per block.
            meta["config"].update(lock=c.lock.label, workers=c.workers)
            meta["version"] = max(int(meta.get("version", 1)), 5)
        if speeds is not None and speeds.slowed:
            meta["slow_motion"] = speeds.as_meta()
            meta["version"] = max(int(meta.get("version", 1)), 4)
        if run_id:
            self.keep(run_id, self.last_session)
