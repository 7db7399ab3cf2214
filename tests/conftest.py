"""Shared fixtures: test data locations and the optional shared corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The project's own small test files (see tests/data/SOURCES.md)."""
    return DATA
