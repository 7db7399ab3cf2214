"""The metadata form's fields for an IOD, described without a user interface.

Which fields a metadata form shows for an IOD, grouped the way the standard
groups them (Information Entity, then module), each with its attribute name,
tag, VR, Type, the kind of input it needs and, for an attribute with
Enumerated Values, its choices (:func:`tbp_core.standard.enumerations.allowed_values`).

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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cache
from typing import Any, Literal

from tbp_core import standard
from tbp_core.building.iods.builder import DERMOSCOPIC_EQUIPMENT
from tbp_core.building.lesionlink import LOCATION_KEY
from tbp_core.standard import private
from tbp_core.standard import vr as vrs
from tbp_core.standard.enumerations import allowed_values
from tbp_core.standard.formatting import tag_text, title_of, usage_text
from tbp_core.validation.requirements import applies_over

__all__ = [
    "CALIBRATION_IE",
    "CALIBRATION_MODULE",
    "FORM_KEYWORDS",
    "NAME_PARTS",
    "PARTS_NAME",
    "FormField",
    "FormModule",
    "FormSection",
    "InputKind",
    "builder_required",
    "form_field",
    "form_fields",
    "form_sections",
    "ie_of",
    "select_by_ie",
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
PARTS_NAME = "PatientName"


#: Name parts a person name is entered in, in DICOM order (PS3.5 6.2.1).
NAME_PARTS = ("family", "given", "middle", "prefix", "suffix")


#: The Information Entity and module shown for the TBP private block.
CALIBRATION_IE = "TBP calibration"


CALIBRATION_MODULE = "tbp-calibration"


_CALIBRATION_MODULE_NAME = (
    f"Camera calibration (private block '{private.TBP_PRIVATE_CREATOR}', group 0011)"
)


#: TBP private attributes that are not camera calibration: the lesion's location on
#: its overview is part of a close-up's lesion link (the Metadata page's "Lesion link"
#: section, :mod:`tbp_core.session.links`), set with the overview, not typed here.
_NOT_CALIBRATION = frozenset({LOCATION_KEY})


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


#: VRs the form has no field for besides the binary ones: sequences (but the anatomic
#: region), tags and UIDs (the converter makes those).
_NOT_EDITABLE_VRS = frozenset({"SQ", "AT", "UI"})


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
    iod_key : str or None
        The IOD the form is for: its Enumerated Values apply to what is typed.
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
    iod_key: str | None = None

    @property
    def is_private(self) -> bool:
        """True for the TBP private attributes."""
        return private.is_tbp_key(self.key)

    @property
    def help(self) -> str:
        """One line for a tooltip: tag, Type, VR and VM, module; where the value came from."""
        kind = "private attribute (no Type: optional)" if self.is_private else f"Type {self.type}"
        usage = f", {usage_text(self.module_usage)}" if usage_text(self.module_usage) else ""
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


def _kind(keyword: str, vr: str, vm: str, iod_key: str | None) -> tuple[InputKind, tuple[str, ...]]:
    if keyword == "AnatomicRegionSequence":
        return "anatomic_region", ()
    if keyword == PARTS_NAME:
        return "person_name", ()
    if vm != "1":
        return "text", ()
    # Coded numbers (group 0016) stay numbers: their codes mean nothing without a legend.
    choices = tuple(v for v in allowed_values(keyword, iod_key) if v) if vr == "CS" else ()
    if choices:
        return "choice", choices
    kinds: dict[str, InputKind] = {"DA": "date", "TM": "time", "DT": "datetime"}
    if vr in kinds:
        return kinds[vr], ()
    if vr in vrs.NUMBER_VRS:
        return "number", ()
    return "text", ()


def _editable(keyword: str) -> bool:
    info = standard.attribute_info(keyword)
    if info is None or info.retired:
        return False
    return not vrs.is_binary(info.vr) and not any(
        part in _NOT_EDITABLE_VRS for part in info.vr.split(" or ")
    )


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
            if current is None or applies_over(current, module, attribute):
                placed[attribute.keyword] = (module, attribute)
    return placed


def _field(
    module: standard.ModuleUsage, attribute: standard.ModuleAttribute, iod_key: str | None
) -> FormField | None:
    info = standard.attribute_info(attribute.keyword)
    if info is None:
        return None
    if iod_key and not standard.modules_of_iod(iod_key):
        iod_key = None  # an unknown IOD: the common modules, no IOD-specific rules
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
        iod_key=iod_key,
    )


def _calibration_fields() -> tuple[FormField, ...]:
    fields = []
    for attr in private.TBP_ATTRIBUTES:
        if attr.key in _NOT_CALIBRATION:
            continue
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


def form_field(key: str, iod_key: str | None) -> FormField | None:
    """The form field of one attribute in an IOD, whether or not the form shows it.

    Parameters
    ----------
    key : str
        A keyword or ``tbp:`` key.
    iod_key : str or None

    Returns
    -------
    FormField or None
        Placed in the module whose Type applies; None for a keyword no module
        of the IOD lists at its top level, or an unknown ``tbp:`` key.
    """
    if private.is_tbp_key(key):
        return next((f for f in _calibration_fields() if f.key == key), None)
    placed = _placements(iod_key, frozenset({key}))
    if key not in placed:
        return None
    module, attribute = placed[key]
    return _field(module, attribute, iod_key)


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
