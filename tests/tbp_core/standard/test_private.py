"""Tests for tbp_core.standard.private: the TBP private block in group 0011."""

from __future__ import annotations

import io

import pytest
from pydicom import dcmread
from pydicom.datadict import get_private_entry
from pydicom.dataset import Dataset
from pydicom.tag import Tag
from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid

from tbp_core.errors import MetadataError
from tbp_core.standard import private
from tbp_core.standard.private import (
    TBP_ATTRIBUTES,
    TBP_GROUP,
    TBP_PRIVATE_CREATOR,
    get_tbp_values,
    is_tbp_key,
    normalise_tbp_value,
    register_private_dictionary,
    set_tbp_values,
)

SEED_VALUES = {
    "tbp:FocalLengthPx": 1560.0,
    "tbp:PrincipalPoint": [285.2, 427.0],
    "tbp:RadialDistortion": [0.03583441216871274, 0.26, 0.5682430959708885],
    "tbp:Parfocal": 1,
    "tbp:FocalDistance": 1.47,
    "tbp:LesionLocationOnRegional": [120.0, 340.0],
}


def _write_and_read(ds: Dataset, transfer_syntax: str = ExplicitVRLittleEndian) -> Dataset:
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.77.1.4"
    ds.SOPInstanceUID = generate_uid()
    ds.ensure_file_meta()
    ds.file_meta.TransferSyntaxUID = UID(transfer_syntax)
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return dcmread(io.BytesIO(buffer.getvalue()))


def test_constants_match_the_seed_block() -> None:
    assert TBP_PRIVATE_CREATOR == "VL Image Calibration Module"
    assert TBP_GROUP == 0x0011
    table = {a.key: (a.offset, a.vr, a.vm) for a in TBP_ATTRIBUTES}
    assert table == {
        "tbp:FocalLengthPx": (0x10, "DS", "1"),
        "tbp:PrincipalPoint": (0x11, "FL", "2"),
        "tbp:RadialDistortion": (0x12, "FL", "1-n"),
        "tbp:Parfocal": (0x13, "SS", "1"),
        "tbp:FocalDistance": (0x14, "FL", "1"),
        "tbp:LesionLocationOnRegional": (0x15, "FL", "2"),
    }
    for attr in TBP_ATTRIBUTES:
        assert attr.key == f"tbp:{attr.keyword}"
        assert attr.name and attr.description


def test_attributes_are_frozen() -> None:
    with pytest.raises(AttributeError):
        TBP_ATTRIBUTES[0].offset = 0x20  # type: ignore[misc]


def test_private_dictionary_registered_idempotently() -> None:
    register_private_dictionary()
    register_private_dictionary()
    for attr in TBP_ATTRIBUTES:
        vr, vm, name, _retired = get_private_entry(
            (TBP_GROUP << 16) | 0x1000 | attr.offset, TBP_PRIVATE_CREATOR
        )
        assert (vr, vm, name) == (attr.vr, attr.vm, attr.name)


@pytest.mark.parametrize(
    ("key", "expected"),
    [("tbp:FocalLengthPx", True), ("tbp:Whatever", True), ("PatientName", False), ("TBP", False)],
)
def test_is_tbp_key(key: str, expected: bool) -> None:
    assert is_tbp_key(key) is expected


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("tbp:FocalLengthPx", "1560.0", "1560.0"),
        ("tbp:FocalLengthPx", 1560.0, "1560.0"),
        ("tbp:FocalLengthPx", 1560, "1560"),
        ("tbp:FocalLengthPx", " 1.5e3 ", "1.5e3"),
        ("tbp:FocalLengthPx", 0.123456789012345678, "0.12345678901235"),
        ("tbp:PrincipalPoint", [285.2, 427.0], [285.2, 427.0]),
        ("tbp:PrincipalPoint", "285.2\\427", [285.2, 427.0]),
        ("tbp:PrincipalPoint", "[285.2, 427.0]", [285.2, 427.0]),
        ("tbp:PrincipalPoint", ("1", "2"), [1.0, 2.0]),
        ("tbp:RadialDistortion", [0.03583441216871274, 0.26], [0.035834413, 0.26]),
        ("tbp:RadialDistortion", -0.5, -0.5),
        ("tbp:RadialDistortion", "0.1", 0.1),
        ("tbp:Parfocal", 1, 1),
        ("tbp:Parfocal", 0, 0),
        ("tbp:Parfocal", True, 1),
        ("tbp:Parfocal", "false", 0),
        ("tbp:Parfocal", "TRUE", 1),
        ("tbp:Parfocal", "0", 0),
        ("tbp:FocalDistance", "1.47", 1.47),
        ("tbp:FocalDistance", None, None),
        ("tbp:FocalDistance", "", None),
    ],
)
def test_normalise_accepts_friendly_forms(key: str, value: object, expected: object) -> None:
    assert normalise_tbp_value(key, value) == expected


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("tbp:FocalLengthPx", "abc", "is not a number"),
        ("tbp:FocalLengthPx", -3, "is not > 0"),
        ("tbp:FocalLengthPx", [1, 2], "expected 1 value"),
        ("tbp:FocalLengthPx", float("nan"), "finite"),
        ("tbp:FocalLengthPx", True, "is not a number"),
        ("tbp:PrincipalPoint", [285.2], "has 1 value, expected 2 values"),
        ("tbp:PrincipalPoint", [1, 2, 3], "expected 2 values"),
        ("tbp:PrincipalPoint", [-1, 2], "negative"),
        ("tbp:PrincipalPoint", "[1, 2", "not a list of numbers"),
        ("tbp:RadialDistortion", ["x"], "is not a number"),
        ("tbp:Parfocal", 2, "is not allowed"),
        ("tbp:Parfocal", "maybe", "is not allowed"),
        ("tbp:Parfocal", [0, 1], "expected 1 value"),
        ("tbp:FocalDistance", 0, "is not > 0"),
    ],
)
def test_normalise_errors_name_key_value_and_rule(key: str, value: object, fragment: str) -> None:
    with pytest.raises(MetadataError) as info:
        normalise_tbp_value(key, value)
    message = str(info.value)
    assert message.startswith(f"{key}: ")
    assert repr(value) in message
    assert fragment in message
    vr = private.tbp_attribute(key).vr
    assert f"({vr}, " in message
    assert "\n" not in message


def test_unknown_key_suggests_the_closest() -> None:
    with pytest.raises(MetadataError, match=r"tbp:FocalLength: unknown .*'tbp:FocalLengthPx'"):
        normalise_tbp_value("tbp:FocalLength", 1)


def test_set_creates_creator_first_and_names_elements() -> None:
    ds = Dataset()
    set_tbp_values(ds, SEED_VALUES)
    tags = [element.tag for element in ds]
    assert tags[0] == Tag(0x0011, 0x0010)
    assert ds[0x00110010].value == TBP_PRIVATE_CREATOR
    assert ds[0x00110010].VR == "LO"
    assert tags[1:] == [Tag(0x0011, 0x1010 + i) for i in range(6)]
    assert ds[0x00111010].name == "[Focal Length (pixels)]"
    assert ds[0x00111013].VR == "SS"
    block = ds.private_block(TBP_GROUP, TBP_PRIVATE_CREATOR)
    assert block[0x11].value == pytest.approx([285.2, 427.0])


@pytest.mark.parametrize("transfer_syntax", [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
def test_round_trip_through_a_written_file(transfer_syntax: str) -> None:
    ds = Dataset()
    set_tbp_values(ds, SEED_VALUES)
    expected = {key: normalise_tbp_value(key, value) for key, value in SEED_VALUES.items()}
    read = _write_and_read(ds, transfer_syntax)
    assert get_tbp_values(read) == expected
    assert read[0x00110010].value == TBP_PRIVATE_CREATOR
    names = {read[Tag(0x0011, 0x1010 + a.offset - 0x10)].name for a in TBP_ATTRIBUTES}
    assert names == {f"[{a.name}]" for a in TBP_ATTRIBUTES}
    block = read.private_block(TBP_GROUP, TBP_PRIVATE_CREATOR)
    assert block[0x13].value == 1
    assert block[0x10].VR == "DS"


def test_block_moves_when_another_creator_holds_0x10() -> None:
    ds = Dataset()
    ds.add_new(0x00110010, "LO", "SOME OTHER VENDOR")
    ds.add_new(0x00111010, "LO", "vendor data")
    set_tbp_values(ds, {"tbp:Parfocal": 0, "tbp:FocalLengthPx": "1200"})
    assert ds[0x00110011].value == TBP_PRIVATE_CREATOR
    assert ds[0x00111113].value == 0
    assert ds[0x00111010].value == "vendor data"
    read = _write_and_read(ds)
    assert get_tbp_values(read) == {"tbp:FocalLengthPx": "1200", "tbp:Parfocal": 0}


def test_set_twice_reuses_the_block() -> None:
    ds = Dataset()
    set_tbp_values(ds, {"tbp:Parfocal": 1})
    set_tbp_values(ds, {"tbp:Parfocal": 0, "tbp:FocalDistance": 2})
    assert ds.private_creators(TBP_GROUP) == [TBP_PRIVATE_CREATOR]
    assert get_tbp_values(ds) == {"tbp:Parfocal": 0, "tbp:FocalDistance": 2.0}


def test_invalid_value_leaves_dataset_unchanged() -> None:
    ds = Dataset()
    with pytest.raises(MetadataError, match="tbp:Parfocal"):
        set_tbp_values(ds, {"tbp:FocalLengthPx": 1560, "tbp:Parfocal": 5})
    assert len(ds) == 0


def test_none_writes_an_empty_element() -> None:
    ds = Dataset()
    set_tbp_values(ds, {"tbp:FocalDistance": None})
    assert ds[0x00111014].is_empty
    assert get_tbp_values(_write_and_read(ds)) == {"tbp:FocalDistance": None}


def test_get_without_block_is_empty() -> None:
    ds = Dataset()
    ds.PatientName = "Doe^Jane"
    assert get_tbp_values(ds) == {}


def test_get_decodes_values_left_as_unknown_vr() -> None:
    ds = Dataset()
    ds.add_new(0x00110010, "LO", TBP_PRIVATE_CREATOR)
    ds.add_new(0x00111010, "UN", b"1560.0")
    ds.add_new(0x00111013, "UN", b"\x01\x00")
    ds.add_new(0x00111011, "UN", b"\x00\x00\x80\x3f\x00\x00\x00\x40")
    assert get_tbp_values(ds) == {
        "tbp:FocalLengthPx": "1560.0",
        "tbp:PrincipalPoint": [1.0, 2.0],
        "tbp:Parfocal": 1,
    }


def test_get_reports_invalid_stored_value() -> None:
    ds = Dataset()
    block = ds.private_block(TBP_GROUP, TBP_PRIVATE_CREATOR, create=True)
    block.add_new(0x13, "SS", 7)
    with pytest.raises(MetadataError, match=r"tbp:Parfocal: 7 is not allowed"):
        get_tbp_values(ds)
