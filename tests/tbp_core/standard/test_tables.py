"""The standard's tables: present, shaped as expected, and the derived keyword file in sync."""

from __future__ import annotations

import json
from pathlib import Path

from tbp_core import standard


def test_tables_are_shipped_with_the_pinned_highdicom() -> None:
    folder = standard.table_folder()
    for name in (
        "sop_class_iod_map.json",
        "iod_module_map.json",
        "module_attribute_map.json",
        "anatomic_regions.json",
    ):
        assert (folder / name).is_file(), name
    assert standard.tables_version() == "0.28.2"


def test_vl_photographic_iod_is_shaped_as_expected() -> None:
    iod = standard.iod_for_sop_class("1.2.840.10008.5.1.4.1.1.77.1.4")
    assert iod == "vl-photographic-image"
    modules = {m.key: m for m in standard.modules_of_iod(iod)}
    assert modules["patient"].usage == "M" and modules["patient"].information_entity == "Patient"
    assert modules["vl-photographic-acquisition"].usage == "U"
    assert {m.usage for m in modules.values()} <= {"M", "C", "U"}
    types = {a.keyword: a.type for a in standard.attributes_of_module("vl-image") if not a.path}
    assert types["ImageType"] == "1"
    assert types["LossyImageCompression"] == "2"


def test_derived_keyword_file_matches_the_full_tables() -> None:
    stored = json.loads(standard.tables._PRODUCED_IOD_KEYWORDS.read_text())
    assert stored["highdicom"] == standard.tables_version()
    for key in standard.PRODUCED_IODS:
        assert set(stored["iods"][key]) == standard.compute_top_level_keywords(key), key
        assert standard.top_level_keywords_of_iod(key) == standard.compute_top_level_keywords(key)


def test_unknown_iod_and_sop_class() -> None:
    assert standard.iod_for_sop_class("1.2.3.4") is None
    assert standard.modules_of_iod("no-such-iod") == ()
    assert standard.attributes_of_module("no-such-module") == ()


def test_attributes_join_the_dictionary() -> None:
    info = standard.attribute_info("PatientName")
    assert info is not None
    assert (info.tag, info.vr, info.vm, info.name, info.retired) == (
        0x00100010,
        "PN",
        "1",
        "Patient's Name",
        False,
    )
    retired = standard.attribute_info("ImagePosition")
    assert retired is not None and retired.retired
    assert standard.attribute_info("NoSuchKeyword") is None
    for attribute in standard.attributes_of_module("vl-image"):
        assert standard.attribute_info(attribute.keyword) is not None, attribute.keyword


def test_newer_standard_modules_are_applied() -> None:
    modules = {m.key: m.usage for m in standard.modules_of_iod("dermoscopic-photography-image")}
    assert modules["frame-of-reference"] == "M"
    assert "FrameOfReferenceUID" in standard.top_level_keywords_of_iod(
        "dermoscopic-photography-image"
    )


def test_compact_tables_are_rebuilt_identically_from_highdicom(tmp_path: Path) -> None:
    tables, modules = tmp_path / "tables.json", tmp_path / "modules.jsonl"
    standard.tables.build_compact_tables(tables, modules)
    assert tables.read_bytes() == standard.tables.COMPACT_TABLES.read_bytes()
    assert modules.read_bytes() == standard.tables.COMPACT_MODULES.read_bytes()
    assert standard.tables.compact_tables_version() == standard.tables_version()


def test_compact_tables_say_what_highdicom_says() -> None:
    raw = standard.tables._load_table("module_attribute_map.json")
    for key, rows in raw.items():
        expected = tuple((r["keyword"], r["type"], tuple(r["path"])) for r in rows)
        got = tuple((a.keyword, a.type, a.path) for a in standard.attributes_of_module(key))
        assert got == expected, key
    iods = standard.tables._load_table("iod_module_map.json")
    for iod, rows in iods.items():
        listed = [m for m in standard.modules_of_iod(iod) if m.key in {r["key"] for r in rows}]
        assert [(m.key, m.information_entity) for m in listed] == [
            (r["key"], r["ie"]) for r in rows
        ], iod
    sop_classes = standard.tables._load_table("sop_class_iod_map.json")
    assert all(standard.iod_for_sop_class(uid) == iod for uid, iod in sop_classes.items())
    assert standard.anatomic_region_table() == standard.tables._load_table("anatomic_regions.json")
