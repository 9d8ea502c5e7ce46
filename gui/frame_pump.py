"""The one draw timer: one engine snapshot per tick, fanned out to every view.

Data flows one way: the engine's threads fill C-owned telemetry; on each tick
the pump takes ONE race-free copy (``run.snapshot()``: the workers write the
heap map meanwhile, so the live views are never read for drawing) and hands it
to the heap map, the captions, the charts, the status bar and the recorder; the
lanes and the time breakdown read the timeline rows sampled since the last
frame (``run.timeline(after_s)``, see :mod:`gui.time_feed`).
"""

from __future__ import annotations

import collections
import time

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QLabel

from gui.captions import Frame, captions
from gui.charts import CAPTION_POINTS, ChartsPanel
from gui.heap_map import HeapMapView
from gui.recording import Recording
from gui.run_controller import Job, JobKind, RunController
from gui.status_bar import StatusFields
from gui.time_feed import TimeFeed

#: Draw timer period: 30 frames/s keeps the map fluid and leaves the cores to the engine.
DRAW_INTERVAL_MS = 33


class CaptionBoard:
    """The one-sentence captions under each view, worded from one frame and the one before."""

    def __init__(self, labels: dict[str, QLabel]):
        self.labels = labels
        self._previous: Frame | None = None
        self.set_zoom(1.0)

    def set_zoom(self, zoom: float) -> None:
        for label in self.labels.values():
            f = label.font()
            f.setPointSizeF(CAPTION_POINTS * zoom)
            f.setBold(True)
            label.setFont(f)

    def reset(self) -> None:
        """The next frame is worded on its own (a new run, or a jump in a replay)."""
        self._previous = None

    def show(self, frame: Frame) -> None:
        for view, text in captions(frame, self._previous).items():
            self.labels[view].setText(text)
        self._previous = frame


class FramePump(QObject):
    """Draws the live run on a fixed-rate timer while the controller runs one."""

    def __init__(
        self,
        controller: RunController,
        heap_map: HeapMapView,
        charts: ChartsPanel,
        board: CaptionBoard,
        status: StatusFields,
        recording: Recording,
        time_feed: TimeFeed,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.controller = controller
        self.heap_map = heap_map
        self.charts = charts
        self.board = board
        self.status = status
        self.recording = recording
        self.time_feed = time_feed
        self._frame_times: collections.deque[float] = collections.deque(maxlen=120)
        self.frames_drawn = 0
        self.draw_fps = 0.0
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(DRAW_INTERVAL_MS)
        self.timer.timeout.connect(self.draw)
        controller.started.connect(self._on_started)
        controller.ended.connect(self.timer.stop)

    def _on_started(self, job: Job) -> None:
        if job.kind is not JobKind.RUN:
            return
        self.board.reset()
        self._frame_times.clear()
        self.frames_drawn = 0
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def draw(self, final: bool = False) -> None:
        """One frame of the live run (``final``: its last, curves included)."""
        job = self.controller.current_job
        run = self.controller.current_run
        if job is None or run is None or run.heap_states is None:
            return
        now = time.perf_counter()
        self._frame_times.append(now)
        self.frames_drawn += 1
        snap = run.snapshot()
        self.heap_map.show_cells(snap.heap_states, snap.heap_owners, snap.elapsed_s)
        self.recording.add_frame(
            snap.elapsed_s, snap.heap_states, snap.heap_owners, snap.slot_states
        )
        self.board.show(
            Frame(
                run.config.strategy,
                snap.phase,
                snap.elapsed_s,
                snap.counters,
                snap.slot_states,
                slot_times_ns=run.time_breakdown() if run.config.telemetry else None,
                lock=run.config.lock,
                workers=run.config.workers,
                speed=self.controller.speed,
            )
        )
        trace = job.trace
        # Charts at half the frame rate: the curves move slowly, the CPU is the engine's.
        if trace is not None and (final or self.frames_drawn % 2 == 1):
            trace.series = run.series()
            self.charts.update_trace(trace)
            self.time_feed.frame(run, final)  # the lanes scroll at the charts' rate
        fps = None
        if len(self._frame_times) >= 2:
            span = self._frame_times[-1] - self._frame_times[0]
            if span > 0:
                self.draw_fps = fps = (len(self._frame_times) - 1) / span
        self.status.show_snapshot(snap, fps, run.config.strategy.uses_arena)
