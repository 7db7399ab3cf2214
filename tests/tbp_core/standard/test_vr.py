"""Value Representations: families, VM, the normal form per VR, and the validator's check."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydicom import config as pydicom_config
from pydicom.dataset import Dataset
from pydicom.valuerep import validate_value

from tbp_core.standard import private
from tbp_core.standard import vr as vrs
from tbp_core.standard.normalform import normalise_value


@pytest.mark.parametrize(
    ("keyword", "value", "expected"),
    [
        ("PatientBirthDate", "2000-07-26", "20000726"),
        ("PatientBirthDate", dt.date(2000, 7, 26), "20000726"),
        ("StudyTime", "10:15:30", "101530"),
        ("AcquisitionDateTime", "2024-03-01T10:15:30+01:00", "20240301101530+0100"),
        ("PatientAge", "45y", "045Y"),
        ("PatientSize", " 1.68 ", "1.68"),
        ("SeriesNumber", "7", 7),
        ("Rows", 480.0, 480),
        ("RecommendedDisplayFrameRateInFloat", 0.1, float("0.1")),
        ("PatientSex", " f ", "F"),
        ("PatientName", {"family": "Doe", "given": "Jane"}, "Doe^Jane"),
        ("StudyInstanceUID", "1.2.3 ", "1.2.3"),
        ("PixelSpacing", "0.1\\0.25", ["0.1", "0.25"]),
        ("ImageComments", "a\\b is one LT value", "a\\b is one LT value"),
        ("FrameIncrementPointer", "(0018,1063)", 0x00181063),
        ("PatientComments", "   ", None),
        ("ImageType", [], None),
    ],
)
def test_normal_form(keyword: str, value: Any, expected: Any) -> None:
    assert normalise_value(keyword, value) == expected


def test_fl_is_rounded_to_single_precision() -> None:
    assert normalise_value("RecommendedDisplayFrameRateInFloat", 0.1) == 0.1
    assert normalise_value("RecommendedDisplayFrameRateInFloat", 1 / 3) == 0.33333334


@pytest.mark.parametrize(
    ("keyword", "value", "fragment"),
    [
        ("PatientBirthDate", "2000-02-30", "is not a valid date (DA, YYYYMMDD"),
        ("StudyTime", "25:00", "is not a valid time"),
        ("SeriesNumber", "1.5", "is not a whole number (IS"),
        ("Rows", 70000, "out of range for US (0 to 65535)"),
        ("PatientSize", "nan", "is not a finite number"),
        ("PatientSex", "a-b", "is not a valid code string (CS"),
        ("PatientID", "x" * 65, "is not valid LO text: 65 characters, LO allows at most 64"),
        ("PatientID", "a\\b", "has 2 values, expected 1 value (VM 1)"),
        ("PixelSpacing", "0.1", "has 1 value, expected 2 values (VM 2)"),
        ("PatientName", "Doe, Jane", "'Doe^Jane'"),
        ("SOPClassUID", "VL Photographic Image Storage", "is a name, not a UID"),
        ("AnatomicRegionSequence", "x", "is a sequence"),
        ("NotAKeyword", "x", "is not a DICOM keyword"),
    ],
)
def test_refusals_name_the_value_and_the_rule(keyword: str, value: Any, fragment: str) -> None:
    with pytest.raises(vrs.InvalidValueError) as info:
        normalise_value(keyword, value)
    assert fragment in info.value.message
    assert "\n" not in info.value.message


def test_a_suggestion_comes_with_an_evident_fix() -> None:
    with pytest.raises(vrs.InvalidValueError) as info:
        normalise_value("PatientName", "Doe, Jane")
    assert info.value.suggestion == "Doe^Jane"


def test_an_explicit_vr_and_vm_serve_private_elements() -> None:
    assert normalise_value(0x00131010, "1.5\\2", vr="DS", vm="1-n") == ["1.5", "2"]
    with pytest.raises(vrs.InvalidValueError, match="is not a number"):
        normalise_value("(0013,1010)", "abc", vr="DS", vm="1")


@pytest.mark.parametrize(
    ("vm", "counts_allowed", "counts_refused"),
    [
        ("1", [1], [0, 2]),
        ("1-3", [1, 2, 3], [0, 4]),
        ("1-n", [1, 2, 50], [0]),
        ("2-2n", [2, 4, 6], [1, 3, 5]),
        ("3-3n", [3, 6], [4, 5]),
        ("odd", [0, 7], []),
    ],
)
def test_vm(vm: str, counts_allowed: list[int], counts_refused: list[int]) -> None:
    assert all(vrs.vm_allows(vm, count) for count in counts_allowed)
    assert not any(vrs.vm_allows(vm, count) for count in counts_refused)


def test_check_vm_message() -> None:
    with pytest.raises(vrs.InvalidValueError, match=r"has 3 values, expected 2 or more values"):
        vrs.check_vm("2-2n", 3)


def test_families() -> None:
    assert vrs.is_binary("OB") and vrs.is_binary("US or OW") and vrs.is_binary("OB or OW")
    assert not vrs.is_binary("US or SS") and not vrs.is_binary("LT")
    assert vrs.split_values("LT", "a\\b") == ["a\\b"]
    assert vrs.split_values("LO", "a\\b") == ["a", "b"]
    assert {"SH", "LO", "ST", "LT", "UT", "UC", "PN"} == vrs.CHARSET_VRS
    assert vrs.MAX_LENGTHS["SH"] == 16 and vrs.MAX_LENGTHS["LT"] == 10240


def test_dictionary_lookups_know_the_tbp_private_block() -> None:
    ds = Dataset()
    private.set_tbp_values(ds, {"tbp:FocalLengthPx": 1560.0})
    tag = next(t for t in ds.keys() if t.element >= 0x1000)  # noqa: SIM118
    attr = next(a for a in private.TBP_ATTRIBUTES if a.key == "tbp:FocalLengthPx")
    assert vrs.dictionary_vr(tag, private.TBP_PRIVATE_CREATOR) == attr.vr
    assert vrs.dictionary_vr(tag) is None
    assert vrs.dictionary_vm(0x00280030) == "2"
    assert vrs.dictionary_vm(0x00131010) == "1-n"


@pytest.mark.parametrize(
    ("vr", "value"),
    [
        ("CS", "ORIGINAL"),
        ("CS", "lower"),
        ("UI", "1.2.840.10008.1.2\0"),
        ("UI", "1.02.3"),
        ("DA", "20000230"),
        ("DS", "1.5e3"),
        ("US", 70000),
        ("LO", "x" * 65),
    ],
)
def test_value_problem_is_pydicoms_verdict(vr: str, value: Any) -> None:
    checked = value.rstrip("\0") if vr == "UI" else value
    try:
        validate_value(vr, checked, validation_mode=pydicom_config.RAISE)
        valid = True
    except ValueError:
        valid = False
    problem = vrs.value_problem(vr, value)
    assert (problem == "") is valid
    assert "Please see" not in problem
