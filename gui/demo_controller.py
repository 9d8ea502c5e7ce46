"""The guided demo on screen: its banner, and the steps driven by runs or recorded sessions.

The steps themselves (what to predict, what to reveal) are in :mod:`gui.demo`,
which knows nothing of Qt.
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel

from engine import EngineError, LockKind, RunResult, Strategy
from gui.charts import CAPTION_POINTS
from gui.demo import DemoStepper, Stage, sessions_for_steps
from gui.demo_slide import SummarySlide
from gui.replay import ReplayController
from gui.run_controller import RunController

#: The banner under the summary slide: one line (the slide says the rest).
SUMMARY_BANNER = "The demo is over: its summary (Ctrl+D closes it, ← back)"


class DemoBanner(QLabel):
    """The current step's title and sentence, in large type above the views."""

    def __init__(self) -> None:
        super().__init__("")
        self.setObjectName("demoBanner")
        self.setWordWrap(True)
        self.setStyleSheet(
            "QLabel#demoBanner { background: #fff4d6; color: #1a1a1a; padding: 8px;"
            " border: 2px solid #E69F00; border-radius: 6px; }"
        )
        f = self.font()
        f.setPointSizeF(CAPTION_POINTS * 1.3)
        f.setBold(True)
        self.setFont(f)
        self.setVisible(False)


class DemoController(QObject):
    """Predict, then run (or replay a recorded session), then reveal; step by step,
    from clean charts to a summary.

    ``start_run(strategy, pool_size, lock)`` and ``open_session(path)`` are the
    window's (they check the input and show what went wrong); ``clear_runs`` is
    its Clear runs (the demo starts on clean charts), by default the one the
    replay controller was given (gui.live_run sets it).
    """

    def __init__(
        self,
        start_run: Callable[[Strategy, int | None, LockKind | None], bool],
        open_session: Callable[[pathlib.Path], bool],
        replay: ReplayController,
        controller: RunController,
        toggle: QAction,
        next_action: QAction,
        back_action: QAction,
        parent: QObject | None = None,
        clear_runs: Callable[[], None] | None = None,
    ):
        super().__init__(parent)
        self._clear_runs = clear_runs
        self._start_run = start_run
        self._open_session = open_session
        self._replay = replay
        self._controller = controller
        self._actions = (toggle, next_action, back_action)
        self.banner = DemoBanner()
        #: The summary slide (made once the banner is in the window: see _slide).
        self.slide: SummarySlide | None = None
        #: The demo's steps (None when no demo is on).
        self.stepper: DemoStepper | None = None
        #: Recorded session per step index (replayed instead of a live run).
        self.sessions: dict[int, pathlib.Path] = {}

    def start(self, sessions_folder: str | pathlib.Path | None = None) -> None:
        """Starts the guided demo; steps with a matching session in the folder are replayed."""
        if self.stepper is not None:
            self.toggle()
        self.sessions = sessions_for_steps(sessions_folder) if sessions_folder else {}
        self.toggle()

    def toggle(self) -> None:
        """Starts the guided demo on clean charts (predict, then run, then reveal),
        or ends it (its runs stay on screen)."""
        if self.stepper is None:
            if self._controller.busy:
                self._actions[0].setChecked(False)
                self._replay.banner.show_error(
                    "a run is in progress: stop it first (S), then start the demo"
                )
                return
            clear = self._clear_runs or self._replay.clear_runs
            if clear is not None:
                clear()  # demo runs never pile onto earlier runs' charts
            self.stepper = DemoStepper()
        else:
            self.stepper = None
            self.sessions = {}
        on = self.stepper is not None
        toggle, _next_action, back_action = self._actions
        toggle.setChecked(on)
        back_action.setEnabled(on)
        self._replay.keys.use_arrows(not on)  # ← and → are the demo's now
        self.banner.setVisible(on)
        self._update_banner()

    def _update_banner(self) -> None:
        demo = self.stepper
        self._actions[1].setEnabled(demo is not None and not demo.over)
        if (demo is None or not demo.over) and self.slide is not None:
            self.slide.hide_summary()
        if demo is None:
            self.banner.setText("")
            return
        if demo.over:
            # Short: the slide over the views holds the summary (demo.summary_text()).
            self.banner.setText(SUMMARY_BANNER)
            slide = self._slide()
            if slide is not None:
                slide.show_summary(demo)
            return
        if demo.at_end:
            keys = "N / → summary,  ← back"
        else:
            keys = "N / → next,  ← back" if demo.stage is not Stage.RUNNING else "running…"
        # Two lines (the keys beside the title): the views keep the height.
        self.banner.setText(
            f"Step {demo.index + 1} of {len(demo.steps)}: {demo.step.title}     ({keys})"
            f"\n{demo.text()}"
        )

    def _slide(self) -> SummarySlide | None:
        if self.slide is None and self.banner.parentWidget() is not None:
            self.slide = SummarySlide(self.banner)
        return self.slide

    def next(self) -> None:
        demo = self.stepper
        if demo is None or self._controller.busy:
            return
        step = demo.next()
        recorded = self.sessions.get(demo.index)
        if step is not None and recorded is not None:
            replayed = self._replay.session if self._open_session(recorded) else None
            if replayed is not None:
                demo.run_finished(replayed.result, replayed.speeds.label)
            else:
                demo.run_failed()
        # The step's pool size and lock for this run only: the user's settings stay.
        elif step is not None and not self._start_run(step.strategy, step.pool_size, step.lock):
            demo.run_failed()
        self._update_banner()

    def back(self) -> None:
        if self.stepper is None or self._controller.busy:
            return
        self.stepper.back()
        self._update_banner()

    def run_finished(self, result: RunResult) -> None:
        """A live run ended: the step it was for moves on to its reveal."""
        if self.stepper is not None and self.stepper.stage is Stage.RUNNING:
            job = self._controller.current_job
            slowed = job.speeds.label if job is not None and job.run_id else ""
            self.stepper.run_finished(result.as_dict(), slowed)
            self._update_banner()

    def run_failed(self, _exc: EngineError) -> None:
        if self.stepper is not None and self.stepper.stage is Stage.RUNNING:
            self.stepper.run_failed()
            self._update_banner()
