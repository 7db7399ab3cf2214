"""The session document model: images and DICOM files, metadata, tag edits, exports."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pydicom
import pytest

from tbp_core.building import metadata
from tbp_core.building.iods import (
    DERMOSCOPIC,
    SECONDARY_CAPTURE,
    VL_PHOTOGRAPHIC,
    new_series_context,
)
from tbp_core.errors import ConversionError, TbpError
from tbp_core.inspection import tags
from tbp_core.session import export, workspace
from tbp_core.standard import anatomy
from tests.conftest import DATA, ROOT
from tests.referee import dciodvfy

SAMPLE = ROOT / "sample_data" / "regional_back.png"
LESION = ROOT / "sample_data" / "dermoscopic_lesion.png"
EQUIPMENT = ROOT / "sample_data" / "dermoscopic_equipment_template.json"
UID_KEYWORDS = ("SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID")


@pytest.fixture
def image_doc() -> workspace.Document:
    return workspace.open_document(SAMPLE.name, SAMPLE.read_bytes(), new_series_context())


@pytest.fixture
def dicom_doc() -> workspace.Document:
    path = DATA / "dicom" / "CT_small.dcm"
    return workspace.open_document(path.name, path.read_bytes(), new_series_context())


@pytest.fixture
def lesion_doc() -> workspace.Document:
    """The sample close-up as a Dermoscopic image, the dermatoscope's template loaded."""
    doc = workspace.open_document(LESION.name, LESION.read_bytes(), new_series_context())
    workspace.set_iod(doc, DERMOSCOPIC)
    workspace.set_metadata(doc, metadata.parse_template(EQUIPMENT.read_bytes()))
    assert workspace.build_error(doc) is None
    return doc


def _write(tmp_path: Path, name: str, payload: bytes) -> Path:
    target = tmp_path / name
    target.write_bytes(payload)
    return target


def test_image_document_builds_once_and_keeps_its_uid(image_doc: workspace.Document) -> None:
    assert image_doc.kind == "image" and image_doc.output_name == "regional_back.dcm"
    first = workspace.dataset_of(image_doc)
    assert workspace.dataset_of(image_doc) is first  # built once until something changes
    workspace.set_metadata(image_doc, {"PatientID": "TBP-9"})
    second = workspace.dataset_of(image_doc)
    assert second is not first and second.PatientID == "TBP-9"
    assert second.SOPInstanceUID == first.SOPInstanceUID == image_doc.sop_instance_uid
    assert image_doc.exif_values["Manufacturer"] == "Lumo Imaging"


def test_tag_edits_survive_metadata_changes_and_undo(image_doc: workspace.Document) -> None:
    result = workspace.apply_tag_edit(image_doc, tags.SetValue("SeriesDescription", "Back"))
    assert result.applied
    revision = image_doc.revision
    workspace.set_metadata(image_doc, {"PatientName": "Doe^Jane"})
    ds = workspace.dataset_of(image_doc)
    assert ds.SeriesDescription == "Back" and str(ds.PatientName) == "Doe^Jane"
    assert image_doc.revision > revision
    refused = workspace.apply_tag_edit(image_doc, tags.SetValue("StudyDate", "notadate"))
    assert not refused.applied and len(image_doc.edits) == 1
    assert workspace.undo_last_edit(image_doc) is not None
    assert "SeriesDescription" not in workspace.dataset_of(image_doc)
    assert workspace.undo_last_edit(image_doc) is None


def test_image_export_is_valid_in_every_transfer_syntax(
    image_doc: workspace.Document, tmp_path: Path
) -> None:
    workspace.set_metadata(image_doc, {"PatientName": "Müller^Zoë"})
    names = [name for name, _ in workspace.transfer_syntax_choices(image_doc)]
    assert names[0] == "explicit-le" and "rle" in names
    for name in names:
        target = _write(tmp_path, f"{name}.dcm", export.export_bytes(image_doc, name))
        ds = pydicom.dcmread(target)
        assert str(ds.PatientName) == "Müller^Zoë"
        assert dciodvfy(target).errors == (), name
    # the export never touched the document's own (native) dataset
    assert not workspace.dataset_of(image_doc).file_meta.TransferSyntaxUID.is_compressed


def test_iod_choice_and_build_errors(image_doc: workspace.Document) -> None:
    workspace.set_iod(image_doc, DERMOSCOPIC)
    problem = workspace.build_error(image_doc)
    assert problem is not None and "DeviceSerialNumber" in problem
    with pytest.raises(TbpError):
        export.export_bytes(image_doc)
    workspace.set_metadata(
        image_doc,
        {
            "Manufacturer": "Derm Co",
            "ManufacturerModelName": "D1",
            "DeviceSerialNumber": "1",
            "SoftwareVersions": "1.0",
        },
    )
    assert workspace.build_error(image_doc) is None
    assert workspace.dataset_of(image_doc).Modality == "DMS"


def test_sixteen_bit_image_becomes_secondary_capture() -> None:
    path = DATA / "png" / "basn0g16.png"
    doc = workspace.open_document(path.name, path.read_bytes(), new_series_context())
    assert doc.iod is SECONDARY_CAPTURE
    with pytest.raises(ConversionError, match="Secondary Capture"):
        workspace.set_iod(doc, DERMOSCOPIC)


def test_dicom_document_edit_and_export(dicom_doc: workspace.Document) -> None:
    assert dicom_doc.kind == "dicom" and dicom_doc.output_name == "CT_small.dcm"
    assert workspace.apply_tag_edit(dicom_doc, tags.SetValue("PatientID", "EDITED")).applied
    assert workspace.transfer_syntax_choices(dicom_doc)[0][0] == workspace.KEEP_TRANSFER_SYNTAX
    ds = pydicom.dcmread(io.BytesIO(export.export_bytes(dicom_doc, "keep")))
    assert ds.PatientID == "EDITED"
    with pytest.raises(ConversionError):
        workspace.set_iod(dicom_doc, SECONDARY_CAPTURE)


def test_compressed_dicom_can_be_written_uncompressed() -> None:
    path = DATA / "dicom" / "JPEG2000.dcm"
    doc = workspace.open_document(path.name, path.read_bytes(), new_series_context())
    assert "explicit-le" in dict(workspace.transfer_syntax_choices(doc))
    ds = pydicom.dcmread(io.BytesIO(export.export_bytes(doc, "explicit-le")))
    assert not ds.file_meta.TransferSyntaxUID.is_compressed
    assert ds.pixel_array.shape == (ds.Rows, ds.Columns)


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("notes.txt", b"hello world", "neither a PNG, JPEG or TIFF image nor a readable DICOM"),
        ("broken.png", b"hello world", "not a PNG, JPEG or TIFF image"),
        ("empty", b"", "empty"),
    ],
)
def test_unusable_uploads_are_refused_with_one_line(name: str, content: bytes, needle: str) -> None:
    with pytest.raises(TbpError, match=needle) as caught:
        workspace.open_document(name, content, new_series_context())
    assert "\n" not in str(caught.value) and name in str(caught.value)


def test_dicom_whose_preamble_looks_like_tiff_is_read_as_dicom() -> None:
    data = (DATA / "dicom" / "CT_small.dcm").read_bytes()
    assert data.startswith(b"II*\x00")  # a dual-format file: TIFF header in the preamble
    doc = workspace.open_document("ct", data, new_series_context())
    assert doc.kind == "dicom"


def test_zip_has_one_unique_file_per_document(
    image_doc: workspace.Document, dicom_doc: workspace.Document
) -> None:
    twin = workspace.open_document(SAMPLE.name, SAMPLE.read_bytes(), image_doc.context)
    payload = export.export_zip([image_doc, twin, dicom_doc])
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        names = archive.namelist()
        assert names == ["regional_back.dcm", "regional_back_2.dcm", "CT_small.dcm"]
        for name in names:
            pydicom.dcmread(io.BytesIO(archive.read(name)))


def _uids(ds: pydicom.Dataset) -> dict[str, str]:
    return {keyword: str(ds[keyword].value) for keyword in UID_KEYWORDS}


def test_dermoscopic_export_carries_the_uids_the_document_shows(
    lesion_doc: workspace.Document, tmp_path: Path
) -> None:
    shown = workspace.dataset_of(lesion_doc)
    first = export.export_bytes(lesion_doc)
    second = export.export_bytes(lesion_doc)
    assert first == second  # nothing is generated afresh on export
    assert workspace.dataset_of(lesion_doc) is shown  # and the document is not rebuilt
    written = pydicom.dcmread(io.BytesIO(first))
    assert _uids(written) == _uids(shown)
    assert written.file_meta.MediaStorageSOPInstanceUID == shown.SOPInstanceUID
    assert shown.SOPInstanceUID == lesion_doc.sop_instance_uid
    assert shown.FrameOfReferenceUID == lesion_doc.frame_of_reference_uid
    # a compressed download is the same instance, too
    rle = pydicom.dcmread(io.BytesIO(export.export_bytes(lesion_doc, "rle")))
    assert _uids(rle) == _uids(shown)
    assert not shown.file_meta.TransferSyntaxUID.is_compressed  # the export used a copy
    target = _write(tmp_path, "lesion.dcm", first)
    assert dciodvfy(target).errors == ()


def test_uids_survive_metadata_and_iod_changes(lesion_doc: workspace.Document) -> None:
    before = _uids(workspace.dataset_of(lesion_doc))
    workspace.set_metadata(lesion_doc, {**lesion_doc.metadata, "PatientID": "TBP-7"})
    assert _uids(workspace.dataset_of(lesion_doc)) == before
    workspace.set_iod(lesion_doc, VL_PHOTOGRAPHIC)
    assert "FrameOfReferenceUID" not in workspace.dataset_of(lesion_doc)
    workspace.set_iod(lesion_doc, DERMOSCOPIC)
    assert _uids(workspace.dataset_of(lesion_doc)) == before
    # a Frame of Reference UID the metadata gives wins
    given = "1.2.3.4.5"
    workspace.set_metadata(lesion_doc, {**lesion_doc.metadata, "FrameOfReferenceUID": given})
    assert workspace.dataset_of(lesion_doc).FrameOfReferenceUID == given


def test_a_new_uid_asked_for_is_kept_across_rebuilds_and_undone(
    lesion_doc: workspace.Document,
) -> None:
    old = workspace.dataset_of(lesion_doc).SOPInstanceUID
    result = workspace.apply_tag_edit(lesion_doc, tags.RegenerateUID("SOPInstanceUID"))
    assert result.applied and result.change is not None
    new = workspace.dataset_of(lesion_doc).SOPInstanceUID
    assert new != old and result.change.new_text == new
    workspace.set_metadata(lesion_doc, {**lesion_doc.metadata, "PatientID": "TBP-8"})
    rebuilt = workspace.dataset_of(lesion_doc)
    assert rebuilt.SOPInstanceUID == new == rebuilt.file_meta.MediaStorageSOPInstanceUID
    written = pydicom.dcmread(io.BytesIO(export.export_bytes(lesion_doc)))
    assert written.SOPInstanceUID == new
    [(edit, change)] = lesion_doc.edits
    assert isinstance(edit, tags.RegenerateUID) and (change.old_text, change.new_text) == (old, new)
    assert workspace.undo_last_edit(lesion_doc) is not None
    assert workspace.dataset_of(lesion_doc).SOPInstanceUID == old
    assert workspace.dataset_of(lesion_doc).file_meta.MediaStorageSOPInstanceUID == old


def test_an_edit_a_rebuild_cannot_replay_is_reported(lesion_doc: workspace.Document) -> None:
    back = anatomy.region_by_code("66643007")
    assert back is not None
    with_region = {
        **lesion_doc.metadata,
        "AnatomicRegionSequence": [anatomy.anatomic_region_value(back)],
    }
    workspace.set_metadata(lesion_doc, with_region)
    kept = tags.SetValue("SeriesDescription", "Close-up")
    lost = tags.SetValue("AnatomicRegionSequence[0].CodeMeaning", "Skin of the back")
    assert workspace.apply_tag_edit(lesion_doc, kept).applied
    assert workspace.apply_tag_edit(lesion_doc, lost).applied
    workspace.set_iod(lesion_doc, VL_PHOTOGRAPHIC)  # a rebuild that keeps both
    assert workspace.dataset_of(lesion_doc).AnatomicRegionSequence[0].CodeMeaning == (
        "Skin of the back"
    )
    assert lesion_doc.dropped_edits == ()
    without_region = {k: v for k, v in with_region.items() if k != "AnatomicRegionSequence"}
    workspace.set_metadata(lesion_doc, without_region)  # the item the edit changed is gone
    ds = workspace.dataset_of(lesion_doc)
    assert ds.SeriesDescription == "Close-up" and "AnatomicRegionSequence" not in ds
    assert [edit for edit, _ in lesion_doc.edits] == [kept]
    [dropped] = lesion_doc.dropped_edits
    assert dropped.edit == lost and dropped.change.new_text == "Skin of the back"
    assert "AnatomicRegionSequence" in dropped.reason and dropped.change.steps == ()
    assert dropped.message.startswith(
        "AnatomicRegionSequence[0].CodeMeaning → 'Skin of the back' no longer applies"
    )
    # reported once, not again at the next rebuild; dismissed on request
    workspace.set_metadata(lesion_doc, {**without_region, "PatientID": "TBP-9"})
    workspace.dataset_of(lesion_doc)
    assert lesion_doc.dropped_edits == (dropped,)
    revision = lesion_doc.revision
    workspace.dismiss_dropped_edits(lesion_doc)
    assert lesion_doc.dropped_edits == () and lesion_doc.revision == revision


def test_dicom_export_leaves_the_document_as_shown(dicom_doc: workspace.Document) -> None:
    ds = workspace.dataset_of(dicom_doc)
    meta = ds.file_meta
    first = export.export_bytes(dicom_doc, workspace.KEEP_TRANSFER_SYNTAX)
    assert export.export_bytes(dicom_doc, workspace.KEEP_TRANSFER_SYNTAX) == first
    assert workspace.dataset_of(dicom_doc).file_meta is meta


def test_decompressed_download_keeps_the_instance_uid() -> None:
    path = DATA / "dicom" / "JPEG2000.dcm"
    doc = workspace.open_document(path.name, path.read_bytes(), new_series_context())
    assert workspace.apply_tag_edit(doc, tags.RegenerateUID("SOPInstanceUID")).applied
    shown = workspace.dataset_of(doc)
    written = pydicom.dcmread(io.BytesIO(export.export_bytes(doc, "explicit-le")))
    assert written.SOPInstanceUID == shown.SOPInstanceUID
    assert shown.file_meta.TransferSyntaxUID.is_compressed  # the document is as it was
