"""Benchmark: lossless compression of the 50 MP image against the reference tools.

Run by ``make bench`` after ``bench/convert.py`` (which makes ``bench/out/tbp_50mp.png``
and ``bench/out/ours.dcm``). Paired, interleaved rounds; each run is its own
process (wall time, CPU time and peak RSS from ``os.wait4``); medians shown.

- JPEG 2000 lossless: ``tbp-dicom convert --transfer-syntax jpeg2000`` (PNG →
  DICOM, OpenJPEG through imagecodecs with one thread per core) against
  Debian's ``opj_compress`` (PNG → J2K, one thread). Target ≤ 1.0×.
- HTJ2K lossless: ``--transfer-syntax htj2k`` (OpenJPH through imagecodecs), for scale.
- JPEG-LS lossless: ``--transfer-syntax jpeg-ls`` (PNG → DICOM, CharLS) against
  dcmtk's ``dcmcjpls`` (uncompressed DICOM → DICOM). Target ≤ 0.7×.

``tbp_core`` is byte-compiled first, as in ``bench/convert.py``. JPEG-LS is
encoded by CharLS (through imagecodecs, one thread; ``dcmcjpls`` also uses
CharLS). Ours always includes decoding the PNG; the references do not (``dcmcjpls``) or
do it with libpng (``opj_compress``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from convert import BIN, OUT, compile_product, make_image, print_table, run_rounds


def ensure_opj_compress() -> str:
    """Path of ``opj_compress``; installs Debian's libopenjp2-tools when it is missing."""
    found = shutil.which("opj_compress")
    if found is None:
        subprocess.run(["apt-get", "install", "-y", "-q", "libopenjp2-tools"], check=True)
        found = shutil.which("opj_compress")
    if found is None:
        raise SystemExit("opj_compress is not available (package libopenjp2-tools)")
    return found


def main() -> None:
    """Run the paired compression benchmark and print the tables and ratios."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    source = OUT / "tbp_50mp.png"
    make_image(source)
    compile_product()
    native = OUT / "ours.dcm"
    if not native.exists():
        subprocess.run([str(BIN / "tbp-dicom"), "convert", str(source), "-o", str(native)],
                       check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    tbp = str(BIN / "tbp-dicom")

    def ours(syntax: str) -> list[str]:
        target = OUT / f"ours-{syntax}.dcm"
        return [tbp, "convert", str(source), "-o", str(target), "--transfer-syntax", syntax]

    jpeg2000 = {
        "tbp-dicom jpeg2000": ours("jpeg2000"),
        "tbp-dicom htj2k": ours("htj2k"),
        "opj_compress (PNG → J2K)": [ensure_opj_compress(), "-i", str(source),
                                     "-o", str(OUT / "opj.j2k")],
    }  # fmt: skip
    jpegls = {
        "tbp-dicom jpeg-ls": ours("jpeg-ls"),
        "dcmcjpls (DICOM → DICOM)": ["dcmcjpls", str(native), str(OUT / "dcmcjpls.dcm")],
    }
    threads = len(os.sched_getaffinity(0))
    print(f"\n{os.cpu_count()} cores; our JPEG 2000 encoder uses {threads} threads; "
          f"median of {args.repeats} paired rounds\n")  # fmt: skip
    j2k = print_table(run_rounds(jpeg2000, args.repeats), "opj_compress (PNG → J2K)")
    print()
    jls = print_table(run_rounds(jpegls, args.repeats), "dcmcjpls (DICOM → DICOM)")
    ratio_j2k = j2k["tbp-dicom jpeg2000"].seconds / j2k["opj_compress (PNG → J2K)"].seconds
    ratio_ht = j2k["tbp-dicom htj2k"].seconds / j2k["opj_compress (PNG → J2K)"].seconds
    ratio_jls = jls["tbp-dicom jpeg-ls"].seconds / jls["dcmcjpls (DICOM → DICOM)"].seconds
    print(f"\njpeg2000 / opj_compress = {ratio_j2k:.2f} (target ≤ 1.0); "
          f"htj2k / opj_compress = {ratio_ht:.2f}; "
          f"jpeg-ls / dcmcjpls = {ratio_jls:.2f} (target ≤ 0.7)")  # fmt: skip


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
