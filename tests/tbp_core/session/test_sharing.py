"""De-identified copies of a session's documents, the draft build, and the zip's progress."""

from __future__ import annotations

import csv
import io
import zipfile

import pydicom
import pytest

from tbp_core.building.iods import DERMOSCOPIC, build_instance, new_series_context
from tbp_core.building.iods.builder import DERMOSCOPIC_EQUIPMENT
from tbp_core.errors import ConversionError, TbpError
from tbp_core.session import export, sharing, workspace
from tbp_core.standard import vr as vrs
from tbp_core.validation.validate import validate
from tests.conftest import ROOT

SAMPLE = ROOT / "sample_data" / "regional_back.png"
LESION = ROOT / "sample_data" / "dermoscopic_lesion.png"
NAME = "Doe^Jane"


def _named(name: str = NAME, patient_id: str = "P-1") -> workspace.Document:
    context = new_series_context()
    doc = workspace.open_document(SAMPLE.name, SAMPLE.read_bytes(), context)
    workspace.set_metadata(doc, {"PatientName": name, "PatientID": patient_id})
    return doc


def test_a_deidentified_copy_leaves_the_document_as_it_was() -> None:
    doc = _named()
    revision = doc.revision
    batch = sharing.deidentify_documents([doc], frozenset({"device"}), "TBP-9")
    [item] = batch.items
    written = pydicom.dcmread(io.BytesIO(sharing.item_bytes(item)))
    assert written.PatientIdentityRemoved == "YES"
    assert str(written.PatientName) == "TBP-9" and written.PatientID == "TBP-9"
    assert NAME not in sharing.item_bytes(item).decode("latin-1")
    assert str(workspace.dataset_of(doc).PatientName) == NAME
    assert doc.revision == revision and sharing.is_current(batch, [doc])
    rows = {row.keyword: row for row in sharing.before_after(item)}
    assert (rows["PatientName"].before, rows["PatientName"].after) == (NAME, "TBP-9")
    assert rows["PatientIdentityRemoved"].action == "added"
    mapped = list(csv.DictReader(io.StringIO(batch.identifiers.to_csv())))
    assert {"kind": "PatientName", "old": NAME, "new": "TBP-9"} in mapped
    assert sharing.kept_name(item) == "regional_back_deid.dcm"
    workspace.set_metadata(doc, {"PatientName": "Other^Name"})
    assert not sharing.is_current(batch, [doc])


def test_one_batch_keeps_one_study_and_the_zip_holds_every_copy() -> None:
    first = _named()
    second = workspace.open_document("b.png", SAMPLE.read_bytes(), first.context)
    batch = sharing.deidentify_documents([first, second], frozenset())
    studies = {item.result.dataset.StudyInstanceUID for item in batch.items}
    assert len(studies) == 1 and first.context.study_instance_uid not in studies
    with zipfile.ZipFile(io.BytesIO(sharing.batch_zip(batch))) as archive:
        names = archive.namelist()
        assert names == ["regional_back.dcm", "b.dcm"]
        for name in names:
            assert pydicom.dcmread(io.BytesIO(archive.read(name))).PatientIdentityRemoved == "YES"
    [(name, ds)] = sharing.batch_send_items(batch)[:1]
    assert name == "regional_back.dcm" and ds.PatientIdentityRemoved == "YES"


def test_conflicting_options_and_drafts_are_refused() -> None:
    with pytest.raises(TbpError, match="not both"):
        sharing.deidentify_documents([_named()], frozenset({"dates", "shifted-dates"}))
    lesion = workspace.open_document(LESION.name, LESION.read_bytes(), new_series_context())
    workspace.set_iod(lesion, DERMOSCOPIC)
    with pytest.raises(TbpError, match="cannot be exported yet"):
        sharing.deidentify_documents([lesion], frozenset())
    with pytest.raises(TbpError, match="cannot be exported yet"):
        sharing.send_items([lesion])


def test_a_dermoscopic_image_without_equipment_is_a_draft_validate_names() -> None:
    lesion = workspace.open_document(LESION.name, LESION.read_bytes(), new_series_context())
    workspace.set_iod(lesion, DERMOSCOPIC)
    ds = workspace.dataset_of(lesion)  # no exception: a draft
    assert workspace.is_draft(lesion)
    assert lesion.missing == DERMOSCOPIC_EQUIPMENT
    assert not any(keyword in ds for keyword in DERMOSCOPIC_EQUIPMENT)  # EXIF Make left out too
    problem = workspace.build_error(lesion)
    assert problem is not None and "DeviceSerialNumber" in problem
    with pytest.raises(ConversionError, match="Enhanced General Equipment"):
        export.export_bytes(lesion)
    missing = {f.keyword for f in validate(ds).findings if f.code == "type1-missing"}
    assert missing == set(DERMOSCOPIC_EQUIPMENT)
    workspace.set_metadata(lesion, {k: "TBP device 1" for k in DERMOSCOPIC_EQUIPMENT})
    assert not workspace.is_draft(lesion) and lesion.missing == ()
    assert workspace.dataset_of(lesion).DeviceSerialNumber == "TBP device 1"
    assert export.export_bytes(lesion)


def test_a_complete_build_still_refuses_missing_equipment() -> None:
    lesion = workspace.open_document(LESION.name, LESION.read_bytes(), new_series_context())
    assert lesion.image is not None
    with pytest.raises(ConversionError, match="missing: Manufacturer"):
        build_instance(lesion.image, DERMOSCOPIC, {}, lesion.context)
    built = build_instance(lesion.image, DERMOSCOPIC, {}, lesion.context, draft=True)
    assert built.missing == DERMOSCOPIC_EQUIPMENT and built.problem is not None


def test_export_zip_reports_each_file() -> None:
    first, second = _named(), _named("Roe^Richard", "P-2")
    calls: list[tuple[int, int, str]] = []
    data = export.export_zip([first, second], progress=lambda *a: calls.append(a))
    assert calls == [(1, 2, "regional_back.dcm"), (2, 2, "regional_back_2.dcm")]
    assert zipfile.ZipFile(io.BytesIO(data)).namelist() == [name for _, _, name in calls]


def test_length_problem_uses_the_vr_maximum() -> None:
    assert vrs.length_problem("LO", "x" * 80) == "80 characters, LO allows at most 64 characters"
    assert vrs.length_problem("LO", "x" * 64) == ""
    assert vrs.length_problem("SH", "x" * 17).endswith("SH allows at most 16 characters")
    assert vrs.length_problem("UT", "x" * 80) == ""
