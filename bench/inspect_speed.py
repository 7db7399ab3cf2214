"""Time opening the 150 MB produced file and building its dump, table and structure.

Run by hand: ``.venv/bin/python bench/inspect_speed.py [FILE]``. The file defaults to
``bench/out/ours.dcm`` (made by ``bench/convert.py``). Prints the median of 20
in-process runs of read + dump tree + tag table + structure tree; target ≤ 100 ms.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
DEFAULT = HERE / "out" / "ours.dcm"
RUNS = 20
TARGET_MS = 100.0


def _steps() -> dict[str, Callable[[Any], object]]:
    """The inspection steps, by name."""
    from tbp_core.inspection.explain import build_structure

    steps: dict[str, Callable[[Any], object]] = {}
    try:
        from tbp_core.inspection.dump import build_tree

        steps["dump.build_tree"] = build_tree
    except ImportError as exc:
        print(f"not timed: dump.build_tree ({exc})")
    try:
        from tbp_core.inspection.tags import to_table

        steps["tags.to_table"] = to_table
    except ImportError as exc:
        print(f"not timed: tags.to_table ({exc})")
    steps["explain.build_structure"] = build_structure
    return steps


def main() -> int:
    """Run the benchmark and print the median timings."""
    from tbp_core.fileio.dicomio import read

    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if not path.exists():
        png = HERE / "out" / "tbp_50mp.png"
        tool = HERE.parent / ".venv" / "bin" / "tbp-dicom"
        subprocess.run([str(tool), "convert", str(png), "-o", str(path)], check=True)
    steps = _steps()
    timings: dict[str, list[float]] = {"read": [], **{name: [] for name in steps}, "total": []}
    for _ in range(RUNS + 1):  # the first run warms caches (standard tables) and is dropped
        start = time.perf_counter()
        ds = read(path)
        timings["read"].append(time.perf_counter() - start)
        for name, step in steps.items():
            began = time.perf_counter()
            step(ds)
            timings[name].append(time.perf_counter() - began)
        timings["total"].append(time.perf_counter() - start)
    size_mb = path.stat().st_size / 1e6
    print(f"{path.name}: {size_mb:.1f} MB, median of {RUNS} runs (first warm-up run dropped)")
    for name, values in timings.items():
        print(f"  {name:<24} {statistics.median(values[1:]) * 1000:8.1f} ms")
    total = statistics.median(timings["total"][1:]) * 1000
    verdict = "OK" if total <= TARGET_MS else "OVER TARGET"
    print(f"total {total:.1f} ms (target ≤ {TARGET_MS:.0f} ms): {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
