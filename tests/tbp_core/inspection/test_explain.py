"""The structure tree of a dataset and the glossary."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydicom.dataset import Dataset

from tbp_core import standard
from tbp_core.building.convert import convert_image
from tbp_core.building.iods import new_series_context
from tbp_core.building.metadata import parse_template
from tbp_core.fileio import dicomio
from tbp_core.inspection import explain

ROOT = Path(__file__).resolve().parents[3]
PNG = ROOT / "tests" / "data" / "png" / "basn2c08.png"
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


def test_glossary_keys() -> None:
    expected = {"IOD", "IE", "Module", "Attribute", "VR", "VM", "Type", "UID"}
    assert expected | {"private tag", "transfer syntax"} == set(explain.GLOSSARY)
    assert all(text.count(".") >= 2 for text in explain.GLOSSARY.values())


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
