"""Every page renders without an exception: empty, with images, with DICOM files."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from tbp_core.building.iods import DERMOSCOPIC
from tbp_core.session.workspace import Document
from tests.conftest import DATA, ROOT
from ui.layout import (
    DUMP_PAGE,
    METADATA_PAGE,
    STRUCTURE_PAGE,
    TAGS_PAGE,
    UPLOAD_PAGE,
    VALIDATE_PAGE,
)
from ui.state import CURRENT, DOCUMENTS

#: Page file → title, in sidebar order (app.py's st.navigation).
PAGES = {
    UPLOAD_PAGE: "Upload",
    METADATA_PAGE: "Metadata",
    TAGS_PAGE: "Tags",
    DUMP_PAGE: "Dump",
    STRUCTURE_PAGE: "Structure",
    VALIDATE_PAGE: "Validate & Download",
}

#: DICOM files of every kind the tests hold: CT, MR, JPEG 2000, RLE colour, an RT Plan
#: without pixels, and a big-endian file without file meta.
DICOM_FILES = (
    "CT_small.dcm",
    "JPEG2000.dcm",
    "MR_small.dcm",
    "SC_rgb_rle.dcm",
    "rtplan.dcm",
    "ExplVR_BigEndNoMeta.dcm",
)


def _app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    return at


def _upload(at: AppTest, *paths: str) -> None:
    """Upload test files through the Upload page's file uploader."""
    files = [
        (p.rsplit("/")[-1], (DATA / p).read_bytes(), "application/octet-stream") for p in paths
    ]
    at.file_uploader(key="upload_files").set_value(files).run()
    assert not at.exception, at.exception


def _documents(at: AppTest) -> list[Document]:
    docs: list[Document] = at.session_state[DOCUMENTS]
    return docs


def _render_every_page(at: AppTest) -> dict[str, str]:
    """Visit each page in turn; return page → problem for those that failed."""
    problems: dict[str, str] = {}
    for page in PAGES:
        at.switch_page(page).run()
        if at.exception:
            problems[page] = "; ".join(e.value for e in at.exception)
    return problems


def _samples(at: AppTest) -> None:
    at.button(key="upload_samples").click().run()
    assert not at.exception, at.exception
    assert len(_documents(at)) == 2


def _png(at: AppTest) -> None:
    _upload(at, "png/basn2c08.png")


def _grey16_png(at: AppTest) -> None:
    _upload(at, "png/basn0g16.png")


def _dermoscopic_without_equipment(at: AppTest) -> None:
    """An image whose dataset cannot be built yet: pages must say so, not fail."""
    _upload(at, "png/basn2c08.png")
    doc = _documents(at)[0]
    doc.iod = DERMOSCOPIC
    doc.touch()


SEEDS: dict[str, Callable[[AppTest], None]] = {
    "samples": _samples,
    "png": _png,
    "grey16-png": _grey16_png,
    "dermoscopic-without-equipment": _dermoscopic_without_equipment,
}


def test_every_page_renders_with_an_empty_session() -> None:
    at = _app()
    assert _render_every_page(at) == {}
    assert not _documents(at)


@pytest.mark.parametrize("seed", SEEDS)
def test_every_page_renders_with_image_documents(seed: str) -> None:
    at = _app()
    SEEDS[seed](at)
    assert _render_every_page(at) == {}


@pytest.mark.parametrize("name", DICOM_FILES)
def test_every_page_renders_with_a_dicom_document(name: str) -> None:
    at = _app()
    _upload(at, f"dicom/{name}")
    docs = _documents(at)
    assert [d.kind for d in docs] == ["dicom"]
    assert at.session_state[CURRENT] == docs[0].id
    assert _render_every_page(at) == {}


def test_every_page_renders_with_a_mixed_batch_and_each_current_document() -> None:
    at = _app()
    _upload(at, "png/basn2c08.png", "dicom/CT_small.dcm", "dicom/JPEG2000.dcm")
    docs = _documents(at)
    assert len(docs) == 3
    for doc in docs:
        at.session_state[CURRENT] = doc.id
        assert _render_every_page(at) == {}, doc.name


def test_every_page_shows_its_title() -> None:
    at = _app()
    _samples(at)
    for page, title in PAGES.items():
        at.switch_page(page).run()
        assert [t.value for t in at.title][:1] == [title], page
