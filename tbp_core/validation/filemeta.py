"""File Meta Information checks (PS3.10 7.1): preamble, required elements, UIDs."""

from __future__ import annotations

from pydicom.datadict import tag_for_keyword
from pydicom.dataset import FileDataset
from pydicom.uid import UID, AllTransferSyntaxes

from tbp_core.validation.context import Context, text
from tbp_core.validation.findings import Finding, tag_text

#: Required File Meta Information elements (PS3.10 7.1).
_META_REQUIRED = (
    "FileMetaInformationGroupLength",
    "FileMetaInformationVersion",
    "MediaStorageSOPClassUID",
    "MediaStorageSOPInstanceUID",
    "TransferSyntaxUID",
    "ImplementationClassUID",
)


def check_file_meta(ctx: Context) -> None:
    """Check the File Meta Information: preamble, required elements, UIDs."""
    ds = ctx.ds
    meta = getattr(ds, "file_meta", None)
    if not isinstance(ds, FileDataset) and meta is None:
        return
    if isinstance(ds, FileDataset) and getattr(ds, "preamble", b"") is None:
        ctx.add(
            Finding(
                "warning",
                "meta-no-preamble",
                "the file has no 128-byte preamble and 'DICM' prefix; write it as a "
                "DICOM Part 10 file (tbp-dicom edit rewrites it)",
            )
        )
    if meta is None or len(meta) == 0:
        ctx.add(
            Finding(
                "warning",
                "meta-absent",
                "the file has no File Meta Information (group 0002); write it as a "
                "DICOM Part 10 file",
            )
        )
        return
    for keyword in _META_REQUIRED:
        if keyword not in meta:
            ctx.add(
                Finding(
                    "error",
                    "type1-missing",
                    f"File Meta Information lacks {keyword} (Type 1); rewrite the file "
                    "with a complete file meta group",
                    tag=tag_text(tag_for_keyword(keyword) or 0),
                    keyword=keyword,
                    path=keyword,
                    module="file-meta-information",
                )
            )
    for meta_kw, ds_kw in (
        ("MediaStorageSOPClassUID", "SOPClassUID"),
        ("MediaStorageSOPInstanceUID", "SOPInstanceUID"),
    ):
        try:
            meta_value = str(meta.get(meta_kw, "") or "").strip()
        except Exception:
            continue
        ds_value = text(ctx, ds, ds_kw)
        if meta_value and ds_value and meta_value != ds_value:
            ctx.add(
                Finding(
                    "error",
                    "meta-sop-mismatch",
                    f"{meta_kw} {meta_value!r} differs from {ds_kw} {ds_value!r}; "
                    f"they must be equal — rewrite the file meta from the dataset",
                    tag=tag_text(tag_for_keyword(meta_kw) or 0),
                    keyword=meta_kw,
                    path=meta_kw,
                )
            )
    try:
        syntax = str(meta.get("TransferSyntaxUID", "") or "").strip()
    except Exception:
        syntax = ""
    if syntax and not (UID(syntax).is_transfer_syntax or syntax in AllTransferSyntaxes):
        ctx.add(
            Finding(
                "error",
                "meta-transfer-syntax",
                f"TransferSyntaxUID {syntax!r} is not a known transfer syntax; "
                "write the file in a standard one (e.g. 1.2.840.10008.1.2.1)",
                tag="(0002,0010)",
                keyword="TransferSyntaxUID",
                path="TransferSyntaxUID",
            )
        )
