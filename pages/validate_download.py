"""Validate & Download: the findings by module, each linked to its fix; the DICOM downloads.

Validation runs once per document revision. The DICOM file and the zip are
built only when asked ("Prepare DICOM" / "Prepare zip"); the prepared bytes are
kept for the document's current revision and transfer syntax, so a later edit
or another choice asks for a fresh build.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from tbp_core.errors import TbpError
from tbp_core.session.workspace import (
    Document,
    dataset_of,
    export_bytes,
    export_zip,
    transfer_syntax_choices,
)
from tbp_core.validation.findings import Finding, ValidationReport
from tbp_core.validation.validate import validate
from ui import state
from ui.cache import memo
from ui.layout import METADATA_PAGE, TAGS_PAGE, header, require_dataset, require_document

TS_KEY = "vd_transfer_syntax"

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

#: Module key of the File Meta Information group in the validator's findings.
FILE_META = "file-meta-information"

_SEVERITY_BADGES = {
    "error": ":red-badge[:material/error: error]",
    "warning": ":orange-badge[:material/warning: warning]",
    "info": ":blue-badge[:material/info: info]",
}
_RANK = {"error": 0, "warning": 1, "info": 2}


def module_title(key: str) -> str:
    """A module key as a heading: ``"general-image"`` → ``"General Image"``."""
    if not key:
        return "Other checks"
    words = key.split("-")
    return " ".join(w.upper() if len(w) <= 2 or w in {"icc", "sop"} else w.title() for w in words)


def fixing_page(finding: Finding) -> tuple[str, str] | None:
    """(page, label) of the page that fixes a finding; None when no page does.

    File meta findings have no page: the file meta is written afresh with every
    download. Findings that name no attribute have none either.
    """
    if finding.module == FILE_META or not (finding.keyword or finding.path or finding.tag):
        return None
    root = finding.path.split(".")[0].split("[")[0] if finding.path else finding.keyword
    on_form = (finding.module in METADATA_MODULES or root in METADATA_KEYWORDS) and not (
        root in _NOT_ON_FORM or root.endswith("UID")
    )
    if on_form:
        return METADATA_PAGE, "Fix it on the Metadata page"
    return TAGS_PAGE, "Fix it on the Tags page"


def grouped(report: ValidationReport) -> list[tuple[str, list[Finding]]]:
    """Findings by module, the modules with the most severe findings first."""
    groups: dict[str, list[Finding]] = {}
    for finding in report.findings:
        groups.setdefault(finding.module, []).append(finding)
    for findings in groups.values():
        findings.sort(key=lambda f: _RANK[f.severity])
    return sorted(
        groups.items(),
        key=lambda item: (min(_RANK[f.severity] for f in item[1]), item[0] == "", item[0]),
    )


def counts(findings: Sequence[Finding]) -> str:
    """``"2 errors, 1 warning, 0 info"``."""
    n = {s: sum(f.severity == s for f in findings) for s in _RANK}
    plural = {"error": "errors", "warning": "warnings", "info": "info"}
    return ", ".join(f"{n[s]} {s if n[s] == 1 else plural[s]}" for s in _RANK)


def show_finding(finding: Finding) -> None:
    """One finding: severity badge, where it is, the message, a link to its fix."""
    where = [f"`{finding.tag}`"] if finding.tag else []
    if finding.keyword:
        where.append(f"**{finding.keyword}**")
    if finding.path and finding.path != finding.keyword:
        where.append(f"at `{finding.path}`")
    st.markdown(f"{_SEVERITY_BADGES[finding.severity]} {' '.join(where)}  \n{finding.message}")
    target = fixing_page(finding)
    if target is not None:
        st.page_link(target[0], label=target[1], icon=":material/edit:")
    elif finding.module == FILE_META:
        st.caption("The downloaded file gets a complete file meta group, written afresh.")


def show_report(report: ValidationReport) -> None:
    """Summary line, then one expander per module (errors first)."""
    summary = counts(report.findings)
    checked = f" against the {module_title(report.iod)} IOD" if report.iod else ""
    if report.errors:
        st.markdown(f":red[:material/error: **{summary}**] — checked{checked}.")
    else:
        st.success(f"No errors — {summary}; checked{checked}.", icon=":material/check_circle:")
    for module, findings in grouped(report):
        worst = findings[0].severity
        icon = {"error": ":material/error:", "warning": ":material/warning:"}.get(
            worst, ":material/info:"
        )
        with st.expander(
            f"{module_title(module)} — {counts(findings)}", expanded=worst == "error", icon=icon
        ):
            for finding in findings:
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


def _size(data: bytes) -> str:
    size = len(data)
    if size < 1000:
        return f"{size} bytes"
    return f"{size / 1e3:.1f} kB" if size < 1e6 else f"{size / 1e6:.1f} MB"


def download_one(doc: Document, syntax: str) -> None:
    """Prepare, then download, the current document as a DICOM file."""
    prepared: dict[str, bytes] = memo(doc, "download", dict, syntax)
    if st.button("Prepare DICOM", key="vd_prepare_one", icon=":material/build:"):
        try:
            prepared["data"] = export_bytes(doc, syntax)
        except TbpError as exc:
            st.error(str(exc))
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
        st.caption(f"{doc.output_name}, {_size(prepared['data'])}.")
    else:
        st.caption(f"Builds {doc.output_name} for download.")


def download_all(doc: Document, syntax: str) -> None:
    """Prepare, then download, every document of the session in one zip."""
    docs = state.documents()
    stamp = tuple((d.id, d.revision) for d in docs)
    prepared: dict[str, bytes] = memo(doc, "download_all", dict, syntax, stamp)
    if st.button("Prepare zip", key="vd_prepare_all", icon=":material/folder_zip:"):
        try:
            prepared["data"] = export_zip(docs, syntax)
        except TbpError as exc:
            st.error(str(exc))
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
        st.caption(f"{len(docs)} DICOM files, {_size(prepared['data'])}.")
    else:
        noun = "document" if len(docs) == 1 else "documents"
        st.caption(f"Builds one .dcm per document ({len(docs)} {noun}) in a zip.")


header(
    "Validate & Download",
    "What the validator finds in the current document, module by module, and the DICOM "
    "files — built only when you ask.",
)
doc = require_document()
require_dataset(doc)

findings_column, download_column = st.columns([3, 2], gap="large")
with findings_column:
    st.subheader("Findings")
    show_report(memo(doc, "report", lambda: validate(dataset_of(doc))))
with download_column:
    st.subheader("Download")
    syntax = choose_transfer_syntax(doc)
    download_one(doc, syntax)
    st.divider()
    download_all(doc, syntax)
    st.caption(
        "In the zip, uploaded DICOM files keep their transfer syntax unless "
        "uncompressed is chosen; images use the chosen one."
    )
