"""Metadata: the values a user gives for an instance, and putting them into a dataset.

Metadata is keyword (or ``tbp:`` key) → value. This module merges layers of it
(EXIF-derived values, a template, ``--set`` values) and applies it to a
dataset; it is also the public face of the metadata package:

- :mod:`tbp_core.building.attributes`: one attribute's value checked (keyword,
  VR and VM, Enumerated Values) and brought into normal form
  (:func:`normalise_value`);
- :mod:`tbp_core.building.templates`: keyword-JSON templates and the DICOM JSON
  Model in and out (:func:`parse_template`, :func:`parse_assignment`,
  :func:`dataset_to_template`, :func:`template_to_json`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.tag import Tag

from tbp_core.building.attributes import error_for, normalise_into, normalise_value
from tbp_core.building.templates import (
    dataset_to_template,
    parse_assignment,
    parse_template,
    template_to_json,
)
from tbp_core.errors import FieldProblem
from tbp_core.standard import private

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
    """The element of a normalised value (the keyword was checked by normalisation)."""
    tag = Tag(keyword)
    vr = dictionary_VR(tag)
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


def apply_metadata(ds: Dataset, values: Mapping[str, Any], *, iod_key: str | None = None) -> None:
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
    iod_key : str, optional
        The IOD of ``ds``: its own Enumerated Values apply too.

    Raises
    ------
    MetadataError
        If any value is invalid (all problems listed; `ds` unchanged).
    """
    problems: list[FieldProblem] = []
    normalised = {
        key: normalise_into(key, key, value, problems, iod_key=iod_key)
        for key, value in values.items()
    }
    if problems:
        raise error_for(problems)
    if "SpecificCharacterSet" not in ds and _contains_non_ascii(normalised):
        ds.SpecificCharacterSet = "ISO_IR 192"
    _set_values(ds, normalised)
