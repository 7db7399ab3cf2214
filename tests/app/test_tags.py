"""The Tags page through Streamlit's AppTest: table edits, refusals, undo, add/delete, items."""

from __future__ import annotations

import io

import pandas as pd
import pydicom
import pytest
from streamlit.testing.v1 import AppTest

from tbp_core.session import export, workspace
from tbp_core.session.workspace import Document
from tests.conftest import DATA, ROOT
from ui.layout import TAGS_PAGE
from ui.state import CURRENT, DOCUMENTS

CT_SMALL = DATA / "dicom" / "CT_small.dcm"


def _app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    return at


def _tags_page_with(name: str, data: bytes) -> AppTest:
    """The app with one uploaded file (through the Upload page), showing the Tags page."""
    at = _app()
    at.file_uploader(key="upload_files").set_value([(name, data, "application/dicom")]).run()
    assert not at.exception, at.exception
    at.switch_page(TAGS_PAGE).run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def ct() -> AppTest:
    return _tags_page_with("CT_small.dcm", CT_SMALL.read_bytes())


def _document(at: AppTest) -> Document:
    docs: list[Document] = at.session_state[DOCUMENTS]
    return next(doc for doc in docs if doc.id == at.session_state[CURRENT])


def _table(at: AppTest) -> pd.DataFrame:
    assert len(at.data_editor) == 1
    table: pd.DataFrame = at.data_editor[0].value
    return table


def _value(at: AppTest, path: str) -> str:
    table = _table(at)
    return str(table.loc[table["path"] == path, "value"].iloc[0])


def _edit_cell(at: AppTest, path: str, text: str | None) -> None:
    """Edit the Value cell of the row showing ``path``, as the browser would, and rerun."""
    table = _table(at)
    position = int(table.index[table["path"] == path][0])
    key = at.data_editor[0].key
    assert key is not None and key.startswith("tags_editor")
    at.session_state[key] = {
        "edited_rows": {position: {"value": text}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert not at.exception, at.exception


def _errors(at: AppTest) -> list[str]:
    return [str(error.value) for error in at.error]


def _successes(at: AppTest) -> list[str]:
    return [str(success.value) for success in at.success]


def _exported(at: AppTest) -> pydicom.Dataset:
    data = export.export_bytes(_document(at), workspace.KEEP_TRANSFER_SYNTAX)
    return pydicom.dcmread(io.BytesIO(data))


def test_without_a_document_the_page_points_to_upload() -> None:
    at = _app()
    at.switch_page(TAGS_PAGE).run()
    assert not at.exception
    assert at.title[0].value == "Tags"
    assert any("No document" in info.value for info in at.info)
    assert not at.data_editor


def test_the_whole_dataset_is_in_one_editor(ct: AppTest) -> None:
    editor = ct.data_editor(key="tags_editor")
    assert editor.editing_mode == "fixed"
    table = editor.value
    assert {"path", "tag", "name", "vr", "vm", "value", "editable"} <= set(table.columns)
    assert _value(ct, "PatientName") == "CompressedSamples^CT1"
    assert _value(ct, "OtherPatientIDsSequence[1].PatientID") == "1234ABCD"
    assert len(table) == 270  # every element of CT_small, file meta and nested ones included


def test_an_edit_in_the_table_is_in_the_download(ct: AppTest) -> None:
    _edit_cell(ct, "PatientID", "TBP-0042")
    assert _errors(ct) == []
    assert any("PatientID" in text and "TBP-0042" in text for text in _successes(ct))
    assert _value(ct, "PatientID") == "TBP-0042"
    assert _exported(ct).PatientID == "TBP-0042"
    # a second edit through the fresh editor, inside a sequence item
    _edit_cell(ct, "OtherPatientIDsSequence[0].PatientID", "OTHER-1")
    exported = _exported(ct)
    assert exported.OtherPatientIDsSequence[0].PatientID == "OTHER-1"
    assert exported.PatientID == "TBP-0042"


def test_a_refused_edit_shows_the_error_and_keeps_the_old_value(ct: AppTest) -> None:
    key_before = ct.data_editor[0].key
    _edit_cell(ct, "StudyDate", "notadate")
    errors = _errors(ct)
    assert len(errors) == 1
    assert "StudyDate" in errors[0] and "notadate" in errors[0] and "YYYYMMDD" in errors[0]
    # the table shows the old value again, from a fresh editor without the typed text
    assert ct.data_editor[0].key != key_before
    assert _value(ct, "StudyDate") == "20040119"
    doc = _document(ct)
    assert doc.edits == []
    assert workspace.dataset_of(doc).StudyDate == "20040119"
    assert _exported(ct).StudyDate == "20040119"
    # the message goes with the next run; the app keeps working
    ct.run()
    assert _errors(ct) == []
    _edit_cell(ct, "StudyDate", "2021-03-04")
    assert _value(ct, "StudyDate") == "20210304"


def test_values_that_cannot_be_typed_are_refused(ct: AppTest) -> None:
    _edit_cell(ct, "OtherPatientIDsSequence", "3 items")
    assert any("OtherPatientIDsSequence is not editable" in e for e in _errors(ct))
    assert _value(ct, "OtherPatientIDsSequence") == "2 items"
    _edit_cell(ct, "TransferSyntaxUID", "1.2.840.10008.1.2")
    assert any("file meta" in e for e in _errors(ct))
    assert _document(ct).edits == []


def test_filtering_and_editing_the_filtered_rows(ct: AppTest) -> None:
    ct.text_input(key="tags_filter").set_value("patientid").run()
    paths = list(_table(ct)["path"])
    assert "PatientID" in paths and "PatientName" not in paths
    assert "OtherPatientIDsSequence[1].PatientID" in paths
    ct.text_input(key="tags_filter").set_value("(0008,0020)").run()
    assert list(_table(ct)["path"]) == ["StudyDate"]
    _edit_cell(ct, "StudyDate", "19991231")  # row 0 of the filtered table
    assert _exported(ct).StudyDate == "19991231"
    assert _exported(ct).PatientID == "1CT1"


def test_undo_restores_the_last_edit(ct: AppTest) -> None:
    assert ct.button(key="tags_undo").disabled
    _edit_cell(ct, "PatientID", "FIRST")
    _edit_cell(ct, "PatientName", "Doe^Jane")
    log = ct.dataframe[-1].value
    assert list(log["path"]) == ["PatientID", "PatientName"]
    assert list(log["new"]) == ["FIRST", "Doe^Jane"]
    ct.button(key="tags_undo").click().run()
    assert not ct.exception
    assert any("Undone" in text and "PatientName" in text for text in _successes(ct))
    assert _value(ct, "PatientName") == "CompressedSamples^CT1"
    assert _value(ct, "PatientID") == "FIRST"
    ct.button(key="tags_undo").click().run()
    assert _value(ct, "PatientID") == "1CT1"
    assert _document(ct).edits == []
    assert ct.button(key="tags_undo").disabled
    assert str(_exported(ct).PatientName) == "CompressedSamples^CT1"


def test_add_and_delete_elements(ct: AppTest) -> None:
    ct.text_input(key="tags_add_tag").set_value("PatientComments")
    ct.text_input(key="tags_add_value").set_value("seen in clinic")
    ct.button(key="tags_add_submit").click().run()
    assert not ct.exception and _errors(ct) == []
    assert _value(ct, "PatientComments") == "seen in clinic"
    assert ct.text_input(key="tags_add_tag").value == ""  # cleared after success
    # a private element needs its creator; the refusal keeps what was typed
    ct.text_input(key="tags_add_tag").set_value("(0013,1001)")
    ct.selectbox(key="tags_add_vr").set_value("LO")
    ct.text_input(key="tags_add_value").set_value("lesion 7")
    ct.button(key="tags_add_submit").click().run()
    assert any("private creator" in e for e in _errors(ct))
    assert ct.text_input(key="tags_add_tag").value == "(0013,1001)"
    assert ct.text_input(key="tags_add_value").value == "lesion 7"
    ct.text_input(key="tags_add_creator").set_value("ACME 1.0")
    ct.button(key="tags_add_submit").click().run()
    assert _errors(ct) == []
    exported = _exported(ct)
    assert exported.PatientComments == "seen in clinic"
    block = exported.private_block(0x0013, "ACME 1.0")
    assert block[0x01].value == "lesion 7"
    # delete
    ct.selectbox(key="tags_delete_path").set_value("PatientComments").run()
    ct.button(key="tags_delete").click().run()
    assert not ct.exception and _errors(ct) == []
    assert "PatientComments" not in set(_table(ct)["path"])
    assert "PatientComments" not in _exported(ct)
    assert list(ct.dataframe[-1].value["edit"]) == ["add", "add", "delete"]


def test_an_unknown_keyword_is_refused(ct: AppTest) -> None:
    ct.text_input(key="tags_add_tag").set_value("PatientNmae")
    ct.button(key="tags_add_submit").click().run()
    assert any("PatientNmae" in e and "keyword" in e for e in _errors(ct))
    assert _document(ct).edits == []


def test_sequence_items_open_add_and_remove(ct: AppTest) -> None:
    items = ct.selectbox(key="tags_item")
    assert "OtherPatientIDsSequence[1]" in items.options
    items.set_value("OtherPatientIDsSequence[1]").run()
    assert list(_table(ct)["path"]) == [
        "OtherPatientIDsSequence[1].PatientID",
        "OtherPatientIDsSequence[1].TypeOfPatientID",
    ]
    # a new element goes into the open item
    ct.text_input(key="tags_add_tag").set_value("IssuerOfPatientID")
    ct.text_input(key="tags_add_value").set_value("HOSP")
    ct.button(key="tags_add_submit").click().run()
    assert _errors(ct) == []
    assert _exported(ct).OtherPatientIDsSequence[1].IssuerOfPatientID == "HOSP"
    # add an item, then remove it
    ct.selectbox(key="tags_sequence_path").set_value("OtherPatientIDsSequence").run()
    ct.button(key="tags_add_item").click().run()
    assert "OtherPatientIDsSequence[2]" in ct.selectbox(key="tags_item").options
    assert len(_exported(ct).OtherPatientIDsSequence) == 3
    ct.selectbox(key="tags_remove_path").set_value("OtherPatientIDsSequence[1]").run()
    ct.button(key="tags_remove_item").click().run()
    assert not ct.exception and _errors(ct) == []
    remaining = _exported(ct).OtherPatientIDsSequence
    assert len(remaining) == 2 and remaining[0].PatientID == "ABCD1234"
    # the open item no longer exists: the whole dataset shows again
    assert "OtherPatientIDsSequence[2]" not in ct.selectbox(key="tags_item").options
    assert "PatientName" in set(_table(ct)["path"])


def test_regenerate_a_uid(ct: AppTest) -> None:
    old = _value(ct, "SOPInstanceUID")
    assert "MediaStorageSOPInstanceUID" not in ct.selectbox(key="tags_uid_path").options
    ct.selectbox(key="tags_uid_path").set_value("SOPInstanceUID").run()
    ct.button(key="tags_regenerate").click().run()
    assert not ct.exception and _errors(ct) == []
    new = _value(ct, "SOPInstanceUID")
    assert new != old
    exported = _exported(ct)
    assert exported.SOPInstanceUID == new == exported.file_meta.MediaStorageSOPInstanceUID


def test_sample_image_edits_reach_the_built_dataset() -> None:
    at = _app()
    at.button(key="upload_samples").click().run()
    assert not at.exception
    at.switch_page(TAGS_PAGE).run()
    assert not at.exception
    doc = _document(at)
    assert doc.kind == "image"
    _edit_cell(at, "PatientID", "TBP-7")
    assert _errors(at) == []
    assert _exported(at).PatientID == "TBP-7"
    _edit_cell(at, "PatientSex", "X")
    assert any("PatientSex" in e for e in _errors(at))
    assert _value(at, "PatientSex") == ""
