"""De-identify and send a session's documents: the batch the app keeps apart from the originals.

:func:`deidentify_documents` applies :func:`tbp_core.sharing.deidentify.deidentify`
to documents with one :class:`~tbp_core.sharing.identifiers.IdentifierMap` for
the whole batch, so the batch's objects keep agreeing with each other (one
study stays one study). The originals are not changed: the result holds
de-identified copies, written out only when asked (:func:`item_bytes`,
:func:`batch_zip`), or kept as new documents under :func:`kept_name`.
:func:`send_items` gives the (name, dataset) pairs
:func:`tbp_core.sharing.send.send` takes, as the downloads would write them.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

from pydicom.dataset import Dataset

from tbp_core.errors import TbpError
from tbp_core.fileio import dicomio
from tbp_core.fileio.part10 import make_writable
from tbp_core.session.export import export_bytes
from tbp_core.session.names import unique_name
from tbp_core.session.workspace import Document, build_error
from tbp_core.sharing.deidentify import Deidentified, DeidentifyOptions, deidentify
from tbp_core.sharing.identifiers import IdentifierMap
from tbp_core.standard import vr as vrs

__all__ = [
    "BeforeAfter",
    "DeidentifiedBatch",
    "DeidentifiedItem",
    "batch_send_items",
    "batch_zip",
    "before_after",
    "deidentify_documents",
    "is_current",
    "item_bytes",
    "kept_name",
    "send_items",
]

#: Characters of a value shown in a before/after row.
_SHOWN = 64


@dataclass(frozen=True)
class DeidentifiedItem:
    """One document's de-identified copy.

    Attributes
    ----------
    source_id : str
        The id of the document it was made from.
    name : str
        The file name for its download (the original's output name).
    original : Dataset
        The document's dataset when it was de-identified (for the before/after list).
    result : Deidentified
        The copy, its changes and notices.
    """

    source_id: str
    name: str
    original: Dataset
    result: Deidentified


@dataclass(frozen=True)
class DeidentifiedBatch:
    """The de-identified copies of one run and the batch's identifier map.

    Attributes
    ----------
    items : tuple of DeidentifiedItem
        One per document, in the order given.
    identifiers : IdentifierMap
        Old → new identifiers of the whole batch (it re-identifies: keep it apart).
    retain : frozenset of str
        The options chosen.
    stamp : tuple of (str, int)
        (document id, revision) of each source, to tell when a source changed since.
    """

    items: tuple[DeidentifiedItem, ...]
    identifiers: IdentifierMap
    retain: frozenset[str]
    stamp: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class BeforeAfter:
    """What the profile did to one attribute, with its values where they are plain text.

    ``before``/``after`` are ``""`` for nested, binary and sequence elements
    (the path says where they are) and for an absent value.
    """

    path: str
    tag: str
    keyword: str
    action: str
    before: str
    after: str


def _exportable(document: Document) -> Dataset:
    """The dataset the document's download would hold (raises what the download raises)."""
    problem = build_error(document)
    if problem is not None:
        raise TbpError(f"'{document.name}' cannot be exported yet: {problem}")
    data = export_bytes(document, "keep" if document.kind == "dicom" else "explicit-le")
    return dicomio.read(data, name=document.output_name)


def deidentify_documents(
    documents: Sequence[Document], retain: frozenset[str], patient_id: str = ""
) -> DeidentifiedBatch:
    """De-identify documents as one batch (one identifier map); the documents are not changed.

    Parameters
    ----------
    documents : sequence of Document
        What to de-identify; each must be exportable.
    retain : frozenset of str
        Options from :data:`tbp_core.sharing.profile.RETAIN_OPTIONS`.
    patient_id : str
        The new Patient ID (and name) for every patient; pseudonyms when empty.

    Returns
    -------
    DeidentifiedBatch

    Raises
    ------
    TbpError
        When the options conflict, a document cannot be exported, or an
        element cannot be decoded; nothing is kept then.
    """
    options = DeidentifyOptions(frozenset(retain))
    ids = IdentifierMap(patient_id=patient_id.strip() or None)
    items = []
    for document in documents:
        original = _exportable(document)
        items.append(
            DeidentifiedItem(
                document.id, document.output_name, original, deidentify(original, options, ids)
            )
        )
    stamp = tuple((d.id, d.revision) for d in documents)
    return DeidentifiedBatch(tuple(items), ids, options.retain, stamp)


def _shown(ds: Dataset, keyword: str, path: str) -> str:
    if not keyword or path != keyword or keyword not in ds:
        return ""
    element = ds[keyword]
    if element.VR == "SQ" or vrs.is_binary(element.VR) or element.value is None:
        return ""
    values = vrs.split_values(element.VR, element.value)
    text = "\\".join(vrs.stored_text(v) for v in values)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def before_after(item: DeidentifiedItem) -> tuple[BeforeAfter, ...]:
    """The item's changes, each with the top-level value before and after.

    Parameters
    ----------
    item : DeidentifiedItem

    Returns
    -------
    tuple of BeforeAfter
        In the order the profile made them.
    """
    after = item.result.dataset
    return tuple(
        BeforeAfter(
            change.path,
            change.tag,
            change.keyword,
            change.action,
            _shown(item.original, change.keyword, change.path),
            _shown(after, change.keyword, change.path) if change.action != "removed" else "",
        )
        for change in item.result.changes
    )


def item_bytes(item: DeidentifiedItem) -> bytes:
    """The de-identified copy as a DICOM Part 10 file (in the original's transfer syntax)."""
    out = Dataset(item.result.dataset)
    out.file_meta = item.result.dataset.file_meta
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        make_writable(out)
        return dicomio.to_bytes(out)


def batch_zip(batch: DeidentifiedBatch) -> bytes:
    """Every de-identified copy of the batch in one zip (names made unique)."""
    buffer = io.BytesIO()
    used: set[str] = set()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for item in batch.items:
            archive.writestr(unique_name(item.name, used), item_bytes(item))
    return buffer.getvalue()


def kept_name(item: DeidentifiedItem) -> str:
    """The name of the document keeping a de-identified copy: ``back.dcm`` → ``back_deid.dcm``."""
    stem = PurePath(item.name).stem or "document"
    return f"{stem}_deid.dcm"


def send_items(documents: Sequence[Document]) -> list[tuple[str, Dataset]]:
    """(file name, dataset) of each document as its download would write it.

    Raises
    ------
    TbpError
        When a document cannot be exported (a draft, a build error).
    """
    return [(document.output_name, _exportable(document)) for document in documents]


def batch_send_items(batch: DeidentifiedBatch) -> list[tuple[str, Dataset]]:
    """(file name, dataset) of each de-identified copy of the batch."""
    return [(item.name, item.result.dataset) for item in batch.items]


def is_current(batch: DeidentifiedBatch, documents: Sequence[Document]) -> bool:
    """Whether every source of the batch is still in ``documents`` at the same revision."""
    now = {d.id: d.revision for d in documents}
    return all(now.get(doc_id) == revision for doc_id, revision in batch.stamp)
