"""Structure and Validate are one evaluation: they never contradict each other.

For every DICOM file we have (tests/data, plus the shared corpus when present),
the places the Structure view calls ``missing`` — or ``empty`` with Type 1/1C —
are exactly the places of the validator's missing/empty errors, and the
``tbp-dicom structure`` JSON follows the contract of ARCHITECTURE.md §4.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from pydicom.dataset import Dataset

from tbp_core.errors import TbpError
from tbp_core.fileio.dicomio import read
from tbp_core.inspection import explain
from tbp_core.validation.validate import validate
from tests.conftest import CORPUS, DATA

PRESENCE_CODES = {
    "type1-missing",
    "type2-missing",
    "type1c-missing",
    "type2c-missing",
    "type1-empty",
    "type1c-empty",
}
STATUSES = {"present", "empty", "missing", "not-applicable"}


def _files() -> list[Path]:
    files = sorted((DATA / "dicom").iterdir())
    if (CORPUS / "dicom").is_dir():
        files += sorted(p for p in (CORPUS / "dicom").iterdir() if p.name != "SOURCES.md")
    return files


def _readable(path: Path) -> Dataset | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return read(path)
    except TbpError:
        return None


def _structure_problems(tree: explain.StructureTree) -> set[str]:
    return {
        a.path
        for ie in tree.ies
        for module in ie.modules
        for a in module.attributes
        if a.status == explain.MISSING or (a.status == explain.EMPTY and a.type in ("1", "1C"))
    }


def test_structure_and_validate_agree_on_every_file() -> None:
    compared = 0
    with_problems = 0
    disagreements: list[str] = []
    for path in _files():
        ds = _readable(path)
        if ds is None:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = explain.build_structure(ds)
            report = validate(ds)
        errors = {
            f.path
            for f in report.findings
            if f.code in PRESENCE_CODES and f.module != "file-meta-information"
        }
        shown = _structure_problems(tree)
        compared += 1
        with_problems += bool(errors)
        if errors != shown:
            disagreements.append(
                f"{path.name}: only validate {sorted(errors - shown)}, "
                f"only structure {sorted(shown - errors)}"
            )
    print(f"structure vs validate: {compared} files, {with_problems} with missing/empty errors")
    assert compared >= 6
    assert with_problems >= 2  # not vacuous: ExplVR_BigEndNoMeta and JPEG2000 lack attributes
    assert not disagreements, "\n".join(disagreements)


def test_sr_content_item_attributes_are_not_missing() -> None:
    """An SR's root attributes of particular content-item types are never 'missing'."""
    from pydicom.uid import generate_uid

    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.33"  # Comprehensive SR
    ds.SOPInstanceUID = generate_uid()
    ds.ValueType = "CONTAINER"
    tree = explain.build_structure(ds)
    by_keyword = {
        a.keyword: a.status
        for ie in tree.ies
        for m in ie.modules
        if m.key == "sr-document-content"
        for a in m.attributes
    }
    for keyword in ("GraphicData", "TemporalRangeType", "ReferencedSOPSequence"):
        assert by_keyword[keyword] == "not-applicable"
    assert by_keyword["ValueType"] == "present"


def test_missing_type1_is_shown_and_reported(data_dir: Path) -> None:
    ds = read(data_dir / "dicom" / "CT_small.dcm")
    del ds.StudyInstanceUID
    ds.Modality = ""
    tree = explain.build_structure(ds)
    status = {a.path: a.status for ie in tree.ies for m in ie.modules for a in m.attributes}
    assert status["StudyInstanceUID"] == "missing"
    assert status["Modality"] == "empty"
    codes = {(f.path, f.code) for f in validate(ds).errors}
    assert ("StudyInstanceUID", "type1-missing") in codes
    assert ("Modality", "type1-empty") in codes


@pytest.mark.parametrize("name", ["CT_small.dcm", "rtplan.dcm", "SC_rgb_rle.dcm"])
def test_cli_structure_json_contract(data_dir: Path, name: str) -> None:
    path = data_dir / "dicom" / name
    run = subprocess.run(
        [sys.executable, "-m", "tbp_core.cli", "structure", str(path), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert set(doc) == {"file", "iod", "sop_class_uid", "modules", "outside_iod"}
    assert doc["iod"] and doc["sop_class_uid"].startswith("1.2.840.10008.")
    for module in doc["modules"]:
        assert set(module) == {"module", "title", "ie", "usage", "attributes"}
        assert module["usage"][0] in "MCU"
        for a in module["attributes"]:
            # ARCHITECTURE.md's fields, plus uid_name (added by issue 15)
            assert set(a) == {"path", "tag", "keyword", "name", "type", "status", "value"} | {
                "uid_name"
            }
            assert a["status"] in STATUSES
            assert a["tag"].startswith("(") and len(a["tag"]) == 11
    for a in doc["outside_iod"]:
        assert set(a) == {"path", "tag", "keyword"} | {  # + issue 15's fields
            "name",
            "vr",
            "value",
            "uid_name",
            "private_creator",
        }
    text = subprocess.run(
        [sys.executable, "-m", "tbp_core.cli", "structure", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert text.returncode == 0 and "Patient" in text.stdout


def test_cli_structure_unreadable_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "not.dcm"
    bad.write_bytes(b"hello, this is not DICOM")
    run = subprocess.run(
        [sys.executable, "-m", "tbp_core.cli", "structure", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1
