"""Metadata form input: typed values in, normalised metadata and tag edits out.

How typed form input becomes normalised metadata
(:func:`tbp_core.building.attributes.normalise_value`, Enumerated Values in the
field's IOD included) without losing what was typed; how a document's values
are shown in the form; how validation findings map to the fields; the tag edit
that puts a value into a DICOM document; and the anatomic region picker's value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.valuerep import PersonName

from tbp_core.building.attributes import normalise_value
from tbp_core.building.templates import dataset_to_template
from tbp_core.errors import FieldProblem, MetadataError
from tbp_core.inspection.tagedits import AddElement, Edit, SetValue
from tbp_core.session.formlayout import NAME_PARTS, PARTS_NAME, FormField
from tbp_core.standard import anatomy, private
from tbp_core.standard.formatting import severity_rank, tag_text
from tbp_core.validation.findings import Finding

__all__ = [
    "FieldFindings",
    "FormInput",
    "RegionChoice",
    "compose_name",
    "dataset_form_values",
    "edit_for",
    "map_findings",
    "name_parts",
    "read_form",
    "region_choice",
    "region_value",
    "text_of",
]


# ---------------------------------------------------------------- values


def text_of(value: Any) -> str:
    r"""The text of a value as a form (or a tag edit) shows it.

    Parameters
    ----------
    value : Any
        A normalised metadata value or an element's value.

    Returns
    -------
    str
        ``""`` for None; several values joined with ``\``; numbers as written.
    """
    if value is None:
        return ""
    if isinstance(value, list | tuple | MultiValue):
        return "\\".join(text_of(v) for v in value)
    if type(value) is float:  # DSfloat and IS print as written (their repr adds quotes)
        return repr(value) if not value.is_integer() else f"{value:.1f}"
    return str(value)


def name_parts(value: Any) -> dict[str, str]:
    """Split a person name into its parts.

    Parameters
    ----------
    value : str, PersonName or None
        ``"Family^Given^Middle^Prefix^Suffix"``, possibly with ideographic and
        phonetic groups after ``=``.

    Returns
    -------
    dict
        ``family``, ``given``, ``middle``, ``prefix``, ``suffix`` (each ``""``
        when absent) and ``groups``: the ``=`` groups after the first, kept as
        they are (``""`` when none).
    """
    text = "" if value is None else str(value)
    first, _, groups = text.partition("=")
    pieces = first.split("^")
    parts = {part: (pieces[i] if i < len(pieces) else "") for i, part in enumerate(NAME_PARTS)}
    parts["groups"] = groups
    return parts


def compose_name(parts: Mapping[str, Any]) -> str:
    """Join name parts into a DICOM person name (the reverse of :func:`name_parts`).

    Parameters
    ----------
    parts : Mapping
        Some of ``family``, ``given``, ``middle``, ``prefix``, ``suffix``,
        ``groups``; missing ones are empty.

    Returns
    -------
    str
        ``"Family^Given^Middle"`` with empty trailing parts dropped, and the
        other ``=`` groups appended when there are any.
    """
    first = "^".join(str(parts.get(p) or "").strip() for p in NAME_PARTS).rstrip("^")
    groups = str(parts.get("groups") or "")
    return f"{first}={groups}" if groups else first


def _stored_value(ds: Dataset, keyword: str) -> Any:
    if keyword not in ds:
        raise KeyError(keyword)
    element = ds[keyword]
    value = element.value
    if element.VR == "SQ":
        return dataset_to_template(ds, [keyword], skip_invalid=True).get(keyword)
    if isinstance(value, bytes):
        raise KeyError(keyword)
    if isinstance(value, MultiValue | list):
        return [str(v) if isinstance(v, PersonName) else v for v in value]
    if isinstance(value, PersonName):
        return str(value)
    return value


def dataset_form_values(ds: Dataset, fields: Iterable[FormField]) -> dict[str, Any]:
    """The values a dataset holds for the form's fields.

    Parameters
    ----------
    ds : Dataset
        E.g. an uploaded DICOM file, or an image's built dataset.
    fields : iterable of FormField

    Returns
    -------
    dict
        Field key → value as stored (text, numbers, lists; person names as
        text; sequences in template form), for the fields present in ``ds``.
        Values that cannot be read (a damaged file) are left out.
    """
    wanted = list(fields)
    values: dict[str, Any] = {}
    for field in wanted:
        if field.is_private:
            continue
        try:
            values[field.key] = _stored_value(ds, field.keyword)
        except KeyError:
            continue
        except Exception:  # pydicom raises many types for damaged values
            continue
    if any(field.is_private for field in wanted):
        try:
            tbp = private.get_tbp_values(ds)
        except MetadataError:
            tbp = {}
        values.update({k: v for k, v in tbp.items() if v is not None})
    return values


# ---------------------------------------------------------------- form input


@dataclass(frozen=True)
class FormInput:
    """Form input turned into metadata.

    Attributes
    ----------
    values : dict
        Field key → normalised value for each valid field (None: emptied).
    problems : dict
        Field key → the problem of each invalid field; its ``value`` is exactly
        what was typed, its ``message`` names the value, the rule and the fix.
    """

    values: dict[str, Any]
    problems: dict[str, FieldProblem]


def _name_problem(typed: Mapping[str, Any]) -> FieldProblem | None:
    for part in NAME_PARTS:
        text = str(typed.get(part) or "")
        bad = sorted({c for c in "^=\\" if c in text})
        if bad:
            return FieldProblem(
                PARTS_NAME,
                dict(typed),
                f"{PARTS_NAME}: the {part} name {text!r} contains {bad[0]!r}; "
                "type each part of the name in its own field",
            )
    return None


def read_form(fields: Iterable[FormField], typed: Mapping[str, Any]) -> FormInput:
    r"""Normalise what was typed into the form, collecting every problem.

    Parameters
    ----------
    fields : iterable of FormField
        The form's fields; only those with an entry in ``typed`` are read.
    typed : Mapping
        Field key → what the widget holds: text (several values separated by
        ``\``), a date or time as text (``"1948-07-26"``, ``"19480726"``,
        ``"10:15"``), a choice, or for the person-name field a mapping of
        :data:`NAME_PARTS` (plus ``groups``). For the anatomic region field, a
        template-form item list (see :func:`region_value`).

    Returns
    -------
    FormInput
        The valid values, normalised, and the problems; nothing typed is lost:
        each problem keeps the typed value.
    """
    values: dict[str, Any] = {}
    problems: dict[str, FieldProblem] = {}
    for field in fields:
        if field.key not in typed:
            continue
        raw = typed[field.key]
        if field.kind == "person_name" and isinstance(raw, Mapping):
            problem = _name_problem(raw)
            if problem is not None:
                problems[field.key] = problem
                continue
            raw_value: Any = compose_name(raw)
        else:
            raw_value = raw
        try:
            values[field.key] = normalise_value(field.key, raw_value, iod_key=field.iod_key)
        except MetadataError as error:
            problems[field.key] = FieldProblem(field.key, raw, str(error), _suggestion(error))
    return FormInput(values, problems)


def _suggestion(error: MetadataError) -> str | None:
    for problem in error.problems:
        if problem.suggestion:
            return problem.suggestion
    return None


# ---------------------------------------------------------------- findings


@dataclass(frozen=True)
class FieldFindings:
    """Validation findings sorted onto the form's fields.

    Attributes
    ----------
    by_field : dict
        Field key → its findings, errors first.
    unmatched : tuple of Finding
        Findings about attributes the form does not show.
    """

    by_field: dict[str, tuple[Finding, ...]]
    unmatched: tuple[Finding, ...]


def _top(path: str) -> str:
    return re.split(r"[\[.]", path, maxsplit=1)[0]


def map_findings(findings: Iterable[Finding], fields: Iterable[FormField]) -> FieldFindings:
    """Sort validation findings onto the form fields they are about.

    A finding belongs to a field when its ``field`` hint, the top-level
    attribute of its ``path`` (``AnatomicRegionSequence[0].CodeValue`` →
    ``AnatomicRegionSequence``) or its keyword names the field; findings on a
    private element belong to the TBP field with the same tag.

    Parameters
    ----------
    findings : iterable of Finding
        E.g. ``validate(ds).findings``.
    fields : iterable of FormField

    Returns
    -------
    FieldFindings
    """
    keys = {f.key for f in fields if not f.is_private}
    private_by_tag = {f.tag: f.key for f in fields if f.is_private}
    by_field: dict[str, list[Finding]] = {}
    unmatched: list[Finding] = []
    for finding in findings:
        bare = finding.keyword if not finding.path else ""
        candidates = (finding.field, _top(finding.path), bare)
        key = next((c for c in candidates if c and c in keys), None)
        if key is None:
            key = private_by_tag.get(_top(finding.path) or finding.tag)
        if key is None:
            unmatched.append(finding)
        else:
            by_field.setdefault(key, []).append(finding)
    return FieldFindings(
        {k: tuple(sorted(v, key=lambda f: severity_rank(f.severity))) for k, v in by_field.items()},
        tuple(unmatched),
    )


# ---------------------------------------------------------------- DICOM documents


def edit_for(ds: Dataset, key: str, value: Any) -> Edit | None:
    """The tag edit that gives an attribute a normalised value in a DICOM dataset.

    Parameters
    ----------
    ds : Dataset
        The dataset to be edited (it is not changed here).
    key : str
        A keyword of an attribute that is not a sequence (sequences are edited
        item by item), or a ``tbp:`` key.
    value : Any
        The normalised value (from :func:`read_form` or
        :func:`tbp_core.building.metadata.parse_template`); None empties the element.

    Returns
    -------
    SetValue, AddElement or None
        None when nothing is to change (an absent element left empty). A TBP
        attribute absent from the dataset is added to the TBP private block,
        which is reserved when needed.

    Raises
    ------
    MetadataError
        For an unknown ``tbp:`` key.
    """
    text = text_of(value)
    if not private.is_tbp_key(key):
        if value is None and key not in ds:
            return None
        return SetValue(key, text)
    attr = private.tbp_attribute(key)
    try:
        block = ds.private_block(private.TBP_GROUP, private.TBP_PRIVATE_CREATOR)
    except KeyError:
        block = None
    if block is not None and attr.offset in block:
        return SetValue(tag_text(block.get_tag(attr.offset)), text)
    if value is None:
        return None
    tag = tag_text((private.TBP_GROUP << 16) | 0x1000 | attr.offset)
    return AddElement("", tag, attr.vr, text, private_creator=private.TBP_PRIVATE_CREATOR)


# ---------------------------------------------------------------- anatomic region


@dataclass(frozen=True)
class RegionChoice:
    """The anatomic region a document has, as the region picker shows it.

    Attributes
    ----------
    region : AnatomicRegion or None
        The first region of the sequence (an unknown code becomes an unpaired
        region of its own); None when there is none.
    laterality : str or None
        ``"R"``, ``"L"``, ``"B"`` or ``"U"`` from its laterality modifier.
    modifiers : tuple of AnatomicRegion
        Its other modifiers, kept when the region or laterality changes.
    others : tuple of dict
        Further items of the sequence (template form), kept unchanged.
    """

    region: anatomy.AnatomicRegion | None
    laterality: str | None = None
    modifiers: tuple[anatomy.AnatomicRegion, ...] = ()
    others: tuple[dict[str, Any], ...] = ()


def _code(item: Mapping[str, Any]) -> tuple[str, str, str]:
    return (
        str(item.get("CodeValue") or ""),
        str(item.get("CodingSchemeDesignator") or ""),
        str(item.get("CodeMeaning") or ""),
    )


def region_choice(value: Any) -> RegionChoice:
    """Read an Anatomic Region Sequence value (template form) for the picker.

    Parameters
    ----------
    value : list of dict or None
        ``[{"CodeValue": ..., "CodingSchemeDesignator": ..., "CodeMeaning": ...,
        "AnatomicRegionModifierSequence": [...]}, ...]``.

    Returns
    -------
    RegionChoice
    """
    items = [item for item in (value or []) if isinstance(item, Mapping)]
    if not items:
        return RegionChoice(None)
    first = items[0]
    code, scheme, meaning = _code(first)
    region = anatomy.region_by_code(code, scheme) or anatomy.AnatomicRegion(
        code, scheme, meaning or code, False, "entered"
    )
    lateral_codes = {(c.coding_scheme, c.code_value): k for k, c in anatomy.LATERALITY.items()}
    laterality = None
    modifiers = []
    for modifier in first.get("AnatomicRegionModifierSequence") or []:
        m_code, m_scheme, m_meaning = _code(modifier)
        side = lateral_codes.get((m_scheme, m_code))
        if side is not None and laterality is None:
            laterality = side
        else:
            modifiers.append(anatomy.AnatomicRegion(m_code, m_scheme, m_meaning, False, "entered"))
    return RegionChoice(region, laterality, tuple(modifiers), tuple(dict(i) for i in items[1:]))


def region_value(
    region: anatomy.AnatomicRegion | None,
    laterality: str | None,
    *,
    keep: RegionChoice | None = None,
) -> list[dict[str, object]] | None:
    """The Anatomic Region Sequence value for a picked region and laterality.

    Parameters
    ----------
    region : AnatomicRegion or None
        The picked region; None clears the sequence (further items too).
    laterality : str or None
        ``"R"``, ``"L"``, ``"B"``, ``"U"`` or None; only for paired regions.
    keep : RegionChoice, optional
        What the document had: its non-laterality modifiers and further items
        are kept.

    Returns
    -------
    list of dict or None
        Template form (:func:`tbp_core.standard.anatomy.anatomic_region_value`).

    Raises
    ------
    MetadataError
        For a laterality on an unpaired region (the message names it) or an
        obsolete SNOMED-RT code.
    """
    if region is None:
        return None
    side: Any = laterality or None
    modifiers: Sequence[anatomy.AnatomicRegion] = keep.modifiers if keep else ()
    first = anatomy.anatomic_region_value(region, laterality=side, modifiers=modifiers)
    return [first, *(keep.others if keep else ())]
