"""Benchmark: a batch of 100 camera JPEGs, ``tbp-dicom convert`` against dcmtk's ``img2dcm``.

Run by ``make bench`` (or ``.venv/bin/python bench/batch.py``). It makes 100
deterministic camera-like JPEGs once in ``bench/out/batch_in/`` (Pillow,
1600×1200, 4:2:0 chroma subsampling, quality 92, EXIF make/model/time taken),
then times, interleaved round by round in one run:

- ours: ``tbp-dicom convert *.jpg -o DIR --transfer-syntax jpeg-passthrough``,
  one call with the default ``--jobs`` (all cores);
- dcmtk: a shell loop running ``img2dcm -i JPEG in.jpg out.dcm`` once per image
  (also JPEG passthrough: img2dcm encapsulates the JPEG as it is).

The two do not do the same work on each image: img2dcm reads the JPEG's
markers and writes its target in place; ours also verifies the scan (every
entropy-coded block decoded, at 1/8 scale), strips APPn/COM segments, maps
the EXIF and writes each file whole or not at all (temporary file, ``fsync``,
rename).

``tbp_core`` is byte-compiled first, as in ``bench/convert.py``. Each round's
wall time comes from the parent; the table shows medians of the
repeats (other work on the machine makes single runs noisy) and the load
average, and the ratio ours/dcmtk. Target (issue 13): ratio < 1.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from convert import compile_product
from PIL import Image

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
INPUTS = OUT / "batch_in"
COUNT = 100
WIDTH, HEIGHT = 1600, 1200
TBP_DICOM = Path(sys.executable).parent / "tbp-dicom"

# One img2dcm process per image, as a user's loop would run it.
SHELL_LOOP = (
    'for f in "$1"/*.jpg; do b=${f##*/}; img2dcm -q -i JPEG "$f" "$2/${b%.jpg}.dcm" || exit 1; done'
)


def camera_jpeg(seed: int) -> bytes:
    """A photograph-like JPEG: smooth shading plus sensor noise, with camera EXIF."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    base = 150 + 60 * np.sin(x / (180 + seed)) * np.cos(y / (140 + seed))
    tint = np.array([1.0, 0.78, 0.66], np.float32)  # skin-like
    pixels = base[..., None] * tint + rng.normal(0, 6, (HEIGHT, WIDTH, 3)).astype(np.float32)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    exif = Image.Exif()
    exif[0x010F] = "BenchCam"  # Make
    exif[0x0110] = "Model 1"  # Model
    exif[0x0112] = 1  # Orientation: as stored (passthrough needs unrotated JPEGs)
    exif.get_ifd(0x8769)[0x9003] = f"2024:05:01 10:{seed // 60:02d}:{seed % 60:02d}"
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92, subsampling=2, exif=exif.tobytes())
    return out.getvalue()


def make_inputs() -> list[Path]:
    """The 100 input JPEGs (made once)."""
    INPUTS.mkdir(parents=True, exist_ok=True)
    paths = [INPUTS / f"photo{n:03d}.jpg" for n in range(1, COUNT + 1)]
    for seed, path in enumerate(paths, start=1):
        if not path.exists():
            path.write_bytes(camera_jpeg(seed))
    return paths


def fresh(folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{command[0]} failed ({done.returncode}): {done.stderr.strip()[:400]}")
    return elapsed


def run_ours(inputs: list[Path]) -> float:
    target = fresh(OUT / "batch_ours")
    command = [str(TBP_DICOM), "convert", *map(str, inputs), "-o", str(target)]
    elapsed = timed([*command, "--transfer-syntax", "jpeg-passthrough"])
    assert len(list(target.glob("*.dcm"))) == COUNT
    return elapsed


def run_dcmtk() -> float:
    target = fresh(OUT / "batch_dcmtk")
    elapsed = timed(["bash", "-c", SHELL_LOOP, "loop", str(INPUTS), str(target)])
    assert len(list(target.glob("*.dcm"))) == COUNT
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    inputs = make_inputs()
    compile_product()
    megapixels = WIDTH * HEIGHT / 1e6
    size = sum(p.stat().st_size for p in inputs) / 2**20
    print(
        f"batch: {COUNT} JPEGs {WIDTH}x{HEIGHT} ({megapixels:.1f} MP, 4:2:0, {size:.0f} MiB), "
        f"{os.cpu_count()} cores, {args.repeats} paired rounds",
        flush=True,
    )
    ours: list[float] = []
    dcmtk: list[float] = []
    loads: list[float] = []
    for round_number in range(args.repeats):
        loads.append(os.getloadavg()[0])
        pair = (run_ours, run_dcmtk) if round_number % 2 == 0 else (run_dcmtk, run_ours)
        for runner in pair:
            if runner is run_ours:
                ours.append(run_ours(inputs))
            else:
                dcmtk.append(run_dcmtk())
    ratios = [a / b for a, b in zip(ours, dcmtk, strict=True)]
    print(f"  load average (1 min) at round start: {', '.join(f'{x:.2f}' for x in loads)}")
    print(
        f"  ours  tbp-dicom convert --transfer-syntax jpeg-passthrough (default --jobs): "
        f"median {statistics.median(ours):.2f} s  [{', '.join(f'{x:.2f}' for x in ours)}]"
    )
    print(
        f"  dcmtk img2dcm shell loop:                                              "
        f"median {statistics.median(dcmtk):.2f} s  [{', '.join(f'{x:.2f}' for x in dcmtk)}]"
    )
    print(
        f"  ratio ours/dcmtk: median of paired rounds {statistics.median(ratios):.2f}x (target < 1)"
    )


if __name__ == "__main__":
    main()
