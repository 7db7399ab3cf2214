"""The Structure page through Streamlit's AppTest: IOD → IE → Module → Attribute with badges."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tbp_core.inspection import tags
from tbp_core.inspection.explain import BROWSER, GLOSSARY
from tbp_core.session import workspace
from tbp_core.session.workspace import Document
from tests.conftest import DATA, ROOT
from ui.layout import STRUCTURE_PAGE
from ui.state import CURRENT, DOCUMENTS

CT_SMALL = DATA / "dicom" / "CT_small.dcm"


def _app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    return at


def _structure_page_with_ct() -> AppTest:
    at = _app()
    at.file_uploader(key="upload_files").set_value(
        [("CT_small.dcm", CT_SMALL.read_bytes(), "application/dicom")]
    ).run()
    assert not at.exception, at.exception
    at.switch_page(STRUCTURE_PAGE).run()
    assert not at.exception, at.exception
    return at


def _document(at: AppTest) -> Document:
    docs: list[Document] = at.session_state[DOCUMENTS]
    return next(doc for doc in docs if doc.id == at.session_state[CURRENT])


def _markdown(at: AppTest) -> str:
    return "\n".join(str(block.value) for block in at.markdown)


def _expander(at: AppTest, starts: str) -> str:
    labels = [e.label for e in at.expander if e.label.startswith(starts)]
    assert labels, [e.label for e in at.expander]
    return labels[0]


def test_without_a_document_the_glossary_is_still_there() -> None:
    at = _app()
    at.switch_page(STRUCTURE_PAGE).run()
    assert not at.exception
    assert at.title[0].value == "Structure"
    assert any("No document" in info.value for info in at.info)
    glossary = [e for e in at.sidebar.expander if e.label == "Glossary"]
    assert len(glossary) == 1
    text = "\n".join(block.value for block in glossary[0].markdown)
    assert all(f"**{term}**" in text for term in GLOSSARY)


def test_a_produced_vl_photographic_image() -> None:
    at = _app()
    at.button(key="upload_samples").click().run()
    assert not at.exception
    at.switch_page(STRUCTURE_PAGE).run()
    assert not at.exception
    assert at.subheader[0].value == "VL Photographic Image"
    assert "1.2.840.10008.5.1.4.1.1.77.1.4" in at.caption[1].value
    text = _markdown(at)
    for badge in (":green-badge[present", ":orange-badge[empty", ":red-badge[missing: 0]"):
        assert badge in text
    assert ":gray-badge[not applicable" in text
    for ie in ("Patient", "Study", "Series", "Equipment", "Image"):
        assert f"#### {ie}" in text
    # modules as expanders: usage, status counts; nothing missing in a produced image
    assert "mandatory" in _expander(at, "**Patient**")
    assert "not in this file" in _expander(at, "**Clinical Trial Subject**")
    assert "**VL Image**" in [e.label.split(" · ")[0] for e in at.expander]
    assert not any("missing" in e.label for e in at.expander)
    # attribute rows: status badge, linked name, tag, Type
    assert "| :orange-badge[empty] | [Patient's Name](" in text
    assert f"]({BROWSER}/vl-photographic-image/patient/00100010)" in text
    assert "| `PatientName` | (0010,0010) | 2 | PN | 1 |" in text
    assert at.get("link_button")[0].proto.url == f"{BROWSER}/vl-photographic-image"


def test_ct_small_with_foreign_attributes_and_a_missing_one() -> None:
    at = _structure_page_with_ct()
    assert at.subheader[0].value == "CT Image"
    text = _markdown(at)
    assert ":green-badge[present" in text and ":blue-badge[outside the IOD: 180]" in text
    foreign = _expander(at, "180 attributes belong to no module")
    assert foreign
    assert "| :green-badge[present] | Full fidelity |  | (0009,1001) | LO |" in text
    # delete a Type 2 attribute of a mandatory module: it is missing, its module stands out
    result = workspace.apply_tag_edit(_document(at), tags.DeleteElement("PatientName"))
    assert result.applied
    at.run()
    assert not at.exception
    label = _expander(at, "**Patient**")
    assert ":red[**1 missing**]" in label
    text = _markdown(at)
    assert ":red-badge[missing: 1]" in text
    assert "| :red-badge[missing] | [Patient's Name](" in text


def test_absent_optional_attributes_on_request() -> None:
    at = _structure_page_with_ct()
    hidden = _markdown(at)
    assert "[Issuer of Patient ID](" not in hidden
    assert any("absent are hidden" in caption.value for caption in at.caption)
    at.toggle(key="structure_show_all").set_value(True).run()
    assert not at.exception
    shown = _markdown(at)
    assert "| :gray-badge[not applicable] | [Issuer of Patient ID](" in shown


def test_a_file_whose_sop_class_is_unknown() -> None:
    at = _structure_page_with_ct()
    result = workspace.apply_tag_edit(_document(at), tags.SetValue("SOPClassUID", "1.2.3.4"))
    assert result.applied
    at.run()
    assert not at.exception
    assert at.subheader[0].value == "Unknown IOD"
    assert any("1.2.3.4" in warning.value for warning in at.warning)
    assert "attributes belong to no module" in _expander(at, "2")
