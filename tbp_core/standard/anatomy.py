"""Anatomic region codes (SNOMED CT) with laterality, searchable.

Two sources, both from the DICOM standard (PS3.16):

- skin regions of CID 4029 "Dermatology Anatomic Site" (the SNOMED CT "Skin
  of ..." concepts), listed below with whether the region is paired (has a
  left and a right side);
- the anatomic region table that highdicom ships
  (``highdicom/_standard/anatomic_regions.json``: PS3.16 Annex L, the codes
  behind the Body Part Examined terms), read once.

Laterality is not part of the region code: it is added as an Anatomic Region
Modifier (CID 244 "Laterality"), and only on paired regions.

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
        """True for the dermatology skin regions (CID 4029)."""
        return self.source == SOURCE_CID_4029


# SNOMED CT skin regions of CID 4029 "Dermatology Anatomic Site":
# (code value, code meaning, paired). Codes and meanings as listed in PS3.16.
_SKIN_REGIONS: tuple[tuple[str, str, bool], ...] = (
    ("39937001", "Skin", False),
    ("70762009", "Skin of head", False),
    ("43067004", "Skin of scalp", False),
    ("61719002", "Skin of vertex of scalp", False),
    ("79951008", "Skin of occipital region", False),
    ("21672008", "Skin of parietal region", True),
    ("16621002", "Skin of temporal region", True),
    ("73897004", "Skin of face", False),
    ("68698007", "Skin of forehead", False),
    ("367577003", "Skin of eyebrow", True),
    ("362916000", "Skin of eye region", True),
    ("41310005", "Skin of upper eyelid", True),
    ("40069000", "Skin of lower eyelid", True),
    ("27887005", "Skin of medial canthus", True),
    ("37671003", "Skin of lateral canthus", True),
    ("113179006", "Skin of nose", False),
    ("79283007", "Skin of tip of nose", False),
    ("314395006", "Skin of side of nose", True),
    ("68598004", "Skin of ala nasi", True),
    ("36141000", "Skin of cheek", True),
    ("37108007", "Skin of nasolabial fold", True),
    ("110488009", "Skin of perioral region of face", False),
    ("84365009", "Skin of philtrum", False),
    ("88089004", "Skin of lip", False),
    ("16251004", "Skin of upper lip", False),
    ("66934001", "Skin of lower lip", False),
    ("23747009", "Skin of chin", False),
    ("244097004", "Skin of jawline", True),
    ("34926004", "Skin of submental area", False),
    ("1902009", "Skin of ear", True),
    ("79313003", "Skin of helix of ear", True),
    ("57726007", "Skin of crus of helix", True),
    ("51098001", "Skin of cavity of concha", True),
    ("79502000", "Skin of tragus", True),
    ("38407007", "Skin of antitragus", True),
    ("45591000", "Skin of intertragal incisure", True),
    ("2059009", "Skin of ear lobule", True),
    ("86409001", "Skin of external auditory canal", True),
    ("86719006", "Skin of preauricular region", True),
    ("24483006", "Skin of postauricular region", True),
    ("43081002", "Skin of neck", False),
    ("11584001", "Skin of anterior portion of neck", False),
    ("5272005", "Skin of lateral portion of neck", True),
    ("4658004", "Skin of nuchal region", False),
    ("76072005", "Skin of supraclavicular region of neck", True),
    ("54440003", "Skin of upper trunk", False),
    ("181491009", "Skin of anterior trunk", False),
    ("244106003", "Skin of anterior surface of thorax", False),
    ("244107007", "Sternal skin", False),
    ("66288003", "Skin of infraclavicular region", True),
    ("72005009", "Skin of areola", True),
    ("54468004", "Skin of nipple", True),
    ("699915001", "Skin of lower chest wall", False),
    ("76261009", "Skin of axilla", True),
    ("66643007", "Skin of back", False),
    ("699893008", "Skin of back of upper thoracic region", False),
    ("244111001", "Skin of posterior surface of thorax", False),
    ("113182001", "Skin of lower back", False),
    ("75093004", "Skin of abdomen", False),
    ("699935000", "Skin of upper abdomen", False),
    ("30598005", "Skin of epigastric area", False),
    ("315003", "Skin of umbilicus", False),
    ("699914002", "Skin of lower abdomen", False),
    ("367578008", "Skin of hypogastric region", False),
    ("39687006", "Skin of inguinal region", True),
    ("280387007", "Groin skin crease", True),
    ("22180002", "Skin of buttock", True),
    ("63029009", "Skin of gluteal fold", True),
    ("48014002", "Skin of perineum", False),
    ("59112000", "Skin of anus", False),
    ("60944009", "Skin of external genitalia", False),
    ("35900000", "Skin of penis", False),
    ("244117002", "Skin of root of penis", False),
    ("244118007", "Skin of shaft of penis", False),
    ("7991003", "Skin of glans penis", False),
    ("81992007", "Skin of scrotum", False),
    ("73058008", "Skin of labium", True),
    ("128252004", "Skin of labium majus", True),
    ("128253009", "Skin of labium minus", True),
    ("29353003", "Skin of clitoris", False),
    ("76723005", "Skin of prepuce of clitoris", False),
    ("371311000", "Skin of upper extremity", True),
    ("45981001", "Skin of anterior surface of upper arm", True),
    ("72939005", "Skin of posterior surface of upper arm", True),
    ("17957002", "Skin of antecubital fossa", True),
    ("181536004", "Skin of posterior surface of elbow", True),
    ("70559009", "Skin of anterior surface of forearm", True),
    ("41550009", "Skin of posterior surface of forearm", True),
    ("24527008", "Skin of palmar area of wrist", True),
    ("52876008", "Skin of dorsal area of wrist", True),
    ("33712006", "Skin of hand", True),
    ("70887009", "Skin of palm of hand", True),
    ("26795005", "Skin of thenar region of palm", True),
    ("89784008", "Skin of hypothenar region of palm", True),
    ("281642007", "Skin of part of dorsal surface of hand", True),
    ("244169007", "Skin of digit of hand", True),
    ("371304004", "Skin of lower extremity", True),
    ("61248009", "Skin of anterior surface of thigh", True),
    ("4578000", "Skin of posterior surface of thigh", True),
    ("73958006", "Skin of medial surface of thigh", True),
    ("181553006", "Skin of anterior surface of knee", True),
    ("84507004", "Skin of popliteal fossa", True),
    ("25763004", "Skin of anterior surface of lower leg", True),
    ("47224004", "Skin of posterior surface of lower leg", True),
    ("181564009", "Skin of lateral aspect of ankle", True),
    ("181563003", "Skin of medial aspect of ankle", True),
    ("60496002", "Skin of foot", True),
    ("84607009", "Skin of heel", True),
    ("699909001", "Skin of lateral part of heel", True),
    ("699919007", "Skin of medial part of heel", True),
    ("35739000", "Skin of lateral border of sole of foot", True),
    ("52953006", "Skin of medial border of sole of foot", True),
    ("52034004", "Skin of toe", True),
)

LATERALITY: Mapping[str, AnatomicRegion] = {
    "R": AnatomicRegion("24028007", "SCT", "Right", False, SOURCE_CID_244),
    "L": AnatomicRegion("7771000", "SCT", "Left", False, SOURCE_CID_244),
    "B": AnatomicRegion("51440002", "SCT", "Bilateral", False, SOURCE_CID_244),
    "U": AnatomicRegion("66459002", "SCT", "Unilateral", False, SOURCE_CID_244),
}
"""Laterality modifier codes (CID 244) by the letter used in the API."""

ANATOMIC_MODIFIERS: tuple[AnatomicRegion, ...] = tuple(
    AnatomicRegion(code, "SCT", meaning, False, SOURCE_CID_2)
    for code, meaning in (
        ("255549009", "Anterior"),
        ("255551008", "Posterior"),
        ("49370004", "Lateral"),
        ("255561001", "Medial"),
        ("264217000", "Superior"),
        ("261089000", "Inferior"),
        ("40415009", "Proximal"),
        ("46053002", "Distal"),
        ("26216008", "Central"),
        ("14414005", "Peripheral"),
        ("410679008", "Surface"),
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


@functools.cache
def all_regions() -> tuple[AnatomicRegion, ...]:
    """Return every known anatomic region, skin regions first.

    Returns
    -------
    tuple[AnatomicRegion, ...]
        The CID 4029 skin regions, then highdicom's Annex L table sorted by
        meaning; each (scheme, code) appears once.
    """
    skin = tuple(
        AnatomicRegion(code, "SCT", meaning, paired, SOURCE_CID_4029)
        for code, meaning, paired in _SKIN_REGIONS
    )
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
