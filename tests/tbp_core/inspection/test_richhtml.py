"""Tests for tbp_core.inspection.richhtml: each result's _repr_html_ and its escaping."""

from __future__ import annotations

import copy
import html
from html.parser import HTMLParser
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset

from tbp_core.building.conformance import conformance
from tbp_core.building.convert import convert_image
from tbp_core.building.iods import new_series_context
from tbp_core.building.metadata import parse_template
from tbp_core.fileio import dicomio
from tbp_core.inspection import dump, explain, richhtml, srtree
from tbp_core.inspection.index import index_datasets, index_paths
from tbp_core.validation.validate import validate

ROOT = Path(__file__).resolve().parents[3]
PNG = ROOT / "tests" / "data" / "png" / "basn2c08.png"
TEMPLATE = ROOT / "sample_data" / "tbp_regional_template.json"
SCRIPT = "<script>alert(1)</script>"
ESCAPED = html.escape(SCRIPT)


class _Markup(HTMLParser):
    """The element names and the text of an HTML fragment, as a browser parses them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(markup: str) -> _Markup:
    parser = _Markup()
    parser.feed(markup)
    parser.close()
    return parser


def _assert_safe(markup: str) -> None:
    """The hostile value is shown as text and never becomes a script element."""
    parsed = _parse(markup)
    assert "script" not in parsed.tags
    assert SCRIPT in "".join(parsed.text)
    assert SCRIPT not in markup and ESCAPED in markup


@pytest.fixture(scope="module")
def hostile() -> Dataset:
    """A produced VL Photographic image whose Patient's Name is markup."""
    metadata = parse_template(TEMPLATE.read_text(encoding="utf-8"))
    ds = convert_image(PNG.read_bytes(), PNG.name, metadata, new_series_context()).dataset
    ds.PatientName = SCRIPT
    return ds


def test_dump_tree_shows_elements_items_uid_names_and_escapes(hostile: Dataset) -> None:
    tree = dump.build_tree(hostile)
    markup = tree._repr_html_()
    assert "PatientName" in markup and "AnatomicRegionSequence" in markup
    assert "item 1" in markup and "Skin of back" in markup  # the sequence's item, nested
    assert "VL Photographic Image Storage" in markup  # the SOP Class UID's name
    assert "Focal Length (pixels)" in markup  # a private element named through its creator
    _assert_safe(markup)
    assert tree.dataset == tree[1]  # still the (file meta, dataset) pair callers unpack
    node = next(n for n in tree.dataset if n.keyword == "PatientName")
    _assert_safe(node._repr_html_())


def test_structure_shows_ies_modules_statuses_and_escapes(hostile: Dataset) -> None:
    broken = copy.deepcopy(hostile)
    del broken.Modality
    tree = explain.build_structure(broken)
    markup = tree._repr_html_()
    assert "IOD: VL Photographic Image" in markup
    assert "Series (Information Entity)" in markup and "General Series" in markup
    modality = next(
        a for ie in tree.ies for m in ie.modules for a in m.attributes if a.keyword == "Modality"
    )
    assert modality.status == explain.MISSING
    row = modality._repr_html_()
    assert "missing" in row and richhtml.STATUS_COLOURS["missing"] in row
    series = next(m for ie in tree.ies for m in ie.modules if m.key == "general-series")
    assert "<details" in series._repr_html_() and " open=" in series._repr_html_()  # opened
    patient = next(m for ie in tree.ies for m in ie.modules if m.key == "patient")
    assert " open=" not in patient._repr_html_()  # nothing missing: closed
    assert richhtml.STATUS_COLOURS["present"] in markup
    assert "PatientName" in markup
    _assert_safe(markup)
    assert tree.ies[0]._repr_html_().count("<details") == len(tree.ies[0].modules)


def test_validation_report_lists_findings_by_module_and_escapes(hostile: Dataset) -> None:
    broken = copy.deepcopy(hostile)
    del broken.Modality
    broken.PatientSex = "X"
    report = validate(broken)
    markup = report._repr_html_()
    assert "not valid" in markup and "2 errors" in markup
    for finding in report.errors:
        assert html.escape(finding.message) in markup
        assert html.escape(finding.message) in finding._repr_html_()
    assert "General Series" in markup and "Patient" in markup
    assert richhtml.SEVERITY_COLOURS["error"] in markup
    assert "valid" in validate(hostile)._repr_html_()
    assert "not valid" not in validate(hostile)._repr_html_()
    # A finding that quotes a hostile value shows it as text.
    bad_value = copy.deepcopy(hostile)
    with pytest.warns(UserWarning, match="VR CS"):  # pydicom's own check, as it is set
        bad_value.PatientSex = "<b>"
    quoted = validate(bad_value)._repr_html_()
    assert "<b>" not in _parse(quoted).tags and "&lt;b&gt;" in quoted


def test_index_rows_and_index_escape_values_and_file_names(
    hostile: Dataset, tmp_path: Path
) -> None:
    rows = index_datasets([("<i>name</i>.dcm", hostile)])
    markup = rows[0]._repr_html_()
    assert "PatientID" in markup and "TBP-0001" in markup
    assert "absent" in markup  # SeriesDescription is not in the file
    assert "&lt;i&gt;name&lt;/i&gt;.dcm" in markup and "i" not in _parse(markup).tags
    _assert_safe(markup)
    dicomio.write(hostile, tmp_path / "image.dcm")
    (tmp_path / "notes.txt").write_text("not DICOM")
    index = index_paths([tmp_path])
    listing = index._repr_html_()
    assert "1 instance, 1 unreadable" in listing
    assert "notes.txt" in listing and "image.dcm" in listing
    _assert_safe(listing)


def test_sr_tree_shows_relationships_types_concepts_values() -> None:
    root = srtree.build_sr_tree(dicomio.read(get_testdata_file("test-SR.dcm")))
    assert root is not None
    markup = root._repr_html_()
    assert "CONTAINER" in markup and "HAS OBS CONTEXT" in markup and "NUM" in markup
    assert "Diameter" in markup and "3 cm" in markup
    items = _parse(markup).tags.count("li")
    assert items == _count_items(root)
    # A damaged item's reason is escaped like any value.
    damaged = srtree.SRItem("CONTAINS", "TEXT", "", SCRIPT, (), "x", damaged=SCRIPT)
    _assert_safe(damaged._repr_html_())


def _count_items(node: srtree.SRItem) -> int:
    return 1 + sum(_count_items(child) for child in node.children)


def test_conformance_lists_iods_modules_attributes_syntaxes_private_block() -> None:
    statement = conformance()
    markup = statement._repr_html_()
    for iod in statement.iods:
        assert html.escape(iod.title) in markup
        assert iod._repr_html_().count("<table") == len(iod.modules)
    assert "PatientName" in markup and "Transfer syntaxes" in markup
    assert "tbp:FocalLengthPx" in markup and "(0011,1010)" in markup
    module = statement.iods[0].modules[0]
    assert all(a.keyword in module._repr_html_() for a in module.attributes)


def test_markup_is_only_made_from_escaped_text() -> None:
    cell = richhtml._element("td", SCRIPT, title='"><script>', style="color: red")
    assert "<script" not in cell
    assert richhtml._element("td", richhtml.Html("<b>kept</b>")) == "<td><b>kept</b></td>"
