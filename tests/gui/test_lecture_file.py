"""Lecture files: every run of the window saved once and replayed with every run;
crafted lecture files give one exact SessionError line; older single-run files
still open."""

import io
import json
import zipfile

import numpy as np
import pytest

from engine import Strategy
from gui import session_read
from gui.lecture_file import MAX_RUNS, lecture_bytes, load_lecture, save_lecture
from gui.results_table import KEYS
from gui.session_file import SessionError, load_session, save_session, session_bytes
from tests.conftest import EXPECTED
from tests.gui.helpers import open_vector, record

RAMP = EXPECTED["ramp.bin"]


def _run(window, qtbot, strategy, speed=1.0):
    window.set_speed(speed)
    with qtbot.waitSignal(window.sig_idle, timeout=60000):
        assert window.start_run(strategy), window.error_text()
    window.set_speed(1.0)


def test_a_lecture_file_saves_every_run_and_replays_them_all(window, qtbot, tmp_path):
    open_vector(window, "ramp.bin")
    _run(window, qtbot, Strategy.BASELINE, 0.1)  # slowed: slot states, timeline, breakdown
    _run(window, qtbot, Strategy.BASELINE)
    _run(window, qtbot, Strategy.POOLED)
    live = [{k: r.text(k) for k in KEYS if k != "run"} for r in window.results.rows]
    live_sessions = [window.recording.sessions[r.run_id] for r in window.results.rows]
    path = window.files.save_lecture_to(tmp_path / "lecture.session")
    assert path == tmp_path / "lecture.session"
    assert window.statusBar().currentMessage() == f"Lecture of 3 runs saved to {path}"
    assert (path.stat().st_mode & 0o777) == 0o644
    assert window.files.save_lecture_to(tmp_path / "missing" / "x.session") is None
    assert window.error_text().startswith(
        "could not save the lecture: [Errno 2] No such file or directory: "
    )
    assert sorted(p.name for p in tmp_path.glob("*.session*")) == ["lecture.session"]

    lecture = load_lecture(path)
    assert lecture.is_lecture and lecture.numbers == [1, 2, 3]
    assert [s.config["strategy"] for s in lecture.runs] == ["baseline", "baseline", "pooled"]
    assert lecture.runs[0].meta["slow_motion"] == [[0.0, 0.1]]
    for loaded, kept in zip(lecture.runs, live_sessions, strict=True):
        assert np.array_equal(loaded.frame_times, kept.frame_times)
        assert np.array_equal(np.asarray(loaded.heap_states), np.asarray(kept.heap_states))
        assert np.array_equal(loaded.slot_states, kept.slot_states)
        assert np.array_equal(loaded.slot_times_ns, kept.slot_times_ns)
        assert loaded.timeline is not None and loaded.timeline.rows > 0
    with pytest.raises(SessionError) as single:
        load_session(path)
    assert str(single.value) == (
        "cannot open session 'lecture.session': it is a lecture file of several runs "
        "(open it with File > Open session…, which replays every run)"
    )

    window.clear_runs()
    assert window.files.save_lecture_to(tmp_path / "empty.session") is None
    assert window.error_text() == (
        "no finished run to save yet: run baseline (B) or pooled (P) first"
    )
    assert window.open_session(path), window.error_text()
    assert not window.busy  # ramp.bin's reference is known already
    replay = window.replay
    rows = window.results.rows
    assert [r.run_id for r in rows] == [4, 5, 6]
    assert [{k: r.text(k) for k in KEYS if k != "run"} for r in rows][0]["speedup"] == (
        "slowed 1/10: no speedup"
    )
    replayed = [{k: r.text(k) for k in KEYS if k not in ("run", "speedup")} for r in rows]
    assert replayed == [{k: v for k, v in row.items() if k != "speedup"} for row in live]
    assert rows[2].text("speedup") == f"{rows[2].speedup:.2f}× vs #5"
    assert [t.label for t in window.charts.traces] == [
        "#4 baseline — slowed 1/10 (20 threads, 1 lock) — replay",
        "#5 baseline (20 threads, 1 lock) — replay",
        "#6 pooled (20 threads, 32 KiB pools) — replay",
    ]
    assert [row.result.time_breakdown_s is not None for row in rows] == [True] * 3
    # The bar lists the runs; the last plays; picking another moves the heap map and lanes.
    box = replay.bar.run_box
    assert box.isVisibleTo(window)
    assert [box.itemText(i) for i in range(box.count())] == [
        "#4 baseline (slowed 1/10)",
        "#5 baseline",
        "#6 pooled",
    ]
    assert replay.index == 2 and window.heap_map.strategy is Strategy.POOLED
    box.setCurrentIndex(0)
    assert replay.index == 0 and replay.session.config["strategy"] == "baseline"
    assert window.heap_map.title_text == "Replay #4 baseline: ramp.bin"
    assert window.timeline.timeline.rows == replay.session.timeline.rows
    replay.show_at(0.0)  # the other runs' curves stay whole
    assert len(window.charts.views["locks"].curve_data(6)[0]) == len(
        lecture.runs[2].series["time_s"]
    )

    # Saved again from the replay: the same runs, numbered as they are now.
    again = window.files.save_lecture_to(tmp_path / "again.session")
    assert load_lecture(again).numbers == [4, 5, 6]
    assert [s.result["signature"] for s in load_lecture(again).runs] == [RAMP["signature"]] * 3


def test_older_single_run_files_open_as_one_run(tmp_path):
    session, _result, _final = record("ramp.bin", Strategy.BASELINE)
    path = save_session(session, tmp_path / "v1.session")
    assert json.loads(zipfile.ZipFile(path).read("meta.json"))["version"] == 1
    lecture = load_lecture(path)
    assert not lecture.is_lecture and lecture.numbers == [0]
    assert lecture.runs[0].result["signature"] == RAMP["signature"]


# ------------------------------------------------------------------ crafted


@pytest.fixture(scope="module")
def runs():
    baseline, _r, _f = record("ramp.bin", Strategy.BASELINE)
    pooled, _r, _f = record("ramp.bin", Strategy.POOLED)
    return [(1, baseline), (2, pooled)]


def _zip(members: list[tuple[str, bytes, int]]) -> bytes:
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as zf:
        for name, data, method in members:
            zf.writestr(name, data, compress_type=method)
    return raw.getvalue()


def _meta(n: int, **changes) -> bytes:
    meta = {
        "format": "heapscope-session",
        "version": 4,
        "kind": "lecture",
        "runs": [{"member": f"run-{i:02d}.session", "run": i} for i in range(1, n + 1)],
    }
    meta.update(changes)
    return json.dumps(meta).encode()


STORED, DEFLATED = zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED


def _cases(runs):
    one, two = session_bytes(runs[0][1]), session_bytes(runs[1][1])
    with zipfile.ZipFile(io.BytesIO(two)) as inner:
        members = [(i.filename, inner.read(i.filename), DEFLATED) for i in inner.infolist()]
    meta = json.loads(members[0][1])
    meta["result"]["signature"] = -1
    bad_run = _zip([("meta.json", json.dumps(meta).encode(), DEFLATED), *members[1:]])
    nested = lecture_bytes(runs)
    # The lecture's own end record damaged: the last one left is a stored run's.
    broken_end = bytearray(nested)
    broken_end[-22:-18] = b"PK\x05\x07"
    return [
        (
            "end-record-damaged",
            bytes(broken_end),
            "not a heapscope session, or the file is damaged at its end",
        ),
        (
            "bytes-after-the-end",
            nested + b"trailing",
            "not a heapscope session, or the file is damaged at its end",
        ),
        (
            "unexpected-member",
            _zip(
                [
                    ("meta.json", _meta(1), DEFLATED),
                    ("run-01.session", one, STORED),
                    ("notes.txt", b"x", STORED),
                ]
            ),  # fmt: skip
            "not a heapscope lecture file (unexpected member 'notes.txt')",
        ),
        (
            "no-meta",
            _zip([("run-01.session", one, STORED)]),
            "not a heapscope lecture file (it has no meta.json)",
        ),
        (
            "version-3",
            _zip([("meta.json", _meta(1, version=3), DEFLATED), ("run-01.session", one, STORED)]),
            "its meta.json is invalid: a lecture file needs format version 4 (the file says "
            "version 3)",
        ),
        (
            "version-6",
            _zip([("meta.json", _meta(1, version=6), DEFLATED), ("run-01.session", one, STORED)]),
            "it was written by a newer heapscope (format version 6; this one reads up to 5)",
        ),
        (
            "kind",
            _zip(
                [("meta.json", _meta(1, kind="sweep"), DEFLATED), ("run-01.session", one, STORED)]
            ),
            "its meta.json is invalid: kind is 'sweep' (a lecture file says 'lecture')",
        ),
        (
            "runs-not-list",
            _zip([("meta.json", _meta(1, runs={}), DEFLATED), ("run-01.session", one, STORED)]),
            f"its meta.json is invalid: runs must be a list of 1 to {MAX_RUNS} runs",
        ),
        (
            "runs-count",
            _zip([("meta.json", _meta(2), DEFLATED), ("run-01.session", one, STORED)]),
            "its meta.json is invalid: runs lists 2 runs, the file holds run-01.session "
            "(expected run-01.session, run-02.session)",
        ),
        (
            "gap",
            _zip(
                [
                    ("meta.json", _meta(2), DEFLATED),
                    ("run-01.session", one, STORED),
                    ("run-03.session", two, STORED),
                ]
            ),  # fmt: skip
            "its meta.json is invalid: runs lists 2 runs, the file holds run-01.session, "
            "run-03.session (expected run-01.session, run-02.session)",
        ),
        (
            "run-number-twice",
            _zip(
                [
                    (
                        "meta.json",
                        _meta(
                            2,
                            runs=[
                                {"member": "run-01.session", "run": 7},
                                {"member": "run-02.session", "run": 7},
                            ],
                        ),
                        DEFLATED,
                    ),
                    ("run-01.session", one, STORED),
                    ("run-02.session", two, STORED),
                ]
            ),  # fmt: skip
            "its meta.json is invalid: runs[1].run is 7, the number of an earlier run too",
        ),
        (
            "run-number-zero",
            _zip(
                [
                    (
                        "meta.json",
                        _meta(1, runs=[{"member": "run-01.session", "run": 0}]),
                        DEFLATED,
                    ),
                    ("run-01.session", one, STORED),
                ]
            ),  # fmt: skip
            "its meta.json is invalid: runs[0].run is 0 (valid 1-1000000)",
        ),
        (
            "run-unknown-field",
            _zip(
                [
                    (
                        "meta.json",
                        _meta(1, runs=[{"member": "run-01.session", "run": 1, "x": 1}]),
                        DEFLATED,
                    ),
                    ("run-01.session", one, STORED),
                ]
            ),  # fmt: skip
            "its meta.json is invalid: runs[0] has an unknown field 'x'",
        ),
        (
            "deflated-run",
            _zip([("meta.json", _meta(1), DEFLATED), ("run-01.session", one, DEFLATED)]),
            "its run-01.session uses compression method 8 (a lecture file stores its runs as "
            "they are)",
        ),
        (
            "bad-run",
            _zip(
                [
                    ("meta.json", _meta(2), DEFLATED),
                    ("run-01.session", one, STORED),
                    ("run-02.session", bytes(bad_run), STORED),
                ]
            ),  # fmt: skip
            "run 2 of 2 (run-02.session): its meta.json is invalid: result.signature is -1 "
            "(valid 0-2147483646)",
        ),
        (
            "run-not-a-session",
            _zip([("meta.json", _meta(1), DEFLATED), ("run-01.session", b"hello", STORED)]),
            "run 1 of 1 (run-01.session): not a heapscope session, or the file is truncated",
        ),
        (
            "nested",
            _zip([("meta.json", _meta(1), DEFLATED), ("run-01.session", nested, STORED)]),
            "run 1 of 1 (run-01.session): a lecture file inside a lecture file",
        ),
        (
            "too-many-runs",
            _zip(
                [("meta.json", _meta(MAX_RUNS + 1), DEFLATED)]
                + [(f"run-{i:02d}.session", one, STORED) for i in range(1, MAX_RUNS + 2)]
            ),  # fmt: skip
            f"not a heapscope session file (its directory lists {MAX_RUNS + 2} entries in ",
        ),
    ]


def test_crafted_lecture_files_give_one_exact_error_line(runs, tmp_path):
    prefix = "cannot open session 'x.session': "
    for name, data, reason in _cases(runs):
        path = tmp_path / "x.session"
        path.write_bytes(data)
        with pytest.raises(SessionError) as info:
            load_lecture(path)
            pytest.fail(f"{name}: no error")
        message = str(info.value)
        assert type(info.value) is SessionError and "\n" not in message, name
        if reason.endswith(" in "):
            assert message.startswith(prefix + reason), (name, message)
        else:
            assert message == prefix + reason, (name, message)


def test_a_lecture_files_runs_share_one_memory_budget(runs, tmp_path, monkeypatch):
    path = save_lecture(runs, tmp_path / "x.session")
    sizes = []
    with zipfile.ZipFile(path) as outer:
        for name in ("run-01.session", "run-02.session"):
            with zipfile.ZipFile(io.BytesIO(outer.read(name))) as inner:
                sizes.append(sum(i.file_size for i in inner.infolist()))
    assert [s.result["signature"] for s in load_lecture(path).runs] == [RAMP["signature"]] * 2
    # A budget that holds the first run but not the second.
    budget = sizes[0] + sizes[1] - 1
    monkeypatch.setattr(session_read, "LECTURE_BUDGET", budget)
    with pytest.raises(SessionError) as info:
        load_lecture(path)
    assert str(info.value) == (
        f"cannot open session 'x.session': run 2 of 2 (run-02.session): it would take "
        f"{sizes[1]} bytes of memory to load, more than the {sizes[1] - 1} bytes left of the "
        f"lecture file's {budget}"
    )


def test_saving_more_runs_than_a_lecture_file_holds_is_refused(runs, tmp_path):
    with pytest.raises(ValueError) as info:
        save_lecture([(i, runs[0][1]) for i in range(1, MAX_RUNS + 2)], tmp_path / "x.session")
    assert str(info.value) == f"{MAX_RUNS + 1} runs are on screen; a lecture file holds at most 24"
    assert list(tmp_path.iterdir()) == []


def test_fuzzed_lecture_files_load_or_give_one_session_error_line(runs, tmp_path):
    """200 damaged copies (bytes flipped, cut short, sizes rewritten) of a real
    lecture file: each loads, or raises one SessionError line and nothing else."""
    import random

    good = lecture_bytes(runs)
    rng = random.Random(10)
    outcomes = {"loaded": 0, "refused": 0}
    path = tmp_path / "fuzz.session"
    for case in range(200):
        data = bytearray(good)
        kind = case % 4
        if kind == 0:  # flip a few bytes anywhere
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        elif kind == 1:  # cut short
            del data[rng.randrange(1, len(data)) :]
        elif kind == 2:  # a 32-bit field of a zip header rewritten
            at = rng.randrange(len(data) - 4)
            data[at : at + 4] = rng.choice([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00"])
        else:  # a run's bytes shuffled around inside it
            at = rng.randrange(len(data) - 64)
            chunk = data[at : at + 64]
            data[at : at + 64] = bytes(reversed(chunk))
        path.write_bytes(bytes(data))
        try:
            lecture = load_lecture(path)
        except SessionError as exc:
            message = str(exc)
            assert type(exc) is SessionError
            assert message.startswith("cannot open session 'fuzz.session': ")
            assert "\n" not in message and len(message) < 600, message
            outcomes["refused"] += 1
        else:
            assert len(lecture.runs) == 2
            outcomes["loaded"] += 1
    assert outcomes["refused"] >= 150, outcomes


SLOW_CASES = [
    ("list-absent-in-v3", 3, [[0, 0.1]], "meta has an unknown field 'slow_motion'"),
    ("not-a-list", 4, {"0": 0.1}, "slow_motion must be a list of 1 to 64 [seconds, speed] pairs"),
    ("empty", 4, [], "slow_motion must be a list of 1 to 64 [seconds, speed] pairs"),
    (
        "65-changes",
        4,
        [[i, 0.1] for i in range(65)],
        "slow_motion must be a list of 1 to 64 [seconds, speed] pairs",
    ),
    ("a-triple", 4, [[0, 0.1, 3]], "slow_motion must be a list of 1 to 64 [seconds, speed] pairs"),
    ("text", 4, [["a", 0.1]], "slow_motion[0] holds 'a', not a number"),
    ("bool", 4, [[0, True]], "slow_motion[0] holds True, not a number"),
    ("late-start", 4, [[1, 0.1]], "slow_motion must start at 0 s (got 1)"),
    (
        "backwards",
        4,
        [[0, 0.1], [2, 0.01], [1, 1]],
        "slow_motion[2] is at 1 s, before the change before it",
    ),
    ("too-late", 4, [[0, 0.1], [1e8, 1]], "slow_motion[1] is at 100000000.0 s (valid 0-1e+07)"),
    ("speed-0", 4, [[0, 0]], "slow_motion[0] has the speed 0 (valid 0.001-1)"),
    ("speed-2", 4, [[0, 2]], "slow_motion[0] has the speed 2 (valid 0.001-1)"),
    ("speed-tiny", 4, [[0, 0.0005]], "slow_motion[0] has the speed 0.0005 (valid 0.001-1)"),
]


@pytest.mark.parametrize("case", SLOW_CASES, ids=[c[0] for c in SLOW_CASES])
def test_crafted_slow_motion_gives_one_exact_error_line(runs, tmp_path, case):
    from tests.gui.helpers import rewrite_session

    name, version, value, reason = case
    good = save_session(runs[0][1], tmp_path / "good.session")

    def edit(meta):
        meta["version"] = version
        meta["slow_motion"] = value

    path = rewrite_session(good, tmp_path / "x.session", edit)
    for load in (load_session, load_lecture):
        with pytest.raises(SessionError) as info:
            load(path)
        assert (
            str(info.value)
            == f"cannot open session 'x.session': its meta.json is invalid: {reason}"
        )


def test_a_valid_slow_motion_loads_as_its_speed_log(runs, tmp_path):
    from gui.slow_motion import SpeedLog
    from tests.gui.helpers import rewrite_session

    good = save_session(runs[0][1], tmp_path / "good.session")

    def edit(meta):
        meta["version"] = 4
        meta["slow_motion"] = [[0, 0.01], [0.5, 1]]

    session = load_session(rewrite_session(good, tmp_path / "x.session", edit))
    assert session.speeds == SpeedLog(((0.0, 0.01), (0.5, 1.0)))
    assert session.speeds.label == "partly slowed, 1× to 1/100"
