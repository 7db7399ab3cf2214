"""Benchmark: in-process validation of a ~150 MB file; it must not decode pixel data.

Run by hand: ``.venv/bin/python bench/validate.py``. Uses the 150 MB DICOM file
that ``bench/convert.py`` writes (``bench/out/ours.dcm``), converting the
benchmark PNG first if needed. Prints the median of 20 read+validate runs from
the file and from bytes in memory, and checks Pixel Data was never read.
Target: ≤ 50 ms.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from pydicom.dataelem import RawDataElement

from tbp_core.fileio.dicomio import read
from tbp_core.validation.validate import validate

HERE = Path(__file__).resolve().parent
TARGET = HERE / "out" / "ours.dcm"


def ensure_file() -> Path:
    """Make the 150 MB file with bench/convert.py's input when it is missing."""
    if not TARGET.exists():
        sys.path.insert(0, str(HERE))
        from convert import OUT, make_image

        source = OUT / "tbp_50mp.png"
        make_image(source)
        tbp_dicom = Path(sys.executable).parent / "tbp-dicom"
        subprocess.run([str(tbp_dicom), "convert", str(source), "-o", str(TARGET)], check=True)
    return TARGET


def timed(source: bytes | Path, runs: int = 20) -> tuple[float, bool]:
    """Median milliseconds of read + validate, and whether Pixel Data stayed unread."""
    samples = []
    untouched = True
    for _ in range(runs):
        start = time.perf_counter()
        ds = read(source)
        report = validate(ds)
        samples.append((time.perf_counter() - start) * 1000)
        pixel = ds.get_item(0x7FE00010, keep_deferred=True)
        untouched &= isinstance(pixel, RawDataElement) and pixel.value is None
        assert report is not None
    return statistics.median(samples), untouched


def main() -> None:
    """Print the timings."""
    path = ensure_file()
    size = path.stat().st_size / 2**20
    from_file, untouched_file = timed(path)
    from_bytes, untouched_bytes = timed(path.read_bytes())
    print(f"file: {path.name}, {size:.1f} MiB; median of 20 runs")
    print(f"read + validate from file: {from_file:.1f} ms (pixel data unread: {untouched_file})")
    print(f"read + validate from bytes: {from_bytes:.1f} ms (pixel data unread: {untouched_bytes})")
    print("target: <= 50 ms, pixel data never decoded")


if __name__ == "__main__":
    main()
