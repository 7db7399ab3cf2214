"""Lesion links between a session's documents and the session check of them (issue 15, item 1)."""

from __future__ import annotations

import io
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import VLPhotographicImageStorage

from tbp_core.building import lesionlink
from tbp_core.building.iods import (
    DERMOSCOPIC,
    SECONDARY_CAPTURE,
    VL_PHOTOGRAPHIC,
    new_series_context,
)
from tbp_core.building.metadata import parse_template
from tbp_core.errors import TbpError
from tbp_core.inspection import tags
from tbp_core.session import export, links, workspace
from tbp_core.session.workspace import Document
from tbp_core.standard import private
from tests.conftest import DATA, ROOT

SAMPLES = ROOT / "sample_data"
REGIONAL = SAMPLES / "regional_back.png"
LESION = SAMPLES / "dermoscopic_lesion.png"
CT = DATA / "dicom" / "CT_small.dcm"


def _open(path: Path) -> Document:
    return workspace.open_document(path.name, path.read_bytes(), new_series_context())


@pytest.fixture
def overview() -> Document:
    doc = _open(REGIONAL)
    template = (SAMPLES / "tbp_regional_template.json").read_bytes()
    workspace.set_metadata(doc, parse_template(template, iod_key=VL_PHOTOGRAPHIC.standard_key))
    return doc


@pytest.fixture
def close_up() -> Document:
    doc = _open(LESION)
    workspace.set_iod(doc, DERMOSCOPIC)
    template = (SAMPLES / "dermoscopic_equipment_template.json").read_bytes()
    workspace.set_metadata(doc, parse_template(template, iod_key=DERMOSCOPIC.standard_key))
    return doc


def _written(doc: Document) -> Dataset:
    """The document as its download: Part 10 bytes read back."""
    return pydicom.dcmread(io.BytesIO(export.export_bytes(doc)))


def test_a_linked_close_up_references_the_overview_and_joins_its_study(
    overview: Document, close_up: Document
) -> None:
    links.link_to_overview(close_up, overview, location=(120.0, 340.0), lesion_id=" L7 ")
    ds, ov = _written(close_up), _written(overview)
    (reference,) = ds.ReferencedImageSequence
    assert reference.ReferencedSOPInstanceUID == ov.SOPInstanceUID == overview.sop_instance_uid
    assert reference.ReferencedSOPClassUID == VLPhotographicImageStorage
    assert ds.StudyInstanceUID == ov.StudyInstanceUID
    assert (
        (ds.PatientID, ds.PatientName) == (ov.PatientID, ov.PatientName) == ("TBP-0001", "Doe^Jane")
    )
    assert ds.TrackingID == "L7"
    assert ds.TrackingUID == lesionlink.tracking_uid("TBP-0001", "L7")
    assert private.get_tbp_values(ds)[lesionlink.LOCATION_KEY] == [120.0, 340.0]
    assert links.link_text(ds, [(overview.name, ov)]) == (
        "Linked to overview 'regional_back.png' at (120, 340), lesion L7"
    )
    assert links.link_text(ov) is None


def test_the_close_ups_own_values_win_and_it_follows_the_overview(
    overview: Document, close_up: Document
) -> None:
    workspace.set_metadata(close_up, {**close_up.metadata, "StudyDescription": "Follow-up"})
    links.link_to_overview(close_up, overview, lesion_id="L7")
    assert workspace.dataset_of(close_up).StudyDescription == "Follow-up"
    before = close_up.revision
    assert links.refresh_links([overview, close_up]) == ()  # nothing changed
    workspace.set_metadata(overview, {**overview.metadata, "PatientID": "TBP-0002"})
    assert links.refresh_links([overview, close_up]) == (close_up,)
    assert close_up.revision > before
    ds = workspace.dataset_of(close_up)
    assert ds.PatientID == "TBP-0002"
    assert ds.TrackingUID == lesionlink.tracking_uid("TBP-0002", "L7")
    # an edit of the overview that the close-up does not copy does not rebuild it
    workspace.set_metadata(overview, {**overview.metadata, "ImageComments": "x"})
    assert links.refresh_links([overview, close_up]) == ()
    links.unlink(close_up)
    assert "ReferencedImageSequence" not in workspace.dataset_of(close_up)


def test_only_vl_images_are_offered_as_overviews(overview: Document, close_up: Document) -> None:
    ct, other, second = _open(CT), _open(LESION), _open(LESION)
    workspace.set_iod(other, SECONDARY_CAPTURE)
    workspace.set_iod(second, DERMOSCOPIC)
    choices = links.overview_choices(close_up, [overview, close_up, ct, other, second])
    assert links.overview_problem(second) == (
        "is a close-up (Dermoscopic Photography Image), not a VL image of a region"
    )
    assert choices.offered == (overview,)
    reasons = dict(choices.refused)
    assert reasons["CT_small.dcm"].startswith("is a CT Image Storage, not a VL image")
    secondary = links.overview_problem(other) or ""
    assert (other.name, secondary) in choices.refused
    assert "Secondary Capture Image, not a VL image" in secondary
    assert "Upload page" in secondary
    with pytest.raises(TbpError, match="not a VL image"):
        links.link_to_overview(close_up, ct)
    with pytest.raises(TbpError, match="its own overview"):
        links.link_to_overview(close_up, close_up)
    with pytest.raises(TbpError, match=r"outside the overview \(1024 columns × 768 rows\)"):
        links.link_to_overview(close_up, overview, location=(1024.0, 0.0))
    assert close_up.link is None  # a refusal changes nothing


def test_the_session_check_ok_missing_and_not_vl(overview: Document, close_up: Document) -> None:
    links.link_to_overview(close_up, overview, lesion_id="L7")
    ds, ov = _written(close_up), _written(overview)

    (ok,), () = links.check_links([("lesion.dcm", ds), ("back.dcm", ov)])
    assert (ok.severity, ok.code) == ("info", "lesion-link-ok")
    assert ok.path == "ReferencedImageSequence[0].ReferencedSOPInstanceUID"

    ((missing,),) = links.check_links([("lesion.dcm", ds)])
    assert missing.severity == "warning"
    assert "not in this session — upload it to check the link" in missing.message

    ct = pydicom.dcmread(CT)
    ds.ReferencedImageSequence[0].ReferencedSOPInstanceUID = ct.SOPInstanceUID
    ((not_vl,), ()) = links.check_links([("lesion.dcm", ds), ("CT_small.dcm", ct)])
    assert not_vl.severity == "error"
    assert "'CT_small.dcm' is a CT Image Storage, not a VL image" in not_vl.message
    assert "link the close-up to a VL Photographic" in not_vl.message


def test_the_session_check_on_documents_follows_the_overviews_iod(
    overview: Document, close_up: Document
) -> None:
    links.link_to_overview(close_up, overview)
    session = [overview, close_up]
    assert [f.code for f in links.document_link_findings(close_up, session)] == ["lesion-link-ok"]
    workspace.set_iod(overview, SECONDARY_CAPTURE)
    links.refresh_links(session)  # no longer a VL image: the old snapshot stays
    [finding] = links.document_link_findings(close_up, session)
    assert finding.code == "lesion-link-overview-not-vl"
    assert "Secondary Capture Image Storage" in finding.message
    assert links.document_link_findings(overview, session) == ()


def test_a_reference_naming_another_class_and_one_without_purpose(
    overview: Document, close_up: Document
) -> None:
    links.link_to_overview(close_up, overview)
    ds, ov = _written(close_up), _written(overview)
    ds.ReferencedImageSequence[0].ReferencedSOPClassUID = pydicom.uid.VLEndoscopicImageStorage
    ((mismatch,), ()) = links.check_links([("lesion.dcm", ds), ("back.dcm", ov)])
    assert (mismatch.severity, mismatch.code) == ("error", "lesion-link-class-mismatch")
    del ds.ReferencedImageSequence[0].PurposeOfReferenceCodeSequence
    assert links.localizer_references(ds) == ()  # not a localizer: not checked
    assert links.check_links([("lesion.dcm", ds), ("back.dcm", ov)]) == ((), ())


def test_a_dicom_close_up_is_linked_on_the_tags_page(overview: Document) -> None:
    ct = _open(CT)
    with pytest.raises(TbpError, match="Tags page"):
        links.link_to_overview(ct, overview)
    edit = tags.SetValue("StudyDescription", "unchanged by links")
    assert workspace.apply_tag_edit(ct, edit).applied
    assert links.refresh_links([ct, overview]) == ()
