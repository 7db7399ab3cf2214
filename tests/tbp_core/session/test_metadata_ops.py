"""What the Metadata page does to documents, without the page: values, templates, copies."""

from __future__ import annotations

import io
import json

import pydicom
import pytest

from tbp_core.building.iods import DERMOSCOPIC, new_series_context
from tbp_core.inspection import tags
from tbp_core.session import export, formfields, metadata_ops, workspace
from tbp_core.validation.findings import Finding
from tbp_core.validation.summary import FILE_META_MODULE
from tbp_core.validation.validate import validate
from tests.conftest import DATA, ROOT

SAMPLES = ROOT / "sample_data"
REGIONAL = SAMPLES / "regional_back.png"
LESION = SAMPLES / "dermoscopic_lesion.png"
CT = DATA / "dicom" / "CT_small.dcm"


@pytest.fixture
def image() -> workspace.Document:
    return workspace.open_document(REGIONAL.name, REGIONAL.read_bytes(), new_series_context())


@pytest.fixture
def ct() -> workspace.Document:
    return workspace.open_document(CT.name, CT.read_bytes(), new_series_context())


def _fields(doc: workspace.Document) -> tuple[formfields.FormField, ...]:
    sections = metadata_ops.form_sections_for(doc, metadata_ops.iod_key_of(doc))
    return formfields.form_fields(sections)


def _field(doc: workspace.Document, key: str) -> formfields.FormField:
    return next(f for f in _fields(doc) if f.key == key)


def test_the_form_follows_the_document(image: workspace.Document, ct: workspace.Document) -> None:
    assert metadata_ops.iod_key_of(image) == "vl-photographic-image"
    assert metadata_ops.iod_key_of(ct) == "ct-image"
    image_ies = [s.ie for s in metadata_ops.form_sections_for(image, "vl-photographic-image")]
    ct_ies = [s.ie for s in metadata_ops.form_sections_for(ct, "ct-image")]
    assert image_ies[-1] == formfields.CALIBRATION_IE  # a VL image may carry calibration
    assert formfields.CALIBRATION_IE not in ct_ies and not metadata_ops.has_tbp_block(ct)


def test_entered_values_win_over_the_exif(image: workspace.Document) -> None:
    fields = _fields(image)
    assert metadata_ops.form_values(image, fields)["Manufacturer"] == "Lumo Imaging"  # EXIF
    assert metadata_ops.apply_value(image, "Manufacturer", "Entered Co").applied
    values = metadata_ops.form_values(image, fields)
    assert values["Manufacturer"] == "Entered Co"
    assert metadata_ops.current_value(image, _field(image, "Manufacturer")) == "Entered Co"
    assert workspace.dataset_of(image).Manufacturer == "Entered Co"
    # None removes what was entered: the EXIF value is back
    assert metadata_ops.apply_value(image, "Manufacturer", None).applied
    assert "Manufacturer" not in image.metadata
    assert metadata_ops.form_values(image, fields)["Manufacturer"] == "Lumo Imaging"


def test_a_dicom_value_is_a_tag_edit_or_a_refusal(ct: workspace.Document) -> None:
    assert metadata_ops.apply_value(ct, "PatientID", "TBP-1") == metadata_ops.Applied(True)
    [(edit, _)] = ct.edits
    assert edit == tags.SetValue("PatientID", "TBP-1")
    refused = metadata_ops.apply_value(ct, "StudyDate", "notadate")
    assert not refused.applied and "StudyDate" in refused.reason and "DA" in refused.reason
    unknown = metadata_ops.apply_value(ct, "tbp:Nope", "1")
    assert not unknown.applied and "tbp:Nope" in unknown.reason
    # nothing to do is not a refusal, and records no edit
    assert metadata_ops.apply_value(ct, "PatientComments", None).applied
    assert len(ct.edits) == 1
    written = pydicom.dcmread(io.BytesIO(export.export_bytes(ct, "keep")))
    assert written.PatientID == "TBP-1" and written.StudyDate == "20040119"
    assert metadata_ops.current_value(ct, _field(ct, "PatientID")) == "TBP-1"


def test_exif_fills_the_dermatoscope_values_on_request(image: workspace.Document) -> None:
    workspace.set_iod(image, DERMOSCOPIC)
    required = formfields.builder_required("dermoscopic-photography-image")
    assert workspace.build_error(image) is not None
    offered = metadata_ops.exif_fill_ins(image, required)
    assert offered == required  # the sample's EXIF gives all four
    metadata_ops.use_exif_values(image, offered)
    assert workspace.build_error(image) is None
    assert workspace.dataset_of(image).DeviceSerialNumber == "LT-0042"
    assert metadata_ops.exif_fill_ins(image, required) == ()


def test_copy_to_images_replaces_the_chosen_parts_only(
    image: workspace.Document, ct: workspace.Document
) -> None:
    lesion = workspace.open_document(LESION.name, LESION.read_bytes(), image.context)
    workspace.set_metadata(lesion, {"ImageComments": "lesion 7", "PatientID": "OLD"})
    workspace.set_metadata(
        image, {"PatientID": "TBP-2", "StudyDescription": "TBP", "ImageComments": "back"}
    )
    copied = metadata_ops.copy_to_images(image, [image, lesion, ct], ["Patient", "Study"])
    assert copied.targets == (lesion,) and copied.count == 2
    assert copied.message == "Copied 2 values (Patient, Study) to 1 other image document."
    assert lesion.metadata == {
        "ImageComments": "lesion 7",
        "PatientID": "TBP-2",
        "StudyDescription": "TBP",
    }
    assert copied.covers(lesion, "PatientName") and not copied.covers(lesion, "ImageComments")
    assert ct.edits == []  # DICOM files are left alone
    assert metadata_ops.copy_to_images(ct, [image, ct], ["Patient"]).targets == ()


def test_a_template_loads_into_an_image(image: workspace.Document) -> None:
    data = (SAMPLES / "tbp_regional_template.json").read_bytes()
    loaded = metadata_ops.load_template(image, data, "regional.json")
    assert loaded.error == "" and "PatientID" in loaded.applied
    assert loaded.notes == (
        ("success", f"Loaded {len(json.loads(data))} values from 'regional.json'."),
    )
    ds = workspace.dataset_of(image)
    assert ds.PatientID == "TBP-0001" and ds.AnatomicRegionSequence[0].CodeValue == "66643007"
    assert metadata_ops.template_values(image) == image.metadata


def test_a_broken_or_breaking_template_changes_nothing(image: workspace.Document) -> None:
    workspace.set_metadata(image, {"PatientName": "Kept"})
    broken = metadata_ops.load_template(image, b'{"PatientSex": "X"}', "broken.json")
    [(kind, text)] = broken.notes
    assert kind == "error" and text.startswith("'broken.json' was not loaded") and "X" in text
    breaking = metadata_ops.load_template(image, b'{"Rows": 12, "PatientID": "P"}', "rows.json")
    assert "Rows" in breaking.error and breaking.applied == ()
    assert image.metadata == {"PatientName": "Kept"}
    assert workspace.build_error(image) is None


def test_a_template_on_a_dicom_file_lists_what_it_refused(ct: workspace.Document) -> None:
    data = (SAMPLES / "tbp_regional_template.json").read_bytes()
    loaded = metadata_ops.load_template(ct, data, "regional.json")
    assert "PatientID" in loaded.applied and "AnatomicRegionSequence" not in loaded.applied
    assert any("AnatomicRegionSequence" in r and "Tags page" in r for r in loaded.refused)
    kinds = [kind for kind, _ in loaded.notes]
    assert kinds == ["success", "error"]
    assert workspace.dataset_of(ct).PatientID == "TBP-0001"
    assert metadata_ops.template_values(ct)["PatientID"] == "TBP-0001"


def test_findings_are_fixed_where_their_attribute_is_edited(
    image: workspace.Document, ct: workspace.Document
) -> None:
    assert workspace.apply_tag_edit(ct, tags.DeleteElement("Modality")).applied
    [modality] = [f for f in validate(workspace.dataset_of(ct)).findings if f.keyword == "Modality"]
    assert metadata_ops.fix_place(modality) == "tags"  # not a form field
    assert workspace.apply_tag_edit(image, tags.DeleteElement("PatientName")).applied
    [name] = [
        f for f in validate(workspace.dataset_of(image)).findings if f.keyword == "PatientName"
    ]
    assert metadata_ops.fix_place(name) == "metadata"
    # the file meta is written afresh with every download; a finding about nothing named
    group_length = Finding("error", "x", "m", "(0002,0000)", "", "", FILE_META_MODULE)
    assert metadata_ops.fix_place(group_length) is None
    assert metadata_ops.fix_place(Finding("warning", "x", "m", module="general-image")) is None
    uid = Finding("error", "x", "m", "(0020,000D)", "StudyInstanceUID", "", "general-study")
    assert metadata_ops.fix_place(uid) == "tags"  # a UID of a form module: no field sets it
    region = Finding("error", "x", "m", path="AnatomicRegionSequence[0].CodeValue")
    assert metadata_ops.fix_place(region) == "metadata"
