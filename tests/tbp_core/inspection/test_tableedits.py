"""Tag table view helpers: filtering, sequence items, editor cells → tag edits, change log."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset

from tbp_core.errors import TagEditError
from tbp_core.fileio import dicomio
from tbp_core.inspection import tags
from tbp_core.inspection.tableedits import (
    TableRow,
    change_rows,
    filter_table,
    item_paths,
    not_editable_reason,
    plan_edits,
    rows_of,
    sequence_paths,
    split_item_path,
)
from tests.conftest import DATA


@pytest.fixture
def ct() -> Dataset:
    return dicomio.read((DATA / "dicom" / "CT_small.dcm").read_bytes(), name="CT_small.dcm")


def _position(rows: tuple[TableRow, ...], path: str) -> int:
    return next(i for i, row in enumerate(rows) if row.path == path)


def test_rows_follow_the_table(ct: Dataset) -> None:
    table = tags.to_table(ct)
    rows = rows_of(table)
    assert len(rows) == len(table)
    patient = rows[_position(rows, "PatientID")]
    assert patient == TableRow("PatientID", "(0010,0020)", "LO", "1CT1", True)
    assert not rows[_position(rows, "OtherPatientIDsSequence")].editable


def test_changed_cells_become_set_value_edits(ct: Dataset) -> None:
    rows = rows_of(tags.to_table(ct))
    at = _position(rows, "PatientID")
    plan = plan_edits({at: {"value": "NEW-ID"}}, rows)
    assert plan.edits == (tags.SetValue("PatientID", "NEW-ID"),)
    assert plan.refusals == ()
    result = tags.apply_edit(ct, plan.edits[0])
    assert result.applied and ct.PatientID == "NEW-ID"


def test_unchanged_cells_other_columns_and_unknown_rows_give_nothing(ct: Dataset) -> None:
    rows = rows_of(tags.to_table(ct))
    at = _position(rows, "PatientID")
    plan = plan_edits(
        {at: {"value": "1CT1"}, at + 1: {"name": "x"}, len(rows) + 5: {"value": "y"}}, rows
    )
    assert plan.edits == () and plan.refusals == ()


def test_positions_as_text_and_cleared_cells(ct: Dataset) -> None:
    rows = rows_of(tags.to_table(ct))
    at = _position(rows, "StudyDescription")
    plan = plan_edits({str(at): {"value": None}}, rows)
    assert plan.edits == (tags.SetValue("StudyDescription", ""),)


def test_cells_of_rows_that_cannot_be_edited_are_refused(ct: Dataset) -> None:
    rows = rows_of(tags.to_table(ct))
    sequence = _position(rows, "OtherPatientIDsSequence")
    meta = _position(rows, "TransferSyntaxUID")
    pixels = _position(rows, "PixelData")
    name = _position(rows, "PatientName")
    plan = plan_edits(
        {
            sequence: {"value": "3 items"},
            meta: {"value": "1.2.3"},
            pixels: {"value": "x"},
            name: {"value": "Doe^Jane"},
        },
        rows,
    )
    assert plan.edits == (tags.SetValue("PatientName", "Doe^Jane"),)
    assert len(plan.refusals) == 3
    assert plan.refusals[0].startswith("TransferSyntaxUID is not editable: file meta")
    assert "sequence" in plan.refusals[1] and "OtherPatientIDsSequence" in plan.refusals[1]
    assert "Pixel Data" in plan.refusals[2]
    assert all(message.endswith("the old value is kept") for message in plan.refusals)


def test_reasons_name_the_fix() -> None:
    binary = TableRow("(0043,1028)", "(0043,1028)", "OB", "<OB, 80 bytes>", False)
    assert "binary OB" in not_editable_reason(binary)
    length = TableRow("(0009,0000)", "(0009,0000)", "UL", "12", False)
    assert "group lengths" in not_editable_reason(length)
    ambiguous = TableRow("X", "(0028,0106)", "US or SS", "0", False)
    assert "ambiguous" in not_editable_reason(ambiguous)


def test_filter_matches_path_tag_keyword_name_and_value(ct: Dataset) -> None:
    table = tags.to_table(ct)
    by_keyword = filter_table(table, "patientid")
    assert "PatientID" in set(by_keyword["path"])
    assert "OtherPatientIDsSequence[1].PatientID" in set(by_keyword["path"])
    assert list(by_keyword.index) == list(range(len(by_keyword)))
    assert list(filter_table(table, "(0010,0010)")["path"]) == ["PatientName"]
    assert list(filter_table(table, "00100010")["path"]) == ["PatientName"]
    assert list(filter_table(table, "Patient's Name")["path"]) == ["PatientName"]
    assert "InstitutionName" in set(filter_table(table, "jfk imaging")["path"])
    assert len(filter_table(table, "")) == len(table)
    assert filter_table(table, "no such thing anywhere").empty


def test_filter_inside_one_sequence_item(ct: Dataset) -> None:
    table = tags.to_table(ct)
    inside = filter_table(table, item_path="OtherPatientIDsSequence[1]")
    assert list(inside["path"]) == [
        "OtherPatientIDsSequence[1].PatientID",
        "OtherPatientIDsSequence[1].TypeOfPatientID",
    ]
    both = filter_table(table, "TypeOf", "OtherPatientIDsSequence[0]")
    assert list(both["path"]) == ["OtherPatientIDsSequence[0].TypeOfPatientID"]


def test_sequences_and_items_including_empty_and_nested_ones() -> None:
    ds = Dataset()
    outer = Dataset()
    outer.CodeValue = "T-D0050"
    inner = Dataset()
    inner.CodeMeaning = "Left"
    outer.ModifierCodeSequence = [inner]
    ds.AnatomicRegionSequence = [outer, Dataset()]
    ds.AcquisitionContextSequence = []
    table = tags.to_table(ds)
    assert sequence_paths(table) == [
        "AnatomicRegionSequence",
        "AnatomicRegionSequence[0].ModifierCodeSequence",
        "AcquisitionContextSequence",
    ]
    assert item_paths(table) == [
        "AnatomicRegionSequence[0]",
        "AnatomicRegionSequence[1]",
        "AnatomicRegionSequence[0].ModifierCodeSequence[0]",
    ]


def test_item_paths_split_into_sequence_and_index() -> None:
    assert split_item_path("AnatomicRegionSequence[0]") == ("AnatomicRegionSequence", 0)
    assert split_item_path("A[0].ModifierCodeSequence[12]") == ("A[0].ModifierCodeSequence", 12)
    with pytest.raises(TagEditError, match="not a sequence item"):
        split_item_path("PatientName")


def test_change_log_rows(ct: Dataset) -> None:
    edits: list[tags.Edit] = [
        tags.SetValue("PatientID", "X1"),
        tags.AddElement("", "PatientComments", None, "hello"),
        tags.DeleteElement("PatientComments"),
        tags.AddItem("OtherPatientIDsSequence"),
    ]
    applied = []
    for edit in edits:
        result = tags.apply_edit(ct, edit)
        assert result.applied and result.change is not None
        applied.append((edit, result.change))
    log = change_rows(applied)
    assert [row["#"] for row in log] == ["1", "2", "3", "4"]
    assert [row["edit"] for row in log] == ["set", "add", "delete", "add item"]
    assert log[0] == {
        "#": "1",
        "edit": "set",
        "path": "PatientID",
        "tag": "(0010,0020)",
        "old": "1CT1",
        "new": "X1",
    }
    assert log[1]["old"] == "(absent)" and log[1]["new"] == "hello"
    assert log[2]["new"] == "(removed)"
    assert log[3]["path"] == "OtherPatientIDsSequence[2]"
