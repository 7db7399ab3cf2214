"""Tests for tbp_core.inspection.dump: tree, text, JSON, search and options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from tbp_core.building.convert import convert_image
from tbp_core.building.iods import new_series_context
from tbp_core.building.metadata import parse_template
from tbp_core.fileio import dicomio
from tbp_core.inspection import dump

ROOT = Path(__file__).resolve().parents[3]
PNG = ROOT / "tests" / "data" / "png" / "basn2c08.png"
TEMPLATE = ROOT / "sample_data" / "tbp_regional_template.json"
RTPLAN = ROOT / "tests" / "data" / "dicom" / "rtplan.dcm"
JPEG2000 = ROOT / "tests" / "data" / "dicom" / "JPEG2000.dcm"


@pytest.fixture(scope="module")
def produced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    metadata = parse_template(TEMPLATE.read_text(encoding="utf-8"))
    converted = convert_image(PNG.read_bytes(), PNG.name, metadata, new_series_context())
    path = tmp_path_factory.mktemp("dump") / "basn2c08.dcm"
    dicomio.write(converted.dataset, path)
    return path


@pytest.fixture(scope="module")
def tree(produced: Path) -> dump.DumpTree:
    return dump.build_tree(dicomio.read(produced))


def test_text_shows_sequences_items_and_private_names(tree: dump.DumpTree) -> None:
    text = dump.render_text(tree)
    assert text.index("# File meta") < text.index("# Dataset")
    assert "SQ (0008, 2218) AnatomicRegionSequence(1)" in text
    assert "\n1.1 -----------\n" in text
    assert "LO (0008, 0104)         CodeMeaning" in text  # indented one level
    assert "Skin of back" in text
    assert "Focal Length (pixels)" in text
    assert "Principal Point (x, y) in pixels" in text
    assert "VL Image Calibration Module" in text
    assert "UI (0002, 0010) TransferSyntaxUID" in text


def test_nested_items_are_numbered_hierarchically() -> None:
    text = dump.render_text(dump.build_tree(dicomio.read(JPEG2000)))
    assert "SQ (0008, 2112) SourceImageSequence(1)" in text
    assert "1.1.1 -----------" in text
    rtplan = dump.render_text(dump.build_tree(dicomio.read(RTPLAN)))
    assert "DoseReferenceSequence(2)" in rtplan
    assert "\n1.2 -----------\n" in rtplan


def test_json_shape(tree: dump.DumpTree) -> None:
    data = dump.to_json(tree)
    assert json.loads(json.dumps(data)) == data  # serialisable, nothing lost
    assert set(data) == {"file_meta", "dataset"}
    keys = {"tag", "vr", "keyword", "name", "vm", "value", "private_creator", "length"}
    for element in data["file_meta"] + data["dataset"]:
        extra = {"SQ": {"items"}, "UI": {"uid_name"}}.get(element["vr"], set())
        expected = keys | extra
        assert set(element) == expected
    by_tag = {element["tag"]: element for element in data["dataset"]}
    region = by_tag["(0008,2218)"]
    assert region["keyword"] == "AnatomicRegionSequence"
    assert len(region["items"]) == 1
    meaning = next(e for e in region["items"][0] if e["keyword"] == "CodeMeaning")
    assert meaning == {
        "tag": "(0008,0104)",
        "vr": "LO",
        "keyword": "CodeMeaning",
        "name": "Code Meaning",
        "vm": 1,
        "value": "Skin of back",
        "private_creator": None,
        "length": 12,
    }
    focal = by_tag["(0011,1010)"]
    assert focal["private_creator"] == "VL Image Calibration Module"
    assert focal["name"] == "Focal Length (pixels)"
    assert focal["keyword"] == "tbp:FocalLengthPx"
    assert by_tag["(0011,1011)"]["vm"] == 2
    assert by_tag["(0011,1011)"]["value"] == "285.2\\427"
    assert by_tag["(0010,0010)"]["value"] == "Doe^Jane"
    assert by_tag["(7FE0,0010)"]["value"] == "<OB, 3.1 kB>"


@pytest.mark.parametrize("query", ["(0008,0104)", "00080104", "0008,0104", "codemeaning"])
def test_search_by_tag_or_keyword_gives_sequence_path(tree: dump.DumpTree, query: str) -> None:
    hits = dump.search(tree, query)
    assert [hit.path_text for hit in hits] == ["AnatomicRegionSequence[0] > CodeMeaning"]
    assert hits[0].node.value_text == "Skin of back"
    assert hits[0].node.path == "AnatomicRegionSequence[0].CodeMeaning"
    assert hits[0].node.depth == 1


def test_search_by_value_and_private(tree: dump.DumpTree) -> None:
    assert [hit.path_text for hit in dump.search(tree, "skin of")] == [
        "AnatomicRegionSequence[0] > CodeMeaning"
    ]
    assert [hit.node.tag for hit in dump.search(tree, "tbp:focal")] == [0x00111010, 0x00111014]
    assert dump.search(tree, "no such thing anywhere") == []
    assert dump.search(tree, "  ") == []


def test_hide_private(produced: Path) -> None:
    hidden = dump.build_tree(dicomio.read(produced), include_private=False)
    tags = [node.tag for node in hidden[1]]
    assert not [tag for tag in tags if (tag >> 16) % 2]
    assert 0x00082218 in tags
    assert "Focal Length" not in dump.render_text(hidden)


def test_max_depth(produced: Path) -> None:
    top = dump.build_tree(dicomio.read(produced), max_depth=0)
    region = next(node for node in top[1] if node.keyword == "AnatomicRegionSequence")
    assert region.items == ()
    assert region.vm == 1
    assert dump.search(top, "CodeMeaning") == []
    full = dump.build_tree(dicomio.read(produced), max_depth=1)
    assert [hit.path_text for hit in dump.search(full, "CodeMeaning")] == [
        "AnatomicRegionSequence[0] > CodeMeaning"
    ]


def test_deferred_pixel_data_is_not_read(produced: Path) -> None:
    ds = dicomio.read(produced)
    tree = dump.build_tree(ds)
    assert "PixelData" in dump.render_text(tree) and "<OB, 3.1 kB>" in dump.render_text(tree)
    pixel_json = [e for e in dump.to_json(tree)["dataset"] if e["tag"] == "(7FE0,0010)"]
    assert [e["value"] for e in pixel_json] == ["<OB, 3.1 kB>"]
    stored = ds.get_item(0x7FE00010, keep_deferred=True)
    assert isinstance(stored, RawDataElement)
    assert stored.value is None
    pixel = next(node for node in tree[1] if node.keyword == "PixelData")
    assert pixel.value_text == "<OB, 3.1 kB>"
    assert pixel.length == 32 * 32 * 3


def test_encapsulated_pixel_data() -> None:
    tree = dump.build_tree(dicomio.read(JPEG2000))
    pixel = next(node for node in tree[1] if node.keyword == "PixelData")
    assert pixel.vr == "OB"
    assert pixel.value_text.startswith("<encapsulated, 1 fragment")


def test_long_values_are_shortened_with_length() -> None:
    ds = Dataset()
    ds.StudyDescription = "x" * 60
    ds.ImageComments = "y" * 200
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.add_new(0x00091010, "OB", b"\x00" * 12)
    ds.add_new(0x00090010, "LO", "SOME CREATOR")
    tree = dump.build_tree(ds)
    by_tag = {node.tag: node for node in tree[1]}
    assert tree[0] == ()
    assert by_tag[0x00081030].value_text == "x" * 60
    assert by_tag[0x00204000].value_text == "y" * 64 + "… (200 chars)"
    assert by_tag[0x00080008].value_text == "ORIGINAL\\PRIMARY"
    assert by_tag[0x00080008].vm == 2
    assert by_tag[0x00091010].value_text == "<OB, 12 bytes>"
    assert by_tag[0x00091010].private_creator == "SOME CREATOR"
    assert by_tag[0x00091010].name == "Private tag data"


def test_undecodable_value_does_not_raise() -> None:
    ds = Dataset()
    ds[0x00280010] = RawDataElement(0x00280010, "US", 3, b"\x01\x02\x03", 0, False, True)
    ds.Modality = "OT"
    nodes = dump.build_tree(ds)[1]
    rows = next(node for node in nodes if node.tag == 0x00280010)
    assert rows.value_text.startswith("<unreadable: Expected total bytes")
    assert "\n" not in rows.value_text
    assert "<unreadable: " in dump.render_text(((), nodes))


def test_empty_sequence_and_nested_paths() -> None:
    ds = Dataset()
    inner = Dataset()
    inner.CodeValue = "1"
    outer = Dataset()
    outer.ConceptNameCodeSequence = Sequence([inner])
    ds.ContentSequence = Sequence([outer, Dataset()])
    ds.ReferencedImageSequence = Sequence([])
    tree = dump.build_tree(ds)
    text = dump.render_text(tree)
    assert "ContentSequence(2)" in text
    assert "ReferencedImageSequence(0)" in text
    assert "        1.1.1 -----------" in text
    assert "\n1.2 -----------\n" in text
    hits = dump.search(tree, "CodeValue")
    assert [hit.path_text for hit in hits] == [
        "ContentSequence[0] > ConceptNameCodeSequence[0] > CodeValue"
    ]
    assert hits[0].node.depth == 2
