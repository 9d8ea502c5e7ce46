"""Session files: round trips of real runs, and clear messages for bad files."""

import json
import zipfile

import numpy as np
import pytest

import engine
from engine import Strategy
from gui import file_modes, session_file
from gui.session_file import SessionError, SessionRecorder, load_session, save_session
from tests.conftest import EXPECTED
from tests.gui.helpers import record


def test_round_trip_keeps_results_series_and_final_heap_map(tmp_path):
    session, result, final_states = record()
    path = save_session(session, tmp_path / "pooled.session")
    loaded = load_session(path)
    assert loaded.result == json.loads(json.dumps(result.as_dict()))
    assert loaded.result["signature"] == EXPECTED["random_64k.bin"]["signature"]
    assert loaded.result["lock_acquisitions"] == 256
    assert loaded.input_name == "random_64k.bin"
    assert loaded.meta["input"]["sha256"] == EXPECTED["random_64k.bin"]["sha256"]
    for key, values in result.series.items():
        np.testing.assert_array_equal(loaded.series[key], values)
    assert (loaded.heap_states[loaded.frame_at(loaded.duration_s)] == final_states).all()
    assert loaded.frame_at(0.0) == 0
    assert not list(tmp_path.glob(".*tmp"))  # the atomic write left no temp file


def test_several_sessions_round_trip_independently(tmp_path):
    paths = {}
    for strategy in (Strategy.SINGLE, Strategy.BASELINE, Strategy.POOLED):
        session, _, _ = record("words_20k.txt", strategy)
        paths[strategy] = save_session(session, tmp_path / f"{strategy.label}.session")
    for strategy, path in paths.items():
        loaded = load_session(path)
        assert loaded.config["strategy"] == strategy.label
        assert loaded.result["signature"] == EXPECTED["words_20k.txt"]["signature"]
    assert load_session(paths[Strategy.BASELINE]).result["lock_acquisitions"] == 1800


def test_recorder_thins_frames_but_keeps_first_and_newest():
    recorder = SessionRecorder(4)
    for i in range(session_file.MAX_FRAMES * 3):
        recorder.add_frame(i * 0.05, np.full(4, i % 256, np.uint8), np.zeros(4, np.uint8))
    session = recorder.finish(
        input_identity={},
        config={},
        result={"wall_s": 1},
        series={"time_s": np.zeros(0)},
        slot_count=1,
        pool_reserved=0,
    )
    assert len(session.frame_times) <= session_file.MAX_FRAMES + 1
    assert session.frame_times[0] == 0.0
    assert session.frame_times[-1] == pytest.approx((session_file.MAX_FRAMES * 3 - 1) * 0.05)
    assert np.all(np.diff(session.frame_times) > 0)


@pytest.fixture
def good_file(tmp_path):
    session, _, _ = record("ramp.bin")
    return save_session(session, tmp_path / "good.session")


def rewrite(path, out, change):
    """Copies a session zip, passing (member, bytes) through change()."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for member in src.namelist():
            data = change(member, src.read(member))
            if data is not None:
                dst.writestr(member, data)
    return out


def test_truncated_file(good_file, tmp_path):
    bad = tmp_path / "cut.session"
    bad.write_bytes(good_file.read_bytes()[: good_file.stat().st_size // 2])
    with pytest.raises(SessionError) as info:
        load_session(bad)
    assert str(info.value) == (
        "cannot open session 'cut.session': not a heapscope session, or the file is truncated"
    )


def test_corrupt_member(good_file, tmp_path):
    data = bytearray(good_file.read_bytes())
    with zipfile.ZipFile(good_file) as zf:
        info = zf.getinfo("heap_states.npy")
    middle = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    data[middle] ^= 0xFF
    bad = tmp_path / "flipped.session"
    bad.write_bytes(bytes(data))
    with pytest.raises(SessionError) as err:
        load_session(bad)
    assert str(err.value).startswith("cannot open session 'flipped.session': ")
    assert "damaged" in str(err.value)


def test_foreign_files(tmp_path):
    text = tmp_path / "notes.session"
    text.write_text("hello")
    other_zip = tmp_path / "other.session"
    with zipfile.ZipFile(other_zip, "w") as zf:
        zf.writestr("meta.json", json.dumps({"format": "something-else", "version": 1}))
    for path, message in [
        (text, "not a heapscope session, or the file is truncated"),
        (other_zip, "not a heapscope session file"),
        (tmp_path / "missing.session", "no such file"),
        (tmp_path, "it is a directory, not a regular file"),
    ]:
        with pytest.raises(SessionError) as info:
            load_session(path)
        assert str(info.value) == f"cannot open session '{path.name}': {message}"


def test_newer_version(good_file, tmp_path):
    def bump(member, data):
        if member == "meta.json":
            meta = json.loads(data)
            meta["version"] = session_file.FORMAT_VERSION + 1
            return json.dumps(meta)
        return data

    bad = rewrite(good_file, tmp_path / "future.session", bump)
    with pytest.raises(SessionError) as info:
        load_session(bad)
    assert str(info.value) == (
        "cannot open session 'future.session': it was written by a newer "
        "heapscope (format version 6; this one reads up to 5)"
    )


def test_pickled_arrays_are_refused_not_executed(good_file, tmp_path):
    import io
    import pickle

    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('executed!')",))

    def poison(member, data):
        if member == "series.npy":
            buf = io.BytesIO()
            np.save(buf, np.array([Boom()], dtype=object), allow_pickle=True)
            return buf.getvalue()
        return data

    assert pickle  # the payload above would run exec() if unpickled
    bad = rewrite(good_file, tmp_path / "evil.session", poison)
    with pytest.raises(SessionError) as info:
        load_session(bad)
    assert str(info.value) == (
        "cannot open session 'evil.session': its series.npy is damaged "
        "(not a plain float64 array, or pickled objects)"
    )


def test_missing_member(good_file, tmp_path):
    bad = rewrite(
        good_file, tmp_path / "partial.session", lambda m, d: None if m == "heap_owners.npy" else d
    )
    with pytest.raises(SessionError) as info:
        load_session(bad)
    assert str(info.value) == (
        "cannot open session 'partial.session': it is incomplete (missing heap_owners.npy)"
    )


def test_recorder_thinning_for_time_resolution_is_not_reported():
    recorder = SessionRecorder(4)
    for i in range(session_file.MAX_FRAMES * 3):
        recorder.add_frame(i * 0.05, np.zeros(4, np.uint8), np.zeros(4, np.uint8))
    assert not recorder.thinned and recorder.thinning_note == ""


def _big_frames(cells, count, seed=0):
    rng = np.random.default_rng(seed)
    for i in range(count):
        states = rng.integers(0, 6, cells, dtype=np.uint8)
        owners = rng.integers(0, 20, cells, dtype=np.uint8)
        yield i * 0.01, states, owners


def test_recorder_is_capped_in_bytes_and_says_it_thinned(tmp_path):
    cells, cap = 1 << 20, 4 << 20  # a 16 MiB heap, a 4 MiB budget
    recorder = SessionRecorder(cells, max_bytes=cap)
    assert (recorder.cell_group, recorder.stored_cells) == (32, 32768)  # cap / 128 cells a frame
    assert recorder.thinned
    for t, states, owners in _big_frames(cells, 300):
        recorder.add_frame(t, states, owners)
        assert recorder.nbytes <= cap
    assert (recorder.frame_count, recorder.frames_seen) == (35, 300)
    assert recorder.nbytes == 35 * (2 * 32768 + 8)
    assert recorder.thinning_note == (
        "kept 1 heap-map value per 32 cells and 35 of 300 frames to stay within 4 MiB"
    )
    session = recorder.finish(
        input_identity={"name": "big.bin"},
        config={},
        result={},
        series={"time_s": np.zeros(0)},
        slot_count=20,
        pool_reserved=0,
    )
    assert session.meta["version"] == 2
    assert session.meta["recording"] == {
        "thinned": True,
        "thinning_note": recorder.thinning_note,
        "frames_seen": 300,
        "max_bytes": cap,
        "cell_group": 32,
    }
    assert session.frame_times[0] == 0.0 and session.frame_times[-1] == pytest.approx(2.99)
    assert session.heap_states.shape == (35, cells)  # frames are whole again when read
    assert session.heap_states[-1].shape == (cells,)


def test_downsampling_keeps_each_groups_highest_state_and_its_owner():
    recorder = SessionRecorder(10, max_bytes=4096)  # 4096 / 128 = 32 cells: no grouping
    assert recorder.cell_group == 1 and not recorder.thinned
    recorder = SessionRecorder(100, max_bytes=4096)
    assert (recorder.cell_group, recorder.stored_cells) == (4, 25)
    states = np.zeros(100, np.uint8)
    owners = np.full(100, 255, np.uint8)
    states[4:8], owners[4:8] = [1, 2, 2, 0], [7, 7, 7, 255]  # header + global block of slot 7
    states[97], owners[97] = 5, 254  # a sliver in the last group
    recorder.add_frame(0.0, states, owners)
    frame_states, frame_owners = recorder._states[0], recorder._owners[0]
    assert frame_states[:3].tolist() == [0, 2, 0] and frame_owners[:3].tolist() == [255, 7, 255]
    assert (frame_states[24], frame_owners[24]) == (5, 254)


def test_downsampled_session_round_trips(tmp_path):
    session, result, _ = record("ramp.bin")
    cells = session.meta["heap_cells"]
    recorder = SessionRecorder(cells, max_bytes=128 * 1024)  # 1024 cells a frame: groups of 128
    frames = list(_big_frames(cells, 3, seed=5))
    for t, states, owners in frames:
        recorder.add_frame(t, states, owners)
    rec = recorder.finish(
        input_identity=session.meta["input"],
        config=session.config,
        result=session.result,
        series=session.series,
        slot_count=session.meta["slot_count"],
        pool_reserved=session.meta["pool_reserved"],
    )
    path = save_session(rec, tmp_path / "small.session")
    loaded = load_session(path)
    assert loaded.meta == json.loads(json.dumps(rec.meta))
    assert loaded.meta["recording"]["cell_group"] == 128 and loaded.thinned
    assert loaded.thinning_note == "kept 1 heap-map value per 128 cells to stay within 0.125 MiB"
    for i, (_t, states, owners) in enumerate(frames):
        expected = states.reshape(-1, 128).max(axis=1).repeat(128)
        np.testing.assert_array_equal(loaded.heap_states[i], expected)
        keys = (states.astype(np.uint16) << 8 | owners).reshape(-1, 128).max(axis=1)
        np.testing.assert_array_equal(loaded.heap_owners[i], (keys & 0xFF).repeat(128))
        np.testing.assert_array_equal(loaded.heap_states[i], rec.heap_states[i])
        np.testing.assert_array_equal(loaded.heap_owners[i], rec.heap_owners[i])
    np.testing.assert_array_equal(
        loaded.series["lock_acquisitions"], result.series["lock_acquisitions"]
    )


def test_recorder_keeps_frame_times_in_order():
    recorder = SessionRecorder(4)
    for t in (0.0, 0.5, 0.49, 0.7):  # a final wall_s a hair before the last timer frame
        recorder.add_frame(t, np.zeros(4, np.uint8), np.zeros(4, np.uint8))
    session = recorder.finish(
        input_identity={},
        config={},
        result={},
        series={"time_s": []},
        slot_count=1,
        pool_reserved=0,
    )
    assert session.frame_times.tolist() == [0.0, 0.5, 0.5, 0.7]


def _umask_now() -> int:
    return file_modes.current_umask()


def test_session_files_are_shareable_0666_minus_umask(good_file, tmp_path, monkeypatch):
    import stat

    assert stat.S_IMODE(good_file.stat().st_mode) == 0o666 & ~_umask_now()
    with open("/proc/self/status") as f:
        line = next(x for x in f if x.startswith("Umask:"))
    assert _umask_now() == int(line.split()[1], 8)
    monkeypatch.setattr(file_modes, "current_umask", lambda: 0o027)
    session, _, _ = record("ramp.bin")
    path = save_session(session, tmp_path / "group.session")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_saving_to_impossible_paths_raises_oserror_in_one_line(tmp_path):
    session, _, _ = record("ramp.bin")
    for path, reason in [
        (tmp_path / "a\0b.session", "the path contains a NUL byte"),
        ("", "no file name given"),
        (tmp_path / "missing-dir" / "x.session", "No such file or directory"),
    ]:
        with pytest.raises(OSError) as info:
            save_session(session, path)
        assert reason in str(info.value) and "\n" not in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_64_mib_heap_run_records_within_the_default_256_mib():
    cells = (64 << 20) // engine.CELL_BYTES
    recorder = SessionRecorder(cells)  # the default budget, as the GUI uses it
    assert recorder.max_bytes == session_file.RECORDING_BYTES == 256 << 20
    states = np.full(cells, engine.CellState.GLOBAL, np.uint8)
    owners = np.zeros(cells, np.uint8)
    for i in range(100):
        recorder.add_frame(i * 0.04, states, owners)
        assert recorder.nbytes <= 256 << 20
    assert recorder.cell_group == 2 and recorder.frame_count <= 63
    assert recorder.nbytes == recorder.frame_count * (2 * (cells // 2) + 8)
    assert recorder.thinned and recorder.thinning_note == (
        f"kept 1 heap-map value per 2 cells and {recorder.frame_count} of 100 frames to stay "
        "within 256 MiB"
    )
