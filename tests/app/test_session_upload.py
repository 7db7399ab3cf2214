"""A whole TBP session dropped on the Upload page (issue 15, item 2), through AppTest.

Two overviews, two close-ups and a ``session.csv`` are uploaded; the
dermatoscope's values are asked for, then the manifest is applied, and the
"Download all (.zip)" of Validate & Download holds one study with a series
per kind, the close-ups referencing their overviews, each file accepted by
dciodvfy. A manifest with an unknown region shows its line and changes nothing.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path, PurePosixPath

import pydicom
import pytest
from PIL import Image
from pydicom.uid import DermoscopicPhotographyImageStorage, VLPhotographicImageStorage
from streamlit.testing.v1 import AppTest

from tbp_core.building.iods import VL_PHOTOGRAPHIC
from tbp_core.building.iods.builder import DERMOSCOPIC_EQUIPMENT
from tbp_core.session.workspace import Document
from tests.app.downloads import Served
from tests.app.shown import shown
from tests.conftest import ROOT
from tests.referee import dciodvfy
from ui.layout import VALIDATE_PAGE
from ui.session_panel import APPLY_KEY, ARRANGE_KEY, equipment_key
from ui.state import DOCUMENTS

EQUIPMENT = ("DermaCo", "Scope 3", "SN-42", "1.2")
MANIFEST = (
    "file,region,laterality,lesion_id,regional,x,y\n"
    "back_overview.png,Skin of back,,,,,\n"
    "left-arm_overview.png,left-arm,,,,,\n"
    "lesion_a.png,,,L1,back_overview.png,30,20\n"
    "lesion_b.png,,,L2,left-arm_overview.png,5,6\n"
)
NAMES = ("back_overview.png", "left-arm_overview.png", "lesion_a.png", "lesion_b.png")


def _png(seed: int) -> bytes:
    image = Image.new("RGB", (80, 60), (120 + seed * 20, 90, 70))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _files(manifest: str = MANIFEST) -> list[tuple[str, bytes, str]]:
    files = [(name, _png(i), "image/png") for i, name in enumerate(NAMES)]
    return [*files, ("session.csv", manifest.encode(), "text/csv")]


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not app.exception, app.exception
    return app


def _documents(at: AppTest) -> dict[str, Document]:
    docs: list[Document] = at.session_state[DOCUMENTS]
    return {PurePosixPath(d.name.replace("!", "/")).name: d for d in docs}


def _errors(at: AppTest) -> list[str]:
    return [shown(e.value) for e in at.error]


def _download_all(at: AppTest, served: Served) -> zipfile.ZipFile:
    at.switch_page(VALIDATE_PAGE).run()
    assert not at.exception, at.exception
    at.button(key="vd_prepare_all").click().run()
    assert not at.exception, at.exception
    assert not at.error, _errors(at)
    button = next(b for b in at.download_button if b.label == "Download all (.zip)")
    return zipfile.ZipFile(io.BytesIO(served[PurePosixPath(button.proto.url).stem][0]))


def test_a_session_with_its_manifest_downloads_as_one_study(
    at: AppTest, served: Served, tmp_path: Path
) -> None:
    at.file_uploader(key="upload_files").set_value(_files()).run()
    assert not at.exception, at.exception
    # the close-ups need the dermatoscope: asked for the app's way, nothing applied yet
    errors = " ".join(_errors(at))
    assert "session.csv: the close-ups are Dermoscopic Photography Images" in errors
    assert "in the TBP session panel of the Upload page" in errors
    assert {d.iod for d in _documents(at).values()} == {VL_PHOTOGRAPHIC}

    for keyword, value in zip(DERMOSCOPIC_EQUIPMENT, EQUIPMENT, strict=True):
        at.text_input(key=equipment_key(keyword)).input(value)
    at.button(key=APPLY_KEY).click().run()
    assert not at.exception, at.exception
    assert not at.error, _errors(at)
    summary = " ".join(shown(s.value) for s in at.success)
    assert "session.csv applied: one study; 2 overview(s) in series 1" in summary
    assert "2 close-up(s) in series 2 (Dermoscopic Photography Image), 2 linked" in summary
    views = " ".join(shown(i.value) for i in at.info)
    assert "without an overview: head, neck, anterior-trunk, right-arm, left-leg" in views

    archive = _download_all(at, served)
    written = {}
    for name in archive.namelist():
        target = tmp_path / name
        target.write_bytes(archive.read(name))
        written[name] = pydicom.dcmread(target)
        report = dciodvfy(target)
        assert report.errors == (), report.output
        assert report.unexplained_warnings == (), report.output
    assert sorted(written) == sorted(PurePosixPath(n).with_suffix(".dcm").name for n in NAMES)
    assert len({ds.StudyInstanceUID for ds in written.values()}) == 1
    series = {ds.SOPClassUID: set() for ds in written.values()}
    for ds in written.values():
        series[ds.SOPClassUID].add((ds.SeriesInstanceUID, ds.SeriesNumber))
    assert set(series) == {VLPhotographicImageStorage, DermoscopicPhotographyImageStorage}
    assert all(len(found) == 1 for found in series.values())
    assert len({ds.SeriesInstanceUID for ds in written.values()}) == 2
    back, arm = written["back_overview.dcm"], written["left-arm_overview.dcm"]
    lesion_a, lesion_b = written["lesion_a.dcm"], written["lesion_b.dcm"]
    assert [back.InstanceNumber, arm.InstanceNumber] == [1, 2]
    assert [lesion_a.InstanceNumber, lesion_b.InstanceNumber] == [1, 2]
    assert lesion_a.ReferencedImageSequence[0].ReferencedSOPInstanceUID == back.SOPInstanceUID
    assert lesion_b.ReferencedImageSequence[0].ReferencedSOPInstanceUID == arm.SOPInstanceUID
    assert (lesion_a.TrackingID, lesion_b.TrackingID) == ("L1", "L2")
    assert back.AnatomicRegionSequence[0].CodeMeaning == "Skin of back"
    region = arm.AnatomicRegionSequence[0]
    assert region.CodeMeaning == "Skin of upper extremity" and arm.ImageLaterality == "L"
    assert lesion_b.AnatomicRegionSequence[0].CodeMeaning == "Skin of upper extremity"
    assert lesion_a.Manufacturer == "DermaCo"


def test_a_manifest_inside_the_zip_is_applied_with_the_upload(at: AppTest) -> None:
    for keyword, value in zip(DERMOSCOPIC_EQUIPMENT, EQUIPMENT, strict=True):
        at.session_state[equipment_key(keyword)] = value
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        for name, data, _ in _files():
            zf.writestr(f"visit/{name}", data)
    upload = [("visit.zip", archive.getvalue(), "application/zip")]
    at.file_uploader(key="upload_files").set_value(upload).run()
    assert not at.exception, at.exception
    assert not at.error, _errors(at)
    assert any("session.csv applied: one study" in shown(s.value) for s in at.success)
    docs = _documents(at)
    assert len(docs) == 4  # the manifest is not a document
    assert docs["lesion_a.png"].link is not None
    assert docs["lesion_a.png"].link.overview_id == docs["back_overview.png"].id


def test_an_unknown_region_shows_its_line_and_applies_nothing(at: AppTest) -> None:
    for keyword, value in zip(DERMOSCOPIC_EQUIPMENT, EQUIPMENT, strict=True):
        at.session_state[equipment_key(keyword)] = value
    manifest = MANIFEST.replace("left-arm,,", "elbowz,,")
    at.file_uploader(key="upload_files").set_value(_files(manifest)).run()
    assert not at.exception, at.exception
    errors = _errors(at)
    assert any(e.startswith("session.csv: 2 problems — nothing was changed") for e in errors)
    assert any(
        e.startswith("session.csv line 3: region 'elbowz' is not a known anatomic region")
        and "write a code meaning, a SNOMED CT code" in e
        for e in errors
    ), errors
    docs = _documents(at)
    assert len(docs) == 4
    for doc in docs.values():
        assert doc.iod is VL_PHOTOGRAPHIC and doc.link is None and doc.metadata == {}
    assert [doc.instance_number for doc in docs.values()] == [1, 2, 3, 4]
    assert not at.success
    # the typed dermatoscope values stay for the next try
    assert at.text_input(key=equipment_key("Manufacturer")).value == "DermaCo"


def test_arrange_as_a_tbp_session_reads_the_file_names(at: AppTest) -> None:
    names = ("back_overview.png", "left-arm_overview.png", "left-arm_closeup_L9.png")
    files = [(name, _png(i), "image/png") for i, name in enumerate(names)]
    at.file_uploader(key="upload_files").set_value(files).run()
    assert not at.exception, at.exception
    for keyword, value in zip(DERMOSCOPIC_EQUIPMENT, EQUIPMENT, strict=True):
        at.text_input(key=equipment_key(keyword)).input(value)
    at.button(key=ARRANGE_KEY).click().run()
    assert not at.exception, at.exception
    assert not at.error, _errors(at)
    summary = " ".join(shown(s.value) for s in at.success)
    assert "the uploaded images applied: one study; 2 overview(s)" in summary
    docs = _documents(at)
    close_up = docs["left-arm_closeup_L9.png"]
    assert close_up.link is not None and close_up.link.lesion_id == "L9"
    assert close_up.link.overview_id == docs["left-arm_overview.png"].id
    # the Upload page's IOD choice follows (it is not set back by the radio's old value)
    at.run()
    assert docs["left-arm_closeup_L9.png"].iod.title == "Dermoscopic Photography Image"
