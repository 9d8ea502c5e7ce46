"""Issue 7 regressions at the Python/C boundary and for hostile inputs.

Whatever could once crash the interpreter runs in a child process, so a
regression fails one test with the child's exit status instead of taking the
whole suite down.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import engine
from engine import InputError, InvalidFree, RunCancelled, RunConfig, RunPhase, Strategy
from engine.errors import InputChanged
from tests.conftest import EXPECTED, VECTORS
from tests.engine.helpers import start, start_and_pause_after, wait_until

ROOT = VECTORS.parents[1]


def run_child(code: str, timeout_s: float = 60) -> subprocess.CompletedProcess:
    """Runs Python code in a fresh interpreter at the repository root."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )


# -- memory safety ------------------------------------------------------------


def test_a_second_execute_is_refused_and_close_never_frees_a_running_engine():
    out = run_child(f"""
        import threading, engine
        handle = engine.Run({str(VECTORS / "random_64k.bin")!r},
                            engine.RunConfig(strategy=engine.Strategy.BASELINE))
        handle.set_speed(0.01)
        outcome = {{}}
        def target():
            try:
                outcome["result"] = handle.execute()
            except engine.EngineError as exc:
                outcome["error"] = exc
        thread = threading.Thread(target=target)
        thread.start()
        while handle.phase is engine.RunPhase.READY:
            pass
        for _ in range(3):
            try:
                handle.execute()
            except engine.EngineError as exc:
                print("second:", exc)
        handle.close()          # the first execute still runs: must not free it
        thread.join(30)
        print("first:", type(outcome["error"]).__name__, thread.is_alive())
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["second: this run has already been started"] * 3 + [
        "first: RunCancelled False"
    ]


def test_zero_copy_views_keep_the_engine_memory_alive_after_the_run_goes():
    out = run_child(f"""
        import gc, engine
        handle = engine.Run({str(VECTORS / "ramp.bin")!r},
                            engine.RunConfig(strategy=engine.Strategy.POOLED))
        handle.execute()
        states, owners, slots = handle.heap_states, handle.heap_owners, handle.slot_states
        expected = (int(states.sum()), int(owners.sum()))
        handle.close()
        del handle
        gc.collect()
        junk = [bytearray(1 << 20) for _ in range(64)]  # reuse freed memory, if any
        print(int(states.sum()) == expected[0], int(owners.sum()) == expected[1], slots.shape)
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True True (20,)"


def test_views_are_read_only_and_closed_runs_say_so():
    handle = engine.Run(VECTORS / "ramp.bin")
    view = handle.heap_states
    with pytest.raises(ValueError):
        view[0] = 1
    handle.close()
    assert handle.closed and handle.heap_states is None
    with pytest.raises(engine.EngineError, match="^this run has been closed$"):
        handle.snapshot()
    handle.close()  # twice is fine


def test_one_arena_shared_by_two_threads_stays_sound():
    arena = engine.Arena(1 << 20)
    errors = []

    def churn(seed):
        rng = np.random.default_rng(seed)
        try:
            for _ in range(300):
                held = [arena.umalloc(int(n)) for n in rng.integers(1, 600, 20)]
                for offset in held:
                    arena.ufree(offset)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=churn, args=(seed,)) for seed in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    counters = arena.counters()
    assert counters["global_allocs"] == counters["global_frees"] == 2 * 300 * 20
    # everything came back; slivers are the only leftovers the exercise allows
    assert counters["arena_bytes_in_use"] == 0


def test_heap_map_copies_match_the_views_of_a_finished_run():
    handle = engine.Run(VECTORS / "random_64k.bin", RunConfig(strategy=Strategy.POOLED))
    handle.execute()
    states, owners = handle.heap_map_copy()
    assert (states == handle.heap_states).all() and (owners == handle.heap_owners).all()
    assert states.flags.writeable and states.base is None
    snap = handle.snapshot()
    assert (snap.heap_states == states).all()
    assert set(np.unique(states)) <= {int(c) for c in engine.CellState}
    no_map = engine.Run(VECTORS / "ramp.bin", RunConfig(telemetry=False))
    assert no_map.heap_map_copy() is None and no_map.snapshot().heap_states is None


@pytest.mark.parametrize("speed", [1.0, 0.05])
def test_a_paused_baseline_map_shows_exactly_the_chunks_in_use(speed):
    """At full speed the locked paths mark a chunk's cells outside the lock
    (allocated after the unlock, free before the lock); in slow motion inside
    it.  Either way, once every thread is parked the map agrees with the
    allocator's own counts, cell for cell, mid-run."""
    path = ROOT / "resources" / "samples" / "random_1MiB.bin"
    handle = engine.Run(path, RunConfig(strategy=Strategy.BASELINE))
    handle.set_speed(speed)
    thread, outcome = start_and_pause_after(handle, blocks=25)
    try:
        counters = handle.counters()
        states, owners = handle.heap_map_copy()
        assert 0 < counters["blocks_done"] < 1024  # mid-run
        in_use = np.isin(states, [engine.CellState.HEADER, engine.CellState.GLOBAL])
        assert counters["arena_bytes_in_use"] > 0
        assert in_use.sum() * engine.CELL_BYTES == counters["arena_bytes_in_use"]
        assert (states == engine.CellState.HEADER).sum() == (
            counters["global_allocs"] - counters["global_frees"]
        )
        slivers = states == engine.CellState.SLIVER
        assert slivers.sum() * engine.CELL_BYTES == counters["sliver_bytes"]
        assert np.all(owners[states == engine.CellState.FREE] == engine.OWNER_NONE)
        assert np.all(owners[in_use] != engine.OWNER_NONE)
    finally:
        handle.resume()
        handle.cancel()
        thread.join(30)
    assert isinstance(outcome.get("error"), RunCancelled)


def test_in_slow_motion_a_pool_fills_on_the_map_before_its_block_ends():
    """Slowed down, a pool's use reaches the map and the counters 512 bytes at
    a time, so the audience sees the tree grow; at full speed only at each
    block's end (a block takes microseconds there)."""
    config = RunConfig(strategy=Strategy.POOLED, batch_size=1)
    handle = engine.Run(VECTORS / "random_64k.bin", config)
    handle.set_speed(0.001)
    thread, outcome = start(handle)
    try:
        wait_until(
            lambda: (handle.heap_map_copy()[0] == engine.CellState.POOL_USED).sum() >= 64,
            "a kilobyte of the first pool on the map",
        )
        counters = handle.counters()
        assert counters["blocks_done"] == 0
        assert counters["pool_allocs"] > 0
    finally:
        handle.cancel()
        thread.join(30)
    assert isinstance(outcome.get("error"), RunCancelled)


@pytest.mark.parametrize("workers", [0, 1], ids=["thread per block", "long-lived worker"])
def test_slowed_down_mid_run_the_next_block_fills_its_pool_in_strides(workers):
    """Pooled looks at the speed when a block starts, not on every allocation.
    The run starts at full speed, paused before its first block; slowed down
    and resumed, its first block (begun at full speed) runs through, and the
    next one fills its pool on the map a stride at a time.  At full speed a
    pool is published only whole, at its block's end (a tree of random data
    takes 18,416 bytes), so seeing 1-12 KiB of it means slow motion took hold."""
    config = RunConfig(strategy=Strategy.POOLED, batch_size=1, workers=workers)
    handle = engine.Run(VECTORS / "random_64k.bin", config)
    handle.pause()  # before the start: nothing is hashed until the speed is changed
    thread, outcome = start(handle)
    try:
        wait_until(
            lambda: handle.phase is RunPhase.RUNNING and handle.paused,
            "started and parked before the first block",
        )
        assert handle.counters()["blocks_done"] == 0
        handle.set_speed(0.001)
        handle.resume()

        def pool_bytes_shown():
            states = handle.heap_map_copy()[0]
            return int((states == engine.CellState.POOL_USED).sum()) * engine.CELL_BYTES

        wait_until(lambda: 1024 <= pool_bytes_shown() <= 12288, "a pool filling in strides")
        assert handle.counters()["blocks_done"] == 1  # the block begun at full speed
    finally:
        handle.cancel()
        thread.join(30)
    assert isinstance(outcome.get("error"), RunCancelled)


@pytest.mark.parametrize("strategy", [Strategy.BASELINE, Strategy.POOLED, Strategy.SINGLE])
def test_once_paused_is_reported_nothing_moves(strategy):
    handle = engine.Run(VECTORS / "random_64k.bin", RunConfig(strategy=strategy, batch_size=5))
    handle.set_speed(0.005)
    thread, outcome = start(handle)
    for _ in range(3):  # pause and resume a few times in one run
        wait_until(
            lambda: handle.counters()["global_allocs"] + handle.counters()["pool_allocs"] > 0,
            "the run started",
        )
        handle.pause()
        wait_until(lambda: handle.paused, "paused reported")
        looks = [handle.snapshot() for _ in range(200)]  # many looks, no sleeping
        assert all(look.counters == looks[0].counters for look in looks)
        assert all((look.heap_states == looks[0].heap_states).all() for look in looks)
        handle.resume()
        assert not handle.paused
    handle.set_speed(1.0)
    thread.join(60)
    assert outcome["result"].signature == EXPECTED["random_64k.bin"]["signature"]


# -- inputs that are not regular files, or that change -------------------------


@pytest.mark.parametrize(
    "path, kind",
    [
        ("/dev/zero", "a character device"),
        ("/dev/urandom", "a character device"),
        ("/dev/null", "a character device"),
    ],
)
def test_devices_are_refused(path, kind):
    with pytest.raises(InputError) as info:
        engine.Run(path)
    assert str(info.value) == f"cannot read '{path}': it is {kind}, not a regular file"


def test_a_socket_is_refused(tmp_path):
    path = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        with pytest.raises(InputError) as info:
            engine.Run(path)
    finally:
        server.close()
    assert str(info.value) == f"cannot read '{path}': it is a socket, not a regular file"


def test_a_proc_file_that_claims_to_be_empty_is_refused():
    with pytest.raises(InputError) as info:
        engine.run("/proc/self/status")
    assert str(info.value) == (
        "cannot read '/proc/self/status': it reports a size of 0 bytes "
        "but has data (a /proc or /sys file?); copy it to a regular "
        "file first"
    )


def _paused_before_reading(path, strategy):
    handle = engine.Run(path, RunConfig(strategy=strategy))
    handle.pause()  # the coordinator parks before it reads the first block
    thread, outcome = start(handle)
    wait_until(
        lambda: handle.paused and handle.phase is engine.RunPhase.RUNNING,
        "parked before the first read",
    )
    return handle, thread, outcome


@pytest.mark.parametrize("strategy", [Strategy.SINGLE, Strategy.BASELINE, Strategy.POOLED])
@pytest.mark.parametrize(
    "change, how",
    [
        (lambda p: os.truncate(p, 10_000), "shrank"),
        (lambda p: p.open("ab").write(b"more"), "grew"),
        (lambda p: os.utime(p, ns=(1, 1)), "was modified"),
    ],
)
def test_an_input_that_changes_during_the_run_fails_it(tmp_path, strategy, change, how):
    path = tmp_path / "moving.bin"
    path.write_bytes((VECTORS / "random_64k.bin").read_bytes())
    handle, thread, outcome = _paused_before_reading(path, strategy)
    change(path)
    handle.resume()
    thread.join(60)
    error = outcome.get("error")
    assert isinstance(error, InputChanged), outcome
    assert str(error) == (
        f"'{path}' {how} while being read (it had 65536 bytes when the run "
        f"started): no signature, run it again on a file that stays put"
    )
    with pytest.raises(engine.EngineError, match="not finished"):
        handle.result()


# -- paths and numbers ---------------------------------------------------------


@pytest.mark.parametrize(
    "path, message",
    [
        ("a\0b", "the input path 'a?b' contains a NUL byte, which no file name can hold"),
        ("", "no input file given (the path is empty)"),
        (42, "the input path must be a string or path-like object (got int)"),
        ("no\nsuch\tfile", "cannot open 'no\\x0asuch\\x09file': No such file or directory"),
        ("x" * 5000, "cannot open '" + "x" * 41 + "..." + "x" * 83 + "': File name too long"),
    ],
)
def test_bad_paths_get_one_line_that_names_the_problem(path, message):
    with pytest.raises(InputError) as info:
        engine.Run(path)
    assert str(info.value) == message
    assert "\n" not in str(info.value)


def test_numpy_integers_are_whole_numbers():
    config = RunConfig(
        heap_size=np.int64(1 << 21),
        pool_size=np.uint32(8192),
        batch_size=np.int16(4),
        block_size=np.int64(1024),
    )
    assert (config.heap_size, config.batch_size) == (1 << 21, 4)
    assert type(config.heap_size) is int
    result = engine.run(VECTORS / "ramp.bin", config.replace(strategy=Strategy.POOLED))
    assert result.signature == EXPECTED["ramp.bin"]["signature"]
    arena = engine.Arena(np.int64(4096))
    offset = arena.umalloc(np.int32(48))
    arena.ufree(np.int64(offset))
    with pytest.raises(InputError, match=r"^heap size must be a whole number \(got 2.0\)$"):
        RunConfig(heap_size=np.float64(2.0))
    with pytest.raises(InputError, match=r"^allocation size must be a whole number"):
        arena.umalloc(1.5)


@pytest.mark.parametrize(
    "size, message",
    [
        (2**64, "cannot allocate 18446744073709551616 bytes: more than any arena holds"),
        (-1, "cannot allocate a negative size (-1)"),
    ],
)
def test_allocation_sizes_out_of_any_range(size, message):
    with pytest.raises(InputError) as info:
        engine.Arena(4096).umalloc(size)
    assert str(info.value) == message


def test_misaligned_free_names_the_offset_not_an_address():
    arena = engine.Arena(4096)
    offset = arena.umalloc(64)
    with pytest.raises(InvalidFree) as info:
        arena.ufree(offset + 8)
    assert str(info.value) == (
        f"invalid free at heap offset {offset + 8}: not a multiple of 16, "
        f"so not the start of a chunk's payload"
    )


@pytest.mark.parametrize("speed", [float("nan"), float("inf"), "fast", None])
def test_bad_speeds_are_refused(speed):
    handle = engine.Run(VECTORS / "ramp.bin")
    with pytest.raises(InputError, match=r"^speed must be a number between 0.001 and 1"):
        handle.set_speed(speed)
    handle.close()


# -- the command line under signals --------------------------------------------


@pytest.fixture(scope="module")
def slow_input(tmp_path_factory):
    """Big enough that a baseline run lasts seconds: signals land mid-run."""
    path = tmp_path_factory.mktemp("inputs") / "random_2m.bin"
    path.write_bytes(np.random.default_rng(3).integers(0, 256, 2 << 20, dtype=np.uint8).tobytes())
    return path


def _signal_mid_run(path, signum):
    child = subprocess.Popen(
        [sys.executable, "-m", "engine", str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Mid-run = the coordinator has started worker threads (no sleeping: poll /proc).
        wait_until(
            lambda: child.poll() is not None or len(os.listdir(f"/proc/{child.pid}/task")) > 4,
            "engine threads started",
        )
        child.send_signal(signum)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    return child.returncode, out, err


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_cancels_the_run_and_exits_with_one_line(slow_input, signum, code):
    for _ in range(3):
        returncode, out, err = _signal_mid_run(slow_input, signum)
        name = signal.Signals(signum).name
        assert (returncode, out, err) == (code, "", f"interrupted ({name}): run cancelled\n")


def test_the_cli_refuses_a_fifo_without_blocking(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    out = subprocess.run(
        [sys.executable, "-m", "engine", str(fifo)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (out.returncode, out.stdout) == (2, "")
    assert (
        out.stderr
        == f"error: cannot read '{fifo}': it is a FIFO (named pipe), not a regular file\n"
    )


def test_cancelled_runs_in_a_row_leave_nothing_running():
    for _ in range(20):
        handle = engine.Run(VECTORS / "random_64k.bin", RunConfig(strategy=Strategy.BASELINE))
        handle.set_speed(0.01)
        thread, outcome = start(handle)
        wait_until(lambda h=handle: h.counters()["lock_acquisitions"] > 0, "started")
        handle.close()  # cancels; the memory goes when execute returns
        thread.join(30)
        assert not thread.is_alive()
        assert isinstance(outcome["error"], RunCancelled)
    assert threading.active_count() < 5


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "9" * 400,
            f"'{'9' * 20}...{'9' * 10}' is not a size: use bytes or a K/M suffix, "
            "e.g. 2M, 32K, 1024",
        ),
        (
            "\u0661\u0662\u0663",
            "'\u0661\u0662\u0663' is not a size: use bytes or a K/M suffix, e.g. 2M, 32K, 1024",
        ),
        ("1.5", "'1.5' is not a whole number of bytes"),
        ("inf", "'inf' is not a size: use bytes or a K/M suffix, e.g. 2M, 32K, 1024"),
    ],
)
def test_sizes_people_type_badly(text, message):
    with pytest.raises(ValueError) as info:
        engine.parse_size(text)
    assert str(info.value) == message


def test_sizes_are_exact_however_large():
    assert engine.parse_size("0.5M") == 524288
    assert engine.parse_size("99999999999999999999999M") == 99999999999999999999999 * 2**20


@pytest.mark.parametrize("strategy", [Strategy.SINGLE, Strategy.BASELINE, Strategy.POOLED])
def test_every_series_starts_before_the_work_and_ends_with_the_final_state(strategy):
    """Even a run shorter than the sampler's first wake-up has both rows."""
    for _ in range(20):
        result = engine.run(VECTORS / "ramp.bin", strategy=strategy)
        series = result.series
        assert len(series["time_s"]) >= 2
        assert series["blocks_done"][0] == 0 and series["lock_acquisitions"][0] == 0
        assert series["blocks_done"][-1] == result.blocks == 5
        assert series["lock_acquisitions"][-1] == result.lock_acquisitions
