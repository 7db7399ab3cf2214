"""The Upload page through Streamlit's AppTest: uploads, samples, choosing, IOD, viewer."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.encaps import encapsulate
from pydicom.uid import UID, SecondaryCaptureImageStorage
from streamlit.testing.v1 import AppTest

from tbp_core.building.iods import SECONDARY_CAPTURE, VL_PHOTOGRAPHIC
from tbp_core.fileio import dicomio
from tbp_core.inspection.preview import Preview
from tbp_core.session.workspace import Document, dataset_of
from tests.app.shown import shown
from tests.conftest import DATA, ROOT
from ui.state import CURRENT, DOCUMENTS, MEMO

SIDEBAR_PICKER = "sidebar_current_document"


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not app.exception
    return app


def _documents(at: AppTest) -> list[Document]:
    docs: list[Document] = at.session_state[DOCUMENTS]
    return docs


def _current(at: AppTest) -> Document:
    wanted = at.session_state[CURRENT]
    return next(doc for doc in _documents(at) if doc.id == wanted)


def _upload(at: AppTest, *files: tuple[str, bytes]) -> None:
    at.file_uploader(key="upload_files").set_value(
        [(name, data, "application/octet-stream") for name, data in files]
    ).run()


def _plots(at: AppTest) -> int:
    return len(at.get("plotly_chart"))


def _errors(at: AppTest) -> list[str]:
    return [str(e.value) for e in at.error]


def test_the_empty_page_renders(at: AppTest) -> None:
    assert at.title[0].value == "Upload"
    uploader = at.file_uploader(key="upload_files")
    assert uploader.label == "Images or DICOM files"
    assert uploader.accept_multiple_files
    assert uploader.allowed_type == []  # names are checked by the page: no extension is fine
    assert at.button(key="upload_samples").label == "Load sample images"
    assert any("No documents yet" in str(i.value) for i in at.info)
    assert _plots(at) == 0


def test_load_sample_images_adds_two_documents_and_shows_the_picture(at: AppTest) -> None:
    at.button(key="upload_samples").click().run()
    assert not at.exception
    docs = _documents(at)
    assert [d.name for d in docs] == ["regional_back.png", "dermoscopic_lesion.png"]
    assert _plots(at) == 1
    assert len(at.get("image")) == 2  # one thumbnail per document
    facts = " ".join(str(c.value) for c in at.caption)
    assert "1024 × 768 px" in facts and "8-bit" in facts
    assert "EXIF found: yes (" in facts
    at.button(key="upload_samples").click().run()  # idempotent
    assert len(_documents(at)) == 2


def test_an_uploaded_png_becomes_current_and_stays_current(at: AppTest) -> None:
    at.button(key="upload_samples").click().run()
    _upload(at, ("basn2c08.png", (DATA / "png" / "basn2c08.png").read_bytes()))
    assert not at.exception and not _errors(at)
    assert _current(at).name == "basn2c08.png"
    assert at.selectbox(key=SIDEBAR_PICKER).value == _current(at).id
    at.run()
    assert _current(at).name == "basn2c08.png"
    assert any(s.value == "basn2c08.png" for s in at.subheader)
    assert "EXIF found: no" in " ".join(str(c.value) for c in at.caption)


def test_show_and_remove_choose_and_drop_documents(at: AppTest) -> None:
    at.button(key="upload_samples").click().run()
    first, second = _documents(at)
    assert _current(at).id == second.id
    at.button(key=f"upload_show_{first.id}").click().run()
    assert _current(at).id == first.id
    at.run()
    assert _current(at).id == first.id  # the sidebar picker follows
    at.button(key=f"upload_remove_{first.id}").click().run()
    assert not at.exception
    assert [d.id for d in _documents(at)] == [second.id]
    assert at.selectbox(key=SIDEBAR_PICKER).value == second.id


def test_an_uploaded_dicom_shows_its_facts_and_window_sliders(at: AppTest) -> None:
    _upload(at, ("CT_small.dcm", (DATA / "dicom" / "CT_small.dcm").read_bytes()))
    assert not at.exception and not _errors(at)
    assert _current(at).kind == "dicom"
    text = " ".join(str(m.value) for m in at.markdown)
    assert "CT Image Storage" in text and "Explicit VR Little Endian" in text
    assert "CT Image" in text  # the IOD
    sliders = {s.label: s for s in at.slider}
    assert sliders["Window centre"].value == 136  # CT_small has no window: min/max in HU
    assert sliders["Window width"].value == 2064
    assert _plots(at) == 1
    sliders["Window width"].set_value(400).run()
    assert not at.exception
    assert {s.label: s.value for s in at.slider}["Window width"] == 400


def test_the_window_sliders_start_at_the_files_window(at: AppTest) -> None:
    _upload(at, ("MR_small.dcm", (DATA / "dicom" / "MR_small.dcm").read_bytes()))
    values = {s.label: s.value for s in at.slider}
    assert values == {"Window centre": 600, "Window width": 1600}
    assert any("Window Center/Width in the file" in str(c.value) for c in at.caption)


def test_a_dicom_file_without_extension_is_taken(at: AppTest) -> None:
    _upload(at, ("IM0001", (DATA / "dicom" / "JPEG2000.dcm").read_bytes()))
    assert not at.exception and not _errors(at)
    assert _current(at).name == "IM0001"
    assert _plots(at) == 1


def test_a_corrupt_png_gives_an_error_and_the_app_keeps_working(at: AppTest) -> None:
    _upload(at, ("badcrc.png", (DATA / "corrupt" / "libpng__crashers_badcrc.png").read_bytes()))
    assert not at.exception
    assert any("badcrc.png" in message for message in _errors(at))
    assert _documents(at) == []
    _upload(at, ("basn2c08.png", (DATA / "png" / "basn2c08.png").read_bytes()))
    assert not at.exception
    assert _current(at).name == "basn2c08.png"
    assert _plots(at) == 1
    at.button(key="upload_dismiss").click().run()
    assert not _errors(at)


def test_other_file_types_are_refused_by_name(at: AppTest) -> None:
    _upload(at, ("notes.txt", b"not an image"))
    assert not at.exception
    assert any("'notes.txt'" in m and ".dcm" in m for m in _errors(at))
    assert _documents(at) == []


def test_a_dicom_without_pixel_data_says_so_without_a_traceback(at: AppTest) -> None:
    _upload(at, ("rtplan.dcm", (DATA / "dicom" / "rtplan.dcm").read_bytes()))
    assert not at.exception
    assert any("has no Pixel Data" in str(i.value) for i in at.info)
    assert _plots(at) == 0


def test_changing_the_iod_radio_changes_the_documents_iod(at: AppTest) -> None:
    _upload(at, ("basn2c08.png", (DATA / "png" / "basn2c08.png").read_bytes()))
    doc = _current(at)
    assert doc.iod is VL_PHOTOGRAPHIC
    radio = at.radio(key=f"upload_iod_{doc.id}")
    assert radio.options == [
        "VL Photographic Image",
        "Dermoscopic Photography Image",
        "Secondary Capture Image",
    ]
    radio.set_value("Secondary Capture Image").run()
    assert not at.exception and not _errors(at)
    assert _current(at).iod is SECONDARY_CAPTURE
    assert dataset_of(_current(at)).SOPClassUID == SecondaryCaptureImageStorage


def test_a_16_bit_image_refuses_an_8_bit_iod_with_an_error(at: AppTest) -> None:
    _upload(at, ("basn0g16.png", (DATA / "png" / "basn0g16.png").read_bytes()))
    doc = _current(at)
    assert doc.iod is SECONDARY_CAPTURE
    assert {s.label for s in at.slider} == {"Window centre", "Window width"}
    at.radio(key=f"upload_iod_{doc.id}").set_value("VL Photographic Image").run()
    assert not at.exception
    assert any("allows only 8 bits" in m for m in _errors(at))
    assert _current(at).iod is SECONDARY_CAPTURE


def test_a_multi_frame_dicom_gets_a_frame_slider(at: AppTest) -> None:
    ds = dicomio.read((DATA / "dicom" / "MR_small.dcm").read_bytes())
    frames = np.stack([np.full((64, 64), value, dtype=np.int16) for value in (10, 20, 30)])
    ds.NumberOfFrames = 3
    ds.PixelData = frames.tobytes()
    _upload(at, ("three_frames.dcm", dicomio.to_bytes(ds)))
    assert not at.exception and not _errors(at)
    frame = next(s for s in at.slider if s.label == "Frame")
    assert (frame.min, frame.max, frame.value) == (1, 3, 1)
    frame.set_value(3).run()
    assert not at.exception
    assert any("frame 3 of 3" in str(c.value) for c in at.caption)


def test_the_preview_is_computed_once_per_document(at: AppTest) -> None:
    _upload(at, ("CT_small.dcm", (DATA / "dicom" / "CT_small.dcm").read_bytes()))
    doc = _current(at)
    first = at.session_state[MEMO][(doc.id, "preview")][1]
    assert isinstance(first, Preview)
    at.run()
    next(s for s in at.slider if s.label == "Window centre").set_value(100).run()
    assert at.session_state[MEMO][(doc.id, "preview")][1] is first


def test_every_page_still_renders_after_uploads(at: AppTest) -> None:
    at.button(key="upload_samples").click().run()
    _upload(at, ("CT_small.dcm", (DATA / "dicom" / "CT_small.dcm").read_bytes()))
    for page in ("views/dump.py", "views/upload.py"):
        at.switch_page(page).run()
        assert not at.exception
    assert _plots(at) == 1


def test_an_unavailable_codec_shows_a_warning_and_no_picture(at: AppTest) -> None:
    ds = dicomio.read((DATA / "dicom" / "CT_small.dcm").read_bytes())
    ds.PixelData = encapsulate([ds.PixelData])
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = UID("1.2.840.10008.1.2.4.100")  # MPEG2: no decoder
    _upload(at, ("mpeg2.dcm", dicomio.to_bytes(ds)))
    assert not at.exception and not _errors(at)
    assert any("no decoder exists for MPEG2" in str(w.value) for w in at.warning)
    assert _plots(at) == 0
    assert len(at.get("image")) == 0  # no thumbnail either


def test_undecodable_pixel_data_shows_a_message(at: AppTest) -> None:
    ds = dicomio.read((DATA / "dicom" / "CT_small.dcm").read_bytes())
    ds.PixelData = ds.PixelData[:64]
    _upload(at, ("short.dcm", dicomio.to_bytes(ds)))
    assert not at.exception
    assert any("'short.dcm'" in shown(e.value) for e in at.error)
    assert _plots(at) == 0
