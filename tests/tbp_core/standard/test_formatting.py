"""How the standard's names, tags, sizes and ranks are written for people."""

from __future__ import annotations

import json
import re

import pytest
from pydicom.tag import Tag

from tbp_core import standard
from tbp_core.standard.formatting import (
    SEVERITIES,
    TYPES,
    severity_rank,
    size_text,
    tag_text,
    title_of,
    type_rank,
    usage_text,
)
from tbp_core.validation.findings import Finding, sorted_findings
from tbp_core.validation.findings import tag_text as findings_tag_text

#: Words the standard never writes as in a key or in a plain capitalised form.
_WRONG_WORDS = re.compile(r"\b(OF|AND|FOR|THE|Of|And|For|The|In|To|Cr|Ct|Mr|Vl|Sop|Voi|Lut|Icc)\b")


def _table(name: str) -> dict[str, object]:
    table: dict[str, object] = json.loads((standard.table_folder() / name).read_text("utf-8"))
    return table


def _all_keys() -> list[str]:
    modules = _table("module_attribute_map.json")
    iods = _table("iod_module_map.json")
    return sorted(set(modules) | set(iods))


def _key_of(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def test_every_key_of_the_tables_has_a_title_with_every_word() -> None:
    keys = _all_keys()
    assert len(keys) > 500
    for key in keys:
        title = title_of(key)
        assert title, key
        # Nothing dropped or invented: the title spells the key's words.
        assert _key_of(title) == re.sub(r"-+", "-", key), (key, title)
        assert not _WRONG_WORDS.search(title.split(" ", 1)[-1] if " " in title else ""), title
        assert title[0].isupper() or title[0].isdigit(), title


def test_every_module_and_ie_of_every_iod() -> None:
    iods = _table("iod_module_map.json")
    seen_ies = set()
    for iod in iods:
        assert not _WRONG_WORDS.search(title_of(iod)), iod
        for module in standard.modules_of_iod(iod):
            title = title_of(module.key)
            assert "OF" not in title.split() and not title.startswith("Cr "), title
            seen_ies.add(module.information_entity)
    # An IE's key gives back the IE name exactly as the tables write it.
    assert {"Frame of Reference", "Equipment", "Patient", "Study", "Series", "Image"} <= seen_ies
    for entity in seen_ies:
        assert title_of(_key_of(entity)) == entity


@pytest.mark.parametrize(
    ("key", "title"),
    [
        ("frame-of-reference", "Frame of Reference"),
        ("cr-image", "CR Image"),
        ("vl-photographic-acquisition", "VL Photographic Acquisition"),
        ("vl-photographic-equipment", "VL Photographic Equipment"),
        ("sop-common", "SOP Common"),
        ("general-equipment", "General Equipment"),
        ("voi-lut", "VOI LUT"),
        ("icc-profile", "ICC Profile"),
        ("pet-image", "PET Image"),
        ("us-region-calibration", "US Region Calibration"),
        ("xa-xrf-acquisition", "XA/XRF Acquisition"),
        ("sc-equipment", "SC Equipment"),
        ("dx-anatomy-imaged", "DX Anatomy Imaged"),
        ("rt-dose", "RT Dose"),
        ("sr-document-general", "SR Document General"),
        ("digital-x-ray-image", "Digital X-Ray Image"),
        ("multi-frame", "Multi-frame"),
        ("multi-resolution-pyramid", "Multi-Resolution Pyramid"),
        ("file-set-identification", "File-set Identification"),
        ("image---equipment-coordinate-relationship", "Image - Equipment Coordinate Relationship"),
        ("ophthalmic-photography-8-bit-image", "Ophthalmic Photography 8 Bit Image"),
        ("12-lead-ecg", "12-lead ECG"),
        ("macular-grid-thickness-and-volume-report", "Macular Grid Thickness and Volume Report"),
        ("dermoscopic-photography-image", "Dermoscopic Photography Image"),
        (
            "multi-frame-true-color-secondary-capture-image",
            "Multi-frame True Color Secondary Capture Image",
        ),
    ],
)
def test_known_titles(key: str, title: str) -> None:
    assert title_of(key) == title


def test_empty_key_has_empty_title() -> None:
    assert title_of("") == ""


def test_tag_text() -> None:
    assert tag_text(0x00100010) == "(0010,0010)"
    assert tag_text(Tag(0x7FE0, 0x0010)) == "(7FE0,0010)"
    assert tag_text(0x0029100A) == "(0029,100A)"
    assert tag_text(0xFFFEE000) == "(FFFE,E000)"
    assert findings_tag_text is tag_text  # the validator writes tags the same way


def test_size_text() -> None:
    assert size_text(0) == "0 bytes"
    assert size_text(1) == "1 byte"
    assert size_text(12) == "12 bytes"
    assert size_text(999) == "999 bytes"
    assert size_text(1000) == "1.0 kB"
    assert size_text(3_100) == "3.1 kB"
    assert size_text(151_000_000) == "151.0 MB"
    assert size_text(2_500_000_000) == "2.5 GB"


def test_severity_rank_orders_error_warning_info() -> None:
    assert [severity_rank(s) for s in ("info", "error", "warning")] == [2, 0, 1]
    assert sorted(["info", "warning", "error"], key=severity_rank) == list(SEVERITIES)
    assert severity_rank("unknown") > severity_rank("info")
    found = [Finding("info", "a", "m"), Finding("error", "b", "m"), Finding("warning", "c", "m")]
    assert [f.severity for f in sorted_findings(found)] == ["error", "warning", "info"]


def test_type_rank_orders_types() -> None:
    assert sorted(["3", "2C", "1C", "2", "1"], key=type_rank) == list(TYPES)
    assert type_rank("1") < type_rank("2") < type_rank("1C") < type_rank("2C") < type_rank("3")
    assert type_rank("") > type_rank("3")


def test_usage_text_covers_every_usage_in_the_tables() -> None:
    usages = {
        m.usage for iod in _table("iod_module_map.json") for m in standard.modules_of_iod(iod)
    }
    assert usages == {"M", "C", "U"}
    assert [usage_text(u) for u in ("M", "C", "U")] == ["mandatory", "conditional", "user option"]
    assert usage_text("X") == ""
