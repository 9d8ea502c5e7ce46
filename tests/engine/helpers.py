"""Shared helpers for engine tests: runs on threads that are always cleaned up."""

from __future__ import annotations

import threading

import pytest

import engine

# Every run start() launched during the current test; tests/engine/conftest.py
# cancels and joins them after the test, whether it passed or failed.
_started: list[tuple[engine.Run, threading.Thread]] = []


def start(handle: engine.Run) -> tuple[threading.Thread, dict]:
    """execute() on a thread; returns the thread and a dict that receives the outcome."""
    outcome: dict = {}

    def target():
        try:
            outcome["result"] = handle.execute()
        except engine.EngineError as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="test-engine-run", daemon=True)
    _started.append((handle, thread))
    thread.start()
    return thread, outcome


def start_and_pause_after(handle: engine.Run, blocks: int) -> tuple[threading.Thread, dict]:
    """start(), then pause once at least `blocks` blocks are done, and wait
    until every engine thread has parked."""
    thread, outcome = start(handle)
    wait_until(lambda: handle.counters()["blocks_done"] >= blocks, f"{blocks} block(s) done")
    handle.pause()
    wait_until(lambda: handle.paused, "every engine thread parked")
    return thread, outcome


def stop_started_runs(timeout_s: float = 30) -> list[str]:
    """Resumes, cancels, joins and closes every run start() launched; names those stuck."""
    stuck = []
    while _started:
        handle, thread = _started.pop()
        if not handle.closed:
            handle.resume()
            handle.cancel()
        thread.join(timeout_s)
        if thread.is_alive():
            stuck.append(f"{handle.path} ({handle.config.strategy.label})")
        handle.close()
    return stuck


def wait_until(predicate, what, limit=200_000):
    """Polls without sleeping; fails instead of hanging if it never happens."""
    for _ in range(limit):
        if predicate():
            return
        threading.Event().wait(0.0005)
    pytest.fail(f"never happened: {what}")
