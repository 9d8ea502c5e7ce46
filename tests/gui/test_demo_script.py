"""The guided demo's stepper walks every stage, with real run numbers."""

import pytest

import engine
from engine import LockKind, RunConfig, Strategy
from gui.demo import STEPS, DemoStepper, Stage, sessions_for_steps
from gui.session_file import SessionRecorder, file_identity, save_session
from tests.conftest import EXPECTED, VECTORS


def test_steps_cover_the_lecture():
    assert [(s.strategy, s.pool_size // 1024, s.lock) for s in STEPS] == [
        (Strategy.SINGLE, 32, LockKind.MUTEX),
        (Strategy.BASELINE, 32, LockKind.MUTEX),
        (Strategy.BASELINE, 32, LockKind.SPIN),  # issue 11: "spinlock or mutex?"
        (Strategy.POOLED, 32, LockKind.MUTEX),
        (Strategy.POOLED, 2, LockKind.MUTEX),
        (Strategy.POOLED, 8, LockKind.MUTEX),
        (Strategy.POOLED, 32, LockKind.MUTEX),
    ]
    assert STEPS[2].prompt.endswith("Spinlock or mutex: which one is faster?")


def test_stepping_through_every_stage_with_live_runs():
    stepper = DemoStepper()
    seen = []
    while True:
        assert stepper.stage is Stage.PREDICT
        assert stepper.text() == stepper.step.prompt
        step = stepper.next()
        assert stepper.stage is Stage.RUNNING and step is stepper.step
        result = engine.run(
            VECTORS / "random_64k.bin",
            RunConfig(strategy=step.strategy, pool_size=step.pool_size, lock=step.lock),
        )
        stepper.run_finished(result.as_dict())
        seen.append((step.title, result.lock_acquisitions))
        assert stepper.stage is Stage.REVEAL
        assert f"{result.lock_acquisitions:,} lock acquisitions" in stepper.text()
        if stepper.at_end:
            break
        assert stepper.next() is None
    assert len(seen) == len(STEPS)
    assert seen[0] == ("One thread", 0)
    baseline_locks = EXPECTED["random_64k.bin"]["lock_acquisitions_baseline"]
    assert seen[1][1] == seen[2][1] == baseline_locks  # the lock kind changes no count
    assert seen[3][1] == seen[6][1] == 256
    assert seen[4][1] > seen[5][1] > seen[6][1]
    assert stepper.reveal_text(0).endswith(
        f"the reference signature is {EXPECTED['random_64k.bin']['signature']}."
    )
    # The walk and the pile-up come from the run's own counters.
    spin = stepper.results[2]
    walk = spin["free_list_visits_free"] / spin["lock_acquisitions_free"]
    mid = spin["mid_block_at_acquisitions"] / spin["lock_acquisitions"]
    shown = (f"{x:,.0f}" if x >= 10 else f"{x:.1f}" for x in (mid, walk))
    assert stepper.reveal_text(2).endswith(
        "spinners keep their core, {} threads were mid-block per lock, "
        "each free walked {} chunks.".format(*shown)
    )
    # Each reveal compares its run with the baseline's, in the words ratio_words
    # gives the two measured times (which of them wins is up to the machine).
    from gui.demo import ratio_words

    baseline_wall = stepper.results[1]["wall_s"]
    for i in (2, 3):
        words = ratio_words(baseline_wall / stepper.results[i]["wall_s"], "the baseline")
        assert f"({words})" in stepper.reveal_text(i)


def test_back_returns_to_the_question():
    stepper = DemoStepper()
    stepper.next()
    stepper.run_finished({"lock_acquisitions": 0, "wall_s": 0.01, "signature": 1})
    stepper.next()
    assert (stepper.index, stepper.stage) == (1, Stage.PREDICT)
    stepper.back()
    assert (stepper.index, stepper.stage) == (0, Stage.PREDICT)
    stepper.back()
    assert (stepper.index, stepper.stage) == (0, Stage.PREDICT)


def test_recorded_sessions_are_matched_to_steps(tmp_path):
    cases = [
        (Strategy.BASELINE, 32768, LockKind.MUTEX),
        (Strategy.BASELINE, 32768, LockKind.SPIN),
        (Strategy.POOLED, 2048, LockKind.MUTEX),
    ]
    for strategy, pool, lock in cases:
        handle = engine.Run(
            VECTORS / "ramp.bin", RunConfig(strategy=strategy, pool_size=pool, lock=lock)
        )
        result = handle.execute()
        session = SessionRecorder(handle.heap_cells).finish(
            input_identity=file_identity(VECTORS / "ramp.bin"),
            config={
                "strategy": strategy.label,
                "heap_size": result.config.heap_size,
                "pool_size": pool,
                "batch_size": result.config.batch_size,
                "block_size": result.config.block_size,
                **({"lock": lock.label} if lock is not LockKind.MUTEX else {}),
            },
            result=result.as_dict(),
            series=result.series,
            slot_count=handle.slot_count,
            pool_reserved=handle.pool_reserved,
        )
        if lock is not LockKind.MUTEX:
            session.meta["version"] = 5
        save_session(session, tmp_path / f"{strategy.label}-{lock.label}-{pool}.session")
        handle.close()
    (tmp_path / "junk.session").write_text("not a session")
    matches = sessions_for_steps(tmp_path)
    assert {i: p.name for i, p in matches.items()} == {
        1: "baseline-mutex-32768.session",
        2: "baseline-spin-32768.session",
        4: "pooled-mutex-2048.session",
    }


def _fake(stepper, walls, locks, slowed=None):
    """Walks every step with the given wall times and lock counts."""
    slowed = slowed or {}
    for i in range(len(STEPS)):
        assert stepper.next() is stepper.steps[i]
        stepper.run_finished(
            {"wall_s": walls[i], "lock_acquisitions": locks[i], "signature": 7}, slowed.get(i, "")
        )
        stepper.next()


@pytest.mark.parametrize(
    ("ratio", "words"),
    [
        (1.2, "1.2x faster than the baseline"),
        (1.049, "as fast as the baseline (within 5%)"),
        (1.0, "as fast as the baseline (within 5%)"),
        (1 / 1.04, "as fast as the baseline (within 5%)"),
        (1 / 1.06, "1.1x slower than the baseline"),
        (0.25, "4.0x slower than the baseline"),
    ],
)
def test_ratios_within_five_percent_read_as_fast_as(ratio, words):
    from gui.demo import ratio_words

    assert ratio_words(ratio, "the baseline") == words


def test_the_demo_ends_on_a_summary_and_then_stays_there():
    from gui.demo import OVER, TAKEAWAY

    stepper = DemoStepper()
    _fake(stepper, [0.1, 0.4, 0.08, 0.05, 0.2, 0.1, 0.05], [0, 4526, 4526, 20, 3000, 500, 20])
    assert stepper.over and stepper.stage is Stage.SUMMARY
    assert stepper.text() == "\n".join(
        [
            "1. One thread: 100.0 ms, 0 locks",
            "2. Twenty threads, one heap lock: 400.0 ms, 4,526 locks (4.0x slower than one thread)",
            "3. Spinlock or mutex?: 80.0 ms, 4,526 locks (5.0x faster than the baseline)",
            "4. A pool per thread: 50.0 ms, 20 locks (8.0x faster than the baseline)",
            "5. Pools of 2 KiB: 200.0 ms, 3,000 locks (2.0x faster than the baseline)",
            "6. Pools of 8 KiB: 100.0 ms, 500 locks (4.0x faster than the baseline)",
            "7. Pools of 32 KiB: 50.0 ms, 20 locks (8.0x faster than the baseline)",
            f"Remember: {TAKEAWAY}",
        ]
    )
    assert TAKEAWAY == (
        "One lock shared by twenty threads makes them take turns; a pool per thread takes the "
        "lock only when its pool runs out, so the threads really run in parallel."
    )
    assert OVER.startswith("The demo is over.")
    # N says nothing more; back returns to the last reveal.
    assert stepper.next() is None and stepper.over
    stepper.back()
    assert (stepper.index, stepper.stage) == (len(STEPS) - 1, Stage.REVEAL)
    assert (
        stepper.text()
        == "20 lock acquisitions in 50.0 ms: only the coordinator's buffer and record, 4 per block."
    )


def test_a_slowed_demo_run_gets_no_speedup_in_reveals_or_summary():
    stepper = DemoStepper()
    _fake(
        stepper,
        [0.1, 40.0, 0.08, 0.05, 0.2, 0.1, 0.05],
        [0, 4526, 4526, 20, 3000, 500, 20],
        slowed={1: "slowed 1/100"},
    )
    lines = stepper.summary_lines()
    assert lines[1] == (
        "2. Twenty threads, one heap lock: 40.000 s, 4,526 locks "
        "(slowed 1/100: no speedup against one thread)"
    )
    assert lines[3] == (
        "4. A pool per thread: 50.0 ms, 20 locks (slowed 1/100: no speedup against the baseline)"
    )
    from gui.demo import duration_text

    assert [duration_text(t) for t in (12.5, 1.0, 0.0123, 0.00042)] == [
        "12.500 s",
        "1.000 s",
        "12.3 ms",
        "0.42 ms",
    ]
    assert stepper.reveal_text(1) == (
        "4,526 lock acquisitions in 40.000 s (slowed 1/100: no speedup against the single "
        "thread): the threads took turns, and each free walked 0 chunks while holding the lock."
    )
