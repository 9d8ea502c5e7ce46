"""Result rows of slowed runs: marked, given no speedup, never a baseline.

A run slowed down for the audience took longer because the engine slept (see
:mod:`gui.slow_motion`): its wall time compares with nothing.  Its row says so
in the speedup column ("slowed 1/100: no speedup", and "slowed 1/100" in the
CSV), and runs take their speedup from the first baseline run at full speed on
their input only (as gui.results_table does).
"""

from __future__ import annotations

import dataclasses

from engine import RunResult, Strategy
from gui.results_table import KEYS, ResultRow, ResultsModel
from gui.slow_motion import SpeedLog


@dataclasses.dataclass
class SlowedRow(ResultRow):
    """A row of a slowed run: ``slowed`` names its speed ("slowed 1/100")."""

    slowed: str = ""

    def value(self, key: str):
        if key == "speedup":
            return self.slowed
        return super().value(key)

    def text(self, key: str) -> str:
        if key == "speedup":
            return f"{self.slowed}: no speedup"
        return super().text(key)


def full_speed_baseline(results: ResultsModel, row: ResultRow) -> ResultRow | None:
    """The first baseline at full speed on ``row``'s input, other than ``row`` (the
    rule of ResultsModel.add_result: every speedup on an input has one reference)."""
    return next(
        (
            r
            for r in results.rows
            if r is not row
            and r.key == row.key
            and r.result.strategy is Strategy.BASELINE
            and not isinstance(r, SlowedRow)
        ),
        None,
    )


def add_row(
    results: ResultsModel,
    run_id: int,
    result: RunResult,
    reference: int | None,
    speeds: SpeedLog | None,
) -> ResultRow:
    """Appends a run's row (as ResultsModel.add_result), marked when it was slowed;
    returns the row now in the table."""
    row = results.add_result(run_id, result, reference)
    index = len(results.rows) - 1
    if speeds is not None and speeds.slowed:
        fields = {f.name: getattr(row, f.name) for f in dataclasses.fields(ResultRow)}
        fields.update(speedup=None, baseline_run=None)
        row = SlowedRow(**fields, slowed=speeds.label)
        results.rows[index] = row
    else:
        rekey_speedup(results, row)
    col = KEYS.index("speedup")
    results.dataChanged.emit(results.index(index, 0), results.index(index, col))
    return row


def rekey_speedup(results: ResultsModel, row: ResultRow) -> None:
    """``row``'s speedup against the first full-speed baseline on its input (its key
    may have changed since it was added: see gui.replay_input.rekey_row)."""
    if isinstance(row, SlowedRow):
        return
    baseline = full_speed_baseline(results, row)
    if baseline is None and row.result.strategy is Strategy.BASELINE:
        row.speedup, row.baseline_run = 1.0, row.run_id
    elif baseline is None or row.result.wall_s <= 0:
        row.speedup, row.baseline_run = None, None
    else:
        row.speedup = baseline.result.wall_s / row.result.wall_s
        row.baseline_run = baseline.run_id
