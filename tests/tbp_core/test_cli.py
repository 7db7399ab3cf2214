"""The tbp-dicom command: contract of ARCHITECTURE.md §4 (outputs, exit codes, one-line errors)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest

from tbp_core.cli import main
from tests.conftest import CORPUS, DATA, ROOT
from tests.referee import dciodvfy

PNG_DIR = DATA / "png"
CORRUPT = sorted(PNG_DIR.glob("x*.png")) + sorted((DATA / "corrupt").glob("*"))
TBP_DICOM = Path(sys.executable).parent / "tbp-dicom"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed console script."""
    return subprocess.run([str(TBP_DICOM), *args], capture_output=True, text=True, timeout=120)


def test_single_input_to_dcm_file(tmp_path: Path) -> None:
    out = tmp_path / "one.dcm"
    done = run(
        "convert", str(PNG_DIR / "basn2c08.png"), "-o", str(out), "--set", "PatientName=Doe^Jane"
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    ds = pydicom.dcmread(out)
    assert ds.PatientName == "Doe^Jane"
    assert ds.Modality == "XC"


def test_batch_to_directory_with_template(tmp_path: Path) -> None:
    inputs = [str(PNG_DIR / n) for n in ("basn0g08.png", "basn2c08.png", "basn3p08.png")]
    template = str(ROOT / "sample_data" / "tbp_regional_template.json")
    assert main(["convert", *inputs, "-o", str(tmp_path / "out"), "--metadata", template]) == 0
    datasets = [pydicom.dcmread(tmp_path / "out" / f"{Path(i).stem}.dcm") for i in inputs]
    assert sorted(ds.InstanceNumber for ds in datasets) == [1, 2, 3]
    assert len({ds.SeriesInstanceUID for ds in datasets}) == 1


def test_batch_with_a_bad_input_converts_the_others_and_exits_2(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.png"
    bad.write_text("this is not a picture\n")
    good = PNG_DIR / "basn0g08.png"
    status = main(["convert", str(bad), str(good), "-o", str(tmp_path / "out")])
    assert status == 2
    assert (tmp_path / "out" / "basn0g08.dcm").exists()
    assert not (tmp_path / "out" / "bad.dcm").exists()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.png" in err[0]


@pytest.mark.parametrize("path", CORRUPT, ids=lambda p: p.name)
def test_corrupt_inputs_exit_2_with_one_line(path: Path, tmp_path: Path) -> None:
    done = run("convert", str(path), "-o", str(tmp_path / "x.dcm"))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert path.name in lines[0]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "x.dcm").exists()


@pytest.mark.parametrize(
    ("content", "needle"),
    [(b"", "empty"), (b"hello, I am text\n", "not a PNG, JPEG or TIFF")],
    ids=["empty", "text"],
)
def test_empty_and_text_files_named_png(content: bytes, needle: str, tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(content)
    done = run("convert", str(path), "-o", str(tmp_path / "x.dcm"))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert needle in done.stderr and "photo.png" in done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["convert", "missing.png", "-o", "x.dcm"],
        ["convert", "--iod", "nonsense", "a.png", "-o", "x.dcm"],
        ["convert", "a.png"],
        ["frobnicate"],
    ],
    ids=["missing-file", "bad-iod", "no-output", "bad-command"],
)
def test_unusable_arguments_exit_2_with_one_line(args: list[str], tmp_path: Path) -> None:
    done = subprocess.run([str(TBP_DICOM), *args], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr


def test_invalid_set_value_names_the_field(tmp_path: Path) -> None:
    done = run(
        "convert",
        str(PNG_DIR / "basn0g08.png"),
        "-o",
        str(tmp_path / "x.dcm"),
        "--set",
        "PatientBirthDate=2000-13-45",
    )
    assert done.returncode == 2
    assert "PatientBirthDate" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_16_bit_with_vl_points_to_secondary_capture(tmp_path: Path) -> None:
    done = run("convert", str(PNG_DIR / "basn0g16.png"), "-o", str(tmp_path / "x.dcm"))
    assert done.returncode == 2
    assert "--iod secondary-capture" in done.stderr
    done = run(
        "convert",
        str(PNG_DIR / "basn0g16.png"),
        "-o",
        str(tmp_path / "x.dcm"),
        "--iod",
        "secondary-capture",
    )
    assert done.returncode == 0, done.stderr
    assert pydicom.dcmread(tmp_path / "x.dcm").BitsStored == 16


def test_transparent_png_is_refused_with_the_alpha_options(tmp_path: Path) -> None:
    done = run("convert", str(PNG_DIR / "basn6a08.png"), "-o", str(tmp_path / "x.dcm"))
    assert done.returncode == 2
    for option in ("--alpha", "drop", "white", "black"):
        assert option in done.stderr


@pytest.mark.skipif(not (CORPUS / "images").is_dir(), reason="shared corpus not present")
@pytest.mark.parametrize("iod", ["vl-photographic", "secondary-capture"])
def test_corpus_images_convert_or_fail_in_one_line(iod: str, tmp_path: Path, capsys) -> None:
    """Every corpus image: converted with zero dciodvfy errors, or one clear line on stderr."""
    inputs = sorted(p for p in (CORPUS / "images").iterdir() if p.suffix.lower() != ".md")
    out = tmp_path / "out"
    status = main(["convert", *map(str, inputs), "-o", str(out), "--iod", iod, "--alpha", "white"])
    captured = capsys.readouterr()
    failures = captured.err.strip().splitlines()
    assert "Traceback" not in captured.err
    failed = {p.name for p in inputs if any(p.name in line for line in failures)}
    assert len(failures) == len(failed)  # one line per failed input
    converted = sorted(out.glob("*.dcm"))
    assert len(converted) + len(failed) == len(inputs)
    print(f"{iod}: {len(converted)} converted, {len(failed)} refused")
    assert status == (2 if failed else 0)
    assert len(converted) >= 60, len(converted)  # 68 (VL) and 80 (SC) of the 96 today
    for target in converted:
        report = dciodvfy(target)
        assert report.errors == (), f"{target.name}: {report.output}"
        assert report.unexplained_warnings == (), f"{target.name}: {report.output}"


def test_validate_produced_file_exits_0_and_json_follows_the_contract(tmp_path: Path) -> None:
    out = tmp_path / "ok.dcm"
    assert main(["convert", str(PNG_DIR / "basn2c08.png"), "-o", str(out)]) == 0
    done = run("validate", str(out), "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    payload = json.loads(done.stdout)
    (entry,) = payload["files"]
    assert set(entry) == {"file", "iod", "sop_class_uid", "findings"}
    assert entry["sop_class_uid"] == "1.2.840.10008.5.1.4.1.1.77.1.4"
    for finding in entry["findings"]:
        assert set(finding) == {"severity", "code", "tag", "keyword", "path", "module", "message"}
        assert finding["severity"] in {"warning", "info"}


def test_validate_exits_1_on_errors_and_names_the_attribute(tmp_path: Path) -> None:
    out = tmp_path / "broken.dcm"
    assert main(["convert", str(PNG_DIR / "basn2c08.png"), "-o", str(out)]) == 0
    ds = pydicom.dcmread(out)
    del ds.Modality
    ds.save_as(out)
    done = run("validate", str(out))
    assert done.returncode == 1
    assert "Modality" in done.stdout and "ERROR" in done.stdout


def test_validate_unreadable_file_exits_2_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "notes.dcm"
    bad.write_bytes(b"")
    good = tmp_path / "ok.dcm"
    assert main(["convert", str(PNG_DIR / "basn0g08.png"), "-o", str(good)]) == 0
    done = run("validate", str(bad), str(good))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "notes.dcm" in done.stderr
    assert "ok.dcm" in done.stdout


def _regional(tmp_path: Path) -> Path:
    out = tmp_path / "regional.dcm"
    template = str(ROOT / "sample_data" / "tbp_regional_template.json")
    assert (
        main(["convert", str(PNG_DIR / "basn2c08.png"), "-o", str(out), "--metadata", template])
        == 0
    )
    return out


def test_dump_text_json_and_search(tmp_path: Path) -> None:
    path = _regional(tmp_path)
    text = run("dump", str(path))
    assert text.returncode == 0
    assert "AnatomicRegionSequence(1)" in text.stdout and "Focal Length (pixels)" in text.stdout
    payload = json.loads(run("dump", str(path), "--format", "json", "--no-private").stdout)
    assert set(payload) == {"file_meta", "dataset"}
    assert not any(e["tag"].startswith("(0011") for e in payload["dataset"])
    region = next(e for e in payload["dataset"] if e["keyword"] == "AnatomicRegionSequence")
    assert region["vr"] == "SQ" and len(region["items"]) == 1
    shallow = json.loads(run("dump", str(path), "--format", "json", "--max-depth", "0").stdout)
    region = next(e for e in shallow["dataset"] if e["keyword"] == "AnatomicRegionSequence")
    assert region.get("items", []) == []
    hits = run("dump", str(path), "--search", "codemeaning").stdout
    assert "AnatomicRegionSequence[0] > CodeMeaning" in hits


def test_edit_applies_all_or_nothing(tmp_path: Path) -> None:
    path = _regional(tmp_path)
    out = tmp_path / "edited.dcm"
    done = run(
        "edit",
        str(path),
        "-o",
        str(out),
        "--set",
        "PatientName=Doe^John",
        "--set",
        "AnatomicRegionSequence[0].CodeMeaning=Skin of back",
        "--delete",
        "ContentQualification",
    )
    assert done.returncode == 0, done.stderr
    ds = pydicom.dcmread(out)
    assert ds.PatientName == "Doe^John" and "ContentQualification" not in ds
    refused = tmp_path / "refused.dcm"
    done = run(
        "edit",
        str(path),
        "-o",
        str(refused),
        "--set",
        "PatientName=Doe^Jim",
        "--set",
        "PatientBirthDate=2000-13-45",
    )
    assert done.returncode == 2
    assert "PatientBirthDate" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not refused.exists()
    assert dciodvfy(out).errors == ()


@pytest.mark.parametrize("command", ["dump", "validate"])
def test_reading_commands_refuse_non_dicom_in_one_line(command: str, tmp_path: Path) -> None:
    text = tmp_path / "notes.dcm"
    text.write_text("this is a text file, not DICOM\n" * 20)
    done = run(command, str(text))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "notes.dcm" in done.stderr
    assert "Traceback" not in done.stderr
