"""Tag table and edits: table of produced and foreign files, round trips, refusals, undo."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset

from tbp_core.building.convert import convert_image
from tbp_core.building.iods import new_series_context
from tbp_core.building.metadata import parse_template
from tbp_core.errors import TagEditError
from tbp_core.fileio import dicomio
from tbp_core.inspection.tags import (
    TABLE_COLUMNS,
    AddElement,
    AddItem,
    DeleteElement,
    RegenerateUID,
    RemoveItem,
    SetValue,
    apply_edit,
    apply_edits,
    parse_cli_edits,
    to_table,
    undo,
)
from tests.conftest import DATA, ROOT
from tests.referee import dciodvfy

TEMPLATE = parse_template((ROOT / "sample_data" / "tbp_regional_template.json").read_bytes())
DICOM_FILES = sorted((DATA / "dicom").glob("*.dcm"))


@pytest.fixture
def produced(tmp_path: Path) -> Dataset:
    """A converted PNG, written and read back the way the app and CLI see files."""
    data = (DATA / "png" / "basn2c08.png").read_bytes()
    converted = convert_image(data, "basn2c08.png", TEMPLATE, new_series_context())
    path = tmp_path / "produced.dcm"
    dicomio.write(converted.dataset, path)
    return dicomio.read(path)


def file_bytes(ds: Dataset) -> bytes:
    buffer = io.BytesIO()
    dicomio.write(ds, buffer)
    return buffer.getvalue()


def value_of(ds: Dataset, path: str) -> str:
    table = to_table(ds)
    rows = table[table["path"] == path]
    assert len(rows) == 1, f"{path} not found once in the table"
    return str(rows.iloc[0]["value"])


# ------------------------------------------------------------------ table


def test_table_of_produced_file_has_nested_rows_with_module_and_ie(produced: Dataset) -> None:
    table = to_table(produced)
    assert list(table.columns) == list(TABLE_COLUMNS)
    nested = table[table["path"] == "AnatomicRegionSequence[0].CodeValue"].iloc[0]
    assert nested["tag"] == "(0008,0100)"
    assert nested["value"] == "66643007"
    assert nested["module"] and nested["ie"]
    top = table[table["path"] == "PatientName"].iloc[0]
    assert (top["module"], top["ie"], top["vr"], top["editable"]) == (
        "patient",
        "Patient",
        "PN",
        True,
    )
    pixel = table[table["path"] == "PixelData"].iloc[0]
    assert not pixel["editable"]
    assert pixel["value"].startswith("<OB") or pixel["value"].startswith("<OW")
    assert not table[table["vr"] == "SQ"]["editable"].any()
    assert not table[table["tag"].str.endswith("0000)")]["editable"].any()
    private = table[table["private_creator"].notna()]
    assert len(private) > 0


@pytest.mark.parametrize("path", DICOM_FILES, ids=lambda p: p.name)
def test_table_never_reads_pixel_data(path: Path) -> None:
    ds = dicomio.read(path)
    before = ds.get_item(0x7FE00010, keep_deferred=True) if 0x7FE00010 in ds else None
    table = to_table(ds)
    assert len(table) > 0
    if before is not None:
        raw = ds.get_item(0x7FE00010, keep_deferred=True)
        assert isinstance(raw, RawDataElement) and raw is before
        if len(raw.value or b"") == 0:
            assert raw.length > 1024  # deferred, still unread
        row = table[table["tag"] == "(7FE0,0010)"].iloc[0]
        assert row["value"].startswith("<") and not row["editable"]


# ------------------------------------------------------------------ round trips

ROUND_TRIPS = [
    ("AE", "StationAETitle", "TBPSTATION", "TBPSTATION"),
    ("AS", "PatientAge", "045Y", "045Y"),
    ("CS", "PatientSex", "m", "M"),
    ("DA", "PatientBirthDate", "2001-02-03", "20010203"),
    ("DS", "PatientWeight", "72.5", "72.5"),
    ("DT", "AcquisitionDateTime", "20240301101530", "20240301101530"),
    ("IS", "SeriesNumber", "7", "7"),
    ("LO", "PatientID", "TBP-0077", "TBP-0077"),
    ("LT", "ExtendedCodeMeaning", "first line\r\nsecond", "first line\r\nsecond"),
    ("PN", "ReferringPhysicianName", "Smith^John", "Smith^John"),
    ("SH", "StudyID", "S-9", "S-9"),
    ("ST", "InstitutionAddress", "1 Main St, Town", "1 Main St, Town"),
    ("TM", "StudyTime", "10:15:30", "101530"),
    ("UI", "FrameOfReferenceUID", "1.2.826.0.1.3680043.2.1125.7", "1.2.826.0.1.3680043.2.1125.7"),
    ("UT", "SpectralSensitivity", "visible light", "visible light"),
    ("US", "RepresentativeFrameNumber", "1", "1"),
    ("SS", "TagAngleSecondAxis", "-12", "-12"),
    ("UL", "NumberOfPolygonalVertices", "4000000000", "4000000000"),
    ("SL", "ReferencePixelX0", "-70000", "-70000"),
    ("FL", "RecommendedDisplayFrameRateInFloat", "2.5", "2.5"),
    ("FD", "EventTimeOffset", "0.125", "0.125"),
    ("DS multi", "PixelSpacing", "0.1\\0.25", "0.1\\0.25"),
    ("nested", "AnatomicRegionSequence[0].CodeMeaning", "Skin of chest", "Skin of chest"),
]


@pytest.mark.parametrize(
    ("family", "path", "text", "expected"), ROUND_TRIPS, ids=[r[0] for r in ROUND_TRIPS]
)
def test_set_write_read_gives_the_value_back(
    produced: Dataset, tmp_path: Path, family: str, path: str, text: str, expected: str
) -> None:
    result = apply_edit(produced, SetValue(path, text))
    assert result.applied, result.message
    assert result.change is not None and result.change.new_text == expected
    target = tmp_path / "edited.dcm"
    dicomio.write(produced, target)
    assert value_of(dicomio.read(target), path) == expected


# ------------------------------------------------------------------ refusals

REFUSED = [
    (SetValue("PatientBirthDate", "2000-13-45"), "PatientBirthDate: '2000-13-45'"),
    (SetValue("PatientWeight", "heavy"), "DS"),
    (SetValue("SeriesNumber", "1.5"), "IS"),
    (SetValue("PixelSpacing", "0.1"), "PixelSpacing"),
    (SetValue("StudyInstanceUID", "1.02.3"), "UI"),
    (SetValue("AnatomicRegionSequence[0].CodeMeaning", "a\\b"), "CodeMeaning"),
    (SetValue("TagAngleSecondAxis", "40000"), "SS"),
    (SetValue("PatientSex", "X"), "PatientSex: 'X' is not one of M, F, O"),
    (SetValue("Modality", "DMS"), "Modality: 'DMS' is not one of XC"),
    (SetValue("BitsAllocated", "16"), "is not one of 8"),
    (SetValue("ImageType", "ORIGINAL\\FOO"), "value 2 'FOO' is not one of PRIMARY, SECONDARY"),
    (SetValue("PixelData", "0"), "Pixel Data"),
    (SetValue("MediaStorageSOPInstanceUID", "1.2.3"), "file meta"),
    (SetValue("FileMetaInformationGroupLength", "1"), "group length"),
    (SetValue("AnatomicRegionSequence", "x"), "sequence"),
    (SetValue("AnatomicRegionSequence[3].CodeValue", "1"), "item 3"),
    (SetValue("NotAKeyword", "1"), "NotAKeyword"),
    (DeleteElement("PixelData"), "Pixel Data"),
    (RemoveItem("AnatomicRegionSequence", 5), "item 5"),
    (AddElement("", "(0011,1010)", "LO", "x", None), "private creator"),
    (AddElement("", "(0010,1010)", "LO", "x", "ACME 1.0"), "even"),
    (AddElement("", "(0007,1010)", "LO", "x", "ACME 1.0"), "0007"),
    (AddElement("", "(0011,1010)", "DS", "abc", "ACME 1.0"), "DS"),
    (AddElement("", "PatientName", None, "Doe^John", None), "already present"),
    (RegenerateUID("PatientName"), "UI"),
]


@pytest.mark.parametrize(("edit", "fragment"), REFUSED, ids=[repr(r[0]) for r in REFUSED])
def test_refused_edit_leaves_written_bytes_unchanged(
    produced: Dataset, edit: object, fragment: str
) -> None:
    before = file_bytes(produced)
    result = apply_edit(produced, edit)  # type: ignore[arg-type]
    assert not result.applied
    assert result.change is None
    assert "\n" not in result.message
    assert fragment.lower() in result.message.lower(), result.message
    assert file_bytes(produced) == before


def test_refused_date_message_names_value_vr_and_rule(produced: Dataset) -> None:
    result = apply_edit(produced, SetValue("PatientBirthDate", "2000-13-45"))
    assert "'2000-13-45'" in result.message and "DA" in result.message
    assert "YYYYMMDD" in result.message


# ------------------------------------------------------------------ private elements


def test_private_element_creation_reserves_a_block_dciodvfy_accepts(
    produced: Dataset, tmp_path: Path
) -> None:
    result = apply_edit(produced, AddElement("", "(0013,1010)", "LO", "hello", "ACME TEST 1.0"))
    assert result.applied, result.message
    assert result.change is not None
    block = produced.private_block(0x0013, "ACME TEST 1.0")
    assert block.get_tag(0x10) == int(result.change.tag.strip("()").replace(",", ""), 16)
    assert produced[block.get_tag(0x10)].value == "hello"
    nested = apply_edit(
        produced,
        AddElement("AnatomicRegionSequence[0]", "(0013,1020)", "DS", "1.5\\2", "ACME TEST 1.0"),
    )
    assert nested.applied, nested.message
    target = tmp_path / "private.dcm"
    dicomio.write(produced, target)
    report = dciodvfy(target)
    assert not [line for line in report.errors if "0013" in line], report.output
    table = to_table(dicomio.read(target))
    rows = table[table["private_creator"] == "ACME TEST 1.0"]
    assert set(rows["value"]) == {"hello", "1.5\\2"}


def test_private_block_reused_for_the_same_creator(produced: Dataset) -> None:
    first = apply_edit(produced, AddElement("", "(0013,1001)", "LO", "a", "ACME TEST 1.0"))
    second = apply_edit(produced, AddElement("", "(0013,1002)", "US", "5", "ACME TEST 1.0"))
    assert first.change is not None and second.change is not None
    assert first.change.tag[:8] == second.change.tag[:8]
    assert produced[int(second.change.tag.strip("()").replace(",", ""), 16)].value == 5


# ------------------------------------------------------------------ undo, items, UIDs


@pytest.mark.parametrize(
    "edit",
    [
        SetValue("PatientName", "Roe^Richard"),
        SetValue("PatientComments", "added by set"),
        AddElement("", "(0013,1010)", "LO", "hello", "ACME TEST 1.0"),
        AddElement("AnatomicRegionSequence[0]", "CodingSchemeVersion", None, "2024", None),
        DeleteElement("PatientSex"),
        DeleteElement("AnatomicRegionSequence"),
        AddItem("AnatomicRegionSequence"),
        AddItem("AnatomicRegionModifierSequence"),
        RemoveItem("AnatomicRegionSequence", 0),
        RegenerateUID("SOPInstanceUID"),
        SetValue("AnatomicRegionSequence[0].CodeMeaning", "Skin of chest"),
    ],
    ids=repr,
)
def test_undo_restores_the_file(produced: Dataset, edit: object) -> None:
    before = file_bytes(produced)
    result = apply_edit(produced, edit)  # type: ignore[arg-type]
    assert result.applied, result.message
    assert result.change is not None
    assert file_bytes(produced) != before
    undo(produced, result.change)
    assert file_bytes(produced) == before


def test_add_and_remove_items(produced: Dataset) -> None:
    added = apply_edit(produced, AddItem("AnatomicRegionSequence"))
    assert added.change is not None and added.change.path == "AnatomicRegionSequence[1]"
    filled = apply_edit(produced, SetValue("AnatomicRegionSequence[1].CodeValue", "39937001"))
    assert filled.applied, filled.message
    assert len(produced.AnatomicRegionSequence) == 2
    removed = apply_edit(produced, RemoveItem("AnatomicRegionSequence", 0))
    assert removed.applied
    assert produced.AnatomicRegionSequence[0].CodeValue == "39937001"


def test_regenerate_sop_instance_uid_updates_file_meta(produced: Dataset) -> None:
    old = produced.SOPInstanceUID
    result = apply_edit(produced, RegenerateUID("SOPInstanceUID"))
    assert result.applied and result.change is not None
    assert produced.SOPInstanceUID != old and produced.SOPInstanceUID.is_valid
    assert produced.file_meta.MediaStorageSOPInstanceUID == produced.SOPInstanceUID
    assert result.change.old_text == old


# ------------------------------------------------------------------ CLI helpers


def test_parse_cli_edits() -> None:
    edits = parse_cli_edits(["PatientName=Doe^John", "Seq[0].CodeValue=a=b"], ["PatientSex"])
    assert edits == [
        SetValue("PatientName", "Doe^John"),
        SetValue("Seq[0].CodeValue", "a=b"),
        DeleteElement("PatientSex"),
    ]
    with pytest.raises(TagEditError, match="KEYWORD=VALUE"):
        parse_cli_edits(["PatientName"], [])


def test_apply_edits_is_all_or_nothing(produced: Dataset) -> None:
    before = file_bytes(produced)
    edits = parse_cli_edits(
        ["PatientName=Roe^Richard", "PatientComments=new", "PatientBirthDate=2000-13-45"],
        ["PatientSex"],
    )
    results = apply_edits(produced, edits)
    assert [r.applied for r in results] == [True, True, False]
    assert file_bytes(produced) == before
    good = apply_edits(produced, parse_cli_edits(["PatientName=Roe^Richard"], ["PatientSex"]))
    assert all(r.applied for r in good)
    assert produced.PatientName == "Roe^Richard" and "PatientSex" not in produced
