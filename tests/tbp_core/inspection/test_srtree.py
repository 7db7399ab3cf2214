"""SR content tree: pydicom's test-SR.dcm read as a tree of content items (issue 15, item 3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from tbp_core.cli import main
from tbp_core.fileio import dicomio
from tbp_core.inspection import srtree
from tbp_core.inspection.srtree import SRItem
from tests.conftest import DATA

TEST_SR = str(get_testdata_file("test-SR.dcm"))


@pytest.fixture(scope="module")
def root() -> SRItem:
    tree = srtree.build_sr_tree(dicomio.read(TEST_SR))
    assert tree is not None
    return tree


def _walk(node: SRItem) -> list[SRItem]:
    return [node, *(n for child in node.children for n in _walk(child))]


def test_root_is_the_documents_container(root: SRItem) -> None:
    assert (root.relationship, root.value_type) == ("", "CONTAINER")
    assert root.concept == "Diagnosis (TEST, 1111)"
    assert root.value == "SEPARATE"
    assert [c.relationship for c in root.children] == [
        "HAS OBS CONTEXT", "CONTAINS", "CONTAINS", "CONTAINS", "CONTAINS",
    ]  # fmt: skip
    assert [c.value_type for c in root.children] == [
        "UIDREF", "CONTAINER", "TEXT", "COMPOSITE", "IMAGE",
    ]  # fmt: skip
    assert len(_walk(root)) == 29  # the document and its 28 nested content items
    assert not [n.path for n in _walk(root) if n.damaged]


def test_values_of_each_value_type(root: SRItem) -> None:
    uid, paragraph, text, composite, image = root.children
    assert uid.concept == "Some UID (99_OFFIS_DCMTK, 1234.0)"
    assert uid.value == "1.2.3.4.5"
    assert paragraph.value == "CONTINUOUS"
    mass, diameter, detected, inner = paragraph.children
    assert (mass.value_type, mass.value) == ("TEXT", "A mass of")
    assert [(c.relationship, c.value) for c in mass.children] == [
        ("HAS CONCEPT MOD", "Sample Code 1 (99_OFFIS_DCMTK, 2222)"),
        ("HAS CONCEPT MOD", "Sample Code 2 (99_OFFIS_DCMTK, 2222)"),
    ]
    assert (diameter.value_type, diameter.concept) == ("NUM", "Diameter (99_OFFIS_DCMTK, 1234)")
    assert diameter.value == "3 cm"
    assert detected.value == "was detected."
    assert [c.value_type for c in inner.children] == ["TEXT", "NUM", "TEXT"]
    assert text.value == "Sample Text\rA\nB\r\nC\n\r"
    inferred, scoord, tcoord = text.children
    assert inferred.relationship == "INFERRED FROM"
    assert (scoord.relationship, scoord.value_type) == ("HAS PROPERTIES", "SCOORD")
    assert scoord.value == "CIRCLE [0, 0, 255, 255]"
    assert tcoord.value == "SEGMENT offsets (s) 1.000000\\2.500000"
    (by_reference,) = tcoord.children
    assert (by_reference.relationship, by_reference.value_type) == ("SELECTED FROM", "")
    assert by_reference.value == "see content item 1.3.2"
    assert composite.value == "Basic Text SR Storage 9.8.7.6"
    assert [(c.relationship, c.value_type, c.value) for c in composite.children] == [
        ("HAS ACQ CONTEXT", "DATE", "20001206"),
        ("HAS ACQ CONTEXT", "TIME", "120000"),
        ("HAS ACQ CONTEXT", "DATETIME", "20001206120000"),
    ]
    assert image.value == "CT Image Storage 1.2.3.4.5.0 frame 5, 2"
    key_image = image.children[1].children[0]
    assert (key_image.value_type, key_image.concept) == (
        "IMAGE",
        "Key Image (99_OFFIS_DCMTK, 1234)",
    )
    assert key_image.value == "MR Image Storage 1.2.3.4.0.1"
    assert image.children[1].children[1].value == "Hemodynamic Waveform Storage 1.2.3.4.5"


def test_text_is_indented_one_item_a_line(root: SRItem) -> None:
    lines = srtree.render_sr_text(root, title="test-SR.dcm").splitlines()
    assert lines[0] == "# SR content tree of test-SR.dcm"
    assert lines[1] == "CONTAINER Diagnosis (TEST, 1111) = SEPARATE"
    assert "    CONTAINS NUM Diameter (99_OFFIS_DCMTK, 1234) = 3 cm" in lines
    assert "  CONTAINS TEXT Code (99_OFFIS_DCMTK, 1234) = Sample Text A B C" in lines
    assert len(lines) == 30


def _sr(items: list[Dataset]) -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"
    ds.SOPInstanceUID = "1.2.3.4"
    ds.ValueType = "CONTAINER"
    ds.ContinuityOfContent = "SEPARATE"
    ds.ContentSequence = Sequence(items)
    return ds


def test_deferred_values_stay_unread_and_damage_is_shown(tmp_path: Path) -> None:
    long_text = Dataset()
    long_text.RelationshipType = "CONTAINS"
    long_text.ValueType = "TEXT"
    long_text.TextValue = "x" * 5000
    broken = Dataset()  # neither Relationship Type nor Value Type
    broken.TextValue = "orphan"
    document = _sr([long_text, broken])
    document.EncapsulatedDocument = b"%PDF" * 2000  # deferred by the reader
    target = tmp_path / "sr.dcm"
    dicomio.write(document, target)
    ds = dicomio.read(target)
    tree = srtree.build_sr_tree(ds)
    assert tree is not None
    first, second = tree.children
    assert first.value == "x" * 5000 and not first.damaged
    stored = ds.get_item("EncapsulatedDocument", keep_deferred=True)
    assert isinstance(stored, RawDataElement) and stored.value is None  # still unread
    assert "no Relationship Type" in second.damaged and "no Value Type" in second.damaged
    assert srtree.render_sr_text(tree).splitlines()[-1] == (
        "  (no value type)  [damaged: no Relationship Type; no Value Type]"
    )
    assert srtree.sr_tree_json(tree)["children"][1]["damaged"] == second.damaged


def test_an_image_is_not_an_sr_document() -> None:
    assert srtree.build_sr_tree(dicomio.read(DATA / "dicom" / "CT_small.dcm")) is None


def test_cli_sr_tree_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dump", TEST_SR, "--sr-tree"]) == 0
    text = capsys.readouterr().out
    assert "  CONTAINS IMAGE = CT Image Storage 1.2.3.4.5.0 frame 5, 2" in text.splitlines()
    assert main(["dump", TEST_SR, "--sr-tree", "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert set(payload) == {"relationship", "value_type", "concept", "value", "children"}
    assert payload["relationship"] is None
    diameter = payload["children"][1]["children"][1]
    assert diameter == {
        "relationship": "CONTAINS",
        "value_type": "NUM",
        "concept": "Diameter (99_OFFIS_DCMTK, 1234)",
        "value": "3 cm",
        "children": [
            {
                "relationship": "HAS CONCEPT MOD",
                "value_type": "CODE",
                "concept": "Code (99_OFFIS_DCMTK, 1234)",
                "value": "Sample Code (99_OFFIS_DCMTK, 2222)",
                "children": [],
            }
        ],
    }


def test_cli_sr_tree_of_an_image_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dump", str(DATA / "dicom" / "CT_small.dcm"), "--sr-tree"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not an SR document" in err[0]
