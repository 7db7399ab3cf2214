r"""Value Representations (PS3.5 6.2) and Value Multiplicity: the one place that knows them.

- VR families: binary, free text, text in the Specific Character Set, single-valued
  text (never split on ``\``), numbers and the range of each integer VR.
- VM: bounds of a VM such as ``"2-2n"``, whether a count fits, splitting values.
- The data dictionary's VR and VM of a tag, private ones through their creator.
- :func:`value_problem`: why a value read from a file breaks its VR (the validator's
  check), from pydicom's own validators (:func:`pydicom.valuerep.validate_value`,
  called with a validation mode, never by changing pydicom's global configuration).
- :class:`InvalidValueError`: the refusal of a value that breaks its VR or VM.

Typed values are brought into one normal form per VR by
:mod:`tbp_core.standard.normalform`.

Enumerated values are not a VR matter: see :mod:`tbp_core.standard.enumerations`.
"""

from __future__ import annotations

import re
from typing import Any

from pydicom import config as pydicom_config
from pydicom.datadict import (
    dictionary_VM,
    dictionary_VR,
    private_dictionary_VM,
    private_dictionary_VR,
)
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence as DicomSequence
from pydicom.tag import Tag
from pydicom.valuerep import (
    BYTES_VR,
    CUSTOMIZABLE_CHARSET_VR,
    MAX_VALUE_LEN,
    STR_VR,
    validate_value,
)

__all__ = [
    "BINARY_INT_VRS",
    "BINARY_VRS",
    "CHARSET_VRS",
    "INT_RANGES",
    "MAX_LENGTHS",
    "NUMBER_VRS",
    "PIXEL_DATA_TAGS",
    "SINGLE_VALUE_VRS",
    "STRING_VRS",
    "TEXT_VRS",
    "InvalidValueError",
    "check_vm",
    "dictionary_vm",
    "dictionary_vr",
    "is_binary",
    "is_empty",
    "length_problem",
    "split_values",
    "stored_text",
    "value_problem",
    "vm_allows",
    "vm_bounds",
]

#: Binary VRs (OB, OD, OF, OL, OV, OW, UN): never text, possibly large and left unread.
BINARY_VRS: frozenset[str] = frozenset(str(vr) for vr in BYTES_VR)
#: Text VRs holding one value that may contain a backslash: never split (their VM is 1).
SINGLE_VALUE_VRS: frozenset[str] = frozenset({"LT", "ST", "UT", "UR"})
#: Free-text VRs: no format beyond length and character repertoire.
TEXT_VRS: frozenset[str] = frozenset({"AE", "LO", "LT", "SH", "ST", "UC", "UR", "UT"})
#: Text VRs whose characters follow Specific Character Set (0008,0005) (PS3.5 6.1.2.3).
CHARSET_VRS: frozenset[str] = frozenset(str(vr) for vr in CUSTOMIZABLE_CHARSET_VR)
#: VRs stored as text, each checked by one of pydicom's validators.
STRING_VRS: frozenset[str] = frozenset(str(vr) for vr in STR_VR)
#: Binary integer VRs.
BINARY_INT_VRS: frozenset[str] = frozenset({"US", "SS", "UL", "SL", "UV", "SV"})
#: VRs holding numbers: decimal and integer strings, binary integers, floats.
NUMBER_VRS: frozenset[str] = frozenset({"DS", "IS", "FL", "FD", *BINARY_INT_VRS})
#: The whole numbers each integer VR holds (PS3.5 Table 6.2-1); ``"US or SS"`` is the
#: VR of pixel-value attributes that follows Pixel Representation.
INT_RANGES: dict[str, tuple[int, int]] = {
    "US": (0, 2**16 - 1),
    "SS": (-(2**15), 2**15 - 1),
    "UL": (0, 2**32 - 1),
    "SL": (-(2**31), 2**31 - 1),
    "UV": (0, 2**64 - 1),
    "SV": (-(2**63), 2**63 - 1),
    "IS": (-(2**31), 2**31 - 1),
    "US or SS": (-(2**15), 2**16 - 1),
}
#: Maximum characters of one value of the text VRs that have one (PS3.5 Table 6.2-1).
MAX_LENGTHS: dict[str, int] = {str(vr): int(length) for vr, length in MAX_VALUE_LEN.items()}
#: Pixel Data, Float Pixel Data and Double Float Pixel Data: bulk data whatever their VR.
PIXEL_DATA_TAGS: frozenset[int] = frozenset({0x7FE00008, 0x7FE00009, 0x7FE00010})

_SEE_ALSO = re.compile(r"\s*Please see <[^>]*>.*$", re.DOTALL)


class InvalidValueError(ValueError):
    """A value that breaks its VR or VM.

    Attributes
    ----------
    message : str
        One line naming the value and the rule, without the attribute
        (``"'2000-13-45' is not a valid date (DA, YYYYMMDD, e.g. 20000726)"``).
    suggestion : str or None
        A corrected value when one is evident.
    """

    def __init__(self, message: str, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.suggestion = suggestion


# ------------------------------------------------------------------ families


def is_binary(vr: str) -> bool:
    """Whether a VR, possibly ambiguous (``"US or OW"``), may hold binary data.

    Parameters
    ----------
    vr : str

    Returns
    -------
    bool
    """
    return any(part.strip() in BINARY_VRS for part in vr.split(" or "))


def is_empty(value: Any) -> bool:
    """Whether a value stands for "no value": None, blank text or an empty list.

    Parameters
    ----------
    value : Any

    Returns
    -------
    bool
    """
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    return isinstance(value, list | tuple | MultiValue | DicomSequence) and len(value) == 0


def length_problem(vr: str, text: str) -> str:
    """Why ``text`` is too long for one value of ``vr`` (:data:`MAX_LENGTHS`), or ``""``.

    Parameters
    ----------
    vr : str
    text : str
        One value, as it would be stored.

    Returns
    -------
    str
        ``"80 characters, LO allows at most 64 characters"``; ``""`` when the
        text fits or the VR has no maximum.
    """
    limit = MAX_LENGTHS.get(vr)
    if limit is None or len(text) <= limit:
        return ""
    return f"{len(text)} characters, {vr} allows at most {limit} characters"


def stored_text(value: Any) -> str:
    """The text one value was stored as (DS/IS as written, bytes as Latin-1).

    Parameters
    ----------
    value : Any
        One value of an element, or a normalised value.

    Returns
    -------
    str
    """
    original = getattr(value, "original_string", None)
    if isinstance(original, str):
        return original
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


def dictionary_vr(tag: int, private_creator: str | None = None) -> str | None:
    """The VR pydicom's dictionary gives a tag (a private one through its creator).

    Parameters
    ----------
    tag : int
    private_creator : str, optional
        The creator of a private element's block.

    Returns
    -------
    str or None
        E.g. ``"PN"``, ``"US or SS"``; None when the dictionary does not know the tag.
    """
    try:
        if Tag(tag).is_private:
            return private_dictionary_VR(tag, private_creator) if private_creator else None
        return str(dictionary_VR(tag))
    except KeyError:
        return None


def dictionary_vm(tag: int, private_creator: str | None = None) -> str:
    """The VM pydicom's dictionary gives a tag; ``"1-n"`` when it does not know it.

    Parameters
    ----------
    tag : int
    private_creator : str, optional
        The creator of a private element's block.

    Returns
    -------
    str
    """
    try:
        if Tag(tag).is_private:
            return private_dictionary_VM(tag, private_creator) if private_creator else "1-n"
        return str(dictionary_VM(tag))
    except KeyError:
        return "1-n"


# ------------------------------------------------------------------ VM


def vm_bounds(vm: str) -> tuple[int, int | None, int]:
    """Minimum, maximum (None: unbounded) and step of a VM such as ``"2-2n"``.

    Parameters
    ----------
    vm : str
        A VM from the data dictionary: ``"1"``, ``"1-3"``, ``"1-n"``, ``"2-2n"``.

    Returns
    -------
    tuple of (int, int or None, int)

    Raises
    ------
    ValueError
        For a VM string of another shape.
    """
    text = vm.strip()
    if "-" not in text:
        return int(text), int(text), 1
    low, high = text.split("-")
    if high.endswith("n"):
        return int(low), None, int(high[:-1] or 1)
    return int(low), int(high), 1


def vm_allows(vm: str, count: int) -> bool:
    """Whether ``count`` values fit a VM (an unusual VM string allows any count).

    Parameters
    ----------
    vm : str
    count : int

    Returns
    -------
    bool
    """
    try:
        low, high, step = vm_bounds(vm)
    except ValueError:
        return True
    return low <= count and (high is None or count <= high) and (count - low) % step == 0


def check_vm(vm: str, count: int) -> None:
    """Refuse a number of values the VM does not allow.

    Parameters
    ----------
    vm : str
    count : int

    Raises
    ------
    InvalidValueError
        ``"has 1 value, expected 2 values (VM 2)"``.
    """
    if vm_allows(vm, count):
        return
    low, high, step = vm_bounds(vm)
    if high == low:
        expected = f"{low} value" + ("" if low == 1 else "s")
    elif high is None:
        expected = f"{low} or more values" + (f" in steps of {step}" if step > 1 else "")
    else:
        expected = f"{low} to {high} values"
    raise InvalidValueError(
        f"has {count} value{'' if count == 1 else 's'}, expected {expected} (VM {vm})"
    )


def split_values(vr: str, value: Any) -> list[Any]:
    r"""The values of a multi-valued input: a list as is, text split on ``\``.

    Parameters
    ----------
    vr : str
        Text of the single-valued VRs (:data:`SINGLE_VALUE_VRS`) is never split.
    value : Any

    Returns
    -------
    list
    """
    if isinstance(value, list | tuple | MultiValue):
        return list(value)
    if isinstance(value, str) and "\\" in value and vr not in SINGLE_VALUE_VRS:
        return value.split("\\")
    return [value]


# ------------------------------------------------------------------ stored values


def value_problem(vr: str, value: Any) -> str:
    """Why one stored value breaks its VR, from pydicom's validators.

    Parameters
    ----------
    vr : str
        The element's VR. Text VRs and UI are checked as text, binary integers
        by range; other VRs are not checked here.
    value : Any
        One value as read (DS/IS keep the text they were written as).

    Returns
    -------
    str
        The validator's reason in one line, or ``""`` when the value is valid.
    """
    if vr in STRING_VRS:
        text = stored_text(value)
        checked: Any = text.rstrip("\0") if vr == "UI" else text
    elif vr in BINARY_INT_VRS:
        checked = value
    else:
        return ""
    try:
        validate_value(vr, checked, validation_mode=pydicom_config.RAISE)
    except (ValueError, TypeError) as exc:
        return _SEE_ALSO.sub("", str(exc)).strip() or "invalid value"
    return ""
