"""Shared fixtures: the test vectors copied from the exercise's spec."""

import json
import pathlib

import pytest

VECTORS = pathlib.Path(__file__).resolve().parent / "vectors"
EXPECTED = json.loads((VECTORS / "expected.json").read_text())


@pytest.fixture(scope="session")
def vectors_dir() -> pathlib.Path:
    return VECTORS


@pytest.fixture(scope="session")
def expected() -> dict:
    return EXPECTED
