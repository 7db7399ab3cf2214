"""Lesion linking in the app (issue 15, item 1): a close-up picks its overview and a position.

An overview photograph and a dermoscopic close-up are uploaded; on the Metadata
page the close-up picks the overview, a location (the X/Y inputs a click on the
overview fills in) and a lesion id. The download of Validate & Download is read
back with pydicom and checked by dciodvfy.
"""

from __future__ import annotations

import io
from pathlib import Path, PurePosixPath

import pydicom
import pytest
from streamlit.testing.v1 import AppTest

from tbp_core.building import lesionlink
from tbp_core.building.iods import DERMOSCOPIC
from tbp_core.inspection.preview import preview_document
from tbp_core.session.workspace import Document, dataset_of, set_metadata
from tbp_core.standard import private
from tests.app.downloads import Served
from tests.app.shown import shown
from tests.conftest import DATA, ROOT
from tests.referee import dciodvfy
from ui.layout import DUMP_PAGE, METADATA_PAGE, STRUCTURE_PAGE, UPLOAD_PAGE, VALIDATE_PAGE
from ui.lesion_panel import (
    GRID_TRACE,
    click_figure,
    clicked_point,
    lesion_key,
    overview_key,
    x_key,
    y_key,
)
from ui.state import CURRENT, DOCUMENTS

SAMPLES = ROOT / "sample_data"
OVERVIEW = SAMPLES / "regional_back.png"
CLOSE_UP = SAMPLES / "dermoscopic_lesion.png"
REGIONAL_TEMPLATE = SAMPLES / "tbp_regional_template.json"
EQUIPMENT = SAMPLES / "dermoscopic_equipment_template.json"
CT = DATA / "dicom" / "CT_small.dcm"


def _ok(at: AppTest) -> None:
    assert not at.exception, at.exception


def _documents(at: AppTest) -> list[Document]:
    docs: list[Document] = at.session_state[DOCUMENTS]
    return docs


def _show(at: AppTest, doc: Document, page: str) -> None:
    at.session_state[CURRENT] = doc.id
    at.switch_page(page).run()
    _ok(at)


def _template(at: AppTest, doc: Document, template: Path) -> None:
    _show(at, doc, METADATA_PAGE)
    at.file_uploader(key="meta_template_upload").set_value(
        (template.name, template.read_bytes(), "application/json")
    ).run()
    _ok(at)


@pytest.fixture
def session() -> tuple[AppTest, Document, Document]:
    """An app with the overview (with its patient and study) and a dermoscopic close-up."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    _ok(at)
    files = [(p.name, p.read_bytes(), "image/png") for p in (OVERVIEW, CLOSE_UP)]
    at.file_uploader(key="upload_files").set_value(files).run()
    _ok(at)
    overview, close_up = _documents(at)
    _show(at, close_up, UPLOAD_PAGE)
    at.radio(key=f"upload_iod_{close_up.id}").set_value(DERMOSCOPIC.title).run()
    _ok(at)
    _template(at, overview, REGIONAL_TEMPLATE)
    _template(at, close_up, EQUIPMENT)
    assert close_up.iod is DERMOSCOPIC and not at.error, [e.value for e in at.error]
    return at, overview, close_up


def _link(at: AppTest, close_up: Document, overview: Document) -> None:
    """Pick the overview, the position (as a click fills X and Y in) and the lesion id."""
    _show(at, close_up, METADATA_PAGE)
    at.selectbox(key=overview_key(close_up.id)).set_value(overview.id).run()
    _ok(at)
    at.number_input(key=x_key(close_up.id)).set_value(120.0).run()
    at.number_input(key=y_key(close_up.id)).set_value(340.0).run()
    at.text_input(key=lesion_key(close_up.id)).input("L7").run()
    _ok(at)
    assert not at.error, [e.value for e in at.error]


def _download(at: AppTest, served: Served) -> bytes:
    at.switch_page(VALIDATE_PAGE).run()
    _ok(at)
    at.button(key="vd_prepare_one").click().run()
    _ok(at)
    assert not at.error, [e.value for e in at.error]
    button = next(b for b in at.download_button if b.label == "Download DICOM")
    return served[PurePosixPath(button.proto.url).stem][0]


def test_the_download_carries_the_link_and_dciodvfy_accepts_it(
    session: tuple[AppTest, Document, Document], served: Served, tmp_path: Path
) -> None:
    at, overview, close_up = session
    _link(at, close_up, overview)
    payload = _download(at, served)
    target = tmp_path / "lesion.dcm"
    target.write_bytes(payload)
    ds = pydicom.dcmread(target)
    ov = dataset_of(overview)

    (reference,) = ds.ReferencedImageSequence
    assert reference.ReferencedSOPInstanceUID == overview.sop_instance_uid
    assert reference.ReferencedSOPClassUID == pydicom.uid.VLPhotographicImageStorage
    (purpose,) = reference.PurposeOfReferenceCodeSequence
    assert (purpose.CodeValue, purpose.CodingSchemeDesignator) == ("121311", "DCM")
    assert ds.StudyInstanceUID == ov.StudyInstanceUID
    assert ds.PatientID == ov.PatientID == "TBP-0001"
    assert ds.PatientName == ov.PatientName
    assert ds.TrackingID == "L7"
    assert ds.TrackingUID == lesionlink.tracking_uid("TBP-0001", "L7")
    assert private.get_tbp_values(ds)[lesionlink.LOCATION_KEY] == [120.0, 340.0]
    assert ds.Modality == "DMS"

    report = dciodvfy(target)
    assert report.errors == (), report.output
    assert report.unexplained_warnings == (), report.output

    # Validate & Download says what it is linked to, and that the overview checks out.
    text = " ".join(shown(i.value) for i in at.info)
    assert "Linked to overview 'regional_back.png' at (120, 340), lesion L7" in text
    infos = [shown(m.value) for m in at.markdown if ":blue-badge" in m.value]
    ok = "The overview 'regional_back.png' is in this session and is a VL Photographic Image"
    assert any(ok in info for info in infos)
    # so does Structure, with the Referenced Image Sequence under the VL Image module
    at.switch_page(STRUCTURE_PAGE).run()
    _ok(at)
    assert any("Linked to overview 'regional_back.png'" in shown(i.value) for i in at.info)
    [vl_image] = [e for e in at.expander if e.label.startswith("**VL Image**")]
    table = " ".join(m.value for m in vl_image.markdown)
    assert "ReferencedImageSequence[0].ReferencedSOPInstanceUID" in shown(table)
    # and the Dump lists the reference, the Tracking ID and the location
    at.switch_page(DUMP_PAGE).run()
    _ok(at)
    [dump] = [h.value for h in at.html if 'class="tbp-dump"' in h.value]
    for name in ("ReferencedImageSequence", "TrackingID", "Lesion Location on Regional"):
        assert name in dump, name


def test_the_close_up_follows_the_overviews_patient_and_can_be_unlinked(
    session: tuple[AppTest, Document, Document], served: Served
) -> None:
    at, overview, close_up = session
    _link(at, close_up, overview)
    set_metadata(overview, {**overview.metadata, "PatientID": "TBP-0002"})
    written = pydicom.dcmread(io.BytesIO(_download(at, served)))
    assert written.PatientID == "TBP-0002"
    assert written.TrackingUID == lesionlink.tracking_uid("TBP-0002", "L7")
    _show(at, close_up, METADATA_PAGE)
    at.button(key=f"lesion_unlink_{close_up.id}").click().run()
    _ok(at)
    assert close_up.link is None
    assert at.selectbox(key=overview_key(close_up.id)).value == ""
    ds = dataset_of(close_up)
    assert "ReferencedImageSequence" not in ds and "TrackingID" not in ds


def test_only_vl_images_are_offered_and_a_position_outside_is_refused(
    session: tuple[AppTest, Document, Document],
) -> None:
    at, overview, close_up = session
    at.switch_page(UPLOAD_PAGE).run()
    at.file_uploader(key="upload_files").set_value(
        [(p.name, p.read_bytes(), "application/octet-stream") for p in (OVERVIEW, CLOSE_UP, CT)]
    ).run()
    _ok(at)
    _show(at, close_up, METADATA_PAGE)
    picker = at.selectbox(key=overview_key(close_up.id))
    assert picker.options == ["— not linked —", overview.name]  # labels of "" and the id
    reasons = " ".join(shown(c.value) for c in at.caption)
    assert "CT_small.dcm is a CT Image Storage, not a VL image" in reasons
    picker.set_value(overview.id).run()
    at.number_input(key=x_key(close_up.id)).set_value(5000.0).run()
    at.number_input(key=y_key(close_up.id)).set_value(1.0).run()
    _ok(at)
    [error] = [shown(e.value) for e in at.error]
    assert "lies outside the overview (1024 columns × 768 rows)" in error
    assert close_up.link is not None and close_up.link.location is None  # kept as it was


def test_a_removed_overview_is_a_warning_on_validate(
    session: tuple[AppTest, Document, Document],
) -> None:
    at, overview, close_up = session
    _link(at, close_up, overview)
    at.switch_page(UPLOAD_PAGE).run()
    at.button(key=f"upload_remove_{overview.id}").click().run()
    _ok(at)
    _show(at, close_up, VALIDATE_PAGE)
    warnings = [shown(m.value) for m in at.markdown if ":orange-badge" in m.value]
    assert any("is not in this session — upload it to check the link" in w for w in warnings)
    assert "ReferencedImageSequence" in dataset_of(close_up)  # the link itself stays


def test_a_click_on_the_overview_gives_its_pixel_position(
    session: tuple[AppTest, Document, Document],
) -> None:
    """The clickable grid covers the overview in full-size pixels; a click's point is read back."""
    at, overview, close_up = session
    _show(at, close_up, METADATA_PAGE)
    at.selectbox(key=overview_key(close_up.id)).set_value(overview.id).run()
    _ok(at)
    [chart] = [e for e in at.get("plotly_chart") if "lesion_plot" in str(e.proto.id)]
    assert chart.proto.selection_mode  # clicks select points
    figure = click_figure(preview_document(overview), (120.0, 340.0))
    grid = figure.data[GRID_TRACE]
    assert (min(grid.x), max(grid.x), max(grid.y)) == (0, 1023 - 1023 % 11, 767 - 767 % 11)
    assert (figure.data[2].x[0], figure.data[2].y[0]) == (120.0, 340.0)  # the chosen point
    event = {"selection": {"points": [{"curve_number": GRID_TRACE, "x": 121, "y": 341}]}}
    assert clicked_point(event) == (121.0, 341.0)
    assert clicked_point({"selection": {"points": [{"curve_number": 0, "x": 1, "y": 2}]}}) is None
    assert clicked_point(None) is None
