"""The report's experiments, run in one go (no Qt here: the GUI runs this on a QThread).

The exercise's report has three tables; each comes from a sweep with repeats:

1. every strategy on each input (1 MiB and 5 MiB generated, or the given file):
   median, min and max time, speedup over the baseline, lock counts;
2. the pool-size tuning: pooled with 2, 8 and 32 KiB pools on each input;
3. a check: one separate run of single, baseline and pooled (at each pool
   size) with the same parameters, whose lock counts the report sets beside
   the sweeps' (they must be equal: the counts are exact) and whose counters
   give the captions' explanation of why.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence

from engine import USER_STRATEGIES, Run, RunConfig, RunResult, Strategy
from engine.errors import EngineError, RunCancelled
from engine.sweep import Sweep, SweepInput, SweepPlan, SweepResult, generated_input, plan_sweep

#: The exercise's inputs and pools (WORKLOAD.md: 1 MiB and 5 MiB; 2, 8 and 32 KiB pools).
REPORT_SIZES = (1024 * 1024, 5 * 1024 * 1024)
POOL_SIZES = (2048, 8192, 32768)
DEFAULT_REPEAT = 3
#: The strategies whose single runs check the sweeps' lock counts (exact counts).
CHECKED = (Strategy.SINGLE, Strategy.BASELINE, Strategy.POOLED)

Progress = Callable[[int, int, str], None]


@dataclasses.dataclass(frozen=True)
class CheckRun:
    """One separate run, with the parameters of a sweep point."""

    input: SweepInput
    config: RunConfig
    result: RunResult


@dataclasses.dataclass(frozen=True)
class ReportData:
    """Everything the report shows."""

    repeat: int
    strategies: SweepResult
    pools: SweepResult
    checks: tuple[CheckRun, ...]

    @property
    def inputs(self) -> tuple[SweepInput, ...]:
        return self.strategies.plan.inputs


class ReportCancelled(Exception):
    """The report's experiments were cancelled: nothing is written."""


class ReportFailed(Exception):
    """A run failed or a signature was wrong; the message is one line naming it."""


def report_inputs(path: str | None = None, folder=None) -> list[SweepInput]:
    """The given file, else the generated 1 MiB and 5 MiB inputs."""
    from engine.sweep import file_input

    if path is not None:
        return [file_input(path)]
    return [generated_input(size, folder) for size in REPORT_SIZES]


def plans(inputs: Sequence[SweepInput], repeat: int) -> tuple[SweepPlan, SweepPlan]:
    """(every available strategy on each input, pooled over the pool sizes on each input)."""
    strategies = plan_sweep(inputs, {"strategy": list(USER_STRATEGIES)}, RunConfig(), repeat)
    pools = plan_sweep(
        inputs, {"pool_size": list(POOL_SIZES)}, RunConfig(strategy=Strategy.POOLED), repeat
    )
    return strategies, pools


def check_configs(inputs: Sequence[SweepInput]) -> list[tuple[SweepInput, RunConfig]]:
    """The separate runs: single, baseline, pooled (default pool), pooled at every pool size."""
    out = []
    for source in inputs:
        for strategy in CHECKED:
            out.append((source, RunConfig(strategy=strategy)))
        for pool in POOL_SIZES:
            config = RunConfig(strategy=Strategy.POOLED, pool_size=pool)
            if config != RunConfig(strategy=Strategy.POOLED):
                out.append((source, config))
    return out


class ReportRunner:
    """Runs the report's experiments; :meth:`cancel` from any thread stops them."""

    def __init__(self, inputs: Sequence[SweepInput], repeat: int = DEFAULT_REPEAT):
        self.inputs = list(inputs)
        self.repeat = repeat
        self.strategy_plan, self.pool_plan = plans(self.inputs, repeat)
        self.checks = check_configs(self.inputs)
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        self._current: Sweep | Run | None = None

    @property
    def total_runs(self) -> int:
        return self.strategy_plan.total_runs + self.pool_plan.total_runs + len(self.checks)

    def cancel(self) -> None:
        self._cancelled.set()
        with self._lock:
            if self._current is not None:
                self._current.cancel()

    def _sweep(self, plan: SweepPlan, done: int, progress: Progress | None) -> SweepResult:
        total = self.total_runs

        def on_row(n: int, _total: int, row) -> None:
            if progress is not None:
                progress(done + n, total, f"{row.point.input.label}: {row.point.label}")

        sweep = Sweep(plan, on_row, should_cancel=self._cancelled.is_set)
        with self._lock:
            self._current = sweep
        try:
            result = sweep.execute()
        finally:
            with self._lock:
                self._current = None
        if result.cancelled or self._cancelled.is_set():
            raise ReportCancelled("the report was cancelled: nothing was written")
        if result.error:
            raise ReportFailed(result.error)
        return result

    def execute(self, progress: Progress | None = None) -> ReportData:
        """Runs everything (minutes for the 5 MiB baseline); raises ReportCancelled or
        ReportFailed."""
        strategies = self._sweep(self.strategy_plan, 0, progress)
        done = self.strategy_plan.total_runs
        pools = self._sweep(self.pool_plan, done, progress)
        done += self.pool_plan.total_runs
        checks = []
        for source, config in self.checks:
            if self._cancelled.is_set():
                raise ReportCancelled("the report was cancelled: nothing was written")
            try:
                with Run(source.path, config) as run:
                    with self._lock:
                        if self._cancelled.is_set():
                            raise RunCancelled("the report was cancelled", -1)
                        self._current = run
                    try:
                        result = run.execute()
                    finally:
                        with self._lock:
                            self._current = None
            except RunCancelled:
                raise ReportCancelled("the report was cancelled: nothing was written") from None
            except EngineError as exc:
                raise ReportFailed(f"{source.label}, {config.strategy.label}: {exc}") from None
            checks.append(CheckRun(source, config, result))
            done += 1
            if progress is not None:
                progress(done, self.total_runs, f"{source.label}: check {config.strategy.label}")
        return ReportData(self.repeat, strategies, pools, tuple(checks))


__all__ = [
    "CHECKED",
    "DEFAULT_REPEAT",
    "POOL_SIZES",
    "REPORT_SIZES",
    "CheckRun",
    "ReportCancelled",
    "ReportData",
    "ReportFailed",
    "ReportRunner",
    "check_configs",
    "plans",
    "report_inputs",
]
