"""Tests for tbp_core.building.metadata: value normalisation and keyword-JSON templates."""

from __future__ import annotations

import datetime as dt
import io
import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid

from tbp_core.building.metadata import (
    apply_metadata,
    dataset_to_template,
    merge_metadata,
    normalise_value,
    parse_assignment,
    parse_template,
    template_to_json,
)
from tbp_core.errors import FieldProblem, MetadataError
from tbp_core.standard.private import TBP_PRIVATE_CREATOR

REPO = Path(__file__).resolve().parents[3]
SAMPLE_DATA = REPO / "sample_data"
CORPUS = REPO.parent / "shared" / "corpus"

RICH_TEMPLATE: dict[str, Any] = {
    "PatientName": {"family": "Müller", "given": "Zoë"},
    "PatientID": "TBP-0002",
    "PatientBirthDate": "1975-02-28",
    "PatientSex": "o",
    "PatientAge": "49Y",
    "PatientSize": 1.7,
    "PatientWeight": "70",
    "PatientComments": "Ganzkörper-Fotografie, Rücken",
    "StudyDate": dt.date(2024, 3, 1).isoformat(),
    "StudyTime": "10:15:30",
    "AcquisitionDateTime": "2024-03-01T10:15:30.250000+01:00",
    "StudyDescription": "Total body photography",
    "ImageType": "ORIGINAL\\PRIMARY",
    "PixelSpacing": [0.1, "0.1"],
    "ReferringPhysicianName": "",
    "AccessionNumber": None,
    "SeriesNumber": "3",
    "FocalLength": 5.54,
    "WhiteBalance": 1,
    "ExposureTimeInSeconds": 0.004,
    "ImagerPixelSpacing": ["0.002", "0.002"],
    "ContentQualification": "research",
    "AnatomicRegionSequence": [
        {
            "CodeValue": "45981001",
            "CodingSchemeDesignator": "SCT",
            "CodeMeaning": "Skin of anterior surface of upper arm",
            "AnatomicRegionModifierSequence": [
                {"CodeValue": "7771000", "CodingSchemeDesignator": "SCT", "CodeMeaning": "Left"}
            ],
        }
    ],
    "tbp:FocalLengthPx": 1560.0,
    "tbp:PrincipalPoint": [285.2, 427.0],
    "tbp:RadialDistortion": [0.03583441216871274, 0.26, 0.5682430959708885],
    "tbp:Parfocal": 1,
    "tbp:FocalDistance": 1.47,
}


def _write_and_read(ds: Dataset, transfer_syntax: str = ExplicitVRLittleEndian) -> Dataset:
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.77.1.4"
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = UID(transfer_syntax)
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return dcmread(io.BytesIO(buffer.getvalue()))


# ------------------------------------------------------------------ values


@pytest.mark.parametrize(
    ("keyword", "value", "expected"),
    [
        ("PatientBirthDate", "2000-07-26", "20000726"),
        ("PatientBirthDate", "2000/07/26", "20000726"),
        ("PatientBirthDate", "20000726", "20000726"),
        ("PatientBirthDate", dt.date(2000, 7, 26), "20000726"),
        ("PatientBirthDate", dt.datetime(2000, 7, 26, 8, 0), "20000726"),
        ("StudyTime", "10:15:30", "101530"),
        ("StudyTime", "10:15", "1015"),
        ("StudyTime", "10:15:30.5", "101530.5"),
        ("StudyTime", "101530", "101530"),
        ("StudyTime", dt.time(10, 15, 30), "101530"),
        ("AcquisitionDateTime", "2024-03-01T10:15:30+01:00", "20240301101530+0100"),
        ("AcquisitionDateTime", "2024-03-01T10:15:30-05:30", "20240301101530-0530"),
        ("AcquisitionDateTime", "2024-03-01 10:15:30", "20240301101530"),
        ("AcquisitionDateTime", "20240301101530.25+0100", "20240301101530.25+0100"),
        ("AcquisitionDateTime", dt.datetime(2024, 3, 1, 10, 15, 30), "20240301101530"),
        ("PatientAge", "45Y", "045Y"),
        ("PatientAge", "003M", "003M"),
        ("PatientSize", 1.68, "1.68"),
        ("PatientSize", "1.76", "1.76"),
        ("PatientSize", 2, "2"),
        ("PatientWeight", 67.0, "67.0"),
        ("PatientWeight", 0.1234567890123456789, "0.12345678901235"),
        ("PatientWeight", "0.12345678901234567", "0.12345678901235"),
        ("SeriesNumber", "3", 3),
        ("SeriesNumber", 3.0, 3),
        ("Rows", "512", 512),
        ("WhiteBalance", 1, 1),
        ("FocalLength", 5.54, "5.54"),
        ("ExposureTimeInms", "0.5", 0.5),
        ("RecommendedDisplayFrameRateInFloat", 0.1, 0.1),
        ("ExposureTimeInSeconds", 0.004, "0.004"),
        ("PatientSex", "f", "F"),
        ("PatientSex", " m ", "M"),
        ("ContentQualification", "research", "RESEARCH"),
        ("Modality", "xc", "XC"),
        ("PatientName", "Doe^Jane", "Doe^Jane"),
        ("PatientName", {"family": "Doe", "given": "Jane"}, "Doe^Jane"),
        (
            "PatientName",
            {"family": "Doe", "given": "Jane", "middle": "Q", "prefix": "Dr", "suffix": "PhD"},
            "Doe^Jane^Q^Dr^PhD",
        ),
        ("PatientName", {"family": " Doe ", "suffix": "Jr"}, "Doe^^^^Jr"),
        ("PatientName", "Müller^Zoë", "Müller^Zoë"),
        ("ImageType", ["derived", "primary"], ["DERIVED", "PRIMARY"]),
        ("ImageType", "ORIGINAL\\PRIMARY", ["ORIGINAL", "PRIMARY"]),
        ("PixelSpacing", [0.1, 0.2], ["0.1", "0.2"]),
        ("PixelSpacing", "0.1\\0.2", ["0.1", "0.2"]),
        ("SoftwareVersions", "A\\B", ["A", "B"]),
        ("SoftwareVersions", ["A"], "A"),
        ("SOPClassUID", "1.2.840.10008.5.1.4.1.1.77.1.4", "1.2.840.10008.5.1.4.1.1.77.1.4"),
        ("StudyDescription", "  Total body photography  ", "Total body photography"),
        ("PatientComments", "line\\with backslash", "line\\with backslash"),
        ("PatientSex", None, None),
        ("PatientSex", "", None),
        ("ImageType", [], None),
        ("AnatomicRegionSequence", [], None),
        ("tbp:Parfocal", "true", 1),
        (
            "AnatomicRegionSequence",
            {
                "CodeValue": "66643007",
                "CodingSchemeDesignator": "sct",
                "CodeMeaning": "Skin of back",
            },
            [
                {
                    "CodeValue": "66643007",
                    "CodingSchemeDesignator": "sct",
                    "CodeMeaning": "Skin of back",
                }
            ],
        ),
    ],
)
def test_normalise_value(keyword: str, value: Any, expected: Any) -> None:
    assert normalise_value(keyword, value) == expected


def test_pixel_value_attribute_with_ambiguous_vr() -> None:
    assert normalise_value("PixelPaddingValue", -2000) == -2000
    assert normalise_value("PixelPaddingValue", 65535) == 65535
    ds = Dataset()
    apply_metadata(ds, {"PixelPaddingValue": -2000})
    assert ds["PixelPaddingValue"].VR == "SS"


@pytest.mark.parametrize(
    ("keyword", "value", "fragment"),
    [
        ("PatientBirthDate", "2000-13-45", "is not a valid date (DA, YYYYMMDD, e.g. 20000726)"),
        ("PatientBirthDate", "20000230", "is not a valid date"),
        ("PatientBirthDate", "26.07.2000", "is not a valid date"),
        ("PatientBirthDate", 20000726, "is not a valid date"),
        ("StudyTime", "25:00", "is not a valid time (TM"),
        ("StudyTime", "10:61:00", "is not a valid time"),
        ("AcquisitionDateTime", "yesterday", "is not a valid date-time (DT"),
        ("AcquisitionDateTime", "20241301", "is not a valid date-time"),
        ("PatientAge", "45 years", "is not a valid age (AS"),
        ("PatientSize", "tall", "is not a number (DS"),
        ("PatientSize", "1,68", "is not a number"),
        ("PatientSize", float("inf"), "is not a finite number"),
        ("PatientSize", True, "is not a number"),
        ("SeriesNumber", "3.5", "is not a whole number (IS"),
        ("SeriesNumber", 2**40, "out of range for IS"),
        ("Rows", 70000, "out of range for US (0 to 65535)"),
        ("Rows", -1, "out of range for US"),
        ("WhiteBalance", "auto", "'auto' is not one of 0, 1"),
        ("WhiteBalance", 7, "is not one of 0, 1 (VL Photographic Acquisition module)"),
        ("ImmersionMedia", "FOO", "is not one of ULTRASOUND_GEL, ALCOHOL, WATER"),
        ("LightSourcePolarization", "non-polarized", "did you mean 'NON_POLARIZED'?"),
        ("RecognizableVisualFeatures", "true", "did you mean 'YES'?"),
        ("ImageType", "FOO\\PRIMARY", "value 1 'FOO' is not one of ORIGINAL, DERIVED"),
        ("ExposureTimeInms", "fast", "is not a number (FD"),
        ("PatientSex", "X", "is not one of M, F, O"),
        ("PatientSex", "female", "did you mean 'F'?"),
        ("ContentQualification", "TEST", "is not one of PRODUCT, RESEARCH, SERVICE"),
        ("Modality", "a-b", "is not a valid code string (CS"),
        ("Modality", "VERYLONGMODALITYNAME", "is not a valid code string"),
        ("PatientName", "Doe, Jane", "'Doe^Jane'"),
        ("PatientName", {"surname": "Doe"}, "unknown name part 'surname'"),
        ("PatientName", 42, "is not a person name"),
        ("PatientName", "A^B^C^D^E^F", "is not a valid person name"),
        ("SOPClassUID", "VL Photographic Image Storage", "use '1.2.840.10008.5.1.4.1.1.77.1.4'"),
        ("StudyInstanceUID", "1.2.03", "is not a valid UID (UI"),
        ("StudyInstanceUID", "1." + "2" * 70, "is not a valid UID"),
        ("PatientID", "x" * 65, "is not valid LO text"),
        ("StationName", "s" * 17, "is not valid SH text"),
        ("PixelSpacing", "3.0", "has 1 value, expected 2 values (VM 2)"),
        ("PixelSpacing", [1, 2, 3], "has 3 values, expected 2 values"),
        ("ImageType", "DERIVED", "expected 2 or more values (VM 2-n)"),
        ("PatientID", ["A", "B"], "expected 1 value (VM 1)"),
        ("AnatomicRegionSequence", "Skin of back", "is not a list of items"),
        ("PatientsName", "x", "unknown DICOM keyword; did you mean 'PatientName'?"),
        ("Nonsense", "x", "unknown DICOM keyword"),
        ("ImagePosition", [1, 2, 3], "retired from the DICOM standard; use 'ImagePositionPatient'"),
        ("ImageOrientation", [1, 0, 0, 0, 1, 0], "use 'ImageOrientationPatient'"),
        ("PixelData", b"\x00", "binary attribute"),
        ("TransferSyntaxUID", "1.2.840.10008.1.2.1", "file meta information"),
        ("tbp:Parfocal", 3, "is not allowed"),
    ],
)
def test_normalise_errors_name_the_field(keyword: str, value: Any, fragment: str) -> None:
    with pytest.raises(MetadataError) as info:
        normalise_value(keyword, value)
    message = str(info.value)
    assert message.startswith(f"{keyword}: ")
    assert fragment in message
    assert "\n" not in message
    assert len(info.value.problems) == 1
    assert info.value.problems[0].keyword == keyword


def test_date_message_is_exact() -> None:
    with pytest.raises(MetadataError) as info:
        normalise_value("PatientBirthDate", "2000-13-45")
    assert str(info.value) == (
        "PatientBirthDate: '2000-13-45' is not a valid date (DA, YYYYMMDD, e.g. 20000726)"
    )
    assert info.value.problems == (
        FieldProblem("PatientBirthDate", "2000-13-45", str(info.value), None),
    )


@pytest.mark.parametrize(
    ("keyword", "value", "suggestion"),
    [
        ("PatientName", "Doe, Jane", "Doe^Jane"),
        ("PatientSex", "FEMALE", "F"),
        ("PatientsName", "Doe^Jane", "PatientName"),
        ("SOPClassUID", "VL Photographic Image Storage", "1.2.840.10008.5.1.4.1.1.77.1.4"),
        ("ImagePosition", [1, 2, 3], "ImagePositionPatient"),
    ],
)
def test_problems_carry_suggestions(keyword: str, value: Any, suggestion: str) -> None:
    with pytest.raises(MetadataError) as info:
        normalise_value(keyword, value)
    assert info.value.problems[0].suggestion == suggestion


def test_sequence_items_are_normalised_recursively() -> None:
    value = [
        {
            "CodeValue": " 66643007 ",
            "CodingSchemeDesignator": "SCT",
            "CodeMeaning": "Skin of back",
            "AnatomicRegionModifierSequence": [
                {
                    "CodeValue": "255549009",
                    "CodingSchemeDesignator": "SCT",
                    "CodeMeaning": "Anterior",
                }
            ],
        }
    ]
    result = normalise_value("AnatomicRegionSequence", value)
    assert result[0]["CodeValue"] == "66643007"
    assert result[0]["AnatomicRegionModifierSequence"][0]["CodeMeaning"] == "Anterior"


def test_sequence_problems_have_paths() -> None:
    value = [
        {"CodeValue": "66643007", "CodingSchemeDesignator": "SCT", "CodeMeaning": "Skin of back"},
        {"CodeValue": "x" * 20, "CodingSchemeDesignator": "SCT", "CodeMeanin": "typo"},
        "not an item",
    ]
    with pytest.raises(MetadataError) as info:
        normalise_value("AnatomicRegionSequence", value)
    keywords = [problem.keyword for problem in info.value.problems]
    assert keywords == [
        "AnatomicRegionSequence[1].CodeValue",
        "AnatomicRegionSequence[1].CodeMeanin",
        "AnatomicRegionSequence[2]",
    ]
    assert str(info.value).startswith("3 invalid values: AnatomicRegionSequence[1].CodeValue: ")


def test_snomed_rt_code_in_a_code_item_is_refused() -> None:
    seed_item = {"CodeValue": "T-02471", "CodingSchemeDesignator": "DAS", "CodeMeaning": "Back"}
    with pytest.raises(MetadataError) as info:
        normalise_value("AnatomicRegionSequence", [seed_item])
    problem = info.value.problems[0]
    assert problem.keyword == "AnatomicRegionSequence[0].CodeValue"
    assert problem.suggestion == "22180002"
    assert "obsolete SNOMED-RT" in problem.message


# --------------------------------------------------------------- templates


@pytest.mark.parametrize(
    "name", ["tbp_regional_template.json", "dermoscopic_equipment_template.json"]
)
def test_sample_templates_parse_cleanly(name: str) -> None:
    values = parse_template((SAMPLE_DATA / name).read_bytes())
    assert set(values) == set(json.loads((SAMPLE_DATA / name).read_text()))  # nothing dropped
    assert all(value is not None for value in values.values())


def test_regional_sample_template_values() -> None:
    values = parse_template((SAMPLE_DATA / "tbp_regional_template.json").read_text())
    assert values["PatientName"] == "Doe^Jane"
    assert values["PatientID"] == "TBP-0001"
    assert values["PatientBirthDate"] == "19800131"
    assert values["PatientSex"] == "F"
    assert values["PatientSize"] == "1.68"
    assert values["PatientWeight"] == "61.0"
    assert values["AnatomicRegionSequence"][0]["CodingSchemeDesignator"] == "SCT"
    assert values["tbp:FocalLengthPx"] == "1560.0"
    assert values["tbp:PrincipalPoint"] == [285.2, 427.0]
    assert values["tbp:Parfocal"] == 1
    for forbidden in ("ImagePosition", "ImageOrientation", "ExposureTime", "SOPClassUID"):
        assert forbidden not in values


def test_dermoscopic_sample_template_has_the_type_1_equipment() -> None:
    values = parse_template((SAMPLE_DATA / "dermoscopic_equipment_template.json").read_text())
    for keyword in ("Manufacturer", "ManufacturerModelName", "DeviceSerialNumber"):
        assert values[keyword]
    assert values["SoftwareVersions"]


def test_parse_template_keyword_form_keeps_order() -> None:
    text = json.dumps({"PatientSex": "f", "PatientName": "Doe^Jane", "tbp:Parfocal": 0})
    assert list(parse_template(text).items()) == [
        ("PatientSex", "F"),
        ("PatientName", "Doe^Jane"),
        ("tbp:Parfocal", 0),
    ]


def test_parse_template_accepts_utf8_bytes_with_bom() -> None:
    data = "\ufeff" + json.dumps({"PatientName": "Müller^Zoë"}, ensure_ascii=False)
    assert parse_template(data.encode("utf-8")) == {"PatientName": "Müller^Zoë"}


def test_parse_template_refuses_non_utf8() -> None:
    with pytest.raises(MetadataError, match="not UTF-8"):
        parse_template(b'{"PatientName": "M\xfcller"}')


def test_parse_template_reports_json_line_and_column() -> None:
    text = '{\n  "PatientName": "Doe^Jane",\n  "PatientID": TBP-0001\n}'
    with pytest.raises(MetadataError, match=r"not valid JSON: .* at line 3, column 16"):
        parse_template(text)


@pytest.mark.parametrize("text", ["[1, 2]", '"Doe^Jane"', "3"])
def test_parse_template_requires_an_object(text: str) -> None:
    with pytest.raises(MetadataError, match="must be a JSON object"):
        parse_template(text)


def test_parse_template_collects_all_problems() -> None:
    text = json.dumps(
        {
            "PatientName": "Doe, Jane",
            "PatientSex": "X",
            "PatientID": "TBP-0001",
            "StudyDate": "2024-02-30",
            "tbp:Parfocal": 9,
        }
    )
    with pytest.raises(MetadataError) as info:
        parse_template(text)
    message = str(info.value)
    assert message.startswith("4 invalid values: PatientName: ")
    assert "; PatientSex: 'X' is not one of M, F, O" in message
    assert "; StudyDate: '2024-02-30' is not a valid date" in message
    assert "; tbp:Parfocal: 9 is not allowed" in message
    assert "\n" not in message
    assert [p.keyword for p in info.value.problems] == [
        "PatientName",
        "PatientSex",
        "StudyDate",
        "tbp:Parfocal",
    ]
    assert info.value.problems[0].suggestion == "Doe^Jane"


def test_parse_template_dicom_json_model() -> None:
    model = {
        "00100010": {"vr": "PN", "Value": [{"Alphabetic": "Doe^Jane"}]},
        "00100020": {"vr": "LO", "Value": ["TBP-0001"]},
        "00100030": {"vr": "DA", "Value": ["19800131"]},
        "00100040": {"vr": "CS", "Value": ["F"]},
        "00101020": {"vr": "DS", "Value": [1.68]},
        "00200011": {"vr": "IS", "Value": [3]},
        "00080008": {"vr": "CS", "Value": ["ORIGINAL", "PRIMARY"]},
        "00080090": {"vr": "PN"},
        "00082218": {
            "vr": "SQ",
            "Value": [
                {
                    "00080100": {"vr": "SH", "Value": ["66643007"]},
                    "00080102": {"vr": "SH", "Value": ["SCT"]},
                    "00080104": {"vr": "LO", "Value": ["Skin of back"]},
                }
            ],
        },
        "00110010": {"vr": "LO", "Value": [TBP_PRIVATE_CREATOR]},
        "00111010": {"vr": "DS", "Value": [1560.0]},
        "00111013": {"vr": "SS", "Value": [1]},
    }
    values = parse_template(json.dumps(model))
    assert values == {
        "ImageType": ["ORIGINAL", "PRIMARY"],
        "ReferringPhysicianName": None,
        "AnatomicRegionSequence": [
            {
                "CodeValue": "66643007",
                "CodingSchemeDesignator": "SCT",
                "CodeMeaning": "Skin of back",
            }
        ],
        "PatientName": "Doe^Jane",
        "PatientID": "TBP-0001",
        "PatientBirthDate": "19800131",
        "PatientSex": "F",
        "PatientSize": "1.68",
        "SeriesNumber": 3,
        "tbp:FocalLengthPx": "1560.0",
        "tbp:Parfocal": 1,
    }


def test_dicom_json_model_values_are_checked() -> None:
    model = {
        "00100040": {"vr": "CS", "Value": ["X"]},
        "00100030": {"vr": "DA", "Value": ["20001345"]},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns about the invalid date while decoding
        with pytest.raises(MetadataError) as info:
            parse_template(json.dumps(model))
    assert [p.keyword for p in info.value.problems] == ["PatientBirthDate", "PatientSex"]


@pytest.mark.parametrize(
    ("model", "fragment"),
    [
        ({"7FE00010": {"vr": "OB", "InlineBinary": "AAAA"}}, "binary values"),
        ({"00091010": {"vr": "LO", "Value": ["x"]}}, "private attributes other than the TBP"),
        ({"00100010": {"vr": "XX", "Value": ["x"]}}, "VR 'XX' does not match"),
        ({"00100020": {"vr": "LO", "Value": "not a list"}}, "not valid DICOM JSON"),
    ],
)
def test_dicom_json_model_refusals(model: dict[str, Any], fragment: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(MetadataError, match=fragment):
            parse_template(json.dumps(model))


# ------------------------------------------------------------- assignments


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PatientName=Doe^Jane", ("PatientName", "Doe^Jane")),
        ("PatientSex = f", ("PatientSex", "F")),
        ("StudyDescription=a=b", ("StudyDescription", "a=b")),
        ("PatientBirthDate=1980-01-31", ("PatientBirthDate", "19800131")),
        ("PixelSpacing=[0.1, 0.1]", ("PixelSpacing", ["0.1", "0.1"])),
        ("ImageType=ORIGINAL\\PRIMARY", ("ImageType", ["ORIGINAL", "PRIMARY"])),
        ('PatientComments="[not a list]"', ("PatientComments", "[not a list]")),
        ("PatientSize=1.68", ("PatientSize", "1.68")),
        ("AccessionNumber=", ("AccessionNumber", None)),
        ("tbp:FocalLengthPx=1560.0", ("tbp:FocalLengthPx", "1560.0")),
        ("tbp:PrincipalPoint=[285.2, 427.0]", ("tbp:PrincipalPoint", [285.2, 427.0])),
        (
            'AnatomicRegionSequence=[{"CodeValue": "66643007", "CodingSchemeDesignator": "SCT",'
            ' "CodeMeaning": "Skin of back"}]',
            (
                "AnatomicRegionSequence",
                [
                    {
                        "CodeValue": "66643007",
                        "CodingSchemeDesignator": "SCT",
                        "CodeMeaning": "Skin of back",
                    }
                ],
            ),
        ),
    ],
)
def test_parse_assignment(text: str, expected: tuple[str, Any]) -> None:
    assert parse_assignment(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("PatientName", "expected KEYWORD=VALUE, e.g. --set PatientName=Doe^Jane"),
        ("=Doe^Jane", "expected KEYWORD=VALUE"),
        ("PixelSpacing=[0.1, 0.1", "value is not valid JSON"),
        ("PatientsName=Doe^Jane", "did you mean 'PatientName'?"),
        ("PatientSex=Q", "PatientSex: 'Q' is not one of M, F, O"),
    ],
)
def test_parse_assignment_errors(text: str, fragment: str) -> None:
    with pytest.raises(MetadataError, match=None) as info:
        parse_assignment(text)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_iod_enumerated_values_apply_when_the_iod_is_given() -> None:
    vl = "vl-photographic-image"
    assert parse_assignment("Modality=DMS") == ("Modality", "DMS")
    with pytest.raises(MetadataError, match=r"Modality: 'DMS' is not one of XC"):
        parse_assignment("Modality=DMS", iod_key=vl)
    with pytest.raises(MetadataError, match=r"one of XC \(VL Photographic Series\)"):
        parse_template('{"Modality": "DMS"}', iod_key=vl)
    with pytest.raises(MetadataError, match="BitsStored: '16' is not one of 8"):
        normalise_value("BitsStored", 16, iod_key=vl)
    assert normalise_value("BitsStored", 16, iod_key="secondary-capture-image") == 16
    ds = Dataset()
    with pytest.raises(MetadataError, match="one of XC"):
        apply_metadata(ds, {"Modality": "OT", "PatientID": "P1"}, iod_key=vl)
    assert "PatientID" not in ds


def test_merge_metadata_later_layers_win() -> None:
    exif = {"FocalLength": "5.54", "Manufacturer": "Camera Inc"}
    template = {"Manufacturer": "Lumo Imaging", "PatientName": "Doe^Jane"}
    command_line = {"PatientName": "Roe^Richard", "FocalLength": None}
    merged = merge_metadata(exif, template, command_line)
    assert merged == {
        "FocalLength": None,
        "Manufacturer": "Lumo Imaging",
        "PatientName": "Roe^Richard",
    }
    assert merge_metadata() == {}
    assert exif == {"FocalLength": "5.54", "Manufacturer": "Camera Inc"}


# ------------------------------------------------------------------- apply


def test_apply_metadata_sets_elements_sequences_and_private_block() -> None:
    ds = Dataset()
    apply_metadata(ds, RICH_TEMPLATE)
    assert ds.PatientName == "Müller^Zoë"
    assert ds.SpecificCharacterSet == "ISO_IR 192"
    assert ds["PatientBirthDate"].VR == "DA" and ds.PatientBirthDate == "19750228"
    assert ds.PixelSpacing == [0.1, 0.1]
    assert ds["ReferringPhysicianName"].is_empty
    assert ds["AccessionNumber"].is_empty
    assert ds["AnatomicRegionSequence"].VR == "SQ" and len(ds.AnatomicRegionSequence) == 1
    item = ds.AnatomicRegionSequence[0]
    assert (item.CodeValue, item.CodingSchemeDesignator) == ("45981001", "SCT")
    assert item.AnatomicRegionModifierSequence[0].CodeMeaning == "Left"
    assert ds[0x00110010].value == TBP_PRIVATE_CREATOR
    assert ds[0x00111013].value == 1


def test_apply_metadata_refuses_invalid_values_and_changes_nothing() -> None:
    ds = Dataset()
    ds.PatientName = "Old^Name"
    with pytest.raises(MetadataError) as info:
        apply_metadata(ds, {"PatientName": "New^Name", "PatientSex": "?", "tbp:Parfocal": 4})
    assert len(info.value.problems) == 2
    assert ds.PatientName == "Old^Name"
    assert "PatientSex" not in ds
    assert 0x00110010 not in ds


def test_apply_metadata_keeps_an_existing_character_set() -> None:
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    apply_metadata(ds, {"PatientName": "Müller^Zoë"})
    assert ds.SpecificCharacterSet == "ISO_IR 100"


def test_apply_empty_sequence() -> None:
    ds = Dataset()
    apply_metadata(ds, {"AnatomicRegionSequence": None})
    assert ds["AnatomicRegionSequence"].VR == "SQ"
    assert len(ds.AnatomicRegionSequence) == 0


# -------------------------------------------------------------- round trip


@pytest.mark.parametrize("transfer_syntax", [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
@pytest.mark.parametrize("source", ["sample", "rich"])
def test_template_round_trip_through_a_written_file(source: str, transfer_syntax: str) -> None:
    if source == "sample":
        values = parse_template((SAMPLE_DATA / "tbp_regional_template.json").read_bytes())
    else:
        values = parse_template(json.dumps(RICH_TEMPLATE, default=str))
    ds = Dataset()
    apply_metadata(ds, values)
    read = _write_and_read(ds, transfer_syntax)
    assert dataset_to_template(read) == values


def test_round_trip_through_json_text() -> None:
    values = parse_template(json.dumps(RICH_TEMPLATE))
    text = template_to_json(values)
    assert text.endswith("\n")
    assert "Müller^Zoë" in text
    assert parse_template(text) == values


def test_dataset_to_template_skips_instance_pixel_and_meta_attributes() -> None:
    ds = Dataset()
    apply_metadata(ds, {"PatientName": "Doe^Jane", "tbp:Parfocal": 1})
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Rows = 2
    ds.Columns = 2
    ds.add_new(0x7FE00010, "OB", b"\x00" * 4)
    ds.add_new(0x00091010, "LO", "other vendor")
    ds.add_new(0x60000010, "US", 2)  # Overlay Rows: a repeating group
    ds.add_new(0x00200030, "DS", [1, 2, 3])  # retired Image Position
    read = _write_and_read(ds)
    assert dataset_to_template(read) == {"PatientName": "Doe^Jane", "tbp:Parfocal": 1}


def test_dataset_to_template_with_keywords() -> None:
    ds = Dataset()
    apply_metadata(ds, {"PatientName": "Doe^Jane", "PatientID": "X", "tbp:Parfocal": 0})
    ds.StudyInstanceUID = "1.2.3.4"
    assert dataset_to_template(ds, ["PatientID", "StudyInstanceUID"]) == {
        "PatientID": "X",
        "StudyInstanceUID": "1.2.3.4",
    }
    assert dataset_to_template(ds, ["tbp:Parfocal"]) == {"tbp:Parfocal": 0}


def test_dataset_to_template_reports_or_skips_invalid_stored_values() -> None:
    ds = Dataset()
    ds.PatientName = "Doe^Jane"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds.PatientBirthDate = "1990/01/"
        ds.PatientSex = "N/A"
    with pytest.raises(MetadataError) as info:
        dataset_to_template(ds)
    assert [p.keyword for p in info.value.problems] == ["PatientBirthDate", "PatientSex"]
    assert dataset_to_template(ds, skip_invalid=True) == {"PatientName": "Doe^Jane"}


def test_template_to_json_is_pretty() -> None:
    text = template_to_json({"PatientName": "Doe^Jane", "PixelSpacing": ["0.1", "0.1"]})
    assert text.startswith('{\n  "PatientName": "Doe^Jane",')
    assert json.loads(text) == {"PatientName": "Doe^Jane", "PixelSpacing": ["0.1", "0.1"]}


# ------------------------------------------------------------ corpus sweep


def _corpus_files() -> list[Path]:
    folder = CORPUS / "dicom"
    return sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


def _check_corpus_file(path: Path) -> bool:
    """Template from a corpus file: problems reported or skipped, then a clean round trip."""
    try:
        ds = dcmread(path, stop_before_pixels=True)
    except (InvalidDicomError, OSError, ValueError, EOFError):
        return False
    try:
        dataset_to_template(ds)
    except MetadataError as error:
        assert error.problems, path.name
        assert "\n" not in str(error), path.name
    values = dataset_to_template(ds, skip_invalid=True)
    assert parse_template(template_to_json(values)) == values, path.name
    fresh = Dataset()
    apply_metadata(fresh, values)
    assert dataset_to_template(_write_and_read(fresh)) == values, path.name
    return True


@pytest.mark.skipif(not (CORPUS / "dicom").is_dir(), reason="shared corpus not present")
def test_corpus_templates_round_trip() -> None:
    checked = 0
    for path in _corpus_files():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom warns about the odd values in the corpus
            if _check_corpus_file(path):
                checked += 1
    assert checked > 50
