"""Replaying a recorded session: its row, curves and heap map, with a time slider.

Sessions of format version 3 also recorded what every thread slot was doing at
each frame (the captions count threads computing / waiting / holding the lock as
live), the run's timeline (the lanes grow as the replay plays: :attr:`sig_timeline`)
and its time breakdown (the replayed row's bar, and the lock's busy share)."""

from __future__ import annotations

import os
import time

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QTableView,
    QToolButton,
)

from engine import COUNTER_NAMES, InputError, RunConfig, RunPhase, RunResult, Strategy, Timeline
from gui import inputs, replay_input
from gui.captions import Frame
from gui.charts import ChartsPanel, Trace, colour_for, run_label
from gui.frame_pump import DRAW_INTERVAL_MS, CaptionBoard
from gui.heap_map import HeapMapView
from gui.results_table import ResultsModel, input_key
from gui.run_controller import RunController
from gui.session_file import Session, SessionError, load_session
from gui.status_bar import ErrorBanner, StatusFields
from gui.timeline_view import TimelineView

#: The slider's resolution: positions 0 .. SLIDER_STEPS span the recording.
SLIDER_STEPS = 1000


class ReplayBar(QFrame):
    """Play / pause, the time slider, replay speed and a note on what was not checked."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("replayBar")
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 2, 4, 2)
        row.addWidget(QLabel("Replay"))
        self.play = QPushButton("▶ Play")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("replaySlider")
        self.speed = QComboBox()
        for label, fraction in (("1×", 1.0), ("1/10", 0.1), ("1/100", 0.01), ("1/1000", 0.001)):
            self.speed.addItem(label, fraction)
        self.time_label = QLabel("")
        self.note = QLabel("")
        self.note.setObjectName("replayNote")
        self.note.setVisible(False)
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setToolTip("Close the replay (the row and curves stay)")
        row.addWidget(self.play)
        row.addWidget(self.slider, 1)
        row.addWidget(self.time_label)
        row.addWidget(QLabel("speed"))
        row.addWidget(self.speed)
        row.addWidget(self.note)
        row.addWidget(self.close_button)
        self.setVisible(False)

    def set_note(self, note: str) -> None:
        self.note.setText(note)
        self.note.setToolTip(note)
        self.note.setVisible(bool(note))


class ReplayController(QObject):
    """Opens a session as a row and a curve, and plays it back on the views."""

    #: The replay's timeline up to the time shown (Timeline), and whether it is
    #: playing (the lanes follow its end); None and False: this replay has no
    #: timeline (lanes empty).  :meth:`attach_lanes` connects it to a TimelineView.
    sig_timeline = Signal(object, bool)

    def __init__(
        self,
        controller: RunController,
        charts: ChartsPanel,
        results: ResultsModel,
        table: QTableView,
        heap_map: HeapMapView,
        board: CaptionBoard,
        status: StatusFields,
        banner: ErrorBanner,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.controller = controller
        self.charts = charts
        self.results = results
        self.table = table
        self.heap_map = heap_map
        self.board = board
        self.status = status
        self.banner = banner
        #: The input the user has open (a replay of it gets its signature checked).
        self.input_path: str | None = None
        self.bar = ReplayBar()
        #: The session being replayed (None when no replay is open).
        self.session: Session | None = None
        self.result: RunResult | None = None
        self._trace: Trace | None = None
        self.time = 0.0
        self._stepping = False
        self._clock = 0.0
        self._lanes: TimelineView | None = None
        self.sig_timeline.connect(self._show_lanes)
        self.timer = QTimer(self)
        self.timer.setInterval(DRAW_INTERVAL_MS)
        self.timer.timeout.connect(self._on_tick)
        self.bar.play.clicked.connect(self.toggle_play)
        self.bar.slider.valueChanged.connect(self._on_slider)
        self.bar.close_button.clicked.connect(self.stop)

    def open(self, path: str | os.PathLike[str]) -> bool:
        """Replays a recorded run: its row, curves and heap map, with a time slider.

        Never starts a run on a path the session names: its signature is checked
        only when the input the user has open is the recorded one (same size and
        SHA-256), and then against a reference computed from the user's path.
        """
        if self.controller.busy:
            self.banner.show_error("a run is in progress: stop it first (S)")
            return False
        reason = inputs.not_regular_reason(path)  # a FIFO would block the loader's open()
        if reason:
            self.banner.show_error(reason.replace("cannot read", "cannot open session", 1))
            return False
        try:
            session = load_session(path)
        except SessionError as exc:
            self.banner.show_error(str(exc))
            return False
        meta = session.meta
        input_path = self.input_path
        try:
            r, cfg = session.result, session.config
            strategy = next(s for s in Strategy if s.label == cfg["strategy"])
            config = RunConfig(
                strategy=strategy,
                heap_size=cfg["heap_size"],
                pool_size=cfg["pool_size"],
                batch_size=cfg["batch_size"],
                block_size=cfg["block_size"],
                telemetry=False,
            )
            counters = {k: int(r[k]) for k in COUNTER_NAMES if k in r}
            same_input = replay_input.matches_open_input(meta, input_path)
            recorded_path = r.get("path", session.input_name)
            result = RunResult(
                path=input_path if same_input and input_path else str(recorded_path),
                config=config,
                signature=int(r["signature"]),
                blocks=int(r["blocks"]),
                bytes=int(r["bytes"]),
                wall_s=float(r["wall_s"]),
                counters=counters,
                series=session.series,
                slot_times_ns=session.slot_times_ns,
                timeline=session.timeline,
            )
        except (KeyError, TypeError, ValueError, StopIteration, InputError) as exc:
            self.banner.show_error(f"cannot replay '{path}': incomplete session ({exc})")
            return False
        self.banner.clear()
        self.stop()  # the previous replay keeps its row and its whole curve
        run_id = self.controller.next_run_id()
        trace = Trace(
            run_id,
            run_label(run_id, config) + " — replay",
            strategy.label,
            colour_for(strategy.label, self.charts.traces),
            live=False,
        )
        trace.series = session.series
        self.charts.add_trace(trace)
        references = self.controller.references
        if same_input:
            key = input_key(result.path, config.block_size)
            self.controller.want_reference(key, config.heap_size)
            self.results.add_result(run_id, result, references.get(key))
            if references.get(key, 0) is None:
                self.results.set_reference_failed(key)
            note = ""
        else:
            # Keyed by the recorded identity, so no path here (live runs included) ever
            # lends it a reference: it gets "? (no reference)" and says why.
            key = replay_input.session_key(meta, config.block_size)
            row = self.results.add_result(run_id, result, None)
            replay_input.rekey_row(self.results, row, key)
            self.results.set_reference_failed(key)
            note = replay_input.not_checked_note(meta)
        thinned = replay_input.thinning_note(session)
        if thinned:
            note = (
                f"{note}; recording thinned: {thinned}" if note else f"recording thinned: {thinned}"
            )
        self.bar.set_note(note)
        self.table.scrollToBottom()
        self.heap_map.set_layout(
            config.heap_size,
            config.pool_size,
            strategy,
            int(meta.get("slot_count", config.batch_size)),
            f"Replay #{run_id} {strategy.label}: {session.input_name}",
        )
        self.heap_map.set_hint("")
        self.session = session
        self._trace = trace
        self.result = result
        if session.timeline is None:
            self.sig_timeline.emit(None, False)  # the lanes of another run are not this one's
        self.bar.slider.setRange(0, SLIDER_STEPS)
        self.bar.setVisible(True)
        self.bar.slider.setValue(SLIDER_STEPS)
        self.show_at(session.duration_s)
        self.status.say(
            f"Replaying {inputs.shown_path(path)}" + (f"  ·  {note}" if note else ""), 15000
        )
        if same_input and key not in references:
            self.controller.step()  # the reference of the user's own input
        return True

    def show_at(self, t: float) -> None:
        """Heap map, curves and captions of the replayed run at ``t`` seconds."""
        session, trace, result = self.session, self._trace, self.result
        if session is None or trace is None or result is None:
            return
        t = min(max(t, 0.0), session.duration_s)
        self.time = t
        i = session.frame_at(t)
        if i >= 0:
            self.heap_map.show_cells(session.heap_states[i], session.heap_owners[i], t)
        end = t >= session.duration_s
        series = session.series if end else session.series_until(t)
        trace.series = series
        self.charts.update_trace(trace)
        counters = {k: int(v[-1]) if len(v) else 0 for k, v in series.items() if k != "time_s"}
        for k in COUNTER_NAMES:
            counters.setdefault(k, 0)
        if end:
            counters.update(result.counters)
        phase = RunPhase.FINISHED if end else RunPhase.RUNNING
        self.board.reset()
        self.board.show(
            Frame(
                result.strategy,
                phase,
                t,
                counters,
                session.slot_states_at(t),
                slot_times_ns=session.slot_times_at(t),
            )
        )
        self._emit_timeline(session, t, end)
        self.bar.time_label.setText(f"{t:.3f} / {session.duration_s:.3f} s")

    def attach_lanes(self, lanes: TimelineView) -> None:
        """The lanes that show the replay's timeline (once is enough; again replaces)."""
        self._lanes = lanes

    def _show_lanes(self, timeline: Timeline | None, live: bool) -> None:
        lanes = self._lanes
        if lanes is None:
            return
        if timeline is None or timeline.rows == 0:
            if lanes.timeline is not None:
                lanes.clear()  # no rows yet at this time, or no timeline at all
            return
        shown = lanes.timeline
        if (
            shown is not None
            and lanes.live == live
            and shown.rows == timeline.rows
            and shown.lanes == timeline.lanes
            and shown.time_s[-1] == timeline.time_s[-1]
        ):
            return  # a slow replay would redraw the same lanes every tick
        lanes.show_timeline(timeline, live=live)

    def _emit_timeline(self, session: Session, t: float, end: bool) -> None:
        """The timeline's rows up to ``t`` (views, no copy), live while playing."""
        timeline = session.timeline_until(t)
        if timeline is not None:
            self.sig_timeline.emit(timeline, self.timer.isActive() and not end)

    def stop(self) -> None:
        """Closes the replay; its row and its whole curve stay (the lanes too)."""
        if self.session is None:
            return
        self.timer.stop()
        if self._trace is not None:
            self._trace.series = self.session.series
            self.charts.update_trace(self._trace)
        self.session = None
        self._trace = None
        self.bar.setVisible(False)

    def toggle_play(self) -> None:
        if self.session is None:
            return
        if self.timer.isActive():
            self.timer.stop()
            self.bar.play.setText("▶ Play")
            return
        if self.bar.slider.value() >= SLIDER_STEPS:
            self.bar.slider.setValue(0)
        self._clock = time.perf_counter()
        self.timer.start()
        self.bar.play.setText("❚❚ Pause")

    def _on_slider(self, value: int) -> None:
        if self.session is not None and not self._stepping:
            self.show_at(self.session.duration_s * value / SLIDER_STEPS)

    def _on_tick(self) -> None:
        session = self.session
        if session is None:
            self.timer.stop()
            return
        now = time.perf_counter()
        step = (now - self._clock) * float(self.bar.speed.currentData())
        self._clock = now
        t = min(self.time + step, session.duration_s)
        self._stepping = True
        self.bar.slider.setValue(
            round(SLIDER_STEPS * t / session.duration_s) if session.duration_s > 0 else SLIDER_STEPS
        )
        self._stepping = False
        self.show_at(t)
        if t >= session.duration_s:
            self.timer.stop()
            self.bar.play.setText("▶ Play")
