"""The ``heapscope`` command: the window, and the same work from the command line.

    heapscope [FILE] [--run STRATEGY[,STRATEGY...]] [--lock KIND] [--workers N]
              [--save-session OUT.session]
              [--open FILE.session] [--export DIR [--overwrite]] [--handout OUT.pdf]
              [--lock-rate] [--log-scale] [--screenshot OUT.png] [--presentation]
              [--quit-when-done]

runs the listed strategies one after the other in the window (in presentation
mode with ``--presentation``), then saves the session, exports the handout and
every PNG and CSV to DIR, writes the handout PDF and takes the screenshot; with
``--quit-when-done`` it then exits.  Each file written is printed on stdout, one
path a line; every error is one line on stderr.

The export never replaces files: when DIR already holds an earlier export, the
new set is numbered (heapscope_dashboard-2.png, ...; gui.export_names), unless
``--overwrite``.  The files named by ``--handout``, ``--screenshot`` and
``--save-session`` are replaced, as asked.  Exported pictures use the default
chart settings (cumulative lock count, linear axis), whatever the window last
used, unless ``--lock-rate`` / ``--log-scale`` say otherwise.

Exit status:
  0    done
  1    a run failed, a session file could not be loaded, or an output could
       not be written when the time came (disk full, folder removed meanwhile)
  2    bad arguments, or a path that is bad before anything runs: an input
       that is missing or not a regular file (FIFO, device, directory,
       socket), a path with a NUL byte or too long, an output whose folder
       is missing or refuses new files, an output that names a directory or
       device; also no display to open the window on
  130  interrupted by Ctrl+C (SIGINT); 143 for SIGTERM, 129 for SIGHUP
       (128 + the signal, as a shell reports it): the run is cancelled and
       waited for, the window closed, one line "heapscope: interrupted
       (SIGINT)" printed.  An interrupt during an export lets the export
       (a few seconds) finish first; further signals while stopping are ignored.
       Only a signal in the interpreter's own start-up (the first ~40 ms,
       before main() runs) still gets Python's default handling.
"""

from __future__ import annotations

import signal
import sys

# Only light imports here: until main() installs its handlers, Ctrl+C is Python's.
from gui.app_signals import Interrupted, SignalGuard, exit_status, signal_name

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see above)
if TYPE_CHECKING:
    import argparse

PROG = "heapscope"
EXIT_FAILED = 1
EXIT_USAGE = 2
_SAVE_PREFIX = "could not save the session: "  # MainWindow.save_session_to's banner


def _fail(message: str, code: int = EXIT_FAILED) -> int:
    print(f"{PROG}: error: {message.splitlines()[0] if message else 'failed'}", file=sys.stderr)
    return code


def _interrupted(signum: int) -> int:
    print(f"{PROG}: interrupted ({signal_name(signum)})", file=sys.stderr)
    return exit_status(signum)


def parse_args(argv: list[str]) -> argparse.Namespace:
    import argparse
    import pathlib

    from engine import USER_STRATEGIES, Strategy

    class _ArgumentParser(argparse.ArgumentParser):
        def error(self, message):  # one line, no usage dump: scripts read stderr
            raise SystemExit(_fail(message, EXIT_USAGE))

    parser = _ArgumentParser(
        prog=PROG,
        description="Watch threads contend for one allocator lock, and per-thread pools "
        "set them free.",
    )
    parser.add_argument("file", nargs="?", metavar="FILE", help="input file to hash")
    parser.add_argument(
        "--run",
        metavar="STRATEGY[,STRATEGY...]",
        help="run these strategies one after the other: "
        + ", ".join(s.label for s in USER_STRATEGIES),
    )
    parser.add_argument(
        "--lock",
        metavar="KIND",
        help="with --run: the kind of every allocator lock: mutex (default), spin or adaptive",
    )
    parser.add_argument(
        "--workers",
        metavar="N",
        help="with --run: N long-lived workers instead of a thread per block in batches "
        "(0, the default)",
    )
    parser.add_argument(
        "--export",
        metavar="DIR",
        help="when the runs are done, export the handout (heapscope_handout.pdf), every PNG and "
        "CSV and the trace to DIR; an earlier export there is kept: the new files are numbered "
        "(heapscope_dashboard-2.png, ...)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="with --export: replace the files of an earlier export instead of numbering",
    )
    parser.add_argument(
        "--handout",
        metavar="OUT.pdf",
        help="when the runs are done, write the handout (one A4 page per view) to OUT.pdf",
    )
    parser.add_argument(
        "--lock-rate",
        action="store_true",
        help="exported lock charts show acquisitions per second (default: the running total)",
    )
    parser.add_argument(
        "--log-scale",
        action="store_true",
        help="exported lock charts use a log scale (default: linear)",
    )
    parser.add_argument(
        "--presentation",
        action="store_true",
        help="start in presentation mode (full screen, large type; F5 leaves it)",
    )
    parser.add_argument(
        "--quit-when-done", action="store_true", help="exit when the runs (and the export) are done"
    )
    parser.add_argument(
        "--open",
        metavar="FILE.session",
        dest="open_session",
        help="replay a recorded session (its row, curves and heap map)",
    )
    parser.add_argument(
        "--save-session",
        metavar="OUT.session",
        help="when the runs are done, save the last one as a session file",
    )
    parser.add_argument(
        "--screenshot",
        metavar="OUT.png",
        help="when the runs (and the export) are done, save a PNG picture of the whole "
        "window, as it is on screen, to OUT.png",
    )
    parser.add_argument(
        "--reproduce-report",
        metavar="DIR",
        help="run the exercise's report (every strategy on 1 MiB and 5 MiB, the 2/8/32 KiB "
        "pools, with repeats) and write report.html, report.pdf, the CSVs and PNGs to DIR; "
        "an earlier report there is kept (the new files are numbered)",
    )
    parser.add_argument(
        "--input",
        metavar="FILE",
        dest="report_input",
        help="with --reproduce-report: this file instead of the generated inputs",
    )
    parser.add_argument(
        "--repeat",
        metavar="N",
        type=int,
        dest="report_repeat",
        help="with --reproduce-report: runs per point (default 3)",
    )
    args = parser.parse_args(argv)
    args.strategies = []
    if args.run:
        for name in args.run.split(","):
            try:
                strategy = Strategy.parse(name)
            except ValueError as exc:
                parser.error(str(exc))
            if strategy not in USER_STRATEGIES:
                parser.error(
                    f"unknown strategy '{name}': choose one of "
                    + ", ".join(s.label for s in USER_STRATEGIES)
                )
            args.strategies.append(strategy)
    _check_mode_args(parser, args)
    _check_report_args(parser, args)
    if args.strategies and args.file is None:
        parser.error("--run needs an input FILE")
    if args.save_session and not args.strategies:
        parser.error("--save-session needs --run")
    if args.quit_when_done and not (
        args.strategies
        or args.export
        or args.screenshot
        or args.open_session
        or args.handout
        or args.reproduce_report
    ):
        # (tests/gui/test_cli.py names this message; --reproduce-report needs no mention:
        # the command line gives it with --quit-when-done)
        parser.error("--quit-when-done needs --run, --open, --export, --handout or --screenshot")
    if args.overwrite and args.export is None:
        parser.error("--overwrite needs --export")
    for flag, on in (("--lock-rate", args.lock_rate), ("--log-scale", args.log_scale)):
        if on and args.export is None and args.handout is None:
            parser.error(f"{flag} needs --export or --handout")
    for flag, path, kind, suffix in (
        ("--screenshot", args.screenshot, "PNG", ".png"),
        ("--handout", args.handout, "PDF", ".pdf"),
    ):
        if path is not None and pathlib.PurePath(path).suffix.lower() not in ("", suffix):
            parser.error(
                f"{flag} writes {kind}: name the file {suffix} "
                f"(not '{pathlib.PurePath(path).suffix}')"
            )
    return args


def _check_mode_args(parser, args: argparse.Namespace) -> None:
    """--lock and --workers: checked as the engine checks them, kept parsed."""
    from engine import LIMITS, InputError, LockKind

    for flag, given in (("--lock", args.lock), ("--workers", args.workers)):
        if given is not None and not args.strategies:
            parser.error(f"{flag} needs --run")
    if args.lock is not None:
        try:
            args.lock = LockKind.parse(args.lock)
        except InputError as exc:
            parser.error(f"--lock: {exc}")
    if args.workers is not None:
        low, high, _ = LIMITS["workers"]
        try:
            args.workers = int(args.workers)
        except ValueError:
            parser.error(
                f"--workers takes a whole number from {low} to {high} (got '{args.workers}')"
            )
        if not low <= args.workers <= high:
            parser.error(
                f"--workers takes a whole number from {low} to {high} (got {args.workers})"
            )


def _check_report_args(parser, args: argparse.Namespace) -> None:
    """--input and --repeat only with --reproduce-report, which runs on its own."""
    if args.reproduce_report is None:
        for flag, value in (("--input", args.report_input), ("--repeat", args.report_repeat)):
            if value is not None:
                parser.error(f"{flag} needs --reproduce-report")
        return
    if args.report_repeat is not None and not 1 <= args.report_repeat <= 1000:
        parser.error(f"--repeat must be from 1 to 1000 (got {args.report_repeat})")
    for flag, value in (
        ("FILE", args.file),
        ("--run", args.run),
        ("--open", args.open_session),
        ("--export", args.export),
        ("--handout", args.handout),
        ("--save-session", args.save_session),
        ("--screenshot", args.screenshot),
    ):
        if value is not None:
            parser.error(f"--reproduce-report runs on its own: drop {flag} (use --input FILE)")


def chart_options(args: argparse.Namespace) -> dict:
    """The chart settings of the command line's pictures: the defaults, unless told."""
    return {"rate": args.lock_rate, "log": args.log_scale}


def path_problem(args: argparse.Namespace) -> str | None:
    """The first command-line path that is bad before anything runs (exit 2), or None.

    Creates the export folder when it is missing (as the export would).
    """
    from gui import app_paths

    if args.file is not None:
        problem = app_paths.input_problem(args.file)
        if problem:
            return problem
    if args.reproduce_report is not None:
        if args.report_input is not None:
            problem = app_paths.input_problem(args.report_input)
            if problem:
                return problem
        problem = app_paths.export_folder_problem(args.reproduce_report)
        if problem:
            return problem.replace("export folder", "report folder").replace(
                "cannot export to", "cannot write the report to"
            )
    if args.open_session is not None:
        problem = app_paths.input_problem(args.open_session, "session path")
        if problem:
            return problem
    names: list[str] = []
    if args.export is not None:  # first: a screenshot may go into the new folder
        from gui.export import FILE_NAMES

        names = list(FILE_NAMES.values())
        # Only replaced names can be in the way: a new numbered set steps over them.
        problem = app_paths.export_folder_problem(args.export, names if args.overwrite else ())
        if problem:
            return problem
    if args.save_session is not None:
        problem = app_paths.output_file_problem(args.save_session, "session file")
        if problem:
            return problem
    if args.handout is not None:
        problem = app_paths.output_file_problem(args.handout, "handout")
        if problem:
            return problem
    if args.screenshot is not None:
        problem = app_paths.output_file_problem(args.screenshot, "screenshot")
        if problem:
            return problem
    return app_paths.clash_problem(
        {
            "session file": args.save_session,
            "handout": args.handout,
            "screenshot": args.screenshot,
        },
        {"input file": args.file, "session being opened": args.open_session},
        args.export,
        names,
    )


def _check_file(path: str) -> str | None:
    from engine import InputError, Run, RunConfig

    try:
        Run(path, RunConfig(telemetry=False)).close()
    except InputError as exc:
        return str(exc)
    return None


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``heapscope`` console script."""
    script = argv is None
    if script:
        # First: jemalloc loads only into a process started with more static TLS;
        # this re-executes the command with it (nothing else has run yet).
        from engine.config import restart_with_static_tls

        restart_with_static_tls()
    argv = sys.argv[1:] if argv is None else list(argv)
    guard = SignalGuard()
    guard.install()
    try:
        return _main(argv, guard)
    except Interrupted as exc:  # guard.check(): before the event loop took signals over
        return _interrupted(exc.signum)
    except KeyboardInterrupt:  # handlers not ours (not the main thread)
        return _interrupted(signal.SIGINT)
    finally:
        # The console script leaves SIG_DFL behind: a signal during the interpreter's
        # teardown ends the process quietly instead of printing a KeyboardInterrupt.
        guard.restore(to_default=script)


def _main(argv: list[str], guard: SignalGuard) -> int:
    # guard.check() between steps: a signal recorded meanwhile ends the command here,
    # at a known point (never thrown into an import or a library's except clause).
    try:
        args = parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    guard.check()
    from gui.app_display import display_problem, install_message_filter

    problem = display_problem()
    guard.check()
    if problem:
        return _fail(problem, EXIT_USAGE)
    problem = path_problem(args)
    guard.check()
    if problem:
        return _fail(problem, EXIT_USAGE)
    if args.file and args.quit_when_done:
        problem = _check_file(args.file)
        guard.check()
        if problem:
            return _fail(problem, EXIT_USAGE)
    if args.open_session and args.quit_when_done:
        from gui.lecture_file import load_lecture
        from gui.session_file import SessionError

        try:
            load_lecture(args.open_session)  # a session file, or a lecture file of runs
        except SessionError as exc:
            guard.check()
            return _fail(str(exc))
        guard.check()

    import pyqtgraph as pg
    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    import gui.main_window  # noqa: F401  (the slow imports, before the window exists)

    guard.check()
    guard.relay_to_qt()  # from here on the event loop hears of every signal
    existing = QApplication.instance()
    if existing is None:
        app = QApplication([sys.argv[0]])
    elif isinstance(existing, QApplication):
        app = existing
    else:  # only when embedded in a process that made a QCoreApplication first
        raise RuntimeError("heapscope needs a QApplication, but a non-widget Qt app exists")
    install_message_filter()
    try:
        app.setOrganizationName("heapscope")
        app.setApplicationName("heapscope")
        app.setApplicationDisplayName("heapscope")
        app.setStyle("Fusion")
        pg.setConfigOptions(antialias=True, background="w", foreground="k")
        if args.reproduce_report is not None:
            code = _reproduce_report(args, guard)
            if code or args.quit_when_done:
                return code
        return _run_window(app, args, guard)
    finally:
        qInstallMessageHandler(None)  # Qt may log in teardown, when Python cannot


class _State:
    """What the window's slots and the signal relay share."""

    def __init__(self):
        self.code = 0
        self.message = ""
        self.signum: int | None = None
        self.loop_running = False
        self.in_finish = False
        self.finished = False
        self.stopped = False


def _run_window(app, args: argparse.Namespace, guard: SignalGuard) -> int:
    from PySide6.QtCore import QTimer

    from engine import RunCancelled
    from gui.export import atomic_save_image
    from gui.main_window import MainWindow

    state = _State()
    window = MainWindow()

    def stop_and_exit(signum: int) -> None:
        if state.stopped:
            return
        state.stopped = True
        window.stop()
        window.shutdown()  # cancels the engine and waits for its thread
        window.close()
        app.exit(exit_status(signum))

    def on_signal(signum: int) -> None:
        if state.signum is not None:
            return  # already stopping: a second Ctrl+C changes nothing
        state.signum = signum
        if state.loop_running and not state.in_finish:
            stop_and_exit(signum)
        # else: acted on when the loop starts, or when finish() has written its file

    def loop_started() -> None:
        state.loop_running = True
        if state.signum is None and guard.first is not None:
            on_signal(guard.first)  # came before the wakeup socket was set up
        elif state.signum is not None:
            stop_and_exit(state.signum)

    def on_failed(exc) -> None:
        if state.signum is not None:
            return
        if not isinstance(exc, RunCancelled) or args.quit_when_done:
            state.code = EXIT_FAILED
            state.message = str(exc)

    def fail_late(message: str) -> None:
        if state.code == 0:
            state.code, state.message = EXIT_FAILED, message

    def finish() -> None:
        if state.finished or state.signum is not None:
            return
        state.finished = True  # later runs in the window do not export again
        state.in_finish = True
        try:
            _finish_outputs(window, args, state, fail_late, atomic_save_image)
        finally:
            state.in_finish = False
        if state.signum is not None:
            stop_and_exit(state.signum)
        elif args.quit_when_done:
            window.close()
            app.exit(state.code)

    guard.watch(on_signal)
    try:
        window.show()
        if args.file and not window.open_input(args.file) and args.quit_when_done:
            return _fail(window.error_text() or f"cannot open '{args.file}'", EXIT_USAGE)
        if args.open_session and not window.open_session(args.open_session) and args.quit_when_done:
            return _fail(window.error_text() or f"cannot open '{args.open_session}'")
        window.sig_run_failed.connect(on_failed)
        if args.presentation and not window.commands.presentation.isChecked():
            window.commands.presentation.trigger()
        if args.strategies:
            window.sig_idle.connect(finish)
            if args.lock is not None:
                window.settings_panel.set_lock(args.lock)
            if args.workers is not None:
                window.settings_panel.set_workers(args.workers)
            window.run_sequence(args.strategies)
        elif window.busy:  # a replayed session's reference signature is being checked
            window.sig_idle.connect(finish)
        elif args.export or args.handout or args.screenshot or args.quit_when_done:
            QTimer.singleShot(300, finish)
        QTimer.singleShot(0, loop_started)
        code = app.exec()
    finally:
        window.shutdown()  # whatever happened, no engine thread outlives the window
    if state.signum is not None:
        return _interrupted(state.signum)
    if state.finished or args.quit_when_done:
        code = state.code
    if state.message and code:
        _fail(state.message, code)
    return code


def _reproduce_report(args: argparse.Namespace, guard: SignalGuard) -> int:
    """Runs the report's experiments and writes its files (each path on stdout)."""
    from gui import app_paths
    from gui.report import command_line, run_with_events, write_report
    from gui.report_runs import (
        DEFAULT_REPEAT,
        ReportCancelled,
        ReportFailed,
        ReportRunner,
        report_inputs,
    )

    repeat = args.report_repeat or DEFAULT_REPEAT
    try:
        runner = ReportRunner(report_inputs(args.report_input), repeat)
    except (ValueError, OSError) as exc:
        return _fail(str(exc))
    guard.watch(lambda _signum: runner.cancel())
    if guard.first is not None:
        return _interrupted(guard.first)
    try:
        data = run_with_events(runner)
    except ReportCancelled:
        return _interrupted(guard.first) if guard.first is not None else _fail("cancelled")
    except ReportFailed as exc:
        return _fail(str(exc))
    if guard.first is not None:
        return _interrupted(guard.first)
    folder = args.reproduce_report
    try:
        paths = write_report(folder, data, command_line(folder, args.report_input, repeat))
    except OSError as exc:
        return _fail(app_paths.write_failure_from("report", folder, exc))
    for path in paths:
        _written(path)
    return 0


def _written(path) -> None:
    """Each file the command wrote, on stdout: scripts find numbered names there."""
    try:
        print(path, flush=True)
    except (OSError, ValueError):  # stdout closed: the files are written all the same
        pass


def _finish_outputs(window, args, state: _State, fail_late, atomic_save_image) -> None:
    """Session, export, handout, screenshot, in that order; each failure is one line,
    exit 1.

    Stops early when a signal arrived (export renders call processEvents, so the
    relay can run in between).
    """
    from gui import app_paths

    if state.code == 0 and args.save_session and state.signum is None:
        saved = window.save_session_to(args.save_session)
        if saved is None:
            detail = window.error_text() or "not saved"
            detail = detail[len(_SAVE_PREFIX) :] if detail.startswith(_SAVE_PREFIX) else detail
            fail_late(app_paths.write_failure("session file", args.save_session, detail))
        else:
            _written(saved)
    if state.code == 0 and args.export and state.signum is None:
        try:
            paths = window.files.export_to(
                args.export, chart_options=chart_options(args), overwrite=args.overwrite
            )
        except OSError as exc:
            fail_late(
                f"cannot export to '{app_paths.shown_path(args.export)}': {app_paths.reason(exc)}"
            )
        except Exception as exc:  # noqa: BLE001 - a script must get an exit status
            fail_late(f"export failed: {exc}")
        else:
            for path in paths:
                _written(path)
    if state.code == 0 and args.handout and state.signum is None:
        try:
            _written(window.files.handout_to(args.handout, chart_options=chart_options(args)))
        except Exception as exc:  # noqa: BLE001 - a script must get an exit status
            fail_late(app_paths.write_failure_from("handout", args.handout, exc))
    if args.screenshot and state.signum is None:
        try:
            _written(atomic_save_image(args.screenshot, window.grab().toImage()))
        except OSError as exc:
            fail_late(app_paths.write_failure_from("screenshot", args.screenshot, exc))


if __name__ == "__main__":
    sys.exit(main())
