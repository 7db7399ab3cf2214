"""The enumeration table: refusals with the allowed values, IOD rules, hints, dciodvfy agreement."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from pydicom import dcmread

from tbp_core.building.convert import convert_image
from tbp_core.building.iods import new_series_context
from tbp_core.fileio import dicomio
from tbp_core.standard import enumerations
from tbp_core.standard.enumerations import RULES, allowed_values, check, refusals
from tests.conftest import DATA
from tests.referee import dciodvfy

VL = "vl-photographic-image"
SC = "secondary-capture-image"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"


def test_a_refusal_lists_the_allowed_values_and_where_they_come_from() -> None:
    refusal = check("ImmersionMedia", "FOO")
    assert refusal is not None
    assert refusal.message == (
        "'FOO' is not one of ULTRASOUND_GEL, ALCOHOL, WATER, MINERAL_OIL, PLASTIC_CAP "
        "(Dermoscopic Image module)"
    )
    assert check("ImmersionMedia", "WATER") is None
    assert check("ImmersionMedia", None) is None


def test_value_indexes_and_numbers() -> None:
    refusal = check("ImageType", ["ORIGINAL", "FOO", "X"])
    assert refusal is not None and refusal.index == 1
    assert refusal.message.startswith("value 2 'FOO' is not one of PRIMARY, SECONDARY")
    assert check("MeteringMode", 255) is None
    bad = check("MeteringMode", 7)
    assert bad is not None and "0, 1, 2, 3, 4, 5, 6, 255" in bad.message


def test_iod_specific_rules_apply_only_in_their_iod() -> None:
    assert check("Modality", "DMS") is None
    refusal = check("Modality", "DMS", VL)
    assert refusal is not None and "one of XC" in refusal.message
    assert check("Modality", "DMS", "dermoscopic-photography-image") is None
    assert check("BitsAllocated", 16, SC) is None
    assert check("BitsAllocated", 16, VL) is not None
    assert check("PhotometricInterpretation", "RGB", VL, top_level=False) is None


@pytest.mark.parametrize(
    ("keyword", "typed", "meant"),
    [
        ("PatientSex", "female", "F"),
        ("PatientSex", "MALE", "M"),
        ("LightSourcePolarization", "non-polarized", "NON_POLARIZED"),
        ("ContactMethod", "non contact", "NON_CONTACT"),
        ("ImmersionMedia", "ultrasound gel", "ULTRASOUND_GEL"),
        ("ImmersionMedia", "oil", "MINERAL_OIL"),
        ("PartialView", "y", "YES"),
        ("BurnedInAnnotation", "false", "NO"),
        ("ContentQualification", "production", "PRODUCT"),
    ],
)
def test_typed_words_get_the_value_they_mean(keyword: str, typed: str, meant: str) -> None:
    refusal = check(keyword, typed)
    assert refusal is not None
    assert refusal.suggestion == meant
    assert f"did you mean {meant!r}?" in refusal.message


def test_no_suggestion_for_an_unrelated_word() -> None:
    refusal = check("PatientSex", "Q")
    assert refusal is not None and refusal.suggestion is None


def test_defined_terms_are_left_to_the_validator() -> None:
    assert check("ConversionType", "FOO", SC) is None
    (warning,) = refusals("ConversionType", ["FOO"], SC)
    assert warning.rule.severity == "warning"


def test_allowed_values_is_what_every_rule_allows() -> None:
    assert allowed_values("PhotometricInterpretation", VL) == (
        "MONOCHROME2",
        "RGB",
        "YBR_FULL_422",
        "YBR_PARTIAL_420",
        "YBR_ICT",
        "YBR_RCT",
    )
    assert "PALETTE COLOR" in allowed_values("PhotometricInterpretation", SC)
    assert allowed_values("ImageType", index=1) == ("PRIMARY", "SECONDARY")
    assert allowed_values("PatientName") == ()


def test_rules_on_the_transfer_syntax_need_it() -> None:
    assert refusals("PhotometricInterpretation", ["RGB"], VL, samples=3) == ()
    found = refusals(
        "PhotometricInterpretation", ["RGB"], VL, transfer_syntax=JPEG_BASELINE, samples=3
    )
    assert found and all("YBR_FULL_422" in r.allowed_text for r in found)


def test_every_rule_lists_values_once_and_in_upper_case_text() -> None:
    for rule in RULES:
        assert len(set(rule.allowed)) == len(rule.allowed), rule
        assert all(value == value.upper().strip() for value in rule.allowed), rule
        assert rule.severity in ("error", "warning")


ACQUISITION = sorted({r.keyword for r in RULES if r.reason == enumerations._ACQ})


def test_group_0016_codes_agree_with_dciodvfy(tmp_path: Path) -> None:
    """Every code our table allows dciodvfy takes, and the next code up it refuses."""
    png = DATA / "png" / "basn2c08.png"
    base = convert_image(png.read_bytes(), png.name, {}, new_series_context()).dataset
    longest = max(len(allowed_values(k)) for k in ACQUISITION)
    for position in range(longest):
        ds = copy.deepcopy(base)
        for keyword in ACQUISITION:
            codes = allowed_values(keyword)
            setattr(ds, keyword, int(codes[position % len(codes)]))
        dicomio.write(ds, tmp_path / "allowed.dcm")
        report = dciodvfy(tmp_path / "allowed.dcm")
        assert not [e for e in report.errors if "enumerated" in e], report.output
    ds = copy.deepcopy(base)
    for keyword in ACQUISITION:
        setattr(ds, keyword, max(int(code) for code in allowed_values(keyword)) + 1)
    dicomio.write(ds, tmp_path / "refused.dcm")
    refused = [e for e in dciodvfy(tmp_path / "refused.dcm").errors if "enumerated" in e]
    assert len(refused) == len(ACQUISITION), refused
    assert dcmread(tmp_path / "refused.dcm").MeteringMode == 256
