"""The tag table: one row per element of a dataset, nested ones too, file meta first.

Large values are never read: the table looks at elements with
``get_item(tag, keep_deferred=True)`` and shows deferred ones by size
(``<OB, 151.0 MB>``). The helpers that write an element's value, name and
private creator serve the tag edits (:mod:`tbp_core.inspection.tagapply`) too.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from pydicom import datadict
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.tag import BaseTag, Tag

from tbp_core import standard
from tbp_core.boundary import guarded
from tbp_core.fileio.access import text_value
from tbp_core.fileio.pixelbuffer import value_length
from tbp_core.standard import vr as vrs
from tbp_core.standard.formatting import size_text, tag_text

if TYPE_CHECKING:  # pandas is imported by to_table only: value_text serves the CLI too
    import pandas as pd  # type: ignore[import-untyped]

__all__ = [
    "TABLE_COLUMNS",
    "creator_of",
    "deferred_size",
    "path_name",
    "to_table",
    "value_text",
]

#: Columns of :func:`to_table`, in order.
TABLE_COLUMNS = (
    "path",
    "tag",
    "keyword",
    "name",
    "vr",
    "vm",
    "value",
    "module",
    "ie",
    "private_creator",
    "editable",
)


def _one_text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1", errors="replace")
    if isinstance(value, BaseTag):
        return tag_text(value)
    return str(value)


def value_text(element: DataElement) -> str:
    """Text of an element's value (binary values and sequences summarised)."""
    value = element.value
    if element.VR == "SQ":
        count = len(value) if value is not None else 0
        return f"{count} item" + ("" if count == 1 else "s")
    if element.VR in vrs.BINARY_VRS or element.tag in vrs.PIXEL_DATA_TAGS:
        size = value_length(value) or 0
        return f"<{element.VR}, {size_text(size)}>"
    if value is None:
        return ""
    if isinstance(value, MultiValue | list | tuple):
        return "\\".join(_one_text(v) for v in value)
    return _one_text(value)


def deferred_size(raw: DataElement | RawDataElement) -> int | None:
    """Length of a value left unread by a deferred read, else None."""
    if isinstance(raw, RawDataElement) and raw.value is None and raw.length:
        return int(raw.length)
    return None


@cache
def _module_lookup(iod_key: str) -> dict[tuple[tuple[str, ...], str], tuple[str, str]]:
    """(sequence path, keyword) → (module, IE): the first module of the IOD listing it."""
    lookup: dict[tuple[tuple[str, ...], str], tuple[str, str]] = {}
    for module in standard.modules_of_iod(iod_key):
        for attribute in standard.attributes_of_module(module.key):
            lookup.setdefault(
                (attribute.path, attribute.keyword), (module.key, module.information_entity)
            )
    return lookup


def creator_of(ds: Dataset, tag: BaseTag) -> str | None:
    """Private creator of a private element (None for public ones and creators)."""
    if not tag.is_private or tag.element < 0x1000:
        return None
    creator_tag = Tag(tag.group, tag.element >> 8)
    if creator_tag not in ds:
        return None
    raw = ds.get_item(creator_tag, keep_deferred=True)
    value = ds[creator_tag].value if raw is not None and deferred_size(raw) is None else None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return str(value).strip() if value else None


def _names(tag: BaseTag, creator: str | None) -> tuple[str, str]:
    """(keyword, name) of an element from pydicom's public or private dictionary."""
    if tag.is_private:
        if tag.is_private_creator:
            return "", "Private Creator"
        if creator:
            try:
                return "", datadict.private_dictionary_description(tag, creator)
            except KeyError:
                pass
        return "", "Private tag data"
    keyword = datadict.keyword_for_tag(tag)
    try:
        name = datadict.dictionary_description(tag)
    except KeyError:
        name = "Unknown"
    return keyword, name


def path_name(tag: BaseTag, keyword: str) -> str:
    """Keyword when it names exactly this tag, else ``(gggg,eeee)``."""
    if keyword and datadict.tag_for_keyword(keyword) == tag:
        return keyword
    return tag_text(tag)


def _vm_of(element: DataElement) -> int:
    if element.VR == "SQ":
        return 1
    if element.VR in vrs.BINARY_VRS:
        return 1 if element.value else 0
    return int(element.VM)


def _rows(
    ds: Dataset,
    prefix: str,
    sequences: tuple[str, ...],
    lookup: dict[tuple[tuple[str, ...], str], tuple[str, str]],
    meta: bool,
    rows: list[dict[str, Any]],
) -> None:
    for key in list(ds.keys()):
        tag = Tag(key)
        raw: DataElement | RawDataElement = ds.get_item(tag, keep_deferred=True)
        creator = creator_of(ds, tag)
        keyword, name = _names(tag, creator)
        path = prefix + path_name(tag, keyword)
        deferred = deferred_size(raw)
        if isinstance(raw, RawDataElement) and (
            deferred is not None or tag in vrs.PIXEL_DATA_TAGS or raw.VR in vrs.BINARY_VRS
        ):  # summarised from the raw element, never decoded
            vr = str(raw.VR or vrs.dictionary_vr(tag) or "UN")
            size = deferred if deferred is not None else len(raw.value or b"")
            value = f"<{vr}, {size_text(size)}>"
            vm = 1
            element = None
        else:
            try:
                element = ds[tag]
            except Exception as exc:  # damaged value: describe it, never raise
                element = None
                vr = str(raw.VR or vrs.dictionary_vr(tag) or "UN")
                value = f"<cannot decode: {' '.join(str(exc).split())}>"
                vm = 0
            else:
                vr = element.VR
                value = value_text(element)
                vm = _vm_of(element)
        found = lookup.get((sequences, keyword)) if keyword and not meta else None
        editable = element is not None and not (
            meta
            or tag.element == 0
            or tag in vrs.PIXEL_DATA_TAGS
            or vr == "SQ"
            or vr in vrs.BINARY_VRS
            or " or " in vr
        )
        rows.append(
            {
                "path": path,
                "tag": tag_text(tag),
                "keyword": keyword,
                "name": name,
                "vr": vr,
                "vm": vm,
                "value": value,
                "module": found[0] if found else None,
                "ie": found[1] if found else None,
                "private_creator": creator,
                "editable": editable,
            }
        )
        if element is not None and vr == "SQ" and element.value is not None:
            inner = (*sequences, keyword or tag_text(tag))
            for index, item in enumerate(element.value):
                _rows(item, f"{path}[{index}].", inner, lookup, meta, rows)


@guarded("table")
def to_table(ds: Dataset, iod_key: str | None = None) -> pd.DataFrame:
    """Return one row per element (nested ones too), file meta first.

    Parameters
    ----------
    ds : Dataset
        A dataset, e.g. from :func:`tbp_core.fileio.dicomio.read`. Deferred (large)
        values are not read.
    iod_key : str, optional
        IOD whose modules fill ``module`` and ``ie``; by default the IOD of the
        dataset's SOP Class UID.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TABLE_COLUMNS`: ``path`` (e.g.
        ``AnatomicRegionSequence[0].CodeValue``), ``tag`` ``(GGGG,EEEE)``,
        ``keyword``, ``name``, ``vr``, ``vm``, ``value`` (text), ``module`` and
        ``ie`` (None outside the IOD), ``private_creator``, ``editable``.
    """
    import pandas as pd

    if iod_key is None:
        sop_class = text_value(ds, 0x00080016)  # '' when damaged or not a UID
        iod_key = standard.iod_for_sop_class(str(sop_class)) if sop_class else None
    lookup = _module_lookup(iod_key) if iod_key else {}
    rows: list[dict[str, Any]] = []
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        _rows(meta, "", (), lookup, True, rows)
    _rows(ds, "", (), lookup, False, rows)
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
