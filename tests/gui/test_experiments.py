"""The Experiments window: set-up checks, a real sweep with live points, cancel, export."""

from __future__ import annotations

import csv
import dataclasses
import warnings

import pytest

from engine import Run, RunConfig, Strategy
from engine.machine import load_warning
from gui.experiments import EXPORT_NAMES, ExperimentsWindow, open_experiments
from gui.experiments_setup import (
    Setup,
    SetupError,
    build_plan,
    parse_values,
    spans_decade,
    x_parameter,
)
from tests.conftest import EXPECTED, VECTORS

RANDOM = VECTORS / "random_64k.bin"
SIGNATURE = EXPECTED["random_64k.bin"]["signature"]  # 1124439212


def single_run_locks(strategy: Strategy, **params) -> int | None:
    with Run(RANDOM, RunConfig(strategy=strategy, telemetry=False, **params)) as run:
        return run.execute().lock_acquisitions


# -- the set-up -----------------------------------------------------------------


def test_values_are_parsed_as_the_command_line_parses_them():
    assert parse_values("pool_size", "2K, 8K,32K") == [2048, 8192, 32768]
    assert parse_values("batch_size", "2,5,20") == [2, 5, 20]
    assert [k.label for k in parse_values("lock", "mutex,spin")] == ["mutex", "spin"]
    assert parse_values("input", "256K,1M") == [262144, 1048576]
    assert parse_values(None, "anything") == []


@pytest.mark.parametrize(
    ("parameter", "text", "message"),
    [
        (
            "pool_size",
            "2K,3X",
            "pool size: '3X' is not a size: use bytes or a K/M suffix, e.g. 2M, 32K, 1024",
        ),
        ("pool_size", "2K,2K", "pool size: 2 KiB is listed twice"),
        (
            "pool_size",
            "2K,,8K",
            "pool size: empty item in '2K,,8K' (separate values with single commas)",
        ),
        ("batch_size", "2,x", "threads per batch: 'x' is not a whole number"),
        ("workers", "", "workers: no values given"),
        (
            "lock",
            "mutex,fast",
            "lock kind: unknown lock kind 'fast': choose from mutex, spin, adaptive",
        ),
    ],
)
def test_bad_values_are_one_line(parameter, text, message):
    with pytest.raises(SetupError) as caught:
        parse_values(parameter, text)
    assert str(caught.value) == message


def test_a_setup_without_strategies_or_with_a_bad_repeat_is_refused():
    with pytest.raises(SetupError, match="^tick at least one strategy$"):
        build_plan(Setup((), None, input_path=str(RANDOM)))
    with pytest.raises(SetupError) as caught:
        build_plan(Setup((Strategy.POOLED,), None, repeat_text="0", input_path=str(RANDOM)))
    assert str(caught.value) == "repeat must be from 1 to 1000 (got 0)"


def test_a_setup_becomes_the_grid_of_points():
    plan = build_plan(
        Setup(
            (Strategy.BASELINE, Strategy.POOLED),
            "pool_size",
            "2K,8K,32K",
            "2",
            input_path=str(RANDOM),
        )
    )
    assert plan.total_runs == 12
    assert plan.swept == ("strategy", "pool_size")
    assert [p.label for p in plan.points][:2] == ["baseline, pool 2 KiB", "baseline, pool 8 KiB"]
    assert x_parameter(plan.swept) == "pool_size"
    assert x_parameter(("input", "strategy")) == "input"
    assert x_parameter(("strategy",)) is None


def test_log_axes_only_for_a_tenfold_span():
    assert spans_decade([256, 64620])
    assert not spans_decade([2048, 8192])
    assert spans_decade([0, 3, 30])  # zero is left out: it cannot sit on a log axis
    assert not spans_decade([None, 0])


# -- a real sweep in the window -------------------------------------------------


@pytest.fixture
def experiments(qtbot):
    window = open_experiments(None, input_path=str(RANDOM))
    qtbot.addWidget(window)
    try:
        yield window
    finally:
        window.shutdown()
        window.close()


def set_up(window: ExperimentsWindow, strategies, parameter: str, values: str, repeat: int):
    for strategy, box in window.strategy_boxes.items():
        box.setChecked(strategy in strategies)
    window.parameter.setCurrentIndex(window.parameter.findData(parameter))
    window.values_edit.setText(values)
    window.repeat.setValue(repeat)


def test_window_starts_with_the_parents_input_and_two_strategies(experiments):
    assert experiments.file_edit.text() == str(RANDOM)
    assert experiments.use_file.isChecked()
    ticked = [s for s, box in experiments.strategy_boxes.items() if box.isChecked()]
    assert ticked == [Strategy.BASELINE, Strategy.POOLED]
    assert not experiments.cancel_button.isEnabled()
    assert not experiments.export_button.isEnabled()


def test_pool_sweep_points_arrive_live_and_match_single_runs(experiments, qtbot, tmp_path):
    set_up(experiments, (Strategy.BASELINE, Strategy.POOLED), "pool_size", "2K,8K,32K", 2)
    seen: list[int] = []
    with qtbot.waitSignal(experiments.sig_finished, timeout=60_000) as finished:
        assert experiments.start()
        assert experiments.worker is not None
        experiments.worker.row_done.connect(lambda done, total, row: seen.append(done))
        assert experiments.cancel_button.isEnabled()
    result = finished.args[0]
    assert result.complete
    assert seen == list(range(1, 13))  # every run reached the GUI thread, in order
    assert experiments.progress.value() == 12 and experiments.progress.maximum() == 12
    assert experiments.status.text() == (
        "Done: 12 runs; every signature equals the single-threaded reference"
    )
    assert [r.signature for r in result.rows] == [SIGNATURE] * 12
    by_point = {
        (s.point.config.strategy, s.point.config.pool_size): s.lock_acquisitions
        for s in result.summaries()
    }
    expected = {
        (Strategy.BASELINE, 2048): 64620,
        (Strategy.BASELINE, 8192): 64620,
        (Strategy.BASELINE, 32768): 64620,
        (Strategy.POOLED, 2048): 56428,
        (Strategy.POOLED, 8192): 39916,
        (Strategy.POOLED, 32768): 256,
    }
    assert by_point == expected
    for (strategy, pool), locks in expected.items():
        assert single_run_locks(strategy, pool_size=pool) == locks
    # The charts: one line per strategy, three pool sizes each, locks on a log axis.
    assert [s.name for s in experiments.charts.series] == ["baseline", "pooled"]
    assert [s.x for s in experiments.charts.series] == [[2048.0, 8192.0, 32768.0]] * 2
    assert experiments.charts.series[1].locks == [56428, 39916, 256]
    assert experiments.charts.log_axes["locks"] is True
    assert experiments.charts.log_axes["x"] is True  # 2 KiB to 32 KiB: 16x
    assert experiments.machine.text().startswith("Machine: ")

    # Export: the charts' PNG and one CSV row per run; a second export is numbered.
    first = experiments.export_to(tmp_path)
    assert [p.name for p in first] == ["heapscope_sweep.png", "heapscope_sweep.csv"]
    assert first[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(first[1], newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 12
    assert {r["signature"] for r in rows} == {str(SIGNATURE)}
    for r in rows:
        key = (Strategy.parse(r["strategy"]), int(r["pool_size"]))
        assert int(r["lock_acquisitions"]) == expected[key]
    second = experiments.export_to(tmp_path)
    assert [p.name for p in second] == ["heapscope_sweep-2.png", "heapscope_sweep-2.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [*EXPORT_NAMES.values(), "heapscope_sweep-2.png", "heapscope_sweep-2.csv"]
    )


def test_cancel_keeps_the_finished_rows(experiments, qtbot, tmp_path):
    set_up(experiments, (Strategy.BASELINE,), "batch_size", "2,20", 200)  # 400 runs
    with qtbot.waitSignal(experiments.sig_finished, timeout=60_000) as finished:
        assert experiments.start()
        assert experiments.worker is not None
        experiments.worker.row_done.connect(lambda *_: experiments.cancel())
    result = finished.args[0]
    assert result.cancelled and result.error is None
    kept = len(result.rows)
    assert 1 <= kept < 400
    assert [r.run for r in result.rows] == list(range(1, kept + 1))
    assert {r.lock_acquisitions for r in result.rows} == {64620}
    assert experiments.rows == list(result.rows)
    assert experiments.status.text() == f"Cancelled: {kept} of 400 runs kept"
    assert experiments.export_button.isEnabled()
    png, csv_path = experiments.export_to(tmp_path)
    assert len(csv_path.read_text().splitlines()) == kept + 1


def test_a_refused_setup_says_why_and_runs_nothing(experiments):
    set_up(experiments, (), "pool_size", "2K", 1)
    assert not experiments.start()
    assert experiments.status.text() == "Cannot run: tick at least one strategy"
    set_up(experiments, (Strategy.POOLED,), "pool_size", "2K,8K,9Q", 1)
    assert not experiments.start()
    assert experiments.status.text() == (
        "Cannot run: pool size: '9Q' is not a size: use bytes or a K/M suffix, e.g. 2M, 32K, 1024"
    )
    assert experiments.worker is None


def test_the_load_warning_is_shown_when_the_load_moved(experiments, qtbot):
    set_up(experiments, (Strategy.POOLED,), "none (compare the strategies)", "", 1)
    experiments.parameter.setCurrentIndex(0)
    with qtbot.waitSignal(experiments.sig_finished, timeout=60_000) as finished:
        assert experiments.start()
    result = finished.args[0]
    # The same result as if another process had taken a core meanwhile.
    stamp = dataclasses.replace(
        result.machine,
        affinity=2,
        cpu_count=2,
        load_before=(0.10, 0.1, 0.1),
        load_after=(1.60, 0.5, 0.2),
        own_cores=0.0,
        other_cores=0.9,
        elapsed_s=1.0,
    )
    experiments._on_done(dataclasses.replace(result, machine=stamp))
    expected = load_warning(0.10, 1.60, 2)
    assert expected is not None and expected.startswith("the 1-minute load rose from 0.10 to 1.60")
    assert experiments.warning.text() == f"Warning: {expected}"
    assert not experiments.warning.isHidden()
    assert "Warning" not in experiments.machine.text()


def test_charts_switch_between_linear_and_log_axes_without_overflow(qtbot):
    """Millions on linear axes (heap sizes, locks), then log axes: no 10**2e6 on the way."""
    from engine.sweep import PointSummary
    from gui.experiments_charts import offscreen_charts

    plan = build_plan(
        Setup((Strategy.BASELINE, Strategy.POOLED), "pool_size", "2K,8K,32K", "1", str(RANDOM))
    )

    def summaries(pooled_locks: int) -> list[PointSummary]:
        out = []
        for p in plan.points:
            n = 5_178_308 if p.config.strategy is Strategy.BASELINE else pooled_locks
            out.append(PointSummary(p, 3, 2.0, 1.0, 3.0, n, (n,)))
        return out

    charts = offscreen_charts(900, 360)
    qtbot.addWidget(charts)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        charts.show_summaries(summaries(4_522_948), "heap_size", 3)  # x: 2 MiB, linear
        charts.image(900, 360)
        assert charts.log_axes["locks"] is False and charts.log_axes["x"] is False
        charts.show_summaries(summaries(20_480), "pool_size", 3)
        charts.image(900, 360)
        assert charts.log_axes["locks"] is True
    assert [str(w.message) for w in caught] == []
    assert not charts.speedup_shown  # no baseline speedups: the panel is gone


def test_the_run_menu_opens_experiments_and_the_report(window, qtbot):
    """Run > Experiments opens one window over the main one (with its input); closing the
    main window closes it."""
    from gui.report import ReportDialog

    window.open_input(str(RANDOM))
    window.commands.experiments.trigger()
    experiments = window._experiments_window
    assert isinstance(experiments, ExperimentsWindow) and experiments.isVisible()
    assert experiments.file_edit.text() == str(RANDOM)
    window.commands.experiments.trigger()  # shown again, not a second one
    assert window._experiments_window is experiments
    window.commands.reproduce_report.trigger()
    dialogs = [d for d in window.findChildren(ReportDialog) if d.isVisible()]
    assert len(dialogs) == 1
    assert (
        dialogs[0]
        .intro.text()
        .startswith(
            "Runs every strategy and the 2/8/32 KiB pools on generated 1 MiB and 5 MiB inputs"
        )
    )
    dialogs[0].close()
    window.close()
    assert not experiments.isVisible()


def test_log_axis_labels_are_1_2_5_steps_or_powers_of_ten():
    from gui.experiments_charts import log_ticks

    assert [t for _, t in log_ticks([0.0783, 4.669])[0]] == [
        "0.05",
        "0.1",
        "0.2",
        "0.5",
        "1",
        "2",
        "5",
    ]
    assert [t for _, t in log_ticks([4096, 5_178_308])[0]] == ["1e4", "1e5", "1e6"]
    assert [t for _, t in log_ticks([0.45, 14])[0]] == ["0.5", "1", "2", "5", "10", "20"]
    assert log_ticks([0, -1]) == []
