"""Type 1C/2C and module usage conditions: whether something absent is required.

A condition answers True (required), False (not required) or None (cannot be
decided from this dataset). The standard's own conditions, parsed from PS3.3
(:mod:`tbp_core.validation.standardconditions`), are asked first; the rules
written here apply only where the parsed data has nothing or is known wrong
(:data:`_OVERRIDES`, each with the reason). :func:`module_required` answers
for the C modules of an IOD, :func:`condition_for` for conditional attributes.
"""

from __future__ import annotations

from collections.abc import Callable

from pydicom.datadict import keyword_for_tag
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from tbp_core import standard
from tbp_core.standard import vr as vrs
from tbp_core.validation.context import (
    Context,
    has,
    integer,
    items,
    raw_element,
    text,
    transfer_syntax,
    value_of,
)
from tbp_core.validation.standardconditions import holds, module_condition, standard_condition

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
    """Animal-only attributes: required when the patient is an animal.

    PS3.3 says "Required if the Patient is an animal", which no attribute states
    directly; an animal patient must have its species (Patient Species
    Description or Code Sequence, Type 1C for animals), so without either the
    patient is taken to be human and the attribute is not required.
    """
    return has(ds, "PatientSpeciesDescription") or has(ds, "PatientSpeciesCodeSequence")


def _species_description(ctx: Context, ds: Dataset) -> bool | None:
    """Patient Species Description: for an animal, unless the Code Sequence is there.

    Its pair, Patient Species Code Sequence, has the mirror condition; both are
    absent only for a human patient (see :func:`_non_human`), when neither is required.
    """
    return bool(_non_human(ctx, ds)) and not has(ds, "PatientSpeciesCodeSequence")


def _species_code(ctx: Context, ds: Dataset) -> bool | None:
    return bool(_non_human(ctx, ds)) and not has(ds, "PatientSpeciesDescription")


def _breed_description(ctx: Context, ds: Dataset) -> bool | None:
    """Patient Breed Description: for an animal whose Breed Code Sequence is empty."""
    if not _non_human(ctx, ds):
        return False
    return not any(
        True for _ in items(ctx, ds, "PatientBreedCodeSequence", "PatientBreedCodeSequence")
    )


def _anatomical_orientation(ctx: Context, ds: Dataset) -> bool | None:
    """Anatomical Orientation Type: for an animal "and the Frame of Reference is not bipedal".

    Not required for a human patient; for an animal, whether its frame of
    reference is bipedal is not recorded elsewhere: undecided.
    """
    return None if _non_human(ctx, ds) else False


def _extended_offset_lengths(ctx: Context, ds: Dataset) -> bool | None:
    """Extended Offset Table Lengths: with an Extended Offset Table.

    PS3.3 adds "and every frame is encoded as a single fragment", which is the
    condition for having an Extended Offset Table at all (C.7.6.3.1.8).
    """
    return has(ds, "ExtendedOffsetTable")


#: JPIP Referenced (Deflate) transfer syntaxes, HTJ2K ones included (PS3.5 A.4.5/A.4.11).
_JPIP_SYNTAXES = frozenset(
    {
        "1.2.840.10008.1.2.4.94",
        "1.2.840.10008.1.2.4.95",
        "1.2.840.10008.1.2.4.204",
        "1.2.840.10008.1.2.4.205",
    }
)


def _pixel_data_provider(ctx: Context, ds: Dataset) -> bool | None:
    """Pixel Data Provider URL: required in a JPIP Referenced transfer syntax.

    PS3.3 states it by Transfer Syntax UID, which is in the file meta
    information, not the dataset the parsed conditions test.
    """
    syntax = transfer_syntax(ctx.ds)
    return syntax in _JPIP_SYNTAXES if syntax else None


def _concatenation(ctx: Context, ds: Dataset) -> bool | None:
    """Concatenation UID: "Required if ... part of a Concatenation".

    An instance of a concatenation carries its place in it (In-concatenation
    Number, Concatenation Frame Offset Number, the source's SOP Instance UID,
    each required with Concatenation UID); without any of them it is a
    stand-alone instance.
    """
    others = (
        "InConcatenationNumber",
        "ConcatenationFrameOffsetNumber",
        "SOPInstanceUIDOfConcatenationSource",
        "InConcatenationTotalNumber",
    )
    return any(has(ds, k) for k in others)


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
    # Conditions PS3.3 states in terms the parser cannot turn into a dataset test
    # ("if the Patient is an animal", a transfer syntax, "part of a Concatenation").
    "PatientSpeciesDescription": _species_description,
    "PatientSpeciesCodeSequence": _species_code,
    "PatientBreedDescription": _breed_description,
    "PatientBreedCodeSequence": _non_human,
    "BreedRegistrationSequence": _non_human,
    "ResponsiblePerson": _non_human,
    "ResponsibleOrganization": _non_human,
    "AnatomicalOrientationType": _anatomical_orientation,
    "ExtendedOffsetTableLengths": _extended_offset_lengths,
    "PixelDataProviderURL": _pixel_data_provider,
    "ConcatenationUID": _concatenation,
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


def _spatial_functional_groups(ctx: Context, ds: Dataset) -> bool | None:
    """Multi-frame SC Frame of Reference: with spatial functional group macros.

    PS3.3: "Required if Pixel Measures or Plane Position (Patient) or Plane
    Orientation (Patient) Functional Group Macros Present".
    """
    macros = ("PixelMeasuresSequence", "PlanePositionSequence", "PlaneOrientationSequence")
    return any(_functional_group_items(ctx, ds, macro) for macro in macros)


def _fraction_groups_with(keyword: str) -> Condition:
    """RT Plan's RT Beams / RT Brachy Application Setups: by the fraction groups.

    PS3.3: "Required if RT Fraction Scheme Module exists and ``keyword`` is
    greater than zero for one or more fraction groups".
    """

    def rule(ctx: Context, ds: Dataset) -> bool | None:
        groups = [
            item for _, item in items(ctx, ds, "FractionGroupSequence", "FractionGroupSequence")
        ]
        counts = [integer(ctx, group, keyword) for group in groups]
        if any(count is not None and count > 0 for count in counts):
            return True
        return None if None in counts else False

    return rule


_SC_MULTI_FRAME = (
    "multi-frame-grayscale-byte-secondary-capture-image",
    "multi-frame-grayscale-word-secondary-capture-image",
    "multi-frame-true-color-secondary-capture-image",
)

#: Module usage conditions PS3.3 states clearly but in words the parser cannot
#: turn into a dataset test: (IOD key, module key) → condition.
_MODULE_USAGE: dict[tuple[str, str], Condition] = {
    **{(iod, "frame-of-reference"): _spatial_functional_groups for iod in _SC_MULTI_FRAME},
    ("rt-plan", "rt-beams"): _fraction_groups_with("NumberOfBeams"),
    ("rt-plan", "rt-brachy-application-setups"): _fraction_groups_with(
        "NumberOfBrachyApplicationSetups"
    ),
}


def module_required(ctx: Context, module: standard.ModuleUsage) -> bool | None:
    """Whether a C module of ``ctx.iod`` is required by its usage condition.

    Parameters
    ----------
    ctx : Context
        The validation in progress (IOD, the whole dataset).
    module : standard.ModuleUsage
        A module of the IOD.

    Returns
    -------
    bool or None
        True when the IOD's module table requires it for this dataset
        ("C - Required if ..."), False when that condition does not hold or the
        module is not conditional, None when it cannot be decided (prose such as
        "Required if contrast media was used" states no dataset condition).
    """
    if module.usage != "C":
        return False
    parsed = module_condition(ctx.iod, module.key)
    rule = _MODULE_USAGE.get((ctx.iod, module.key))
    try:
        if parsed is not None:
            return holds(ctx, parsed, ctx.ds)
        return None if rule is None else rule(ctx, ctx.ds)
    except Exception:
        return None
