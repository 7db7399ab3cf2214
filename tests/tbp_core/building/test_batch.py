"""Batches (issue 13): a process pool gives the same series as one process; stops cleanly."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image

from tbp_core.building import batch
from tbp_core.building.convert import ConvertOptions
from tbp_core.building.iods import new_series_context
from tbp_core.cli import main

TBP_DICOM = Path(sys.executable).parent / "tbp-dicom"

#: Differ between two conversions of the same image by construction (the group
#: length follows the length of the random SOP Instance UID).
_PER_INSTANCE = {"SOPInstanceUID", "MediaStorageSOPInstanceUID", "FileMetaInformationGroupLength"}
#: Differ between two calls too (each call makes its own study, series and time).
_PER_CALL = {
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "InstanceCreationDate",
    "InstanceCreationTime",
}


def camera_jpeg(seed: int, size: tuple[int, int] = (96, 64)) -> bytes:
    """A small 4:2:0 JPEG with camera EXIF (make, model, time taken)."""
    rng = np.random.default_rng(seed)
    width, height = size
    ramp = np.linspace(0, 255, width, dtype=np.float64)[None, :, None]
    pixels = ramp + rng.integers(0, 40, (height, width, 3))
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    exif[0x0110] = f"Model {seed}"  # Model
    exif.get_ifd(0x8769)[0x9003] = f"2024:05:{seed + 1:02d} 10:11:12"  # DateTimeOriginal
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, subsampling=2, exif=exif.tobytes())
    return out.getvalue()


def make_inputs(folder: Path, count: int, *, broken_at: int | None = None) -> list[Path]:
    """``count`` JPEGs in ``folder``; the one at position ``broken_at`` (from 1) is not one."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for position in range(1, count + 1):
        path = folder / f"img{position:03d}.jpg"
        if position == broken_at:
            path.write_bytes(b"\xff\xd8\xff\xe0 not really a JPEG")
        else:
            path.write_bytes(camera_jpeg(position))
        paths.append(path)
    return paths


def comparable(path: Path, ignore: set[str]) -> dict[str, object]:
    """Every element of the file (meta too) by keyword or tag, except those in ``ignore``."""
    ds = pydicom.dcmread(path)
    values: dict[str, object] = {}
    for dataset in (ds.file_meta, ds):
        for element in dataset.iterall():
            key = element.keyword or str(element.tag)
            if key not in ignore and element.VR != "SQ":
                values[f"{key}#{len(values)}"] = element.value
    return values


def convert_cli(inputs: list[Path], out: Path, jobs: int, *extra: str) -> int:
    return main(["convert", *map(str, inputs), "-o", str(out), "--jobs", str(jobs), *extra])


@pytest.mark.parametrize("syntax", ["explicit-le", "jpeg-passthrough"])
def test_jobs_2_writes_the_same_series_as_jobs_1(tmp_path: Path, capsys, syntax: str) -> None:
    inputs = make_inputs(tmp_path / "in", 7, broken_at=4)
    outputs = {}
    for jobs in (1, 2):
        out = tmp_path / f"out{jobs}"
        assert convert_cli(inputs, out, jobs, "--transfer-syntax", syntax) == 2
        captured = capsys.readouterr()
        failures = captured.err.strip().splitlines()
        assert len(failures) == 1 and "img004.jpg" in failures[0], captured.err
        converted = [line for line in captured.out.splitlines() if " -> " in line]
        assert [line.split(" -> ")[0] for line in converted] == [
            p.name for p in inputs if p.name != "img004.jpg"
        ]  # reported in input order, whichever process finished first
        written = sorted(out.iterdir())
        assert [p.name for p in written] == [
            f"img{n:03d}.dcm" for n in (1, 2, 3, 5, 6, 7)
        ]  # the failing input wrote nothing, and no temporary file is left
        datasets = [pydicom.dcmread(p) for p in written]
        assert [ds.InstanceNumber for ds in datasets] == [1, 2, 3, 5, 6, 7]  # input positions
        assert len({ds.StudyInstanceUID for ds in datasets}) == 1
        assert len({ds.SeriesInstanceUID for ds in datasets}) == 1
        assert len({ds.SOPInstanceUID for ds in datasets}) == 6
        outputs[jobs] = written
    ignore = _PER_INSTANCE | _PER_CALL
    for one, two in zip(outputs[1], outputs[2], strict=True):
        assert comparable(one, ignore) == comparable(two, ignore)


def test_pool_and_in_process_differ_only_in_sop_instance_uids(tmp_path: Path) -> None:
    """With one shared series context, the pool's files equal one process's but for SOP UIDs."""
    inputs = make_inputs(tmp_path / "in", 6)
    job = batch.BatchJob({"PatientID": "TBP-1"}, new_series_context(), ConvertOptions())
    arrivals: dict[int, list[int]] = {}
    for jobs in (1, 2):
        out = tmp_path / f"out{jobs}"
        out.mkdir()
        items = batch.plan_batch([str(p) for p in inputs], out, single_file=False)
        order: list[int] = []
        progress: list[tuple[int, int]] = []
        results = batch.run_batch(
            items,
            job,
            jobs=jobs,
            on_result=lambda r, order=order: order.append(r.position),
            on_progress=lambda done, total, progress=progress: progress.append((done, total)),
        )
        assert [r.error for r in results] == [""] * 6
        assert order == [1, 2, 3, 4, 5, 6]
        assert progress == [(n, 6) for n in range(1, 7)]
        arrivals[jobs] = order
    for name in (p.with_suffix(".dcm").name for p in inputs):
        first = pydicom.dcmread(tmp_path / "out1" / name)
        second = pydicom.dcmread(tmp_path / "out2" / name)
        assert first.SOPInstanceUID != second.SOPInstanceUID
        assert comparable(tmp_path / "out1" / name, _PER_INSTANCE) == comparable(
            tmp_path / "out2" / name, _PER_INSTANCE
        )


def test_plan_refuses_an_input_as_its_own_output_and_a_second_input_of_one_name(
    tmp_path: Path,
) -> None:
    first = make_inputs(tmp_path / "a", 1)[0]
    second = make_inputs(tmp_path / "b", 1)[0]  # same name, other folder
    clash = tmp_path / "out" / "img001.dcm"
    items = batch.plan_batch([str(first), str(second)], tmp_path / "out", single_file=False)
    assert [item.target for item in items] == [clash, clash]
    assert items[0].refusal == ""
    assert "would overwrite" in items[1].refusal and str(second) in items[1].refusal
    itself = tmp_path / "x.dcm"
    itself.write_bytes(b"x")
    (own,) = batch.plan_batch([str(itself)], itself, single_file=True)
    assert "is the input itself" in own.refusal


def test_jobs_below_1_is_one_line_exit_2(tmp_path: Path, capsys) -> None:
    inputs = make_inputs(tmp_path / "in", 2)
    assert convert_cli(inputs, tmp_path / "out", 0) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["tbp-dicom: --jobs must be 1 or more, not 0"]


def test_progress_bar_text() -> None:
    assert batch.progress_bar(0, 4, width=8) == "converting 0/4 ▕────────▏"
    assert batch.progress_bar(1, 4, width=8) == "converting 1/4 ▕██──────▏"
    assert batch.progress_bar(4, 4, width=8) == "converting 4/4 ▕████████▏"


def test_no_progress_bar_when_piped(tmp_path: Path) -> None:
    inputs = make_inputs(tmp_path / "in", 5)
    done = subprocess.run(
        [str(TBP_DICOM), "convert", *map(str, inputs), "-o", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert len(list((tmp_path / "out").glob("*.dcm"))) == 5


def _session_members(session: int) -> list[int]:
    """Process ids still alive in the session ``session`` (zombies excluded)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[3]) == session:  # state, ..., session id
            members.append(int(entry.name))
    return members


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_the_pool_and_leaves_no_temporary_file(
    tmp_path: Path, sig: signal.Signals
) -> None:
    inputs = make_inputs(tmp_path / "in", 60)
    for path in inputs:  # larger images, so the batch is still running when the signal comes
        path.write_bytes(camera_jpeg(int(path.stem[3:]), size=(1200, 900)))
    out = tmp_path / "out"
    process = subprocess.Popen(
        [str(TBP_DICOM), "convert", *map(str, inputs), "-o", str(out), "--jobs", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own session: the workers are found by session id
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (
        out.is_dir() and any(not p.name.startswith(".") for p in out.iterdir())
    ):
        time.sleep(0.02)
    assert process.poll() is None, "the batch finished before it could be interrupted"
    os.kill(process.pid, sig)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "interrupted" in err and "Traceback" not in err
    assert _session_members(process.pid) == []  # every worker has ended
    names = [p.name for p in out.iterdir()]
    assert not [n for n in names if n.startswith(".tbp-")]
    assert 0 < len(names) < len(inputs)
    for name in names:  # each file written is whole
        assert pydicom.dcmread(out / name).Rows == 900
