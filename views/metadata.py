"""Metadata: the current document's DICOM attributes as a form, checked as you go.

Fields are grouped by Information Entity, then module (tbp_core.session.formfields).
Every widget keeps its value in st.session_state under ``meta_<Keyword>``; the
keys are filled from the document whenever it changes (another document, an
applied edit, a template) and otherwise left alone, so what was typed stays.
A change is applied at once by the widget's callback through
tbp_core.session.metadata_ops (image documents take it as metadata, DICOM documents
as tag edits). Input that is refused is kept (per document) with its message
and the document keeps its value.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

import streamlit as st

from tbp_core.building import metadata
from tbp_core.errors import MetadataError, TbpError
from tbp_core.session import formfields, metadata_ops, workspace
from tbp_core.session.formfields import FieldFindings, FormField, FormSection
from tbp_core.session.workspace import Document
from tbp_core.standard import anatomy
from tbp_core.standard.formatting import title_of, usage_text
from tbp_core.validation.findings import Finding, ValidationReport
from tbp_core.validation.summary import FILE_META_MODULE
from tbp_core.validation.validate import validate
from ui import form, lesion_panel, state
from ui.cache import memo
from ui.layout import TAGS_PAGE, UPLOAD_PAGE, VALIDATE_PAGE, header, require_document
from ui.text import literal
from ui.wording import browser_words

_STORE = "metadata"
REGION_KEY = "meta_AnatomicRegionSequence"
LATERALITY_KEY = "meta_AnatomicRegionSequence_laterality"
SEARCH_KEY = "meta_region_search"
PARTS_KEY = "meta_apply_parts"
BATCH_IES = ("Patient", "Study", "Series")
ALL_IES = ("Patient", "Study", "Series", "Equipment", "Acquisition", "Image", "TBP calibration")
_SIDES = {"": "— none —", **{k: f"{k} — {v.code_meaning}" for k, v in anatomy.LATERALITY.items()}}


# ------------------------------------------------------------------ session helpers


def _store() -> dict[str, Any]:
    return state.page_store(_STORE)


def _drafts(doc_id: str) -> dict[str, tuple[Any, str]]:
    """Refused input of one document: field key → (what was typed, why refused)."""
    drafts: dict[str, dict[str, tuple[Any, str]]] = _store().setdefault("drafts", {})
    return drafts.setdefault(doc_id, {})


def _note(kind: str, text: str) -> None:
    _store().setdefault("notes", []).append((kind, text))


def _show_notes() -> None:
    for kind, text in _store().pop("notes", []):
        if kind == "error":
            st.error(literal(text))
        elif kind == "warning":
            st.warning(literal(text))
        else:
            st.success(literal(text))


def _find(doc_id: str) -> Document | None:
    return next((d for d in state.documents() if d.id == doc_id), None)


# ------------------------------------------------------------------ what the form shows


def _document_values(doc: Document, fields: tuple[FormField, ...]) -> dict[str, Any]:
    """What the document holds for each field (entered, built, or from EXIF)."""
    return memo(
        doc,
        "metadata_form_values",
        lambda: metadata_ops.form_values(doc, fields),
        tuple(f.key for f in fields),
    )


def _shown(field: FormField, value: Any) -> Any:
    if field.kind == "person_name":
        return formfields.name_parts(value)
    return formfields.text_of(value)


def _region_key(region: anatomy.AnatomicRegion | None) -> str:
    return f"{region.coding_scheme}:{region.code_value}" if region else ""


def _seed(doc: Document, fields: tuple[FormField, ...]) -> None:
    """Fill the widget keys from the document: all after a change, else the missing ones."""
    stamp = (doc.id, doc.revision)
    everything = _store().get("stamp") != stamp
    drafts = _drafts(doc.id)
    values: dict[str, Any] | None = None
    for field in fields:
        keys = (REGION_KEY, LATERALITY_KEY) if field.kind == "anatomic_region" else None
        keys = keys or form.widget_keys(field)
        if not everything and all(k in st.session_state for k in keys):
            continue
        values = values if values is not None else _document_values(doc, fields)
        draft = drafts.get(field.key)
        if field.kind == "anatomic_region":
            choice = formfields.region_choice(values.get(field.key))
            code, side = draft[0] if draft else (_region_key(choice.region), choice.laterality)
            for key, text in ((REGION_KEY, code or ""), (LATERALITY_KEY, side or "")):
                if st.session_state.get(key) != text:
                    st.session_state[key] = text
            continue
        form.seed(field, draft[0] if draft else _shown(field, values.get(field.key)))
    _store()["stamp"] = stamp


# ------------------------------------------------------------------ applying changes


def _apply(doc: Document, key: str, value: Any, typed: Any) -> None:
    """Give the document a valid value; a refusal keeps what was typed, with why."""
    outcome = metadata_ops.apply_value(doc, key, value)
    if outcome.applied:
        _drafts(doc.id).pop(key, None)
    else:
        _drafts(doc.id)[key] = (typed, outcome.reason)


def _field_changed(doc_id: str, field: FormField) -> None:
    doc = _find(doc_id)
    if doc is None:
        return
    typed = form.typed_value(field)
    entered = typed
    if field.kind == "person_name":  # keep prefix, suffix and other groups of the name
        kept = formfields.name_parts(metadata_ops.current_value(doc, field))
        entered = {**kept, **typed}
    result = formfields.read_form([field], {field.key: entered})
    problem = result.problems.get(field.key)
    if problem is not None:
        _drafts(doc.id)[field.key] = (typed, problem.message)
        return
    _apply(doc, field.key, result.values[field.key], typed)


def _region_for(code_key: str, keep: formfields.RegionChoice) -> anatomy.AnatomicRegion | None:
    if not code_key:
        return None
    if keep.region is not None and _region_key(keep.region) == code_key:
        return keep.region
    scheme, _, code = code_key.partition(":")
    return anatomy.region_by_code(code, scheme)


def _region_changed(doc_id: str, field: FormField) -> None:
    doc = _find(doc_id)
    if doc is None:
        return
    code_key = str(st.session_state.get(REGION_KEY) or "")
    side = str(st.session_state.get(LATERALITY_KEY) or "")
    keep = formfields.region_choice(metadata_ops.current_value(doc, field))
    region = _region_for(code_key, keep)
    if region is None or not region.paired:
        side = ""  # laterality only for paired regions
        st.session_state[LATERALITY_KEY] = ""
    try:
        value = formfields.region_value(region, side or None, keep=keep)
    except MetadataError as exc:
        _drafts(doc.id)[field.key] = ((code_key, side), str(exc))
        return
    _apply(doc, field.key, value, (code_key, side))


def _use_exif(doc_id: str, keys: tuple[str, ...]) -> None:
    doc = _find(doc_id)
    if doc is not None:
        metadata_ops.use_exif_values(doc, keys)


def _apply_to_all(doc_id: str) -> None:
    doc = _find(doc_id)
    if doc is None or doc.kind != "image":
        return
    parts = list(st.session_state.get(PARTS_KEY) or BATCH_IES)
    copied = metadata_ops.copy_to_images(doc, state.documents(), parts)
    for other in copied.targets:  # what was refused there is replaced now
        drafts = _drafts(other.id)
        for key in [k for k in drafts if copied.covers(other, k)]:
            del drafts[key]
    _note("success", copied.message)


# ------------------------------------------------------------------ templates


def _load_template(doc: Document, data: bytes, name: str) -> None:
    loaded = metadata_ops.load_template(doc, data, name)
    drafts = _drafts(doc.id)
    for key in loaded.applied:
        drafts.pop(key, None)
    for kind, text in loaded.notes:
        _note(kind, text)


def _template_values(doc: Document) -> dict[str, Any]:
    if doc.kind == "image":
        return metadata_ops.template_values(doc)
    return memo(doc, "metadata_template", lambda: metadata_ops.template_values(doc))


def _template_tools(doc: Document) -> None:
    """Template download and upload, and copying to the batch (before the form is seeded)."""
    download, upload, batch = st.columns(3)
    with upload:
        uploaded = st.file_uploader(
            "Load template (.json)",
            type=["json"],
            key="meta_template_upload",
            help="A JSON object of DICOM keywords and values (ARCHITECTURE.md §5) or the "
            "DICOM JSON Model; its values replace the form's.",
        )
    if uploaded is not None and _store().get("template_done") != uploaded.file_id:
        _store()["template_done"] = uploaded.file_id
        _load_template(doc, uploaded.getvalue(), uploaded.name)
    with download:
        try:
            text = metadata.template_to_json(_template_values(doc))
        except TbpError as exc:
            st.caption(f"No template: {literal(exc)}")
        else:
            st.download_button(
                "Download template (.json)",
                data=text.encode("utf-8"),
                file_name=f"{PurePath(doc.name).stem}_metadata.json",
                mime="application/json",
                key="meta_template_download",
                help="The values entered for this document, as a keyword-JSON template "
                "to load for other images.",
            )
    with batch:
        images = [d for d in state.documents() if d.kind == "image"]
        st.multiselect(
            "Parts to copy",
            ALL_IES,
            default=list(BATCH_IES),
            key=PARTS_KEY,
            help="Which Information Entities 'Apply to all documents' copies; the others "
            "(e.g. each image's anatomic region) stay as they are.",
        )
        st.button(
            "Apply to all documents",
            key="meta_apply_all",
            on_click=_apply_to_all,
            args=(doc.id,),
            disabled=doc.kind != "image" or len(images) < 2,
            help="Copy this image's values of the chosen parts to every other image of the "
            "batch (DICOM files are left alone).",
        )


# ------------------------------------------------------------------ drawing the form


def _messages(
    doc: Document,
    field: FormField,
    mapped: FieldFindings | None,
    required: tuple[str, ...],
) -> None:
    draft = _drafts(doc.id).get(field.key)
    problem = f"{draft[1]} — not applied; the document keeps its value" if draft else None
    notes = []
    if mapped is None and field.key in required and not doc.metadata.get(field.key):
        notes.append(f"Required for a {doc.iod.title} (Type 1): give the dermatoscope's value")
    findings: tuple[Finding, ...] = mapped.by_field.get(field.key, ()) if mapped else ()
    form.field_messages(field, problem=problem, findings=findings, notes=notes)


def _region_picker(doc: Document, field: FormField, mapped: FieldFindings | None) -> None:
    keep = formfields.region_choice(metadata_ops.current_value(doc, field))
    if doc.kind == "dicom":
        shown = keep.region.code_meaning if keep.region else "none"
        st.text_input(field.name, value=shown, disabled=True, help=field.help)
        st.page_link(TAGS_PAGE, label="Edit the sequence's items on the Tags page")
        return
    search, pick, side = st.columns(3)
    query = search.text_input(
        "Search anatomic regions",
        key=SEARCH_KEY,
        placeholder="e.g. back, upper arm, 66643007",
        help="SNOMED CT skin regions (CID 4029) first, then the standard's body regions.",
    )
    options: dict[str, anatomy.AnatomicRegion | None] = {"": None}
    for region in anatomy.search_regions(query, limit=40):
        options[_region_key(region)] = region
    chosen = str(st.session_state.get(REGION_KEY) or "")
    if chosen and chosen not in options:
        options[chosen] = _region_for(chosen, keep)
    if keep.region is not None:
        options.setdefault(_region_key(keep.region), keep.region)

    def label(key: str) -> str:
        region = options.get(key)
        if region is None:
            return key or "— none —"
        return f"{region.code_meaning} ({region.coding_scheme} {region.code_value})"

    pick.selectbox(
        field.name,
        list(options),
        format_func=label,
        key=REGION_KEY,
        help=field.help + ". Type in the search box to find a region.",
        on_change=_region_changed,
        args=(doc.id, field),
    )
    picked = options.get(chosen)
    side.selectbox(
        "Laterality",
        list(_SIDES),
        format_func=_SIDES.__getitem__,
        key=LATERALITY_KEY,
        help="Stored as the region's Anatomic Region Modifier (CID 244); only for regions "
        "with a left and a right side.",
        on_change=_region_changed,
        args=(doc.id, field),
        disabled=picked is None or not picked.paired,
    )
    if keep.others:
        st.caption(f"The sequence has {len(keep.others)} more item(s), kept as they are.")
    draft = _drafts(doc.id).get(field.key)
    findings = mapped.by_field.get(field.key, ()) if mapped else ()
    form.field_messages(field, problem=draft[1] if draft else None, findings=findings)


def _form(
    doc: Document,
    sections: tuple[FormSection, ...],
    mapped: FieldFindings | None,
    required: tuple[str, ...],
) -> None:
    for section in sections:
        st.subheader(section.ie)
        for module in section.modules:
            usage = usage_text(module.usage)
            st.markdown(f"**{module.name}**" + (f" · {usage} module" if usage else ""))
            row: list[FormField] = []
            for field in module.fields:
                if field.kind in ("person_name", "anatomic_region"):
                    _row(doc, row, mapped, required)
                    row = []
                    if field.kind == "anatomic_region":
                        _region_picker(doc, field, mapped)
                    else:
                        form.field_widget(field, _field_changed, (doc.id, field))
                        _messages(doc, field, mapped, required)
                    continue
                row.append(field)
                if len(row) == 3:
                    _row(doc, row, mapped, required)
                    row = []
            _row(doc, row, mapped, required)


def _row(
    doc: Document,
    fields: list[FormField],
    mapped: FieldFindings | None,
    required: tuple[str, ...],
) -> None:
    if not fields:
        return
    for column, field in zip(st.columns(3), fields, strict=False):
        with column:
            form.field_widget(field, _field_changed, (doc.id, field))
            _messages(doc, field, mapped, required)


def _other_findings(mapped: FieldFindings) -> None:
    others = [
        f
        for f in mapped.unmatched
        if f.severity in ("error", "warning") and f.module != FILE_META_MODULE
    ]
    if not others:
        return
    with st.expander(f"Findings about attributes not in this form ({len(others)})"):
        for finding in others:
            colour = "red" if finding.severity == "error" else "orange"
            st.caption(f":{colour}[{form.plain(finding.message)}]")
        st.page_link(VALIDATE_PAGE, label="See every finding on the Validate & Download page")


# ------------------------------------------------------------------ the page

header(
    "Metadata",
    "The DICOM attributes of the current document, grouped by Information Entity and module. "
    "Changes apply as you go; each field shows what the validator finds.",
)
doc = require_document()
_template_tools(doc)
_show_notes()

iod_key = metadata_ops.iod_key_of(doc)
if doc.kind == "image":
    st.caption(f"Form for the {doc.iod.title} IOD ({doc.iod.modality}).")
    st.page_link(UPLOAD_PAGE, label="Choose another IOD on the Upload page")
else:
    name = title_of(iod_key) if iod_key else "an unknown IOD"
    st.caption(f"DICOM file ({name}): a change is applied as a tag edit.")

problem = workspace.build_error(doc)
required = formfields.builder_required(iod_key) if doc.kind == "image" else ()
if problem is not None:
    st.error(literal(browser_words(problem)))
    if doc.kind == "dicom":
        st.stop()
    from_exif = metadata_ops.exif_fill_ins(doc, required)
    if from_exif:
        st.button(
            f"Use the EXIF values for {', '.join(from_exif)}",
            key="meta_use_exif",
            on_click=_use_exif,
            args=(doc.id, from_exif),
            help="Take the values the image's EXIF gives (shown in the fields below).",
        )

if doc.kind == "image":
    with st.expander(
        "Lesion link: the regional overview this close-up was taken on",
        expanded=lesion_panel.starts_open(doc),
        icon=":material/link:",
    ):
        lesion_panel.lesion_link_section(doc)

sections = metadata_ops.form_sections_for(doc, iod_key)
fields = formfields.form_fields(sections)
_seed(doc, fields)

mapped: FieldFindings | None = None
if problem is None:

    def _validated() -> ValidationReport:
        return validate(workspace.dataset_of(doc))

    report = memo(doc, "metadata_validation", _validated)
    mapped = formfields.map_findings(report.findings, fields)

_form(doc, sections, mapped, required)
if mapped is not None:
    _other_findings(mapped)
