"""gui.app_settings: typed keys over the QSettings INI store (isolated per test by conftest)."""

from PySide6.QtCore import QByteArray

from gui.app_settings import AppSettings, settings


def test_a_fresh_store_gives_typed_defaults():
    s = AppSettings()
    assert (s.last_input, s.session_dir, s.export_dir) == ("", "", "")
    assert s.geometry is None and s.splitter_state("main_split") is None
    assert s.chart_rate is False and s.chart_log is False
    assert s.run_values() == dict.fromkeys(("heap_size", "pool_size", "batch_size", "block_size"))


def test_values_round_trip_through_the_ini_file_under_their_keys():
    s = AppSettings()
    s.last_input = "/data/in.bin"
    s.session_dir = "/data/sessions"
    s.export_dir = "/data/out"
    s.chart_rate = True
    s.set_run_values({"heap_size": "4M", "batch_size": "8"})
    s.set_splitter_state("main_split", QByteArray(b"\x01\x02"))
    s.sync()
    again = AppSettings()
    assert (again.last_input, again.session_dir, again.export_dir) == (
        "/data/in.bin",
        "/data/sessions",
        "/data/out",
    )
    assert again.chart_rate is True and again.chart_log is False
    assert again.run_values()["heap_size"] == "4M" and again.run_values()["batch_size"] == "8"
    assert again.splitter_state("main_split") == QByteArray(b"\x01\x02")
    raw = settings()
    assert raw.value("input/last_path") == "/data/in.bin"
    assert raw.value("export/last_dir") == "/data/out"
    assert raw.value("run/heap_size") == "4M"


def test_a_wrongly_typed_value_reads_as_the_default():
    raw = settings()
    raw.setValue("window/geometry", "not bytes")
    raw.setValue("window/main_split", "")
    raw.sync()
    s = AppSettings()
    assert s.geometry is None and s.splitter_state("main_split") is None
