"""Value checks of every element: VR formats, VM, UID syntax and enumerated values.

:func:`check_values` walks the dataset, sequence items included, without
reading large binary values (they may be deferred and never loaded) and
without touching pydicom's global configuration.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydicom.datadict import dictionary_VM, dictionary_VR, keyword_for_tag
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from tbp_core.standard import vr as vrs
from tbp_core.standard.enumerations import EnumRefusal, refusals
from tbp_core.validation.findings import Finding, tag_text

__all__ = ["check_values"]

_MAX_MESSAGE = 200


def check_values(ds: Dataset, iod_key: str | None) -> list[Finding]:
    """Check the value of every element of ``ds``, nested ones included.

    Checks each value with pydicom's VR validators (length, character
    repertoire, DA/TM/DT/AS/UI/PN/CS/DS/IS formats), the number of values
    against the dictionary's VM, the syntax of UIDs, and the enumerated
    values of :mod:`tbp_core.standard.enumerations` (per IOD, and Photometric
    Interpretation against the transfer syntax). Binary values (OB, OW, OF,
    OD, OL, OV, UN) and Pixel Data are skipped without being read.

    Parameters
    ----------
    ds : pydicom.Dataset
        The dataset, possibly read with ``defer_size``.
    iod_key : str or None
        IOD key (``"vl-photographic-image"``) for IOD-specific enumerations,
        or None when the IOD is unknown.

    Returns
    -------
    list of Finding
        Codes ``invalid-vr-value``, ``invalid-uid``, ``vm``,
        ``enumerated-value``, ``defined-term`` and ``unreadable-value``.
        Never raises.
    """
    findings: list[Finding] = []
    try:
        context = _Context(iod_key, _transfer_syntax(ds), _samples(ds))
        meta = getattr(ds, "file_meta", None)
        if isinstance(meta, Dataset):
            _walk(meta, "", False, context, findings)
        _walk(ds, "", True, context, findings)
    except Exception as exc:
        findings.append(
            Finding("error", "unreadable-value", _one_line(f"values could not be checked: {exc}"))
        )
    return findings


class _Context:
    """What the enumerated-value rules depend on besides the element."""

    def __init__(self, iod_key: str | None, transfer_syntax: str, samples: int | None) -> None:
        self.iod_key = iod_key
        self.transfer_syntax = transfer_syntax
        self.samples = samples


def _transfer_syntax(ds: Dataset) -> str:
    meta = getattr(ds, "file_meta", None)
    if meta is None:
        return ""
    try:
        return str(meta.get("TransferSyntaxUID", "") or "").strip()
    except Exception:
        return ""


def _samples(ds: Dataset) -> int | None:
    try:
        value = ds.get("SamplesPerPixel")
        return int(value) if value is not None and value != "" else None
    except Exception:
        return None


def _elements(ds: Dataset) -> Iterator[tuple[int, str, Any]]:
    """Tag, VR and raw-or-converted element, without converting anything."""
    for tag in sorted(ds.keys()):
        item = ds._dict.get(tag)  # get_item would load a deferred value
        vr = item.VR if item is not None else None
        if not vr:
            try:
                vr = dictionary_VR(tag)
            except KeyError:
                vr = "UN"
        yield int(tag), vr, item


def _walk(
    ds: Dataset, prefix: str, top_level: bool, context: _Context, findings: list[Finding]
) -> None:
    for tag, vr, item in _elements(ds):
        if tag in vrs.PIXEL_DATA_TAGS or vrs.is_binary(vr) or item is None:
            continue
        if isinstance(item, RawDataElement) and item.value is None and item.length:
            continue  # deferred value: leave it on disk
        keyword = "" if tag >> 16 & 1 else keyword_for_tag(tag)
        try:
            elem = ds[tag]
        except Exception as exc:
            findings.append(_unreadable(tag, prefix, exc, keyword))
            continue
        path = prefix + (keyword or tag_text(tag))
        if elem.VR == "SQ":
            items = elem.value or []
            for index, child in enumerate(items):
                if isinstance(child, Dataset):
                    _walk(child, f"{path}[{index}].", False, context, findings)
            continue
        if vrs.is_binary(elem.VR):
            continue
        try:
            findings.extend(_check_element(elem, keyword, path, top_level, context))
        except Exception as exc:
            findings.append(_unreadable(tag, prefix, exc, keyword))


def _unreadable(tag: int, prefix: str, exc: Exception, keyword: str = "") -> Finding:
    name = keyword or tag_text(tag)
    return Finding(
        "error",
        "unreadable-value",
        _one_line(f"{name}: the value cannot be decoded ({exc}); rewrite it with a valid value"),
        tag=tag_text(tag),
        keyword=keyword,
        path=prefix + name,
    )


def _values(elem: DataElement) -> list[Any]:
    value = elem.value
    if value is None:
        return []
    if isinstance(value, MultiValue | list | tuple):
        return list(value)
    if isinstance(value, str | bytes) and value in ("", b""):
        return []
    return [value]


def _check_element(
    elem: DataElement, keyword: str, path: str, top_level: bool, context: _Context
) -> list[Finding]:
    values = _values(elem)
    if not values:
        return []
    tag = tag_text(elem.tag)
    name = keyword or tag
    found: list[Finding] = []
    vr = elem.VR
    for index, value in enumerate(values):
        problem = vrs.value_problem(vr, value)
        if problem:
            code = "invalid-uid" if vr == "UI" else "invalid-vr-value"
            found.append(
                Finding(
                    "error",
                    code,
                    _one_line(f"{name} value {index + 1} is not a valid {vr}: {problem}"),
                    tag=tag,
                    keyword=keyword,
                    path=path,
                )
            )
    vm_problem = _vm_problem(elem, len(values))
    if vm_problem:
        found.append(Finding("error", "vm", _one_line(f"{name}: {vm_problem}"), tag, keyword, path))
    if keyword:
        found.extend(_enum_findings(keyword, values, tag, path, top_level, context))
    return found


def _vm_problem(elem: DataElement, count: int) -> str:
    if elem.VR in vrs.SINGLE_VALUE_VRS or elem.tag.is_private:
        return ""
    try:
        spec = dictionary_VM(elem.tag)
    except KeyError:
        return ""
    if vrs.vm_allows(spec, count):
        return ""
    return f"{count} values, but the standard's VM is {spec}"


def _enum_findings(
    keyword: str,
    values: list[Any],
    tag: str,
    path: str,
    top_level: bool,
    context: _Context,
) -> list[Finding]:
    found = refusals(
        keyword,
        values,
        context.iod_key,
        top_level=top_level,
        transfer_syntax=context.transfer_syntax,
        samples=context.samples,
    )
    return [_enum_finding(refusal, tag, path, context) for refusal in found]


def _enum_finding(refusal: EnumRefusal, tag: str, path: str, context: _Context) -> Finding:
    rule = refusal.rule
    where = f" ({rule.reason})" if rule.reason else ""
    if rule.transfer_syntaxes is not None:
        where = f" ({rule.reason}: transfer syntax {context.transfer_syntax})"
    kind = "enumerated value" if rule.severity == "error" else "defined term"
    message = (
        f"{refusal.keyword} value {refusal.index + 1} '{refusal.value}' is not an allowed "
        f"{kind}{where}; use one of: {refusal.allowed_text}"
    )
    return Finding(
        "error" if rule.severity == "error" else "warning",
        "enumerated-value" if rule.severity == "error" else "defined-term",
        _one_line(message),
        tag=tag,
        keyword=refusal.keyword,
        path=path,
    )


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _MAX_MESSAGE else line[: _MAX_MESSAGE - 1] + "…"
