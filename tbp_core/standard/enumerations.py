"""Enumerated values from the DICOM standard (PS3.3, PS3.5) that the validator checks.

Each :class:`EnumRule` says which values one value of one attribute may take,
optionally only in some IODs and only for some transfer syntaxes and Samples
per Pixel. Values are compared as text (binary attributes as their decimal
text); an empty string in ``allowed`` means "may be empty".
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RULES", "VL_IODS", "EnumRule", "rules_for"]


@dataclass(frozen=True)
class EnumRule:
    """Allowed values of one value of one attribute.

    Attributes
    ----------
    keyword : str
        Attribute keyword.
    allowed : tuple of str
        The values allowed.
    index : int or None
        0-based value index, or None for every value.
    iods : frozenset of str or None
        IOD keys the rule applies to; None for every IOD.
    transfer_syntaxes : frozenset of str or None
        Transfer syntax UIDs the rule applies to; None for any.
    samples : int or None
        Samples per Pixel the rule applies to; None for any.
    top_level : bool
        Only for the attribute at the top level of the dataset.
    severity : str
        ``"error"`` for Enumerated Values, ``"warning"`` for Defined Terms.
    reason : str
        Where the rule comes from, shown in the message.
    """

    keyword: str
    allowed: tuple[str, ...]
    index: int | None = None
    iods: frozenset[str] | None = None
    transfer_syntaxes: frozenset[str] | None = None
    samples: int | None = None
    top_level: bool = False
    severity: str = "error"
    reason: str = ""


VL_IODS = frozenset(
    {
        "vl-photographic-image",
        "dermoscopic-photography-image",
        "vl-endoscopic-image",
        "vl-microscopic-image",
        "vl-slide-coordinates-microscopic-image",
    }
)
# One IOD key each, for presentation and for processing alike.
_MAMMO = frozenset({"digital-mammography-x-ray-image"})
_DX = frozenset({"digital-x-ray-image"})

# Transfer syntaxes grouped as PS3.5 section 8.2 treats them.
_UNCOMPRESSED = frozenset(
    {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"}
)
_JPEG_LOSSY = frozenset({"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51"})
_JPEG_LOSSLESS = frozenset({"1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70"})
_JPEG_LS_LOSSLESS = frozenset({"1.2.840.10008.1.2.4.80"})
_JPEG_LS_NEAR = frozenset({"1.2.840.10008.1.2.4.81"})
_J2K_LOSSLESS = frozenset(
    {"1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202"}
)
_J2K = frozenset({"1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.203"})
_RLE = frozenset({"1.2.840.10008.1.2.5"})
_MPEG = frozenset(
    {
        "1.2.840.10008.1.2.4.100",
        "1.2.840.10008.1.2.4.101",
        "1.2.840.10008.1.2.4.102",
        "1.2.840.10008.1.2.4.103",
        "1.2.840.10008.1.2.4.104",
        "1.2.840.10008.1.2.4.105",
        "1.2.840.10008.1.2.4.106",
        "1.2.840.10008.1.2.4.107",
        "1.2.840.10008.1.2.4.108",
    }
)

_MONO = ("MONOCHROME1", "MONOCHROME2")
_MONO_PALETTE = (*_MONO, "PALETTE COLOR")
_PI = "PhotometricInterpretation"
_PS35 = "PS3.5 8.2 for this transfer syntax"
_VL = "VL Image module (PS3.3 C.8.12.1)"
_YES_NO = ("YES", "NO")

RULES: tuple[EnumRule, ...] = (
    # Patient, General Image, General Series and common modules.
    EnumRule("PatientSex", ("M", "F", "O"), reason="Patient module"),
    EnumRule("ImageType", ("ORIGINAL", "DERIVED"), index=0, reason="Image Type value 1"),
    EnumRule("ImageType", ("PRIMARY", "SECONDARY"), index=1, reason="Image Type value 2"),
    EnumRule("LossyImageCompression", ("00", "01")),
    EnumRule("ContentQualification", ("PRODUCT", "RESEARCH", "SERVICE")),
    EnumRule("RecognizableVisualFeatures", _YES_NO),
    EnumRule("BurnedInAnnotation", _YES_NO),
    EnumRule("PartialView", _YES_NO),
    EnumRule("ImageLaterality", ("R", "L", "U", "B")),
    EnumRule("Laterality", ("R", "L")),
    EnumRule("PixelRepresentation", ("0", "1")),
    EnumRule("PlanarConfiguration", ("0", "1")),
    EnumRule("OverlayBitsAllocated", ("1",), reason="Overlay Plane module"),
    EnumRule("OverlayBitPosition", ("0",), reason="Overlay Plane module"),
    EnumRule("PresentationIntentType", ("FOR PRESENTATION", "FOR PROCESSING")),
    # Dermoscopic Image module (PS3.3 C.8.12.13).
    EnumRule("LightSourcePolarization", ("POLARIZED", "NON_POLARIZED")),
    EnumRule("ContactMethod", ("CONTACT", "NON_CONTACT")),
    EnumRule(
        "ImmersionMedia", ("ULTRASOUND_GEL", "ALCOHOL", "WATER", "MINERAL_OIL", "PLASTIC_CAP")
    ),
    # Image Pixel: the Photometric Interpretations of the standard.
    EnumRule(
        _PI,
        (
            *_MONO_PALETTE,
            "RGB",
            "YBR_FULL",
            "YBR_FULL_422",
            "YBR_PARTIAL_422",
            "YBR_PARTIAL_420",
            "YBR_ICT",
            "YBR_RCT",
            "XYB",
        ),
        top_level=True,
        reason="Image Pixel module",
    ),
    # Photometric Interpretation against the transfer syntax (PS3.5 8.2).
    EnumRule(_PI, _MONO, transfer_syntaxes=_JPEG_LOSSY, samples=1, top_level=True, reason=_PS35),
    EnumRule(
        _PI,
        ("YBR_FULL_422", "RGB"),
        transfer_syntaxes=_JPEG_LOSSY,
        samples=3,
        top_level=True,
        reason=_PS35,
    ),
    EnumRule(
        _PI,
        _MONO_PALETTE,
        transfer_syntaxes=_JPEG_LOSSLESS | _JPEG_LS_LOSSLESS | _J2K_LOSSLESS | _RLE,
        samples=1,
        top_level=True,
        reason=_PS35,
    ),
    EnumRule(
        _PI,
        _MONO,
        transfer_syntaxes=_JPEG_LS_NEAR | _J2K,
        samples=1,
        top_level=True,
        reason=_PS35,
    ),
    EnumRule(
        _PI,
        ("YBR_FULL", "RGB"),
        transfer_syntaxes=_JPEG_LOSSLESS | _JPEG_LS_LOSSLESS | _JPEG_LS_NEAR | _RLE,
        samples=3,
        top_level=True,
        reason=_PS35,
    ),
    EnumRule(
        _PI,
        ("YBR_FULL", "RGB", "YBR_RCT"),
        transfer_syntaxes=_J2K_LOSSLESS,
        samples=3,
        top_level=True,
        reason=_PS35,
    ),
    EnumRule(
        _PI,
        ("YBR_FULL", "RGB", "YBR_RCT", "YBR_ICT"),
        transfer_syntaxes=_J2K | _UNCOMPRESSED,
        samples=3,
        top_level=True,
        reason=_PS35,
    ),
    EnumRule(_PI, ("YBR_PARTIAL_420",), transfer_syntaxes=_MPEG, top_level=True, reason=_PS35),
    # VL Image module: VL Photographic, Dermoscopic, Endoscopic, Microscopic.
    EnumRule(
        _PI,
        ("MONOCHROME2", "RGB", "YBR_FULL_422", "YBR_PARTIAL_420", "YBR_ICT", "YBR_RCT"),
        iods=VL_IODS,
        top_level=True,
        reason=_VL,
    ),
    EnumRule(
        _PI,
        ("RGB",),
        iods=VL_IODS,
        transfer_syntaxes=_UNCOMPRESSED | _JPEG_LS_LOSSLESS,
        samples=3,
        top_level=True,
        reason=_VL,
    ),
    EnumRule(
        _PI,
        ("YBR_FULL_422",),
        iods=VL_IODS,
        transfer_syntaxes=_JPEG_LOSSY,
        samples=3,
        top_level=True,
        reason=_VL,
    ),
    EnumRule(
        _PI,
        ("YBR_RCT",),
        iods=VL_IODS,
        transfer_syntaxes=_J2K_LOSSLESS,
        samples=3,
        top_level=True,
        reason=_VL,
    ),
    EnumRule(
        _PI,
        ("YBR_RCT", "YBR_ICT"),
        iods=VL_IODS,
        transfer_syntaxes=_J2K,
        samples=3,
        top_level=True,
        reason=_VL,
    ),
    EnumRule("BitsAllocated", ("8",), iods=VL_IODS, top_level=True, reason=_VL),
    EnumRule("BitsStored", ("8",), iods=VL_IODS, top_level=True, reason=_VL),
    EnumRule("HighBit", ("7",), iods=VL_IODS, top_level=True, reason=_VL),
    EnumRule("PixelRepresentation", ("0",), iods=VL_IODS, top_level=True, reason=_VL),
    EnumRule("SamplesPerPixel", ("1", "3"), iods=VL_IODS, top_level=True, reason=_VL),
    EnumRule("PlanarConfiguration", ("0",), iods=VL_IODS, top_level=True, reason=_VL),
    # Modality per IOD.
    EnumRule(
        "Modality",
        ("XC",),
        iods=frozenset({"vl-photographic-image"}),
        top_level=True,
        reason="VL Photographic Series",
    ),
    EnumRule(
        "Modality",
        ("DMS",),
        iods=frozenset({"dermoscopic-photography-image"}),
        top_level=True,
        reason="Dermoscopic Photography Series",
    ),
    EnumRule(
        "Modality",
        ("ES",),
        iods=frozenset({"vl-endoscopic-image"}),
        top_level=True,
        reason="VL Endoscopic Series",
    ),
    EnumRule("Modality", ("MG",), iods=_MAMMO, top_level=True, reason="Mammography Series"),
    # Secondary Capture Image: single frame.
    EnumRule(
        "NumberOfFrames",
        ("1",),
        iods=frozenset({"secondary-capture-image"}),
        top_level=True,
        reason="Secondary Capture Image IOD (single frame)",
    ),
    EnumRule(
        "ConversionType",
        ("DV", "DI", "DF", "WSD", "SD", "SI", "DRW", "SYN"),
        iods=frozenset({"secondary-capture-image"}),
        top_level=True,
        severity="warning",
        reason="SC Equipment module Defined Terms",
    ),
    # Mammography and DX Image Type value 3 (PS3.3 C.8.11.7.1.4, C.8.11.3).
    EnumRule(
        "ImageType",
        (
            "",
            "STEREO_SCOUT",
            "STEREO_MINUS",
            "STEREO_PLUS",
            "PREFIRE_MINUS",
            "PREFIRE_PLUS",
            "POSTFIRE_MINUS",
            "POSTFIRE_PLUS",
            "POSTBIOPSY_MINUS",
            "POSTBIOPSY_PLUS",
            "POSTBIOPSY",
            "POSTMARKER_MINUS",
            "POSTMARKER_PLUS",
            "POSTMARKER",
            "TOMO_PROJ",
            "TOMOSYNTHESIS",
            "TOMO_SCOUT",
            "PREFIRE",
            "POSTFIRE",
            "PRE_CONTRAST",
            "POST_CONTRAST",
        ),
        index=2,
        iods=_MAMMO,
        top_level=True,
        reason="Mammography Image module",
    ),
    EnumRule("ImageLaterality", ("R", "L", "B"), iods=_MAMMO, reason="Mammography Image module"),
    EnumRule("ImageType", ("",), index=2, iods=_DX, top_level=True, reason="DX Image module"),
    # Enhanced CT: CT Pixel Value Transformation.
    EnumRule(
        "RescaleType",
        ("HU",),
        iods=frozenset({"enhanced-ct-image"}),
        reason="CT Pixel Value Transformation",
    ),
)


def rules_for(keyword: str, iod_key: str | None, top_level: bool) -> tuple[EnumRule, ...]:
    """Rules of ``keyword`` that apply in ``iod_key`` at this depth.

    Parameters
    ----------
    keyword : str
        Attribute keyword.
    iod_key : str or None
        IOD key, or None when the IOD is unknown (only IOD-independent rules apply).
    top_level : bool
        Whether the attribute is at the top level of the dataset.

    Returns
    -------
    tuple of EnumRule
    """
    return tuple(
        rule
        for rule in _BY_KEYWORD.get(keyword, ())
        if (rule.iods is None or (iod_key is not None and iod_key in rule.iods))
        and (top_level or not rule.top_level)
    )


_BY_KEYWORD: dict[str, tuple[EnumRule, ...]] = {}
for _rule in RULES:
    _BY_KEYWORD[_rule.keyword] = (*_BY_KEYWORD.get(_rule.keyword, ()), _rule)
