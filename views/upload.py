"""Upload: add pictures or DICOM files, pick the current one, choose its IOD, look at it."""

from __future__ import annotations

from pathlib import PurePath

import streamlit as st
from pydicom.uid import UID

from tbp_core.building.iods import IODS
from tbp_core.errors import TbpError
from tbp_core.session.workspace import Document, dataset_of, set_iod
from tbp_core.standard import iod_for_sop_class
from tbp_core.standard.formatting import size_text, title_of
from ui import session_panel, state
from ui.guard import shielded
from ui.layout import header
from ui.text import literal, quoted
from ui.viewer import cached_thumbnail, show_viewer

#: File name endings the uploader takes; files without one (or with a number, as
#: UID-named DICOM files have) are taken too and recognised by their content.
#: A .zip archive is opened in memory: each member becomes a document.
ACCEPTED_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".dcm", ".dicom", ".zip")
UPLOAD_KEY = "upload_files"


def name_problem(name: str) -> str | None:
    """Why a file name is not taken, or None.

    ``st.file_uploader(type=...)`` would refuse files without an extension, which
    DICOM files often are, so the uploader takes everything and names are checked here.
    """
    suffix = PurePath(name).suffix.lower()
    if not suffix or suffix in ACCEPTED_SUFFIXES or suffix[1:].isdigit():
        return None
    return (
        f"'{name}' is not a PNG, JPEG, TIFF or DICOM file ({suffix} files are not read) — "
        "upload .png, .jpg, .jpeg, .tif, .tiff or .dcm files, DICOM files without an extension, "
        "or a .zip of them"
    )


def _on_upload() -> None:
    """Open newly uploaded files; the last new one becomes the current document."""
    uploaded = st.session_state.get(state.uploader_key()) or []
    before = {doc.id for doc in state.documents()}
    previous = state.current()
    newest: Document | None = None
    for file in uploaded:
        if session_panel.is_manifest_name(file.name):
            session_panel.take_manifest(file.name, file.getvalue())
            continue
        problem = name_problem(file.name)
        if problem is not None:
            if problem not in state.upload_errors():
                state.upload_errors().append(problem)
            continue
        with st.spinner(f"Reading {literal(file.name)} ({size_text(file.size)})…"):
            doc = state.add_upload(file)
        if doc is not None and doc.id not in before:
            newest = doc
    state.drop_removed_uploads({file.file_id for file in uploaded})  # chips removed
    session_panel.after_upload()  # a session.csv among them, or images it was waiting for
    if newest is not None:
        state.set_current(newest)
    elif previous is not None:
        state.set_current(previous)


def _facts(doc: Document) -> dict[str, str]:
    """Dimensions, mode, bit depth and EXIF of a document, as short strings."""
    if doc.image is not None:
        image = doc.image
        colour = "RGB" if image.samples_per_pixel == 3 else "grey"
        prefix = "" if image.source_mode.startswith(image.format) else f"{image.format} "
        mode = f"{prefix}{image.source_mode} → {colour}"
        exif = doc.exif_values
        return {
            "size": f"{image.columns} × {image.rows} px · {size_text(len(doc.data))}",
            "mode": mode,
            "bits": f"{image.source_bit_depth}-bit",
            "exif": f"yes ({len(exif)} values mapped)" if image.exif else "no",
        }
    ds = dataset_of(doc)
    rows, columns = ds.get("Rows"), ds.get("Columns")
    frames = ds.get("NumberOfFrames")
    dims = f"{columns} × {rows} px" if rows and columns else "no image"
    if frames and str(frames) not in ("", "1"):
        dims += f" × {frames} frames"
    photometric = ds.get("PhotometricInterpretation") or "—"
    modality = ds.get("Modality") or "no modality"
    bits = ds.get("BitsStored")
    return {
        "size": f"{dims} · {size_text(len(doc.data))}",
        "mode": f"DICOM · {photometric} · {modality}",
        "bits": f"{bits}-bit" if bits else "—",
        "exif": "—",
    }


def _document_row(doc: Document, is_current: bool) -> None:
    thumb, text, actions = st.columns([1, 5, 2], vertical_alignment="center")
    with thumb, shielded(f"The thumbnail of '{doc.name}'"):
        picture = cached_thumbnail(doc)
        if picture is not None:
            st.image(picture, width=72)
        else:
            st.caption("no image")
    marker = " · **current**" if is_current else ""
    text.markdown(f"**{literal(doc.name)}**{marker}")
    with text, shielded(f"Reading the facts of '{doc.name}'"):
        facts = _facts(doc)
        st.caption(
            f"{facts['size']} · {literal(facts['mode'])} · {facts['bits']} · "
            f"EXIF found: {facts['exif']}"
        )
    left, right = actions.columns(2)
    left.button(
        "Show",
        key=f"upload_show_{doc.id}",
        disabled=is_current,
        on_click=state.set_current_id,
        args=(doc.id,),  # an id: Streamlit keeps callback arguments after removal
        help="Make this the current document (the other pages work on it).",
    )
    right.button(
        "Remove",
        key=f"upload_remove_{doc.id}",
        on_click=state.remove_id,
        args=(doc.id,),
        help="Remove this document from the session.",
    )


def _iod_choice(doc: Document) -> None:
    titles = [spec.title for spec in IODS.values()]
    by_title = {spec.title: spec for spec in IODS.values()}
    chosen = st.radio(
        "Convert to (IOD)",
        titles,
        index=titles.index(doc.iod.title),
        captions=[spec.summary for spec in IODS.values()],
        key=state.iod_widget_key(doc.id),
        help="The DICOM object (IOD) this picture becomes.",
    )
    if chosen is not None and chosen != doc.iod.title:
        try:
            set_iod(doc, by_title[chosen])
        except TbpError as exc:
            st.error(literal(exc))
            st.caption(f"{quoted(doc.name)} stays a {doc.iod.title}.")


def _dicom_facts(doc: Document) -> None:
    ds = dataset_of(doc)
    sop = ds.get("SOPClassUID")
    iod = iod_for_sop_class(str(sop)) if sop else None
    iod_name = title_of(iod) if iod else "not in the standard's tables"
    sop_text = f"{UID(str(sop)).name} ({sop})" if sop else "missing"
    meta = getattr(ds, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    syntax_text = f"{UID(str(syntax)).name} ({syntax})" if syntax else "not stated (no file meta)"
    st.markdown(
        f"**SOP Class:** {literal(sop_text)}  \n**IOD:** {literal(iod_name)}  \n"
        f"**Transfer syntax:** {literal(syntax_text)}"
    )
    for warning in doc.read_warnings:
        st.warning(literal(warning))


def _current_section(doc: Document) -> None:
    st.subheader(literal(doc.name))
    with shielded(f"Showing '{doc.name}'"):
        if doc.kind == "image":
            _iod_choice(doc)
            for notice in doc.notices:
                st.info(literal(notice))
        else:
            _dicom_facts(doc)
    show_viewer(doc)


header(
    "Upload",
    "Add PNG, JPEG or TIFF pictures to convert, or DICOM files to inspect. "
    "Everything stays in this browser session; nothing is stored.",
)
upload_column, sample_column = st.columns([4, 1], vertical_alignment="bottom")
upload_column.file_uploader(
    "Images or DICOM files",
    type=None,
    accept_multiple_files=True,
    key=state.uploader_key(),
    on_change=_on_upload,
    help="PNG, JPEG or TIFF pictures, or DICOM files (.dcm or no extension); several at once, "
    "or a .zip archive of them (each member becomes a document; see them all on Browse). "
    "With a TBP session manifest (session.csv, beside them or in the .zip), the images are "
    "arranged as one session.",
)
sample_column.button(
    "Load sample images",
    key="upload_samples",
    on_click=state.load_samples,
    help="A synthetic TBP regional image and a dermoscopic close-up.",
)

errors = state.upload_errors()
for message in errors:
    st.error(literal(message))
if errors:
    st.button("Dismiss these messages", key="upload_dismiss", on_click=errors.clear)

documents = state.documents()
current = state.current()
if not documents:
    st.info("No documents yet: upload files above or load the sample images.")
    session_panel.session_section()
else:
    st.subheader(f"Documents in this session ({len(documents)})")
    for document in documents:
        _document_row(document, current is not None and document.id == current.id)
    session_panel.session_section()
    st.divider()
    if current is not None:
        _current_section(current)
