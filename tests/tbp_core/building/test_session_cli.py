"""``convert --manifest`` / ``convert FOLDER --session`` and ``templates``, as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pydicom

from tests.tbp_core.building.test_manifest import EQUIPMENT, IMAGES, MANIFEST, _png

TBP_DICOM = Path(sys.executable).parent / "tbp-dicom"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed console script."""
    return subprocess.run([str(TBP_DICOM), *args], capture_output=True, text=True, timeout=180)


def _visit(folder: Path, names: dict[str, tuple[int, int]]) -> Path:
    for seed, (name, size) in enumerate(names.items()):
        _png(folder / name, size, seed)
    return folder


def test_manifest_session_in_worker_processes(tmp_path: Path) -> None:
    visit = _visit(tmp_path / "visit", IMAGES)
    (visit / "session.csv").write_text(MANIFEST, encoding="utf-8")
    out = tmp_path / "out"
    done = run(
        "convert",
        "--manifest",
        str(visit / "session.csv"),
        "-o",
        str(out),
        "--set",
        "PatientID=TBP-0001",
        "--closeup-metadata",
        str(EQUIPMENT),
        "--jobs",
        "2",
    )
    assert done.returncode == 0, done.stderr
    files = [pydicom.dcmread(path) for path in sorted(out.glob("*.dcm"))]
    assert len(files) == 5
    (study,) = {ds.StudyInstanceUID for ds in files}
    assert f"session: study {study} -> {out}: overviews 2 (series 1), close-ups 3" in done.stdout
    series = {}
    for ds in files:
        series.setdefault((ds.SeriesNumber, ds.Modality), []).append(ds.InstanceNumber)
    assert {key: sorted(numbers) for key, numbers in series.items()} == {
        (1, "XC"): [1, 2],
        (2, "DMS"): [1, 2, 3],
    }
    assert "no overview for the tbp-session views: head, neck" in done.stderr


def test_folder_session_dry_run_prints_the_manifest_and_writes_nothing(tmp_path: Path) -> None:
    visit = _visit(
        tmp_path / "visit",
        {"back_overview.png": (32, 24), "back_closeup_L1.png": (16, 16)},
    )
    out = tmp_path / "out"
    done = run(
        "convert",
        str(visit),
        "--session",
        "--dry-run",
        "-o",
        str(out),
        "--closeup-metadata",
        str(EQUIPMENT),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "file,kind,region,laterality,lesion_id,regional,x,y",
        "back_closeup_L1.png,closeup,Skin of back,,L1,back_overview.png,,",
        "back_overview.png,overview,Skin of back,,,,,",
    ]
    assert not out.exists()


def test_bad_manifest_is_one_line_per_problem_exit_2_nothing_written(tmp_path: Path) -> None:
    visit = _visit(tmp_path / "visit", {"back.png": (16, 16)})
    (visit / "s.csv").write_text("file,region\nback.png,bakc\ngone.png,back\n", encoding="utf-8")
    out = tmp_path / "out"
    done = run("convert", "--manifest", str(visit / "s.csv"), "-o", str(out))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith("tbp-dicom: s.csv line 2: region 'bakc' is not a known")
    assert "'Skin of back' (66643007)" in lines[0]
    assert lines[1].startswith("tbp-dicom: s.csv line 3: image 'gone.png' not found")
    assert lines[-1] == "tbp-dicom: nothing was written"
    assert "Traceback" not in done.stderr
    assert not out.exists()


def test_session_refuses_single_image_options(tmp_path: Path) -> None:
    visit = _visit(tmp_path / "visit", {"back.png": (16, 16)})
    done = run(
        "convert", str(visit), "--session", "-o", str(tmp_path / "o"), "--iod", "dermoscopic"
    )
    assert done.returncode == 2
    assert "--iod cannot be used with a session" in done.stderr
    folder = run("convert", str(visit), "-o", str(tmp_path / "o"))
    assert folder.returncode == 2
    assert "is a folder: add --session" in folder.stderr
    assert not (tmp_path / "o").exists()


def test_templates_lists_the_session_views() -> None:
    text = run("templates")
    assert text.returncode == 0, text.stderr
    assert "tbp-session:" in text.stdout
    assert "left-arm" in text.stdout and "Skin of upper extremity (SCT 371311000)" in text.stdout
    listing = json.loads(run("templates", "tbp-session", "--format", "json").stdout)
    (template,) = listing["templates"]
    views = {view["name"]: view for view in template["views"]}
    assert views["posterior-trunk"]["code_value"] == "66643007"
    assert views["right-leg"]["laterality"] == "R"
    assert "CID 4029" in template["source"]
    unknown = run("templates", "nope")
    assert unknown.returncode == 2
    assert "no session template 'nope'; there is: tbp-session" in unknown.stderr


def test_convert_help_documents_sessions() -> None:
    done = run("convert", "--help")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    for needle in (
        "--manifest SESSION.csv",
        "--session",
        "--closeup-metadata",
        "--dry-run",
        "file, region, laterality, lesion_id, regional",
        "left-arm_closeup_L12.jpg",
    ):
        assert needle in text, needle
