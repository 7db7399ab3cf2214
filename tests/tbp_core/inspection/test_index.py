"""tbp-dicom index: every input file once, values equal to pydicom's, ZIP members in memory."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pydicom
import pytest
from pydicom.multival import MultiValue

from tbp_core.errors import TbpError
from tbp_core.fileio.archives import ArchiveLimits
from tbp_core.inspection import hierarchy, index, indexformat
from tests.conftest import DATA

TBP_DICOM = Path(sys.executable).parent / "tbp-dicom"
NESTED = "AnatomicRegionSequence[0].CodeMeaning"
REFERENCED = "ReferencedImageSequence[0].ReferencedSOPInstanceUID"
#: Folders of tests/data whose .dcm files are all readable instances (fuzz/ holds damaged ones).
KNOWN_GOOD = ("dicom", "heldout", "charset")


def _all_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _pydicom_text(value: object) -> str:
    if isinstance(value, MultiValue | list):
        return "\\".join(str(v) for v in value)
    return str(value)


def _expected(path: Path | bytes, column: str) -> str | None:
    """The value pydicom reads for a keyword or a one-level sequence path."""
    source = io.BytesIO(path) if isinstance(path, bytes) else path
    ds = pydicom.dcmread(source, force=True, stop_before_pixels=True)
    if "." in column:
        sequence, keyword = column.split("[0].")
        items = ds.get(sequence)
        if not items or keyword not in items[0]:
            return None
        return _pydicom_text(items[0][keyword].value)
    if column not in ds:
        return None
    return _pydicom_text(ds[column].value)


@pytest.fixture(scope="module")
def data_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/data as a ZIP archive, plus a sub-folder of it and an unsafe member name."""
    target = tmp_path_factory.mktemp("zip") / "data.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in _all_files(DATA):
            archive.write(path, path.relative_to(DATA).as_posix())
        archive.writestr("../escape.dcm", (DATA / "dicom" / "CT_small.dcm").read_bytes())
    return target


def test_every_file_is_listed_once_with_pydicoms_values(data_zip: Path) -> None:
    columns = index.parse_columns([NESTED, REFERENCED])
    found = index.index_paths([DATA, data_zip], columns)
    names = [row.file for row in found.instances] + [item.file for item in found.unreadable]
    files = _all_files(DATA)
    with zipfile.ZipFile(data_zip) as archive:
        members = [f"{data_zip}!{name}" for name in archive.namelist()]
    assert sorted(names) == sorted([str(p) for p in files] + members)
    assert len(names) == len(set(names))
    instances = {row.file for row in found.instances}
    known = [p for p in files if p.suffix == ".dcm" and p.parent.name in KNOWN_GOOD]
    assert len(known) >= 30
    for path in known:  # each is an instance, on disk and in the ZIP
        assert str(path) in instances
        assert f"{data_zip}!{path.relative_to(DATA).as_posix()}" in instances
    not_dicom = [p for p in files if p.suffix in (".png", ".jpg", ".md")]
    assert not {str(p) for p in not_dicom} & instances
    with zipfile.ZipFile(data_zip) as archive:
        for row in found.instances:
            if Path(row.file.replace("!", "/")).parent.name not in KNOWN_GOOD:
                continue  # fuzz/: pydicom itself may raise on them
            if "!" in row.file:
                source: Path | bytes = archive.read(row.file.split("!", 1)[1])
            else:
                source = Path(row.file)
            for column in ("PatientName", "StudyInstanceUID", "Modality", "SOPInstanceUID"):
                assert row.values[column] == _expected(source, column), (row.file, column)
            assert row.values[REFERENCED] == _expected(source, REFERENCED), row.file
    seen = {row.file: row for row in found.instances}
    assert seen[str(DATA / "heldout" / "fodicom__GH064.dcm")].values[REFERENCED] is not None


def test_unreadable_files_and_the_dicomdir_are_listed_with_a_reason(data_zip: Path) -> None:
    found = index.index_paths([DATA / "heldout", DATA / "png" / "basn0g08.png", data_zip])
    reasons = {item.file: item.error for item in found.unreadable}
    assert reasons[str(DATA / "heldout" / "fodicom__DICOMDIR")] == index.DICOMDIR_ERROR
    assert reasons[f"{data_zip}!heldout/fodicom__DICOMDIR"] == index.DICOMDIR_ERROR
    assert "no DICOM elements" in reasons[str(DATA / "png" / "basn0g08.png")]
    assert "climbs out of the archive" in reasons[f"{data_zip}!../escape.dcm"]
    missing = index.index_paths([DATA / "no-such-file.dcm"])
    assert missing.unreadable == (
        index.Unreadable(str(DATA / "no-such-file.dcm"), "no such file or directory"),
    )


def test_zip_members_over_the_limits_are_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.dcm", b"\0" * (3 << 20))
        archive.write(DATA / "dicom" / "MR_small.dcm", "mr.dcm")
    found = index.index_paths([bomb], limits=ArchiveLimits(max_member_bytes=1 << 20))
    assert [row.file for row in found.instances] == [f"{bomb}!mr.dcm"]
    assert "inflates to more than 1 MiB" in found.unreadable[0].error
    many = index.index_paths([bomb], limits=ArchiveLimits(max_members=1))
    assert many.instances == () and "2 members refused" in many.unreadable[0].error
    total = index.index_paths(
        [bomb], limits=ArchiveLimits(max_member_bytes=4 << 20, max_total_bytes=3 << 20)
    )
    reasons = {item.file: item.error for item in total.unreadable}
    assert "inflate to more than 3 MiB in all" in reasons[f"{bomb}!mr.dcm"]
    assert "no DICOM elements" in reasons[f"{bomb}!zeros.dcm"]


def test_columns_tags_paths_and_bad_names() -> None:
    columns = index.parse_columns(["(0008,0060)", " PatientName ", NESTED, ""])
    assert columns[-2:] == ("(0008,0060)", NESTED)
    assert columns.count("PatientName") == 1
    ds = pydicom.dcmread(DATA / "dicom" / "CT_small.dcm")
    assert index.column_value(ds, "(0008,0060)") == "CT"
    assert index.column_value(ds, "TransferSyntaxUID") == str(ds.file_meta.TransferSyntaxUID)
    assert index.column_value(ds, "ImagePositionPatient") == "\\".join(
        str(v) for v in ds.ImagePositionPatient
    )
    assert index.column_value(ds, "PixelData") == "<OW, 32.8 kB>"
    assert index.split_columns("a,(0008,0060), B[0].C,,") == ["a", "(0008,0060)", "B[0].C"]
    with pytest.raises(TbpError, match="NoSuchKeyword"):
        index.parse_columns(["NoSuchKeyword"])


def test_csv_and_json_agree_and_the_exit_codes() -> None:
    args = [str(TBP_DICOM), "index", str(DATA / "dicom"), str(DATA / "heldout")]
    extra = ["--columns", f"{NESTED},(0028,0010)"]
    as_json = subprocess.run([*args, *extra, "--format", "json"], capture_output=True, text=True)
    as_csv = subprocess.run([*args, *extra, "--format", "csv"], capture_output=True, text=True)
    assert as_json.returncode == as_csv.returncode == 0, as_json.stderr
    payload = json.loads(as_json.stdout)
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert len(rows) == len(payload["instances"]) > 10
    for row, instance in zip(rows, payload["instances"], strict=True):
        assert row == {key: value or "" for key, value in instance.items()}
    assert list(payload["instances"][0]) == [*index.DEFAULT_COLUMNS, NESTED, "(0028,0010)"]
    assert payload["unreadable"] == [
        {"file": str(DATA / "heldout" / "fodicom__DICOMDIR"), "error": index.DICOMDIR_ERROR}
    ]
    nothing = subprocess.run(
        [str(TBP_DICOM), "index", str(DATA / "png")], capture_output=True, text=True
    )
    assert nothing.returncode == 2
    assert nothing.stderr.splitlines()[-1].startswith("tbp-dicom: no readable DICOM instance")
    bad = subprocess.run([*args, "--columns", "Nope"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "'Nope'" in bad.stderr


def test_rows_of_datasets_and_their_hierarchy() -> None:
    names = ["CT_small.dcm", "MR_small.dcm", "SC_rgb_rle.dcm", "SC_rgb_16bit.dcm"]
    datasets = [(name, pydicom.dcmread(DATA / "dicom" / name)) for name in names]
    rows = index.index_datasets(datasets, ["file", "PatientName", "Rows"])
    assert [row.values["Rows"] for row in rows] == [str(ds.Rows) for _, ds in datasets]
    patients = hierarchy.group_instances(rows)
    counts = {p.key: (len(p.studies), p.instance_count) for p in patients}
    assert counts == {
        ("1CT1", "CompressedSamples^CT1"): (1, 1),
        ("4MR1", "CompressedSamples^MR1"): (1, 1),
        ("ID1", "Lestrade^G"): (1, 2),
    }
    lestrade = next(p for p in patients if p.key[0] == "ID1")
    series = lestrade.studies[0].series
    assert len(series) == 1 and [r.file for r in series[0].instances] == sorted(names[2:])


def test_table_text_lists_every_instance() -> None:
    found = index.index_paths([DATA / "dicom"])
    text = indexformat.to_table_text(found)
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["file", "PatientID", "PatientName"]
    assert len(lines) == len(found.instances) + 3
    assert lines[-1] == f"{len(found.instances)} instances, 0 other files"


def test_scopes_list_every_node_once_with_the_instances_under_it() -> None:
    names = ["CT_small.dcm", "MR_small.dcm", "SC_rgb_rle.dcm", "SC_rgb_16bit.dcm"]
    datasets = [(name, pydicom.dcmread(DATA / "dicom" / name)) for name in names]
    rows = index.index_datasets(datasets, ["file"])
    patients = hierarchy.group_instances(rows)
    found = hierarchy.scopes(patients)
    assert found[0].key == hierarchy.ALL and found[0].level == 0
    assert sorted(r.file for r in found[0].instances) == sorted(names)
    keys = [scope.key for scope in found]
    assert len(set(keys)) == len(keys)
    levels = [scope.level for scope in found]
    assert levels.count(1) == len(patients)
    assert levels.count(2) == sum(len(p.studies) for p in patients)
    assert levels.count(3) == sum(len(s.series) for p in patients for s in p.studies)
    # Each node holds exactly the instances of the nodes below it, in tree order.
    for position, scope in enumerate(found[1:], start=1):
        below = []
        for child in found[position + 1 :]:
            if child.level <= scope.level:
                break
            if child.level == 3:
                below += [r.file for r in child.instances]
        if scope.level < 3:
            assert [r.file for r in scope.instances] == below
    lestrade = next(s for s in found if s.level == 1 and "Lestrade" in s.label)
    assert sorted(r.file for r in lestrade.instances) == ["SC_rgb_16bit.dcm", "SC_rgb_rle.dcm"]
    # Keys are made of identifiers: the same files grouped again give the same keys.
    assert [s.key for s in hierarchy.scopes(hierarchy.group_instances(rows))] == keys
