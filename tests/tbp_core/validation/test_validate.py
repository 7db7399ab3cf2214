"""The validator: produced files are clean, each seed mistake is found, nothing is decoded."""

from __future__ import annotations

import io
from pathlib import Path

import pydicom
import pytest
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from tbp_core.building.convert import ConvertOptions, convert_image
from tbp_core.building.iods import (
    DERMOSCOPIC,
    SECONDARY_CAPTURE,
    VL_PHOTOGRAPHIC,
    new_series_context,
)
from tbp_core.building.metadata import parse_template
from tbp_core.fileio import dicomio
from tbp_core.standard import iod_for_sop_class
from tbp_core.validation.validate import validate
from tests.conftest import CORPUS, DATA, ROOT

PNG = DATA / "png" / "basn2c08.png"
GREY = DATA / "png" / "basn0g08.png"
EQUIPMENT = parse_template(
    (ROOT / "sample_data" / "dermoscopic_equipment_template.json").read_bytes()
)
REGIONAL = parse_template((ROOT / "sample_data" / "tbp_regional_template.json").read_bytes())


IOD_KEYS = {
    VL_PHOTOGRAPHIC: "vl-photographic-image",
    DERMOSCOPIC: "dermoscopic-photography-image",
    SECONDARY_CAPTURE: "secondary-capture-image",
}


def produced(iod=VL_PHOTOGRAPHIC, path: Path = PNG, metadata=None) -> Dataset:
    """A converted file, written and read back the way users read files."""
    if metadata is None:
        metadata = EQUIPMENT if iod is DERMOSCOPIC else REGIONAL
    converted = convert_image(
        path.read_bytes(),
        path.name,
        metadata,
        new_series_context(),
        options=ConvertOptions(iod=iod),
    )
    return dicomio.read(dicomio.to_bytes(converted.dataset))


def reread(ds: Dataset) -> Dataset:
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return pydicom.dcmread(io.BytesIO(buffer.getvalue()), force=True, defer_size=1024)


def codes(ds: Dataset) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for finding in validate(ds).findings:
        found.setdefault(finding.code, []).append(finding.keyword or finding.tag)
    return found


@pytest.mark.parametrize(
    "iod", [VL_PHOTOGRAPHIC, DERMOSCOPIC, SECONDARY_CAPTURE], ids=lambda i: i.name
)
@pytest.mark.parametrize("path", [PNG, GREY], ids=lambda p: p.name)
def test_produced_files_have_no_errors(iod, path: Path) -> None:
    report = validate(produced(iod, path))
    assert report.errors == (), report.errors
    assert report.iod == IOD_KEYS[iod]
    assert report.sop_class_uid == iod.sop_class_uid


def test_finding_fields_are_filled() -> None:
    ds = produced()
    del ds.StudyDate
    finding = next(f for f in validate(ds).errors if f.keyword == "StudyDate")
    assert finding.code == "type2-missing"
    assert finding.tag == "(0008,0020)"
    assert finding.path == "StudyDate"
    assert finding.module == "general-study" and finding.ie == "Study"
    assert finding.field == "StudyDate"
    assert "StudyDate" in finding.message and "\n" not in finding.message


def test_type1_missing_and_empty() -> None:
    ds = produced()
    del ds.SeriesInstanceUID
    ds.Modality = ""
    found = codes(ds)
    assert "SeriesInstanceUID" in found["type1-missing"]
    assert "Modality" in found["type1-empty"]


def test_type1_inside_sequence_item_has_item_path() -> None:
    ds = produced()
    del ds.AnatomicRegionSequence[0].CodeMeaning
    finding = next(f for f in validate(ds).errors if f.keyword == "CodeMeaning")
    assert finding.path == "AnatomicRegionSequence[0].CodeMeaning"
    assert finding.field == ""


def test_seed_retired_image_position_and_orientation() -> None:
    ds = produced()
    ds.add_new(0x00200030, "DS", [0, 0, 0])
    ds.add_new(0x00200035, "DS", [1, 0, 0, 0, 1, 0])
    retired = [f for f in validate(ds).warnings if f.code == "retired"]
    assert {f.keyword for f in retired} == {"ImagePosition", "ImageOrientation"}
    assert any("ImagePositionPatient" in f.message for f in retired)


def test_seed_rgb_with_one_sample_per_pixel() -> None:
    ds = produced()
    ds.SamplesPerPixel = 1
    found = codes(reread(ds))
    assert "photometric-samples" in found
    assert "pixel-length" in found


def test_seed_pixel_spacing_with_one_value() -> None:
    ds = produced()
    ds.PixelSpacing = ["0.1"]
    errors = [f for f in validate(reread(ds)).errors if f.keyword == "PixelSpacing"]
    assert [(f.code, f.path) for f in errors] == [("vm", "PixelSpacing")]


def test_seed_exposure_time_in_vl_photographic() -> None:
    ds = produced()
    ds.ExposureTime = 10
    assert "ExposureTime" in codes(ds)["not-in-iod"]


def test_seed_sop_class_as_text() -> None:
    ds = produced()
    ds.SOPClassUID = "VL Photographic Image"
    report = validate(ds)
    assert report.iod == ""
    assert any(f.code == "sop-class-unknown" for f in report.errors)


def test_seed_snomed_rt_code() -> None:
    ds = produced()
    item = ds.AnatomicRegionSequence[0]
    item.CodeValue, item.CodingSchemeDesignator = "T-02471", "DAS"
    finding = next(f for f in validate(ds).warnings if f.code == "obsolete-code")
    assert finding.path == "AnatomicRegionSequence[0].CodeValue"
    assert "SCT" in finding.message


def test_seed_private_element_without_creator() -> None:
    ds = produced()
    if 0x00111010 not in ds:
        ds.add_new(0x00111010, "LO", "orphan")
    del ds[0x00110010]
    found = codes(ds)
    assert "(0011,1010)" in found["private-no-creator"]


def test_private_elements_with_creator_are_fine() -> None:
    assert "private-no-creator" not in codes(produced())


def test_file_meta_mismatch_and_unknown_syntax() -> None:
    ds = produced()
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4"
    ds.file_meta.TransferSyntaxUID = "1.2.3.999"
    found = codes(ds)
    assert "MediaStorageSOPInstanceUID" in found["meta-sop-mismatch"]
    assert "TransferSyntaxUID" in found["meta-transfer-syntax"]


def test_missing_meta_element_and_no_preamble() -> None:
    ds = produced()
    del ds.file_meta.ImplementationClassUID
    ds.preamble = None
    found = codes(ds)
    assert "ImplementationClassUID" in found["type1-missing"]
    assert "meta-no-preamble" in found


def test_planar_configuration_condition() -> None:
    ds = produced()
    del ds.PlanarConfiguration
    assert "PlanarConfiguration" in codes(ds)["type1c-missing"]
    grey = produced(path=GREY)  # one sample per pixel: no Planar Configuration needed
    assert "PlanarConfiguration" not in grey
    assert "PlanarConfiguration" not in codes(grey).get("type1c-missing", [])


def test_laterality_condition() -> None:
    ds = produced(SECONDARY_CAPTURE)
    for keyword in ("Laterality", "ImageLaterality", "BodyPartExamined"):
        if keyword in ds:
            delattr(ds, keyword)
    assert "Laterality" in codes(ds)["type2c-missing"]
    ds.BodyPartExamined = "CHEST"  # unpaired: no laterality needed
    assert "Laterality" not in codes(ds).get("type2c-missing", [])


def test_deidentification_condition() -> None:
    ds = produced()
    ds.PatientIdentityRemoved = "YES"
    for keyword in ("DeidentificationMethod", "DeidentificationMethodCodeSequence"):
        if keyword in ds:
            delattr(ds, keyword)
    missing = codes(ds)["type1c-missing"]
    assert {"DeidentificationMethod", "DeidentificationMethodCodeSequence"} <= set(missing)
    ds.DeidentificationMethod = "basic profile"
    assert not {"DeidentificationMethod"} & set(codes(ds).get("type1c-missing", []))


def test_specific_character_set_condition() -> None:
    ds = produced()
    ds.PatientName = "Müller^Zoë"
    if "SpecificCharacterSet" in ds:
        del ds.SpecificCharacterSet
    assert "SpecificCharacterSet" in codes(ds)["type1c-missing"]


def test_unevaluated_conditions_are_listed_once() -> None:
    infos = [f for f in validate(produced()).findings if f.code == "condition-not-evaluated"]
    assert len(infos) == 1
    assert infos[0].severity == "info"


def test_pixel_data_is_never_read() -> None:
    ds = produced()
    raw = ds.get_item(0x7FE00010, keep_deferred=True)
    assert isinstance(raw, RawDataElement) and raw.value is None
    assert validate(ds).errors == ()  # a produced file: clean, pixels checked by length only
    raw = ds.get_item(0x7FE00010, keep_deferred=True)
    assert isinstance(raw, RawDataElement) and raw.value is None


def test_pixel_length_from_a_buffer() -> None:
    ds = Dataset()
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.BitsAllocated = 2, 3, 1, 8
    ds.PixelData = io.BytesIO(b"\0" * 5)
    assert "pixel-length" in codes(ds)
    ds.PixelData = io.BytesIO(b"\0" * 6)
    assert "pixel-length" not in codes(ds)


def test_missing_sop_class_is_an_error_and_values_still_checked() -> None:
    ds = Dataset()
    ds.PatientName = "Doe^Jane"
    ds.PatientSex = "N/A"
    report = validate(ds)
    assert report.iod == ""
    assert [(f.code, f.path) for f in report.errors] == [
        ("sop-class-absent", "SOPClassUID"),
        ("invalid-vr-value", "PatientSex"),
        ("enumerated-value", "PatientSex"),
    ]


def test_bad_values_are_reported_and_the_rest_still_checked() -> None:
    ds = produced()
    ds[0x00280010] = RawDataElement(0x00280010, "US", 3, b"\x01\x02\x03", 0, False, True)
    ds[0x00100030] = RawDataElement(0x00100030, "DA", 4, b"\xff\xfe\xfd\xfc", 0, False, True)
    ds.AnatomicRegionSequence = Sequence([Dataset()])
    del ds.SeriesInstanceUID  # unrelated to the damage: must still be found
    report = validate(ds)
    assert report.iod == "vl-photographic-image"
    found = {(f.code, f.tag, f.path) for f in report.errors}
    assert found >= {
        ("unreadable-value", "(0028,0010)", "Rows"),  # 3 bytes cannot be a US
        ("invalid-vr-value", "(0010,0030)", "PatientBirthDate"),
        ("type1-missing", "(0020,000E)", "SeriesInstanceUID"),
        ("type1-missing", "(0008,0104)", "AnatomicRegionSequence[0].CodeMeaning"),
    }
    # no check gave up on the whole dataset: every error names its element
    assert all(f.tag and f.path for f in report.errors), report.errors


#: Per test file: its IOD and its errors as (code, path). dciodvfy reports the same
#: missing attributes and SOP mismatch (it also checks UID roots, which we do not).
TEST_FILE_ERRORS: dict[str, tuple[str, set[tuple[str, str]]]] = {
    "CT_small.dcm": ("ct-image", set()),
    "MR_small.dcm": ("mr-image", set()),
    "SC_rgb_rle.dcm": ("secondary-capture-image", set()),
    # dciodvfy: "Invalid Value Representation - Pixel Data - VR = OB, ... Bits Allocated = 16"
    "SC_rgb_16bit.dcm": ("secondary-capture-image", {("pixel-data-vr", "PixelData")}),
    # dciodvfy: "Unrecognized enumerated value <0x2> ... <Number of Frames>" (SC is single frame)
    "SC_rgb_rle_32bit_2frame.dcm": (
        "secondary-capture-image",
        {("enumerated-value", "NumberOfFrames")},
    ),
    "JPEG2000.dcm": ("secondary-capture-image", {("type2c-missing", "Laterality")}),
    "rtplan.dcm": ("rt-plan", {("meta-sop-mismatch", "MediaStorageSOPInstanceUID")}),
    "ExplVR_BigEndNoMeta.dcm": (
        "rt-ion-plan",
        {
            ("type1-missing", "RTPlanLabel"),
            ("type1c-missing", "ReferencedStructureSetSequence"),
            ("type2-missing", "OperatorsName"),
            ("type2-missing", "PatientBirthDate"),
            ("type2-missing", "PatientID"),
            ("type2-missing", "PatientName"),
            ("type2-missing", "PatientSex"),
            ("type2-missing", "ReferringPhysicianName"),
        },
    ),
}


def test_every_test_file_has_expected_results() -> None:
    assert sorted(p.name for p in (DATA / "dicom").iterdir()) == sorted(TEST_FILE_ERRORS)


@pytest.mark.parametrize("name", sorted(TEST_FILE_ERRORS))
def test_test_data_files_give_their_known_results(name: str) -> None:
    ds = dicomio.read(DATA / "dicom" / name)
    report = validate(ds)
    iod, errors = TEST_FILE_ERRORS[name]
    assert report.iod == iod
    assert report.sop_class_uid == ds.SOPClassUID
    assert {(f.code, f.path) for f in report.errors} == errors
    if name == "ExplVR_BigEndNoMeta.dcm":  # a bare data set: no preamble, no file meta
        assert {"meta-absent", "meta-no-preamble"} <= {f.code for f in report.warnings}


@pytest.mark.skipif(not (CORPUS / "dicom").is_dir(), reason="shared corpus absent")
def test_corpus_reports_are_consistent() -> None:
    checked = without_iod = 0
    for path in sorted((CORPUS / "dicom").iterdir()):
        if path.name == "SOURCES.md":
            continue
        ds = dicomio.read(path)  # every corpus file is at least partly readable
        report = validate(ds)
        checked += 1
        sop_class = str(ds.get("SOPClassUID", "") or "").strip()
        assert report.sop_class_uid == sop_class, path.name
        assert report.iod == (iod_for_sop_class(sop_class) or "" if sop_class else ""), path.name
        codes = {f.code for f in report.findings}
        if not report.iod:
            without_iod += 1
            assert codes & {"sop-class-absent", "sop-class-unknown"}, path.name
        for finding in report.findings:
            assert finding.severity in ("error", "warning", "info"), (path.name, finding)
            assert finding.message and "\n" not in finding.message, (path.name, finding)
            # a check that crashed gives an unreadable-value without a tag: none may
            assert finding.tag or finding.code != "unreadable-value", (path.name, finding)
        places = [(f.code, f.tag, f.path) for f in report.findings]
        assert len(places) == len(set(places)), path.name
    assert checked >= 130 and 0 < without_iod < checked / 4, (checked, without_iod)
