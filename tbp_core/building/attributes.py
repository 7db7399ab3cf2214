"""Metadata values, one attribute at a time: keyword checks and the normal form.

A metadata value belongs to a DICOM keyword or a TBP ``tbp:`` key
(:mod:`tbp_core.standard.private`). :func:`normalise_value` refuses unknown,
retired, file meta and binary keywords (suggesting the right keyword), brings
the value into the normal form of its VR (:mod:`tbp_core.standard.normalform`), refuses
values outside the attribute's Enumerated Values
(:mod:`tbp_core.standard.enumerations`, per IOD when one is given), and
normalises sequences item by item (obsolete SNOMED-RT codes refused).
:func:`dataset_values` reads a dataset's attributes back as plain values.

Templates (:mod:`tbp_core.building.templates`) and applying metadata to a dataset
(:mod:`tbp_core.building.metadata`) are built on these.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

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
from pydicom.valuerep import PersonName

from tbp_core.building.derived import INSTANCE_KEYWORDS
from tbp_core.errors import FieldProblem, MetadataError
from tbp_core.standard import enumerations, normalform, private
from tbp_core.standard import vr as vrs
from tbp_core.standard.vr import InvalidValueError

__all__ = [
    "checked_value",
    "dataset_values",
    "error_for",
    "normalise_into",
    "normalise_value",
]


def error_for(problems: list[FieldProblem]) -> MetadataError:
    """One error for every problem found (a one-line message listing them all).

    Parameters
    ----------
    problems : list of FieldProblem
        At least one problem.

    Returns
    -------
    MetadataError
        With ``problems`` set.
    """
    if len(problems) == 1:
        return MetadataError(problems[0].message, problems=tuple(problems))
    listed = "; ".join(problem.message for problem in problems)
    return MetadataError(f"{len(problems)} invalid values: {listed}", problems=tuple(problems))


def _problems_of(error: MetadataError, keyword: str, value: Any) -> list[FieldProblem]:
    if error.problems:
        return list(error.problems)
    return [FieldProblem(keyword, value, str(error), None)]


# --------------------------------------------------------------------- keywords


def _lookup(keyword: str) -> tuple[BaseTag, str, str]:
    """Tag, VR and VM of a keyword, refusing unknown and retired keywords."""
    tag = tag_for_keyword(keyword)
    if tag is None:
        candidates = [k for k, t in keyword_dict.items() if not dictionary_is_retired(t)]
        close = difflib.get_close_matches(keyword, candidates, n=1, cutoff=0.6)
        if close:
            raise InvalidValueError(f"unknown DICOM keyword; did you mean {close[0]!r}?", close[0])
        raise InvalidValueError(
            "unknown DICOM keyword; use the keyword from PS3.6, e.g. PatientName"
        )
    if dictionary_is_retired(tag):
        replacement = _retired_replacement(keyword)
        hint = f"; use {replacement!r}" if replacement else ""
        raise InvalidValueError(f"{Tag(tag)} is retired from the DICOM standard{hint}", replacement)
    if tag >> 16 == 0x0002:
        raise InvalidValueError(
            "file meta information is written by the library, not set by templates"
        )
    vr = dictionary_VR(tag)
    if vrs.is_binary(vr):
        raise InvalidValueError(f"binary attribute ({vr}) cannot be set from a template")
    return Tag(tag), vr, dictionary_VM(tag)


def _retired_replacement(keyword: str) -> str | None:
    """The current attribute replacing a retired one, e.g. ImagePosition."""
    for candidate in (f"{keyword}Patient", f"{keyword}InS"):
        tag = tag_for_keyword(candidate)
        if tag is not None and not dictionary_is_retired(tag):
            return candidate
    return None


# ------------------------------------------------------------------ values


def normalise_into(
    path: str,
    keyword: str,
    value: Any,
    problems: list[FieldProblem],
    *,
    iod_key: str | None = None,
    top_level: bool = True,
) -> Any:
    """Normalise one attribute, adding its problems (named by ``path``) to ``problems``.

    Parameters
    ----------
    path : str
        Where the attribute is, for messages (``"AnatomicRegionSequence[0].CodeValue"``).
    keyword : str
        A DICOM keyword or a ``tbp:`` key.
    value : Any
        The value in any form :func:`normalise_value` accepts.
    problems : list of FieldProblem
        Problems found are appended here.
    iod_key : str or None
        IOD key for IOD-specific Enumerated Values.
    top_level : bool
        Whether the attribute is at the top level of the dataset.

    Returns
    -------
    Any
        The normal form, or None when empty or invalid.
    """
    if private.is_tbp_key(keyword):
        try:
            return private.normalise_tbp_value(keyword, value)
        except MetadataError as error:
            problems.extend(_problems_of(error, path, value))
            return None
    try:
        tag, vr, vm = _lookup(keyword)
        if vrs.is_empty(value):
            return None
        if vr == "SQ":
            return _sequence(path, value, problems, iod_key)
        return checked_value(keyword, tag, vr, vm, value, iod_key=iod_key, top_level=top_level)
    except InvalidValueError as invalid:
        problems.append(FieldProblem(path, value, f"{path}: {invalid.message}", invalid.suggestion))
        return None


def checked_value(
    keyword: str,
    tag: int,
    vr: str,
    vm: str,
    value: Any,
    *,
    iod_key: str | None = None,
    top_level: bool = True,
) -> Any:
    """The normal form of a value that breaks neither its VR and VM nor its Enumerated Values.

    Parameters
    ----------
    keyword : str
        The attribute's keyword (``""`` for a private element: no Enumerated Values).
    tag : int
    vr, vm : str
        The element's VR and VM.
    value : Any
        The value in any form :func:`tbp_core.standard.normalform.normalise_value` accepts.
    iod_key : str or None
        IOD key for IOD-specific Enumerated Values.
    top_level : bool
        Whether the element is at the top level of the dataset.

    Returns
    -------
    Any
        The normal form; None when empty.

    Raises
    ------
    InvalidValueError
        With a one-line message; a value outside the Enumerated Values is
        refused with the allowed values listed.
    """
    try:
        result = normalform.normalise_value(tag, value, vr=vr, vm=vm)
    except InvalidValueError:
        # A value the VR refuses may still be a word for an enumerated value
        # ("non-polarized"): the refusal then lists the allowed values.
        typed = [
            item.strip().upper() if isinstance(item, str) and vr == "CS" else item
            for item in vrs.split_values(vr, value)
        ]
        refusal = enumerations.check(keyword, typed, iod_key, top_level=top_level)
        if refusal is not None:
            raise InvalidValueError(refusal.message, refusal.suggestion) from None
        raise
    refusal = enumerations.check(keyword, result, iod_key, top_level=top_level)
    if refusal is not None:
        raise InvalidValueError(refusal.message, refusal.suggestion)
    return result


def _sequence(
    path: str, value: Any, problems: list[FieldProblem], iod_key: str | None
) -> list[dict[str, Any]] | None:
    if isinstance(value, Mapping | Dataset):
        value = [value]
    if not isinstance(value, list | tuple | DicomSequence):
        raise InvalidValueError("is not a list of items (a sequence is a list of JSON objects)")
    items: list[dict[str, Any]] = []
    for index, item in enumerate(value):
        item_path = f"{path}[{index}]"
        if isinstance(item, Dataset):
            item = dataset_values(item, None, item_path, problems, top_level=False)
        if not isinstance(item, Mapping):
            problems.append(
                FieldProblem(
                    item_path, item, f"{item_path}: {item!r} is not an item (a JSON object)"
                )
            )
            continue
        normalised = {
            str(key): normalise_into(
                f"{item_path}.{key}", str(key), sub, problems, iod_key=iod_key, top_level=False
            )
            for key, sub in item.items()
        }
        _check_code_item(item_path, normalised, problems)
        items.append(normalised)
    return items


def _check_code_item(path: str, item: Mapping[str, Any], problems: list[FieldProblem]) -> None:
    code = item.get("CodeValue")
    if not isinstance(code, str):
        return
    from tbp_core.standard import anatomy  # pydicom's code tables: only for code items

    scheme = item.get("CodingSchemeDesignator")
    field = f"{path}.CodeValue"
    try:
        anatomy.check_not_snomed_rt(code, scheme if isinstance(scheme, str) else None, field=field)
    except MetadataError as error:
        problems.append(FieldProblem(field, code, str(error), anatomy.sct_for_snomed_rt(code)))


def normalise_value(keyword: str, value: Any, *, iod_key: str | None = None) -> Any:
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
    iod_key : str, optional
        The IOD the value is for (``"vl-photographic-image"``): its own
        Enumerated Values apply too (e.g. Modality ``XC``).

    Returns
    -------
    Any
        The normal form of :mod:`tbp_core.standard.normalform` (``None`` if empty);
        sequences as lists of dicts.

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
    result = normalise_into(keyword, keyword, value, problems, iod_key=iod_key)
    if problems:
        raise error_for(problems)
    return result


# ------------------------------------------------------------------ datasets


def _element_value(element: DataElement) -> Any:
    """Plain Python value of an element, for normalisation."""
    value = element.value
    if isinstance(value, MultiValue):
        return [str(v) if isinstance(v, PersonName) else v for v in value]
    if isinstance(value, PersonName):
        return str(value)
    return value


def dataset_values(
    ds: Dataset,
    keywords: Iterable[str] | None,
    path: str,
    problems: list[FieldProblem],
    *,
    top_level: bool,
    everything: bool = False,
) -> dict[str, Any]:
    """A dataset's attributes as keyword → plain value (not normalised).

    Parameters
    ----------
    ds : Dataset
        A dataset or a sequence item.
    keywords : iterable of str or None
        Only these keywords (and ``tbp:`` keys); None: every public attribute
        with a template form (no pixel data or other binary values, no retired
        attributes, repeating groups or group lengths; at the top level, none
        of the attributes that identify the instance or describe its pixels).
    path : str
        Where ``ds`` is, for messages (``""`` at the top level).
    problems : list of FieldProblem
        Values that cannot be decoded (and, with ``everything``, private
        attributes outside the TBP block and VRs other than the dictionary's)
        are appended here.
    top_level : bool
        Whether ``ds`` is the top-level dataset.
    everything : bool
        Keep retired attributes and the top-level ones left out by default.

    Returns
    -------
    dict
        Sequences as lists of dicts; TBP private values under ``tbp:`` keys.
    """
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
        if wanted is None and vrs.is_binary(dictionary_VR(tag)):
            continue
        if top_level and wanted is None and keyword in INSTANCE_KEYWORDS:
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
                dataset_values(item, None, f"{field}[{i}]", problems, top_level=False)
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
