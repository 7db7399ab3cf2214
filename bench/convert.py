"""Benchmark: convert a ~50 MP RGB PNG with ``tbp-dicom`` against fair floors.

Run by ``make bench`` (or ``.venv/bin/python bench/convert.py``). It makes a
deterministic 6144×8192 RGB PNG (a synthetic skin-like photograph) in
``bench/out/`` once, then runs, interleaved round by round in one run, each of:

- (a2) floor — THE target's floor: "the same decoder the product uses writing
  the decoded buffer once" (issue 13), i.e. the product's own PNG decoding
  (``tbp_core.sources.images.load_image``: chunk and CRC checks, ISA-L
  inflation with the Adler-32 check, libpng unfiltering in strips on a second
  thread) and one write of its buffer. (d) decodes with the same code
  straight into the memory map of its output file, so (d) minus (a2) is
  everything else (imports of pydicom and the builders, building the dataset,
  the safe write's flush to disk and rename) minus the separate write;
- (a3) extra information: (a2) followed by ``fsync``, as durable as (d)'s
  safe write (which syncs before renaming, so a power cut never leaves a
  partial file under the target's name);
- (a4) extra information: (a2) run with ``OPENBLAS_NUM_THREADS=1``, which
  ``tbp-dicom`` sets for itself (:func:`tbp_core.__main__.run`): numpy's
  BLAS pool, never used, then costs neither script its 0.14 s of CPU at import;
- (a) extra information: libpng's whole decode (imagecodecs, into one
  preallocated buffer) and one write — the floor when libpng alone was the
  product's decoder (it does not check the Adler-32 and is slower);
- (b) Pillow floor: Pillow decode, then the packed rows written in 256-row strips;
- (c) naive: a typical pydicom script (``np.array`` → ``tobytes`` → ``save_as``);
- (d) ours: ``tbp-dicom convert in.png -o out.dcm`` (explicit VR little endian).

Before timing, ``tbp_core`` is byte-compiled (:func:`compile_product`), as pip
does when it installs a package: this checkout is an editable install and the
environment sets ``PYTHONDONTWRITEBYTECODE``, so every ``tbp-dicom`` start
would otherwise compile its ~60 modules from source again (about 0.05 s) —
a cost no installed copy pays. The floors are untouched.

Each run is its own process, started directly by this script after
``os.sync()`` (so no run pays for writing back the file the previous one left
in memory); its wall time, CPU time (user + system) and peak RSS come from
``os.wait4`` on that child.
The table shows the median of the repeats (other work on the machine makes
single runs noisy). Targets: (d) ≤ 1.10 × (a2) and ≤ 300 MiB peak; (d)/(a),
(d)/(a3) and (d)/(a4) are printed beside it for information.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
ROWS, COLUMNS = 8192, 6144
BIN = Path(sys.executable).parent
ONE_BLAS_FLOOR = "(a4) (a2) with OPENBLAS_NUM_THREADS=1, as (d) sets it"

FLOOR_PRODUCT_DECODER = """
import sys
import imagecodecs
import numpy as np
data = open(sys.argv[1], "rb").read()
width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
pixels = np.empty((height, width, 3), np.uint8)
imagecodecs.png_decode(data, out=pixels)
with open(sys.argv[2], "wb") as out:
    out.write(memoryview(pixels).cast("B"))
"""

FLOOR_PILLOW_STRIPS = """
import sys
from PIL import Image
image = Image.open(sys.argv[1]); image.load()
width, height = image.size
with open(sys.argv[2], "wb") as out:
    for top in range(0, height, 256):
        out.write(image.crop((0, top, width, min(top + 256, height))).tobytes())
"""

FLOOR_OUR_DECODER = """
import sys
from tbp_core.sources.images import load_image
image = load_image(open(sys.argv[1], "rb").read(), "in.png")
with open(sys.argv[2], "wb") as out:
    out.write(image.buffer)
"""

FLOOR_OUR_DECODER_DURABLE = """
import os
import sys
from tbp_core.sources.images import load_image
image = load_image(open(sys.argv[1], "rb").read(), "in.png")
with open(sys.argv[2], "wb") as out:
    out.write(image.buffer)
    out.flush()
    os.fsync(out.fileno())
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


@dataclass(frozen=True)
class Sample:
    """One run of one command."""

    seconds: float
    cpu_seconds: float
    peak_mib: float


def compile_product() -> None:
    """Byte-compile ``tbp_core`` as installing it would (see the module docstring)."""
    package = HERE.parent / "tbp_core"
    if not compileall.compile_dir(package, quiet=1, force=False):
        raise SystemExit(f"could not byte-compile {package}")


MAKE_IMAGE = """
import sys
from PIL import Image
sys.path.insert(0, sys.argv[2])
from make_samples import synthetic_skin
pixels = synthetic_skin(int(sys.argv[3]), int(sys.argv[4]), seed=20261122, naevi=400)
Image.fromarray(pixels, "RGB").save(sys.argv[1], compress_level=6)
"""


def make_image(path: Path) -> None:
    """Write the deterministic synthetic skin photograph (once; reused afterwards).

    It is made in a child process: making it takes 2.5 GB, and a child
    started later by ``subprocess`` (vfork, then exec) begins with this
    process's peak as its own ``ru_maxrss``, so every peak measured after
    an in-process build would read 2.5 GB.
    """
    if path.exists():
        return
    path.parent.mkdir(exist_ok=True)
    samples = HERE.parent / "sample_data"
    subprocess.run(
        [sys.executable, "-c", MAKE_IMAGE, str(path), str(samples), str(ROWS), str(COLUMNS)],
        check=True,
    )


def measure(command: list[str]) -> Sample:
    """Run ``command`` as a child; its wall time, CPU time and peak RSS (``os.wait4``)."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"command failed ({child.returncode}): {' '.join(command)}")
    return Sample(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def run_rounds(commands: dict[str, list[str]], repeats: int) -> dict[str, list[Sample]]:
    """Run every command once per round, ``repeats`` rounds (paired, interleaved)."""
    samples: dict[str, list[Sample]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, command in commands.items():
            # The floors leave 150 MB of unwritten file data behind them; without
            # this, the kernel writes it back during the next run and slows that
            # run's own writes (most of all a run that syncs its file, like (d)).
            os.sync()
            time.sleep(0.3)
            samples[name].append(measure(command))
    return samples


def print_table(samples: dict[str, list[Sample]], reference: str) -> dict[str, Sample]:
    """Print the medians as a Markdown table (× relative to ``reference``); return them."""
    medians = {
        name: Sample(
            statistics.median(s.seconds for s in runs),
            statistics.median(s.cpu_seconds for s in runs),
            statistics.median(s.peak_mib for s in runs),
        )
        for name, runs in samples.items()
    }
    base = medians[reference].seconds
    print(
        f"| run | seconds | × {reference.split()[0]} | CPU seconds | peak RSS (MiB) | range (s) |"
    )
    print("|---|---:|---:|---:|---:|---|")
    for name, m in medians.items():
        spread = [s.seconds for s in samples[name]]
        print(
            f"| {name} | {m.seconds:.2f} | {m.seconds / base:.2f} | {m.cpu_seconds:.2f} | "
            f"{m.peak_mib:.0f} | {min(spread):.2f}–{max(spread):.2f} |"
        )
    return medians


def main() -> None:
    """Run the paired benchmark and print a Markdown table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    source = OUT / "tbp_50mp.png"
    make_image(source)
    compile_product()
    py = sys.executable
    commands = {
        "(a) floor: libpng decode + one write": [
            py, "-c", FLOOR_PRODUCT_DECODER, str(source), str(OUT / "floor_a.raw"),
        ],
        "(a2) floor: tbp_core's PNG decoding + one write": [
            py, "-c", FLOOR_OUR_DECODER, str(source), str(OUT / "floor_a2.raw"),
        ],
        "(a3) (a2) + fsync, as durable as (d)": [
            py, "-c", FLOOR_OUR_DECODER_DURABLE, str(source), str(OUT / "floor_a3.raw"),
        ],
        ONE_BLAS_FLOOR: [
            "env", "OPENBLAS_NUM_THREADS=1",
            py, "-c", FLOOR_OUR_DECODER, str(source), str(OUT / "floor_a4.raw"),
        ],
        "(b) Pillow decode + 256-row strips": [
            py, "-c", FLOOR_PILLOW_STRIPS, str(source), str(OUT / "floor_b.raw"),
        ],
        "(c) naive pydicom script": [py, "-c", NAIVE, str(source), str(OUT / "naive.dcm")],
        "(d) tbp-dicom convert": [
            str(BIN / "tbp-dicom"), "convert", str(source), "-o", str(OUT / "ours.dcm"),
        ],
    }  # fmt: skip
    samples = run_rounds(commands, args.repeats)
    print(
        f"\ninput: {source.name}, {COLUMNS}x{ROWS} RGB 8-bit, "
        f"{source.stat().st_size / 2**20:.1f} MiB PNG; {os.cpu_count()} cores; "
        f"median of {args.repeats} paired rounds\n"
    )
    medians = print_table(samples, "(a2) floor: tbp_core's PNG decoding + one write")
    ours = medians["(d) tbp-dicom convert"]
    target = ours.seconds / medians["(a2) floor: tbp_core's PNG decoding + one write"].seconds
    libpng = ours.seconds / medians["(a) floor: libpng decode + one write"].seconds
    durable = ours.seconds / medians["(a3) (a2) + fsync, as durable as (d)"].seconds
    one_blas = ours.seconds / medians[ONE_BLAS_FLOOR].seconds
    met = target <= 1.10 and ours.peak_mib <= 300
    print(
        f"\ntarget: (d)/(a2) = {target:.2f} (≤ 1.10), peak {ours.peak_mib:.0f} MiB (≤ 300): "
        f"{'met' if met else 'NOT met'}; for information (d)/(a) = {libpng:.2f}, "
        f"(d)/(a3) = {durable:.2f}, (d)/(a4) = {one_blas:.2f}"
    )


if __name__ == "__main__":
    main()
