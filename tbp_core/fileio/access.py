"""Safe access to dataset values: never raises, never reads a deferred value.

A damaged element (a wrong VR, a length that does not fit its VR, bytes the
character set cannot decode) makes pydicom raise on access. The functions
here answer None or '' for such an element instead, so the rest of the file
keeps working; :func:`damage` says what is wrong with it, for showing the
element as damaged (raw bytes, length).
"""

from __future__ import annotations

import warnings
from typing import Any

from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset

__all__ = ["damage", "raw_element", "text_value", "value_of"]


def raw_element(ds: Dataset, tag: int) -> DataElement | RawDataElement | None:
    """The element as stored (raw or converted) without reading a deferred value.

    Parameters
    ----------
    ds : Dataset
    tag : int

    Returns
    -------
    DataElement or RawDataElement or None
        None when absent or when the dataset cannot even be asked.
    """
    try:
        item = ds.get_item(tag, keep_deferred=True)
    except Exception:  # a damaged dataset can fail anywhere
        return None
    return item if isinstance(item, (DataElement, RawDataElement)) else None


def _converted(ds: Dataset, tag: int) -> DataElement | None:
    raw = raw_element(ds, tag)
    if raw is None or (isinstance(raw, RawDataElement) and raw.value is None and raw.length):
        return None  # absent, or deferred: never read here
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        element = ds[tag]
    return element if isinstance(element, DataElement) else None


def value_of(ds: Dataset, tag: int) -> Any:
    """The element's value, or None when absent, deferred or unreadable.

    Parameters
    ----------
    ds : Dataset
    tag : int

    Returns
    -------
    object or None
    """
    try:
        element = _converted(ds, tag)
    except Exception:  # pydicom raises many types on damaged values
        return None
    return None if element is None else element.value


def text_value(ds: Dataset, tag: int) -> str:
    """The value as stripped text when it is text (a UID, a code string), else ''.

    Parameters
    ----------
    ds : Dataset
    tag : int

    Returns
    -------
    str
        '' for absent, unreadable or non-text values (e.g. an SOP Class UID
        stored with VR US).
    """
    value = value_of(ds, tag)
    return value.strip("\0 ") if isinstance(value, str) else ""


def damage(ds: Dataset, tag: int) -> str | None:
    """Why the element's value cannot be read, or None when it reads (or is absent).

    Parameters
    ----------
    ds : Dataset
    tag : int

    Returns
    -------
    str or None
        One line: the library's reason, the VR and the raw length.
    """
    raw = raw_element(ds, tag)
    try:
        _converted(ds, tag)
    except Exception as exc:  # pydicom raises many types on damaged values
        length = getattr(raw, "length", None)
        vr = getattr(raw, "VR", None) or "?"
        reason = " ".join(str(exc).split("Traceback")[0].split())[:160] or type(exc).__name__
        return f"damaged {vr} value of {length} bytes: {reason}"
    return None
