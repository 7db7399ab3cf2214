"""What the validation checks share: the dataset, the findings, and safe element access.

The access functions never read a deferred value (Pixel Data and other large
values stay on disk) and turn a value that cannot be decoded into one
``unreadable-value`` finding instead of an exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pydicom._dicom_dict import RepeatersDictionary  # repeating groups (60xx)
from pydicom.datadict import keyword_for_tag, tag_for_keyword
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from tbp_core.building.derived import INSTANCE_KEYWORDS
from tbp_core.validation.findings import Finding, tag_text


@dataclass
class Context:
    """What the checks share while validating one dataset."""

    ds: Dataset
    iod: str
    findings: list[Finding] = field(default_factory=list)
    reported: set[tuple[str, str]] = field(default_factory=set)
    unevaluated: set[str] = field(default_factory=set)
    unconditional: set[tuple[str, str]] = field(default_factory=set)
    unreadable: set[str] = field(default_factory=set)

    def add(self, finding: Finding) -> None:
        """Record a finding."""
        self.findings.append(finding)


def tag_of(keyword: str) -> int | None:
    """The tag of a keyword, overlays (60xx) included; None when unknown."""
    tag = tag_for_keyword(keyword)
    return tag if tag is not None else repeater_tags().get(keyword)


@cache
def repeater_tags() -> dict[str, int]:
    """Keywords of repeating-group attributes (overlays: 60xx) → their tag in group 6000."""
    return {
        entry[4]: int(mask.replace("x", "0"), 16)
        for mask, entry in RepeatersDictionary.items()
        if entry[4] and mask.startswith("60xx")
    }


def raw_element(ds: Dataset, tag: int) -> DataElement | RawDataElement | None:
    """The element as stored, without reading a deferred value."""
    try:
        item = ds.get_item(tag, keep_deferred=True)
    except Exception:  # a damaged dataset can fail anywhere
        return None
    return item if isinstance(item, (DataElement, RawDataElement)) else None


def element(ctx: Context, ds: Dataset, tag: int, path: str) -> DataElement | None:
    """The converted element (never for a deferred value); unreadable → finding."""
    raw = raw_element(ds, tag)
    if raw is None:
        return None
    if isinstance(raw, DataElement):
        return raw
    if raw.value is None:  # deferred: large, never read here
        return None
    try:
        elem = ds[tag]
    except Exception as exc:
        report_unreadable(ctx, tag, path, exc)
        return None
    return elem if isinstance(elem, DataElement) else None


def report_unreadable(ctx: Context, tag: int, path: str, exc: BaseException) -> None:
    """Record one unreadable-value finding per path."""
    if path in ctx.unreadable:
        return
    ctx.unreadable.add(path)
    keyword = keyword_for_tag(tag)
    reason = " ".join(str(exc).split())[:160] or type(exc).__name__
    ctx.add(
        Finding(
            severity="error",
            code="unreadable-value",
            message=f"{path or tag_text(tag)}: the value cannot be read ({reason}); "
            "re-enter or delete it",
            tag=tag_text(tag),
            keyword=keyword,
            path=path,
            field=field_for(keyword, path),
        )
    )


def is_empty(ctx: Context, ds: Dataset, tag: int, path: str) -> bool:
    """Whether the element at ``tag`` has no value (absent counts as empty)."""
    raw = raw_element(ds, tag)
    if raw is None:
        return True
    if isinstance(raw, RawDataElement):
        if raw.length == 0:
            return True
        if raw.value is None:
            return False
    elem = element(ctx, ds, tag, path)
    if elem is None:
        return False
    try:
        return bool(elem.VM == 0)
    except Exception:
        return False


def value_of(ctx: Context, ds: Dataset, keyword: str) -> Any:
    """The value of a top-level (or item-level) element, or None."""
    tag = tag_of(keyword)
    if tag is None or tag not in ds:
        return None
    elem = element(ctx, ds, tag, keyword)
    return None if elem is None else elem.value


def text(ctx: Context, ds: Dataset, keyword: str) -> str:
    """The first value of an element as stripped text ('' when absent)."""
    value = value_of(ctx, ds, keyword)
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        value = value[0] if len(value) else ""
    return str(value).strip()


def integer(ctx: Context, ds: Dataset, keyword: str) -> int | None:
    """The first value of an element as an int, or None."""
    value = value_of(ctx, ds, keyword)
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        value = value[0] if len(value) else None
    try:
        return None if value is None or value == "" else int(value)
    except (TypeError, ValueError):
        return None


def has(ds: Dataset, keyword: str) -> bool:
    """Whether ``ds`` holds the element (without reading it)."""
    tag = tag_of(keyword)
    return tag is not None and tag in ds


def items(ctx: Context, ds: Dataset, keyword: str, path: str) -> list[tuple[str, Dataset]]:
    """Items of a sequence as (path, item); empty when absent or not a sequence."""
    tag = tag_of(keyword)
    if tag is None or tag not in ds:
        return []
    elem = element(ctx, ds, tag, path)
    if elem is None or not isinstance(elem.value, Sequence):
        return []
    return [(f"{path}[{i}]", item) for i, item in enumerate(elem.value)]


def field_for(keyword: str, path: str) -> str:
    """The template key that fixes a finding: the keyword of a top-level attribute."""
    if keyword and path == keyword and keyword not in INSTANCE_KEYWORDS:
        return keyword
    return ""


def join_path(prefix: str, keyword: str) -> str:
    """``prefix.keyword``, or the keyword alone at the top level."""
    return f"{prefix}.{keyword}" if prefix else keyword


def transfer_syntax(ds: Dataset) -> str:
    """The file meta's Transfer Syntax UID, or ''."""
    meta = getattr(ds, "file_meta", None)
    try:
        return str(meta.get("TransferSyntaxUID", "") or "").strip() if meta else ""
    except Exception:
        return ""


def top_level_tags(ds: Dataset) -> list[int]:
    """The tags of ``ds`` without reading any value."""
    try:
        # keys(), not iteration: iterating a Dataset reads deferred values
        return [int(t) for t in ds.keys()]  # noqa: SIM118
    except Exception:
        return []


def items_by_tag(ctx: Context, ds: Dataset, tag: int, path: str) -> list[tuple[str, Dataset]]:
    """Items of the sequence at ``tag`` as (path, item)."""
    elem = element(ctx, ds, tag, path)
    if elem is None or not isinstance(elem.value, Sequence):
        return []
    return [(f"{path}[{i}]", item) for i, item in enumerate(elem.value)]
