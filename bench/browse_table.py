"""Benchmark: how long the Browse page takes to show the tag table of 200 DICOM files.

Run by hand (``.venv/bin/python bench/browse_table.py [count]``), not in the
tests. It makes ``count`` (200) small DICOM files in memory — copies of
``tests/data/dicom/CT_small.dcm`` with their own SOP Instance UIDs, instance
numbers, and ten patients of two studies each (so the tree has work to do) —
uploads them through the Upload page's file uploader in a
``streamlit.testing.v1.AppTest`` session, and times, with AppTest's wall clock:

- the first visit of Browse (every row read from its dataset: the cold table);
- a rerun of Browse (rows from the per-revision cache);
- a change of the picked columns (every row read again for the new columns);
- a row selection (the document becomes current).

Target: the table for 200 files appears in ≤ 2 s (the cold first visit).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from pydicom.uid import generate_uid  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402, TID251 (drives the app, as tests/app do)

from tbp_core.fileio import dicomio  # noqa: E402
from ui.browse import TABLE_KEY  # noqa: E402

SOURCE = ROOT / "tests" / "data" / "dicom" / "CT_small.dcm"
TARGET_SECONDS = 2.0


def make_files(count: int) -> list[tuple[str, bytes, str]]:
    """``count`` copies of CT_small: ten patients, two studies each, one series per study."""
    base = SOURCE.read_bytes()
    studies = {(p, s): (generate_uid(), generate_uid()) for p in range(10) for s in range(2)}
    files = []
    for number in range(count):
        ds = dicomio.read(base)
        patient, study = number % 10, (number // 10) % 2
        study_uid, series_uid = studies[(patient, study)]
        ds.PatientName = f"Bench^Patient{patient:02d}"
        ds.PatientID = f"BENCH{patient:02d}"
        ds.StudyInstanceUID = study_uid
        ds.SeriesInstanceUID = series_uid
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.InstanceNumber = number + 1
        files.append((f"ct_{number:03d}.dcm", dicomio.to_bytes(ds), "application/dicom"))
    return files


def timed(at: AppTest) -> float:
    start = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - start
    if at.exception:
        raise SystemExit(f"the app failed: {at.exception[0].message}")
    return elapsed


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    files = make_files(count)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600).run()
    start = time.perf_counter()
    at.file_uploader(key="upload_files").set_value(files)
    upload = timed(at)
    print(
        f"upload of {count} files (Upload page): {upload:.2f} s ({time.perf_counter() - start:.2f})"
    )

    at.switch_page("views/browse.py")
    cold = timed(at)
    rows = len(at.dataframe(key=TABLE_KEY).value)
    assert rows == count, rows
    print(f"Browse, first visit ({rows} rows, cold): {cold:.2f} s")

    warm = [timed(at) for _ in range(5)]
    median = statistics.median(warm)
    print(f"Browse, rerun (cached rows): median {median:.2f} s, max {max(warm):.2f} s")

    at.multiselect(key="browse_columns").set_value(["PatientName", "SliceLocation", "(0018,0050)"])
    columns = timed(at)
    print(f"Browse, new columns (rows read again): {columns:.2f} s")

    at.session_state[TABLE_KEY] = {"selection": {"rows": [count - 1], "columns": [], "cells": []}}
    select = timed(at)
    print(f"Browse, a row selected: {select:.2f} s")

    verdict = "within" if cold <= TARGET_SECONDS else "OVER"
    print(f"target: table for {count} files in ≤ {TARGET_SECONDS:.0f} s — {verdict} ({cold:.2f} s)")


if __name__ == "__main__":
    main()
