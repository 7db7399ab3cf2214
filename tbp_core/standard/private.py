"""The TBP private block: camera calibration values in group 0011.

The original TBP scripts wrote five private attributes under the Private
Creator ``"VL Image Calibration Module"`` at (0011,0010). The creator string is
kept unchanged so that files written by those scripts and by this library
read the same way. In templates and in the app the attributes are named
``tbp:<Keyword>``, e.g. ``tbp:FocalLengthPx``.

Importing this module registers the attributes in pydicom's private
dictionary (:func:`register_private_dictionary`), so dumps and
``ds[tag].name`` show their names instead of "Private tag data".
"""

from __future__ import annotations

import difflib
import json
import math
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydicom.datadict import add_private_dict_entries, get_private_entry
from pydicom.dataset import Dataset
from pydicom.tag import Tag
from pydicom.valuerep import DSfloat, format_number_as_ds

from tbp_core.errors import MetadataError

TBP_PRIVATE_CREATOR = "VL Image Calibration Module"
"""Private Creator value of the TBP block (kept from the original TBP scripts)."""

TBP_GROUP = 0x0011
"""The odd (private) group holding the TBP block."""

TBP_KEY_PREFIX = "tbp:"
"""Prefix of the template keys naming TBP private attributes."""


@dataclass(frozen=True)
class PrivateAttribute:
    """One attribute of the TBP private block.

    ``offset`` is the element offset inside the block: with the block reserved
    at (0011,0010) the attribute with offset ``0x10`` is (0011,1010).
    """

    key: str
    offset: int
    vr: str
    vm: str
    name: str
    keyword: str
    description: str


def _attribute(
    offset: int, vr: str, vm: str, name: str, keyword: str, description: str
) -> PrivateAttribute:
    return PrivateAttribute(TBP_KEY_PREFIX + keyword, offset, vr, vm, name, keyword, description)


TBP_ATTRIBUTES: tuple[PrivateAttribute, ...] = (
    _attribute(
        0x10,
        "DS",
        "1",
        "Focal Length (pixels)",
        "FocalLengthPx",
        "Focal length of the calibrated camera, in pixel units.",
    ),
    _attribute(
        0x11,
        "FL",
        "2",
        "Principal Point (x, y) in pixels",
        "PrincipalPoint",
        "Pixel coordinate (x, y) where the optical axis meets the image sensor.",
    ),
    _attribute(
        0x12,
        "FL",
        "1-n",
        "Radial Distortion Coefficients",
        "RadialDistortion",
        "Coefficients of the lens's radial distortion model.",
    ),
    _attribute(
        0x13,
        "SS",
        "1",
        "Parfocal Lens",
        "Parfocal",
        "1 if the lens stays in focus when the focal length changes (parfocal), else 0.",
    ),
    _attribute(
        0x14,
        "FL",
        "1",
        "Focal Distance (m)",
        "FocalDistance",
        "Distance from the lens to the sharply focused subject, in metres.",
    ),
    _attribute(
        0x15,
        "FL",
        "2",
        "Lesion Location on Regional Image (column, row)",
        "LesionLocationOnRegional",
        "Pixel (column, row) on the referenced regional overview where this close-up was taken.",
    ),
)

_BY_KEY: dict[str, PrivateAttribute] = {attr.key: attr for attr in TBP_ATTRIBUTES}
_BY_OFFSET: dict[int, PrivateAttribute] = {attr.offset: attr for attr in TBP_ATTRIBUTES}

# Human-readable rule per key, used in error messages.
_RULES: dict[str, str] = {
    "tbp:FocalLengthPx": "DS, one number > 0, e.g. 1560.0",
    "tbp:PrincipalPoint": "FL, two numbers >= 0 (x, y), e.g. [285.2, 427.0]",
    "tbp:RadialDistortion": "FL, one or more numbers, e.g. [0.0358, 0.26, 0.568]",
    "tbp:Parfocal": "SS, 1 = parfocal lens or 0 = not parfocal",
    "tbp:FocalDistance": "FL, one number > 0 in metres, e.g. 1.47",
    "tbp:LesionLocationOnRegional": "FL, two pixel coordinates >= 0 (column, row), e.g. [120, 340]",
}

_DS_TEXT = re.compile(r"^[+-]?(\d+|\d+\.\d*|\.\d+)([eE][+-]?\d+)?$")
_TRUE_WORDS = frozenset({"1", "true", "yes"})
_FALSE_WORDS = frozenset({"0", "false", "no"})


def register_private_dictionary() -> None:
    """Add the TBP attributes to pydicom's private dictionary.

    Safe to call any number of times; called once when this module is imported.
    Afterwards pydicom knows each attribute's VR, VM and name, e.g.
    ``ds[0x00111010].name == "Focal Length (pixels)"``.
    """
    entries = {
        (TBP_GROUP << 16) | attr.offset: (attr.vr, attr.vm, attr.name, "")
        for attr in TBP_ATTRIBUTES
        if not _registered(attr)
    }
    if entries:
        add_private_dict_entries(TBP_PRIVATE_CREATOR, entries)


def _registered(attr: PrivateAttribute) -> bool:
    try:
        entry = get_private_entry((TBP_GROUP << 16) | 0x1000 | attr.offset, TBP_PRIVATE_CREATOR)
    except KeyError:
        return False
    return entry[:3] == (attr.vr, attr.vm, attr.name)


def is_tbp_key(key: str) -> bool:
    """Return whether `key` names a TBP private attribute in template form.

    Parameters
    ----------
    key : str
        A template key such as ``"tbp:FocalLengthPx"`` or ``"PatientName"``.

    Returns
    -------
    bool
        True for keys starting with ``"tbp:"`` (known or not: unknown ones are
        refused later by :func:`normalise_tbp_value` with a suggestion).
    """
    return key.startswith(TBP_KEY_PREFIX)


def tbp_attribute(key: str) -> PrivateAttribute:
    """Return the definition of the TBP attribute named `key`.

    Parameters
    ----------
    key : str
        A ``tbp:`` key, e.g. ``"tbp:Parfocal"``.

    Returns
    -------
    PrivateAttribute
        Its offset, VR, VM, name and description.

    Raises
    ------
    MetadataError
        If `key` is not one of :data:`TBP_ATTRIBUTES`; the message lists the
        closest valid key.
    """
    attr = _BY_KEY.get(key)
    if attr is not None:
        return attr
    close = difflib.get_close_matches(key, list(_BY_KEY), n=1, cutoff=0.5)
    hint = f"did you mean {close[0]!r}?" if close else f"valid keys: {', '.join(_BY_KEY)}"
    raise MetadataError(f"{key}: unknown TBP private attribute; {hint}")


def _fail(key: str, value: Any, problem: str) -> MetadataError:
    return MetadataError(f"{key}: {value!r} {problem} ({_RULES[key]})")


def _split_values(key: str, value: Any) -> list[Any]:
    r"""Turn a list, a number or a text such as "1\\2" or "[1, 2]" into values."""
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError:
                raise _fail(key, value, "is not a list of numbers") from None
            if not isinstance(parsed, list):
                raise _fail(key, value, "is not a list of numbers")
            return parsed
        if "\\" in text:
            return text.split("\\")
        if "," in text:
            return text.split(",")
    return [value]


def _number(key: str, original: Any, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _fail(key, original, "is not a number")
    try:
        number = float(value)
    except ValueError:
        raise _fail(key, original, "is not a number") from None
    if not math.isfinite(number):
        raise _fail(key, original, "is not a finite number")
    return number


def _float32(number: float) -> float:
    """Round to what an FL element stores, written with the fewest digits."""
    return float(str(np.float32(number)))


def _check_count(key: str, value: Any, count: int, vm: str) -> None:
    if vm == "1-n":
        if count < 1:
            raise _fail(key, value, "has no values")
    elif count != int(vm):
        plural = "value" if vm == "1" else "values"
        raise _fail(
            key, value, f"has {count} value{'' if count == 1 else 's'}, expected {vm} {plural}"
        )


def normalise_tbp_value(key: str, value: Any) -> Any:
    r"""Check a TBP private value and return it in the form stored in templates.

    Parameters
    ----------
    key : str
        A ``tbp:`` key, e.g. ``"tbp:PrincipalPoint"``.
    value : Any
        Numbers, numeric strings (``"1560.0"``), lists, backslash-separated
        strings (``"285.2\\427.0"``) or, for ``tbp:Parfocal``, 0/1/true/false.
        ``None`` or ``""`` means "empty".

    Returns
    -------
    Any
        ``None`` for empty; ``tbp:FocalLengthPx`` a DS string (``"1560.0"``);
        FL values a float rounded to single precision (what the file stores),
        a list for ``tbp:PrincipalPoint`` and for more than one
        ``tbp:RadialDistortion`` coefficient; ``tbp:Parfocal`` an int 0 or 1.

    Raises
    ------
    MetadataError
        If the key is unknown or the value breaks the attribute's rule; the
        one-line message names the key, the value and the rule.
    """
    attr = tbp_attribute(key)
    if value is None or value == "" or value == []:
        return None
    if key == "tbp:Parfocal":
        return _parfocal(key, value)
    items = _split_values(key, value)
    _check_count(key, value, len(items), attr.vm)
    numbers = [_number(key, value, item) for item in items]
    if key == "tbp:FocalLengthPx":
        if numbers[0] <= 0:
            raise _fail(key, value, "is not > 0")
        return _ds_text(items[0], numbers[0])
    if key in ("tbp:PrincipalPoint", "tbp:LesionLocationOnRegional") and min(numbers) < 0:
        raise _fail(key, value, "has a negative coordinate")
    if key == "tbp:FocalDistance" and numbers[0] <= 0:
        raise _fail(key, value, "is not > 0")
    stored = [_float32(n) for n in numbers]
    if attr.vm == "1" or (attr.vm == "1-n" and len(stored) == 1):
        return stored[0]
    return stored


def _ds_text(item: Any, number: float) -> str:
    """DS text for a value: the user's own digits when they fit, else reformatted."""
    if isinstance(item, str | DSfloat):
        text = str(item).strip()
        if len(text) <= 16 and _DS_TEXT.match(text):
            return text
    if isinstance(item, int) and not isinstance(item, bool) and len(str(item)) <= 16:
        return str(item)
    return format_number_as_ds(number)


def _parfocal(key: str, value: Any) -> int:
    items = _split_values(key, value)
    if len(items) != 1:
        raise _fail(key, value, f"has {len(items)} values, expected 1 value")
    item = items[0]
    if isinstance(item, bool):
        return int(item)
    if isinstance(item, int | float) and item in (0, 1):
        return int(item)
    if isinstance(item, str):
        word = item.strip().lower()
        if word in _TRUE_WORDS:
            return 1
        if word in _FALSE_WORDS:
            return 0
    raise _fail(key, value, "is not allowed")


def set_tbp_values(ds: Dataset, mapping: Mapping[str, Any]) -> None:
    """Write TBP private values into `ds`, reserving the private block if needed.

    The block is found or created with ``ds.private_block(TBP_GROUP,
    TBP_PRIVATE_CREATOR, create=True)``: the creator element (0011,00xx) is
    added before any element of the block, in the first free slot (0x10 unless
    another creator holds it already).

    Parameters
    ----------
    ds : Dataset
        The dataset to modify.
    mapping : Mapping[str, Any]
        ``tbp:`` keys and values in any form :func:`normalise_tbp_value`
        accepts; ``None`` writes an empty element.

    Raises
    ------
    MetadataError
        If a key or value is invalid; `ds` is then left unchanged.
    """
    values = {key: normalise_tbp_value(key, value) for key, value in mapping.items()}
    if not values:
        return
    block = ds.private_block(TBP_GROUP, TBP_PRIVATE_CREATOR, create=True)
    for key, value in values.items():
        attr = _BY_KEY[key]
        block.add_new(attr.offset, attr.vr, value)


def _block_start(ds: Dataset) -> int | None:
    """Element number of the TBP creator element in group 0011, if any."""
    for element in range(0x10, 0x100):
        tag = Tag(TBP_GROUP, element)
        if tag not in ds:
            continue
        value = ds[tag].value
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        if isinstance(value, str) and value.strip(" \x00") == TBP_PRIVATE_CREATOR:
            return element
    return None


def _decode_raw(vr: str, raw: bytes) -> Any:
    """Decode a value pydicom left as bytes (VR UN), little endian."""
    if vr == "DS":
        parts = raw.decode("ascii", "replace").strip(" \x00").split("\\")
        return parts if len(parts) > 1 else parts[0]
    size, code = {"FL": (4, "f"), "SS": (2, "h")}[vr]
    numbers = list(struct.unpack(f"<{len(raw) // size}{code}", raw[: len(raw) // size * size]))
    return numbers if len(numbers) != 1 else numbers[0]


def get_tbp_values(ds: Dataset) -> dict[str, Any]:
    """Read the TBP private values of `ds`, wherever its block was reserved.

    Parameters
    ----------
    ds : Dataset
        A dataset, e.g. read from a file.

    Returns
    -------
    dict[str, Any]
        ``tbp:`` key to value, in the form :func:`normalise_tbp_value`
        returns, for each attribute present (empty elements give ``None``).
        Empty if the dataset has no TBP block.

    Raises
    ------
    MetadataError
        If a stored value is invalid (e.g. Parfocal 7).
    """
    start = _block_start(ds)
    if start is None:
        return {}
    values: dict[str, Any] = {}
    for attr in TBP_ATTRIBUTES:
        tag = Tag(TBP_GROUP, (start << 8) | attr.offset)
        if tag not in ds:
            continue
        value = ds[tag].value
        if isinstance(value, bytes):
            value = _decode_raw(attr.vr, value)
        if not isinstance(value, str | int | float) and value is not None:
            value = list(value)
        values[attr.key] = normalise_tbp_value(attr.key, value)
    return values


register_private_dictionary()
