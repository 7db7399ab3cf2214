"""The structure tree of a dataset and the glossary."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydicom.datadict import private_dictionary_description
from pydicom.dataset import Dataset
from pydicom.uid import UID

from tbp_core import standard
from tbp_core.building.convert import convert_image
from tbp_core.building.iods import new_series_context
from tbp_core.building.metadata import parse_template
from tbp_core.fileio import dicomio
from tbp_core.inspection import explain
from tbp_core.standard import glossary, private

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "tests" / "data"
PNG = DATA / "png" / "basn2c08.png"
TEMPLATE = ROOT / "sample_data" / "tbp_regional_template.json"
CORPUS = ROOT.parent / "shared" / "corpus" / "dicom"
URL = re.compile(r"^https://dicom\.innolitics\.com/ciods/[a-z0-9-]+/[a-z0-9-]+(/[0-9a-f]{8})?$")


@pytest.fixture()
def produced() -> Dataset:
    metadata = parse_template(TEMPLATE.read_text(encoding="utf-8"))
    converted = convert_image(PNG.read_bytes(), PNG.name, metadata, new_series_context())
    return dicomio.read(dicomio.to_bytes(converted.dataset))


def _attributes(tree: explain.StructureTree) -> dict[str, explain.AttributeNode]:
    return {a.keyword: a for ie in tree.ies for module in ie.modules for a in module.attributes}


def test_produced_file_is_complete(produced: Dataset) -> None:
    tree = explain.build_structure(produced)
    assert tree.iod == "vl-photographic-image"
    modules = [m for ie in tree.ies for m in ie.modules]
    assert {ie.name for ie in tree.ies} >= {"Patient", "Study", "Series", "Image"}
    for module in modules:
        if module.usage == "M":
            required = any(a.type in ("1", "2") for a in module.attributes)
            assert module.present or not required, module.key
            for attribute in module.attributes:
                if attribute.type in ("1", "2"):
                    assert attribute.status in ("present", "empty"), attribute.keyword
                if attribute.type == "1":
                    assert attribute.status == "present", attribute.keyword
    assert all(int(a.tag[1:5], 16) % 2 == 1 for a in tree.foreign)  # only private tags


def test_statuses_follow_edits(produced: Dataset) -> None:
    del produced.Modality
    produced.PatientName = ""
    produced.add_new(0x00540081, "US", 1)  # Number of Slices: NM/PET only
    attributes = _attributes(explain.build_structure(produced))
    assert attributes["Modality"].status == "missing"
    assert attributes["PatientName"].status == "empty"
    assert attributes["SOPInstanceUID"].status == "present"
    absent_optional = [a for a in attributes.values() if a.type == "3" and a.status != "present"]
    assert absent_optional and all(a.status in ("not-applicable", "empty") for a in absent_optional)
    foreign = explain.build_structure(produced).foreign
    assert "NumberOfSlices" in [a.keyword for a in foreign]


def test_urls_well_formed(produced: Dataset) -> None:
    tree = explain.build_structure(produced)
    for ie in tree.ies:
        for module in ie.modules:
            assert URL.match(module.url), module.url
            for attribute in module.attributes:
                assert URL.match(attribute.url), attribute.url
                assert attribute.url.startswith(module.url + "/")
    patient = _attributes(tree)["PatientName"]
    assert (
        patient.url == "https://dicom.innolitics.com/ciods/vl-photographic-image/patient/00100010"
    )


def test_unknown_sop_class_lists_everything_as_foreign() -> None:
    ds = Dataset()
    ds.PatientName = "Doe^Jane"
    tree = explain.build_structure(ds)
    assert tree.iod is None and tree.ies == ()
    assert [a.keyword for a in tree.foreign] == ["PatientName"]


def test_glossary_is_the_standard_glossary() -> None:
    assert explain.GLOSSARY is glossary.GLOSSARY
    for term in ("IOD", "IE", "Module", "Attribute", "VR", "VM", "Type", "UID", "SOP Class"):
        assert term in explain.GLOSSARY


def _foreign(tree: explain.StructureTree) -> dict[str, explain.AttributeNode]:
    return {a.tag: a for a in tree.foreign}


def test_values_stand_next_to_attributes(produced: Dataset) -> None:
    produced.ImageComments = "x" * 150 + "end"
    attributes = _attributes(explain.build_structure(produced))
    assert attributes["PatientName"].value == str(produced.PatientName)
    assert attributes["Rows"].value == str(produced.Rows)
    assert attributes["AnatomicRegionSequence"].value == "1 item"
    comments = attributes["ImageComments"]
    assert comments.value.endswith("… (153 chars)") and len(comments.value) < 153
    assert comments.full_value == "x" * 150 + "end"
    assert attributes["PatientID"].full_value == ""  # shown whole


def test_uids_are_named(produced: Dataset) -> None:
    tree = explain.build_structure(produced)
    attributes = _attributes(tree)
    expected = UID(produced.SOPClassUID).name
    assert expected == "VL Photographic Image Storage"
    assert attributes["SOPClassUID"].uid_name == expected
    assert tree.sop_class_name == expected
    assert attributes["SOPInstanceUID"].uid_name == ""  # a fresh UID has no name
    text = explain.render_text(tree, "x.dcm")
    assert "(SOP Class 1.2.840.10008.5.1.4.1.1.77.1.4, VL Photographic Image Storage)" in text
    assert f"SOPClassUID (present) = {produced.SOPClassUID} ({expected})" in text
    doc = explain.structure_json(tree, "x.dcm")
    sop = next(a for m in doc["modules"] for a in m["attributes"] if a["keyword"] == "SOPClassUID")
    assert sop["uid_name"] == expected


def test_the_tbp_private_block_is_named_by_its_creator(produced: Dataset) -> None:
    tree = explain.build_structure(produced)
    foreign = _foreign(tree)
    creator = foreign["(0011,0010)"]
    assert creator.value == private.TBP_PRIVATE_CREATOR
    assert explain.display_name(creator) == "Private Creator of block (0011,10xx)"
    focal = foreign["(0011,1010)"]
    assert focal.keyword == "tbp:FocalLengthPx"
    assert focal.private_creator == private.TBP_PRIVATE_CREATOR
    assert focal.name == private.tbp_attribute("tbp:FocalLengthPx").name
    assert explain.display_name(focal) == (
        f"{focal.name} [creator '{private.TBP_PRIVATE_CREATOR}']"
    )
    assert f"= {focal.value}  {explain.display_name(focal)}" in explain.render_text(tree, "x")
    outside = {a["tag"]: a for a in explain.structure_json(tree, "x")["outside_iod"]}
    assert outside["(0011,1010)"]["private_creator"] == private.TBP_PRIVATE_CREATOR
    assert outside["(0011,1010)"]["name"] == explain.display_name(focal)
    assert outside["(0011,0010)"]["private_creator"] is None


def test_a_vendor_block_is_named_from_pydicoms_private_dictionary() -> None:
    ds = dicomio.read(DATA / "dicom" / "CT_small.dcm")
    tree = explain.build_structure(ds)
    assert tree.sop_class_name == "CT Image Storage"
    foreign = _foreign(tree)
    for tag in (0x00091001, 0x00431028, 0x00191002):
        creator = str(ds[(tag >> 16, (tag & 0xFFFF) >> 8)].value)
        node = foreign[f"({tag >> 16:04X},{tag & 0xFFFF:04X})"]
        assert node.private_creator == creator
        assert node.name == private_dictionary_description(tag, creator)
        assert explain.display_name(node) == f"{node.name} [creator '{creator}']"
    assert explain.display_name(foreign["(0009,1001)"]) == "Full fidelity [creator 'GEMS_IDEN_01']"


def test_a_private_element_without_creator_says_so() -> None:
    ds = Dataset()
    ds.add_new(0x00131010, "LO", "orphan")
    ds.PatientName = "Doe^Jane"
    (orphan,) = [a for a in explain.build_structure(ds).foreign if a.tag == "(0013,1010)"]
    assert orphan.private_creator is None and orphan.value == "orphan"
    assert explain.display_name(orphan).endswith("[no private creator]")
    assert explain.display_name(_foreign(explain.build_structure(ds))["(0010,0010)"]) == (
        "Patient's Name"
    )


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")
def test_corpus_structure_never_crashes() -> None:
    built = with_iod = 0
    refused: list[str] = []
    for path in sorted(p for p in CORPUS.iterdir() if p.is_file()):
        try:
            ds = dicomio.read(path)
        except dicomio.DicomReadError:
            refused.append(path.name)
            continue
        tree = explain.build_structure(ds)
        built += 1
        sop_class = str(ds.get("SOPClassUID", "") or "").strip()
        assert tree.sop_class_uid == sop_class, path.name
        assert tree.iod == (standard.iod_for_sop_class(sop_class) if sop_class else None)
        with_iod += tree.iod is not None
        assert bool(tree.ies) == (tree.iod is not None), path.name
        top = {f"({t >> 16:04X},{t & 0xFFFF:04X})" for t in ds.keys()}  # noqa: SIM118
        assert {a.tag for a in tree.foreign} <= top, path.name
    print(f"structure built for {built} corpus files")
    assert refused == ["SOURCES.md"]
    assert built >= 130 and with_iod >= 100, (built, with_iod)
