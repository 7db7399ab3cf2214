"""The Structure page's SR content tree (issue 15, item 3), through Streamlit's AppTest."""

from __future__ import annotations

from pathlib import Path

from pydicom.data import get_testdata_file
from streamlit.testing.v1 import AppTest

from tests.conftest import DATA, ROOT
from ui.layout import STRUCTURE_PAGE

TEST_SR = Path(str(get_testdata_file("test-SR.dcm")))


def _structure_of(path: Path) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    at.file_uploader(key="upload_files").set_value(
        [(path.name, path.read_bytes(), "application/dicom")]
    ).run()
    assert not at.exception, at.exception
    at.switch_page(STRUCTURE_PAGE).run()
    assert not at.exception, at.exception
    return at


def test_sr_document_shows_its_content_tree() -> None:
    at = _structure_of(TEST_SR)
    (tree,) = [e for e in at.expander if e.label == "SR content tree"]
    text = "\n".join(str(block.value) for block in tree.markdown)
    lines = text.splitlines()
    assert lines[0] == "- **CONTAINER** Diagnosis (TEST, 1111) = `SEPARATE`"
    assert "    - :gray[CONTAINS] **NUM** Diameter (99\\_OFFIS\\_DCMTK, 1234) = `3 cm`" in lines
    assert "      - :gray[SELECTED FROM] **by reference** = `see content item 1.3.2`" in lines
    assert len(lines) == 29


def test_an_image_has_no_sr_tree() -> None:
    at = _structure_of(DATA / "dicom" / "CT_small.dcm")
    assert not [e for e in at.expander if e.label == "SR content tree"]
