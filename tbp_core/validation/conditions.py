"""Type 1C/2C conditions: whether an absent conditional attribute is required.

A condition answers True (required), False (not required) or None (cannot be
decided from this dataset). The standard's own conditions, parsed from PS3.3
(:mod:`tbp_core.validation.standardconditions`), are asked first; the rules
written here apply only where the parsed data has nothing or is known wrong
(:data:`_OVERRIDES`, each with the reason).
"""

from __future__ import annotations

from collections.abc import Callable

from pydicom.datadict import keyword_for_tag
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from tbp_core import standard
from tbp_core.standard import vr as vrs
from tbp_core.validation.context import Context, has, integer, items, raw_element, text, value_of
from tbp_core.validation.standardconditions import holds, standard_condition

#: A condition: True when required, False when not, None when it cannot be decided.
Condition = Callable[[Context, Dataset], bool | None]


def _functional_group_items(ctx: Context, ds: Dataset, sequence: str) -> list[Dataset]:
    found = []
    for group in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
        for _, item in items(ctx, ds, group, group):
            found += [inner for _, inner in items(ctx, item, sequence, sequence)]
    return found


def _is_enhanced(ctx: Context) -> bool:
    """True for multi-frame functional-group IODs (Enhanced CT/MR, SEG, WSI, ...)."""
    return bool(ctx.iod) and (
        "SharedFunctionalGroupsSequence" in standard.top_level_keywords_of_iod(ctx.iod)
    )


def _laterality(ctx: Context, ds: Dataset) -> bool | None:
    if ctx.iod in _NO_LATERALITY_CHECK:
        return None
    if has(ds, "ImageLaterality"):
        return False
    if any(
        has(i, "FrameLaterality") for i in _functional_group_items(ctx, ds, "FrameAnatomySequence")
    ):
        return False
    if not (has(ds, "Rows") or has(ds, "PixelData")):
        return None
    body_part = text(ctx, ds, "BodyPartExamined").upper()
    if not body_part:
        return True
    row = standard.anatomic_region_table().get(body_part)
    if row is None or len(row) < 4:
        return True  # not known to be unpaired (dciodvfy requires it too)
    return bool(row[3])


def _patient_orientation(ctx: Context, ds: Dataset) -> bool | None:
    if has(ds, "ImageOrientationPatient") or has(ds, "ImageOrientationSlide"):
        return False
    planes = _functional_group_items(ctx, ds, "PlaneOrientationSequence")
    if any(has(i, "ImageOrientationPatient") for i in planes):
        return False
    return not _is_enhanced(ctx) or not has(ds, "TotalPixelMatrixRows")


def _planar_configuration(ctx: Context, ds: Dataset) -> bool | None:
    samples = integer(ctx, ds, "SamplesPerPixel")
    return None if samples is None else samples > 1


def _pixel_data(ctx: Context, ds: Dataset) -> bool | None:
    others = ("PixelDataProviderURL", "FloatPixelData", "DoubleFloatPixelData")
    return not any(has(ds, k) for k in others)


def _deidentification(ctx: Context, ds: Dataset) -> bool | None:
    if text(ctx, ds, "PatientIdentityRemoved").upper() != "YES":
        return False
    either = ("DeidentificationMethod", "DeidentificationMethodCodeSequence")
    return not any(has(ds, k) for k in either)


def _content_date_time(ctx: Context, ds: Dataset) -> bool | None:
    return None  # "temporally related" cannot be known from one instance


def _immersion_media(ctx: Context, ds: Dataset) -> bool | None:
    method = text(ctx, ds, "DermoscopicContactMethod") or text(ctx, ds, "ContactMethod")
    if not method:
        return None
    return method.upper() == "CONTACT"


def _specific_character_set(ctx: Context, ds: Dataset) -> bool | None:
    return _has_non_ascii(ctx, ds, 0)


def _frame_of_reference(ctx: Context, ds: Dataset) -> bool | None:
    if has(ds, "ImagePositionPatient") or has(ds, "ImageOrientationPatient"):
        return True
    return None


def _window(ctx: Context, ds: Dataset) -> bool | None:
    photometric = text(ctx, ds, "PhotometricInterpretation").upper()
    if not photometric:
        return None
    return photometric == "MONOCHROME2" and not has(ds, "VOILUTSequence")


def _not_tiled_full(ctx: Context, ds: Dataset) -> bool | None:
    """Per-frame groups and the dimension index are required unless frames are TILED_FULL."""
    return text(ctx, ds, "DimensionOrganizationType").upper() != "TILED_FULL"


def _original_or_mixed(ctx: Context, ds: Dataset) -> bool | None:
    """Enhanced image conditions: Image Type Value 1 is ORIGINAL or MIXED."""
    image_type = value_of(ctx, ds, "ImageType")
    if not image_type:
        return None
    first = str(image_type) if isinstance(image_type, str) else str(image_type[0])
    return first.upper() in ("ORIGINAL", "MIXED")


def _monochrome2(ctx: Context, ds: Dataset) -> bool | None:
    """Required when Photometric Interpretation is MONOCHROME2."""
    photometric = text(ctx, ds, "PhotometricInterpretation").upper()
    return photometric == "MONOCHROME2" if photometric else None


def _non_human(ctx: Context, ds: Dataset) -> bool | None:
    """Patient Study's animal attributes: required when the patient is not human."""
    return has(ds, "PatientSpeciesDescription") or has(ds, "PatientSpeciesCodeSequence")


def _patient_position(ctx: Context, ds: Dataset) -> bool | None:
    if ctx.iod not in _PATIENT_POSITION_IODS:
        return False
    return not has(ds, "PatientOrientationCodeSequence")


def _referenced_structure_set(ctx: Context, ds: Dataset) -> bool | None:
    geometry = text(ctx, ds, "RTPlanGeometry").upper()
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


def _has_non_ascii(ctx: Context, ds: Dataset, depth: int) -> bool:
    if depth > 8:
        return False
    for tag in list(ds.keys()):
        raw = raw_element(ds, tag)
        if raw is None:
            continue
        vr = raw.VR
        if vr == "SQ" or (isinstance(raw, DataElement) and isinstance(raw.value, Sequence)):
            for _, item in items(ctx, ds, keyword_for_tag(tag), keyword_for_tag(tag)):
                if _has_non_ascii(ctx, item, depth + 1):
                    return True
            continue
        if vr not in vrs.CHARSET_VRS:
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
        return not (has(item, "LongCodeValue") or has(item, "URNCodeValue"))
    if keyword == "CodingSchemeDesignator":
        return has(item, "CodeValue") or has(item, "LongCodeValue")
    return None


#: Keywords whose parsed condition is known wrong or incomplete: the hand-written rule wins.
_OVERRIDES: dict[str, str] = {
    # "... and the code value is (not) a URN or URL": the parser keeps only the
    # "Code Value is not present" half, which would demand a URN for every long code.
    "CodeValue": "code value kind not parsed",
    "LongCodeValue": "code value kind not parsed",
    "URNCodeValue": "code value kind not parsed",
}


def condition_for(
    ctx: Context, module: standard.ModuleUsage, attribute: standard.ModuleAttribute, item: Dataset
) -> bool | None:
    """Whether an absent Type 1C/2C attribute is required in ``item``.

    Parameters
    ----------
    ctx : Context
        The validation in progress (IOD, the whole dataset).
    module : standard.ModuleUsage
        The module whose table lists the attribute.
    attribute : standard.ModuleAttribute
        The conditional attribute.
    item : Dataset
        The dataset or sequence item that would hold it.

    Returns
    -------
    bool or None
        True when required, False when not, None when it cannot be decided.
    """
    if attribute.keyword not in _OVERRIDES:
        parsed = standard_condition(module.key, attribute.path, attribute.keyword)
        if parsed is not None:
            try:
                return holds(ctx, parsed, item)
            except Exception:
                return None
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
