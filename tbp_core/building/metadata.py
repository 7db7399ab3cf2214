"""Metadata values and keyword-JSON templates.

A template is a JSON object mapping DICOM keywords to values (ARCHITECTURE.md
section 5): sequences are lists of objects, TBP private attributes use
``tbp:`` keys (see :mod:`tbp_core.standard.private`). The DICOM JSON Model (PS3.18
F.2) is accepted as input too and turned into the keyword form.

Every value is checked against the attribute's VR and VM from pydicom's data
dictionary with pydicom's own validators (called directly, never by changing
pydicom's global configuration) and brought into one *normal form*, the form
:func:`parse_template` returns and :func:`dataset_to_template` produces:

- DA ``"20000726"``, TM ``"101530"``, DT ``"20240301101530+0100"``;
- DS a string (``"1.68"``: the exact characters written), IS and the binary
  integer VRs an ``int``, FL/FD a ``float`` (FL rounded to single precision);
- PN ``"Family^Given^Middle^Prefix^Suffix"`` with empty trailing parts dropped;
- CS upper case; UI, text VRs a ``str``; SQ a list of dicts;
- several values a list; an empty value ``None``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pydicom.config
from pydicom.datadict import (
    dictionary_is_retired,
    dictionary_VM,
    dictionary_VR,
    keyword_dict,
    keyword_for_tag,
    tag_for_keyword,
)
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence as DicomSequence
from pydicom.tag import BaseTag, Tag
from pydicom.uid import UID
from pydicom.valuerep import DSfloat, PersonName, format_number_as_ds, validate_value

from tbp_core.errors import FieldProblem, MetadataError
from tbp_core.standard import anatomy, private

__all__ = [
    "FieldProblem",
    "apply_metadata",
    "dataset_to_template",
    "merge_metadata",
    "normalise_value",
    "parse_assignment",
    "parse_template",
    "template_to_json",
]

_BINARY_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN", "NONE"})
# VRs whose single value may itself contain a backslash (never split).
_UNSPLIT_VRS = frozenset({"LT", "ST", "UT", "UR"})
_TEXT_VRS = frozenset({"AE", "LO", "LT", "SH", "ST", "UC", "UR", "UT"})
_INT_RANGES = {
    "US": (0, 0xFFFF),
    "SS": (-0x8000, 0x7FFF),
    "UL": (0, 0xFFFFFFFF),
    "SL": (-0x80000000, 0x7FFFFFFF),
    "UV": (0, 0xFFFFFFFFFFFFFFFF),
    "SV": (-0x8000000000000000, 0x7FFFFFFFFFFFFFFF),
    "IS": (-0x80000000, 0x7FFFFFFF),
    # Pixel-value attributes whose VR follows Pixel Representation.
    "US or SS": (-0x8000, 0xFFFF),
}

# Enumerated values (PS3.3) of CS attributes a TBP user sets by hand; a
# value outside the list is refused with the list in the message.
_ENUMERATED: dict[str, tuple[str, ...]] = {
    "PatientSex": ("M", "F", "O"),
    "ContentQualification": ("PRODUCT", "RESEARCH", "SERVICE"),
    "RecognizableVisualFeatures": ("YES", "NO"),
    "BurnedInAnnotation": ("YES", "NO"),
    "LossyImageCompression": ("00", "01"),
    "ImageLaterality": ("R", "L", "U", "B"),
    "Laterality": ("R", "L"),
    "LightSourcePolarization": ("POLARIZED", "NON_POLARIZED"),
    "ContactMethod": ("CONTACT", "NON_CONTACT"),
}
_ENUM_HINTS: dict[str, dict[str, str]] = {
    "PatientSex": {"FEMALE": "F", "MALE": "M", "OTHER": "O", "W": "F"},
    "ContentQualification": {"PRODUCTION": "PRODUCT"},
    "RecognizableVisualFeatures": {"Y": "YES", "N": "NO", "TRUE": "YES", "FALSE": "NO"},
    "BurnedInAnnotation": {"Y": "YES", "N": "NO", "TRUE": "YES", "FALSE": "NO"},
}

# Attributes dataset_to_template leaves out unless asked for by name: they
# identify one instance, describe its pixels, or are set by the writer.
_NOT_TEMPLATE = frozenset(
    {
        "SOPClassUID",
        "SOPInstanceUID",
        "StudyInstanceUID",
        "SeriesInstanceUID",
        "FrameOfReferenceUID",
        "MediaStorageSOPInstanceUID",
        "InstanceCreationDate",
        "InstanceCreationTime",
        "SpecificCharacterSet",
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
    }
)

_FORMAT_HINTS = {
    "DA": "DA, YYYYMMDD, e.g. 20000726",
    "TM": "TM, HHMMSS, e.g. 101530",
    "DT": "DT, YYYYMMDDHHMMSS with optional &ZZXX offset, e.g. 20240301101530+0100",
    "AS": "AS, nnnD/W/M/Y, e.g. 045Y",
    "DS": "DS, a decimal number of at most 16 characters, e.g. 1.68",
    "IS": "IS, a whole number, e.g. 3",
    "FL": "FL, a number",
    "FD": "FD, a number",
    "UI": "UI, dotted digits such as 1.2.840.10008.5.1.4.1.1.77.1.4",
    "CS": "CS, at most 16 upper-case letters, digits, spaces or _",
    "PN": "PN, Family^Given^Middle^Prefix^Suffix, e.g. Doe^Jane",
    "AT": "AT, a tag such as (0010,0010) or a keyword",
}


class _InvalidError(Exception):
    """One problem found while normalising a value (internal)."""

    def __init__(self, message: str, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.suggestion = suggestion


def _error_for(problems: list[FieldProblem]) -> MetadataError:
    if len(problems) == 1:
        return MetadataError(problems[0].message, problems=tuple(problems))
    listed = "; ".join(problem.message for problem in problems)
    return MetadataError(f"{len(problems)} invalid values: {listed}", problems=tuple(problems))


def _problems_of(error: MetadataError, keyword: str, value: Any) -> list[FieldProblem]:
    if error.problems:
        return list(error.problems)
    return [FieldProblem(keyword, value, str(error), None)]


# --------------------------------------------------------------------- keywords


def _lookup(keyword: str) -> tuple[int, str, str]:
    """Tag, VR and VM of a keyword, refusing unknown and retired keywords."""
    tag = tag_for_keyword(keyword)
    if tag is None:
        candidates = [k for k, t in keyword_dict.items() if not dictionary_is_retired(t)]
        close = difflib.get_close_matches(keyword, candidates, n=1, cutoff=0.6)
        if close:
            raise _InvalidError(f"unknown DICOM keyword; did you mean {close[0]!r}?", close[0])
        raise _InvalidError("unknown DICOM keyword; use the keyword from PS3.6, e.g. PatientName")
    if dictionary_is_retired(tag):
        replacement = _retired_replacement(keyword)
        hint = f"; use {replacement!r}" if replacement else ""
        raise _InvalidError(f"{Tag(tag)} is retired from the DICOM standard{hint}", replacement)
    if tag >> 16 == 0x0002:
        raise _InvalidError("file meta information is written by the library, not set by templates")
    vr = dictionary_VR(tag)
    if _is_binary(vr):
        raise _InvalidError(f"binary attribute ({vr}) cannot be set from a template")
    return tag, vr, dictionary_VM(tag)


def _is_binary(vr: str) -> bool:
    """Whether a (possibly ambiguous, e.g. 'US or OW') VR may hold bulk binary data."""
    return any(part in _BINARY_VRS for part in vr.split(" or "))


def _retired_replacement(keyword: str) -> str | None:
    """The current attribute replacing a retired one, e.g. ImagePosition."""
    for candidate in (f"{keyword}Patient", f"{keyword}InS"):
        tag = tag_for_keyword(candidate)
        if tag is not None and not dictionary_is_retired(tag):
            return candidate
    return None


def _vm_bounds(vm: str) -> tuple[int, int | None, int]:
    """Minimum, maximum (None: unbounded) and step of a VM such as '2-2n'."""
    if "-" not in vm:
        return int(vm), int(vm), 1
    low, high = vm.split("-")
    if high.endswith("n"):
        step = int(high[:-1] or 1)
        return int(low), None, step
    return int(low), int(high), 1


# ------------------------------------------------------------------ values


def _split(vr: str, vm: str, value: Any) -> list[Any]:
    if isinstance(value, list | tuple | MultiValue):
        return list(value)
    if isinstance(value, str) and "\\" in value and vr not in _UNSPLIT_VRS:
        return value.split("\\")
    return [value]


def _check_vm(vm: str, count: int) -> None:
    low, high, step = _vm_bounds(vm)
    if count < low or (high is not None and count > high) or (count - low) % step:
        if high == low:
            expected = f"{low} value" + ("" if low == 1 else "s")
        elif high is None:
            expected = f"{low} or more values" + (f" in steps of {step}" if step > 1 else "")
        else:
            expected = f"{low} to {high} values"
        raise _InvalidError(
            f"has {count} value{'' if count == 1 else 's'}, expected {expected} (VM {vm})"
        )


def _validate(vr: str, value: Any, what: str) -> None:
    try:
        validate_value(vr, value, validation_mode=pydicom.config.RAISE)
    except ValueError:
        raise _InvalidError(f"{value!r} is not {what} ({_FORMAT_HINTS.get(vr, vr)})") from None


def _date(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y%m%d")
    if isinstance(value, dt.date):
        return value.strftime("%Y%m%d")
    if not isinstance(value, str):
        raise _InvalidError(f"{value!r} is not a valid date ({_FORMAT_HINTS['DA']})")
    text = value.strip()
    match = re.fullmatch(r"(\d{4})[-/.]?(\d{2})[-/.]?(\d{2})", text)
    if match is None:
        raise _InvalidError(f"{value!r} is not a valid date ({_FORMAT_HINTS['DA']})")
    year, month, day = (int(part) for part in match.groups())
    try:
        dt.date(year, month, day)
    except ValueError:
        raise _InvalidError(f"{value!r} is not a valid date ({_FORMAT_HINTS['DA']})") from None
    return f"{year:04d}{month:02d}{day:02d}"


def _time_text(hour: int, minute: int, second: int | None, fraction: str | None) -> str:
    text = f"{hour:02d}{minute:02d}"
    if second is not None:
        text += f"{second:02d}"
        if fraction:
            text += f".{fraction}"
    return text


_TIME = re.compile(r"(\d{2}):?(\d{2})(?::?(\d{2})(?:[.,](\d{1,6}))?)?")


def _time(value: Any) -> str:
    if isinstance(value, dt.time | dt.datetime):
        fraction = f"{value.microsecond:06d}" if value.microsecond else None
        return _time_text(value.hour, value.minute, value.second, fraction)
    if not isinstance(value, str):
        raise _InvalidError(f"{value!r} is not a valid time ({_FORMAT_HINTS['TM']})")
    text = value.strip()
    if re.fullmatch(r"\d{2}", text) and int(text) < 24:
        return text
    match = _TIME.fullmatch(text)
    if match is None:
        raise _InvalidError(f"{value!r} is not a valid time ({_FORMAT_HINTS['TM']})")
    hour, minute = int(match[1]), int(match[2])
    second = int(match[3]) if match[3] is not None else None
    if hour > 23 or minute > 59 or (second is not None and second > 60):
        raise _InvalidError(f"{value!r} is not a valid time ({_FORMAT_HINTS['TM']})")
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
    if not isinstance(value, str):
        raise _InvalidError(f"{value!r} is not a valid date-time ({_FORMAT_HINTS['DT']})")
    text = value.strip()
    if re.fullmatch(r"\d{4,14}(\.\d{1,6})?([+-]\d{4})?", text):
        try:
            validate_value("DT", text, validation_mode=pydicom.config.RAISE)
            _check_dicom_datetime(text)
        except ValueError:
            raise _InvalidError(
                f"{value!r} is not a valid date-time ({_FORMAT_HINTS['DT']})"
            ) from None
        return text
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise _InvalidError(f"{value!r} is not a valid date-time ({_FORMAT_HINTS['DT']})") from None
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
        raise _InvalidError(f"{value!r} is not a valid age ({_FORMAT_HINTS['AS']})")
    return f"{int(match[1]):03d}{match[2]}"


def _finite(value: Any, vr: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _InvalidError(f"{value!r} is not a number ({_FORMAT_HINTS.get(vr, vr)})")
    try:
        number = float(value)
    except ValueError:
        raise _InvalidError(f"{value!r} is not a number ({_FORMAT_HINTS.get(vr, vr)})") from None
    if not math.isfinite(number):
        raise _InvalidError(f"{value!r} is not a finite number ({_FORMAT_HINTS.get(vr, vr)})")
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
        hint = _FORMAT_HINTS.get(vr, f"{vr}, a whole number")
        raise _InvalidError(f"{value!r} is not a whole number ({hint})")
    low, high = _INT_RANGES[vr]
    if not low <= number <= high:
        raise _InvalidError(f"{value!r} is out of range for {vr} ({low} to {high})")
    return number


def _float(value: Any, vr: str) -> float:
    number = _finite(value, vr)
    if vr == "FL":
        return float(str(np.float32(number)))
    return number


def _code_string(keyword: str, value: Any) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise _InvalidError(f"{value!r} is not text ({_FORMAT_HINTS['CS']})")
    text = str(value).strip().upper()
    allowed = _ENUMERATED.get(keyword)
    if allowed is not None and text not in allowed:
        hint = _ENUM_HINTS.get(keyword, {}).get(text)
        tail = f"; did you mean {hint!r}?" if hint else ""
        raise _InvalidError(f"{value!r} is not one of {', '.join(allowed)}{tail}", hint)
    _validate("CS", text, "a valid code string")
    return text


_PN_PARTS = ("family", "given", "middle", "prefix", "suffix")


def _person_name(value: Any) -> str:
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - set(_PN_PARTS))
        if unknown:
            raise _InvalidError(
                f"unknown name part {unknown[0]!r}; use family, given, middle, prefix, suffix"
            )
        parts = [str(value.get(part) or "").strip() for part in _PN_PARTS]
        text = "^".join(parts).rstrip("^")
    elif isinstance(value, str | PersonName):
        text = str(value).strip()
    else:
        raise _InvalidError(f"{value!r} is not a person name ({_FORMAT_HINTS['PN']})")
    if "," in text and "^" not in text:
        family, _, given = text.partition(",")
        suggestion = f"{family.strip()}^{given.strip()}"
        raise _InvalidError(
            f"{text!r} uses a comma; DICOM separates name parts with ^, "
            f"e.g. {suggestion!r} (family^given)",
            suggestion,
        )
    groups = text.split("=")
    if len(groups) > 3 or any(len(group.split("^")) > 5 for group in groups):
        raise _InvalidError(f"{text!r} is not a valid person name ({_FORMAT_HINTS['PN']})")
    _validate("PN", text, "a valid person name")
    return text


def _uid(value: Any) -> str:
    if not isinstance(value, str):
        raise _InvalidError(f"{value!r} is not a UID ({_FORMAT_HINTS['UI']})")
    text = value.strip().rstrip("\x00")
    if UID(text, validation_mode=pydicom.config.IGNORE).is_valid:
        return text
    known = _uid_named(text)
    if known is not None:
        raise _InvalidError(f"{value!r} is a name, not a UID; use {known!r}", known)
    raise _InvalidError(f"{value!r} is not a valid UID ({_FORMAT_HINTS['UI']})")


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
        match = re.fullmatch(r"\(?([0-9A-Fa-f]{4}),?([0-9A-Fa-f]{4})\)?", text)
        if match is not None:
            return int(Tag(int(match[1], 16), int(match[2], 16)))
    raise _InvalidError(f"{value!r} is not a tag ({_FORMAT_HINTS['AT']})")


def _text(vr: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _InvalidError(f"{value!r} is not text ({vr})")
    text = value if isinstance(value, str) else str(value)
    # Leading spaces are significant in LT, ST and UT; trailing ones never are.
    text = text.rstrip() if vr in ("LT", "ST", "UT") else text.strip()
    if vr not in _UNSPLIT_VRS and "\\" in text:
        raise _InvalidError(f"{text!r} contains a backslash, which separates values in {vr}")
    _validate(vr, text, f"valid {vr} text")
    return text


def _one_value(keyword: str, vr: str, value: Any) -> Any:
    if vr == "DA":
        return _date(value)
    if vr == "TM":
        return _time(value)
    if vr == "DT":
        return _datetime(value)
    if vr == "AS":
        return _age(value)
    if vr == "DS":
        return _decimal_string(value)
    if vr in _INT_RANGES:
        return _integer(value, vr)
    if vr in ("FL", "FD"):
        return _float(value, vr)
    if vr == "CS":
        return _code_string(keyword, value)
    if vr == "PN":
        return _person_name(value)
    if vr == "UI":
        return _uid(value)
    if vr == "AT":
        return _attribute_tag(value)
    if vr in _TEXT_VRS:
        return _text(vr, value)
    raise _InvalidError(f"VR {vr} cannot be set from a template")


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    return isinstance(value, list | tuple | MultiValue | DicomSequence) and len(value) == 0


def _normalise(path: str, keyword: str, value: Any, problems: list[FieldProblem]) -> Any:
    """Normalise one attribute, appending problems (with their path) to `problems`."""
    if private.is_tbp_key(keyword):
        try:
            return private.normalise_tbp_value(keyword, value)
        except MetadataError as error:
            problems.extend(_problems_of(error, path, value))
            return None
    try:
        _tag, vr, vm = _lookup(keyword)
        if _is_empty(value):
            return None
        if vr == "SQ":
            return _sequence(path, value, problems)
        items = _split(vr, vm, value)
        _check_vm(vm, len(items))
        values = [_one_value(keyword, vr, item) for item in items]
    except _InvalidError as invalid:
        problems.append(FieldProblem(path, value, f"{path}: {invalid.message}", invalid.suggestion))
        return None
    if len(values) == 1 and _vm_bounds(vm)[0] <= 1:
        return values[0]
    return values


def _sequence(path: str, value: Any, problems: list[FieldProblem]) -> list[dict[str, Any]] | None:
    if isinstance(value, Mapping | Dataset):
        value = [value]
    if not isinstance(value, list | tuple | DicomSequence):
        raise _InvalidError("is not a list of items (a sequence is a list of JSON objects)")
    items: list[dict[str, Any]] = []
    for index, item in enumerate(value):
        item_path = f"{path}[{index}]"
        if isinstance(item, Dataset):
            item = _dataset_values(item, None, item_path, problems, top_level=False)
        if not isinstance(item, Mapping):
            problems.append(
                FieldProblem(
                    item_path, item, f"{item_path}: {item!r} is not an item (a JSON object)"
                )
            )
            continue
        normalised = {
            str(key): _normalise(f"{item_path}.{key}", str(key), sub, problems)
            for key, sub in item.items()
        }
        _check_code_item(item_path, normalised, problems)
        items.append(normalised)
    return items


def _check_code_item(path: str, item: Mapping[str, Any], problems: list[FieldProblem]) -> None:
    code = item.get("CodeValue")
    if not isinstance(code, str):
        return
    scheme = item.get("CodingSchemeDesignator")
    field = f"{path}.CodeValue"
    try:
        anatomy.check_not_snomed_rt(code, scheme if isinstance(scheme, str) else None, field=field)
    except MetadataError as error:
        problems.append(FieldProblem(field, code, str(error), anatomy.sct_for_snomed_rt(code)))


def normalise_value(keyword: str, value: Any) -> Any:
    """Check a value for a DICOM attribute and return it in normal form.

    Parameters
    ----------
    keyword : str
        A DICOM keyword (``"PatientBirthDate"``) or a ``tbp:`` key.
    value : Any
        The value in a friendly form: dates as ``"2000-07-26"``,
        ``"2000/07/26"`` or :class:`datetime.date`; times as ``"10:15:30"``;
        date-times as ISO 8601; numbers as int, float or text; person names as
        ``"Doe^Jane"`` or ``{"family": "Doe", "given": "Jane"}``; several
        values as a list or a backslash-separated string; sequences as a list
        of dicts. ``None`` or ``""`` means empty.

    Returns
    -------
    Any
        The normal form described in the module docstring (``None`` if empty).

    Raises
    ------
    MetadataError
        If the keyword is unknown or retired (with a close-match suggestion),
        or the value breaks the VR, VM or enumerated values. The one-line
        message names the field, the value and the rule, e.g.
        ``PatientBirthDate: '2000-13-45' is not a valid date (DA, YYYYMMDD,
        e.g. 20000726)``; ``problems`` lists every invalid field (several for
        a sequence).
    """
    problems: list[FieldProblem] = []
    result = _normalise(keyword, keyword, value, problems)
    if problems:
        raise _error_for(problems)
    return result


# --------------------------------------------------------------- templates


def _json_error(error: json.JSONDecodeError) -> MetadataError:
    return MetadataError(
        f"template is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
    )


def _is_json_model(data: Mapping[str, Any]) -> bool:
    return bool(data) and all(
        re.fullmatch(r"[0-9A-Fa-f]{8}", key) and isinstance(value, Mapping)
        for key, value in data.items()
    )


def _from_json_model(data: Mapping[str, Any]) -> dict[str, Any]:
    """Convert a DICOM JSON Model object (PS3.18 F.2) into keyword form (not normalised)."""
    for key, element in data.items():
        if any(name in element for name in ("InlineBinary", "BulkDataURI")):
            raise MetadataError(
                f"{key}: binary values (InlineBinary/BulkDataURI) cannot be used in a template"
            )
    try:
        ds = Dataset.from_json(dict(data))
    except (ValueError, TypeError, KeyError, AttributeError, NotImplementedError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise MetadataError(f"template is not valid DICOM JSON (PS3.18 F.2): {reason}") from None
    problems: list[FieldProblem] = []
    values = _dataset_values(ds, None, "", problems, top_level=False, everything=True)
    if problems:
        raise _error_for(problems)
    return values


def parse_template(data: str | bytes) -> dict[str, Any]:
    """Read a metadata template and return its values in normal form.

    Parameters
    ----------
    data : str or bytes
        JSON text (UTF-8 when bytes): either an object mapping keywords and
        ``tbp:`` keys to values (ARCHITECTURE.md section 5) or a DICOM JSON
        Model object (keys such as ``"00100010"``, PS3.18 F.2).

    Returns
    -------
    dict[str, Any]
        Keyword (or ``tbp:`` key) to normalised value, in the template's order.

    Raises
    ------
    MetadataError
        If the text is not JSON (message with line and column), not an
        object, or any value is invalid. All invalid values are reported at
        once ("3 invalid values: ...; ...; ...") and listed in ``problems``.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise MetadataError(
                f"template is not UTF-8 text (bad byte at position {error.start}); "
                "save it as UTF-8 JSON"
            ) from None
    try:
        parsed = json.loads(data)
    except json.JSONDecodeError as error:
        raise _json_error(error) from None
    if not isinstance(parsed, dict):
        raise MetadataError(
            f"template must be a JSON object of keyword: value pairs, not a {type(parsed).__name__}"
        )
    if _is_json_model(parsed):
        parsed = _from_json_model(parsed)
    problems: list[FieldProblem] = []
    values = {
        str(key): _normalise(str(key), str(key), value, problems) for key, value in parsed.items()
    }
    if problems:
        raise _error_for(problems)
    return values


def parse_assignment(text: str) -> tuple[str, Any]:
    """Parse a CLI ``--set KEYWORD=VALUE`` argument.

    Parameters
    ----------
    text : str
        ``KEYWORD=VALUE``. A value starting with ``[``, ``{`` or ``"`` is read
        as JSON (lists, sequences, quoted strings); anything else is taken as
        text. An empty value clears the attribute. ``tbp:`` keys are allowed.

    Returns
    -------
    tuple[str, Any]
        The keyword and its normalised value.

    Raises
    ------
    MetadataError
        If there is no ``=``, the keyword is empty or unknown, the JSON is
        broken, or the value is invalid.
    """
    keyword, sep, raw = text.partition("=")
    keyword = keyword.strip()
    if not sep or not keyword:
        raise MetadataError(
            f"--set {text!r}: expected KEYWORD=VALUE, e.g. --set PatientName=Doe^Jane "
            'or --set \'AnatomicRegionSequence=[{"CodeValue": "66643007", ...}]\''
        )
    value: Any = raw
    stripped = raw.strip()
    if stripped[:1] in ("[", "{", '"'):
        try:
            value = json.loads(stripped)
        except json.JSONDecodeError as error:
            raise MetadataError(
                f"--set {keyword}: value is not valid JSON: {error.msg} at column {error.colno}; "
                "quote the whole argument in the shell"
            ) from None
    return keyword, normalise_value(keyword, value)


def merge_metadata(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """Merge metadata layers; a key in a later layer replaces earlier values.

    Parameters
    ----------
    *layers : Mapping[str, Any]
        E.g. EXIF-derived values, then a template, then ``--set`` values.

    Returns
    -------
    dict[str, Any]
        A new dict; a later ``None`` also replaces (it clears the value).
    """
    merged: dict[str, Any] = {}
    for layer in layers:
        merged.update(layer)
    return merged


def _contains_non_ascii(value: Any) -> bool:
    if isinstance(value, str):
        return not value.isascii()
    if isinstance(value, list):
        return any(_contains_non_ascii(v) for v in value)
    if isinstance(value, Mapping):
        return any(_contains_non_ascii(v) for v in value.values())
    return False


def _element(keyword: str, value: Any) -> DataElement:
    tag, vr, _vm = _lookup(keyword)
    if vr == "US or SS":
        numbers = value if isinstance(value, list) else [value]
        vr = "SS" if any(n is not None and n < 0 for n in numbers) else "US"
    if vr == "SQ":
        items = [_dataset_from(item) for item in value or ()]
        return DataElement(tag, "SQ", DicomSequence(items))
    return DataElement(tag, vr, value)


def _dataset_from(values: Mapping[str, Any]) -> Dataset:
    ds = Dataset()
    _set_values(ds, values)
    return ds


def _set_values(ds: Dataset, values: Mapping[str, Any]) -> None:
    tbp = {key: value for key, value in values.items() if private.is_tbp_key(key)}
    for keyword, value in values.items():
        if not private.is_tbp_key(keyword):
            ds.add(_element(keyword, value))
    if tbp:
        private.set_tbp_values(ds, tbp)


def apply_metadata(ds: Dataset, values: Mapping[str, Any]) -> None:
    """Set metadata values on a dataset.

    Every value is checked first; if any is invalid nothing is changed.

    Parameters
    ----------
    ds : Dataset
        The dataset to modify in place.
    values : Mapping[str, Any]
        Keyword (or ``tbp:`` key) to value, e.g. from :func:`parse_template`.
        Sequences become :class:`pydicom.sequence.Sequence` of datasets,
        ``tbp:`` keys go to the TBP private block, and ``None``/``""`` gives
        an empty element (Type 2 style). If any text is non-ASCII and `ds`
        has no Specific Character Set, it is set to ``ISO_IR 192`` (UTF-8).

    Raises
    ------
    MetadataError
        If any value is invalid (all problems listed; `ds` unchanged).
    """
    problems: list[FieldProblem] = []
    normalised = {key: _normalise(key, key, value, problems) for key, value in values.items()}
    if problems:
        raise _error_for(problems)
    if "SpecificCharacterSet" not in ds and _contains_non_ascii(normalised):
        ds.SpecificCharacterSet = "ISO_IR 192"
    _set_values(ds, normalised)


def _element_value(element: DataElement) -> Any:
    """Plain Python value of an element, for normalisation."""
    value = element.value
    if isinstance(value, MultiValue):
        return [str(v) if isinstance(v, PersonName) else v for v in value]
    if isinstance(value, PersonName):
        return str(value)
    return value


def _dataset_values(
    ds: Dataset,
    keywords: Iterable[str] | None,
    path: str,
    problems: list[FieldProblem],
    *,
    top_level: bool,
    everything: bool = False,
) -> dict[str, Any]:
    wanted = None if keywords is None else list(keywords)
    values: dict[str, Any] = {}
    # Iterating a Dataset yields decoded elements; keys() gives tags without decoding.
    tags = sorted(BaseTag(tag) for tag in ds.keys())  # noqa: SIM118
    for tag in tags:
        if tag.is_private:
            if everything and tag.group != private.TBP_GROUP:
                problems.append(
                    FieldProblem(
                        str(tag),
                        None,
                        f"{tag}: private attributes other than the TBP block (group 0011, "
                        f"creator {private.TBP_PRIVATE_CREATOR!r}) cannot be in a template",
                    )
                )
            continue
        keyword = keyword_for_tag(tag)
        # Group lengths, file meta, unknown tags and repeating groups (overlays
        # 60xx, curves 50xx: no single keyword names them) have no template form.
        if not keyword or tag.element == 0 or tag.group == 0x0002:
            continue
        if tag_for_keyword(keyword) != tag:
            continue
        if wanted is not None and keyword not in wanted:
            continue
        if wanted is None and not everything and dictionary_is_retired(tag):
            continue
        if wanted is None and _is_binary(dictionary_VR(tag)):
            continue
        if top_level and wanted is None and keyword in _NOT_TEMPLATE:
            continue
        field = f"{path}.{keyword}" if path else keyword
        try:
            element = ds[tag]
        except Exception as error:  # pydicom raises many types for undecodable raw data
            reason = (str(error).splitlines() or [type(error).__name__])[0]
            problems.append(
                FieldProblem(field, None, f"{field}: stored value cannot be decoded ({reason})")
            )
            continue
        if everything and not _vr_matches(element.VR, dictionary_VR(tag)):
            problems.append(
                FieldProblem(
                    field,
                    None,
                    f"{field}: VR {element.VR!r} does not match the dictionary VR "
                    f"{dictionary_VR(tag)!r} of {keyword}",
                )
            )
            continue
        if element.VR == "SQ":
            values[keyword] = [
                _dataset_values(item, None, f"{field}[{i}]", problems, top_level=False)
                for i, item in enumerate(element.value)
            ]
        else:
            values[keyword] = _element_value(element)
    if wanted is None or any(private.is_tbp_key(k) for k in wanted):
        try:
            tbp = private.get_tbp_values(ds)
        except MetadataError as error:
            problems.extend(_problems_of(error, "tbp:", None))
            tbp = {}
        values.update({k: v for k, v in tbp.items() if wanted is None or k in wanted})
    return values


def _vr_matches(vr: str, dictionary_vr: str) -> bool:
    return vr in dictionary_vr.split(" or ")


def dataset_to_template(
    ds: Dataset, keywords: Iterable[str] | None = None, *, skip_invalid: bool = False
) -> dict[str, Any]:
    """Turn a dataset's attributes into template values (the reverse of apply).

    Parameters
    ----------
    ds : Dataset
        A dataset, e.g. read from a file.
    keywords : Iterable[str], optional
        Only these keywords (and ``tbp:`` keys). By default every public
        attribute except pixel data and other binary values, retired
        attributes, repeating groups (overlays, curves), the attributes that
        identify one instance or describe its pixels (SOP, study, series and
        frame of reference UIDs, Rows, Columns, ...), Specific Character Set
        and group lengths; the TBP private values are included as ``tbp:``
        keys, other private attributes are left out. File meta information is
        never included.
    skip_invalid : bool
        If True, attributes whose stored value is invalid (e.g. a date
        ``"1990/01/"`` in an old file) are left out instead of raising; call
        once without it to learn which ones and why.

    Returns
    -------
    dict[str, Any]
        Keyword to normalised value, in tag order, ready for
        :func:`template_to_json`.

    Raises
    ------
    MetadataError
        If a stored value is invalid and `skip_invalid` is False (every
        problem listed in ``problems``).
    """
    problems: list[FieldProblem] = []
    raw = _dataset_values(ds, keywords, "", problems, top_level=True)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        found: list[FieldProblem] = []
        normalised = _normalise(key, key, value, found)
        if found:
            problems.extend(found)
        else:
            values[key] = normalised
    if problems and not skip_invalid:
        raise _error_for(problems)
    if skip_invalid:
        bad = {_top_keyword(problem.keyword) for problem in problems}
        values = {key: value for key, value in values.items() if key not in bad}
    return values


def _top_keyword(path: str) -> str:
    """'AnatomicRegionSequence[0].CodeValue' -> 'AnatomicRegionSequence'."""
    return re.split(r"[\[.]", path, maxsplit=1)[0]


def template_to_json(values: Mapping[str, Any]) -> str:
    """Write template values as pretty, UTF-8-friendly JSON text.

    Parameters
    ----------
    values : Mapping[str, Any]
        Template values in normal form.

    Returns
    -------
    str
        Indented JSON ending with a newline; non-ASCII characters kept as is.
    """
    return json.dumps(dict(values), indent=2, ensure_ascii=False) + "\n"
