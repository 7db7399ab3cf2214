"""Validate a dataset against its IOD: file meta, modules, Types, conditions, pixels.

:func:`validate` collects :class:`~tbp_core.validation.findings.Finding` objects; it never
raises on a bad dataset and never reads deferred values (Pixel Data stays on
disk). The requirement tables come from :mod:`tbp_core.standard`; values (VR,
VM, UIDs, enumerations) are checked by :func:`tbp_core.validation.values.check_values`.

Type 1C/2C conditions are evaluated for the attributes listed in
``_CONDITIONS`` (calibrated against dicom3tools' ``dciodvfy``); every other
absent conditional attribute is named once in an ``info`` finding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from pydicom._dicom_dict import RepeatersDictionary  # repeating groups (60xx)
from pydicom.datadict import (
    dictionary_has_tag,
    dictionary_is_retired,
    keyword_for_tag,
    tag_for_keyword,
)
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileDataset
from pydicom.sequence import Sequence
from pydicom.uid import UID, AllTransferSyntaxes

from tbp_core import standard
from tbp_core.standard.anatomy import is_snomed_rt, sct_for_snomed_rt
from tbp_core.validation.findings import (
    Finding,
    Severity,
    ValidationReport,
    sorted_findings,
    tag_text,
)
from tbp_core.validation.values import check_values

#: Required File Meta Information elements (PS3.10 7.1).
_META_REQUIRED = (
    "FileMetaInformationGroupLength",
    "FileMetaInformationVersion",
    "MediaStorageSOPClassUID",
    "MediaStorageSOPInstanceUID",
    "TransferSyntaxUID",
    "ImplementationClassUID",
)

#: Transfer syntaxes whose Pixel Data is native (not encapsulated).
_NATIVE_SYNTAXES = frozenset(
    {
        "1.2.840.10008.1.2",
        "1.2.840.10008.1.2.1",
        "1.2.840.10008.1.2.1.99",
        "1.2.840.10008.1.2.2",
    }
)

#: Attributes a person does not fill in: the converter derives them.
_DERIVED = frozenset(
    {
        "SOPClassUID",
        "SOPInstanceUID",
        "SamplesPerPixel",
        "PhotometricInterpretation",
        "PlanarConfiguration",
        "Rows",
        "Columns",
        "BitsAllocated",
        "BitsStored",
        "HighBit",
        "PixelRepresentation",
        "NumberOfFrames",
        "PixelData",
        "FloatPixelData",
        "DoubleFloatPixelData",
        "ICCProfile",
        "LossyImageCompression",
        "LossyImageCompressionRatio",
        "LossyImageCompressionMethod",
        "SpecificCharacterSet",
    }
)

#: Retired attributes with an obvious replacement.
_REPLACEMENTS = {
    "ImagePosition": "ImagePositionPatient (0020,0032) with a FrameOfReferenceUID",
    "ImageOrientation": "ImageOrientationPatient (0020,0037) with a FrameOfReferenceUID",
    "Location": "SliceLocation (0020,1041)",
    "OtherPatientIDs": "OtherPatientIDsSequence (0010,1002)",
}

#: Samples per Pixel each Photometric Interpretation needs.
_SAMPLES_FOR_PHOTOMETRIC = {
    "MONOCHROME1": 1,
    "MONOCHROME2": 1,
    "PALETTE COLOR": 1,
    "RGB": 3,
    "HSV": 3,
    "ARGB": 4,
    "CMYK": 4,
    "YBR_FULL": 3,
    "YBR_FULL_422": 3,
    "YBR_PARTIAL_422": 3,
    "YBR_PARTIAL_420": 3,
    "YBR_ICT": 3,
    "YBR_RCT": 3,
}

_OBSOLETE_SCHEMES = frozenset({"SRT", "DAS", "SNM3"})
_TEXT_VRS = frozenset({"SH", "LO", "ST", "LT", "UT", "UC", "PN"})
_TYPE_RANK = {"1": 0, "2": 1, "1C": 2, "2C": 3, "3": 4}
_PIXEL_DATA = 0x7FE00010


@dataclass
class _Context:
    """What the checks share while validating one dataset."""

    ds: Dataset
    iod: str
    findings: list[Finding] = field(default_factory=list)
    reported: set[tuple[str, str]] = field(default_factory=set)
    unevaluated: set[str] = field(default_factory=set)
    unconditional: set[tuple[str, str]] = field(default_factory=set)
    unreadable: set[str] = field(default_factory=set)

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)


# --------------------------------------------------------------------------- elements


def _tag(keyword: str) -> int | None:
    tag = tag_for_keyword(keyword)
    return tag if tag is not None else _repeater_tags().get(keyword)


@cache
def _repeater_tags() -> dict[str, int]:
    """Keywords of repeating-group attributes (overlays: 60xx) → their tag in group 6000."""
    return {
        entry[4]: int(mask.replace("x", "0"), 16)
        for mask, entry in RepeatersDictionary.items()
        if entry[4] and mask.startswith("60xx")
    }


def _raw(ds: Dataset, tag: int) -> DataElement | RawDataElement | None:
    """The element as stored, without reading a deferred value."""
    try:
        item = ds.get_item(tag, keep_deferred=True)
    except Exception:  # a damaged dataset can fail anywhere
        return None
    return item if isinstance(item, (DataElement, RawDataElement)) else None


def _element(ctx: _Context, ds: Dataset, tag: int, path: str) -> DataElement | None:
    """The converted element (never for a deferred value); unreadable → finding."""
    raw = _raw(ds, tag)
    if raw is None:
        return None
    if isinstance(raw, DataElement):
        return raw
    if raw.value is None:  # deferred: large, never read here
        return None
    try:
        elem = ds[tag]
    except Exception as exc:
        _unreadable(ctx, tag, path, exc)
        return None
    return elem if isinstance(elem, DataElement) else None


def _unreadable(ctx: _Context, tag: int, path: str, exc: BaseException) -> None:
    if path in ctx.unreadable:
        return
    ctx.unreadable.add(path)
    keyword = keyword_for_tag(tag)
    reason = " ".join(str(exc).split())[:160] or type(exc).__name__
    ctx.add(
        Finding(
            severity="error",
            code="unreadable-value",
            message=f"{path or tag_text(tag)}: the value cannot be read ({reason}); "
            "re-enter or delete it",
            tag=tag_text(tag),
            keyword=keyword,
            path=path,
            field=_field(keyword, path),
        )
    )


def _is_empty(ctx: _Context, ds: Dataset, tag: int, path: str) -> bool:
    raw = _raw(ds, tag)
    if raw is None:
        return True
    if isinstance(raw, RawDataElement):
        if raw.length == 0:
            return True
        if raw.value is None:
            return False
    elem = _element(ctx, ds, tag, path)
    if elem is None:
        return False
    try:
        return bool(elem.VM == 0)
    except Exception:
        return False


def _value(ctx: _Context, ds: Dataset, keyword: str) -> Any:
    """The value of a top-level (or item-level) element, or None."""
    tag = _tag(keyword)
    if tag is None or tag not in ds:
        return None
    elem = _element(ctx, ds, tag, keyword)
    return None if elem is None else elem.value


def _text(ctx: _Context, ds: Dataset, keyword: str) -> str:
    value = _value(ctx, ds, keyword)
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        value = value[0] if len(value) else ""
    return str(value).strip()


def _int(ctx: _Context, ds: Dataset, keyword: str) -> int | None:
    value = _value(ctx, ds, keyword)
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        value = value[0] if len(value) else None
    try:
        return None if value is None or value == "" else int(value)
    except (TypeError, ValueError):
        return None


def _has(ds: Dataset, keyword: str) -> bool:
    tag = _tag(keyword)
    return tag is not None and tag in ds


def _items(ctx: _Context, ds: Dataset, keyword: str, path: str) -> list[tuple[str, Dataset]]:
    """Items of a sequence as (path, item); empty when absent or not a sequence."""
    tag = _tag(keyword)
    if tag is None or tag not in ds:
        return []
    elem = _element(ctx, ds, tag, path)
    if elem is None or not isinstance(elem.value, Sequence):
        return []
    return [(f"{path}[{i}]", item) for i, item in enumerate(elem.value)]


def _field(keyword: str, path: str) -> str:
    """The template key that fixes a finding: the keyword of a top-level attribute."""
    if keyword and path == keyword and keyword not in _DERIVED:
        return keyword
    return ""


def _join(prefix: str, keyword: str) -> str:
    return f"{prefix}.{keyword}" if prefix else keyword


# --------------------------------------------------------------------------- file meta


def _check_file_meta(ctx: _Context) -> None:
    ds = ctx.ds
    meta = getattr(ds, "file_meta", None)
    if not isinstance(ds, FileDataset) and meta is None:
        return
    if isinstance(ds, FileDataset) and getattr(ds, "preamble", b"") is None:
        ctx.add(
            Finding(
                "warning",
                "meta-no-preamble",
                "the file has no 128-byte preamble and 'DICM' prefix; write it as a "
                "DICOM Part 10 file (tbp-dicom edit rewrites it)",
            )
        )
    if meta is None or len(meta) == 0:
        ctx.add(
            Finding(
                "warning",
                "meta-absent",
                "the file has no File Meta Information (group 0002); write it as a "
                "DICOM Part 10 file",
            )
        )
        return
    for keyword in _META_REQUIRED:
        if keyword not in meta:
            ctx.add(
                Finding(
                    "error",
                    "type1-missing",
                    f"File Meta Information lacks {keyword} (Type 1); rewrite the file "
                    "with a complete file meta group",
                    tag=tag_text(tag_for_keyword(keyword) or 0),
                    keyword=keyword,
                    path=keyword,
                    module="file-meta-information",
                )
            )
    for meta_kw, ds_kw in (
        ("MediaStorageSOPClassUID", "SOPClassUID"),
        ("MediaStorageSOPInstanceUID", "SOPInstanceUID"),
    ):
        try:
            meta_value = str(meta.get(meta_kw, "") or "").strip()
        except Exception:
            continue
        ds_value = _text(ctx, ds, ds_kw)
        if meta_value and ds_value and meta_value != ds_value:
            ctx.add(
                Finding(
                    "error",
                    "meta-sop-mismatch",
                    f"{meta_kw} {meta_value!r} differs from {ds_kw} {ds_value!r}; "
                    f"they must be equal — rewrite the file meta from the dataset",
                    tag=tag_text(tag_for_keyword(meta_kw) or 0),
                    keyword=meta_kw,
                    path=meta_kw,
                )
            )
    try:
        syntax = str(meta.get("TransferSyntaxUID", "") or "").strip()
    except Exception:
        syntax = ""
    if syntax and not (UID(syntax).is_transfer_syntax or syntax in AllTransferSyntaxes):
        ctx.add(
            Finding(
                "error",
                "meta-transfer-syntax",
                f"TransferSyntaxUID {syntax!r} is not a known transfer syntax; "
                "write the file in a standard one (e.g. 1.2.840.10008.1.2.1)",
                tag="(0002,0010)",
                keyword="TransferSyntaxUID",
                path="TransferSyntaxUID",
            )
        )


def _transfer_syntax(ds: Dataset) -> str:
    meta = getattr(ds, "file_meta", None)
    try:
        return str(meta.get("TransferSyntaxUID", "") or "").strip() if meta else ""
    except Exception:
        return ""


# --------------------------------------------------------------------------- conditions

#: A condition: True when required, False when not, None when it cannot be decided.
Condition = Callable[[_Context, Dataset], bool | None]


def _functional_group_items(ctx: _Context, ds: Dataset, sequence: str) -> list[Dataset]:
    found = []
    for group in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
        for _, item in _items(ctx, ds, group, group):
            found += [inner for _, inner in _items(ctx, item, sequence, sequence)]
    return found


def _is_enhanced(ctx: _Context) -> bool:
    """True for multi-frame functional-group IODs (Enhanced CT/MR, SEG, WSI, ...)."""
    return bool(ctx.iod) and (
        "SharedFunctionalGroupsSequence" in standard.top_level_keywords_of_iod(ctx.iod)
    )


def _laterality(ctx: _Context, ds: Dataset) -> bool | None:
    if ctx.iod in _NO_LATERALITY_CHECK:
        return None
    if _has(ds, "ImageLaterality"):
        return False
    if any(
        _has(i, "FrameLaterality") for i in _functional_group_items(ctx, ds, "FrameAnatomySequence")
    ):
        return False
    if not (_has(ds, "Rows") or _has(ds, "PixelData")):
        return None
    body_part = _text(ctx, ds, "BodyPartExamined").upper()
    if not body_part:
        return True
    row = standard.anatomic_region_table().get(body_part)
    if row is None or len(row) < 4:
        return True  # not known to be unpaired (dciodvfy requires it too)
    return bool(row[3])


def _patient_orientation(ctx: _Context, ds: Dataset) -> bool | None:
    if _has(ds, "ImageOrientationPatient") or _has(ds, "ImageOrientationSlide"):
        return False
    planes = _functional_group_items(ctx, ds, "PlaneOrientationSequence")
    if any(_has(i, "ImageOrientationPatient") for i in planes):
        return False
    return not _is_enhanced(ctx) or not _has(ds, "TotalPixelMatrixRows")


def _planar_configuration(ctx: _Context, ds: Dataset) -> bool | None:
    samples = _int(ctx, ds, "SamplesPerPixel")
    return None if samples is None else samples > 1


def _pixel_data(ctx: _Context, ds: Dataset) -> bool | None:
    others = ("PixelDataProviderURL", "FloatPixelData", "DoubleFloatPixelData")
    return not any(_has(ds, k) for k in others)


def _deidentification(ctx: _Context, ds: Dataset) -> bool | None:
    if _text(ctx, ds, "PatientIdentityRemoved").upper() != "YES":
        return False
    either = ("DeidentificationMethod", "DeidentificationMethodCodeSequence")
    return not any(_has(ds, k) for k in either)


def _content_date_time(ctx: _Context, ds: Dataset) -> bool | None:
    return None  # "temporally related" cannot be known from one instance


def _immersion_media(ctx: _Context, ds: Dataset) -> bool | None:
    method = _text(ctx, ds, "DermoscopicContactMethod") or _text(ctx, ds, "ContactMethod")
    if not method:
        return None
    return method.upper() == "CONTACT"


def _specific_character_set(ctx: _Context, ds: Dataset) -> bool | None:
    return _has_non_ascii(ctx, ds, 0)


def _frame_of_reference(ctx: _Context, ds: Dataset) -> bool | None:
    if _has(ds, "ImagePositionPatient") or _has(ds, "ImageOrientationPatient"):
        return True
    return None


def _window(ctx: _Context, ds: Dataset) -> bool | None:
    photometric = _text(ctx, ds, "PhotometricInterpretation").upper()
    if not photometric:
        return None
    return photometric == "MONOCHROME2" and not _has(ds, "VOILUTSequence")


def _not_tiled_full(ctx: _Context, ds: Dataset) -> bool | None:
    """Per-frame groups and the dimension index are required unless frames are TILED_FULL."""
    return _text(ctx, ds, "DimensionOrganizationType").upper() != "TILED_FULL"


def _original_or_mixed(ctx: _Context, ds: Dataset) -> bool | None:
    """Enhanced image conditions: Image Type Value 1 is ORIGINAL or MIXED."""
    image_type = _value(ctx, ds, "ImageType")
    if not image_type:
        return None
    first = str(image_type) if isinstance(image_type, str) else str(image_type[0])
    return first.upper() in ("ORIGINAL", "MIXED")


def _monochrome2(ctx: _Context, ds: Dataset) -> bool | None:
    """Required when Photometric Interpretation is MONOCHROME2."""
    photometric = _text(ctx, ds, "PhotometricInterpretation").upper()
    return photometric == "MONOCHROME2" if photometric else None


def _non_human(ctx: _Context, ds: Dataset) -> bool | None:
    """Patient Study's animal attributes: required when the patient is not human."""
    return _has(ds, "PatientSpeciesDescription") or _has(ds, "PatientSpeciesCodeSequence")


def _patient_position(ctx: _Context, ds: Dataset) -> bool | None:
    if ctx.iod not in _PATIENT_POSITION_IODS:
        return False
    return not _has(ds, "PatientOrientationCodeSequence")


def _referenced_structure_set(ctx: _Context, ds: Dataset) -> bool | None:
    geometry = _text(ctx, ds, "RTPlanGeometry").upper()
    return None if not geometry else geometry == "PATIENT"


_NO_LATERALITY_CHECK = frozenset(
    {"segmentation", "label-map-segmentation", "vl-whole-slide-microscopy-image"}
)
_PATIENT_POSITION_IODS = frozenset(
    {
        "ct-image",
        "mr-image",
        "enhanced-ct-image",
        "enhanced-mr-image",
        "enhanced-mr-color-image",
        "mr-spectroscopy",
    }
)

_CONDITIONS: dict[str, Condition] = {
    "PatientPosition": _patient_position,
    "ReferencedStructureSetSequence": _referenced_structure_set,
    "Laterality": _laterality,
    "PatientOrientation": _patient_orientation,
    "PlanarConfiguration": _planar_configuration,
    "PixelData": _pixel_data,
    "DeidentificationMethod": _deidentification,
    "DeidentificationMethodCodeSequence": _deidentification,
    "ContentDate": _content_date_time,
    "ContentTime": _content_date_time,
    "ImmersionMedia": _immersion_media,
    "SpecificCharacterSet": _specific_character_set,
    "FrameOfReferenceUID": _frame_of_reference,
    "PerFrameFunctionalGroupsSequence": _not_tiled_full,
    "DimensionIndexSequence": _not_tiled_full,
}

#: Conditions that hold only in some modules (module key → keyword → condition).
_MODULE_CONDITIONS: dict[str, dict[str, Condition]] = {
    "vl-image": {"WindowCenter": _window, "WindowWidth": _window},
    "enhanced-mr-image": {
        "BurnedInAnnotation": _original_or_mixed,
        "LossyImageCompression": _original_or_mixed,
        "ApplicableSafetyStandardAgency": _original_or_mixed,
        "PresentationLUTShape": _monochrome2,
    },
    "patient-study": {"PatientSexNeutered": _non_human},
}


def _has_non_ascii(ctx: _Context, ds: Dataset, depth: int) -> bool:
    if depth > 8:
        return False
    for tag in list(ds.keys()):
        raw = _raw(ds, tag)
        if raw is None:
            continue
        vr = raw.VR
        if vr == "SQ" or (isinstance(raw, DataElement) and isinstance(raw.value, Sequence)):
            for _, item in _items(ctx, ds, keyword_for_tag(tag), keyword_for_tag(tag)):
                if _has_non_ascii(ctx, item, depth + 1):
                    return True
            continue
        if vr not in _TEXT_VRS:
            continue
        value = raw.value
        if isinstance(value, bytes):
            if any(b > 0x7F for b in value):
                return True
        elif value is not None and any(ord(c) > 0x7F for c in str(value)):
            return True
    return False


def _code_item_condition(keyword: str, item: Dataset) -> bool | None:
    """Code Sequence Macro: one of the code values, and a scheme unless it is a URN."""
    if keyword == "CodeValue":
        return not (_has(item, "LongCodeValue") or _has(item, "URNCodeValue"))
    if keyword == "CodingSchemeDesignator":
        return _has(item, "CodeValue") or _has(item, "LongCodeValue")
    return None


# --------------------------------------------------------------------------- modules


_FUNCTIONAL_GROUPS = frozenset(
    {"SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"}
)


def _module_present(ds: Dataset, module: standard.ModuleUsage, shared: frozenset[str]) -> bool:
    """M modules always; C/U modules when one of their own Type 1/2 attributes is there.

    ``shared`` holds keywords that also belong to another module of the IOD: they
    do not show which of the modules is present.
    """
    if module.usage == "M":
        return True
    for path, attributes in standard.module_attributes_by_path(module.key):
        if path:
            continue
        for attribute in attributes:
            if attribute.keyword in shared or attribute.type not in ("1", "2", "1C", "2C"):
                continue
            tag = _tag(attribute.keyword)
            if tag is not None and _present_in_any_group(ds, tag):
                return True
    return False


def _overlay_groups(ds: Dataset) -> list[int]:
    """Offsets (0, 0x20000, ...) of the overlay groups 60xx present in the dataset."""
    groups = sorted({(t >> 16) for t in _top_level_tags(ds) if 0x6000 <= (t >> 16) <= 0x601E})
    return [(g - 0x6000) << 16 for g in groups if g % 2 == 0]


def _present_in_any_group(ds: Dataset, tag: int) -> bool:
    if tag >> 16 != 0x6000:
        return tag in ds
    return any((tag + offset) in ds for offset in _overlay_groups(ds))


def _checked(path: tuple[str, ...]) -> bool:
    """Whether Types at this path are meaningful on their own.

    Functional group macros (directly inside the functional group sequences)
    are required per IOD, not by the module table; SR content items depend
    on their value type.
    """
    if len(path) == 1 and path[0] in _FUNCTIONAL_GROUPS:
        return False
    return "ContentSequence" not in path


#: Modules whose table flattens a recursive structure: only these attributes are checked.
_ONLY = {"sr-document-content": frozenset({"ValueType"})}


@cache
def _shared_keywords(iod: str) -> frozenset[str]:
    """Top-level keywords listed by more than one module of the IOD (mandatory ones first)."""
    seen: dict[str, int] = {}
    mandatory: set[str] = set()
    for module in standard.modules_of_iod(iod):
        for path, rows in standard.module_attributes_by_path(module.key):
            if path:
                continue
            for attribute in rows:
                seen[attribute.keyword] = seen.get(attribute.keyword, 0) + 1
                if module.usage == "M":
                    mandatory.add(attribute.keyword)
    return frozenset(k for k, n in seen.items() if n > 1) | frozenset(mandatory)


def _overrides(
    current: tuple[standard.ModuleUsage, standard.ModuleAttribute],
    module: standard.ModuleUsage,
    attribute: standard.ModuleAttribute,
) -> bool:
    """Which module's Type applies when two list the same attribute.

    The stricter Type wins, except that an IOD-specific module refines a
    general one (SC Equipment's Modality, Type 3, over General Series' Type 1).
    """
    old_module, old = current
    if old_module.key.startswith("general-") and not module.key.startswith(
        ("general-", "sop-common", "common-")
    ):
        return True
    return _TYPE_RANK.get(attribute.type, 9) < _TYPE_RANK.get(old.type, 9)


def _check_modules(ctx: _Context) -> None:
    modules = standard.modules_of_iod(ctx.iod)
    shared = _shared_keywords(ctx.iod)
    # The same attribute in several modules: the later (more specific) module's Type wins,
    # e.g. SC Equipment's Modality (Type 3) over General Series' (Type 1).
    effective: dict[
        tuple[tuple[str, ...], str], tuple[standard.ModuleUsage, standard.ModuleAttribute]
    ] = {}
    for module in modules:
        if not _module_present(ctx.ds, module, shared):
            continue
        for path, attributes in standard.module_attributes_by_path(module.key):
            if not _checked(path):
                continue
            only = _ONLY.get(module.key)
            for attribute in attributes:
                if only is not None and attribute.keyword not in only:
                    continue
                key = (path, attribute.keyword)
                if key not in effective or _overrides(effective[key], module, attribute):
                    effective[key] = (module, attribute)
    by_path: dict[tuple[str, ...], list[tuple[standard.ModuleUsage, standard.ModuleAttribute]]] = {}
    for (path, _), pair in effective.items():
        by_path.setdefault(path, []).append(pair)
    overlays = _overlay_groups(ctx.ds)
    for path, pairs in by_path.items():
        for prefix, item in _items_at(ctx, ctx.ds, path, ""):
            for module, attribute in pairs:
                tag = _tag(attribute.keyword)
                if tag is not None and tag >> 16 == 0x6000 and not path:
                    for offset in overlays:
                        _check_attribute(ctx, module, attribute, item, prefix, tag + offset)
                else:
                    _check_attribute(ctx, module, attribute, item, prefix, tag)


def _items_at(
    ctx: _Context, ds: Dataset, path: tuple[str, ...], prefix: str
) -> Iterator[tuple[str, Dataset]]:
    if not path:
        yield prefix, ds
        return
    head, rest = path[0], path[1:]
    for item_path, item in _items(ctx, ds, head, _join(prefix, head)):
        yield from _items_at(ctx, item, rest, item_path)


def _check_attribute(
    ctx: _Context,
    module: standard.ModuleUsage,
    attribute: standard.ModuleAttribute,
    item: Dataset,
    prefix: str,
    tag: int | None,
) -> None:
    kind = attribute.type
    if kind == "3" or tag is None:
        return
    keyword = attribute.keyword
    path = _join(prefix, keyword)
    generic = ".".join((*attribute.path, keyword))
    if kind in ("1", "2"):
        ctx.unconditional.add((generic, keyword))
    present = tag in item
    if kind == "1C" and present and _is_empty(ctx, item, tag, path):
        _report(ctx, module, "type1c-empty", keyword, tag, path, "present but empty")
        return
    if kind in ("1C", "2C") and not present:
        required = _condition(ctx, module, attribute, item)
        if required is None:
            ctx.unevaluated.add(generic)
        elif required:
            _report(ctx, module, f"type{kind.lower()}-missing", keyword, tag, path, "missing")
        return
    if kind in ("1", "2") and not present:
        _report(ctx, module, f"type{kind}-missing", keyword, tag, path, "missing")
    elif kind == "1" and _is_empty(ctx, item, tag, path):
        _report(ctx, module, "type1-empty", keyword, tag, path, "present but empty")


def _condition(
    ctx: _Context, module: standard.ModuleUsage, attribute: standard.ModuleAttribute, item: Dataset
) -> bool | None:
    if attribute.path:
        return _code_item_condition(attribute.keyword, item)
    special = _MODULE_CONDITIONS.get(module.key, {}).get(attribute.keyword)
    condition = special or _CONDITIONS.get(attribute.keyword)
    if condition is None:
        return None
    try:
        return condition(ctx, item)
    except Exception:
        return None


_FIXES = {
    "1": "give it a value",
    "2": "add it (it may be empty)",
    "1C": "give it a value (its condition holds)",
    "2C": "add it, empty if unknown (its condition holds)",
}


def _report(
    ctx: _Context,
    module: standard.ModuleUsage,
    code: str,
    keyword: str,
    tag: int,
    path: str,
    problem: str,
) -> None:
    key = (path, keyword)
    if key in ctx.reported:
        return
    ctx.reported.add(key)
    kind = code[4:].split("-")[0].upper()
    fix = _FIXES.get(kind, "fix it")
    if problem == "present but empty" and kind == "1C":
        fix = "give it a value, or remove it if its condition does not hold"
    ctx.add(
        Finding(
            severity="error",
            code=code,
            message=f"{path} {tag_text(tag)} is {problem}: Type {kind} in module "
            f"{module.key} ({module.information_entity}); {fix}",
            tag=tag_text(tag),
            keyword=keyword,
            path=path,
            module=module.key,
            ie=module.information_entity,
            field=_field(keyword, path),
        )
    )


def _report_unevaluated(ctx: _Context) -> None:
    names = sorted(
        generic
        for generic in ctx.unevaluated
        if (generic, generic.rsplit(".", 1)[-1]) not in ctx.unconditional
    )
    if not names:
        return
    ctx.add(
        Finding(
            "info",
            "condition-not-evaluated",
            f"{len(names)} conditions not evaluated (Type 1C/2C attributes absent whose "
            f"condition is not checked here): {', '.join(names)}",
        )
    )


# --------------------------------------------------------------------------- other checks


def _check_sop_class(ctx: _Context) -> str:
    ds = ctx.ds
    if not _has(ds, "SOPClassUID") or not _text(ctx, ds, "SOPClassUID"):
        ctx.add(
            Finding(
                "error",
                "sop-class-absent",
                "SOPClassUID (0008,0016) is absent or empty; set the SOP Class UID of the "
                "object's IOD (e.g. 1.2.840.10008.5.1.4.1.1.77.1.4)",
                tag="(0008,0016)",
                keyword="SOPClassUID",
                path="SOPClassUID",
            )
        )
        return ""
    uid = _text(ctx, ds, "SOPClassUID")
    iod = standard.iod_for_sop_class(uid)
    if iod is None:
        valid = UID(uid).is_valid
        why = "is not a known SOP Class" if valid else "is not a UID (digits and dots)"
        ctx.add(
            Finding(
                "error",
                "sop-class-unknown",
                f"SOPClassUID {uid!r} {why}; use the SOP Class UID of the IOD "
                "(e.g. 1.2.840.10008.5.1.4.1.1.77.1.4 for VL Photographic Image)",
                tag="(0008,0016)",
                keyword="SOPClassUID",
                path="SOPClassUID",
            )
        )
        return ""
    return iod


def _top_level_tags(ds: Dataset) -> list[int]:
    try:
        # keys(), not iteration: iterating a Dataset reads deferred values
        return [int(t) for t in ds.keys()]  # noqa: SIM118
    except Exception:
        return []


def _check_retired_and_iod(ctx: _Context) -> None:
    allowed = standard.top_level_keywords_of_iod(ctx.iod) if ctx.iod else frozenset()
    for tag in _top_level_tags(ctx.ds):
        group, element = tag >> 16, tag & 0xFFFF
        if group == 0x0002 or group % 2 == 1 or element == 0 or group == 0xFFFC:
            continue
        if not dictionary_has_tag(tag):
            continue
        keyword = keyword_for_tag(tag)
        if dictionary_is_retired(tag):
            replacement = _REPLACEMENTS.get(keyword)
            fix = f"use {replacement} instead" if replacement else "remove it"
            ctx.add(
                Finding(
                    "warning",
                    "retired",
                    f"{keyword} {tag_text(tag)} is retired from the standard; {fix}",
                    tag=tag_text(tag),
                    keyword=keyword,
                    path=keyword,
                    field=_field(keyword, keyword),
                )
            )
            continue
        if ctx.iod and keyword and keyword not in allowed:
            ctx.add(
                Finding(
                    "warning",
                    "not-in-iod",
                    f"{keyword} {tag_text(tag)} belongs to no module of {ctx.iod}; "
                    "remove it (or use the IOD's own attribute for that information)",
                    tag=tag_text(tag),
                    keyword=keyword,
                    path=keyword,
                    field=_field(keyword, keyword),
                )
            )


def _check_private(ctx: _Context, ds: Dataset, prefix: str, depth: int = 0) -> None:
    if depth > 16:
        return
    tags = _top_level_tags(ds)
    present = set(tags)
    for tag in tags:
        group, element = tag >> 16, tag & 0xFFFF
        if group % 2 == 1 and group > 0x0008 and element >= 0x1000:
            creator = (group << 16) | (element >> 8)
            if creator not in present:
                path = _join(prefix, tag_text(tag))
                ctx.add(
                    Finding(
                        "error",
                        "private-no-creator",
                        f"private element {tag_text(tag)} has no Private Creator at "
                        f"{tag_text(creator)}; add the creator element or remove it",
                        tag=tag_text(tag),
                        path=path,
                    )
                )
        raw = _raw(ds, tag)
        is_sequence = isinstance(raw, DataElement) and raw.VR == "SQ"
        is_sequence = is_sequence or (isinstance(raw, RawDataElement) and raw.VR == "SQ")
        if is_sequence:
            name = keyword_for_tag(tag) or tag_text(tag)
            elem = _element(ctx, ds, tag, _join(prefix, name))
            if elem is not None and isinstance(elem.value, Sequence):
                for i, item in enumerate(elem.value):
                    _check_private(ctx, item, f"{_join(prefix, name)}[{i}]", depth + 1)


def _check_codes(ctx: _Context, ds: Dataset, prefix: str, depth: int = 0) -> None:
    if depth > 16:
        return
    if _has(ds, "CodeValue") and _has(ds, "CodingSchemeDesignator"):
        code = _text(ctx, ds, "CodeValue")
        scheme = _text(ctx, ds, "CodingSchemeDesignator")
        if scheme.upper() in _OBSOLETE_SCHEMES or (code and is_snomed_rt(code, scheme)):
            sct = sct_for_snomed_rt(code)
            fix = f"use CodeValue {sct!r}" if sct else "use the SNOMED CT code"
            ctx.add(
                Finding(
                    "warning",
                    "obsolete-code",
                    f"{_join(prefix, 'CodeValue')} {code!r} (scheme {scheme!r}) is an obsolete "
                    f"SNOMED-RT code; {fix} with CodingSchemeDesignator 'SCT'",
                    tag="(0008,0100)",
                    keyword="CodeValue",
                    path=_join(prefix, "CodeValue"),
                )
            )
    for tag in _top_level_tags(ds):
        raw = _raw(ds, tag)
        vr = raw.VR if isinstance(raw, DataElement) else (raw.VR if raw is not None else None)
        if vr != "SQ":
            continue
        name = keyword_for_tag(tag) or tag_text(tag)
        for item_path, item in _items_by_tag(ctx, ds, tag, _join(prefix, name)):
            _check_codes(ctx, item, item_path, depth + 1)


def _items_by_tag(ctx: _Context, ds: Dataset, tag: int, path: str) -> list[tuple[str, Dataset]]:
    elem = _element(ctx, ds, tag, path)
    if elem is None or not isinstance(elem.value, Sequence):
        return []
    return [(f"{path}[{i}]", item) for i, item in enumerate(elem.value)]


def _check_photometric(ctx: _Context) -> None:
    ds = ctx.ds
    photometric = _text(ctx, ds, "PhotometricInterpretation").upper()
    samples = _int(ctx, ds, "SamplesPerPixel")
    needed = _SAMPLES_FOR_PHOTOMETRIC.get(photometric)
    if needed is None or samples is None or samples == needed:
        return
    ctx.add(
        Finding(
            "error",
            "photometric-samples",
            f"SamplesPerPixel (0028,0002) is {samples} but PhotometricInterpretation "
            f"{photometric} needs {needed}; make them agree (RGB/YBR: 3 samples with "
            "PlanarConfiguration, MONOCHROME: 1)",
            tag="(0028,0002)",
            keyword="SamplesPerPixel",
            path="SamplesPerPixel",
            module="image-pixel",
            ie="Image",
        )
    )


def _stored_length(raw: DataElement | RawDataElement) -> int | None:
    """Length of a value without reading it (raw length, bytes or a seekable buffer)."""
    if isinstance(raw, RawDataElement):
        return None if raw.length == 0xFFFFFFFF else int(raw.length)
    value = raw.value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return len(value)
    if hasattr(value, "seek") and hasattr(value, "tell"):
        try:
            position = value.tell()
            end = int(value.seek(0, 2))
            value.seek(position)
            return end - int(position)
        except (OSError, ValueError):
            return None
    return None


def _check_pixel_length(ctx: _Context) -> None:
    ds = ctx.ds
    raw = _raw(ds, _PIXEL_DATA)
    if raw is None:
        return
    syntax = _transfer_syntax(ds)
    if syntax and syntax not in _NATIVE_SYNTAXES:
        return
    length = _stored_length(raw)
    dims = [_int(ctx, ds, k) for k in ("Rows", "Columns", "SamplesPerPixel", "BitsAllocated")]
    if length is None or any(d is None or d <= 0 for d in dims):
        return
    rows, columns, samples, bits = (int(d) for d in dims if d is not None)
    frames = _int(ctx, ds, "NumberOfFrames") or 1
    expected = (rows * columns * samples * frames * bits + 7) // 8
    if length in (expected, expected + expected % 2):
        return
    ctx.add(
        Finding(
            "error",
            "pixel-length",
            f"PixelData holds {length} bytes but Rows {rows} × Columns {columns} × "
            f"SamplesPerPixel {samples} × BitsAllocated {bits}/8 × frames {frames} = "
            f"{expected}; fix the image attributes or the pixel data",
            tag=tag_text(_PIXEL_DATA),
            keyword="PixelData",
            path="PixelData",
            module="image-pixel",
            ie="Image",
        )
    )


def _guarded(ctx: _Context, check: Callable[[], None], name: str) -> None:
    """Run one check; a crash on a damaged dataset becomes a finding, not an exception."""
    try:
        check()
    except Exception as exc:
        reason = " ".join(str(exc).split())[:160] or type(exc).__name__
        ctx.add(
            Finding(
                "error",
                "unreadable-value",
                f"the {name} check could not read the dataset ({reason}); the file may be damaged",
            )
        )


def _attach_modules(ctx: _Context, findings: list[Finding]) -> list[Finding]:
    """Give value findings the module and IE of their top-level attribute."""
    if not ctx.iod:
        return findings
    owners = _module_owners(ctx.iod)
    done = []
    for finding in findings:
        top = finding.path.split(".", 1)[0].split("[", 1)[0]
        if not finding.module and top in owners:
            key, ie = owners[top]
            finding = replace(finding, module=key, ie=ie)
        done.append(finding)
    return done


def _module_owners(iod: str) -> dict[str, tuple[str, str]]:
    owners: dict[str, tuple[str, str]] = {}
    for module in standard.modules_of_iod(iod):
        for path, rows in standard.module_attributes_by_path(module.key):
            if path:
                continue
            for attribute in rows:
                owners.setdefault(attribute.keyword, (module.key, module.information_entity))
    return owners


# --------------------------------------------------------------------------- entry point


def validate(ds: Dataset) -> ValidationReport:
    """Check a dataset against its IOD and the standard's rules.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        The dataset, typically read with deferred large values
        (:func:`tbp_core.fileio.dicomio.read`); deferred values are never read.

    Returns
    -------
    ValidationReport
        The IOD checked against, the SOP Class UID and the findings (errors
        first). Never raises for a bad dataset: unreadable values become
        ``unreadable-value`` findings.
    """
    ctx = _Context(ds=ds, iod="")
    _guarded(ctx, lambda: _check_file_meta(ctx), "file meta")
    try:
        ctx.iod = _check_sop_class(ctx)
    except Exception:
        ctx.iod = ""
    if ctx.iod:
        _guarded(ctx, lambda: _check_modules(ctx), "module")
        _report_unevaluated(ctx)
    _guarded(ctx, lambda: _check_retired_and_iod(ctx), "retired attribute")
    _guarded(ctx, lambda: _check_private(ctx, ds, ""), "private element")
    _guarded(ctx, lambda: _check_codes(ctx, ds, ""), "code")
    _guarded(ctx, lambda: _check_photometric(ctx), "photometric")
    _guarded(ctx, lambda: _check_pixel_length(ctx), "pixel data length")
    value_findings: list[Finding] = []

    def run_values() -> None:
        value_findings.extend(check_values(ds, ctx.iod or None))

    _guarded(ctx, run_values, "value")
    findings = ctx.findings + _attach_modules(ctx, value_findings)
    sop_class = ""
    try:
        sop_class = _text(ctx, ds, "SOPClassUID")
    except Exception:
        sop_class = ""
    return ValidationReport(
        iod=ctx.iod, sop_class_uid=sop_class, findings=sorted_findings(findings)
    )


__all__ = ["Finding", "Severity", "ValidationReport", "validate"]
