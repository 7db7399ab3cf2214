"""The metadata form, described without a user interface.

Which fields a metadata form shows for an IOD, grouped the way the standard
groups them (Information Entity, then module), each with its attribute name,
tag, VR, Type and the kind of input it needs; how validation findings map to
those fields; and how typed form input becomes normalised metadata
(:func:`tbp_core.building.metadata.normalise_value`) without losing what was typed.

The form offers the attributes a person fills in by hand (:data:`FORM_KEYWORDS`),
the EXIF-derived ones an image brings along, and the TBP calibration block
(:mod:`tbp_core.standard.private`). Attributes that describe the pixels or identify the
instance are left to the converter. Types come from the standard's tables
(:mod:`tbp_core.standard`): when several modules of an IOD list an attribute,
it is shown once, in the module whose Type applies (the stricter one, or the
IOD-specific module refining a general one, as the validator decides), so a
Dermoscopic image shows Manufacturer as Type 1 in Enhanced General Equipment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Any, Literal

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.valuerep import PersonName

from tbp_core import standard
from tbp_core.building.iods.builder import DERMOSCOPIC_EQUIPMENT
from tbp_core.building.metadata import dataset_to_template, normalise_value
from tbp_core.errors import FieldProblem, MetadataError
from tbp_core.inspection.tags import AddElement, Edit, SetValue
from tbp_core.standard import anatomy, private
from tbp_core.standard.enumerations import rules_for
from tbp_core.validation.findings import Finding, tag_text

__all__ = [
    "CALIBRATION_IE",
    "CALIBRATION_MODULE",
    "FORM_KEYWORDS",
    "NAME_PARTS",
    "FieldFindings",
    "FormField",
    "FormInput",
    "FormModule",
    "FormSection",
    "InputKind",
    "RegionChoice",
    "builder_required",
    "compose_name",
    "dataset_form_values",
    "edit_for",
    "form_fields",
    "form_sections",
    "ie_of",
    "map_findings",
    "name_parts",
    "read_form",
    "region_choice",
    "region_value",
    "select_by_ie",
    "text_of",
    "title_of",
]

InputKind = Literal[
    "text", "person_name", "date", "time", "datetime", "number", "choice", "anatomic_region"
]
"""How a field is entered: free text, a person's name in parts, a date (DA), a time
(TM), a date-time (DT), a number, one of a list of values, or an anatomic region."""

#: Attributes the form offers when the IOD has a module listing them, besides
#: the EXIF-derived ones. Order does not matter: fields follow the standard's tables.
FORM_KEYWORDS: frozenset[str] = frozenset(
    {
        # Patient
        "PatientName",
        "PatientID",
        "PatientBirthDate",
        "PatientSex",
        "PatientComments",
        # Study
        "StudyDate",
        "StudyTime",
        "AccessionNumber",
        "ReferringPhysicianName",
        "StudyID",
        "StudyDescription",
        "PatientAge",
        "PatientSize",
        "PatientWeight",
        # Series
        "SeriesNumber",
        "SeriesDescription",
        # Equipment
        "Manufacturer",
        "InstitutionName",
        "StationName",
        "InstitutionalDepartmentName",
        "ManufacturerModelName",
        "DeviceSerialNumber",
        "SoftwareVersions",
        # Image
        "ContentDate",
        "ContentTime",
        "ImageComments",
        "AnatomicRegionSequence",
        "RecognizableVisualFeatures",
        "LightSourcePolarization",
        "EmitterColorTemperature",
        "ContactMethod",
        "OpticalMagnificationFactor",
        "ContentQualification",
    }
)

#: The person-name attribute entered as separate parts (family, given, middle).
_PARTS_NAME = "PatientName"

#: Name parts a person name is entered in, in DICOM order (PS3.5 6.2.1).
NAME_PARTS = ("family", "given", "middle", "prefix", "suffix")

#: The Information Entity and module shown for the TBP private block.
CALIBRATION_IE = "TBP calibration"
CALIBRATION_MODULE = "tbp-calibration"
_CALIBRATION_MODULE_NAME = (
    f"Camera calibration (private block '{private.TBP_PRIVATE_CREATOR}', group 0011)"
)

#: Modules used when a dataset's IOD is unknown (no or an unlisted SOP Class UID).
_FALLBACK_MODULES = (
    standard.ModuleUsage("patient", "M", "Patient"),
    standard.ModuleUsage("general-study", "M", "Study"),
    standard.ModuleUsage("patient-study", "U", "Study"),
    standard.ModuleUsage("general-series", "M", "Series"),
    standard.ModuleUsage("general-equipment", "M", "Equipment"),
    standard.ModuleUsage("general-image", "M", "Image"),
    standard.ModuleUsage("sop-common", "M", "Image"),
)

_NUMBER_VRS = frozenset({"DS", "IS", "FL", "FD", "US", "SS", "UL", "SL", "UV", "SV"})
_NOT_EDITABLE_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN", "SQ", "AT", "UI"})
_TYPE_RANK = {"1": 0, "2": 1, "1C": 2, "2C": 3, "3": 4}
_UPPER_WORDS = frozenset({"vl", "sc", "sop", "icc", "lut", "voi", "id", "ct", "mr"})
_LOWER_WORDS = frozenset({"of", "and", "for", "to"})
_USAGE = {"M": "mandatory", "U": "optional", "C": "conditional"}


@dataclass(frozen=True)
class FormField:
    """One field of the metadata form.

    Attributes
    ----------
    key : str
        The metadata (template) key: a DICOM keyword, or a ``tbp:`` key.
    keyword : str
        The DICOM keyword (for a TBP private attribute, its private keyword).
    name : str
        The attribute's name, the field's label (``"Patient's Name"``).
    tag : str
        ``"(0010,0010)"``; TBP attributes as written in a new block (``(0011,1010)``).
    vr, vm : str
        Value Representation and Multiplicity (PS3.6).
    type : str
        The Type in this IOD (``"1"``, ``"2"``, ``"1C"``, ``"2C"``, ``"3"``);
        ``""`` for private attributes, which have none.
    module : str
        Module key in the standard's tables (``"patient"``).
    module_name : str
        Its name (``"Patient"``).
    module_usage : str
        The module's usage in the IOD: ``"M"``, ``"C"`` or ``"U"`` (``""`` private).
    ie : str
        The Information Entity (``"Patient"``, ..., :data:`CALIBRATION_IE`).
    kind : InputKind
        How the value is entered.
    choices : tuple of str
        The allowed values of a ``"choice"`` field (Enumerated Values).
    from_exif : bool
        Whether the value shown comes from the image's EXIF.
    description : str
        What a private attribute means (empty for standard attributes).
    """

    key: str
    keyword: str
    name: str
    tag: str
    vr: str
    vm: str
    type: str
    module: str
    module_name: str
    module_usage: str
    ie: str
    kind: InputKind
    choices: tuple[str, ...] = ()
    from_exif: bool = False
    description: str = ""

    @property
    def is_private(self) -> bool:
        """True for the TBP private attributes."""
        return private.is_tbp_key(self.key)

    @property
    def help(self) -> str:
        """One line for a tooltip: tag, Type, VR and VM, module; where the value came from."""
        kind = "private attribute (no Type: optional)" if self.is_private else f"Type {self.type}"
        usage = f", {_USAGE[self.module_usage]}" if self.module_usage in _USAGE else ""
        text = (
            f"{self.tag} · {kind} · VR {self.vr}, VM {self.vm} · "
            f"{self.module_name} module ({self.ie}{usage})"
        )
        if self.description:
            text += f". {self.description}"
        if self.from_exif:
            text += ". The value shown comes from the image's EXIF."
        return text


@dataclass(frozen=True)
class FormModule:
    """A module of the form and its fields."""

    key: str
    name: str
    usage: str
    fields: tuple[FormField, ...]


@dataclass(frozen=True)
class FormSection:
    """An Information Entity of the form and its modules."""

    ie: str
    modules: tuple[FormModule, ...]

    @property
    def fields(self) -> tuple[FormField, ...]:
        """Every field of the section, module by module."""
        return tuple(f for module in self.modules for f in module.fields)


# ---------------------------------------------------------------- layout


def title_of(key: str) -> str:
    """The name of a module or IOD from its key in the standard's tables.

    Parameters
    ----------
    key : str
        E.g. ``"general-equipment"``, ``"vl-image"``, ``"ct-image"``.

    Returns
    -------
    str
        ``"General Equipment"``, ``"VL Image"``, ``"CT Image"``.
    """
    words = key.split("-")
    named = []
    for index, word in enumerate(words):
        if word in _UPPER_WORDS:
            named.append(word.upper())
        elif word in _LOWER_WORDS and index:
            named.append(word)
        else:
            named.append(word.capitalize())
    return " ".join(named)


def _overrides(
    current: tuple[standard.ModuleUsage, standard.ModuleAttribute],
    module: standard.ModuleUsage,
    attribute: standard.ModuleAttribute,
) -> bool:
    """Whether ``module`` rather than the current one gives the attribute its Type.

    The stricter Type wins, except that an IOD-specific module refines a general
    one (the same rule the validator applies).
    """
    old_module, old = current
    if old_module.key.startswith("general-") and not module.key.startswith(
        ("general-", "sop-common", "common-")
    ):
        return True
    return _TYPE_RANK.get(attribute.type, 9) < _TYPE_RANK.get(old.type, 9)


def _kind(keyword: str, vr: str, vm: str, iod_key: str | None) -> tuple[InputKind, tuple[str, ...]]:
    if keyword == "AnatomicRegionSequence":
        return "anatomic_region", ()
    if keyword == _PARTS_NAME:
        return "person_name", ()
    if vr == "CS" and vm == "1":
        enumerated = [
            rule
            for rule in rules_for(keyword, iod_key, True)
            if rule.severity == "error" and rule.index in (None, 0)
        ]
        if enumerated:
            return "choice", tuple(v for v in enumerated[0].allowed if v)
    if vm != "1":
        return "text", ()
    kinds: dict[str, InputKind] = {"DA": "date", "TM": "time", "DT": "datetime"}
    if vr in kinds:
        return kinds[vr], ()
    if vr in _NUMBER_VRS:
        return "number", ()
    return "text", ()


def _editable(keyword: str) -> bool:
    info = standard.attribute_info(keyword)
    if info is None or info.retired:
        return False
    return not any(part in _NOT_EDITABLE_VRS for part in info.vr.split(" or "))


def _modules(iod_key: str | None) -> tuple[standard.ModuleUsage, ...]:
    modules = standard.modules_of_iod(iod_key) if iod_key else ()
    return modules or _FALLBACK_MODULES


def _placements(
    iod_key: str | None, wanted: frozenset[str]
) -> dict[str, tuple[standard.ModuleUsage, standard.ModuleAttribute]]:
    placed: dict[str, tuple[standard.ModuleUsage, standard.ModuleAttribute]] = {}
    for module in _modules(iod_key):
        top = dict(standard.module_attributes_by_path(module.key)).get((), ())
        for attribute in top:
            if attribute.keyword not in wanted:
                continue
            current = placed.get(attribute.keyword)
            if current is None or _overrides(current, module, attribute):
                placed[attribute.keyword] = (module, attribute)
    return placed


def _field(
    module: standard.ModuleUsage, attribute: standard.ModuleAttribute, iod_key: str | None
) -> FormField | None:
    info = standard.attribute_info(attribute.keyword)
    if info is None:
        return None
    kind, choices = _kind(info.keyword, info.vr, info.vm, iod_key)
    return FormField(
        key=info.keyword,
        keyword=info.keyword,
        name=info.name,
        tag=tag_text(info.tag),
        vr=info.vr,
        vm=info.vm,
        type=attribute.type,
        module=module.key,
        module_name=title_of(module.key),
        module_usage=module.usage,
        ie=module.information_entity,
        kind=kind,
        choices=choices,
    )


def _calibration_fields() -> tuple[FormField, ...]:
    fields = []
    for attr in private.TBP_ATTRIBUTES:
        kind: InputKind = "number" if attr.vm == "1" else "text"
        choices: tuple[str, ...] = ()
        if attr.key == "tbp:Parfocal":
            kind, choices = "choice", ("1", "0")
        fields.append(
            FormField(
                key=attr.key,
                keyword=attr.keyword,
                name=attr.name,
                tag=tag_text((private.TBP_GROUP << 16) | 0x1000 | attr.offset),
                vr=attr.vr,
                vm=attr.vm,
                type="",
                module=CALIBRATION_MODULE,
                module_name=_CALIBRATION_MODULE_NAME,
                module_usage="",
                ie=CALIBRATION_IE,
                kind=kind,
                choices=choices,
                description=attr.description,
            )
        )
    return tuple(fields)


@cache
def _layout(
    iod_key: str | None, extra: frozenset[str], calibration: bool
) -> tuple[FormSection, ...]:
    wanted = frozenset(k for k in FORM_KEYWORDS | extra if _editable(k) or k in FORM_KEYWORDS)
    placed = _placements(iod_key, wanted)
    sections: dict[str, list[FormModule]] = {}
    for module in _modules(iod_key):
        top = dict(standard.module_attributes_by_path(module.key)).get((), ())
        fields = []
        for attribute in top:
            owner = placed.get(attribute.keyword)
            if owner is None or owner[0] != module or owner[1] != attribute:
                continue
            field = _field(module, attribute, iod_key)
            if field is not None:
                fields.append(field)
        if fields:
            sections.setdefault(module.information_entity, []).append(
                FormModule(module.key, title_of(module.key), module.usage, tuple(fields))
            )
    result = [FormSection(ie, tuple(modules)) for ie, modules in sections.items()]
    if calibration:
        calibration_module = FormModule(
            CALIBRATION_MODULE, _CALIBRATION_MODULE_NAME, "", _calibration_fields()
        )
        result.append(FormSection(CALIBRATION_IE, (calibration_module,)))
    return tuple(result)


def form_sections(
    iod_key: str | None,
    *,
    exif_values: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    calibration: bool = True,
) -> tuple[FormSection, ...]:
    """The form for an IOD: Information Entities, their modules, their fields.

    Parameters
    ----------
    iod_key : str or None
        The IOD's key in the standard's tables (``"vl-photographic-image"``);
        None (or an unknown key) gives the Patient, Study, Series, Equipment and
        General Image modules common to image IODs.
    exif_values : Mapping, optional
        EXIF-derived keyword → value of the image: these attributes are offered
        too (where the IOD has a module for them) and marked ``from_exif`` unless
        ``metadata`` gives their value.
    metadata : Mapping, optional
        The values the user entered (keyword → value).
    calibration : bool
        Whether to add the TBP calibration block as a last section.

    Returns
    -------
    tuple of FormSection
        In the order of the IOD's modules in the standard (Patient, Study,
        Series, Equipment, ..., Image), modules without form fields left out,
        fields in the order of each module's table.
    """
    exif = dict(exif_values or {})
    entered = metadata or {}
    sections = _layout(iod_key, frozenset(exif), calibration)
    if not exif:
        return sections
    marked = []
    for section in sections:
        modules = []
        for module in section.modules:
            fields = tuple(
                replace(f, from_exif=True) if f.key in exif and f.key not in entered else f
                for f in module.fields
            )
            modules.append(replace(module, fields=fields))
        marked.append(replace(section, modules=tuple(modules)))
    return tuple(marked)


def form_fields(sections: Iterable[FormSection]) -> tuple[FormField, ...]:
    """Every field of a form, in order.

    Parameters
    ----------
    sections : iterable of FormSection

    Returns
    -------
    tuple of FormField
    """
    return tuple(f for section in sections for f in section.fields)


def builder_required(iod_key: str | None) -> tuple[str, ...]:
    """Keywords an image cannot be converted to the IOD without.

    Parameters
    ----------
    iod_key : str or None

    Returns
    -------
    tuple of str
        The dermatoscope's Enhanced General Equipment values for the
        Dermoscopic Photography Image; empty for the other IODs.
    """
    if iod_key == "dermoscopic-photography-image":
        return DERMOSCOPIC_EQUIPMENT
    return ()


def ie_of(key: str, iod_key: str | None) -> str:
    """The Information Entity a metadata key belongs to in an IOD.

    Parameters
    ----------
    key : str
        A keyword or ``tbp:`` key.
    iod_key : str or None

    Returns
    -------
    str
        :data:`CALIBRATION_IE` for ``tbp:`` keys; the IE of the module whose
        Type applies; ``"Image"`` for keywords no module of the IOD lists.
    """
    if private.is_tbp_key(key):
        return CALIBRATION_IE
    placed = _placements(iod_key, frozenset({key}))
    return placed[key][0].information_entity if key in placed else "Image"


def select_by_ie(
    metadata: Mapping[str, Any], iod_key: str | None, ies: Iterable[str]
) -> dict[str, Any]:
    """The part of some metadata that belongs to the given Information Entities.

    Parameters
    ----------
    metadata : Mapping
        Keyword (or ``tbp:`` key) → value.
    iod_key : str or None
        The IOD the metadata is for.
    ies : iterable of str
        E.g. ``("Patient", "Study", "Series")``.

    Returns
    -------
    dict
        The selected items, in their order.
    """
    wanted = set(ies)
    return {k: v for k, v in metadata.items() if ie_of(k, iod_key) in wanted}


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
    if isinstance(value, float):
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
                _PARTS_NAME,
                dict(typed),
                f"{_PARTS_NAME}: the {part} name {text!r} contains {bad[0]!r}; "
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
            values[field.key] = normalise_value(field.key, raw_value)
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
    rank = {"error": 0, "warning": 1, "info": 2}
    return FieldFindings(
        {k: tuple(sorted(v, key=lambda f: rank[f.severity])) for k, v in by_field.items()},
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
