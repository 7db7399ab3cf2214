"""Benchmark: convert a ~50 MP RGB PNG with ``tbp-dicom`` against two references.

Run by hand (``make bench`` or ``.venv/bin/python bench/convert.py``). It makes a
deterministic 6144×8192 RGB PNG (a synthetic skin-like photograph) in
``bench/out/``, then times, interleaved in one run, each of:

- floor: plain Pillow decode of the PNG and a raw write of its pixels;
- naive: a typical pydicom script (``np.array`` → ``tobytes`` → ``save_as``);
- ours:  ``tbp-dicom convert in.png -o out.dcm``.

Each runs as its own process; wall time and peak RSS (``ru_maxrss`` of that
process) are reported as the median of the repeats. Targets: ours ≤ 1.2× the
floor and ≤ 350 MiB peak.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "sample_data"))
from make_samples import synthetic_skin

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
ROWS, COLUMNS = 8192, 6144
BIN = Path(sys.executable).parent

FLOOR = """
import sys
from PIL import Image
image = Image.open(sys.argv[1]); image.load()
with open(sys.argv[2], "wb") as out:
    out.write(image.tobytes())
"""

NAIVE = """
import sys
import numpy as np
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
arr = np.array(Image.open(sys.argv[1]))
ds = Dataset()
ds.file_meta = FileMetaDataset()
ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.77.1.4"
ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.77.1.4"
ds.Rows, ds.Columns = arr.shape[:2]
ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
ds.BitsAllocated = ds.BitsStored = 8
ds.HighBit, ds.PixelRepresentation = 7, 0
ds.PixelData = arr.tobytes()
ds.save_as(sys.argv[2], enforce_file_format=True)
"""

# Runs a command as a child and prints its wall time and peak RSS as JSON.
MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
elapsed = time.perf_counter() - start
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"seconds": elapsed, "peak_mib": peak_kib / 1024, "rc": done.returncode}))
"""


def make_image(path: Path) -> None:
    """Write the deterministic synthetic skin photograph (once; reused afterwards)."""
    if path.exists():
        return
    OUT.mkdir(exist_ok=True)
    pixels = synthetic_skin(ROWS, COLUMNS, seed=20261122, naevi=400)
    Image.fromarray(pixels, "RGB").save(path, compress_level=6)


def measure(command: list[str]) -> dict[str, float]:
    """Run ``command`` in a fresh measuring process; return seconds and peak MiB."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *command], capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(done.stdout)
    if result["rc"] != 0:
        raise SystemExit(f"command failed: {' '.join(command)}")
    return result


def main() -> None:
    """Run the paired benchmark and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    source = OUT / "tbp_50mp.png"
    make_image(source)
    commands = {
        "floor (Pillow decode + raw write)": [
            sys.executable,
            "-c",
            FLOOR,
            str(source),
            str(OUT / "floor.raw"),
        ],
        "naive pydicom script": [sys.executable, "-c", NAIVE, str(source), str(OUT / "naive.dcm")],
        "tbp-dicom convert": [
            str(BIN / "tbp-dicom"),
            "convert",
            str(source),
            "-o",
            str(OUT / "ours.dcm"),
        ],
    }
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in commands}
    for _ in range(args.repeats):
        for name, command in commands.items():
            samples[name].append(measure(command))
            time.sleep(0.5)

    floor_name = next(iter(commands))
    floor_seconds = statistics.median(s["seconds"] for s in samples[floor_name])
    print(
        f"input: {source.name}, {COLUMNS}x{ROWS} RGB 8-bit, "
        f"{source.stat().st_size / 2**20:.1f} MiB PNG; median of {args.repeats} runs\n"
    )
    print("| run | seconds | × floor | peak RSS (MiB) |")
    print("|---|---:|---:|---:|")
    for name, runs in samples.items():
        seconds = statistics.median(s["seconds"] for s in runs)
        peak = statistics.median(s["peak_mib"] for s in runs)
        print(f"| {name} | {seconds:.2f} | {seconds / floor_seconds:.2f} | {peak:.0f} |")
    print(
        textwrap.dedent("""
        targets: tbp-dicom convert ≤ 1.20 × floor and ≤ 350 MiB peak RSS""")
    )


if __name__ == "__main__":
    main()
