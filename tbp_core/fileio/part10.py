"""Make a dataset read from any file writable as a DICOM Part 10 file.

Real files hold things a Part 10 data set must not: command-group elements
(0000,xxxx) from a network dump, a stray item tag (FFFE,xxxx) at the top
level, file meta elements (0002,xxxx) in the body, retired group lengths, or
elements read as implicit VR from a file whose meta says explicit (their VR
is unknown). :func:`make_writable` fixes these in place on a copy about to be
written and returns one note per kind of change.
"""

from __future__ import annotations

import warnings

from pydicom import datadict
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

__all__ = ["make_writable"]

#: Groups a Part 10 data set may not hold, with why.
_FORBIDDEN_GROUPS = {
    0x0000: "command-group elements belong to network messages, not files",
    0x0002: "file meta elements belong in the file meta, which is written afresh",
    0xFFFE: "item and delimiter tags are not elements",
}


def _reason(tag: int) -> str | None:
    group = tag >> 16
    if group in _FORBIDDEN_GROUPS:
        return _FORBIDDEN_GROUPS[group]
    if tag & 0xFFFF == 0:
        return "group lengths are retired and would be wrong after any change"
    return None


def _with_vr(ds: Dataset, tag: int, raw: RawDataElement) -> DataElement | RawDataElement:
    """The element with a known VR: converted, or kept as raw bytes with VR UN."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            element = ds[tag]
    except Exception:  # a damaged value keeps its bytes
        element = None
    if isinstance(element, DataElement) and isinstance(element.VR, str):
        return element
    value = raw.value if isinstance(raw.value, bytes) else b""
    return raw._replace(VR="UN", value=value)


def make_writable(ds: Dataset) -> tuple[str, ...]:
    """Drop or fix the top-level elements a Part 10 writer refuses; say what changed.

    Parameters
    ----------
    ds : Dataset
        A dataset (usually a copy) about to be written; changed in place.

    Returns
    -------
    tuple of str
        One note per reason an element was dropped, naming the tags, and one
        for elements whose VR had to be set to UN.
    """
    dropped: dict[str, list[str]] = {}
    unknown: list[str] = []
    for tag in list(ds.keys()):
        reason = _reason(int(tag))
        if reason is not None:
            dropped.setdefault(reason, []).append(str(BaseTag(tag)))
            del ds[tag]
            continue
        raw: object = ds.get_item(tag, keep_deferred=True)
        if isinstance(raw, RawDataElement) and not raw.VR:
            fixed = _with_vr(ds, int(tag), raw)
            if isinstance(fixed, RawDataElement):
                unknown.append(str(BaseTag(tag)))
            ds[tag] = fixed
        elif isinstance(raw, DataElement) and not raw.VR:
            raw.VR = datadict.dictionary_VR(tag) if datadict.dictionary_has_tag(tag) else "UN"
    notes = [f"dropped {', '.join(tags)}: {reason}" for reason, tags in dropped.items()]
    if unknown:
        notes.append(f"written as UN (VR unknown and value unreadable): {', '.join(unknown)}")
    return tuple(notes)
