"""Files the user asks for: save and open sessions, export PNGs and CSVs, the handout
PDF, each with its dialog and its remembered folder."""

from __future__ import annotations

import os
import pathlib
from collections.abc import Callable

from PySide6.QtWidgets import QFileDialog, QWidget

from engine import format_size
from gui import session_file
from gui.app_settings import AppSettings
from gui.charts import ChartsPanel
from gui.export import ExportSource, atomic_write_bytes
from gui.export_names import written_message
from gui.export_set import export_all
from gui.handout_render import handout_bytes
from gui.heap_map import HeapMapView
from gui.lecture_file import save_lecture
from gui.recording import Recording
from gui.results_table import ResultsModel
from gui.session_file import save_session
from gui.status_bar import ErrorBanner, StatusFields

SESSION_FILTER = f"heapscope sessions (*{session_file.SUFFIX})"
PDF_FILTER = "PDF documents (*.pdf)"
#: The status bar keeps what an export wrote on screen this long.
SAID_MS = 20000


class FileCommands:
    """Save session, open session, demo from sessions, export: dialogs over ``parent``."""

    def __init__(
        self,
        parent: QWidget,
        recording: Recording,
        charts: ChartsPanel,
        heap_map: HeapMapView,
        results: ResultsModel,
        status: StatusFields,
        banner: ErrorBanner,
        input_text: Callable[[], str],
    ):
        self.parent = parent
        self.recording = recording
        self.charts = charts
        self.heap_map = heap_map
        self.results = results
        self.status = status
        self.banner = banner
        self.input_text = input_text

    def _ask_folder(self, title: str, start: str) -> str:
        home = str(pathlib.Path.home())
        return QFileDialog.getExistingDirectory(self.parent, title, start or home)

    # -- sessions -------------------------------------------------------------

    def save_session_to(self, path: str | os.PathLike[str]) -> pathlib.Path | None:
        """Saves the last finished run as a session file; None (with a message) if none."""
        session = self.recording.last_session
        if session is None:
            self.banner.show_error(
                "no finished run to save yet: run baseline (B) or pooled (P) first"
            )
            return None
        try:
            out = save_session(session, path)
        except OSError as exc:
            self.banner.show_error(f"could not save the session: {exc}")
            return None
        self.status.say(f"Session saved to {out}", 15000)
        return out

    def ask_save_session(self) -> None:
        if self.recording.last_session is None:
            self.save_session_to("")
            return
        s = AppSettings()
        start = pathlib.Path(s.session_dir or pathlib.Path.home()) / f"run{session_file.SUFFIX}"
        path, _ = QFileDialog.getSaveFileName(
            self.parent, "Save the last run as a session", str(start), SESSION_FILTER
        )
        if path and self.save_session_to(path):
            s.session_dir = os.path.dirname(path)

    def lecture_runs(self) -> tuple[list[tuple[int, session_file.Session]], list[int]]:
        """(run number, session) of every row on screen with its recording, in table
        order, and the rows without one (dropped to stay within memory)."""
        kept = self.recording.sessions
        runs = [(r.run_id, kept[r.run_id]) for r in self.results.rows if r.run_id in kept]
        missing = [r.run_id for r in self.results.rows if r.run_id not in kept]
        return runs, missing

    def save_lecture_to(self, path: str | os.PathLike[str]) -> pathlib.Path | None:
        """Saves every run on screen in one lecture file; None (with a message) if
        there is none or it cannot be written."""
        runs, missing = self.lecture_runs()
        if not runs:
            self.banner.show_error(
                "no finished run to save yet: run baseline (B) or pooled (P) first"
            )
            return None
        try:
            out = save_lecture(runs, path)
        except (OSError, ValueError) as exc:
            self.banner.show_error(f"could not save the lecture: {exc}")
            return None
        lacking = (
            f" (without #{', #'.join(map(str, missing))}: their recordings were dropped "
            "to stay within memory)"
            if missing
            else ""
        )
        self.status.say(f"Lecture of {len(runs)} runs saved to {out}{lacking}", 15000)
        return out

    def ask_save_lecture(self) -> None:
        if not self.lecture_runs()[0]:
            self.save_lecture_to("")
            return
        s = AppSettings()
        start = pathlib.Path(s.session_dir or pathlib.Path.home()) / f"lecture{session_file.SUFFIX}"
        path, _ = QFileDialog.getSaveFileName(
            self.parent, "Save every run as a lecture file", str(start), SESSION_FILTER
        )
        if path and self.save_lecture_to(path):
            s.session_dir = os.path.dirname(path)

    def ask_session(self) -> str:
        """A session file the user picks ("" when cancelled)."""
        start = AppSettings().session_dir or str(pathlib.Path.home())
        path, _ = QFileDialog.getOpenFileName(
            self.parent, "Open a recorded session or lecture file", start, SESSION_FILTER
        )
        return path

    def ask_sessions_folder(self) -> str:
        return self._ask_folder("Folder of recorded sessions", AppSettings().session_dir)

    # -- export ---------------------------------------------------------------

    def export_source(self, chart_options: dict | None = None) -> ExportSource:
        """What an export draws; ``chart_options`` replaces the window's chart toggles
        ({} for the defaults: the command line's exports never inherit them)."""
        configs = {}
        for row in self.results.rows:
            c = row.result.config
            configs[(c.heap_size, c.block_size)] = c
        shared = (
            "; ".join(f"heap {format_size(h)}, blocks of {format_size(b)}" for h, b in configs)
            or "no runs yet"
        )
        runs = "  ".join(t.label for t in self.charts.traces)
        return ExportSource(
            traces=list(self.charts.traces),
            chart_options=self.charts.options() if chart_options is None else chart_options,
            heap_map=self.heap_map,
            results=self.results,
            input_text=self.input_text(),
            params_text=f"{shared}.  {runs}",
        )

    def _said(self, message: str, paths: list[pathlib.Path]) -> None:
        """The status bar says what was written; its tooltip lists one path a line."""
        self.status.say(message, SAID_MS)
        self.status.bar.setToolTip("\n".join(str(p) for p in paths))

    def export_to(
        self,
        folder: str | os.PathLike[str],
        dashboard_size: tuple[int, int] = (1920, 1080),
        chart_size: tuple[int, int] = (1600, 900),
        chart_options: dict | None = None,
        overwrite: bool = False,
    ) -> list[pathlib.Path]:
        """Exports the handout, every PNG and CSV and the trace into ``folder`` as a new
        set (numbered when earlier files are there: gui.export_names), remembers the
        folder and says what it wrote.

        Raises
        ------
        OSError
            When the folder or a file cannot be written.
        """
        source = self.export_source(chart_options)
        paths = export_all(folder, source, dashboard_size, chart_size, overwrite=overwrite)
        AppSettings().export_dir = os.fspath(folder)
        self._said(written_message(folder, paths), paths)
        return paths

    def handout_to(
        self, path: str | os.PathLike[str], chart_options: dict | None = None
    ) -> pathlib.Path:
        """Writes the handout PDF to ``path`` (replacing it: the caller named it).

        Raises
        ------
        OSError
            When the file cannot be written.
        """
        out = atomic_write_bytes(path, handout_bytes(self.export_source(chart_options)))
        self._said(f"Handout written: {out}", [out])
        return out

    def export_quick(self) -> None:
        """Exports to the remembered folder, or asks for one the first time."""
        folder = AppSettings().export_dir
        if not folder or not os.path.isdir(folder):
            self.ask_export()
            return
        self._export_or_say(folder)

    def ask_export(self) -> None:
        folder = self._ask_folder("Export the handout, PNGs and CSVs to", AppSettings().export_dir)
        if folder:
            self._export_or_say(folder)

    def ask_handout(self) -> None:
        """Asks where to save the handout PDF (the dialog confirms replacing a file)."""
        s = AppSettings()
        start = pathlib.Path(s.export_dir or pathlib.Path.home()) / "heapscope_handout.pdf"
        path, _ = QFileDialog.getSaveFileName(
            self.parent, "Export the handout (PDF)", str(start), PDF_FILTER
        )
        if not path:
            return
        if not path.lower().endswith(".pdf"):
            path += ".pdf"
        try:
            self.handout_to(path)
        except OSError as exc:
            self.banner.show_error(f"could not write the handout: {exc}")
            return
        s.export_dir = os.path.dirname(path)

    def _export_or_say(self, folder: str) -> None:
        try:
            self.export_to(folder)
        except OSError as exc:
            self.banner.show_error(f"export failed: {exc}")
