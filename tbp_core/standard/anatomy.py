"""Anatomic region codes (SNOMED CT) with laterality, searchable.

Two sources, both from the DICOM standard (PS3.16):

- the sites of CID 4029 "Dermatology Anatomic Site" (mostly the SNOMED CT
  "Skin of ..." concepts), from pydicom's copy of the context groups
  (``pydicom.sr.codedict.codes.cid4029``); whether a site is paired (has a
  left and a right side) is not in the standard and is kept by hand below;
- the anatomic region table that highdicom ships
  (``highdicom/_standard/anatomic_regions.json``: PS3.16 Annex L, the codes
  behind the Body Part Examined terms), read once.

Laterality is not part of the region code: it is added as an Anatomic Region
Modifier (CID 244 "Laterality", from pydicom too), and only on paired regions.

Obsolete SNOMED-RT codes (``T-02471``, scheme ``SRT``; the seed tables even
used a made-up scheme ``DAS``) are refused with the SNOMED CT code to use.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.sr import _snomed_dict  # SNOMED-RT -> SCT table from PS3.16 (pydicom pinned 3.0.x)
from pydicom.sr.codedict import Collection, codes

from tbp_core import standard
from tbp_core.errors import MetadataError

Laterality = Literal["R", "L", "B", "U"]

SOURCE_CID_4029 = "DICOM CID 4029 Dermatology Anatomic Site"
SOURCE_ANNEX_L = "DICOM PS3.16 Annex L (highdicom table)"
SOURCE_CID_244 = "DICOM CID 244 Laterality"
SOURCE_CID_2 = "DICOM CID 2 Anatomic Modifier"


@dataclass(frozen=True)
class AnatomicRegion:
    """A coded anatomic region (or modifier) and whether it has two sides."""

    code_value: str
    coding_scheme: str
    code_meaning: str
    paired: bool
    source: str

    @property
    def is_skin(self) -> bool:
        """True for the dermatology anatomic sites (CID 4029), searched first."""
        return self.source == SOURCE_CID_4029


# Whether a CID 4029 site has a left and a right side is not in PS3.16 (nor in
# pydicom's copy of its context groups), so it is the one thing kept by hand here:
# the sites without sides (midline, whole-body or single structures), by their
# pydicom keyword; every other site of the group is paired. The codes and
# meanings themselves come from pydicom (`codes.cid4029`).
_UNPAIRED_SITES: frozenset[str] = frozenset(
    {
        "FemaleExternalUrethralOrifice",
        "FrenulumOfLabiaMinora",
        "Hair",
        "MaleExternalUrethralOrifice",
        "MucosaOfDorsumOfOralPartOfTongue",
        "MucosaOfDorsumOfPharyngealPartOfTongue",
        "MucosaOfFloorOfMouth",
        "MucosaOfLowerLip",
        "MucosaOfMandibularGingiva",
        "MucosaOfMaxillaryGingiva",
        "MucosaOfOralSegmentOfHardPalate",
        "MucosaOfPharynx",
        "MucosaOfPosteriorWallOfOropharynx",
        "MucosaOfTipOfTongue",
        "MucosaOfTongue",
        "MucosaOfUpperLip",
        "MucosaOfUvula",
        "OralMucosa",
        "PosteriorCommissureOfLabiumMajorum",
        "Skin",
        "SkinOfAbdomen",
        "SkinOfAnteriorPortionOfNeck",
        "SkinOfAnteriorSurfaceOfThorax",
        "SkinOfAnteriorTrunk",
        "SkinOfAnus",
        "SkinOfBack",
        "SkinOfBackOfTrunk",
        "SkinOfBackOfUpperThoracicRegion",
        "SkinOfChin",
        "SkinOfClitoris",
        "SkinOfDorsumOfNose",
        "SkinOfEpigastricArea",
        "SkinOfExternalGenitalia",
        "SkinOfFace",
        "SkinOfForehead",
        "SkinOfGlansPenis",
        "SkinOfHead",
        "SkinOfHypogastricRegion",
        "SkinOfLip",
        "SkinOfLowerAbdomen",
        "SkinOfLowerBack",
        "SkinOfLowerChestWall",
        "SkinOfLowerLip",
        "SkinOfMidBack",
        "SkinOfNeck",
        "SkinOfNose",
        "SkinOfNuchalRegion",
        "SkinOfOccipitalRegion",
        "SkinOfPenis",
        "SkinOfPerineum",
        "SkinOfPerioralRegionOfFace",
        "SkinOfPhiltrum",
        "SkinOfPosteriorSurfaceOfThorax",
        "SkinOfPrepuceOfClitoris",
        "SkinOfRootOfPenis",
        "SkinOfScalp",
        "SkinOfScrotum",
        "SkinOfShaftOfPenis",
        "SkinOfSubmentalArea",
        "SkinOfTipOfNose",
        "SkinOfUmbilicus",
        "SkinOfUpperAbdomen",
        "SkinOfUpperLip",
        "SkinOfUpperOuterQuadrantOfLeftBreast",
        "SkinOfUpperTrunk",
        "SkinOfVermilionProperOfLowerLip",
        "SkinOfVermilionProperOfUpperLip",
        "SkinOfVertexOfScalp",
        "SternalSkin",
        "Tooth",
        "VaginalIntroitus",
        "VulvalVestibule",
    }
)

# Image Laterality letters (PS3.3 C.7.6.2, hand-kept: the standard's enumerated
# values) for the CID 244 concepts pydicom lists.
_LATERALITY_KEYWORDS: Mapping[str, str] = {
    "R": "Right",
    "L": "Left",
    "B": "Bilateral",
    "U": "Unilateral",
}


def _concept(cid: Collection, keyword: str, paired: bool, source: str) -> AnatomicRegion:
    code = getattr(cid, keyword)
    return AnatomicRegion(code.value, code.scheme_designator, code.meaning, paired, source)


LATERALITY: Mapping[str, AnatomicRegion] = {
    letter: _concept(codes.cid244, keyword, False, SOURCE_CID_244)
    for letter, keyword in _LATERALITY_KEYWORDS.items()
}
"""Laterality modifier codes (CID 244) by the letter used in the API."""

ANATOMIC_MODIFIERS: tuple[AnatomicRegion, ...] = tuple(
    _concept(codes.cid2, keyword, False, SOURCE_CID_2)
    for keyword in (  # the common ones, chosen by hand; codes and meanings from pydicom
        "Anterior",
        "Posterior",
        "Lateral",
        "Medial",
        "Superior",
        "Inferior",
        "Proximal",
        "Distal",
        "Central",
        "Peripheral",
        "Surface",
    )
)
"""Common anatomic modifiers (CID 2) for :func:`anatomic_region_item`."""

# Scheme designators and code shape of SNOMED-RT ("SRT", "SNM3"); "DAS" is the
# made-up designator of the seed tables.
_SNOMED_RT_SCHEMES = frozenset({"SRT", "SNM3", "DAS"})
_SNOMED_RT_CODE = re.compile(r"^[A-Z][A-Z0-9]?-[0-9A-Z]{4,6}$")


@functools.cache
def _highdicom_regions() -> tuple[AnatomicRegion, ...]:
    """The anatomic region table shipped with highdicom, read once."""
    table = standard.anatomic_region_table()
    regions: list[AnatomicRegion] = []
    for body_part, entry in table.items():
        scheme, code, meaning, paired = entry
        source = f"{SOURCE_ANNEX_L}, body part {body_part}"
        regions.append(AnatomicRegion(str(code), str(scheme), str(meaning), bool(paired), source))
    return tuple(regions)


def _dermatology_sites() -> tuple[AnatomicRegion, ...]:
    """The sites of CID 4029, from pydicom, in the order the region picker lists them.

    "Skin ..." sites first, then the other skin sites, then the rest (nails,
    mucosa, eyes); by meaning within each group.
    """
    cid = codes.cid4029
    sites = [_concept(cid, kw, kw not in _UNPAIRED_SITES, SOURCE_CID_4029) for kw in cid.dir()]

    def order(site: AnatomicRegion) -> tuple[int, str]:
        words = _words(site.code_meaning)
        group = 0 if words[:1] == ["skin"] else 1 if "skin" in words else 2
        return group, site.code_meaning.lower()

    return tuple(sorted(sites, key=order))


@functools.cache
def all_regions() -> tuple[AnatomicRegion, ...]:
    """Return every known anatomic region, dermatology sites first.

    Returns
    -------
    tuple[AnatomicRegion, ...]
        The sites of CID 4029 (skin sites first, each group sorted by meaning),
        then highdicom's Annex L table sorted by meaning; each (scheme, code)
        appears once.
    """
    skin = _dermatology_sites()
    seen = {(region.coding_scheme, region.code_value) for region in skin}
    others: list[AnatomicRegion] = []
    for region in sorted(_highdicom_regions(), key=lambda r: r.code_meaning.lower()):
        key = (region.coding_scheme, region.code_value)
        if key not in seen:
            seen.add(key)
            others.append(region)
    return skin + tuple(others)


@functools.cache
def _index() -> dict[tuple[str, str], AnatomicRegion]:
    return {(r.coding_scheme, r.code_value): r for r in all_regions()}


def region_by_code(code_value: str, scheme: str = "SCT") -> AnatomicRegion | None:
    """Return the region with this code, or None if it is not known.

    Parameters
    ----------
    code_value : str
        The code, e.g. ``"66643007"``.
    scheme : str
        The coding scheme designator; default ``"SCT"`` (SNOMED CT).

    Returns
    -------
    AnatomicRegion or None
        None also for obsolete SNOMED-RT codes such as ``("T-02471", "SRT")``;
        see :func:`check_not_snomed_rt` for the SNOMED CT replacement.
    """
    return _index().get((scheme.strip(), code_value.strip()))


def is_snomed_rt(code_value: str, scheme: str | None = None) -> bool:
    """Return whether a code is an obsolete SNOMED-RT code.

    Parameters
    ----------
    code_value : str
        The code, e.g. ``"T-02471"``.
    scheme : str, optional
        Its coding scheme designator, e.g. ``"SRT"``, ``"SNM3"`` or ``"DAS"``.

    Returns
    -------
    bool
        True if the scheme is a SNOMED-RT designator, or if the scheme is
        ``"SCT"`` or not given and the code has the SNOMED-RT shape (letter,
        dash, alphanumerics: ``T-02471``).
    """
    designator = None if scheme is None else scheme.strip().upper()
    if designator in _SNOMED_RT_SCHEMES:
        return True
    return designator in (None, "SCT") and bool(_SNOMED_RT_CODE.match(code_value.strip()))


def sct_for_snomed_rt(code_value: str) -> str | None:
    """Return the SNOMED CT code replacing a SNOMED-RT code, if known.

    Parameters
    ----------
    code_value : str
        A SNOMED-RT code such as ``"T-02471"``.

    Returns
    -------
    str or None
        The SCT code (e.g. ``"22180002"``, "Skin of buttock", for
        ``T-02471``), from the SNOMED-RT to SNOMED CT table of PS3.16 that
        pydicom ships.
    """
    sct = _snomed_dict.mapping.get("SRT", {}).get(code_value.strip())
    return str(sct) if sct else None


def check_not_snomed_rt(code_value: str, scheme: str | None = None, *, field: str = "") -> None:
    """Refuse an obsolete SNOMED-RT code with a message naming the SCT code to use.

    Parameters
    ----------
    code_value : str
        The code to check.
    scheme : str, optional
        Its coding scheme designator.
    field : str, optional
        Name of the field holding the code, put first in the message.

    Raises
    ------
    MetadataError
        If the code is SNOMED-RT (see :func:`is_snomed_rt`).
    """
    if not is_snomed_rt(code_value, scheme):
        return
    prefix = f"{field}: " if field else ""
    where = f" (scheme {scheme})" if scheme else ""
    sct = sct_for_snomed_rt(code_value)
    if sct is not None:
        known = region_by_code(sct)
        meaning = f" ({known.code_meaning})" if known is not None else ""
        fix = f"use CodeValue {sct!r} with CodingSchemeDesignator 'SCT'{meaning}"
    else:
        fix = "use the SNOMED CT code (scheme 'SCT'); search the regions to find it"
    raise MetadataError(f"{prefix}{code_value!r}{where} is an obsolete SNOMED-RT code; {fix}")


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _match_rank(region: AnatomicRegion, query: str, words: list[str]) -> int | None:
    """0 exact, 1 starts with the query, 2 every word a word prefix, 3 substring."""
    meaning = region.code_meaning.lower()
    bare = meaning.removeprefix("skin of ")
    if query in (meaning, bare, region.code_value.lower()):
        return 0
    if meaning.startswith(query) or bare.startswith(query) or region.code_value.startswith(query):
        return 1
    meaning_words = _words(meaning)
    if words and all(any(mw.startswith(w) for mw in meaning_words) for w in words):
        return 2
    if query in meaning:
        return 3
    return None


def search_regions(query: str, limit: int = 20) -> list[AnatomicRegion]:
    """Find regions whose meaning or code matches `query`, best first.

    Parameters
    ----------
    query : str
        Case-insensitive text: a meaning fragment (``"back"``, ``"upper arm"``,
        ``"fore"``) or a code (``"66643007"``). Every word must start a word
        of the meaning, or the whole query must occur in it.
    limit : int
        Maximum number of results.

    Returns
    -------
    list[AnatomicRegion]
        Regions matching whole words come before mere substring matches
        (``"face"`` inside "surface"); among them skin regions come first
        (a TBP user photographs skin), each group ordered exact match
        ("Skin of back" for ``"back"``), prefix, then word-prefix, shorter
        meanings first. An empty query lists the first `limit` regions.
    """
    text = " ".join(query.lower().split())
    if not text:
        return list(all_regions()[: max(limit, 0)])
    words = _words(text)
    ranked: list[tuple[int, int, int, int, str, AnatomicRegion]] = []
    for region in all_regions():
        rank = _match_rank(region, text, words)
        if rank is not None:
            meaning = region.code_meaning
            word_match = 0 if rank <= 2 else 1
            skin_first = 0 if region.is_skin else 1
            ranked.append((word_match, skin_first, rank, len(meaning), meaning, region))
    ranked.sort(key=lambda row: row[:5])
    return [row[5] for row in ranked[: max(limit, 0)]]


def _code_item(code: AnatomicRegion) -> Dataset:
    item = Dataset()
    item.CodeValue = code.code_value
    item.CodingSchemeDesignator = code.coding_scheme
    item.CodeMeaning = code.code_meaning
    return item


def _modifier_codes(
    region: AnatomicRegion, laterality: str | None, modifiers: Sequence[AnatomicRegion]
) -> list[AnatomicRegion]:
    codes: list[AnatomicRegion] = []
    if laterality is not None:
        code = LATERALITY.get(laterality.upper())
        if code is None:
            raise MetadataError(
                f"AnatomicRegionSequence: laterality {laterality!r} is not one of "
                "R (right), L (left), B (bilateral), U (unilateral)"
            )
        if not region.paired:
            raise MetadataError(
                f"AnatomicRegionSequence: {region.code_meaning!r} ({region.code_value}) "
                "has no left or right side; leave laterality empty or choose a paired region"
            )
        codes.append(code)
    codes.extend(modifiers)
    return codes


def anatomic_region_item(
    region: AnatomicRegion,
    *,
    laterality: Laterality | None = None,
    modifiers: Sequence[AnatomicRegion] = (),
) -> Dataset:
    """Build the Anatomic Region Sequence item for a region.

    Parameters
    ----------
    region : AnatomicRegion
        The region, e.g. from :func:`search_regions` or :func:`region_by_code`.
    laterality : {"R", "L", "B", "U"}, optional
        Right, left, bilateral or unilateral; only for paired regions.
    modifiers : Sequence[AnatomicRegion]
        Further modifiers, e.g. from :data:`ANATOMIC_MODIFIERS`.

    Returns
    -------
    Dataset
        An item with CodeValue, CodingSchemeDesignator and CodeMeaning, plus
        an AnatomicRegionModifierSequence (laterality first) when a laterality
        or modifiers are given.

    Raises
    ------
    MetadataError
        If a laterality is given for an unpaired region (the message names the
        region), the laterality letter is unknown, or a code is SNOMED-RT.
    """
    check_not_snomed_rt(region.code_value, region.coding_scheme, field="AnatomicRegionSequence")
    codes = _modifier_codes(region, laterality, modifiers)
    item = _code_item(region)
    if codes:
        item.AnatomicRegionModifierSequence = DicomSequence([_code_item(code) for code in codes])
    return item


def anatomic_region_value(
    region: AnatomicRegion,
    *,
    laterality: Laterality | None = None,
    modifiers: Sequence[AnatomicRegion] = (),
) -> dict[str, object]:
    """Return the same item as :func:`anatomic_region_item` in template form.

    Parameters
    ----------
    region : AnatomicRegion
        The region.
    laterality : {"R", "L", "B", "U"}, optional
        Right, left, bilateral or unilateral; only for paired regions.
    modifiers : Sequence[AnatomicRegion]
        Further modifiers.

    Returns
    -------
    dict[str, object]
        One element of a template's ``"AnatomicRegionSequence"`` list.

    Raises
    ------
    MetadataError
        As :func:`anatomic_region_item`.
    """
    check_not_snomed_rt(region.code_value, region.coding_scheme, field="AnatomicRegionSequence")
    codes = _modifier_codes(region, laterality, modifiers)
    value: dict[str, object] = {
        "CodeValue": region.code_value,
        "CodingSchemeDesignator": region.coding_scheme,
        "CodeMeaning": region.code_meaning,
    }
    if codes:
        value["AnatomicRegionModifierSequence"] = [
            {
                "CodeValue": code.code_value,
                "CodingSchemeDesignator": code.coding_scheme,
                "CodeMeaning": code.code_meaning,
            }
            for code in codes
        ]
    return value
