"""The metadata form, described without a user interface: the public face.

- :mod:`tbp_core.session.formlayout`: which fields a form shows for an IOD,
  grouped by Information Entity and module, each with its name, tag, VR, Type,
  kind of input and choices (:func:`form_sections`, :func:`form_field`).
- :mod:`tbp_core.session.forminput`: typed input → normalised metadata with
  every problem kept (:func:`read_form`, the form's validation entry point),
  values shown, findings sorted onto fields, the tag edit for a value, and the
  anatomic region picker.
"""

from __future__ import annotations

from tbp_core.session.forminput import (
    FieldFindings,
    FormInput,
    RegionChoice,
    compose_name,
    dataset_form_values,
    edit_for,
    map_findings,
    name_parts,
    read_form,
    region_choice,
    region_value,
    text_of,
)
from tbp_core.session.formlayout import (
    CALIBRATION_IE,
    CALIBRATION_MODULE,
    FORM_KEYWORDS,
    NAME_PARTS,
    FormField,
    FormModule,
    FormSection,
    InputKind,
    builder_required,
    form_field,
    form_fields,
    form_sections,
    ie_of,
    select_by_ie,
)

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
    "form_field",
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
]
