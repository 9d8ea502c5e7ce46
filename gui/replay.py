"""Replaying a recorded session or a lecture file: its rows, curves and heap map,
with a time slider and keys (see :mod:`gui.replay_keys`).

A lecture file holds several runs: each gets its row, curve and breakdown bar;
one at a time (the bar's run list) plays on the heap map, lanes and captions.

Sessions of format version 3 also recorded what every thread slot was doing at
each frame (the captions count threads computing / waiting / holding the lock as
live), the run's timeline (the lanes grow as the replay plays: :attr:`sig_timeline`)
and its time breakdown (the replayed row's bar, and the lock's busy share)."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QTableView,
    QToolButton,
    QWidget,
)

from engine import (
    COUNTER_NAMES,
    CellState,
    InputError,
    LockKind,
    RunConfig,
    RunPhase,
    RunResult,
    Strategy,
    Timeline,
)
from gui import inputs, replay_input
from gui.captions import Frame
from gui.charts import ChartsPanel, Trace, colour_for, run_label
from gui.frame_pump import DRAW_INTERVAL_MS, CaptionBoard
from gui.full_speed_axis import FullSpeedAxis, slowed_label
from gui.heap_map import HeapMapView
from gui.lecture_file import Lecture, load_lecture
from gui.recording import Recording
from gui.replay_keys import ReplayKeys
from gui.results_table import ResultsModel, input_key
from gui.run_controller import RunController
from gui.session_file import Session, SessionError
from gui.slowed_rows import add_row
from gui.status_bar import ErrorBanner, StatusFields
from gui.timeline_view import TimelineView

#: The replay bar's type (pt) at font scale 1, and the window's (gui.main_window):
#: the bar scales with the window's font, which presentation mode enlarges.
BASE_POINTS = 9.0
WINDOW_POINTS = 12.0
#: The slider's resolution: positions 0 .. SLIDER_STEPS span the recording.
SLIDER_STEPS = 1000


class ReplayBar(QFrame):
    """Play / pause, the time slider, replay speed, which run of a lecture file
    plays, and a note on what was not checked."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("replayBar")
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 2, 4, 2)
        row.setSpacing(10)
        row.addWidget(QLabel("Replay"))
        self.run_box = QComboBox()
        self.run_box.setObjectName("replayRun")
        self.run_box.setToolTip("The run that plays on the heap map, lanes and captions")
        self.run_box.setVisible(False)
        self.play = QPushButton("▶ Play")
        self.play.setToolTip("Play / pause (K or Space)")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("replaySlider")
        self.slider.setToolTip(
            "Frames: , and .   Seconds: Shift+←/→ or Page Up/Down   Start/end: Home/End"
        )
        self.speed = QComboBox()
        for label, fraction in (("1×", 1.0), ("1/10", 0.1), ("1/100", 0.01), ("1/1000", 0.001)):
            self.speed.addItem(label, fraction)
        self.time_label = QLabel("")
        self.frame_label = QLabel("")
        self.frame_label.setObjectName("replayFrame")
        self.note = QLabel("")
        self.note.setObjectName("replayNote")
        self.note.setVisible(False)
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setToolTip("Close the replay (the rows and curves stay)")
        self._watched: QObject | None = None
        row.addWidget(self.run_box)
        row.addWidget(self.play)
        row.addWidget(self.slider, 1)
        row.addWidget(self.time_label)
        row.addWidget(self.frame_label)
        row.addWidget(QLabel("speed"))
        row.addWidget(self.speed)
        row.addWidget(self.note)
        row.addWidget(self.close_button)
        self.setVisible(False)

    def set_note(self, note: str) -> None:
        self.note.setText(note)
        self.note.setToolTip(note)
        self.note.setVisible(bool(note))

    def set_font_scale(self, font_scale: float) -> None:
        """Larger type (presentation mode): BASE_POINTS x ``font_scale`` (the bar is
        a control, smaller than the captions the audience reads)."""
        size = BASE_POINTS * font_scale
        self.setStyleSheet(
            f"QFrame#replayBar, QFrame#replayBar * {{ font-size: {size:.0f}pt; }}"
            if font_scale != 1.0
            else ""
        )

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        window = self.window()
        if window is not self and window is not self._watched:
            # Presentation mode scales the window's font: the bar follows it (read
            # from the back of a hall like the rest), with no call from the presenter.
            window.installEventFilter(self)
            self._watched = window
            self._follow(window)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if watched is self._watched and event.type() == QEvent.Type.FontChange:
            self._follow(watched)
        return False

    def _follow(self, window: QObject) -> None:
        if isinstance(window, QWidget):
            self.set_font_scale(max(1.0, window.font().pointSizeF() / WINDOW_POINTS))


@dataclasses.dataclass(eq=False)
class ReplayRun:
    """One replayed run: its session, the result its row shows, its curve."""

    run_id: int
    session: Session
    result: RunResult
    trace: Trace
    note: str = ""

    @property
    def title(self) -> str:
        return f"#{self.run_id} {self.result.strategy.label}" + (
            f" ({self.session.speeds.label})" if self.session.speeds.slowed else ""
        )


class ReplayController(QObject):
    """Opens a session or lecture file as rows and curves, and plays one run back
    on the views."""

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
        #: The charts' full-speed time axis and the window's recordings (LiveRun sets
        #: both: replayed runs are drawn on that axis and saved in a lecture file).
        self.full_speed: FullSpeedAxis | None = None
        self.recording: Recording | None = None
        #: The window's Clear runs (LiveRun sets it; the guided demo starts with it).
        self.clear_runs: Callable[[], None] | None = None
        self._last_file: tuple[tuple, Lecture] | None = None
        self.bar = ReplayBar()
        self.keys = ReplayKeys(self.bar, self)
        #: The runs of the open replay (empty when none is open), and which one plays.
        self.runs: list[ReplayRun] = []
        self.index = 0
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
        self.bar.run_box.currentIndexChanged.connect(self._on_run_chosen)

    # -- what plays -------------------------------------------------------------

    @property
    def active(self) -> ReplayRun | None:
        return self.runs[self.index] if self.runs else None

    @property
    def session(self) -> Session | None:
        """The session playing (None when no replay is open)."""
        run = self.active
        return None if run is None else run.session

    @property
    def result(self) -> RunResult | None:
        run = self.active
        return None if run is None else run.result

    # -- opening ------------------------------------------------------------------

    def open(self, path: str | os.PathLike[str]) -> bool:
        """Replays a session file's run, or every run of a lecture file: rows,
        curves and bars for each, the heap map, lanes and slider for one.

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
            lecture = self._load(path)
        except SessionError as exc:
            self.banner.show_error(str(exc))
            return False
        results = []
        for k, session in enumerate(lecture.runs, start=1):
            try:
                results.append(self._result_of(session))
            except (KeyError, TypeError, ValueError, StopIteration, InputError) as exc:
                which = f" (run {k} of {len(lecture.runs)})" if lecture.is_lecture else ""
                self.banner.show_error(f"cannot replay '{path}'{which}: incomplete session ({exc})")
                return False
        self.banner.clear()
        self.stop()  # the previous replay keeps its rows and its whole curves
        references = self.controller.references
        wanted = False
        for session, (result, same_input) in zip(lecture.runs, results, strict=True):
            run = self._add_run(session, result, same_input)
            self.runs.append(run)
            if self.recording is not None:
                self.recording.keep(run.run_id, session)
            key = input_key(result.path, result.config.block_size)
            wanted = wanted or (same_input and key not in references)
        self.table.scrollToBottom()
        self.bar.run_box.blockSignals(True)
        self.bar.run_box.clear()
        for run in self.runs:
            self.bar.run_box.addItem(run.title)
        self.bar.run_box.setVisible(len(self.runs) > 1)
        self.bar.run_box.blockSignals(False)
        self.bar.setVisible(True)
        self.select(len(self.runs) - 1)
        shown = inputs.shown_path(path)
        what = (
            f"Replaying lecture {shown}: {len(self.runs)} runs "
            f"(#{self.runs[0].run_id}-#{self.runs[-1].run_id}; pick one in the replay bar)"
            if lecture.is_lecture
            else f"Replaying {shown}"
        )
        note = self.runs[-1].note
        self.status.say(what + (f"  ·  {note}" if note else ""), 15000)
        if wanted:
            self.controller.step()  # the reference of the user's own input
        return True

    def _load(self, path: str | os.PathLike[str]) -> Lecture:
        """The file's runs; the same unchanged file opened again shares the sessions
        already in memory (every run on screen keeps its recording)."""
        try:
            st = os.stat(path)
            key: tuple | None = (os.path.realpath(path), st.st_ino, st.st_size, st.st_mtime_ns)
        except (OSError, ValueError, TypeError):
            key = None
        cached = self._last_file
        kept = self.recording.sessions.values() if self.recording is not None else []
        if (
            key is not None
            and cached is not None
            and cached[0] == key
            and all(any(s is k for k in kept) for s in cached[1].runs)
        ):
            return cached[1]
        lecture = load_lecture(path)
        self._last_file = (key, lecture) if key is not None else None
        return lecture

    def _result_of(self, session: Session) -> tuple[RunResult, bool]:
        """The RunResult a session's row shows, and whether its input is the open one."""
        meta = session.meta
        r, cfg = session.result, session.config
        strategy = next(s for s in Strategy if s.label == cfg["strategy"])
        config = RunConfig(
            strategy=strategy,
            heap_size=cfg["heap_size"],
            pool_size=cfg["pool_size"],
            batch_size=cfg["batch_size"],
            block_size=cfg["block_size"],
            lock=LockKind.parse(cfg.get("lock", "mutex")),
            workers=cfg.get("workers", 0),
            telemetry=False,
        )
        counters = {k: int(r[k]) for k in COUNTER_NAMES if k in r}
        same_input = replay_input.matches_open_input(meta, self.input_path)
        recorded_path = r.get("path", session.input_name)
        result = RunResult(
            path=self.input_path if same_input and self.input_path else str(recorded_path),
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
        return result, same_input

    def _add_run(self, session: Session, result: RunResult, same_input: bool) -> ReplayRun:
        """A replayed run's curve and row (its reference asked for when it is the
        open input's)."""
        config, meta = result.config, session.meta
        speeds = session.speeds
        run_id = self.controller.next_run_id()
        trace = Trace(
            run_id,
            slowed_label(run_label(run_id, config), speeds) + " — replay",
            config.strategy.label,
            colour_for(config.strategy.label, self.charts.traces),
            live=False,
        )
        if self.full_speed is not None:
            self.full_speed.register(run_id, speeds)
            trace.series = self.full_speed.shown(run_id, session.series)
        else:
            trace.series = session.series
        self.charts.add_trace(trace)
        references = self.controller.references
        if same_input:
            key = input_key(result.path, config.block_size)
            self.controller.want_reference(key, config.heap_size)
            add_row(self.results, run_id, result, references.get(key), speeds)
            if references.get(key, 0) is None:
                self.results.set_reference_failed(key)
            note = ""
        else:
            # Keyed by the recorded identity, so no path here (live runs included) ever
            # lends it a reference: it gets "? (no reference)" and says why.
            key = replay_input.session_key(meta, config.block_size)
            row = add_row(self.results, run_id, result, None, speeds)
            replay_input.rekey_row(self.results, row, key)
            self.results.set_reference_failed(key)
            note = replay_input.not_checked_note(meta)
        thinned = replay_input.thinning_note(session)
        if thinned:
            note = (
                f"{note}; recording thinned: {thinned}" if note else f"recording thinned: {thinned}"
            )
        return ReplayRun(run_id, session, result, trace, note)

    def select(self, index: int) -> None:
        """Plays run ``index`` of the open replay on the heap map, lanes and slider
        (shown at its end; the other runs' curves stay whole)."""
        if not 0 <= index < len(self.runs):
            return
        self.timer.stop()
        self.bar.play.setText("▶ Play")
        previous = self.active
        if previous is not None and previous.session is not self.runs[index].session:
            self._draw_whole(previous)
        self.index = index
        run = self.runs[index]
        session, config = run.session, run.result.config
        self.bar.run_box.blockSignals(True)
        self.bar.run_box.setCurrentIndex(index)
        self.bar.run_box.blockSignals(False)
        self.bar.set_note(run.note)
        self.heap_map.set_layout(
            config.heap_size,
            config.pool_size,
            config.strategy,
            int(session.meta.get("slot_count", config.batch_size)),
            f"Replay #{run.run_id} {config.strategy.label}: {session.input_name}",
        )
        self.heap_map.set_hint("")
        if session.timeline is None:
            self.sig_timeline.emit(None, False)  # the lanes of another run are not this one's
        self.status.progress.setRange(0, max(1, run.result.blocks))
        self._move_to(session.duration_s)
        self._keep_fullest(session)

    def _keep_fullest(self, session: Session) -> None:
        """The heap map's "fullest moment" (exported as a slide) is the recording's
        fullest frame, not the frames the replay happened to show."""
        i = session.fullest_frame()
        if i < 0 or self.heap_map.layout is None:
            return
        states = np.asarray(session.heap_states[i])
        owners = np.asarray(session.heap_owners[i])
        if len(states) != self.heap_map.layout.heap_cells:
            return
        used = int(np.count_nonzero((states == CellState.GLOBAL) | (states == CellState.POOL_USED)))
        self.heap_map.peak = (states.copy(), owners.copy(), float(session.frame_times[i]), used)

    def _on_run_chosen(self, index: int) -> None:
        if index >= 0 and index != self.index:
            self.select(index)

    # -- showing a moment --------------------------------------------------------

    def show_at(self, t: float) -> None:
        """Heap map, curve, captions and status bar of the playing run at ``t`` seconds."""
        run = self.active
        if run is None:
            return
        session, trace, result = run.session, run.trace, run.result
        t = min(max(t, 0.0), session.duration_s)
        self.time = t
        i = session.frame_at(t)
        if i >= 0:
            self.heap_map.show_cells(session.heap_states[i], session.heap_owners[i], t)
        end = t >= session.duration_s
        series = session.series if end else session.series_until(t)
        trace.series = self._shown(run, series)
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
                lock=result.config.lock,
                workers=result.config.workers,
            )
        )
        self._emit_timeline(session, t, end)
        frames = len(session.frame_times)
        self.bar.time_label.setText(f"{t:.3f} / {session.duration_s:.3f} s")
        self.bar.frame_label.setText(f"frame {i + 1} of {frames}")
        self._show_status(run, t, i, counters)

    def _show_status(self, run: ReplayRun, t: float, frame: int, counters: dict) -> None:
        """The status bar follows the replay (never the last live run's numbers)."""
        status, session = self.status, run.session
        state = "Replay" if not self.timer.isActive() else "Replaying"
        status.set_state(f"{state} #{run.run_id} {run.result.strategy.label}", run.trace.colour)
        status.progress.setValue(
            min(int(counters.get("blocks_done", 0)), status.progress.maximum())
        )
        status.elapsed.setText(
            f"replay {t:.3f} / {session.duration_s:.3f} s, "
            f"frame {frame + 1} of {len(session.frame_times)}"
        )
        locks = run.result.lock_acquisitions
        status.locks.setText(
            f"{counters.get('lock_acquisitions', 0):,} lock acquisitions"
            if locks is not None
            else ""
        )
        status.fps.setText("")

    def refresh_status(self) -> None:
        """The status bar shows the replay's moment again (after a reference run)."""
        run = self.active
        if run is None:
            return
        self.status.progress.setRange(0, max(1, run.result.blocks))
        self.show_at(self.time)

    def _shown(self, run: ReplayRun, series: dict) -> dict:
        if self.full_speed is None:
            return series
        return self.full_speed.shown(run.run_id, series)

    def _draw_whole(self, run: ReplayRun) -> None:
        run.trace.series = self._shown(run, run.session.series)
        self.charts.update_trace(run.trace)

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

    # -- closing ------------------------------------------------------------------

    def stop(self) -> None:
        """Closes the replay; its rows and whole curves stay (the lanes too)."""
        if not self.runs:
            return
        self.timer.stop()
        for run in self.runs:
            self._draw_whole(run)
        self._close()
        self.status.set_state("Idle", "")

    def clear(self) -> None:
        """Clear runs: the replay goes with its lanes, captions and status."""
        self.timer.stop()
        had = bool(self.runs)
        self._last_file = None
        self._close()
        if self._lanes is not None and self._lanes.timeline is not None:
            self._lanes.clear()
        if had:
            self.board.reset()
            for label in self.board.labels.values():
                label.setText("")
            self.status.set_state("Idle", "")
            self.status.elapsed.setText("elapsed —")
            self.status.locks.setText("")
            self.status.progress.setValue(0)

    def _close(self) -> None:
        self.runs = []
        self.index = 0
        self.bar.set_note("")
        self.bar.play.setText("▶ Play")
        self.bar.run_box.clear()
        self.bar.setVisible(False)

    # -- moving (slider, timer, keys) -------------------------------------------

    def toggle_play(self) -> None:
        session = self.session
        if session is None:
            return
        if self.timer.isActive():
            self.timer.stop()
            self.bar.play.setText("▶ Play")
            self.show_at(self.time)  # the status says "Replay" again
            return
        if self.time >= session.duration_s:
            self._move_to(0.0)
        self._clock = time.perf_counter()
        self.timer.start()
        self.bar.play.setText("❚❚ Pause")

    def pause(self) -> None:
        if self.timer.isActive():
            self.timer.stop()
            self.bar.play.setText("▶ Play")

    def step_frame(self, frames: int) -> None:
        """To the next (``frames`` > 0) or previous recorded heap-map frame, paused."""
        session = self.session
        if session is None or frames == 0:
            return
        self.pause()
        times = session.frame_times
        if frames > 0:
            k = int(np.searchsorted(times, self.time, side="right")) + frames - 1
            t = float(times[k]) if k < len(times) else session.duration_s
        else:
            k = int(np.searchsorted(times, self.time, side="left")) + frames
            t = float(times[k]) if k >= 0 else 0.0
        self._move_to(t)

    def jump(self, seconds: float) -> None:
        """``seconds`` of recording forward (or back), paused, within the recording."""
        if self.session is None:
            return
        self.pause()
        self._move_to(self.time + seconds)

    def home(self) -> None:
        if self.session is not None:
            self.pause()
            self._move_to(0.0)

    def end(self) -> None:
        session = self.session
        if session is not None:
            self.pause()
            self._move_to(session.duration_s)

    def _move_to(self, t: float) -> None:
        """Shows ``t`` and puts the slider there (without a second redraw)."""
        session = self.session
        if session is None:
            return
        t = min(max(t, 0.0), session.duration_s)
        duration = session.duration_s
        self._stepping = True
        self.bar.slider.setRange(0, SLIDER_STEPS)
        self.bar.slider.setValue(
            round(SLIDER_STEPS * t / duration) if duration > 0 else SLIDER_STEPS
        )
        self._stepping = False
        self.show_at(t)

    def _on_slider(self, value: int) -> None:
        session = self.session
        if session is not None and not self._stepping:
            self.show_at(session.duration_s * value / SLIDER_STEPS)

    def _on_tick(self) -> None:
        session = self.session
        if session is None:
            self.timer.stop()
            return
        now = time.perf_counter()
        step = (now - self._clock) * float(self.bar.speed.currentData())
        self._clock = now
        t = min(self.time + step, session.duration_s)
        if t >= session.duration_s:
            self.timer.stop()
            self.bar.play.setText("▶ Play")
        self._move_to(t)
