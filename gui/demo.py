"""The guided demo: its script and the stepper that walks it (no Qt here).

Each step first asks the audience to predict ("predict, then run"), then runs
(live, or by replaying a recorded session), then reveals what happened with
the run's real numbers.  After the last step, a summary: every run with its
time, locks and speedup, and the one sentence to remember.  A run slowed down
for the audience gets no speedup (its time is mostly the engine's sleeps).
"""

from __future__ import annotations

import dataclasses
import enum
import pathlib

from engine import LockKind, Strategy
from gui.inputs import not_regular_reason
from gui.session_file import SUFFIX, SessionError, load_session


@dataclasses.dataclass(frozen=True)
class DemoStep:
    title: str
    strategy: Strategy
    pool_size: int
    prompt: str  # asked before the run
    reveal: str  # str.format()ed with the run's numbers (see reveal_text)
    lock: LockKind = LockKind.MUTEX  # the lock kind of this step's run


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
        "{locks} lock acquisitions in {wall} ({speed_vs_single}): the threads took turns, "
        "and each free walked {free_walk} chunks while holding the lock.",
    ),
    DemoStep(
        "Spinlock or mutex?",
        Strategy.BASELINE,
        32 * KIB,
        "Same lock count, but a waiting thread now spins on its core instead of sleeping. "
        "Spinlock or mutex: which one is faster?",
        "{locks} lock acquisitions in {wall} ({speed_vs_baseline}): spinners keep their "
        "core, {mid_block} threads were mid-block per lock, each free walked {free_walk} chunks.",
        lock=LockKind.SPIN,
    ),
    DemoStep(
        "A pool per thread",
        Strategy.POOLED,
        32 * KIB,
        "Each thread gets its own 32 KiB pool and takes the lock only when it is full. "
        "How many lock acquisitions now?",
        "{locks} lock acquisitions in {wall} ({speed_vs_baseline}).",
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


#: The one sentence to remember (the summary slide's last line).
TAKEAWAY = (
    "One lock shared by twenty threads makes them take turns; a pool per thread "
    "takes the lock only when its pool runs out, so the threads really run in parallel."
)
#: What the banner says once the summary is shown (N does nothing more).
OVER = "The demo is over. Ctrl+D closes it; Ctrl+D again starts it afresh on clean charts."


class Stage(enum.Enum):
    PREDICT = "predict"
    RUNNING = "running"
    REVEAL = "reveal"
    SUMMARY = "summary"


def duration_text(seconds: float) -> str:
    """'1.234 s', '12.3 ms' or '0.42 ms': a fast run's time never reads '0.000 s'."""
    if seconds >= 1.0:
        return f"{seconds:.3f} s"
    ms = seconds * 1000.0
    return f"{ms:.1f} ms" if ms >= 1.0 else f"{ms:.2f} ms"


def _ratio(result: dict, other: dict | None, name: str) -> str:
    """'3.2x faster than the baseline', or why there is no ratio."""
    slowed = result.get("slowed") or (other or {}).get("slowed")
    if other is None:
        return f"no {name} run to compare with"
    if slowed:
        return f"{slowed}: no speedup against {name}"
    a, b = other["wall_s"], result["wall_s"]
    if a <= 0 or b <= 0:
        return f"no speedup against {name}"
    return ratio_words(a / b, name)


def ratio_words(r: float, name: str) -> str:
    """``r`` = the other run's time / this run's, in words; within 5% either
    way it is "as fast as" ("1.0x slower than the baseline" read as a verdict
    on a difference that runs on this machine do not even repeat)."""
    if 1 / 1.05 < r < 1.05:
        return f"as fast as {name} (within 5%)"
    return f"{r:,.1f}x faster than {name}" if r >= 1 else f"{1 / r:,.1f}x slower than {name}"


def _average(result: dict, total: str, count: str) -> str:
    """``total / count`` from a run's counters, as the captions print it ('1,040', '2.3')."""
    n = result.get(count) or 0
    if not n:
        return "0"
    mean = result.get(total, 0) / n
    return f"{mean:,.0f}" if mean >= 10 else f"{mean:.1f}"


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
        """The last step's reveal: N shows the summary next."""
        return self.index == len(self.steps) - 1 and self.stage is Stage.REVEAL

    @property
    def over(self) -> bool:
        """The summary is shown: N does nothing more."""
        return self.stage is Stage.SUMMARY

    def next(self) -> DemoStep | None:
        """Advances; returns the step whose run should start now, else None."""
        if self.stage is Stage.PREDICT:
            self.stage = Stage.RUNNING
            return self.step
        if self.at_end:
            self.stage = Stage.SUMMARY
        elif self.stage is Stage.REVEAL:
            self.index += 1
            self.stage = Stage.PREDICT
        return None

    def back(self) -> None:
        """Back to the previous step's question (or this one's, mid-step); from the
        summary, back to the last step's reveal."""
        if self.stage is Stage.SUMMARY:
            self.stage = Stage.REVEAL
            return
        if self.stage is Stage.PREDICT and self.index > 0:
            self.index -= 1
        self.stage = Stage.PREDICT

    def run_finished(self, result: dict, slowed: str = "") -> None:
        """``result``: a RunResult.as_dict() (or a session's result); ``slowed``:
        the run's slow motion ("slowed 1/100"), "" at full speed."""
        self.results[self.index] = {**result, "slowed": slowed}
        self.stage = Stage.REVEAL

    def run_failed(self) -> None:
        self.stage = Stage.PREDICT

    def text(self) -> str:
        """The sentence to show now."""
        if self.stage is Stage.PREDICT:
            return self.step.prompt
        if self.stage is Stage.RUNNING:
            return f"Running: {self.step.title}"
        if self.stage is Stage.SUMMARY:
            return self.summary_text()
        return self.reveal_text(self.index)

    def _first(self, strategy: Strategy) -> dict | None:
        """The first run of ``strategy`` with a mutex: what later steps compare with."""
        return next(
            (
                r
                for i, r in sorted(self.results.items())
                if self.steps[i].strategy is strategy and self.steps[i].lock is LockKind.MUTEX
            ),
            None,
        )

    def summary_rows(self) -> list[tuple[str, str, str, str]]:
        """Per step: its number and title, its time, its locks and its comparison
        ("4.0x faster than the baseline", why there is none, or "")."""
        single, baseline = self._first(Strategy.SINGLE), self._first(Strategy.BASELINE)
        rows = []
        for i, step in enumerate(self.steps):
            name = f"{i + 1}. {step.title}"
            result = self.results.get(i)
            if result is None:
                rows.append((name, "not run", "", ""))
                continue
            if step.strategy is Strategy.BASELINE and step.lock is LockKind.MUTEX:
                compared = _ratio(result, single, "one thread")
            elif step.strategy is not Strategy.SINGLE:
                compared = _ratio(result, baseline, "the baseline")
            else:
                compared = result.get("slowed") or ""
            rows.append(
                (
                    name,
                    duration_text(result["wall_s"]),
                    f"{result['lock_acquisitions']:,} locks",
                    compared,
                )
            )
        return rows

    def summary_lines(self) -> list[str]:
        """One line per step run: its time, locks and speedup (the summary slide)."""
        lines = []
        for name, wall, locks, compared in self.summary_rows():
            if not locks:
                lines.append(f"{name}: {wall}")
                continue
            lines.append(f"{name}: {wall}, {locks}" + (f" ({compared})" if compared else ""))
        return lines

    def summary_text(self) -> str:
        """The summary slide: the runs, then the sentence to remember."""
        return "\n".join([*self.summary_lines(), f"Remember: {TAKEAWAY}"])

    def reveal_text(self, index: int) -> str:
        result = self.results[index]
        single, baseline = self._first(Strategy.SINGLE), self._first(Strategy.BASELINE)
        wall = result["wall_s"]
        text = self.steps[index].reveal.format(
            locks=f"{result['lock_acquisitions']:,}",
            free_walk=_average(result, "free_list_visits_free", "lock_acquisitions_free"),
            mid_block=_average(result, "mid_block_at_acquisitions", "lock_acquisitions"),
            wall=duration_text(wall),
            signature=result["signature"],
            speed_vs_single=_ratio(result, single, "the single thread"),
            speed_vs_baseline=_ratio(result, baseline, "the baseline"),
        )
        slowed = result.get("slowed")
        return f"{text} ({slowed})" if slowed and "no speedup" not in text else text


def sessions_for_steps(
    folder: str | pathlib.Path, steps: tuple[DemoStep, ...] = STEPS
) -> dict[int, pathlib.Path]:
    """Matches recorded sessions in ``folder`` to demo steps by strategy, pool size and lock.

    Files that are not regular files or not readable sessions are skipped; steps without a
    session are missing from the result (the GUI runs those live).
    """
    found: dict[tuple[str, int, str], pathlib.Path] = {}
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
        lock = str(config.get("lock", "mutex"))
        found.setdefault((strategy, pool, lock), path)
    matches: dict[int, pathlib.Path] = {}
    for i, step in enumerate(steps):
        pool = step.pool_size if step.strategy is Strategy.POOLED else 0
        key = (step.strategy.label, pool, step.lock.label)
        if key in found:
            matches[i] = found[key]
    return matches
