"""Validate & Download: the findings by module, each linked to its fix; the DICOM downloads.

Validation runs once per document revision. The DICOM file and the zip are
built only when asked ("Prepare DICOM" / "Prepare zip"); the prepared bytes are
kept for the document's current revision and transfer syntax, so a later edit
or another choice asks for a fresh build.
"""

from __future__ import annotations

import streamlit as st

from tbp_core.errors import TbpError
from tbp_core.session.export import export_bytes, export_notes, export_zip
from tbp_core.session.metadata_ops import fix_place
from tbp_core.session.workspace import (
    Document,
    build_error,
    dataset_of,
    is_draft,
    transfer_syntax_choices,
)
from tbp_core.standard.formatting import size_text, title_of
from tbp_core.validation.findings import Finding, ValidationReport
from tbp_core.validation.summary import FILE_META_MODULE, by_module, count_text
from tbp_core.validation.validate import validate
from ui import state
from ui.cache import memo
from ui.deidentify_panel import deidentify_step
from ui.dropped import show_dropped_edits
from ui.layout import METADATA_PAGE, TAGS_PAGE, header, require_dataset, require_document
from ui.lesion_panel import show_link_check
from ui.send_panel import send_step
from ui.text import code, literal
from ui.wording import browser_words

TS_KEY = "vd_transfer_syntax"

_SEVERITY_BADGES = {
    "error": ":red-badge[:material/error: error]",
    "warning": ":orange-badge[:material/warning: warning]",
    "info": ":blue-badge[:material/info: info]",
}
_FIXING_PAGES = {
    "metadata": (METADATA_PAGE, "Fix it on the Metadata page"),
    "tags": (TAGS_PAGE, "Fix it on the Tags page"),
}


def module_title(key: str) -> str:
    """A module key as a heading: ``"general-image"`` → ``"General Image"``."""
    if not key:
        return "Other checks"
    return title_of(key)


def fixing_page(finding: Finding) -> tuple[str, str] | None:
    """(page, label) of the page that fixes a finding; None when no page does."""
    place = fix_place(finding)
    return None if place is None else _FIXING_PAGES[place]


def show_finding(finding: Finding) -> None:
    """One finding: severity badge, where it is, the message, a link to its fix."""
    where = [code(finding.tag)] if finding.tag else []
    if finding.keyword:
        where.append(f"**{literal(finding.keyword)}**")
    if finding.path and finding.path != finding.keyword:
        where.append(f"at {code(finding.path)}")
    st.markdown(
        f"{_SEVERITY_BADGES[finding.severity]} {' '.join(where)}  \n{literal(finding.message)}"
    )
    target = fixing_page(finding)
    if target is not None:
        st.page_link(target[0], label=target[1], icon=":material/edit:")
    elif finding.module == FILE_META_MODULE:
        st.caption("The downloaded file gets a complete file meta group, written afresh.")


def show_report(report: ValidationReport) -> None:
    """Summary line, then one expander per module (errors first)."""
    summary = count_text(report.findings)
    checked = f" against the {module_title(report.iod)} IOD" if report.iod else ""
    if report.errors:
        st.markdown(f":red[:material/error: **{summary}**] — checked{checked}.")
    else:
        st.success(f"No errors — {summary}; checked{checked}.", icon=":material/check_circle:")
    for group in by_module(report.findings):
        icon = {"error": ":material/error:", "warning": ":material/warning:"}.get(
            group.worst, ":material/info:"
        )
        with st.expander(
            f"{literal(module_title(group.module))} — {count_text(group.findings)}",
            expanded=group.worst == "error",
            icon=icon,
        ):
            for finding in group.findings:
                show_finding(finding)


def choose_transfer_syntax(doc: Document) -> str:
    """The transfer syntax chosen among those the document can be written in."""
    choices = dict(transfer_syntax_choices(doc))
    names = list(choices)
    if st.session_state.get(TS_KEY) not in names:
        # Another document's choice (or none yet): start from this document's default.
        # Set, not dropped, so that the browser's widget shows the new value too.
        st.session_state[TS_KEY] = names[0]
    chosen: str = st.selectbox(
        "Transfer syntax",
        names,
        format_func=choices.__getitem__,
        key=TS_KEY,
        help="How the pixel data is encoded in the file. Lossless choices keep every pixel.",
    )
    return chosen


def download_one(doc: Document, syntax: str) -> None:
    """Prepare, then download, the current document as a DICOM file."""
    prepared: dict[str, bytes] = memo(doc, "download", dict, syntax)
    if st.button("Prepare DICOM", key="vd_prepare_one", icon=":material/build:"):
        try:
            with st.spinner(f"Encoding {literal(doc.output_name)} ({literal(syntax)})…"):
                prepared["data"] = export_bytes(doc, syntax)
        except TbpError as exc:
            st.error(literal(exc))
    if "data" in prepared:
        st.download_button(
            "Download DICOM",
            prepared["data"],
            file_name=doc.output_name,
            mime="application/dicom",
            key="vd_download_one",
            on_click="ignore",
            type="primary",
            icon=":material/download:",
        )
        st.caption(f"{literal(doc.output_name)}, {size_text(len(prepared['data']))}.")
    else:
        st.caption(f"Builds {literal(doc.output_name)} for download.")


def download_all(doc: Document, syntax: str) -> None:
    """Prepare, then download, every document of the session in one zip."""
    docs = state.documents()
    stamp = tuple((d.id, d.revision) for d in docs)
    prepared: dict[str, bytes] = memo(doc, "download_all", dict, syntax, stamp)
    if st.button("Prepare zip", key="vd_prepare_all", icon=":material/folder_zip:"):
        noun = "document" if len(docs) == 1 else "documents"
        with st.status(f"Encoding {len(docs)} {noun} and zipping them…") as status:
            bar = st.progress(0.0, text="Zipping…")

            def zipped(done: int, total: int, name: str) -> None:
                bar.progress(done / total, text=f"Zipped {done} of {total}: {literal(name)}")

            try:
                prepared["data"] = export_zip(docs, syntax, progress=zipped)
            except TbpError as exc:
                status.update(label="The zip could not be built", state="error")
                st.error(literal(exc))
            else:
                status.update(
                    label=f"Zipped {len(docs)} {noun} ({size_text(len(prepared['data']))})",
                    state="complete",
                    expanded=False,
                )
    if "data" in prepared:
        st.download_button(
            "Download all (.zip)",
            prepared["data"],
            file_name="tbp_dicom.zip",
            mime="application/zip",
            key="vd_download_all",
            on_click="ignore",
            type="primary",
            icon=":material/download:",
        )
        st.caption(f"{len(docs)} DICOM files, {size_text(len(prepared['data']))}.")
    else:
        noun = "document" if len(docs) == 1 else "documents"
        st.caption(f"Builds one .dcm per document ({len(docs)} {noun}) in a zip.")


def show_export_notes(doc: Document) -> None:
    """What writing the document as a Part 10 file drops or changes (empty for most)."""
    try:
        notes = export_notes(doc)
    except TbpError:
        return  # the download itself says why it cannot be written
    for note in notes:
        st.caption(f":material/info: {literal(note)}")


def show_draft(doc: Document) -> None:
    """A draft document: what to fill in, and its findings; no download until filled in."""
    problem = build_error(doc) or ""
    st.error(
        f"Not ready for download: {literal(browser_words(problem))}.", icon=":material/edit_note:"
    )
    st.page_link(METADATA_PAGE, label="Fill them in on the Metadata page", icon=":material/edit:")
    st.subheader("Findings")
    show_link_check(doc, show_finding)
    show_report(memo(doc, "report", lambda: validate(dataset_of(doc))))
    st.stop()


header(
    "Validate & Download",
    "What the validator finds in the current document, module by module, and the DICOM "
    "files — built only when you ask.",
)
doc = require_document()
if is_draft(doc):
    show_draft(doc)
require_dataset(doc)
show_dropped_edits(doc, "vd_dismiss_dropped")

findings_column, download_column = st.columns([3, 2], gap="large")
with findings_column:
    st.subheader("Findings")
    show_link_check(doc, show_finding)  # the session's check of a link to an overview
    show_report(memo(doc, "report", lambda: validate(dataset_of(doc))))
with download_column:
    st.subheader("Download")
    syntax = choose_transfer_syntax(doc)
    download_one(doc, syntax)
    show_export_notes(doc)
    st.divider()
    download_all(doc, syntax)
    st.caption(
        "In the zip, uploaded DICOM files keep their transfer syntax unless "
        "uncompressed is chosen; images use the chosen one."
    )

st.divider()
deidentify_column, send_column = st.columns(2, gap="large")
with deidentify_column:
    st.subheader("De-identify")
    deidentify_step(doc)
with send_column:
    st.subheader("Send to a PACS")
    send_step(doc)
