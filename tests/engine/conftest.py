"""Engine test fixtures: no run outlives its test, even a failing one."""

import pytest

from tests.engine.helpers import stop_started_runs


@pytest.fixture(autouse=True)
def runs_are_stopped_after_each_test():
    yield
    stuck = stop_started_runs()
    if stuck:
        pytest.fail(f"runs still executing 30 s after cancel: {', '.join(stuck)}")
