"""A session file is someone else's: replaying it never runs anything on a path it names,
and the signature column says the truth about the reference."""

import hashlib
import os
import shutil

import pytest

from gui.replay_input import thinning_note
from gui.run_controller import JobKind
from tests.conftest import EXPECTED, VECTORS
from tests.gui.helpers import count_thread_starts, open_vector, rewrite_session, run_and_wait

RAMP = EXPECTED["ramp.bin"]


@pytest.fixture
def recorded(window, qtbot, tmp_path):
    """A pooled run of a copy of ramp.bin, saved as a session; the copy is then deleted."""
    copy = tmp_path / "lecture-input.bin"
    shutil.copy(VECTORS / "ramp.bin", copy)
    assert window.open_input(str(copy)), window.error_text()
    run_and_wait(qtbot, window, window.pooled_button)
    assert window.results.rows[0].text("signature") == f"{RAMP['signature']}  ✓"
    path = window.save_session_to(tmp_path / "pooled.session")
    copy.unlink()
    window.clear_runs()
    return path


def _point_at(path, tmp_path, name, target):
    """The recorded session, crafted to name ``target`` as its input (another file's hash)."""

    def edit(meta):
        meta["result"]["path"] = str(target)
        meta["input"] = {
            "name": os.path.basename(str(target)),
            "bytes": RAMP["bytes"],
            "sha256": hashlib.sha256(b"something else").hexdigest(),
        }

    return rewrite_session(path, tmp_path / name, edit)


def _assert_not_checked(window, name):
    row = window.results.rows[-1]
    assert row.result.signature == RAMP["signature"]
    assert row.text("signature") == f"{RAMP['signature']}  ? (no reference)"
    assert window.replay.bar.note.text() == (
        f"input file '{name}' is not here (open it, then the session, to check); "
        "the reference signature was not checked"
    )
    assert window.replay.bar.note.isVisibleTo(window)
    assert window.error_text() == ""


def test_replay_of_a_missing_input_says_the_reference_was_not_checked(
    window, recorded, monkeypatch
):
    open_vector(window, "random_64k.bin")
    started = count_thread_starts(monkeypatch)
    assert window.open_session(recorded), window.error_text()
    assert not window.busy and started == []
    _assert_not_checked(window, "lecture-input.bin")
    assert "could not compute" not in window.statusBar().currentMessage()


@pytest.mark.parametrize("target", ["/dev/zero", "fifo"])
def test_a_session_naming_a_device_or_fifo_never_starts_a_run(
    window, recorded, tmp_path, monkeypatch, target
):
    if target == "fifo":
        target = tmp_path / "input.fifo"
        os.mkfifo(target)
    crafted = _point_at(recorded, tmp_path, "crafted.session", target)
    open_vector(window, "ramp.bin")  # same bytes as recorded, but the session says otherwise
    started = count_thread_starts(monkeypatch)
    assert window.open_session(crafted), window.error_text()
    assert not window.busy and started == [] and window.controller.current_job is None
    _assert_not_checked(window, os.path.basename(str(target)))
    # Opening it again (and from the demo's folder scan) still starts nothing.
    assert window.open_session(crafted)
    assert not window.busy and started == []


def test_a_session_naming_an_existing_file_does_not_borrow_its_reference(
    window, recorded, qtbot, tmp_path, monkeypatch
):
    """The session names the very file the user ran, but its hash says it is another file."""
    open_vector(window, "ramp.bin")
    ramp = str(VECTORS / "ramp.bin")
    crafted = _point_at(recorded, tmp_path, "liar.session", ramp)
    run_and_wait(qtbot, window, window.baseline_button)  # ramp.bin's reference is now known
    assert window.results.rows[0].text("signature") == f"{RAMP['signature']}  ✓"
    started = count_thread_starts(monkeypatch)
    assert window.open_session(crafted), window.error_text()
    assert not window.busy and started == []
    _assert_not_checked(window, "ramp.bin")


def test_the_open_input_with_the_recorded_hash_gets_its_reference_from_the_users_path(
    window, recorded, qtbot, tmp_path, monkeypatch
):
    mine = tmp_path / "my-copy.bin"  # another name, the same bytes as the recorded input
    shutil.copy(VECTORS / "ramp.bin", mine)
    assert window.open_input(str(mine))
    started = count_thread_starts(monkeypatch)
    with qtbot.waitSignal(window.sig_idle, timeout=30000):
        assert window.open_session(recorded), window.error_text()
        assert window.busy and window.controller.current_job.kind is JobKind.REFERENCE
        assert window.controller.current_job.run.path == str(mine)
    assert started == ["heapscope-reference"]
    row = window.results.rows[-1]
    assert row.text("signature") == f"{RAMP['signature']}  ✓"
    assert row.result.path == str(mine)
    assert not window.replay.bar.note.isVisibleTo(window)
    # The next replay of the same input reuses the reference: nothing starts.
    assert window.open_session(recorded)
    assert started == ["heapscope-reference"] and not window.busy
    assert window.results.rows[-1].text("signature") == f"{RAMP['signature']}  ✓"


def test_a_thinned_recording_is_said_after_the_run_and_in_the_replay(
    window, qtbot, tmp_path, monkeypatch
):
    import gui.recording as mw

    # 1 MiB for a 2 MiB heap (131,072 cells): the recorder keeps 1 value per 16 cells.
    monkeypatch.setattr(mw, "RECORDING_BUDGET", 1024 * 1024)
    note = "kept 1 heap-map value per 16 cells to stay within 1 MiB"
    open_vector(window, "ramp.bin")
    run_and_wait(qtbot, window, window.pooled_button)
    assert window.last_session_recorder.thinning_note == note
    assert window.statusBar().currentMessage().endswith(f"  ·  recording thinned: {note}")
    path = window.save_session_to(tmp_path / "thinned.session")
    assert window.open_session(path), window.error_text()
    assert window.replay.bar.note.text() == f"recording thinned: {note}"
    assert window.replay.bar.note.isVisibleTo(window)
    assert window.statusBar().currentMessage() == (
        f"Replaying {path}  ·  recording thinned: {note}"
    )
    assert window.results.rows[-1].text("signature") == f"{RAMP['signature']}  ✓"


def test_an_unthinned_recording_says_nothing(window, qtbot, tmp_path):
    open_vector(window, "ramp.bin")
    run_and_wait(qtbot, window, window.pooled_button)
    assert thinning_note(window.last_session_recorder) == ""
    assert "thinned" not in window.statusBar().currentMessage()
    assert window.open_session(window.save_session_to(tmp_path / "full.session"))
    assert window.replay.bar.note.text() == "" and not window.replay.bar.note.isVisibleTo(window)


def test_replaying_again_and_again_keeps_one_session_in_memory(
    window, qtbot, tmp_path, monkeypatch
):
    import gc

    from gui.session_file import Session

    open_vector(window, "ramp.bin")
    run_and_wait(qtbot, window, window.baseline_button)
    path = window.save_session_to(tmp_path / "b.session")
    started = count_thread_starts(monkeypatch)
    for _ in range(20):
        assert window.open_session(path), window.error_text()
    assert started == [] and not window.busy  # ramp.bin's reference is known already
    assert [r.text("signature") for r in window.results.rows] == [f"{RAMP['signature']}  ✓"] * 21
    gc.collect()
    sessions = [o for o in gc.get_objects() if isinstance(o, Session)]
    # The replay on screen and the last live run (for Ctrl+S): nothing else.
    assert sorted(map(id, sessions)) == sorted({id(window.replay.session), id(window.last_session)})
