"""The Metadata page through Streamlit's AppTest: the form, its checks, templates, DICOM files."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pydicom
import pytest
from streamlit.runtime.memory_media_file_storage import _calculate_file_id
from streamlit.testing.v1 import AppTest

from tbp_core.building.iods import DERMOSCOPIC
from tbp_core.building.metadata import parse_template, template_to_json
from tbp_core.session import export, workspace
from tbp_core.session.workspace import Document
from tests.conftest import DATA, ROOT
from tests.referee import dciodvfy
from ui.layout import METADATA_PAGE, SIDEBAR_PICKER_KEY, TAGS_PAGE, UPLOAD_PAGE
from ui.state import CURRENT, DOCUMENTS

FAMILY, GIVEN, MIDDLE = (
    "meta_PatientName_family",
    "meta_PatientName_given",
    "meta_PatientName_middle",
)


def _app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    return at


def _documents(at: AppTest) -> list[Document]:
    docs: list[Document] = at.session_state[DOCUMENTS]
    return docs


def _current(at: AppTest) -> Document:
    wanted = at.session_state[CURRENT]
    return next(doc for doc in _documents(at) if doc.id == wanted)


def _make_current(at: AppTest, doc: Document) -> None:
    at.session_state[CURRENT] = doc.id
    at.session_state[SIDEBAR_PICKER_KEY] = doc.id
    at.run()
    assert not at.exception, at.exception


def _samples_on_metadata_page(at: AppTest) -> Document:
    """Load the samples on the Upload page, make the regional image current, open Metadata."""
    at.button(key="upload_samples").click().run()
    assert not at.exception, at.exception
    regional = next(d for d in _documents(at) if d.name == "regional_back.png")
    at.switch_page(METADATA_PAGE).run()
    _make_current(at, regional)
    return regional


def _upload(at: AppTest, path: Path) -> None:
    at.file_uploader(key="upload_files").set_value(
        [(path.name, path.read_bytes(), "application/octet-stream")]
    ).run()
    assert not at.exception, at.exception


def _type(at: AppTest, key: str, text: str) -> None:
    at.text_input(key=key).set_value(text).run()
    assert not at.exception, at.exception


def _captions(at: AppTest) -> list[str]:
    return [str(c.value) for c in at.caption]


def _labels(at: AppTest) -> set[str]:
    return {w.label for w in [*at.text_input, *at.selectbox]}


def test_the_page_renders_without_a_document() -> None:
    at = _app()
    at.switch_page(METADATA_PAGE).run()
    assert not at.exception
    assert at.title[0].value == "Metadata"
    assert any("No document loaded yet" in str(i.value) for i in at.info)


def test_the_form_shows_attribute_names_grouped_by_ie_with_tag_and_type_in_help() -> None:
    at = _app()
    _samples_on_metadata_page(at)
    assert not at.exception
    labels = _labels(at)
    for label in (
        "Patient's Name — family name",
        "Patient's Name — given name",
        "Patient's Name — middle name",
        "Patient ID",
        "Patient's Birth Date",
        "Patient's Sex",
        "Patient's Size",
        "Patient's Weight",
        "Study Description",
        "Study Date",
        "Accession Number",
        "Referring Physician's Name",
        "Series Description",
        "Manufacturer",
        "Anatomic Region Sequence",
        "Focal Length (pixels)",
    ):
        assert label in labels, label
    subheaders = [s.value for s in at.subheader]
    assert subheaders[:4] == ["Patient", "Study", "Series", "Equipment"]
    assert subheaders[-1] == "TBP calibration"
    [name] = [m for m in at.markdown if m.value == "Patient's Name"]  # the parts' heading
    assert "(0010,0010)" in name.proto.help and "Type 2" in name.proto.help
    birth = at.text_input(key="meta_PatientBirthDate")
    assert birth.help is not None and birth.help.startswith("(0010,0030) · Type 2 · VR DA")
    sex = at.selectbox(key="meta_PatientSex")
    assert sex.options == ["— not given —", "M — male", "F — female", "O — other"]
    assert "(0010,0040)" in (sex.help or "")
    manufacturer = at.text_input(key="meta_Manufacturer")
    assert manufacturer.value == "Lumo Imaging"  # from EXIF, pre-filled
    assert "EXIF" in (manufacturer.help or "")
    assert "from EXIF" in _captions(at)


def test_patient_name_parts_reach_the_exported_dicom_and_dciodvfy_is_content(
    tmp_path: Path,
) -> None:
    at = _app()
    doc = _samples_on_metadata_page(at)
    _type(at, FAMILY, "Family")
    _type(at, GIVEN, "Given")
    _type(at, MIDDLE, "Middle")
    assert doc.metadata["PatientName"] == "Family^Given^Middle"
    assert at.text_input(key=FAMILY).value == "Family"
    target = tmp_path / doc.output_name
    target.write_bytes(export.export_bytes(doc))
    ds = pydicom.dcmread(target)
    assert str(ds.PatientName) == "Family^Given^Middle"
    assert dciodvfy(target).errors == ()


def test_an_invalid_birth_date_is_shown_kept_and_not_applied() -> None:
    at = _app()
    doc = _samples_on_metadata_page(at)
    _type(at, "meta_PatientBirthDate", "1948-07-26")  # before 1970, ISO form
    assert workspace.dataset_of(doc).PatientBirthDate == "19480726"
    assert at.text_input(key="meta_PatientBirthDate").value == "19480726"
    _type(at, "meta_PatientBirthDate", "1948-02-30")
    assert at.text_input(key="meta_PatientBirthDate").value == "1948-02-30"
    shown = [c for c in _captions(at) if "'1948-02-30' is not a valid date" in c]
    assert shown and shown[0].startswith(":red[")
    assert "the document keeps its value" in shown[0]
    assert workspace.dataset_of(doc).PatientBirthDate == "19480726"
    # Other fields still apply while the date is wrong.
    _type(at, "meta_PatientID", "TBP-0042")
    assert workspace.dataset_of(doc).PatientID == "TBP-0042"
    assert at.text_input(key="meta_PatientBirthDate").value == "1948-02-30"
    # What was typed survives a visit to another page.
    at.switch_page(TAGS_PAGE).run()
    at.switch_page(METADATA_PAGE).run()
    assert not at.exception
    assert at.text_input(key="meta_PatientBirthDate").value == "1948-02-30"
    assert any("'1948-02-30' is not a valid date" in c for c in _captions(at))
    _type(at, "meta_PatientBirthDate", "")  # unknown: allowed (Type 2)
    assert "PatientBirthDate" not in doc.metadata
    assert not any("is not a valid date" in c for c in _captions(at))


def test_choices_and_validation_findings_show_beside_the_field() -> None:
    at = _app()
    doc = _samples_on_metadata_page(at)
    at.selectbox(key="meta_PatientSex").set_value("F").run()
    assert not at.exception
    assert workspace.dataset_of(doc).PatientSex == "F"
    _type(at, "meta_StudyDescription", "Total body photography")
    assert workspace.dataset_of(doc).StudyDescription == "Total body photography"


def test_each_document_shows_its_own_values() -> None:
    at = _app()
    regional = _samples_on_metadata_page(at)
    _type(at, FAMILY, "Regional")
    lesion = next(d for d in _documents(at) if d.name == "dermoscopic_lesion.png")
    _make_current(at, lesion)
    assert at.text_input(key=FAMILY).value == ""
    _type(at, FAMILY, "Lesion")
    assert lesion.metadata["PatientName"] == "Lesion"
    _make_current(at, regional)
    assert at.text_input(key=FAMILY).value == "Regional"
    assert regional.metadata["PatientName"] == "Regional"


def test_template_download_and_upload_round_trip() -> None:
    at = _app()
    regional = _samples_on_metadata_page(at)
    _type(at, FAMILY, "Doe")
    _type(at, GIVEN, "Jane")
    _type(at, "meta_PatientBirthDate", "19310504")
    _type(at, "meta_tbp_FocalLengthPx", "1560.0")
    expected = template_to_json(regional.metadata).encode("utf-8")
    assert json.loads(expected) == {
        "PatientName": "Doe^Jane",
        "PatientBirthDate": "19310504",
        "tbp:FocalLengthPx": "1560.0",
    }
    button = at.get("download_button")[0]
    assert button.proto.label == "Download template (.json)"
    file_name = "regional_back_metadata.json"
    assert button.proto.url.endswith(
        _calculate_file_id(expected, "application/json", file_name) + ".json"
    )
    lesion = next(d for d in _documents(at) if d.name == "dermoscopic_lesion.png")
    _make_current(at, lesion)
    at.file_uploader(key="meta_template_upload").set_value(
        (file_name, expected, "application/json")
    ).run()
    assert not at.exception
    assert lesion.metadata == parse_template(expected)
    assert at.text_input(key=FAMILY).value == "Doe"
    assert at.text_input(key="meta_tbp_FocalLengthPx").value == "1560.0"
    assert any("Loaded 3 values" in str(s.value) for s in at.success)


def test_a_broken_template_is_refused_and_nothing_is_lost() -> None:
    at = _app()
    doc = _samples_on_metadata_page(at)
    _type(at, FAMILY, "Kept")
    _type(at, "meta_PatientBirthDate", "not a date")
    at.file_uploader(key="meta_template_upload").set_value(
        ("broken.json", b'{"PatientSex": "X", "PatientNam": "A"}', "application/json")
    ).run()
    assert not at.exception
    errors = [str(e.value) for e in at.error]
    assert any("'broken.json' was not loaded" in e and "PatientSex" in e for e in errors)
    assert doc.metadata == {"PatientName": "Kept"}
    assert at.text_input(key=FAMILY).value == "Kept"
    assert at.text_input(key="meta_PatientBirthDate").value == "not a date"


def test_a_template_that_would_break_the_build_is_not_applied() -> None:
    at = _app()
    doc = _samples_on_metadata_page(at)
    at.file_uploader(key="meta_template_upload").set_value(
        ("rows.json", b'{"Rows": 12, "PatientID": "P"}', "application/json")
    ).run()
    assert not at.exception
    assert any("Rows" in str(e.value) for e in at.error)
    assert doc.metadata == {}
    assert workspace.build_error(doc) is None


def test_apply_to_all_documents_copies_patient_study_and_series() -> None:
    at = _app()
    regional = _samples_on_metadata_page(at)
    lesion = next(d for d in _documents(at) if d.name == "dermoscopic_lesion.png")
    workspace.set_metadata(lesion, {"ImageComments": "lesion 7"})
    _type(at, FAMILY, "Doe")
    _type(at, "meta_StudyDescription", "TBP")
    _type(at, "meta_ImageComments", "back")
    at.button(key="meta_apply_all").click().run()
    assert not at.exception
    assert lesion.metadata == {
        "ImageComments": "lesion 7",  # Image IE: stays per image
        "PatientName": "Doe",
        "StudyDescription": "TBP",
    }
    assert regional.metadata["ImageComments"] == "back"
    assert any("to 1 other image document" in str(s.value) for s in at.success)


def test_anatomic_region_picker_with_laterality(tmp_path: Path) -> None:
    at = _app()
    doc = _samples_on_metadata_page(at)
    _type(at, "meta_region_search", "forearm")
    picker = at.selectbox(key="meta_AnatomicRegionSequence")
    assert "SCT:70559009" in picker.options or any("70559009" in o for o in picker.options)
    at.selectbox(key="meta_AnatomicRegionSequence").set_value("SCT:70559009").run()
    at.selectbox(key="meta_AnatomicRegionSequence_laterality").set_value("L").run()
    assert not at.exception
    [item] = doc.metadata["AnatomicRegionSequence"]
    assert item["CodeValue"] == "70559009"
    assert item["AnatomicRegionModifierSequence"][0]["CodeMeaning"] == "Left"
    ds = workspace.dataset_of(doc)
    assert ds.ImageLaterality == "L"
    # An unpaired region drops the laterality.
    _type(at, "meta_region_search", "back")
    at.selectbox(key="meta_AnatomicRegionSequence").set_value("SCT:66643007").run()
    assert not at.exception
    [item] = doc.metadata["AnatomicRegionSequence"]
    assert item["CodeMeaning"] == "Skin of back" and "AnatomicRegionModifierSequence" not in item
    assert at.selectbox(key="meta_AnatomicRegionSequence_laterality").value == ""
    target = tmp_path / doc.output_name
    target.write_bytes(export.export_bytes(doc))
    assert dciodvfy(target).errors == ()


def test_dermoscopic_without_equipment_renders_the_form_and_is_fixed_here(
    tmp_path: Path,
) -> None:
    at = _app()
    _samples_on_metadata_page(at)
    lesion = next(d for d in _documents(at) if d.name == "dermoscopic_lesion.png")
    workspace.set_iod(lesion, DERMOSCOPIC)
    _make_current(at, lesion)
    errors = [str(e.value) for e in at.error]
    assert any("Dermoscopic Photography Image needs" in e for e in errors)
    assert at.text_input(key=FAMILY) is not None  # the form is still there
    assert any("Required for a Dermoscopic Photography Image" in c for c in _captions(at))
    _type(at, "meta_Manufacturer", "Example Dermatoscopes Ltd")
    _type(at, "meta_ManufacturerModelName", "DermView 10")
    _type(at, "meta_DeviceSerialNumber", "DV10-000123")
    assert workspace.build_error(lesion) is not None
    _type(at, "meta_SoftwareVersions", "2.4.1")
    assert workspace.build_error(lesion) is None
    assert not at.error
    assert at.selectbox(key="meta_RecognizableVisualFeatures").value == "NO"
    target = tmp_path / lesion.output_name
    target.write_bytes(export.export_bytes(lesion))
    assert dciodvfy(target).errors == ()


def test_dermoscopic_equipment_can_come_from_exif() -> None:
    at = _app()
    _samples_on_metadata_page(at)
    lesion = next(d for d in _documents(at) if d.name == "dermoscopic_lesion.png")
    workspace.set_iod(lesion, DERMOSCOPIC)
    _make_current(at, lesion)
    at.button(key="meta_use_exif").click().run()
    assert not at.exception
    assert workspace.build_error(lesion) is None
    assert lesion.metadata["ManufacturerModelName"] == "TBP Dermoscope D1"


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm", "rtplan.dcm"])
def test_a_dicom_document_is_prefilled_and_edited_as_tags(name: str) -> None:
    at = _app()
    _upload(at, DATA / "dicom" / name)
    at.switch_page(METADATA_PAGE).run()
    assert not at.exception, at.exception
    doc = _current(at)
    assert doc.kind == "dicom"
    stored = str(workspace.dataset_of(doc).PatientName)
    family, _, given = stored.partition("^")
    assert at.text_input(key=FAMILY).value == family
    assert at.text_input(key=GIVEN).value == given.split("^")[0]
    _type(at, FAMILY, "Edited")
    assert str(workspace.dataset_of(doc).PatientName).startswith("Edited")
    assert doc.edits and doc.edits[-1][1].keyword == "PatientName"
    exported = pydicom.dcmread(io.BytesIO(export.export_bytes(doc, "keep")))
    assert str(exported.PatientName).startswith("Edited")


def test_a_refused_dicom_edit_keeps_the_typed_text_and_the_old_value() -> None:
    at = _app()
    _upload(at, DATA / "dicom" / "CT_small.dcm")
    at.switch_page(METADATA_PAGE).run()
    doc = _current(at)
    before = workspace.dataset_of(doc).PatientBirthDate
    _type(at, "meta_PatientBirthDate", "31/12/1950")
    assert at.text_input(key="meta_PatientBirthDate").value == "31/12/1950"
    assert any("is not a valid date" in c for c in _captions(at))
    assert workspace.dataset_of(doc).PatientBirthDate == before
    _type(at, "meta_PatientBirthDate", "1950-12-31")
    assert workspace.dataset_of(doc).PatientBirthDate == "19501231"


def test_a_dicom_template_applies_as_tag_edits() -> None:
    at = _app()
    _upload(at, DATA / "dicom" / "CT_small.dcm")
    at.switch_page(METADATA_PAGE).run()
    doc = _current(at)
    template = b'{"PatientID": "NEW-1", "tbp:FocalDistance": 1.5}'
    at.file_uploader(key="meta_template_upload").set_value(
        ("t.json", template, "application/json")
    ).run()
    assert not at.exception
    ds = workspace.dataset_of(doc)
    assert ds.PatientID == "NEW-1"
    assert at.text_input(key="meta_PatientID").value == "NEW-1"
    assert at.text_input(key="meta_tbp_FocalDistance").value == "1.5"


def test_upload_page_then_metadata_page_for_the_uploaded_png(tmp_path: Path) -> None:
    at = _app()
    _upload(at, DATA / "png" / "basn2c08.png")
    at.switch_page(METADATA_PAGE).run()
    _type(at, FAMILY, "Müller")
    _type(at, GIVEN, "Zoë")
    doc = _current(at)
    at.switch_page(UPLOAD_PAGE).run()
    assert not at.exception
    target = tmp_path / doc.output_name
    target.write_bytes(export.export_bytes(doc))
    assert str(pydicom.dcmread(target).PatientName) == "Müller^Zoë"
    assert dciodvfy(target).errors == ()


def test_an_over_long_lo_value_is_refused_at_typing_and_kept() -> None:
    at = _app()
    doc = _samples_on_metadata_page(at)
    _type(at, "meta_PatientID", "TBP-0042")
    too_long = "L" * 80
    _type(at, "meta_StudyDescription", too_long)
    assert at.text_input(key="meta_StudyDescription").value == too_long
    [message] = [c for c in _captions(at) if "StudyDescription" in c and "LO" in c]
    assert "80 characters, LO allows at most 64 characters" in message
    assert message.startswith(":red[") and "the document keeps its value" in message
    assert "StudyDescription" not in doc.metadata
    assert "StudyDescription" not in workspace.dataset_of(doc)
    _type(at, "meta_StudyDescription", "L" * 64)  # the longest value LO allows
    assert workspace.dataset_of(doc).StudyDescription == "L" * 64
    assert not any("allows at most" in c for c in _captions(at))
