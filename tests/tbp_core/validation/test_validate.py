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
from tbp_core.validation.validate import validate
from tests.conftest import CORPUS, DATA, ROOT

PNG = DATA / "png" / "basn2c08.png"
GREY = DATA / "png" / "basn0g08.png"
EQUIPMENT = parse_template(
    (ROOT / "sample_data" / "dermoscopic_equipment_template.json").read_bytes()
)
REGIONAL = parse_template((ROOT / "sample_data" / "tbp_regional_template.json").read_bytes())


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
    assert report.iod
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
    assert errors, "a one-valued PixelSpacing must be a VM error"


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
    grey = produced(path=GREY)
    assert "PlanarConfiguration" not in grey


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
    validate(ds)
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
    report = validate(ds)
    assert any(f.code == "sop-class-absent" for f in report.errors)


def test_bad_values_do_not_raise() -> None:
    ds = produced()
    ds[0x00280010] = RawDataElement(0x00280010, "US", 3, b"\x01\x02\x03", 0, False, True)
    ds[0x00100030] = RawDataElement(0x00100030, "DA", 4, b"\xff\xfe\xfd\xfc", 0, False, True)
    ds.AnatomicRegionSequence = Sequence([Dataset()])
    validate(ds)  # must not raise


@pytest.mark.parametrize("path", sorted((DATA / "dicom").iterdir()), ids=lambda p: p.name)
def test_test_data_files_validate_without_raising(path: Path) -> None:
    report = validate(dicomio.read(path))
    assert all(f.severity in ("error", "warning", "info") for f in report.findings)


@pytest.mark.skipif(not (CORPUS / "dicom").is_dir(), reason="shared corpus absent")
def test_corpus_validates_without_raising() -> None:
    for path in sorted((CORPUS / "dicom").iterdir()):
        if path.name == "SOURCES.md":
            continue
        try:
            ds = dicomio.read(path)
        except Exception:
            continue
        validate(ds)
