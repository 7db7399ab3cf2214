"""The Structure page through Streamlit's AppTest: IOD → IE → Module → Attribute with badges."""

from __future__ import annotations

from pydicom.datadict import private_dictionary_description
from pydicom.uid import UID
from streamlit.testing.v1 import AppTest

from tbp_core.building.convert import convert_image
from tbp_core.building.iods import new_series_context
from tbp_core.building.metadata import parse_template
from tbp_core.fileio import dicomio
from tbp_core.inspection import tags
from tbp_core.inspection.explain import BROWSER, GLOSSARY
from tbp_core.session import workspace
from tbp_core.session.workspace import Document
from tbp_core.standard import private
from tests.app.shown import shown
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
    assert "| `PatientName` | (0010,0010) | 2 | PN | 1 |  |" in text  # empty: no value
    assert at.get("link_button")[0].proto.url == f"{BROWSER}/vl-photographic-image"


def test_ct_small_with_foreign_attributes_and_a_missing_one() -> None:
    at = _structure_page_with_ct()
    assert at.subheader[0].value == "CT Image"
    text = _markdown(at)
    assert ":green-badge[present" in text and ":blue-badge[outside the IOD: 180]" in text
    foreign = _expander(at, "180 attributes belong to no module")
    assert foreign
    row = "| :green-badge[present] | Full fidelity [creator 'GEMS_IDEN_01'] |  | (0009,1001) | LO |"
    assert f"{row} GE_GENESIS_FF |" in shown(text)
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


def test_values_and_uid_names_stand_next_to_attributes() -> None:
    at = _structure_page_with_ct()
    text = shown(_markdown(at))
    assert "| `PatientName` | (0010,0010) | 2 | PN | 1 | CompressedSamples^CT1 |" in text
    sop_class = "1.2.840.10008.5.1.4.1.1.2"
    name = UID(sop_class).name
    assert name == "CT Image Storage"
    assert f"| `SOPClassUID` | (0008,0016) | 1 | UI | 1 | {sop_class} *{name}* |" in text
    assert at.caption[1].value.endswith(f"{sop_class} — {name}")


def test_a_long_value_is_shortened_and_shown_in_full_on_request() -> None:
    at = _structure_page_with_ct()
    comment = "A long comment. " * 12
    result = workspace.apply_tag_edit(_document(at), tags.SetValue("ImageComments", comment))
    assert result.applied
    at.run()
    assert not at.exception, at.exception
    row = next(line for line in shown(_markdown(at)).splitlines() if "`ImageComments`" in line)
    assert f"… ({len(comment.rstrip())} chars) |" in row and comment.rstrip() not in row
    picker = next(s for s in at.selectbox if s.label == "Show a long value in full")
    assert picker.options == ["ImageComments"]
    picker.select("ImageComments").run()
    assert not at.exception, at.exception
    assert [c.value for c in at.code] == [comment.rstrip()]


def test_private_elements_are_named_by_their_creator() -> None:
    at = _structure_page_with_ct()
    text = shown(_markdown(at))
    creator = "GEMS_ACQU_01"
    described = private_dictionary_description(0x00191002, creator)
    assert f"| {described} [creator '{creator}'] |  | (0019,1002) | SL |" in text
    assert "| Private Creator of block (0019,10xx) |  | (0019,0010) | LO | GEMS_ACQU_01 |" in text


def test_the_tbp_private_block_of_a_converted_image() -> None:
    png = DATA / "png" / "basn2c08.png"
    template = ROOT / "sample_data" / "tbp_regional_template.json"
    metadata = parse_template(template.read_text(encoding="utf-8"))
    converted = convert_image(png.read_bytes(), png.name, metadata, new_series_context())
    at = _app()
    at.file_uploader(key="upload_files").set_value(
        [("tbp.dcm", dicomio.to_bytes(converted.dataset), "application/dicom")]
    ).run()
    at.switch_page(STRUCTURE_PAGE).run()
    assert not at.exception, at.exception
    text = shown(_markdown(at))
    focal = private.tbp_attribute("tbp:FocalLengthPx")
    creator = private.TBP_PRIVATE_CREATOR
    assert (
        f"| {focal.name} [creator '{creator}'] | `tbp:FocalLengthPx` | (0011,1010) | DS |" in text
    )
    assert f"| Private Creator of block (0011,10xx) |  | (0011,0010) | LO | {creator} |" in text
    assert any("named by the private creator" in c.value for c in at.caption)
