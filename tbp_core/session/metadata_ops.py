"""What the Metadata page does to documents: the form's values, applying them, templates.

An image document takes metadata as its normalised keyword → value mapping
(:func:`tbp_core.session.workspace.set_metadata`); a DICOM document takes it as tag
edits. The functions here hide that difference and report, as frozen results,
what was applied and what was refused (with why), so the page only shows them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from tbp_core import standard
from tbp_core.building import metadata
from tbp_core.errors import MetadataError, TbpError
from tbp_core.session import formfields, workspace
from tbp_core.session.formfields import FormField, FormSection
from tbp_core.session.workspace import Document
from tbp_core.standard import private
from tbp_core.validation.findings import Finding
from tbp_core.validation.summary import FILE_META_MODULE

#: IODs whose form has the TBP calibration block even when the file has none yet.
VL_IODS = ("vl-photographic-image", "dermoscopic-photography-image")

#: Modules whose attributes the Metadata form fills in (the Tags page fixes the rest).
METADATA_MODULES = frozenset(
    {
        "patient",
        "general-study",
        "patient-study",
        "general-series",
        "general-equipment",
        "enhanced-general-equipment",
        "dermoscopic-image",
    }
)

#: Attributes outside those modules that the Metadata form fills in (anatomy, laterality).
METADATA_KEYWORDS = frozenset(
    {
        "AnatomicRegionSequence",
        "PrimaryAnatomicStructureSequence",
        "Laterality",
        "ImageLaterality",
    }
)

#: Attributes of those modules that no form field sets: UIDs and the IOD's Modality.
_NOT_ON_FORM = frozenset({"Modality", "SpecificCharacterSet"})

FixPlace = Literal["metadata", "tags"]
"""Where the app fixes a finding: the Metadata form or the Tags table."""

NoteKind = Literal["success", "error"]


# ------------------------------------------------------------------ what the form shows


def iod_key_of(document: Document) -> str | None:
    """The standard's key of the IOD the document is (or becomes), None when unknown.

    Parameters
    ----------
    document : Document

    Returns
    -------
    str or None
        An image's chosen IOD; a DICOM file's IOD from its SOP Class UID (None
        when the UID is missing, unreadable or not an IOD the tables list).
    """
    if document.kind == "image":
        return document.iod.standard_key
    try:
        sop_class = str(workspace.dataset_of(document).get("SOPClassUID", "") or "")
    except Exception:  # an unreadable SOP Class UID: the generic form
        return None
    return standard.iod_for_sop_class(sop_class) if sop_class else None


def has_tbp_block(document: Document) -> bool:
    """Whether a document's dataset has the TBP private block (True when it is unreadable)."""
    try:
        return bool(private.get_tbp_values(workspace.dataset_of(document)))
    except Exception:  # present but unreadable or invalid: show it so it can be fixed
        return True


def form_sections_for(document: Document, iod_key: str | None) -> tuple[FormSection, ...]:
    """The form for a document: its IOD's sections, with calibration where it applies.

    Parameters
    ----------
    document : Document
    iod_key : str or None
        From :func:`iod_key_of`.

    Returns
    -------
    tuple of FormSection
    """
    if document.kind == "image":
        return formfields.form_sections(
            iod_key, exif_values=document.exif_values, metadata=document.metadata
        )
    calibration = iod_key in VL_IODS or has_tbp_block(document)
    return formfields.form_sections(iod_key, calibration=calibration)


def form_values(document: Document, fields: Iterable[FormField]) -> dict[str, Any]:
    """What the document holds for each field: entered, built, or from the EXIF.

    Parameters
    ----------
    document : Document
    fields : iterable of FormField

    Returns
    -------
    dict
        Field key → normalised value. An image's entered metadata wins over
        its built dataset, which wins over its EXIF values; a DICOM document's
        values come from its dataset.
    """
    fields = tuple(fields)
    if document.kind == "dicom":
        return formfields.dataset_form_values(workspace.dataset_of(document), fields)
    values: dict[str, Any] = {}
    if workspace.build_error(document) is None:
        values.update(formfields.dataset_form_values(workspace.dataset_of(document), fields))
    for key, value in document.exif_values.items():
        values.setdefault(key, value)
    values.update(document.metadata)
    return values


def current_value(document: Document, field: FormField) -> Any:
    """The value one field has now (what the document would keep if input were refused)."""
    if document.kind == "image" and field.key in document.metadata:
        return document.metadata[field.key]
    if workspace.build_error(document) is not None:
        return document.exif_values.get(field.key)
    ds = workspace.dataset_of(document)
    return formfields.dataset_form_values(ds, [field]).get(field.key)


def exif_fill_ins(document: Document, required: Sequence[str]) -> tuple[str, ...]:
    """Required keys an image lacks that its EXIF can give (for a "use EXIF" offer)."""
    missing = [k for k in required if not str(document.metadata.get(k) or "").strip()]
    return tuple(k for k in missing if k in document.exif_offers)


# ------------------------------------------------------------------ applying values


@dataclass(frozen=True)
class Applied:
    """Outcome of giving one field a value: applied, or refused with why.

    Attributes
    ----------
    applied : bool
        True also when nothing had to change.
    reason : str
        Why the value was refused (``""`` when applied).
    """

    applied: bool
    reason: str = ""


def apply_value(document: Document, key: str, value: Any) -> Applied:
    """Give a document a normalised value for one field (None removes or empties it).

    Parameters
    ----------
    document : Document
    key : str
        A keyword or ``tbp:`` key.
    value : Any
        A value from :func:`tbp_core.session.formfields.read_form` or a template.

    Returns
    -------
    Applied
        An image takes every value into its metadata (its build reports what
        does not fit); a DICOM document refuses a value its tag edit refuses.
    """
    if document.kind == "image":
        values = dict(document.metadata)
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
        workspace.set_metadata(document, values)
        return Applied(True)
    try:
        edit = formfields.edit_for(workspace.dataset_of(document), key, value)
    except TbpError as exc:
        return Applied(False, str(exc))
    if edit is None:
        return Applied(True)
    result = workspace.apply_tag_edit(document, edit)
    return Applied(True) if result.applied else Applied(False, result.message)


def use_exif_values(document: Document, keys: Iterable[str]) -> None:
    """Enter an image's EXIF values for the given keys as its metadata."""
    values = dict(document.metadata)
    values.update({k: document.exif_offers[k] for k in keys if k in document.exif_offers})
    workspace.set_metadata(document, values)


@dataclass(frozen=True)
class Copied:
    """What copying one image's metadata to the others did.

    Attributes
    ----------
    parts : tuple of str
        The Information Entities copied (``"Patient"``, ``"Study"``, ...).
    count : int
        How many values were copied.
    targets : tuple of Document
        The image documents that received them.
    """

    parts: tuple[str, ...]
    count: int
    targets: tuple[Document, ...]

    @property
    def message(self) -> str:
        """One line for the user."""
        n, m = self.count, len(self.targets)
        return (
            f"Copied {n} value{'' if n == 1 else 's'} ({', '.join(self.parts)}) to {m} "
            f"other image document{'' if m == 1 else 's'}."
        )

    def covers(self, document: Document, key: str) -> bool:
        """Whether the copy replaced ``key`` of ``document`` (its IE was copied)."""
        return formfields.ie_of(key, iod_key_of(document)) in self.parts


def copy_to_images(source: Document, documents: Iterable[Document], parts: Sequence[str]) -> Copied:
    """Copy an image's metadata of some Information Entities to the other images.

    Parameters
    ----------
    source : Document
        The image whose values are copied.
    documents : iterable of Document
        The session's documents; DICOM files and ``source`` itself are left alone.
    parts : sequence of str
        Information Entities to copy; each target's values of these are
        replaced, its other values (e.g. its anatomic region) kept.

    Returns
    -------
    Copied
    """
    chosen = tuple(parts)
    if source.kind != "image":
        return Copied(chosen, 0, ())
    values = formfields.select_by_ie(source.metadata, source.iod.standard_key, chosen)
    targets = tuple(d for d in documents if d.kind == "image" and d.id != source.id)
    for target in targets:
        iod_key = target.iod.standard_key
        kept = {
            k: v for k, v in target.metadata.items() if formfields.ie_of(k, iod_key) not in chosen
        }
        workspace.set_metadata(target, {**kept, **values})
    return Copied(chosen, len(values), targets)


# ------------------------------------------------------------------ templates


@dataclass(frozen=True)
class TemplateLoad:
    """What loading a metadata template did.

    Attributes
    ----------
    applied : tuple of str
        Keys the document took.
    refused : tuple of str
        One message per value that was not applied (DICOM documents).
    error : str
        Why nothing was loaded (unreadable template, or values that stop an
        image being built); ``""`` otherwise.
    name : str
        The template's file name, for messages.
    """

    applied: tuple[str, ...]
    refused: tuple[str, ...] = ()
    error: str = ""
    name: str = ""

    @property
    def notes(self) -> tuple[tuple[NoteKind, str], ...]:
        """(kind, message) pairs for the user, ``"success"`` or ``"error"``."""
        if self.error:
            return (("error", f"'{self.name}' was not loaded: {self.error}"),)
        n = len(self.applied)
        done: tuple[NoteKind, str] = (
            "success",
            f"Loaded {n} value{'' if n == 1 else 's'} from '{self.name}'.",
        )
        if not self.refused:
            return (done,)
        return done, ("error", f"Not applied from '{self.name}': " + "; ".join(self.refused))


def load_template(document: Document, data: bytes, name: str) -> TemplateLoad:
    """Apply a metadata template (keyword JSON or the DICOM JSON Model) to a document.

    Parameters
    ----------
    document : Document
    data : bytes
        The template file's content.
    name : str
        Its file name, for messages.

    Returns
    -------
    TemplateLoad
        An image takes the template's values over its own, all or nothing:
        values that would stop it being built are not taken. A DICOM document
        takes each value as a tag edit; sequences and refused values are listed.
    """
    try:
        # A DICOM document's values are checked for its own IOD by the tag edits.
        iod_key = document.iod.standard_key if document.kind == "image" else None
        values = metadata.parse_template(data, iod_key=iod_key)
    except MetadataError as exc:
        return TemplateLoad((), error=str(exc), name=name)
    if document.kind == "image":
        before, old = workspace.build_error(document), dict(document.metadata)
        merged = {**document.metadata, **values}
        workspace.set_metadata(document, {k: v for k, v in merged.items() if v is not None})
        after = workspace.build_error(document)
        if after is not None and after != before:
            workspace.set_metadata(document, old)
            return TemplateLoad((), error=after, name=name)
        return TemplateLoad(tuple(values), name=name)
    applied: list[str] = []
    refused: list[str] = []
    for key, value in values.items():
        info = standard.attribute_info(key)
        if info is not None and info.vr == "SQ":
            refused.append(f"{key}: sequences are edited item by item on the Tags page")
            continue
        outcome = apply_value(document, key, value)
        if outcome.applied:
            applied.append(key)
        else:
            refused.append(outcome.reason)
    return TemplateLoad(tuple(applied), tuple(refused), name=name)


def template_values(document: Document) -> dict[str, Any]:
    """The document's metadata as a template (an image's entered values; a file's dataset)."""
    if document.kind == "image":
        return dict(document.metadata)
    return metadata.dataset_to_template(workspace.dataset_of(document), skip_invalid=True)


# ------------------------------------------------------------------ findings


def fix_place(finding: Finding) -> FixPlace | None:
    """Where the app fixes a finding: the Metadata form, the Tags table, or nowhere.

    Parameters
    ----------
    finding : Finding

    Returns
    -------
    {"metadata", "tags"} or None
        None for File Meta findings (the file meta is written afresh with every
        download) and for findings that name no attribute; ``"metadata"`` for
        attributes of the modules the form fills in (not their UIDs or the
        IOD's Modality); ``"tags"`` for the rest.
    """
    if finding.module == FILE_META_MODULE or not (finding.keyword or finding.path or finding.tag):
        return None
    root = finding.path.split(".")[0].split("[")[0] if finding.path else finding.keyword
    on_form = (finding.module in METADATA_MODULES or root in METADATA_KEYWORDS) and not (
        root in _NOT_ON_FORM or root.endswith("UID")
    )
    return "metadata" if on_form else "tags"


__all__ = [
    "METADATA_KEYWORDS",
    "METADATA_MODULES",
    "VL_IODS",
    "Applied",
    "Copied",
    "FixPlace",
    "TemplateLoad",
    "apply_value",
    "copy_to_images",
    "current_value",
    "exif_fill_ins",
    "fix_place",
    "form_sections_for",
    "form_values",
    "has_tbp_block",
    "iod_key_of",
    "load_template",
    "template_values",
    "use_exif_values",
]
