"""Close-ups linked to their regional overview: ``convert --regional`` (issue 15, item 1)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pydicom
import pytest

from tbp_core.building import lesionlink
from tbp_core.errors import MetadataError, TbpError
from tbp_core.standard import private
from tests.conftest import ROOT
from tests.referee import dciodvfy

SAMPLES = ROOT / "sample_data"
TBP_DICOM = Path(sys.executable).parent / "tbp-dicom"
CLOSE_UP = [
    str(SAMPLES / "dermoscopic_lesion.png"),
    "--iod",
    "dermoscopic",
    "--metadata",
    str(SAMPLES / "dermoscopic_equipment_template.json"),
]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed console script."""
    return subprocess.run([str(TBP_DICOM), *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def overview(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("overview") / "overview.dcm"
    template = str(SAMPLES / "tbp_regional_template.json")
    done = run(
        "convert", str(SAMPLES / "regional_back.png"), "-o", str(out), "--metadata", template
    )
    assert done.returncode == 0, done.stderr
    return out


def close_up(overview: Path, out: Path, *extra: str) -> pydicom.Dataset:
    done = run("convert", *CLOSE_UP, "-o", str(out), "--regional", str(overview), *extra)
    assert done.returncode == 0, done.stderr
    return pydicom.dcmread(out)


def test_close_up_references_the_overview_and_joins_its_study(
    overview: Path, tmp_path: Path
) -> None:
    target = tmp_path / "lesion.dcm"
    ds = close_up(overview, target, "--location", "120,340", "--lesion-id", "L7")
    ov = pydicom.dcmread(overview)

    (ref,) = ds.ReferencedImageSequence
    assert ref.ReferencedSOPInstanceUID == ov.SOPInstanceUID
    assert ref.ReferencedSOPClassUID == ov.SOPClassUID == pydicom.uid.VLPhotographicImageStorage
    (purpose,) = ref.PurposeOfReferenceCodeSequence
    assert (purpose.CodeValue, purpose.CodingSchemeDesignator) == ("121311", "DCM")

    for keyword in (*lesionlink.PATIENT_KEYWORDS, *lesionlink.STUDY_KEYWORDS):
        assert ds[keyword].value == ov[keyword].value, keyword
    assert ds.PatientID == "TBP-0001"
    assert ds.SeriesInstanceUID != ov.SeriesInstanceUID

    assert ds.TrackingID == "L7"
    assert ds.TrackingUID == lesionlink.tracking_uid("TBP-0001", "L7")
    assert private.get_tbp_values(ds)[lesionlink.LOCATION_KEY] == [120.0, 340.0]

    report = dciodvfy(target)
    assert report.errors == ()
    assert report.unexplained_warnings == ()


def test_tracking_uid_is_stable_per_patient_and_lesion(overview: Path, tmp_path: Path) -> None:
    first = close_up(overview, tmp_path / "a.dcm", "--lesion-id", "L7")
    again = close_up(overview, tmp_path / "b.dcm", "--lesion-id", "L7")
    other = close_up(overview, tmp_path / "c.dcm", "--lesion-id", "L8")
    other_patient = close_up(
        overview, tmp_path / "d.dcm", "--lesion-id", "L7", "--set", "PatientID=TBP-0002"
    )
    assert first.SOPInstanceUID != again.SOPInstanceUID
    assert first.TrackingUID == again.TrackingUID
    assert other.TrackingUID != first.TrackingUID
    assert other_patient.PatientID == "TBP-0002"
    assert other_patient.TrackingUID not in (first.TrackingUID, other.TrackingUID)


def test_template_and_set_win_over_the_overview(overview: Path, tmp_path: Path) -> None:
    ds = close_up(overview, tmp_path / "x.dcm", "--set", "StudyDescription=Lesion follow-up")
    assert ds.StudyDescription == "Lesion follow-up"
    assert ds.StudyInstanceUID == pydicom.dcmread(overview).StudyInstanceUID
    assert "TrackingID" not in ds
    assert lesionlink.LOCATION_KEY not in private.get_tbp_values(ds)


@pytest.mark.parametrize(
    ("regional", "needle"),
    [
        (SAMPLES / "regional_back.png", "is not a VL image"),
        (SAMPLES / "tbp_regional_template.json", "tbp_regional_template.json"),
    ],
)
def test_non_dicom_regional_exits_2_with_one_line(
    regional: Path, needle: str, tmp_path: Path
) -> None:
    out = tmp_path / "x.dcm"
    done = run("convert", *CLOSE_UP, "-o", str(out), "--regional", str(regional))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert needle in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()


def test_dermoscopic_overview_is_refused(overview: Path, tmp_path: Path) -> None:
    derm = tmp_path / "derm.dcm"
    close_up(overview, derm)
    done = run("convert", *CLOSE_UP, "-o", str(tmp_path / "y.dcm"), "--regional", str(derm))
    assert done.returncode == 2
    assert "Dermoscopic Photography Image Storage" in done.stderr


def test_location_outside_the_overview_and_without_regional(overview: Path, tmp_path: Path) -> None:
    out = str(tmp_path / "z.dcm")
    outside = run(
        "convert", *CLOSE_UP, "-o", out, "--regional", str(overview), "--location", "1024,0"
    )
    assert outside.returncode == 2
    assert "outside the overview (1024 columns × 768 rows)" in outside.stderr
    alone = run("convert", *CLOSE_UP, "-o", out, "--lesion-id", "L7")
    assert alone.returncode == 2
    assert "need --regional" in alone.stderr


@pytest.mark.parametrize("text", ["120", "a,b", "1,2,3", "-1,5", "inf,2", ""])
def test_parse_location_refuses_bad_text(text: str) -> None:
    with pytest.raises(MetadataError, match="--location"):
        lesionlink.parse_location(text)


def test_parse_location_reads_column_then_row() -> None:
    assert lesionlink.parse_location(" 120.5, 340 ") == (120.5, 340.0)


def test_lesion_link_metadata_needs_a_non_empty_lesion_id(overview: Path) -> None:
    ds = pydicom.dcmread(overview)
    with pytest.raises(MetadataError, match="empty"):
        lesionlink.lesion_link_metadata(ds, {}, lesion_id=" ")
    values = lesionlink.lesion_link_metadata(ds, {"PatientID": "X"}, lesion_id="L1")
    assert values["TrackingUID"] == lesionlink.tracking_uid("X", "L1")
    del ds.Rows
    with pytest.raises(TbpError, match="Rows"):
        lesionlink.check_overview(ds)


def test_validate_checks_the_link_among_the_files_it_is_given(
    overview: Path, tmp_path: Path
) -> None:
    import json

    from tests.conftest import DATA

    target = tmp_path / "lesion.dcm"
    close_up(overview, target, "--lesion-id", "L7")

    def link_findings(*files: Path) -> tuple[int, list[dict[str, str]]]:
        done = run("validate", *map(str, files), "--format", "json")
        reports = json.loads(done.stdout)["files"]
        return done.returncode, [
            f for f in reports[0]["findings"] if f["code"].startswith("lesion-link")
        ]

    code, (ok,) = link_findings(target, overview)
    assert (code, ok["severity"], ok["code"]) == (0, "info", "lesion-link-ok")
    assert ok["path"] == "ReferencedImageSequence[0].ReferencedSOPInstanceUID"

    code, (missing,) = link_findings(target)
    assert (code, missing["severity"]) == (0, "warning")
    assert "among the files validated" in missing["message"]
    assert "tbp-dicom validate CLOSEUP OVERVIEW" in missing["message"]

    # A CT image with the overview's SOP Instance UID: the link points at a non-VL image.
    ct = pydicom.dcmread(DATA / "dicom" / "CT_small.dcm")
    ct.SOPInstanceUID = pydicom.dcmread(overview).SOPInstanceUID
    fake = tmp_path / "ct.dcm"
    ct.save_as(fake)
    code, (wrong,) = link_findings(target, fake)
    assert (code, wrong["severity"], wrong["code"]) == (1, "error", "lesion-link-overview-not-vl")
    assert "not a VL image" in wrong["message"]
    text = run("validate", str(target), str(fake))
    assert "not a VL image" in text.stdout
