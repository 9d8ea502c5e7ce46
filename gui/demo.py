"""The guided demo: its script and the stepper that walks it (no Qt here).

Each step first asks the audience to predict ("predict, then run"), then runs
(live, or by replaying a recorded session), then reveals what happened with
the run's real numbers.
"""

from __future__ import annotations

import dataclasses
import enum
import pathlib

from engine import Strategy
from gui.inputs import not_regular_reason
from gui.session_file import SUFFIX, SessionError, load_session


@dataclasses.dataclass(frozen=True)
class DemoStep:
    title: str
    strategy: Strategy
    pool_size: int
    prompt: str  # asked before the run
    reveal: str  # str.format()ed with the run's numbers (see reveal_text)


KIB = 1024
STEPS: tuple[DemoStep, ...] = (
    DemoStep(
        "One thread",
        Strategy.SINGLE,
        32 * KIB,
        "One thread hashes every block alone. How many times will it take a lock?",
        "{locks} lock acquisitions in {wall}: the reference signature is {signature}.",
    ),
    DemoStep(
        "Twenty threads, one heap lock",
        Strategy.BASELINE,
        32 * KIB,
        "Twenty threads now share the heap behind one lock. Faster or slower than one thread?",
        "{locks} lock acquisitions in {wall} ({speed_vs_single} the single thread): "
        "the threads took turns.",
    ),
    DemoStep(
        "A pool per thread",
        Strategy.POOLED,
        32 * KIB,
        "Each thread gets its own 32 KiB pool and takes the lock only when it is full. "
        "How many lock acquisitions now?",
        "{locks} lock acquisitions in {wall} ({speed_vs_baseline} the baseline).",
    ),
    DemoStep(
        "Pools of 2 KiB",
        Strategy.POOLED,
        2 * KIB,
        "A block's tree needs about 18 KiB. With 2 KiB pools, how many locks?",
        "{locks} lock acquisitions in {wall}: most allocations overflow to the shared heap.",
    ),
    DemoStep(
        "Pools of 8 KiB",
        Strategy.POOLED,
        8 * KIB,
        "And with 8 KiB pools?",
        "{locks} lock acquisitions in {wall}: better, but still queueing.",
    ),
    DemoStep(
        "Pools of 32 KiB",
        Strategy.POOLED,
        32 * KIB,
        "Back to 32 KiB: every tree fits. What is left to lock?",
        "{locks} lock acquisitions in {wall}: only the coordinator's buffer and record, "
        "4 per block.",
    ),
)


class Stage(enum.Enum):
    PREDICT = "predict"
    RUNNING = "running"
    REVEAL = "reveal"


def _ratio(a: float, b: float) -> str:
    if a <= 0 or b <= 0:
        return "n/a"
    r = a / b
    return f"{r:,.1f}x faster than" if r >= 1 else f"{1 / r:,.1f}x slower than"


class DemoStepper:
    """Where the demo is: a step index and a stage; next()/back() move it.

    ``next()`` from PREDICT asks for the run (returns the step to run);
    the GUI calls :meth:`run_finished` with the result numbers, which moves to
    REVEAL; ``next()`` from REVEAL goes to the next step's PREDICT.
    """

    def __init__(self, steps: tuple[DemoStep, ...] = STEPS):
        self.steps = steps
        self.index = 0
        self.stage = Stage.PREDICT
        self.results: dict[int, dict] = {}

    @property
    def step(self) -> DemoStep:
        return self.steps[self.index]

    @property
    def at_end(self) -> bool:
        return self.index == len(self.steps) - 1 and self.stage is Stage.REVEAL

    def next(self) -> DemoStep | None:
        """Advances; returns the step whose run should start now, else None."""
        if self.stage is Stage.PREDICT:
            self.stage = Stage.RUNNING
            return self.step
        if self.stage is Stage.REVEAL and self.index < len(self.steps) - 1:
            self.index += 1
            self.stage = Stage.PREDICT
        return None

    def back(self) -> None:
        """Back to the previous step's question (or this one's, mid-step)."""
        if self.stage is Stage.PREDICT and self.index > 0:
            self.index -= 1
        self.stage = Stage.PREDICT

    def run_finished(self, result: dict) -> None:
        """``result``: a RunResult.as_dict() (or a session's result)."""
        self.results[self.index] = result
        self.stage = Stage.REVEAL

    def run_failed(self) -> None:
        self.stage = Stage.PREDICT

    def text(self) -> str:
        """The sentence to show now."""
        if self.stage is Stage.PREDICT:
            return self.step.prompt
        if self.stage is Stage.RUNNING:
            return f"Running: {self.step.title}"
        return self.reveal_text(self.index)

    def reveal_text(self, index: int) -> str:
        result = self.results[index]
        single = next(
            (r for i, r in self.results.items() if self.steps[i].strategy is Strategy.SINGLE), None
        )
        baseline = next(
            (r for i, r in self.results.items() if self.steps[i].strategy is Strategy.BASELINE),
            None,
        )
        wall = result["wall_s"]
        return self.steps[index].reveal.format(
            locks=f"{result['lock_acquisitions']:,}",
            wall=f"{wall:.3f} s",
            signature=result["signature"],
            speed_vs_single=_ratio(single["wall_s"], wall) if single else "n/a",
            speed_vs_baseline=_ratio(baseline["wall_s"], wall) if baseline else "n/a",
        )


def sessions_for_steps(
    folder: str | pathlib.Path, steps: tuple[DemoStep, ...] = STEPS
) -> dict[int, pathlib.Path]:
    """Matches recorded sessions in ``folder`` to demo steps by strategy and pool size.

    Files that are not regular files or not readable sessions are skipped; steps without a
    session are missing from the result (the GUI runs those live).
    """
    found: dict[tuple[str, int], pathlib.Path] = {}
    for path in sorted(pathlib.Path(folder).glob(f"*{SUFFIX}")):
        if not_regular_reason(path):
            continue  # a FIFO named x.session would block the loader's open() for ever
        try:
            config = load_session(path).config
        except SessionError:
            continue
        strategy = config.get("strategy")
        if not isinstance(strategy, str):
            continue  # load_session checked it; this only tells the type checker
        pool = int(config.get("pool_size", 0)) if strategy == "pooled" else 0
        found.setdefault((strategy, pool), path)
    matches: dict[int, pathlib.Path] = {}
    for i, step in enumerate(steps):
        pool = step.pool_size if step.strategy is Strategy.POOLED else 0
        if (step.strategy.label, pool) in found:
            matches[i] = found[(step.strategy.label, pool)]
    return matches
