"""Enumerated values and defined terms of the DICOM standard (PS3.3, PS3.5): the one table.

Each :class:`EnumRule` says which values one value of one attribute may take,
optionally only in some IODs and only for some transfer syntaxes and Samples
per Pixel. Values are compared as text (binary attributes as their decimal
text); an empty string in ``allowed`` means "may be empty".

Every feature asks this module: the validator (:func:`refusals` with the
file's transfer syntax and Samples per Pixel), and every input (templates,
``--set``, the metadata form, tag edits) through :func:`check`, which refuses a
value outside the Enumerated Values with a message listing them and, where a
typed word plainly means one of them, suggesting it (``"female"`` → ``"F"``).
Defined Terms (severity ``"warning"``) may be extended, so inputs accept them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tbp_core.standard.vr import stored_text

__all__ = [
    "RULES",
    "VL_IODS",
    "EnumRefusal",
    "EnumRule",
    "allowed_values",
    "check",
    "refusals",
    "rules_for",
]


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
_ACQ = "VL Photographic Acquisition module"


def _codes(*numbers: int) -> tuple[str, ...]:
    """Enumerated Values of a binary integer attribute, as the text they are compared as."""
    return tuple(str(number) for number in numbers)


RULES: tuple[EnumRule, ...] = (
    # Patient, General Image, General Series and common modules.
    EnumRule("PatientSex", ("M", "F", "O"), reason="Patient module"),
    EnumRule("ImageType", ("ORIGINAL", "DERIVED"), index=0, reason="Image Type value 1"),
    EnumRule("ImageType", ("PRIMARY", "SECONDARY"), index=1, reason="Image Type value 2"),
    EnumRule("LossyImageCompression", ("00", "01"), reason="General Image module"),
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
    EnumRule(
        "LightSourcePolarization", ("POLARIZED", "NON_POLARIZED"), reason="Dermoscopic Image module"
    ),
    EnumRule("ContactMethod", ("CONTACT", "NON_CONTACT"), reason="Dermoscopic Image module"),
    EnumRule(
        "ImmersionMedia",
        ("ULTRASOUND_GEL", "ALCOHOL", "WATER", "MINERAL_OIL", "PLASTIC_CAP"),
        reason="Dermoscopic Image module",
    ),
    # VL Photographic Acquisition module: the EXIF codes (group 0016).
    EnumRule("ExposureProgram", _codes(*range(9)), reason=_ACQ),
    EnumRule("SensitivityType", _codes(*range(8)), reason=_ACQ),
    EnumRule("MeteringMode", _codes(*range(7), 255), reason=_ACQ),
    EnumRule("LightSource", _codes(*range(5), *range(9, 25), 255), reason=_ACQ),
    EnumRule("FlashFiringStatus", _codes(0, 1), reason=_ACQ),
    EnumRule("FlashReturnStatus", _codes(0, 1, 2, 3), reason=_ACQ),
    EnumRule("FlashMode", _codes(0, 1, 2, 3), reason=_ACQ),
    EnumRule("FlashFunctionPresent", _codes(0, 1), reason=_ACQ),
    EnumRule("FlashRedEyeMode", _codes(0, 1), reason=_ACQ),
    EnumRule("SensingMethod", _codes(1, 2, 3, 4, 5, 7, 8), reason=_ACQ),
    EnumRule("FileSource", _codes(0, 1, 2, 3), reason=_ACQ),
    EnumRule("SceneType", _codes(1), reason=_ACQ),
    EnumRule("CustomRendered", _codes(0, 1), reason=_ACQ),
    EnumRule("ExposureMode", _codes(0, 1, 2), reason=_ACQ),
    EnumRule("WhiteBalance", _codes(0, 1), reason=_ACQ),
    EnumRule("SceneCaptureType", _codes(0, 1, 2, 3), reason=_ACQ),
    EnumRule("GainControl", _codes(*range(5)), reason=_ACQ),
    EnumRule("Contrast", _codes(0, 1, 2), reason=_ACQ),
    EnumRule("Saturation", _codes(0, 1, 2), reason=_ACQ),
    EnumRule("Sharpness", _codes(0, 1, 2), reason=_ACQ),
    EnumRule("SubjectDistanceRange", _codes(0, 1, 2, 3), reason=_ACQ),
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


# ------------------------------------------------------------------ refusals

#: Words people type for an enumerated value, per attribute (upper case).
_HINTS: dict[str, dict[str, str]] = {
    "PatientSex": {"FEMALE": "F", "MALE": "M", "OTHER": "O", "W": "F", "WOMAN": "F", "MAN": "M"},
    "ContentQualification": {"PRODUCTION": "PRODUCT"},
    "ImmersionMedia": {"GEL": "ULTRASOUND_GEL", "OIL": "MINERAL_OIL", "CAP": "PLASTIC_CAP"},
}
#: Words for YES and NO, for every attribute whose Enumerated Values are YES, NO.
_YES_NO_HINTS = {"Y": "YES", "N": "NO", "TRUE": "YES", "FALSE": "NO", "1": "YES", "0": "NO"}
_SEPARATORS = re.compile(r"[\s_-]+")


@dataclass(frozen=True)
class EnumRefusal:
    """A value that one rule of :data:`RULES` does not allow.

    Attributes
    ----------
    keyword : str
        Attribute keyword.
    index : int
        0-based index of the refused value.
    value : str
        The refused value, as text.
    rule : EnumRule
        The rule that refuses it (its ``allowed`` values, ``severity``, ``reason``).
    suggestion : str or None
        The allowed value a typed word plainly means (``"female"`` → ``"F"``).
    """

    keyword: str
    index: int
    value: str
    rule: EnumRule
    suggestion: str | None = None

    @property
    def allowed_text(self) -> str:
        """The allowed values, comma separated (an empty one as ``(empty)``)."""
        return ", ".join(value or "(empty)" for value in self.rule.allowed)

    @property
    def message(self) -> str:
        """One line without the keyword, e.g. ``'X' is not one of M, F, O (Patient module)``."""
        which = f"value {self.index + 1} " if self.rule.index is not None else ""
        where = f" ({self.rule.reason})" if self.rule.reason else ""
        hint = f"; did you mean {self.suggestion!r}?" if self.suggestion else ""
        return f"{which}{self.value!r} is not one of {self.allowed_text}{where}{hint}"


def refusals(
    keyword: str,
    values: Sequence[Any],
    iod_key: str | None = None,
    *,
    top_level: bool = True,
    transfer_syntax: str | None = None,
    samples: int | None = None,
    enumerated_only: bool = False,
) -> tuple[EnumRefusal, ...]:
    """Every rule breach of an attribute's values.

    Parameters
    ----------
    keyword : str
        Attribute keyword.
    values : sequence
        The attribute's values (text, numbers; DS/IS keep their written text).
    iod_key : str or None
        IOD key for IOD-specific rules; None: only the rules of every IOD.
    top_level : bool
        Whether the attribute is at the top level of the dataset.
    transfer_syntax : str or None
        Transfer syntax UID; None (unknown) leaves out the rules that depend on it.
    samples : int or None
        Samples per Pixel; None (unknown) leaves out the rules that depend on it.
    enumerated_only : bool
        Leave out Defined Terms (they may be extended).

    Returns
    -------
    tuple of EnumRefusal
        In rule order; empty when every value is allowed.
    """
    found: list[EnumRefusal] = []
    for rule in rules_for(keyword, iod_key, top_level):
        if enumerated_only and rule.severity != "error":
            continue
        if rule.transfer_syntaxes is not None and transfer_syntax not in rule.transfer_syntaxes:
            continue
        if rule.samples is not None and samples != rule.samples:
            continue
        indexes = range(len(values)) if rule.index is None else (rule.index,)
        for index in indexes:
            if index >= len(values):
                continue
            text = stored_text(values[index]).strip()
            if (rule.index is None and text == "") or text in rule.allowed:
                continue
            found.append(EnumRefusal(keyword, index, text, rule, _suggestion(keyword, rule, text)))
    return tuple(found)


def check(
    keyword: str, value: Any, iod_key: str | None = None, *, top_level: bool = True
) -> EnumRefusal | None:
    """Check an input value against the attribute's Enumerated Values.

    Parameters
    ----------
    keyword : str
        Attribute keyword.
    value : Any
        One value, a list of values, or None (nothing to check).
    iod_key : str or None
        IOD key, when the value is for a known IOD (IOD-specific rules apply).
    top_level : bool
        Whether the attribute is at the top level of the dataset.

    Returns
    -------
    EnumRefusal or None
        The first refusal (its ``message`` lists the allowed values), or None
        when the value is allowed. Rules that depend on the transfer syntax or
        Samples per Pixel, and Defined Terms, are left to the validator.
    """
    if value is None:
        return None
    values = list(value) if isinstance(value, list | tuple) else [value]
    found = refusals(keyword, values, iod_key, top_level=top_level, enumerated_only=True)
    return found[0] if found else None


def allowed_values(
    keyword: str, iod_key: str | None = None, *, index: int = 0, top_level: bool = True
) -> tuple[str, ...]:
    """The values every Enumerated Values rule of an attribute allows for one value.

    Parameters
    ----------
    keyword : str
        Attribute keyword.
    iod_key : str or None
        IOD key; None: only the rules of every IOD.
    index : int
        0-based value index.
    top_level : bool
        Whether the attribute is at the top level of the dataset.

    Returns
    -------
    tuple of str
        In the order the first rule lists them; empty when no rule restricts
        the value. Rules that depend on the transfer syntax or Samples per
        Pixel are left out.
    """
    allowed: tuple[str, ...] | None = None
    for rule in rules_for(keyword, iod_key, top_level):
        if rule.severity != "error" or rule.transfer_syntaxes is not None:
            continue
        if rule.samples is not None or rule.index not in (None, index):
            continue
        allowed = (
            rule.allowed if allowed is None else tuple(v for v in allowed if v in rule.allowed)
        )
    return allowed or ()


def _canonical(text: str) -> str:
    return _SEPARATORS.sub("_", text.strip().upper())


def _suggestion(keyword: str, rule: EnumRule, text: str) -> str | None:
    """The allowed value a typed word plainly means, or None."""
    word = text.strip().upper()
    hints = dict(_HINTS.get(keyword, {}))
    if set(rule.allowed) == set(_YES_NO):
        hints.update(_YES_NO_HINTS)
    hinted = hints.get(word)
    if hinted in rule.allowed:
        return hinted
    same = [value for value in rule.allowed if value and _canonical(value) == _canonical(word)]
    return same[0] if same else None
