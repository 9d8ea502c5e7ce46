"""Session files: round trips of real runs, and clear messages for bad files."""
import json
import zipfile

import numpy as np
import pytest

import engine
from engine import RunConfig, Strategy
from gui import session_file
from gui.session_file import SessionError, SessionRecorder, load_session, save_session
from tests.conftest import EXPECTED, VECTORS


def record(name="random_64k.bin", strategy=Strategy.POOLED):
    """A real run, with a heap-map frame every 50 sampler rows (like a draw timer)."""
    path = VECTORS / name
    handle = engine.Run(path, RunConfig(strategy=strategy))
    recorder = SessionRecorder(handle.heap_cells)
    recorder.add_frame(0.0, handle.heap_states, handle.heap_owners)
    result = handle.execute()
    recorder.add_frame(result.wall_s, handle.heap_states, handle.heap_owners)
    session = recorder.finish(
        input_identity=session_file.file_identity(path),
        config={"strategy": strategy.label, "heap_size": handle.config.heap_size,
                "pool_size": handle.config.pool_size, "batch_size": handle.config.batch_size,
                "block_size": handle.config.block_size},
        result=result.as_dict(), series=result.series, slot_count=handle.slot_count,
        pool_reserved=handle.pool_reserved)
    final_states = handle.heap_states.copy()
    handle.close()
    return session, result, final_states


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
    session = recorder.finish(input_identity={}, config={}, result={"wall_s": 1},
                              series={"time_s": np.zeros(0)}, slot_count=1, pool_reserved=0)
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
    assert str(info.value) == ("cannot open session 'cut.session': not a heapscope session, "
                               "or the file is truncated")


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
    assert str(info.value) == ("cannot open session 'future.session': it was written by a newer "
                               "heapscope (format version 3; this one reads up to 2)")


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
    assert str(info.value).startswith("cannot open session 'evil.session': its series.npy is damaged")


def test_missing_member(good_file, tmp_path):
    bad = rewrite(good_file, tmp_path / "partial.session",
                  lambda m, d: None if m == "heap_owners.npy" else d)
    with pytest.raises(SessionError) as info:
        load_session(bad)
    assert str(info.value) == ("cannot open session 'partial.session': it is incomplete "
                               "(missing heap_owners.npy)")
