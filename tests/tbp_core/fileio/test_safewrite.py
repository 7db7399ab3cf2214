"""Safe writes: all or nothing, never a temp file left, never the input overwritten."""

from __future__ import annotations

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

from tbp_core.errors import TbpError
from tbp_core.fileio.safewrite import same_file, write_atomically
from tests.conftest import DATA


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(".tbp-"))


def test_write_atomically_writes_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    write_atomically(target, lambda stream: stream.write(b"x" * 1000))
    assert target.read_bytes() == b"x" * 1000
    assert _leftovers(tmp_path) == []


def test_failed_write_keeps_the_old_file_and_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")

    def broken(stream: object) -> None:
        stream.write(b"new, half")  # type: ignore[attr-defined]
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        write_atomically(target, broken)
    assert target.read_bytes() == b"old"
    assert _leftovers(tmp_path) == []


def test_unwritable_directory_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(TbpError, match="cannot write"):
        write_atomically(tmp_path / "missing" / "out.bin", lambda stream: stream.write(b"x"))


def test_same_file(tmp_path: Path) -> None:
    a = tmp_path / "a.dcm"
    a.write_bytes(b"1")
    (tmp_path / "link.dcm").symlink_to(a)
    assert same_file(a, tmp_path / "link.dcm")
    assert same_file(a, tmp_path / "." / "a.dcm")
    assert not same_file(a, tmp_path / "b.dcm")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tbp_core", *args], capture_output=True, text=True, check=False
    )


def test_edit_refuses_to_overwrite_its_input_without_in_place(tmp_path: Path) -> None:
    source = tmp_path / "ct.dcm"
    original = (DATA / "dicom" / "CT_small.dcm").read_bytes()
    source.write_bytes(original)
    run = _cli("edit", str(source), "-o", str(source), "--set", "PatientName=Doe^Jane")
    assert run.returncode == 2 and "--in-place" in run.stderr
    assert "Traceback" not in run.stderr
    assert source.read_bytes() == original
    run = _cli("edit", str(source), "--in-place", "--set", "PatientName=Doe^Jane")
    assert run.returncode == 0, run.stderr
    assert str(pydicom.dcmread(source).PatientName) == "Doe^Jane"
    assert _leftovers(tmp_path) == []


def test_convert_refuses_to_replace_its_input(tmp_path: Path) -> None:
    image = tmp_path / "photo.dcm"  # a PNG named .dcm: converting it onto itself
    image.write_bytes((DATA / "png" / "basn2c08.png").read_bytes())
    before = image.read_bytes()
    run = _cli("convert", str(image), "-o", str(image))
    assert run.returncode == 2 and "is the input itself" in run.stderr
    assert image.read_bytes() == before


def test_edit_of_a_damaged_file_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    damaged = tmp_path / "cut.dcm"
    damaged.write_bytes((DATA / "dicom" / "CT_small.dcm").read_bytes()[:-1000])
    out = tmp_path / "out.dcm"
    run = _cli("edit", str(damaged), "-o", str(out), "--set", "PatientName=X")
    assert run.returncode == 2
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1
    assert not out.exists() and _leftovers(tmp_path) == []


@pytest.fixture(scope="module")
def big_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3000×3000 RGB PNG: long enough to convert that a signal lands mid-way."""
    rng = np.random.default_rng(7)
    path = tmp_path_factory.mktemp("big") / "big.png"
    Image.fromarray(rng.integers(0, 255, (3000, 3000, 3), dtype=np.uint8)).save(
        path, compress_level=1
    )
    return path


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("delay", [0.3, 0.9])
def test_killed_convert_leaves_no_partial_output_and_no_temp_file(
    big_png: Path, tmp_path: Path, sig: signal.Signals, delay: float
) -> None:
    target = tmp_path / "out.dcm"
    process = subprocess.Popen(
        [sys.executable, "-m", "tbp_core", "convert", str(big_png), "-o", str(target)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    time.sleep(delay)
    if process.poll() is None:
        os.kill(process.pid, sig)
    _, stderr = process.communicate(timeout=60)
    assert b"Traceback" not in stderr
    assert _leftovers(tmp_path) == []
    if target.exists():  # finished before the signal: then it is complete
        ds = pydicom.dcmread(target)
        assert ds.Rows == 3000 and len(ds.PixelData) == 3000 * 3000 * 3


def test_temp_file_of_a_killed_process_is_removed_by_the_next_write(
    big_png: Path, tmp_path: Path
) -> None:
    """SIGKILL cannot be handled: the next write into the directory cleans up after it."""
    target = tmp_path / "out.dcm"
    process = subprocess.Popen(
        [sys.executable, "-m", "tbp_core", "convert", str(big_png), "-o", str(target)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not _leftovers(tmp_path) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    killed_mid_write = process.poll() is None and bool(_leftovers(tmp_path))
    process.kill()
    process.wait(timeout=30)
    if killed_mid_write:
        assert not target.exists()  # the target never holds half a file
    write_atomically(tmp_path / "other.bin", lambda stream: stream.write(b"x"))
    assert _leftovers(tmp_path) == []


def test_temp_files_of_live_processes_are_kept(tmp_path: Path) -> None:
    mine = tmp_path / f".tbp-{os.getpid()}-{'0' * 16}.dcm"
    mine.write_bytes(b"in progress")
    write_atomically(tmp_path / "other.bin", lambda stream: stream.write(b"x"))
    assert mine.exists()
