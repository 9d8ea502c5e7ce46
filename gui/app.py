"""The ``heapscope`` command: the window, and the same work from the command line.

    heapscope [FILE] [--run STRATEGY[,STRATEGY...]] [--save-session OUT.session]
              [--open FILE.session] [--export DIR] [--quit-when-done]

runs the listed strategies one after the other in the window, exports every
PNG and CSV to DIR when done, and (with ``--quit-when-done``) exits 0, or 1
with a one-line error on stderr.
"""
from __future__ import annotations

import argparse
import pathlib
import sys

PROG = "heapscope"


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump: scripts read stderr
        raise SystemExit(_fail(message, 2))


def _fail(message: str, code: int = 1) -> int:
    print(f"{PROG}: error: {message.splitlines()[0] if message else 'failed'}", file=sys.stderr)
    return code


def parse_args(argv: list[str]) -> argparse.Namespace:
    from engine import USER_STRATEGIES, Strategy

    parser = _ArgumentParser(
        prog=PROG,
        description="Watch threads contend for one allocator lock, and per-thread pools "
                    "set them free.")
    parser.add_argument("file", nargs="?", metavar="FILE", help="input file to hash")
    parser.add_argument("--run", metavar="STRATEGY[,STRATEGY...]",
                        help="run these strategies one after the other: "
                             + ", ".join(s.label for s in USER_STRATEGIES))
    parser.add_argument("--export", metavar="DIR",
                        help="when the runs are done, export every PNG and CSV to DIR")
    parser.add_argument("--quit-when-done", action="store_true",
                        help="exit when the runs (and the export) are done")
    parser.add_argument("--open", metavar="FILE.session", dest="open_session",
                        help="replay a recorded session (its row, curves and heap map)")
    parser.add_argument("--save-session", metavar="OUT.session",
                        help="when the runs are done, save the last one as a session file")
    parser.add_argument("--screenshot", metavar="PNG",
                        help="save a picture of the whole window when done")
    args = parser.parse_args(argv)
    args.strategies = []
    if args.run:
        for name in args.run.split(","):
            try:
                strategy = Strategy.parse(name)
            except ValueError as exc:
                parser.error(str(exc))
            if strategy not in USER_STRATEGIES:
                parser.error(f"unknown strategy '{name}': choose one of "
                             + ", ".join(s.label for s in USER_STRATEGIES))
            args.strategies.append(strategy)
    if args.strategies and not args.file:
        parser.error("--run needs an input FILE")
    if args.save_session and not args.strategies:
        parser.error("--save-session needs --run")
    if args.quit_when_done and not (args.strategies or args.export or args.screenshot
                                    or args.open_session):
        parser.error("--quit-when-done needs --run, --open, --export or --screenshot")
    return args


def _check_file(path: str) -> str | None:
    from engine import InputError, Run, RunConfig

    try:
        Run(path, RunConfig(telemetry=False)).close()
    except InputError as exc:
        return str(exc)
    return None


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``heapscope`` console script."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.file and args.quit_when_done:
        problem = _check_file(args.file)
        if problem:
            return _fail(problem)
    if args.open_session and args.quit_when_done:
        from gui.session_file import SessionError, load_session
        try:
            load_session(args.open_session)
        except SessionError as exc:
            return _fail(str(exc))
    if args.export:
        try:
            pathlib.Path(args.export).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return _fail(f"cannot create the export folder '{args.export}': {exc.strerror}")

    from PySide6.QtWidgets import QApplication

    import pyqtgraph as pg

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setOrganizationName("heapscope")
    app.setApplicationName("heapscope")
    app.setApplicationDisplayName("heapscope")
    app.setStyle("Fusion")
    pg.setConfigOptions(antialias=True, background="w", foreground="k")

    from gui.main_window import MainWindow

    window = MainWindow()
    window.show()
    outcome = {"code": 0}

    if args.file and not window.open_input(args.file):
        if args.quit_when_done:
            window.shutdown()
            return _fail(window.error_text() or f"cannot open '{args.file}'")

    if args.open_session and not window.open_session(args.open_session):
        if args.quit_when_done:
            window.shutdown()
            return _fail(window.error_text() or f"cannot open '{args.open_session}'")

    def on_failed(exc) -> None:
        from engine import RunCancelled
        if not isinstance(exc, RunCancelled) or args.quit_when_done:
            outcome["code"] = 1
            outcome["message"] = str(exc)

    def finish() -> None:
        if outcome["code"] == 0 and args.save_session:
            if window.save_session_to(args.save_session) is None:
                outcome["code"], outcome["message"] = 1, window.error_text()
        if outcome["code"] == 0 and args.export:
            try:
                window.export_to(args.export)
            except Exception as exc:  # noqa: BLE001 - a script must get an exit status
                outcome["code"], outcome["message"] = 1, f"export failed: {exc}"
        if args.screenshot:
            window.grab().save(args.screenshot)
        if args.quit_when_done:
            window.close()
            app.exit(outcome["code"])

    window.sig_run_failed.connect(on_failed)
    if args.strategies:
        window.sig_idle.connect(finish)
        window.run_sequence(args.strategies)
    elif window.busy:  # a replayed session's reference signature is being checked
        window.sig_idle.connect(finish)
    elif args.export or args.screenshot or args.quit_when_done:
        from PySide6.QtCore import QTimer
        QTimer.singleShot(300, finish)
    code = app.exec()
    if outcome.get("message") and code:
        _fail(outcome["message"], code)
    return code


if __name__ == "__main__":
    sys.exit(main())
