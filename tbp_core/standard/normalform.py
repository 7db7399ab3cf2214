"""The normal form of typed values, one per VR: what every input stores.

:func:`normalise_value` checks a value for an attribute against the data
dictionary's VR and VM (:mod:`tbp_core.standard.vr`) with pydicom's own
validators (:func:`pydicom.valuerep.validate_value`, called with a validation
mode, never by changing pydicom's global configuration) and returns it in
normal form:

- DA ``"20000726"``, TM ``"101530"``, DT ``"20240301101530+0100"``, AS ``"045Y"``;
- DS a string (``"1.68"``: the exact characters written), IS and the binary
  integer VRs an ``int``, FL/FD a ``float`` (FL rounded to single precision);
- PN ``"Family^Given^Middle^Prefix^Suffix"`` with empty trailing parts dropped;
- CS upper case; UI and the text VRs a ``str``; AT an ``int`` tag;
- several values a list; an empty value ``None``.

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
from pydicom.datadict import dictionary_VM, dictionary_VR, tag_for_keyword
from pydicom.tag import BaseTag, Tag
from pydicom.uid import UID
from pydicom.valuerep import DSfloat, PersonName, format_number_as_ds, validate_value

from tbp_core.standard.vr import (
    INT_RANGES,
    SINGLE_VALUE_VRS,
    TEXT_VRS,
    InvalidValueError,
    check_vm,
    is_empty,
    length_problem,
    split_values,
    vm_bounds,
)

__all__ = ["FORMAT_HINTS", "normalise_one", "normalise_value"]

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

_TIME = re.compile(r"(\d{2}):?(\d{2})(?::?(\d{2})(?:[.,](\d{1,6}))?)?")
_PN_PARTS = ("family", "given", "middle", "prefix", "suffix")
_TAG_TEXT = re.compile(r"\(?([0-9A-Fa-f]{4}),?([0-9A-Fa-f]{4})\)?")


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
    too_long = length_problem(vr, text)
    if too_long:
        raise InvalidValueError(f"{text!r} is not valid {vr} text: {too_long}")
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
