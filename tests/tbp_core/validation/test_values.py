"""Value checks: VR formats, VM, UIDs, enumerated values, nested paths, deferred values."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom.datadict import dictionary_VR, keyword_dict, keyword_for_tag
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.tag import Tag
from pydicom.uid import ExplicitVRLittleEndian, JPEG2000Lossless, JPEGBaseline8Bit

from tbp_core.building.convert import ConvertOptions, convert_image
from tbp_core.building.iods import (
    DERMOSCOPIC,
    SECONDARY_CAPTURE,
    VL_PHOTOGRAPHIC,
    new_series_context,
)
from tbp_core.fileio import dicomio
from tbp_core.standard import iod_for_sop_class
from tbp_core.validation.findings import Finding
from tbp_core.validation.values import check_values
from tests.conftest import CORPUS, DATA

VL = "vl-photographic-image"
DMS = "dermoscopic-photography-image"
SC = "secondary-capture-image"


def codes(findings: list[Finding], keyword: str) -> set[str]:
    return {f.code for f in findings if f.keyword == keyword and f.severity == "error"}


def single(keyword: str, value: object, iod: str | None = None) -> list[Finding]:
    ds = Dataset()
    setattr(ds, keyword, value)
    return check_values(ds, iod)


def raw(keyword: str, text: str, iod: str | None = None) -> list[Finding]:
    """Check one element given as its encoded text, as if read from a file."""
    tag = Tag(keyword_dict[keyword])
    value = text.encode("latin-1")
    ds = Dataset()
    ds[tag] = RawDataElement(tag, dictionary_VR(tag), len(value), value, 0, False, True)
    return check_values(ds, iod)


def with_syntax(ds: Dataset, uid: str) -> Dataset:
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = uid
    return ds


def colour(photometric: str) -> Dataset:
    ds = Dataset()
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = photometric
    ds.PlanarConfiguration = 0
    ds.BitsAllocated = 8
    return ds


# --- VR values -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keyword", "bad", "good"),
    [
        ("StudyDate", "2020.01.31", "20200131"),
        ("StudyTime", "10:20:30", "102030"),
        ("PatientAge", "12Y", "012Y"),
        ("StudyID", "X" * 17, "X" * 16),
        ("SeriesNumber", "1A", "1"),
        ("SliceThickness", "1,5", "1.5"),
        ("Manufacturer", "x" * 65, "x" * 64),
        ("ImageComments", "x" * 10241, "x" * 10240),
    ],
)
def test_vr_values(keyword: str, bad: str, good: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        failing = raw(keyword, bad)
        passing = raw(keyword, good)
    assert "invalid-vr-value" in codes(failing, keyword)
    finding = next(f for f in failing if f.code == "invalid-vr-value")
    assert "\n" not in finding.message and "Please see" not in finding.message
    tag = keyword_dict[keyword]
    assert finding.tag == f"({tag >> 16:04X},{tag & 0xFFFF:04X})" and finding.path == keyword
    assert not codes(passing, keyword)


@pytest.mark.parametrize(
    "bad",
    ["1.2.01.3", "1." + "2" * 70, "1.2.abc", "1..2"],
)
def test_uid_syntax(bad: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        failing = raw("SOPInstanceUID", bad)
    assert codes(failing, "SOPInstanceUID") == {"invalid-uid"}
    assert not single("SOPInstanceUID", "1.2.840.10008.5.1.4.1.1.7")


def test_file_meta_is_checked() -> None:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds.file_meta.MediaStorageSOPInstanceUID = "1.2.0099"
    assert codes(check_values(ds, None), "MediaStorageSOPInstanceUID") == {"invalid-uid"}


# --- VM --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keyword", "bad", "good"),
    [
        ("PixelSpacing", ["0.1"], ["0.1", "0.1"]),
        ("ImageType", ["ORIGINAL"], ["ORIGINAL", "PRIMARY"]),
        ("ImagePositionPatient", ["1", "2"], ["1", "2", "3"]),
        ("PatientName", ["A^B", "C^D"], "A^B"),
    ],
)
def test_vm(keyword: str, bad: object, good: object) -> None:
    assert "vm" in codes(single(keyword, bad), keyword)
    assert "vm" not in codes(single(keyword, good), keyword)


def test_vm_multiples_and_empty_values() -> None:
    # RedPaletteColorLookupTableDescriptor is 3; DimensionOrganizationType... use a 2-2n one.
    assert "vm" in codes(
        single("VerticesOfThePolygonalShutter", [1, 2, 3]), "VerticesOfThePolygonalShutter"
    )
    assert not codes(
        single("VerticesOfThePolygonalShutter", [1, 2, 3, 4]), "VerticesOfThePolygonalShutter"
    )
    assert not single("PixelSpacing", None)
    assert not single("PatientName", "")


# --- enumerated values -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("keyword", "bad", "good", "iod"),
    [
        ("PatientSex", "N/A", "F", None),
        ("PatientSex", "X", "O", VL),
        ("ImageType", "ORIGINAL PRIMARY", ["ORIGINAL", "PRIMARY"], None),
        ("ImageType", ["ORIGINAL", "TERTIARY"], ["DERIVED", "SECONDARY"], None),
        ("LossyImageCompression", "02", "01", VL),
        ("ContentQualification", "PRODUCTION", "RESEARCH", None),
        ("RecognizableVisualFeatures", "Y", "NO", DMS),
        ("BurnedInAnnotation", "MAYBE", "YES", None),
        ("ImageLaterality", "X", "U", VL),
        ("Laterality", "B", "R", None),
        ("PixelRepresentation", 2, 1, None),
        ("PlanarConfiguration", 2, 0, None),
        ("LightSourcePolarization", "CROSS", "POLARIZED", DMS),
        ("ContactMethod", "TOUCH", "NON_CONTACT", DMS),
        ("ImmersionMedia", "OIL", "MINERAL_OIL", DMS),
        ("Modality", "OT", "XC", VL),
        ("Modality", "XC", "DMS", DMS),
        ("BitsAllocated", 16, 8, VL),
        ("NumberOfFrames", 2, 1, SC),
        (
            "ImageType",
            ["DERIVED", "PRIMARY", "STEREO"],
            ["DERIVED", "PRIMARY", "STEREO_SCOUT"],
            "digital-mammography-x-ray-image",
        ),
        ("RescaleType", "US", "HU", "enhanced-ct-image"),
        ("PhotometricInterpretation", "YBR_FULL", "RGB", VL),
        ("PhotometricInterpretation", "HSV", "YBR_FULL", None),
    ],
)
def test_enumerated_values(keyword: str, bad: object, good: object, iod: str | None) -> None:
    failing = single(keyword, bad, iod)
    assert "enumerated-value" in codes(failing, keyword)
    finding = next(f for f in failing if f.code == "enumerated-value")
    assert "use one of" in finding.message
    assert not codes(single(keyword, good, iod), keyword)


def test_iod_specific_rules_need_the_iod() -> None:
    assert not codes(single("Modality", "OT", None), "Modality")
    assert not codes(single("BitsAllocated", 16, SC), "BitsAllocated")
    assert not codes(
        single("NumberOfFrames", 2, "multi-frame-true-color-secondary-capture-image"),
        "NumberOfFrames",
    )


def test_overlay_repeating_groups() -> None:
    ds = Dataset()
    ds.add_new(0x60020100, "US", 16)
    ds.add_new(0x60020102, "US", 15)
    found = check_values(ds, SC)
    assert codes(found, "OverlayBitsAllocated") == {"enumerated-value"}
    assert codes(found, "OverlayBitPosition") == {"enumerated-value"}
    ds[0x60020100].value = 1
    ds[0x60020102].value = 0
    assert not check_values(ds, SC)


def test_conversion_type_is_a_defined_term_warning() -> None:
    found = single("ConversionType", "SCANNER", SC)
    assert [(f.severity, f.code) for f in found] == [("warning", "defined-term")]
    assert not single("ConversionType", "WSD", SC)


@pytest.mark.parametrize(
    ("syntax", "iod", "bad", "good"),
    [
        (JPEGBaseline8Bit, SC, "YBR_FULL", "YBR_FULL_422"),
        (JPEGBaseline8Bit, VL, "RGB", "YBR_FULL_422"),
        (ExplicitVRLittleEndian, SC, "YBR_FULL_422", "YBR_FULL"),
        (ExplicitVRLittleEndian, VL, "YBR_FULL_422", "RGB"),
        (JPEG2000Lossless, VL, "RGB", "YBR_RCT"),
        (JPEG2000Lossless, SC, "YBR_ICT", "YBR_RCT"),
        ("1.2.840.10008.1.2.5", SC, "YBR_FULL_422", "RGB"),
    ],
)
def test_photometric_against_transfer_syntax(syntax: str, iod: str, bad: str, good: str) -> None:
    failing = check_values(with_syntax(colour(bad), syntax), iod)
    assert codes(failing, "PhotometricInterpretation") == {"enumerated-value"}
    assert syntax in next(f.message for f in failing if f.code == "enumerated-value")
    assert not check_values(with_syntax(colour(good), syntax), iod)


def test_photometric_for_one_sample_jpeg_lossy() -> None:
    ds = with_syntax(Dataset(), JPEGBaseline8Bit)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "PALETTE COLOR"
    assert codes(check_values(ds, SC), "PhotometricInterpretation") == {"enumerated-value"}
    ds.PhotometricInterpretation = "MONOCHROME2"
    assert not check_values(ds, SC)


# --- nesting, robustness, deferred values ------------------------------------------------


def test_nested_path() -> None:
    item = Dataset()
    item.CodeValue = "12345678"
    item.CodingSchemeDesignator = "SCT"
    item.CodeMeaning = "x" * 65  # LO is 64 at most
    inner = Dataset()
    inner.PatientSex = "N/A"
    item.AnatomicRegionModifierSequence = Sequence([Dataset(), inner])
    ds = Dataset()
    ds.AnatomicRegionSequence = Sequence([item])
    paths = {(f.code, f.path) for f in check_values(ds, VL)}
    assert ("invalid-vr-value", "AnatomicRegionSequence[0].CodeMeaning") in paths
    assert (
        "enumerated-value",
        "AnatomicRegionSequence[0].AnatomicRegionModifierSequence[1].PatientSex",
    ) in paths


def test_top_level_rules_do_not_apply_in_items() -> None:
    item = Dataset()
    item.Modality = "OT"
    ds = Dataset()
    ds.ReferencedSeriesSequence = Sequence([item])
    assert not check_values(ds, VL)


def test_undecodable_value_is_reported_not_raised() -> None:
    ds = Dataset()
    ds[0x00280010] = RawDataElement(Tag(0x00280010), "US", 3, b"\x01\x02\x03", 0, False, True)
    ds[0x00100040] = RawDataElement(Tag(0x00100040), "CS", 2, b"M ", 0, False, True)
    found = check_values(ds, None)
    assert [f.code for f in found] == ["unreadable-value"]
    assert found[0].tag == "(0028,0010)" and found[0].path == "Rows"


def test_deferred_large_values_are_not_read(tmp_path: Path) -> None:
    ds = Dataset()
    ds.PatientSex = "X"
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = pydicom.uid.generate_uid()
    ds.EncapsulatedDocument = b"\x00" * (2 * 1024 * 1024)
    ds.add_new(0x7FE00010, "OB", b"\x00" * 4096)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    target = tmp_path / "large.dcm"
    ds.save_as(target, enforce_file_format=True)

    read = pydicom.dcmread(target, force=True, defer_size=1024)
    found = check_values(read, SC)
    assert codes(found, "PatientSex") == {"enumerated-value"}
    for tag in (0x00420011, 0x7FE00010):
        raw = read._dict[tag]  # get_item would load a deferred value itself
        assert isinstance(raw, RawDataElement) and raw.value is None


def read_file(path: Path) -> tuple[Dataset, str | None]:
    """A file read as the app reads it, with the IOD of its SOP class."""
    ds = pydicom.dcmread(path, force=True, defer_size=1024)
    return ds, iod_for_sop_class(str(ds.get("SOPClassUID", "")))


def found_in(findings: list[Finding]) -> set[tuple[str, str, str]]:
    return {(f.code, f.path, f.tag) for f in findings}


@pytest.mark.parametrize("path", sorted((DATA / "dicom").iterdir()), ids=lambda p: p.name)
def test_test_data_files_have_no_bad_values(path: Path) -> None:
    # Every value in tests/data/dicom is well formed (dciodvfy agrees), but one: pydicom's
    # 2-frame Secondary Capture file, whose IOD allows a single frame.
    ds, iod = read_file(path)
    assert iod is not None, "every test file has a SOP class of a known IOD"
    expected = (
        {("enumerated-value", "NumberOfFrames")}
        if path.name == "SC_rgb_rle_32bit_2frame.dcm"
        else set()
    )
    assert {(f.code, f.path) for f in check_values(ds, iod)} == expected


def test_bad_values_in_a_real_file_are_found_with_their_paths(tmp_path: Path) -> None:
    data = (DATA / "dicom" / "CT_small.dcm").read_bytes()
    for old, new in [
        (b"\x08\x00\x20\x00DA\x08\x0020040119", b"\x08\x00\x20\x00DA\x08\x002004.1.9"),
        (b"\x28\x00\x30\x00DS\x12\x000.661468\\", b"\x28\x00\x30\x00DS\x12\x000.661468,"),
        (b"\x10\x00\x40\x00CS\x02\x00O ", b"\x10\x00\x40\x00CS\x02\x00X "),
    ]:
        assert data.count(old) == 1 and len(old) == len(new)  # same length: offsets hold
        data = data.replace(old, new)
    target = tmp_path / "CT_damaged.dcm"
    target.write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds, iod = read_file(target)
        found = check_values(ds, iod)
    assert iod == "ct-image"
    assert found_in(found) == {
        ("invalid-vr-value", "StudyDate", "(0008,0020)"),
        ("invalid-vr-value", "PixelSpacing", "(0028,0030)"),  # "0.661468,0.661468"
        ("vm", "PixelSpacing", "(0028,0030)"),  # one value, VM is 2
        ("enumerated-value", "PatientSex", "(0010,0040)"),
    }
    assert all(f.severity == "error" for f in found)


@pytest.mark.parametrize("iod", [VL_PHOTOGRAPHIC, DERMOSCOPIC, SECONDARY_CAPTURE])
def test_produced_file_has_no_errors(iod: object, tmp_path: Path) -> None:
    from tbp_core.building.metadata import parse_template
    from tests.conftest import ROOT

    metadata = {}
    if iod is DERMOSCOPIC:
        metadata = parse_template(
            (ROOT / "sample_data" / "dermoscopic_equipment_template.json").read_bytes()
        )
    png = DATA / "png" / "basn2c08.png"
    converted = convert_image(
        png.read_bytes(), png.name, metadata, new_series_context(), options=ConvertOptions(iod=iod)
    )
    target = tmp_path / "out.dcm"
    dicomio.write(converted.dataset, target)
    ds = dicomio.read(target)
    iod_key = iod_for_sop_class(str(ds.SOPClassUID))
    errors = [f for f in check_values(ds, iod_key) if f.severity == "error"]
    assert errors == []
    assert not [f for f in check_values(converted.dataset, iod_key) if f.severity == "error"]


#: Corpus files with known bad values (each checked by hand) and known clean ones.
CORPUS_VALUE_FINDINGS: dict[str, set[tuple[str, str, str]]] = {
    "pydicom__badVR.dcm": {
        ("invalid-vr-value", "NumberOfFrames", "(0028,0008)"),  # "1A"
        ("invalid-uid", "ReferencedRTPlanSequence[0].ReferencedSOPInstanceUID", "(0008,1155)"),
    },
    "dcm4che__YBR_422.dcm": {
        ("invalid-uid", "MediaStorageSOPInstanceUID", "(0002,0003)"),  # component "0104484"
        ("invalid-uid", "SOPInstanceUID", "(0008,0018)"),
        ("enumerated-value", "PhotometricInterpretation", "(0028,0004)"),  # 422, uncompressed
    },
    "nibabel__slicethickness_empty_string.dcm": {
        ("invalid-vr-value", "StudyTime", "(0008,0030)"),
        ("invalid-vr-value", "SeriesTime", "(0008,0031)"),
        ("invalid-vr-value", "AcquisitionTime", "(0008,0032)"),
        ("invalid-vr-value", "ContentTime", "(0008,0033)"),
        ("invalid-vr-value", "PatientBirthDate", "(0010,0030)"),  # "1990/01/"
        ("invalid-vr-value", "PatientSex", "(0010,0040)"),  # "N/A"
        ("enumerated-value", "PatientSex", "(0010,0040)"),
    },
    "pydicomdata__eCT_Supplemental.dcm": {
        (
            "enumerated-value",
            "SharedFunctionalGroupsSequence[0].PixelValueTransformationSequence[0].RescaleType",
            "(0028,1054)",
        ),  # "US" in an Enhanced CT image
    },
    "dcm4che__ovly_p01.dcm": {
        ("enumerated-value", "OverlayBitsAllocated", "(6000,0100)"),
        ("enumerated-value", "OverlayBitPosition", "(6000,0102)"),
        ("enumerated-value", "OverlayBitsAllocated", "(6002,0100)"),
        ("enumerated-value", "OverlayBitPosition", "(6002,0102)"),
    },
    "pydicom__CT_small.dcm": set(),
    "pydicom__MR_small.dcm": set(),
    "pydicom__SC_rgb_rle.dcm": set(),
}

TAG_TEXT = re.compile(r"\(([0-9A-F]{4}),([0-9A-F]{4})\)")
VALUE_CODES = {
    "invalid-vr-value",
    "invalid-uid",
    "vm",
    "enumerated-value",
    "defined-term",
    "unreadable-value",
}


def assert_well_formed(finding: Finding, where: str) -> None:
    """The fields of a value finding agree with each other and with pydicom's dictionary."""
    assert finding.code in VALUE_CODES, (where, finding)
    assert finding.severity == ("warning" if finding.code == "defined-term" else "error")
    assert finding.message and "\n" not in finding.message, (where, finding)
    match = TAG_TEXT.fullmatch(finding.tag)
    assert match, (where, finding)
    tag = int(match[1] + match[2], 16)
    private = (tag >> 16) % 2 == 1
    assert finding.keyword == ("" if private else keyword_for_tag(tag)), (where, finding)
    assert finding.path.split(".")[-1] == (finding.keyword or finding.tag), (where, finding)


@pytest.mark.skipif(not (CORPUS / "dicom").is_dir(), reason="shared corpus absent")
def test_corpus_value_findings_are_right_and_well_formed() -> None:
    checked = with_findings = 0
    unreadable: list[str] = []
    seen: dict[str, set[tuple[str, str, str]]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in sorted((CORPUS / "dicom").iterdir()):
            if path.name == "SOURCES.md":
                continue
            try:
                ds, iod = read_file(path)
            except OSError:
                unreadable.append(path.name)  # pydicom itself cannot read it
                continue
            found = check_values(ds, iod)
            checked += 1
            with_findings += bool(found)
            for finding in found:
                assert_well_formed(finding, path.name)
            places = [(f.tag, f.path, f.code) for f in found]
            assert len(places) == len(set(places)), path.name  # one finding per check
            seen[path.name] = found_in(found)
    assert unreadable == ["fodicom__GH177_D_CLUNIE_CT1_IVRLE_BigEndian_undefined_length.dcm"]
    assert checked >= 130 and with_findings >= 25, (checked, with_findings)
    for name, expected in CORPUS_VALUE_FINDINGS.items():
        assert seen[name] == expected, name
