"""Validate & Download through AppTest: findings by module, and the bytes the buttons serve.

The bytes of an ``st.download_button`` live in Streamlit's media file storage,
which AppTest creates afresh for each run and drops afterwards. The ``served``
fixture records what the real storage is given (file id → bytes and file name),
so a test reads exactly what the button's URL would serve.
"""

from __future__ import annotations

import io
import socket
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian, JPEGLSLossless
from streamlit.testing.v1 import AppTest

from tbp_core.building.iods import DERMOSCOPIC
from tbp_core.inspection import tags
from tbp_core.session.workspace import (
    Document,
    apply_tag_edit,
    dataset_of,
    set_metadata,
    undo_last_edit,
)
from tbp_core.sources.images import load_image
from tbp_core.standard import anatomy
from tests.app.downloads import Served
from tests.app.shown import shown
from tests.conftest import DATA, ROOT
from tests.referee import dciodvfy
from ui.layout import METADATA_PAGE, TAGS_PAGE, UPLOAD_PAGE, VALIDATE_PAGE
from ui.state import CURRENT, DOCUMENTS

PNG = DATA / "png" / "basn2c08.png"
CT = DATA / "dicom" / "CT_small.dcm"
LESION = ROOT / "sample_data" / "dermoscopic_lesion.png"
EQUIPMENT = ROOT / "sample_data" / "dermoscopic_equipment_template.json"
UIDS = ("SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID")
NAME_PARTS = {"family": "Müller", "given": "Zoë", "middle": "Renée"}
NAME = "Müller^Zoë^Renée"


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not app.exception, app.exception
    return app


def _upload(at: AppTest, *paths: Path) -> None:
    mime = "application/octet-stream"
    files = [(path.name, path.read_bytes(), mime) for path in paths]
    at.file_uploader(key="upload_files").set_value(files).run()
    assert not at.exception, at.exception


def _documents(at: AppTest) -> list[Document]:
    docs: list[Document] = at.session_state[DOCUMENTS]
    return docs


def _current(at: AppTest) -> Document:
    return next(d for d in _documents(at) if d.id == at.session_state[CURRENT])


def _validate_page(at: AppTest) -> None:
    at.switch_page(VALIDATE_PAGE).run()
    assert not at.exception, at.exception


def _download_labels(at: AppTest) -> list[str]:
    return [button.label for button in at.download_button]


def _downloaded(at: AppTest, served: Served, label: str) -> tuple[bytes, str | None]:
    """The bytes and file name the download button labelled ``label`` serves."""
    button = next(b for b in at.download_button if b.label == label)
    url = button.proto.url
    assert url, f"{label!r} has no URL"
    return served[PurePosixPath(url).stem]


def _prepare_and_download(
    at: AppTest, served: Served, which: str = "one"
) -> tuple[bytes, str | None]:
    label = "Download DICOM" if which == "one" else "Download all (.zip)"
    assert label not in _download_labels(at)  # built only when asked
    at.button(key=f"vd_prepare_{which}").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return _downloaded(at, served, label)


def _errors_on_page(at: AppTest) -> list[str]:
    return [str(e.value) for e in at.error]


def _fill_patient_name(at: AppTest) -> None:
    """Type the name's parts into the Metadata page's agreed inputs."""
    at.switch_page(METADATA_PAGE).run()
    assert not at.exception, at.exception
    for part, value in NAME_PARTS.items():
        at.text_input(key=f"meta_PatientName_{part}").input(value).run()
        assert not at.exception, at.exception


def test_png_with_patient_name_downloads_as_valid_dicom(
    at: AppTest, served: Served, tmp_path: Path
) -> None:
    _upload(at, PNG)
    _fill_patient_name(at)
    _validate_page(at)
    payload, file_name = _prepare_and_download(at, served)
    assert file_name == "basn2c08.dcm"
    target = tmp_path / file_name
    target.write_bytes(payload)
    ds = pydicom.dcmread(target)
    assert str(ds.PatientName) == NAME
    assert ds.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    source = load_image(PNG.read_bytes(), PNG.name)
    assert np.array_equal(ds.pixel_array, source.pixels)
    report = dciodvfy(target)
    assert report.errors == (), report.output
    assert report.unexplained_warnings == (), report.output


def test_a_converted_png_shows_no_errors_like_the_referee(at: AppTest) -> None:
    """The page validates what it will write: dciodvfy finds no error, nor may the page."""
    _upload(at, PNG)
    _validate_page(at)
    errors = [m.value for m in at.markdown if ":red-badge" in m.value]
    assert errors == []
    assert at.success and "No errors" in at.success[0].value


def test_dicom_tag_edit_is_in_the_download(at: AppTest, served: Served) -> None:
    _upload(at, CT)
    doc = _current(at)
    edit = tags.SetValue("StudyDescription", "Edited in Validate & Download test")
    assert apply_tag_edit(doc, edit).applied
    _validate_page(at)
    assert at.selectbox(key="vd_transfer_syntax").value == "keep"
    payload, file_name = _prepare_and_download(at, served)
    assert file_name == "CT_small.dcm"
    ds = pydicom.dcmread(io.BytesIO(payload))
    assert ds.StudyDescription == "Edited in Validate & Download test"
    assert ds.SOPInstanceUID == pydicom.dcmread(CT).SOPInstanceUID
    assert np.array_equal(ds.pixel_array, pydicom.dcmread(CT).pixel_array)


def test_an_edit_after_preparing_asks_for_a_fresh_build(at: AppTest, served: Served) -> None:
    _upload(at, CT)
    _validate_page(at)
    first, _ = _prepare_and_download(at, served)
    assert pydicom.dcmread(io.BytesIO(first)).PatientID != "NEW-ID"
    assert apply_tag_edit(_current(at), tags.SetValue("PatientID", "NEW-ID")).applied
    at.run()
    assert "Download DICOM" not in _download_labels(at)  # the old bytes are not offered
    second, _ = _prepare_and_download(at, served)
    assert pydicom.dcmread(io.BytesIO(second)).PatientID == "NEW-ID"


def test_jpeg_ls_choice_gives_a_jpeg_ls_file_dciodvfy_accepts(
    at: AppTest, served: Served, tmp_path: Path
) -> None:
    _upload(at, PNG)
    _validate_page(at)
    chooser = at.selectbox(key="vd_transfer_syntax")
    assert "JPEG-LS lossless" in chooser.options  # labels shown, names used
    chooser.set_value("jpeg-ls").run()
    assert not at.exception, at.exception
    payload, file_name = _prepare_and_download(at, served)
    target = tmp_path / str(file_name)
    target.write_bytes(payload)
    ds = pydicom.dcmread(target)
    assert ds.file_meta.TransferSyntaxUID == JPEGLSLossless
    assert np.array_equal(ds.pixel_array, load_image(PNG.read_bytes(), PNG.name).pixels)
    report = dciodvfy(target)
    assert report.errors == (), report.output


def test_zip_holds_one_uniquely_named_dicom_per_document(at: AppTest, served: Served) -> None:
    at.button(key="upload_samples").click().run()
    # A DICOM file named like the PNG's output: the zip must not overwrite one with the other.
    clash = DATA / "png" / "basn2c08.png"
    at.file_uploader(key="upload_files").set_value(
        [
            (clash.name, clash.read_bytes(), "image/png"),
            ("basn2c08.dcm", CT.read_bytes(), "application/dicom"),
        ]
    ).run()
    docs = _documents(at)
    assert len(docs) == 4
    _validate_page(at)
    payload, file_name = _prepare_and_download(at, served, "all")
    assert str(file_name).endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        names = archive.namelist()
        assert len(names) == len(set(names)) == len(docs)
        assert all(name.endswith(".dcm") for name in names)
        read = [pydicom.dcmread(io.BytesIO(archive.read(name))) for name in names]
    assert {str(ds.SOPInstanceUID) for ds in read} == {d.sop_instance_uid for d in docs}


def _finding_expanders(at: AppTest, module_title: str) -> list[Any]:
    return [e for e in at.expander if e.label.startswith(f"{module_title} — ")]


def test_missing_type1_is_listed_under_its_module_with_a_link(at: AppTest) -> None:
    _upload(at, CT)
    _validate_page(at)
    assert at.success and "No errors" in at.success[0].value
    assert apply_tag_edit(_current(at), tags.DeleteElement("Modality")).applied
    at.run()
    assert not at.exception, at.exception
    assert not at.success
    assert any("1 error" in m.value for m in at.markdown)
    [series] = _finding_expanders(at, "General Series")
    assert series.label.startswith("General Series — 1 error")
    [finding] = [m.value for m in series.markdown if "Modality" in m.value]
    assert "(0008,0060)" in finding and "error" in finding
    # Modality is not a form field: the Tags page fixes it.
    assert [link.proto.page for link in series.get("page_link")] == [Path(TAGS_PAGE).stem]
    # Groups with errors come first.
    assert at.expander[0].label == series.label


def test_a_form_attribute_links_to_the_metadata_page(at: AppTest) -> None:
    _upload(at, PNG)
    assert apply_tag_edit(_current(at), tags.DeleteElement("PatientName")).applied
    _validate_page(at)
    [patient] = _finding_expanders(at, "Patient")
    assert "(0010,0010)" in patient.markdown[0].value
    links = [link.proto.page for link in patient.get("page_link")]
    assert links == [Path(METADATA_PAGE).stem]


def test_an_export_error_is_shown_and_the_page_keeps_working(at: AppTest, served: Served) -> None:
    _upload(at, CT)
    doc = _current(at)
    assert apply_tag_edit(doc, tags.DeleteElement("SOPInstanceUID")).applied
    _validate_page(at)
    at.button(key="vd_prepare_one").click().run()
    assert not at.exception, at.exception
    [message] = _errors_on_page(at)
    assert "CT_small.dcm" in shown(message) and "SOPInstanceUID" in shown(message)
    assert "Download DICOM" not in _download_labels(at)
    # Undoing the edit makes the file downloadable again.
    assert undo_last_edit(doc) is not None
    at.run()
    payload, _ = _prepare_and_download(at, served)
    assert pydicom.dcmread(io.BytesIO(payload)).SOPInstanceUID == doc.sop_instance_uid


def test_a_document_that_cannot_be_built_stops_with_its_message(at: AppTest) -> None:
    _upload(at, PNG)
    doc = _current(at)
    doc.iod = DERMOSCOPIC
    doc.touch()
    _validate_page(at)
    assert _errors_on_page(at), "the build error is shown"
    assert not at.download_button
    assert [b.key for b in at.button] == ["session_clear"]  # only the sidebar's Clear session


def test_transfer_syntax_choices_follow_the_current_document(at: AppTest) -> None:
    _upload(at, PNG, DATA / "dicom" / "JPEG2000.dcm")
    png, j2k = _documents(at)
    at.session_state[CURRENT] = png.id
    _validate_page(at)
    at.selectbox(key="vd_transfer_syntax").set_value("rle").run()
    assert at.selectbox(key="vd_transfer_syntax").value == "rle"
    at.session_state[CURRENT] = j2k.id
    at.run()
    assert not at.exception, at.exception
    chooser = at.selectbox(key="vd_transfer_syntax")
    assert chooser.value == "keep"
    assert len(chooser.options) == 2  # as read, or uncompressed


def _tags_table_values(at: AppTest, paths: tuple[str, ...]) -> dict[str, str]:
    """What the Tags page's table shows at the given paths."""
    at.switch_page(TAGS_PAGE).run()
    assert not at.exception, at.exception
    table = at.data_editor(key="tags_editor").value
    return {path: str(table.loc[table["path"] == path, "value"].iloc[0]) for path in paths}


def test_a_dermoscopic_download_carries_the_uids_the_tags_page_shows(
    at: AppTest, served: Served
) -> None:
    _upload(at, LESION)
    doc = _current(at)
    at.radio(key=f"upload_iod_{doc.id}").set_value(DERMOSCOPIC.title).run()
    assert not at.exception, at.exception
    at.switch_page(METADATA_PAGE).run()
    at.file_uploader(key="meta_template_upload").set_value(
        (EQUIPMENT.name, EQUIPMENT.read_bytes(), "application/json")
    ).run()
    assert not at.exception, at.exception
    assert doc.iod is DERMOSCOPIC and not at.error, [e.value for e in at.error]
    shown = _tags_table_values(at, UIDS)
    assert shown["FrameOfReferenceUID"] == str(dataset_of(doc).FrameOfReferenceUID)
    _validate_page(at)
    first, _ = _prepare_and_download(at, served)
    at.button(key="vd_prepare_one").click().run()  # prepared again: the same file
    again, _ = _downloaded(at, served, "Download DICOM")
    assert again == first
    written = pydicom.dcmread(io.BytesIO(first))
    assert {keyword: str(written[keyword].value) for keyword in UIDS} == shown
    assert written.file_meta.MediaStorageSOPInstanceUID == shown["SOPInstanceUID"]
    # the zip holds the same instance
    payload, _ = _prepare_and_download(at, served, "all")
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        zipped = pydicom.dcmread(io.BytesIO(archive.read(doc.output_name)))
    assert {keyword: str(zipped[keyword].value) for keyword in UIDS} == shown
    # and so is the Tags page after the downloads
    assert _tags_table_values(at, UIDS) == shown


def _warnings(at: AppTest) -> list[str]:
    return [str(w.value) for w in at.warning]


def test_an_edit_a_metadata_change_drops_is_shown_until_dismissed(at: AppTest) -> None:
    _upload(at, PNG)
    doc = _current(at)
    back = anatomy.region_by_code("66643007")
    assert back is not None
    set_metadata(doc, {"AnatomicRegionSequence": [anatomy.anatomic_region_value(back)]})
    edit = tags.SetValue("AnatomicRegionSequence[0].CodeMeaning", "Skin of the back")
    assert apply_tag_edit(doc, edit).applied
    set_metadata(doc, {})  # the item the edit changed is gone with the next build
    at.switch_page(TAGS_PAGE).run()
    assert not at.exception, at.exception
    [warning] = [w for w in _warnings(at) if "no longer applies" in w]
    assert "AnatomicRegionSequence[0].CodeMeaning → 'Skin of the back'" in shown(warning)
    assert "1 tag edit no longer applies" in warning
    _validate_page(at)
    assert any("AnatomicRegionSequence[0].CodeMeaning" in shown(w) for w in _warnings(at))
    at.button(key="vd_dismiss_dropped").click().run()
    assert not at.exception, at.exception
    assert not any("no longer appl" in w for w in _warnings(at))
    assert doc.dropped_edits == ()
    at.switch_page(UPLOAD_PAGE).run()
    at.switch_page(TAGS_PAGE).run()
    assert not any("no longer appl" in w for w in _warnings(at))


def _closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_deidentify_the_png_document_downloads_without_the_name(
    at: AppTest, served: Served
) -> None:
    _upload(at, PNG)
    _fill_patient_name(at)
    doc = _current(at)
    _validate_page(at)
    at.checkbox(key="vd_deid_dates").check().run()
    at.checkbox(key="vd_deid_shifted-dates").check().run()  # the two exclude each other
    assert not at.checkbox(key="vd_deid_dates").value
    at.text_input(key="vd_deid_patient_id").set_value("TBP-0099").run()
    at.button(key="vd_deid_run").click().run()
    assert not at.exception, at.exception
    assert not _errors_on_page(at)
    payload, file_name = _downloaded(at, served, "Download de-identified DICOM")
    assert file_name == doc.output_name
    written = pydicom.dcmread(io.BytesIO(payload))
    assert written.PatientIdentityRemoved == "YES"
    assert str(written.PatientName) == "TBP-0099"
    assert "Müller" not in payload.decode("utf-8", "replace")
    assert written.LongitudinalTemporalInformationModified == "MODIFIED"
    # What changed is listed, the notices shown, the map offered with its warning.
    [changes] = [e for e in at.expander if e.label.startswith(doc.output_name)]
    table = changes.dataframe[0].value
    assert "PatientName" in set(table["Attribute"])
    assert any("BurnedInAnnotation" in w.value for w in at.warning)
    mapping, _ = _downloaded(at, served, "Download map (.csv)")
    assert NAME in mapping.decode("utf-8")
    assert any("re-identify" in w.value for w in at.warning)
    # The document itself is unchanged until the copy is kept as a new one.
    assert str(dataset_of(doc).PatientName) == NAME
    at.button(key="vd_deid_keep").click().run()
    assert not at.exception, at.exception
    assert len(_documents(at)) == 2 and str(dataset_of(doc).PatientName) == NAME
    kept = _current(at)
    assert kept.name.endswith("_deid.dcm")
    assert dataset_of(kept).PatientIdentityRemoved == "YES"


def test_send_to_an_unreachable_server_shows_one_error_and_the_app_keeps_running(
    at: AppTest,
) -> None:
    _upload(at, PNG)
    _validate_page(at)
    at.text_input(key="vd_send_destination").set_value(
        f"dicom://PACS@127.0.0.1:{_closed_port()}"
    ).run()
    at.button(key="vd_send_run").click().run()
    assert not at.exception, at.exception
    [error] = _errors_on_page(at)
    assert "could not be reached" in error and "\n" not in error
    at.button(key="vd_send_verify").click().run()
    assert not at.exception, at.exception
    assert len(_errors_on_page(at)) == 1
    # The settings stay for the session, across pages.
    at.switch_page(UPLOAD_PAGE).run()
    _validate_page(at)
    assert at.text_input(key="vd_send_destination").value.startswith("dicom://PACS@127.0.0.1:")
    at.text_input(key="vd_send_destination").set_value("ftp://nowhere").run()
    at.button(key="vd_send_verify").click().run()
    assert not at.exception, at.exception
    [error] = _errors_on_page(at)
    assert "is not understood" in error


def test_a_dermoscopic_png_without_equipment_is_a_draft_on_every_page(at: AppTest) -> None:
    _upload(at, LESION)
    doc = _current(at)
    doc.iod = DERMOSCOPIC
    doc.touch()
    for page in (TAGS_PAGE, "views/dump.py", "views/structure.py"):
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        assert not at.error, (page, [e.value for e in at.error])
        [draft] = [w.value for w in at.warning if "Draft" in w.value]
        assert "Device Serial Number" in shown(draft) and "Metadata page" in shown(draft)
    _validate_page(at)
    [refusal] = _errors_on_page(at)
    assert "Device Serial Number" in shown(refusal)
    findings = " ".join(m.value for m in at.markdown)
    for keyword in ("Manufacturer", "ManufacturerModelName", "DeviceSerialNumber"):
        assert f"**{keyword}**" in shown(findings)
    assert not at.download_button
    assert not any(b.key and b.key.startswith("vd_") for b in at.button)
