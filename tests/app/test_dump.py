"""The Dump page through AppTest: the dump, search with paths, private tags, download."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tbp_core.inspection import tags
from tbp_core.session import workspace
from tbp_core.session.workspace import Document
from tests.conftest import DATA, ROOT
from ui.layout import DUMP_PAGE
from ui.state import CURRENT, DOCUMENTS

CT_SMALL = DATA / "dicom" / "CT_small.dcm"


def _app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    return at


def _dump_page_with(name: str, data: bytes) -> AppTest:
    """The app with one uploaded file (through the Upload page), showing the Dump page."""
    at = _app()
    at.file_uploader(key="upload_files").set_value([(name, data, "application/dicom")]).run()
    assert not at.exception, at.exception
    at.switch_page(DUMP_PAGE).run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def ct() -> AppTest:
    return _dump_page_with("CT_small.dcm", CT_SMALL.read_bytes())


def _document(at: AppTest) -> Document:
    docs: list[Document] = at.session_state[DOCUMENTS]
    return next(doc for doc in docs if doc.id == at.session_state[CURRENT])


def _dump(at: AppTest) -> str:
    """The HTML of the dump itself (the last st.html on the page)."""
    blocks = [block.value for block in at.html if 'class="tbp-dump"' in block.value]
    assert len(blocks) == 1
    return blocks[0]


def _hits(at: AppTest) -> str:
    blocks = [block.value for block in at.html if 'class="tbp-hits"' in block.value]
    return blocks[0] if blocks else ""


def _search(at: AppTest, text: str) -> None:
    at.text_input(key="dump_search").set_value(text).run()
    assert not at.exception, at.exception


def test_without_a_document_the_page_points_to_upload() -> None:
    at = _app()
    at.switch_page(DUMP_PAGE).run()
    assert not at.exception
    assert at.title[0].value == "Dump"
    assert any("No document" in info.value for info in at.info)
    assert not at.html


def test_the_dump_shows_every_element_in_monospace_with_sequences(ct: AppTest) -> None:
    page = _dump(ct)
    assert "monospace" in page
    assert "# File meta" in page and "# Dataset" in page
    assert "CompressedSamples^CT1" in page
    assert '<span class="tag">(0010,0010)</span>' in page
    # a collapsible sequence titled Name(n) with numbered items
    assert "<details open><summary" in page
    assert "OtherPatientIDsSequence</span>" in page and '<span class="count">(2)</span>' in page
    assert "Item 2 of 2" in page
    assert "1234ABCD" in page
    # Pixel Data is summarised, never printed
    assert "&lt;OW, 32.8 kB&gt;" in page
    assert not ct.warning  # a sound file has no read warnings


def test_search_lists_hits_with_their_sequence_path(ct: AppTest) -> None:
    _search(ct, "PatientName")
    hits = _hits(ct)
    assert "<mark><b>PatientName</b></mark>" in hits
    assert "(0010,0010)" in hits and "CompressedSamples^CT1" in hits
    assert "1 match</b>" in hits
    _search(ct, "TypeOfPatientID")
    hits = _hits(ct)
    assert "<mark><b>OtherPatientIDsSequence[0] &gt; TypeOfPatientID</b></mark>" in hits
    assert "<mark><b>OtherPatientIDsSequence[1] &gt; TypeOfPatientID</b></mark>" in hits
    assert "2 matches</b>" in hits
    # the matching lines are highlighted in the dump, their sequences opened
    assert _dump(ct).count('class="ln hit"') == 2
    _search(ct, "(0010,0020)")
    assert _hits(ct).count("<mark>") == 3
    _search(ct, "no such element")
    assert _hits(ct) == ""
    assert any("Nothing in this dump matches" in info.value for info in ct.info)


def test_hide_private_tags(ct: AppTest) -> None:
    assert "GEMS_IDEN_01" in _dump(ct)
    assert "(0009,1001)" in _dump(ct)
    ct.checkbox(key="dump_hide_private").check().run()
    assert not ct.exception
    page = _dump(ct)
    assert "GEMS_IDEN_01" not in page and "(0009,1001)" not in page
    assert "CompressedSamples^CT1" in page
    _search(ct, "GEMS")
    assert _hits(ct) == ""
    ct.checkbox(key="dump_hide_private").uncheck().run()
    assert "GEMS_IDEN_01" in _hits(ct)


def test_depth_and_collapsed_sequences(ct: AppTest) -> None:
    ct.selectbox(key="dump_max_depth").set_value("Top level only").run()
    page = _dump(ct)
    assert "items below the chosen depth" in page and "1234ABCD" not in page
    ct.selectbox(key="dump_max_depth").set_value("All levels").run()
    ct.toggle(key="dump_expand_small").set_value(False).run()
    page = _dump(ct)
    assert "<details open" not in page and "1234ABCD" in page
    _search(ct, "1234ABCD")  # a hit opens the sequence and item holding it
    assert _dump(ct).count("<details open") == 1
    assert '<details class="item" open>' in _dump(ct)


def test_download_button(ct: AppTest) -> None:
    button = ct.download_button[0]
    assert button.label == "Download dump (.txt)"
    assert button.proto.url.endswith(".txt")


def test_values_are_escaped(ct: AppTest) -> None:
    result = workspace.apply_tag_edit(
        _document(ct), tags.SetValue("StudyDescription", "<b>bold</b> & <script>x</script>")
    )
    assert result.applied
    ct.run()
    _search(ct, "<script>")
    page = _dump(ct)
    assert "<script>" not in page and "<b>bold</b>" not in page
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;x&lt;/script&gt;" in page
    assert "&lt;script&gt;" in _hits(ct) and "<script>" not in _hits(ct)


def test_read_warnings_of_a_damaged_file_are_shown() -> None:
    data = CT_SMALL.read_bytes()
    at = _dump_page_with("cut.dcm", data[:1500])
    warnings = [warning.value for warning in at.warning]
    assert any("truncated" in text for text in warnings)
    assert "CompressedSamples^CT1" in _dump(at)


def test_sample_images_dump_and_their_private_block() -> None:
    at = _app()
    at.button(key="upload_samples").click().run()
    assert not at.exception
    at.switch_page(DUMP_PAGE).run()
    assert not at.exception
    page = _dump(at)
    assert "1.2.840.10008.5.1.4.1.1.77.1.4" in page  # VL Photographic Image Storage
    doc = _document(at)
    added = workspace.apply_tag_edit(
        doc, tags.AddElement("", "(0011,1001)", "LO", "calibrated", private_creator="ACME 1.0")
    )
    assert added.applied
    at.run()
    assert "ACME 1.0" in _dump(at) and "calibrated" in _dump(at)
    at.checkbox(key="dump_hide_private").check().run()
    assert "ACME 1.0" not in _dump(at) and "calibrated" not in _dump(at)
