r"""Value Representations (PS3.5 6.2) and Value Multiplicity: the one place that knows them.

- VR families: binary, free text, text in the Specific Character Set, single-valued
  text (never split on ``\``), numbers and the range of each integer VR.
- VM: bounds of a VM such as ``"2-2n"``, whether a count fits, splitting values.
- :func:`normalise_value`: a value for an attribute, checked with pydicom's own
  validators (:func:`pydicom.valuerep.validate_value`, called with a validation
  mode, never by changing pydicom's global configuration) and the dictionary's VR
  and VM, brought into one *normal form*:

  - DA ``"20000726"``, TM ``"101530"``, DT ``"20240301101530+0100"``, AS ``"045Y"``;
  - DS a string (``"1.68"``: the exact characters written), IS and the binary
    integer VRs an ``int``, FL/FD a ``float`` (FL rounded to single precision);
  - PN ``"Family^Given^Middle^Prefix^Suffix"`` with empty trailing parts dropped;
  - CS upper case; UI and the text VRs a ``str``; AT an ``int`` tag;
  - several values a list; an empty value ``None``.

- :func:`value_problem`: why a value read from a file breaks its VR (the validator's check).

Enumerated values are not a VR matter: see :mod:`tbp_core.standard.enumerations`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from pydicom import config as pydicom_config
from pydicom.datadict import (
    dictionary_VM,
    dictionary_VR,
    private_dictionary_VM,
    private_dictionary_VR,
    tag_for_keyword,
)
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence as DicomSequence
from pydicom.tag import BaseTag, Tag
from pydicom.uid import UID
from pydicom.valuerep import (
    BYTES_VR,
    CUSTOMIZABLE_CHARSET_VR,
    MAX_VALUE_LEN,
    STR_VR,
    DSfloat,
    PersonName,
    format_number_as_ds,
    validate_value,
)

__all__ = [
    "BINARY_INT_VRS",
    "BINARY_VRS",
    "CHARSET_VRS",
    "FORMAT_HINTS",
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
    "normalise_one",
    "normalise_value",
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
#: What each VR looks like, for messages.
FORMAT_HINTS: dict[str, str] = {
    "AE": "AE, at most 16 characters, no backslash or control characters",
    "AS": "AS, nnnD/W/M/Y, e.g. 045Y",
    "AT": "AT, a tag such as (0010,0010) or a keyword",
    "CS": "CS, at most 16 upper-case letters, digits, spaces or _",
    "DA": "DA, YYYYMMDD, e.g. 20000726",
    "DS": "DS, a decimal number of at most 16 characters, e.g. 1.68",
    "DT": "DT, YYYYMMDDHHMMSS with optional &ZZXX offset, e.g. 20240301101530+0100",
    "FD": "FD, a number",
    "FL": "FL, a number",
    "IS": "IS, a whole number, e.g. 3",
    "LO": "LO, at most 64 characters",
    "PN": "PN, Family^Given^Middle^Prefix^Suffix, e.g. Doe^Jane",
    "SH": "SH, at most 16 characters",
    "TM": "TM, HHMMSS, e.g. 101530",
    "UI": "UI, dotted digits such as 1.2.840.10008.5.1.4.1.1.77.1.4",
}

_SEE_ALSO = re.compile(r"\s*Please see <[^>]*>.*$", re.DOTALL)
_TIME = re.compile(r"(\d{2}):?(\d{2})(?::?(\d{2})(?:[.,](\d{1,6}))?)?")
_PN_PARTS = ("family", "given", "middle", "prefix", "suffix")
_TAG_TEXT = re.compile(r"\(?([0-9A-Fa-f]{4}),?([0-9A-Fa-f]{4})\)?")


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


# ------------------------------------------------------------------ normal form


def normalise_value(
    keyword_or_tag: str | int, value: Any, *, vr: str | None = None, vm: str | None = None
) -> Any:
    """Check a value against an attribute's VR and VM and return its normal form.

    Parameters
    ----------
    keyword_or_tag : str or int
        A keyword (``"PatientBirthDate"``), ``"(gggg,eeee)"`` or an int tag.
    value : Any
        The value in a friendly form: dates as ``"2000-07-26"``, ``"2000/07/26"``
        or :class:`datetime.date`; times as ``"10:15:30"``; date-times as ISO
        8601; numbers as int, float or text; person names as ``"Doe^Jane"`` or
        ``{"family": "Doe", "given": "Jane"}``; several values as a list or a
        backslash-separated string. ``None`` or blank text means empty.
    vr, vm : str, optional
        The VR and VM to use instead of the data dictionary's (private
        elements, elements stored with another VR).

    Returns
    -------
    Any
        The normal form (module docstring); None when empty; a list when the
        VM allows several values and several (or none but one required) are given.

    Raises
    ------
    InvalidValueError
        If the attribute is unknown to the dictionary, is a sequence, or the
        value breaks the VR or VM.
    """
    if vr is None or vm is None:
        tag = _tag_of(keyword_or_tag)
        try:
            vr = vr or dictionary_VR(tag)
            vm = vm or dictionary_VM(tag)
        except KeyError:
            raise InvalidValueError(f"{Tag(tag)} is not in the DICOM dictionary") from None
    if is_empty(value):
        return None
    if vr == "SQ":
        raise InvalidValueError("is a sequence: give a list of items, not one value")
    items = split_values(vr, value)
    check_vm(vm, len(items))
    values = [normalise_one(vr, item) for item in items]
    if len(values) == 1 and vm_bounds(vm)[0] <= 1:
        return values[0]
    return values


def normalise_one(vr: str, value: Any) -> Any:
    """Check one value (never several) against a VR and return its normal form.

    Parameters
    ----------
    vr : str
    value : Any

    Returns
    -------
    Any

    Raises
    ------
    InvalidValueError
        If the value breaks the VR, or the VR has no text form (binary, SQ).
    """
    if vr in _NORMALISERS:
        return _NORMALISERS[vr](value)
    if vr in INT_RANGES:
        return _integer(value, vr)
    if vr in ("FL", "FD"):
        return _float(value, vr)
    if vr in TEXT_VRS:
        return _text(vr, value)
    raise InvalidValueError(f"VR {vr} cannot be given as a value")


def _tag_of(keyword_or_tag: str | int) -> BaseTag:
    if isinstance(keyword_or_tag, int):
        return Tag(keyword_or_tag)
    text = keyword_or_tag.strip()
    tag = tag_for_keyword(text)
    if tag is not None:
        return Tag(tag)
    match = _TAG_TEXT.fullmatch(text)
    if match is None:
        raise InvalidValueError(f"{text!r} is not a DICOM keyword or (gggg,eeee) tag")
    return Tag(int(match[1], 16), int(match[2], 16))


def _validate(vr: str, value: Any, what: str) -> None:
    try:
        validate_value(vr, value, validation_mode=pydicom_config.RAISE)
    except ValueError:
        raise InvalidValueError(f"{value!r} is not {what} ({FORMAT_HINTS.get(vr, vr)})") from None


def _date(value: Any) -> str:
    if isinstance(value, dt.date):  # datetime.datetime too
        return value.strftime("%Y%m%d")
    refusal = InvalidValueError(f"{value!r} is not a valid date ({FORMAT_HINTS['DA']})")
    if not isinstance(value, str):
        raise refusal
    match = re.fullmatch(r"(\d{4})[-/.]?(\d{2})[-/.]?(\d{2})", value.strip())
    if match is None:
        raise refusal
    year, month, day = (int(part) for part in match.groups())
    try:
        dt.date(year, month, day)
    except ValueError:
        raise refusal from None
    return f"{year:04d}{month:02d}{day:02d}"


def _time_text(hour: int, minute: int, second: int | None, fraction: str | None) -> str:
    text = f"{hour:02d}{minute:02d}"
    if second is not None:
        text += f"{second:02d}"
        if fraction:
            text += f".{fraction}"
    return text


def _time(value: Any) -> str:
    if isinstance(value, dt.time | dt.datetime):
        fraction = f"{value.microsecond:06d}" if value.microsecond else None
        return _time_text(value.hour, value.minute, value.second, fraction)
    refusal = InvalidValueError(f"{value!r} is not a valid time ({FORMAT_HINTS['TM']})")
    if not isinstance(value, str):
        raise refusal
    text = value.strip()
    if re.fullmatch(r"\d{2}", text) and int(text) < 24:
        return text
    match = _TIME.fullmatch(text)
    if match is None:
        raise refusal
    hour, minute = int(match[1]), int(match[2])
    second = int(match[3]) if match[3] is not None else None
    if hour > 23 or minute > 59 or (second is not None and second > 60):
        raise refusal
    return _time_text(hour, minute, second, match[4])


def _offset_text(offset: dt.timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}{minutes % 60:02d}"


def _datetime_from_python(value: dt.datetime) -> str:
    text = value.strftime("%Y%m%d%H%M%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    offset = value.utcoffset()
    if offset is not None:
        text += _offset_text(offset)
    return text


def _datetime(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return _datetime_from_python(value)
    if isinstance(value, dt.date):
        return value.strftime("%Y%m%d")
    refusal = InvalidValueError(f"{value!r} is not a valid date-time ({FORMAT_HINTS['DT']})")
    if not isinstance(value, str):
        raise refusal
    text = value.strip()
    if re.fullmatch(r"\d{4,14}(\.\d{1,6})?([+-]\d{4})?", text):
        try:
            validate_value("DT", text, validation_mode=pydicom_config.RAISE)
            _check_dicom_datetime(text)
        except ValueError:
            raise refusal from None
        return text
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise refusal from None
    return _datetime_from_python(parsed)


def _check_dicom_datetime(text: str) -> None:
    """Raise ValueError if the calendar parts of a DICOM DT are impossible."""
    digits = re.match(r"\d+", text)
    assert digits is not None
    core = digits.group(0)
    year = int(core[0:4])
    month = int(core[4:6]) if len(core) >= 6 else 1
    day = int(core[6:8]) if len(core) >= 8 else 1
    hour = int(core[8:10]) if len(core) >= 10 else 0
    minute = int(core[10:12]) if len(core) >= 12 else 0
    second = int(core[12:14]) if len(core) >= 14 else 0
    dt.datetime(year, month, day, hour, minute, min(second, 59))


def _age(value: Any) -> str:
    text = str(value).strip().upper() if isinstance(value, str | int) else ""
    match = re.fullmatch(r"(\d{1,3})\s*([DWMY])", text)
    if match is None:
        raise InvalidValueError(f"{value!r} is not a valid age ({FORMAT_HINTS['AS']})")
    return f"{int(match[1]):03d}{match[2]}"


def _finite(value: Any, vr: str) -> float:
    hint = FORMAT_HINTS.get(vr, vr)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidValueError(f"{value!r} is not a number ({hint})")
    try:
        number = float(value)
    except ValueError:
        raise InvalidValueError(f"{value!r} is not a number ({hint})") from None
    if not math.isfinite(number):
        raise InvalidValueError(f"{value!r} is not a finite number ({hint})")
    return number


def _decimal_string(value: Any) -> str:
    number = _finite(value, "DS")
    if isinstance(value, str | DSfloat):
        text = str(value).strip()
        if len(text) <= 16:
            _validate("DS", text, "a decimal number")
            return text
    if isinstance(value, int) and len(str(value)) <= 16:
        return str(value)
    return format_number_as_ds(number)


def _whole(value: Any) -> int | None:
    """The int a value stands for, or None (bools are not numbers here)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        return int(value)
    return None


def _integer(value: Any, vr: str) -> int:
    number = _whole(value)
    if number is None:
        hint = FORMAT_HINTS.get(vr, f"{vr}, a whole number")
        raise InvalidValueError(f"{value!r} is not a whole number ({hint})")
    low, high = INT_RANGES[vr]
    if not low <= number <= high:
        raise InvalidValueError(f"{value!r} is out of range for {vr} ({low} to {high})")
    return number


def _float(value: Any, vr: str) -> float:
    number = _finite(value, vr)
    if vr == "FL":
        return float(str(np.float32(number)))
    return number


def _code_string(value: Any) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise InvalidValueError(f"{value!r} is not text ({FORMAT_HINTS['CS']})")
    text = str(value).strip().upper()
    _validate("CS", text, "a valid code string")
    return text


def _person_name(value: Any) -> str:
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - set(_PN_PARTS))
        if unknown:
            raise InvalidValueError(
                f"unknown name part {unknown[0]!r}; use family, given, middle, prefix, suffix"
            )
        parts = [str(value.get(part) or "").strip() for part in _PN_PARTS]
        text = "^".join(parts).rstrip("^")
    elif isinstance(value, str | PersonName):
        text = str(value).strip()
    else:
        raise InvalidValueError(f"{value!r} is not a person name ({FORMAT_HINTS['PN']})")
    if "," in text and "^" not in text:
        family, _, given = text.partition(",")
        suggestion = f"{family.strip()}^{given.strip()}"
        raise InvalidValueError(
            f"{text!r} uses a comma; DICOM separates name parts with ^, "
            f"e.g. {suggestion!r} (family^given)",
            suggestion,
        )
    groups = text.split("=")
    if len(groups) > 3 or any(len(group.split("^")) > 5 for group in groups):
        raise InvalidValueError(f"{text!r} is not a valid person name ({FORMAT_HINTS['PN']})")
    _validate("PN", text, "a valid person name")
    return text


def _uid(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidValueError(f"{value!r} is not a UID ({FORMAT_HINTS['UI']})")
    text = value.strip().rstrip("\x00")
    if UID(text, validation_mode=pydicom_config.IGNORE).is_valid:
        return text
    known = _uid_named(text)
    if known is not None:
        raise InvalidValueError(f"{value!r} is a name, not a UID; use {known!r}", known)
    raise InvalidValueError(f"{value!r} is not a valid UID ({FORMAT_HINTS['UI']})")


def _uid_named(name: str) -> str | None:
    from pydicom.uid import UID_dictionary  # type: ignore[attr-defined]

    wanted = name.strip().lower()
    for uid, entry in UID_dictionary.items():
        if str(entry[0]).lower() == wanted:
            return str(uid)
    return None


def _attribute_tag(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return int(Tag(value))
    if isinstance(value, str):
        text = value.strip()
        tag = tag_for_keyword(text)
        if tag is not None:
            return int(tag)
        match = _TAG_TEXT.fullmatch(text)
        if match is not None:
            return int(Tag(int(match[1], 16), int(match[2], 16)))
    raise InvalidValueError(f"{value!r} is not a tag ({FORMAT_HINTS['AT']})")


def _text(vr: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidValueError(f"{value!r} is not text ({vr})")
    text = value if isinstance(value, str) else str(value)
    # Leading spaces are significant in LT, ST and UT; trailing ones never are.
    text = text.rstrip() if vr in ("LT", "ST", "UT") else text.strip()
    if vr not in SINGLE_VALUE_VRS and "\\" in text:
        raise InvalidValueError(f"{text!r} contains a backslash, which separates values in {vr}")
    _validate(vr, text, f"valid {vr} text")
    return text


_NORMALISERS: dict[str, Callable[[Any], Any]] = {
    "DA": _date,
    "TM": _time,
    "DT": _datetime,
    "AS": _age,
    "DS": _decimal_string,
    "CS": _code_string,
    "PN": _person_name,
    "UI": _uid,
    "AT": _attribute_tag,
}
