"""Tests for tbp_core.standard.anatomy: region codes, search, laterality, SNOMED-RT refusal."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset
from pydicom.sr.codedict import Collection, codes

from tbp_core.errors import MetadataError
from tbp_core.standard import anatomy
from tbp_core.standard.anatomy import (
    ANATOMIC_MODIFIERS,
    LATERALITY,
    AnatomicRegion,
    all_regions,
    anatomic_region_item,
    anatomic_region_value,
    check_not_snomed_rt,
    is_snomed_rt,
    region_by_code,
    search_regions,
)


def _cid(name: str, schemes: frozenset[str] = frozenset({"SCT"})) -> dict[str, str]:
    """Code value -> meaning of a DICOM context group, from pydicom's PS3.16 tables."""
    collection = Collection(name)
    return {
        code.value: code.meaning
        for code in (getattr(collection, kw) for kw in dir(collection) if kw[:1].isupper())
        if code.scheme_designator in schemes
    }


def _skin() -> list[AnatomicRegion]:
    return [region for region in all_regions() if region.is_skin]


def test_dermatology_sites_are_exactly_cid_4029_with_schemes_and_meanings() -> None:
    collection = Collection("CID4029")
    expected = {
        (code.scheme_designator, code.value, code.meaning)
        for code in (getattr(collection, kw) for kw in collection.dir())
    }
    skin = _skin()
    assert len(skin) == len(expected) > 200
    assert {(r.coding_scheme, r.code_value, r.code_meaning) for r in skin} == expected
    assert {r.coding_scheme for r in skin} == {"SCT", "DCM", "FMA"}
    # "Skin ..." sites first, by meaning; then the other skin sites; then nails, mucosa, eyes
    meanings = [r.code_meaning for r in skin]
    assert meanings[:3] == ["Skin", "Skin of abdomen", "Skin of ala nasi"]
    assert meanings.index("Sternal skin") < meanings.index("Cornea")


def test_hand_kept_sides_name_cid_4029_sites() -> None:
    """The only hand data, which sites have no sides, must name sites pydicom lists."""
    assert set(codes.cid4029.dir()) >= anatomy._UNPAIRED_SITES
    assert len(anatomy._UNPAIRED_SITES) < len(codes.cid4029.dir()) / 2


@pytest.mark.parametrize(
    ("code", "paired"),
    [
        ("66643007", False),  # Skin of back
        ("113182001", False),  # Skin of lower back
        ("33712006", True),  # Skin of hand
        ("770822006", True),  # Nail unit of great toe
        ("130304", True),  # Skin of lower paraspinal region (DCM)
        ("38199008", False),  # Tooth
        ("61439", False),  # Skin of upper outer quadrant of left breast: its side is in it
    ],
)
def test_sites_paired_or_not(code: str, paired: bool) -> None:
    site = next(r for r in _skin() if r.code_value == code)
    assert site.paired is paired


def test_laterality_codes_are_cid_244() -> None:
    cid_244 = _cid("CID244")
    assert {code.code_value: code.code_meaning for code in LATERALITY.values()} == cid_244
    assert LATERALITY["R"].code_value == "24028007"
    assert LATERALITY["L"].code_value == "7771000"
    assert LATERALITY["B"].code_value == "51440002"
    assert LATERALITY["U"].code_value == "66459002"


def test_modifiers_are_cid_2() -> None:
    cid_2 = _cid("CID2")
    for modifier in ANATOMIC_MODIFIERS:
        assert cid_2.get(modifier.code_value) == modifier.code_meaning


def test_all_regions_includes_highdicom_table_skin_first_and_unique() -> None:
    regions = all_regions()
    keys = [(r.coding_scheme, r.code_value) for r in regions]
    assert len(keys) == len(set(keys))
    first_other = next(i for i, r in enumerate(regions) if not r.is_skin)
    assert all(not r.is_skin for r in regions[first_other:])
    back = region_by_code("77568009")
    assert back is not None
    assert back.code_meaning == "Back"
    assert back.paired is False
    assert "body part BACK" in back.source
    upper_arm = region_by_code("40983000")
    assert upper_arm is not None and upper_arm.paired is True


def test_region_is_frozen() -> None:
    region = all_regions()[0]
    with pytest.raises(AttributeError):
        region.code_value = "1"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("query", "expected_first", "also"),
    [
        ("back", "Skin of back", {"Back", "Skin of lower back"}),
        ("BACK", "Skin of back", set()),
        ("face", "Skin of face", {"Face"}),
        (
            "arm",
            "Skin of anterior surface of upper arm",
            {"Skin of posterior surface of upper arm"},
        ),
        ("forearm", "Skin of anterior surface of forearm", {"Forearm"}),
        ("scalp", "Skin of scalp", {"Skin of vertex of scalp", "Scalp"}),
        ("upper arm", "Skin of anterior surface of upper arm", {"Upper arm"}),
        ("66643007", "Skin of back", set()),
    ],
)
def test_search_finds_skin_regions(query: str, expected_first: str, also: set[str]) -> None:
    results = search_regions(query)
    meanings = [r.code_meaning for r in results]
    assert meanings[0] == expected_first
    assert also <= set(meanings)


def test_search_puts_skin_regions_first() -> None:
    meanings = [r.code_meaning for r in search_regions("back")]
    assert meanings.index("Skin of lower back") < meanings.index("Back")
    face = [r.code_meaning for r in search_regions("face")]
    # whole-word matches before the substring match in "surface"
    assert face.index("Face") < face.index("Skin of anterior surface of thigh")


def test_search_limit_empty_and_no_match() -> None:
    assert len(search_regions("skin", limit=5)) == 5
    assert search_regions("", limit=3) == list(all_regions()[:3])
    assert search_regions("zzzz-no-such-region") == []
    assert search_regions("back", limit=0) == []


def test_region_by_code() -> None:
    region = region_by_code("66643007", "SCT")
    assert region is not None
    assert region == AnatomicRegion("66643007", "SCT", "Skin of back", False, region.source)
    assert region_by_code(" 66643007 ") == region
    assert region_by_code("66643007", "SRT") is None
    assert region_by_code("T-02471", "SRT") is None
    assert region_by_code("T-02471", "DAS") is None


@pytest.mark.parametrize(
    ("code", "scheme", "expected"),
    [
        ("T-02471", "SRT", True),
        ("T-02471", "DAS", True),
        ("T-02471", None, True),
        ("T-02471", "SCT", True),
        ("G-A101", "SNM3", True),
        ("66643007", "SCT", False),
        ("66643007", "SRT", True),
        ("130323", "DCM", False),
        ("A-12345", "99LOCAL", False),
    ],
)
def test_is_snomed_rt(code: str, scheme: str | None, expected: bool) -> None:
    assert is_snomed_rt(code, scheme) is expected


def test_snomed_rt_refusal_names_the_sct_replacement() -> None:
    with pytest.raises(MetadataError) as info:
        check_not_snomed_rt("T-02471", "DAS", field="AnatomicRegionSequence[0].CodeValue")
    message = str(info.value)
    assert message.startswith("AnatomicRegionSequence[0].CodeValue: 'T-02471' (scheme DAS)")
    assert "obsolete SNOMED-RT" in message
    assert "'22180002'" in message and "Skin of buttock" in message
    assert anatomy.sct_for_snomed_rt("T-02471") == "22180002"


def test_snomed_rt_refusal_without_known_replacement() -> None:
    with pytest.raises(MetadataError, match=r"'T-99999' \(scheme SRT\).*use the SNOMED CT code"):
        check_not_snomed_rt("T-99999", "SRT")


def test_sct_code_passes() -> None:
    check_not_snomed_rt("66643007", "SCT")


def _code(item: Dataset) -> tuple[str, str, str]:
    return (item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning)


def test_region_item_without_modifiers() -> None:
    item = anatomic_region_item(region_by_code("66643007"))  # type: ignore[arg-type]
    assert _code(item) == ("66643007", "SCT", "Skin of back")
    assert "AnatomicRegionModifierSequence" not in item


def test_region_item_with_laterality_and_modifiers() -> None:
    region = region_by_code("45981001")
    assert region is not None and region.paired
    anterior = next(m for m in ANATOMIC_MODIFIERS if m.code_meaning == "Anterior")
    item = anatomic_region_item(region, laterality="L", modifiers=[anterior])
    assert _code(item) == ("45981001", "SCT", "Skin of anterior surface of upper arm")
    modifiers = item.AnatomicRegionModifierSequence
    assert [_code(m) for m in modifiers] == [
        ("7771000", "SCT", "Left"),
        ("255549009", "SCT", "Anterior"),
    ]
    value = anatomic_region_value(region, laterality="L", modifiers=[anterior])
    assert value["AnatomicRegionModifierSequence"] == [
        {"CodeValue": "7771000", "CodingSchemeDesignator": "SCT", "CodeMeaning": "Left"},
        {"CodeValue": "255549009", "CodingSchemeDesignator": "SCT", "CodeMeaning": "Anterior"},
    ]


@pytest.mark.parametrize("letter", ["R", "L", "B", "U"])
def test_every_laterality_on_a_paired_region(letter: str) -> None:
    item = anatomic_region_item(region_by_code("33712006"), laterality=letter)  # type: ignore[arg-type]
    assert item.AnatomicRegionModifierSequence[0].CodeValue == LATERALITY[letter].code_value


def test_laterality_refused_on_unpaired_region() -> None:
    back = region_by_code("66643007")
    assert back is not None
    with pytest.raises(MetadataError, match=r"'Skin of back' \(66643007\) has no left or right"):
        anatomic_region_item(back, laterality="R")
    with pytest.raises(MetadataError, match="Skin of back"):
        anatomic_region_value(back, laterality="B")


def test_unknown_laterality_letter() -> None:
    with pytest.raises(MetadataError, match="laterality 'X' is not one of R"):
        anatomic_region_item(region_by_code("33712006"), laterality="X")  # type: ignore[arg-type]


def test_snomed_rt_region_refused_in_item() -> None:
    old = AnatomicRegion("T-02471", "DAS", "Back", False, "seed table")
    with pytest.raises(MetadataError, match="obsolete SNOMED-RT"):
        anatomic_region_item(old)
