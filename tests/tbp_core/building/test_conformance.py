"""The conformance statement lists exactly what a produced file holds (issue 15, item 6)."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
import pytest

from tbp_core.building import conformance
from tbp_core.building.conformance import ALWAYS, EXIF_WHEN
from tbp_core.building.iods import IODS
from tbp_core.building.iods.builder import DERMOSCOPIC_EQUIPMENT
from tbp_core.cli import main
from tbp_core.sources.exif import map_exif
from tbp_core.sources.images import load_image
from tbp_core.standard import private
from tbp_core.standard.formatting import tag_text
from tests.conftest import ROOT

SAMPLE = ROOT / "sample_data" / "regional_back.png"
TEMPLATE = ROOT / "sample_data" / "tbp_regional_template.json"


def _conditions(iod_keywords: frozenset[str]) -> frozenset[str]:
    """The conditions that hold for the sample, read from the source image (not the output)."""
    image = load_image(SAMPLE.read_bytes(), SAMPLE.name)
    held = {ALWAYS, "the anatomic region gives the laterality"}  # the template names the back
    held.add("a colour image" if image.samples_per_pixel == 3 else "a grey image")
    held.add("a JPEG (lossy) source" if image.lossy else "a lossless source")
    held.add("the source has an ICC profile" if image.icc_profile else "no ICC profile")
    exif = set(map_exif(image.exif).values) & iod_keywords
    return frozenset(held), frozenset(exif)


@pytest.mark.parametrize("name", list(IODS))
def test_statement_lists_exactly_the_attributes_of_a_produced_file(
    name: str, tmp_path: Path
) -> None:
    out = tmp_path / f"{name}.dcm"
    sets = [f"{k}=Probe {k}" for k in DERMOSCOPIC_EQUIPMENT] if name == "dermoscopic" else []
    args = ["convert", str(SAMPLE), "-o", str(out), "--iod", name, "--metadata", str(TEMPLATE)]
    for assignment in sets:
        args += ["--set", assignment]
    assert main(args) == 0
    ds = pydicom.dcmread(out)
    produced = {elem.keyword for elem in ds if elem.keyword}

    (statement,) = [i for i in conformance.conformance().iods if i.name == name]
    listed = {a.keyword for m in statement.modules for a in m.attributes}
    held, exif = _conditions(frozenset(listed))
    template = {k for k in json.loads(TEMPLATE.read_text()) if not k.startswith("tbp:")}
    expected = (
        statement.keywords(held)
        | {a.keyword for m in statement.modules for a in m.attributes if a.when == EXIF_WHEN} & exif
    )
    assert produced - template == expected - template
    assert template <= produced
    private_tags = {tag_text(int(elem.tag)) for elem in ds if elem.tag.is_private}
    block = conformance.conformance_json(conformance.conformance())["private_block"]
    tbp_keys = {k for k in json.loads(TEMPLATE.read_text()) if k.startswith("tbp:")}
    expected_private = {a["tag"] for a in block["attributes"] if a["key"] in tbp_keys}
    assert private_tags == expected_private | {f"({private.TBP_GROUP:04X},0010)"}
    assert block["creator"] == private.TBP_PRIVATE_CREATOR


def test_statement_names_sources_conditions_and_transfer_syntaxes() -> None:
    payload = conformance.conformance_json(conformance.conformance())
    assert [i["iod"] for i in payload["iods"]] == list(IODS)
    vl = payload["iods"][0]
    attributes = {a["keyword"]: a for m in vl["modules"] for a in m["attributes"]}
    assert attributes["PatientName"]["sources"] == ["default", "template"]
    assert attributes["Rows"] == {
        "keyword": "Rows", "tag": "(0028,0010)", "name": "Rows",
        "sources": ["derived"], "when": "always",
    }  # fmt: skip
    assert attributes["Manufacturer"]["sources"] == ["default", "EXIF", "template"]
    assert attributes["WindowCenter"]["when"] == "a grey image"
    assert attributes["LossyImageCompressionRatio"]["when"] == "a JPEG (lossy) source"
    assert attributes["FNumber"]["when"] == EXIF_WHEN
    assert attributes["AcquisitionDateTime"]["when"] == EXIF_WHEN  # converted by hand
    assert attributes["AcquisitionDateTime"]["sources"] == ["EXIF", "template"]
    assert attributes["ContentDate"]["sources"] == ["default", "EXIF", "template"]
    modules = [m["module"] for m in vl["modules"]]
    assert modules.index("patient") < modules.index("sop-common")
    assert {t["name"] for t in payload["transfer_syntaxes"]} >= {"explicit-le", "rle"}


def test_cli_conformance(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance"]) == 0
    text = capsys.readouterr().out
    assert "# Dermoscopic Photography Image (dermoscopic" in text
    assert "# Private block: creator 'VL Image Calibration Module' at (0011,0010)" in text
    assert main(["conformance", "--format", "json"]) == 0
    assert set(json.loads(capsys.readouterr().out)) == {
        "iods", "transfer_syntaxes", "private_block",
    }  # fmt: skip
