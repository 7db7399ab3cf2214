"""Hardening through AppTest: deep colour on every page, untrusted text stays text, cold start.

Issue 12: a 16-bit RGB PNG and a 32-bit 2-frame Secondary Capture render on every page;
a DICOM file whose values and name carry Markdown/HTML shows them literally everywhere;
a decoder failure is an error beside its document; a page run without the router works.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator

import numpy as np
import pytest
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian
from streamlit.testing.v1 import AppTest

from tests.app.test_pages import PAGES, _app, _documents, _render_every_page, _upload
from tests.conftest import DATA, ROOT
from tests.fuzz.crafted import rle_garbage
from ui.layout import UPLOAD_PAGE
from ui.text import literal

DEEP_COLOUR = (
    "png/oi4n2c16.png",  # PngSuite: 16-bit RGB
    "dicom/SC_rgb_16bit.dcm",
    "dicom/SC_rgb_rle_32bit_2frame.dcm",
)

#: Markdown and HTML a file could carry: bold, a link, a remote image (a beacon).
PAYLOAD = "**bold** [x](http://e.invalid/) <img src=http://e.invalid/a.png>"
#: Pieces of PAYLOAD that must never reach a Markdown body unescaped (no backslash before);
#: the app's own links (the glossary's to the standard) are not the payload's.
RAW = tuple(
    re.compile(r"(?<!\\)" + re.escape(p))
    for p in ("**bold**", "[x](", "<img", "](http://e.invalid")
)


def _markdown_bodies(at: AppTest) -> Iterator[str]:
    """The bodies Streamlit renders as Markdown, from every kind of element that has one."""
    for kind in ("markdown", "caption", "error", "warning", "info", "success", "title"):
        for element in at.get(kind):
            yield str(element.value)
    for kind in ("subheader", "header"):
        for element in at.get(kind):
            yield str(element.value)
    for expander in at.get("expander"):
        yield str(expander.label)


@pytest.mark.parametrize("path", DEEP_COLOUR)
def test_deep_colour_renders_on_every_page(path: str) -> None:
    at = _app()
    _upload(at, path)
    assert len(at.get("plotly_chart")) == 1
    assert not at.error, [e.value for e in at.error]
    assert _render_every_page(at) == {}


def test_the_32_bit_two_frame_file_offers_both_frames() -> None:
    at = _app()
    _upload(at, "dicom/SC_rgb_rle_32bit_2frame.dcm")
    frame = next(s for s in at.slider if s.label == "Frame")
    assert (frame.min, frame.max) == (1, 2)
    frame.set_value(2).run()
    assert not at.exception
    assert "Showing frame 2 of 2." in [c.value for c in at.caption]


def _injection_file() -> bytes:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the values are invalid on purpose
        ds.SOPClassUID = PAYLOAD
        ds.file_meta.MediaStorageSOPClassUID = PAYLOAD
        ds.Modality = PAYLOAD
        ds.PatientSex = PAYLOAD
        ds.PatientName = PAYLOAD
        ds.StudyDescription = PAYLOAD
    ds.SOPInstanceUID = "1.2.3.4.5"
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.Rows, ds.Columns, ds.SamplesPerPixel = 4, 4, 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = np.arange(16, dtype=np.uint8).tobytes()
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds.save_as(buffer, enforce_file_format=False)
    return buffer.getvalue()


def test_markdown_and_html_from_a_file_show_literally_on_every_page() -> None:
    at = _app()
    name = f"{PAYLOAD}.dcm"
    at.file_uploader(key="upload_files").set_value(
        [(name, _injection_file(), "application/dicom")]
    ).run()
    assert not at.exception, at.exception
    assert [d.name for d in _documents(at)] == [name]
    escaped_payload_seen: set[str] = set()
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        for body in _markdown_bodies(at):
            for piece in RAW:
                assert not piece.search(body), (page, body)
            if literal(PAYLOAD) in body:
                escaped_payload_seen.add(page)
    # The name on Upload, the findings on Validate (SOP Class UID, Modality, Patient's Sex),
    # the SOP Class UID on Structure: each shown, escaped.
    assert {UPLOAD_PAGE, "views/structure.py", "views/validate_download.py"} <= (
        escaped_payload_seen
    )


def test_a_decoder_failure_shows_an_error_beside_its_document_and_the_page_goes_on() -> None:
    case = rle_garbage()
    at = _app()
    at.file_uploader(key="upload_files").set_value(
        [(case.name, case.data, "application/dicom")]
    ).run()
    assert not at.exception, at.exception
    doc = _documents(at)[0]
    assert at.button(key=f"upload_remove_{doc.id}").label == "Remove"
    errors = [str(e.value) for e in at.error]
    assert any(literal(case.name) in text for text in errors), errors
    assert _render_every_page(at) == {}


def test_no_pages_folder_for_streamlit_to_list_before_the_router_runs() -> None:
    """A pages/ folder next to app.py is listed and run by file name at a cold start."""
    assert not (ROOT / "pages").exists()
    assert all((ROOT / page).is_file() for page in PAGES)


def test_exif_decimals_show_without_quotes_and_the_study_date_is_the_acquisition_date() -> None:
    at = _app()
    jpeg = (DATA / "exif" / "exifpy__Canon_40D.jpg").read_bytes()
    at.file_uploader(key="upload_files").set_value([("c.jpg", jpeg, "image/jpeg")]).run()
    at.switch_page("views/metadata.py").run()
    assert not at.exception, at.exception
    fields = {t.label: t.value for t in at.text_input}
    assert fields["Exposure Time in Seconds"] == "0.00625"
    assert fields["F-Number"] == "7.1"
    assert fields["Study Date"] == "20080530"  # EXIF DateTimeOriginal, not today


def test_a_downsampled_preview_says_one_in_n_pixels() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (3300, 40), (10, 20, 30)).save(buffer, format="PNG")
    at = _app()
    at.file_uploader(key="upload_files").set_value(
        [("wide.png", buffer.getvalue(), "image/png")]
    ).run()
    captions = " ".join(str(c.value) for c in at.caption)
    assert "th pixel" not in captions
    assert re.search(r"1 in \d+ pixels in each direction", captions), captions
