"""Benchmark: the crafted files of issue 11 through dump, validate and structure.

Each command runs as its own process (``python -m tbp_core``) on a deflate bomb
(3 GiB inflated), one sequence of 1,000,000 items and 1,000,000 top-level
elements, made by the generators in tests/tbp_core/fileio/test_limits.py, and
``convert`` of a 100×100 PNG with 20 MB of IDAT (tests/tbp_core/sources/test_pngbounds.py).
Prints wall time and peak RSS per run; targets: ≤ 5 s and ≤ 1 GiB each.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.tbp_core.fileio.test_limits import CRAFTED  # noqa: E402
from tests.tbp_core.sources.test_pngbounds import rgb_png  # noqa: E402


def _run(command: str, path: Path) -> tuple[float, float, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.monotonic()
    process = subprocess.run(
        [sys.executable, "-m", "tbp_core", command, str(path)],
        capture_output=True,
        check=False,
    )
    elapsed = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest so far: report it only when it grew
    return elapsed, max(peak, before) / 1024, process.returncode


def _run_convert(path: Path, target: Path) -> tuple[float, float, int]:
    started = time.monotonic()
    process = subprocess.run(
        [sys.executable, "-m", "tbp_core", "convert", str(path), "-o", str(target)],
        capture_output=True,
        check=False,
    )
    elapsed = time.monotonic() - started
    return (
        elapsed,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        process.returncode,
    )


def main() -> int:
    print(f"{'case':<14} {'command':<10} {'exit':>4} {'seconds':>8} {'peak MiB*':>10}")
    worst_time, worst_peak = 0.0, 0.0
    with tempfile.TemporaryDirectory() as folder:
        for name, make in CRAFTED.items():
            path = Path(folder) / f"{name}.dcm"
            path.write_bytes(make())
            for command in ("dump", "validate", "structure"):
                elapsed, peak, code = _run(command, path)
                worst_time, worst_peak = max(worst_time, elapsed), max(worst_peak, peak)
                print(f"{name:<14} {command:<10} {code:>4} {elapsed:>8.2f} {peak:>10.0f}")
        png = Path(folder) / "idat-20MB.png"
        png.write_bytes(rgb_png([b"\0" * 20_000_000]))
        elapsed, peak, code = _run_convert(png, Path(folder) / "out.dcm")
        worst_time, worst_peak = max(worst_time, elapsed), max(worst_peak, peak)
        print(f"{'idat-20MB.png':<14} {'convert':<10} {code:>4} {elapsed:>8.2f} {peak:>10.0f}")
    print("* peak RSS of the largest child so far (ru_maxrss of children)")
    met = worst_time <= 5 and worst_peak <= 1024
    print(
        f"worst: {worst_time:.2f} s, {worst_peak:.0f} MiB — targets ≤ 5 s, ≤ 1024 MiB: "
        f"{'met' if met else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
