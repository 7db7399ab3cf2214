"""Convert EXIF values into values valid for a DICOM keyword's VR and VM.

The VR-driven converter (:func:`convert_value`) serves every plain tag; the
special converters split or decode EXIF structures (Flash bits, CFA pattern,
OECF/SFR tables) into several DICOM attributes. A value that cannot be
converted raises :class:`SkipError`, whose text says why.
"""

from __future__ import annotations

import math
import struct
from fractions import Fraction
from typing import Any

from PIL.TiffImagePlugin import IFDRational
from pydicom.datadict import dictionary_VM, dictionary_VR
from pydicom.valuerep import format_number_as_ds

from tbp_core.standard import enumerations
from tbp_core.standard import vr as vrs

Output = tuple[str | None, Any, str]
"""One mapping output: (DICOM keyword or None, value or None, note)."""


class SkipError(Exception):
    """A tag's value cannot be put into its DICOM attribute; the text says why."""


def convert_value(keyword: str, raw: Any, notes: list[str]) -> Any:
    """Convert an EXIF value to a value valid for ``keyword``'s VR and VM."""
    vr = dictionary_VR(keyword)
    if vr == "OB":
        return _as_bytes(raw)
    if vr in vrs.INT_RANGES or vr in ("DS", "FL", "FD"):
        items: list[Any] = [format_number(vr, n) for n in exif_numbers(raw)]
    elif vr in vrs.TEXT_VRS or vr == "CS":
        items = [_clean_text(vr, as_text(raw), notes)]
    else:
        raise SkipError(f"no converter for VR {vr}")
    _check_vm(keyword, len(items))
    refusal = enumerations.check(keyword, items)
    if refusal is not None:
        raise SkipError(f"{refusal.value} is not one of DICOM's values {refusal.allowed_text}")
    return items[0] if len(items) == 1 else items


def exif_numbers(raw: Any) -> list[Fraction | float | int]:
    """The numbers in an EXIF value (rationals exact); n/0 and non-finite values refused."""
    if isinstance(raw, bytes):
        return list(raw)
    items = raw if isinstance(raw, tuple | list) else (raw,)
    out: list[Fraction | float | int] = []
    for item in items:
        if isinstance(item, IFDRational):
            if item.denominator == 0:
                raise SkipError(f"{item.numerator}/0 means unknown")
            numerator = item.numerator
            if isinstance(numerator, int):
                out.append(Fraction(numerator, item.denominator))
            else:
                out.append(float(numerator) / item.denominator)
        elif isinstance(item, int):
            out.append(item)
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise SkipError(f"{item} is not a finite number")
            out.append(item)
        elif isinstance(item, str | bytes):
            text = as_text(item).strip()
            try:
                number = float(text)
            except ValueError:
                raise SkipError(f"{text!r} is not a number") from None
            if not math.isfinite(number):
                raise SkipError(f"{text!r} is not a finite number")
            out.append(number)
        else:
            raise SkipError(f"unexpected value type {type(item).__name__}")
    if not out:
        raise SkipError("empty value")
    return out


def format_number(vr: str, number: Fraction | float | int) -> Any:
    """``number`` as a value of numeric VR ``vr`` (DS text, float, or a whole number in range)."""
    if vr == "DS":
        return ds_text(number)
    if vr in ("FL", "FD"):
        return float(number)
    if isinstance(number, Fraction) and number.denominator == 1:
        number = int(number)
    if isinstance(number, float) and number.is_integer():
        number = int(number)
    if not isinstance(number, int):
        raise SkipError(f"{float(number):g} is not a whole number ({vr})")
    low, high = vrs.INT_RANGES[vr]
    if not low <= number <= high:
        raise SkipError(f"{number} is outside the {vr} range {low}..{high}")
    return str(number) if vr == "IS" else number


def ds_text(number: Fraction | float | int) -> str:
    """A DS string of at most 16 characters, e.g. 1/125 -> '0.008'."""
    if isinstance(number, int) or (isinstance(number, Fraction) and number.denominator == 1):
        text = str(int(number))
        if len(text) <= 16:
            return text
    value = float(number)
    if not math.isfinite(value):
        raise SkipError(f"{value} is not a finite number")
    return format_number_as_ds(value)


def _check_vm(keyword: str, count: int) -> None:
    vm = dictionary_VM(keyword)
    if not vrs.vm_allows(vm, count):
        raise SkipError(f"EXIF has {count} value(s), DICOM {keyword} takes {vm}")


def as_text(raw: Any) -> str:
    """Text of an EXIF value; Pillow decodes ASCII as Latin-1, UTF-8 is recovered."""
    if isinstance(raw, bytes):
        text = raw.split(b"\x00", 1)[0].decode("latin-1")
    elif isinstance(raw, str):
        text = raw.split("\x00", 1)[0]
    elif isinstance(raw, tuple | list):
        return ", ".join(as_text(item) for item in raw)
    elif isinstance(raw, IFDRational | int | float):
        return ds_text(exif_numbers(raw)[0])
    else:
        raise SkipError(f"unexpected value type {type(raw).__name__}")
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _clean_text(vr: str, text: str, notes: list[str]) -> str:
    keep = "\r\n\t\f" if vr in ("ST", "LT", "UT") else ""
    cleaned = "".join(
        ch if ch in keep or (ch.isprintable() or ch == " ") else " " for ch in text
    ).strip()
    if cleaned != text.strip():
        notes.append("control characters replaced by spaces")
    if vr not in vrs.SINGLE_VALUE_VRS and "\\" in cleaned:
        cleaned = cleaned.replace("\\", "/")
        notes.append("backslash replaced by '/' (it separates DICOM values)")
    if not cleaned:
        raise SkipError("empty value")
    if vr == "CS":
        if vrs.value_problem("CS", cleaned):
            raise SkipError(f"{cleaned!r} is not a valid CS value (A-Z, 0-9, space, _; 16 chars)")
        return cleaned
    limit = vrs.MAX_LENGTHS.get(vr)
    if limit is not None and len(cleaned) > limit:
        cleaned = cleaned[:limit].rstrip()
        notes.append(f"cut to {limit} characters ({vr})")
    return cleaned


def _as_bytes(raw: Any) -> bytes:
    if isinstance(raw, bytes):
        data = raw
    elif isinstance(raw, str):
        data = raw.encode("latin-1", "replace")
    elif isinstance(raw, int) and 0 <= raw <= 255:
        data = bytes([raw])
    elif isinstance(raw, tuple | list) and all(isinstance(b, int) and 0 <= b <= 255 for b in raw):
        data = bytes(raw)
    else:
        raise SkipError(f"unexpected value type {type(raw).__name__} for OB")
    if not data:
        raise SkipError("empty value")
    return data


# --- special tags ----------------------------------------------------------------


def flash_outputs(raw: Any) -> list[Output]:
    """Split the EXIF Flash bit field into the five DICOM flash attributes.

    DICOM keeps the EXIF codes: firing status is bit 0, return status bits
    1-2 (0, 2 or 3; 1 is reserved), mode bits 3-4, function present bit 5
    (0 = present), red-eye mode bit 6.
    """
    bits = exif_numbers(raw)
    if len(bits) != 1 or not isinstance(bits[0], int):
        raise SkipError("Flash is not a single whole number")
    value = bits[0]
    if not 0 <= value <= 0xFFFF:
        raise SkipError(f"{value} is not a 16-bit value")
    parts = [
        ("FlashFiringStatus", value & 1, "bit 0"),
        ("FlashReturnStatus", (value >> 1) & 3, "bits 1-2"),
        ("FlashMode", (value >> 3) & 3, "bits 3-4"),
        ("FlashFunctionPresent", (value >> 5) & 1, "bit 5 (0 = flash function present)"),
        ("FlashRedEyeMode", (value >> 6) & 1, "bit 6"),
    ]
    outputs: list[Output] = []
    for keyword, part, note in parts:
        if keyword == "FlashReturnStatus" and part == 1:
            outputs.append((keyword, None, "not copied: return status 1 is reserved in EXIF"))
        else:
            outputs.append((keyword, part, note))
    return outputs


def iso_speed_outputs(raw: Any) -> list[Output]:
    """EXIF ISOSpeedRatings as PhotographicSensitivity (its first value)."""
    values = exif_numbers(raw)
    notes = [] if len(values) == 1 else [f"first of {len(values)} values"]
    value = format_number(dictionary_VR("PhotographicSensitivity"), values[0])
    return [("PhotographicSensitivity", value, "; ".join(notes))]


def check_subject_distance(raw: Any) -> None:
    """Refuse SubjectDistance values meaning unknown (0) or infinity (0xFFFFFFFF)."""
    if isinstance(raw, IFDRational):
        if raw.numerator == 0:
            raise SkipError("0 means the distance is unknown")
        if raw.numerator == 0xFFFFFFFF:
            raise SkipError("infinity cannot be written as DS")


def cfa_pattern_outputs(raw: Any, endian: str) -> list[Output]:
    """EXIF CFAPattern: columns and rows (SHORT each), then one byte per cell."""
    if not isinstance(raw, bytes) or len(raw) < 5:
        raise SkipError("not a CFA pattern block")
    for order in (endian, "<" if endian == ">" else ">"):
        columns, rows = struct.unpack(order + "HH", raw[:4])
        if columns * rows == len(raw) - 4 and columns and rows:
            cells = [ds_text(b) for b in raw[4:]]
            return [
                ("ColorFilterArrayPatternColumns", str(columns), ""),
                ("ColorFilterArrayPatternRows", str(rows), ""),
                ("ColorFilterArrayPatternValues", cells, "colour codes, row by row"),
            ]
    raise SkipError("size does not match its columns x rows")


def conversion_table_outputs(raw: Any, endian: str, prefix: str, *, signed: bool) -> list[Output]:
    """OECF / SFR: columns, rows (SHORT), column names (NUL-ended), then rationals."""
    if not isinstance(raw, bytes) or len(raw) < 4:
        raise SkipError("not an OECF/SFR table")
    columns, rows = struct.unpack(endian + "HH", raw[:4])
    if not columns or not rows:
        raise SkipError("table has no rows or columns")
    names = []
    pos = 4
    for _ in range(columns):
        end = raw.find(b"\x00", pos)
        if end < 0:
            raise SkipError("column names are not NUL-terminated")
        names.append(as_text(raw[pos:end]).strip())
        pos = end + 1
    count = columns * rows
    if len(raw) - pos != 8 * count:
        raise SkipError(f"expected {count} rationals after the column names")
    ints = struct.unpack(f"{endian}{2 * count}{'l' if signed else 'L'}", raw[pos:])
    values = []
    for numerator, denominator in zip(ints[::2], ints[1::2], strict=True):
        if denominator == 0:
            raise SkipError(f"{numerator}/0 in the table")
        values.append(ds_text(Fraction(numerator, denominator)))
    outputs: list[Output] = [
        (f"{prefix}Rows", str(rows), ""),
        (f"{prefix}Columns", str(columns), ""),
    ]
    clean = [n.replace("\\", "/") for n in names]
    if all(clean):
        outputs.append((f"{prefix}ColumnNames", clean if len(clean) > 1 else clean[0], ""))
    else:
        outputs.append((f"{prefix}ColumnNames", None, "not copied: a column name is empty"))
    outputs.append((f"{prefix}Values", values if len(values) > 1 else values[0], "row by row"))
    return outputs
