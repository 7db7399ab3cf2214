"""An index of many DICOM instances: one row each, the columns a user picks.

The core of ``tbp-dicom index`` and of the app's many-file browser:

- :func:`parse_columns` checks column names (keywords, ``(gggg,eeee)`` tags,
  sequence paths such as ``AnatomicRegionSequence[0].CodeMeaning``);
- :func:`index_datasets` turns named datasets into rows (pure: no files);
- :func:`index_paths` reads files, directories and ZIP archives
  (:mod:`tbp_core.fileio.archives`) into an :class:`Index` in which every
  input file is either an instance or unreadable, with the reason;
- :mod:`tbp_core.inspection.hierarchy` groups the rows Patient → Study →
  Series → Instance, :mod:`tbp_core.inspection.indexformat` writes the table,
  CSV and JSON.

Values are read without touching Pixel Data: files are read with deferred
large values (:func:`tbp_core.fileio.dicomio.read_with_report`) and an element
whose value was left unread is shown by its size.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from tbp_core.errors import DicomReadError, TagEditError, TbpError, one_line
from tbp_core.fileio import dicomio
from tbp_core.fileio.archives import DEFAULT_ARCHIVE_LIMITS, ArchiveLimits, Source, walk_sources
from tbp_core.inspection.tagedits import parse_path
from tbp_core.inspection.tagtable import deferred_size, value_text
from tbp_core.standard import vr as vrs
from tbp_core.standard.formatting import size_text

__all__ = [
    "DEFAULT_COLUMNS",
    "DICOMDIR_ERROR",
    "FILE_COLUMN",
    "HIERARCHY_KEYWORDS",
    "Index",
    "InstanceRow",
    "Unreadable",
    "column_value",
    "index_datasets",
    "index_paths",
    "is_dicomdir",
    "parse_columns",
    "split_columns",
]

#: The column holding each instance's file name (``archive.zip!member`` in a ZIP).
FILE_COLUMN = "file"

#: The columns of an index when none are added.
DEFAULT_COLUMNS: tuple[str, ...] = (
    FILE_COLUMN,
    "PatientID",
    "PatientName",
    "StudyInstanceUID",
    "StudyDate",
    "StudyDescription",
    "SeriesInstanceUID",
    "SeriesNumber",
    "SeriesDescription",
    "Modality",
    "SOPClassUID",
    "SOPInstanceUID",
    "InstanceNumber",
)

#: What every row keeps for the Patient → Study → Series → Instance grouping,
#: whatever the columns.
HIERARCHY_KEYWORDS: tuple[str, ...] = (
    "PatientID",
    "PatientName",
    "StudyInstanceUID",
    "StudyDate",
    "StudyDescription",
    "SeriesInstanceUID",
    "SeriesNumber",
    "SeriesDescription",
    "Modality",
    "SOPInstanceUID",
    "InstanceNumber",
)

#: Media Storage Directory Storage: the SOP class of a DICOMDIR.
_DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"
_DIRECTORY_RECORDS = 0x00041220
_UNDEFINED_LENGTH = 0xFFFFFFFF
_COLUMN_SEPARATOR = re.compile(r",(?![0-9A-Fa-f]{4}\))")

#: Why a DICOMDIR is listed with the unreadable files (it holds no instance).
DICOMDIR_ERROR = "DICOMDIR (a directory of the files on a medium), not an instance"


@dataclass(frozen=True)
class InstanceRow:
    """One DICOM instance of an index.

    Attributes
    ----------
    file : str
        The file's name (``archive.zip!path/in/zip`` for a ZIP member).
    values : Mapping[str, str | None]
        Each column's value as text (``file`` included); None when the element
        is absent (an empty element gives ``""``).
    hierarchy : Mapping[str, str | None]
        The values of :data:`HIERARCHY_KEYWORDS`, for grouping.
    notes : tuple of str
        What went wrong while reading a damaged file that could still be read.
    """

    file: str
    values: Mapping[str, str | None]
    hierarchy: Mapping[str, str | None]
    notes: tuple[str, ...] = ()

    def _repr_html_(self) -> str:
        from tbp_core.inspection.richhtml import index_rows_html

        return index_rows_html([self])


@dataclass(frozen=True)
class Unreadable:
    """An input file that is not a readable DICOM instance, and why."""

    file: str
    error: str


@dataclass(frozen=True)
class Index:
    """Every input file, as an instance row or as unreadable (never both, never neither)."""

    columns: tuple[str, ...]
    instances: tuple[InstanceRow, ...]
    unreadable: tuple[Unreadable, ...]

    def _repr_html_(self) -> str:
        from tbp_core.inspection.richhtml import index_html

        return index_html(self)


def split_columns(text: str) -> list[str]:
    """Split a ``--columns`` list at the commas that are not inside a ``(gggg,eeee)`` tag.

    Parameters
    ----------
    text : str
        E.g. ``"BodyPartExamined,(0008,0060),AnatomicRegionSequence[0].CodeMeaning"``.

    Returns
    -------
    list of str
        The non-blank entries, stripped.
    """
    return [part.strip() for part in _COLUMN_SEPARATOR.split(text) if part.strip()]


def parse_columns(
    extra: Iterable[str] = (), *, base: Iterable[str] = DEFAULT_COLUMNS
) -> tuple[str, ...]:
    """Return the columns of an index: ``base`` then ``extra``, each once.

    Parameters
    ----------
    extra : iterable of str
        Added columns: keywords (``BodyPartExamined``), tags (``(0008,0060)``)
        or sequence paths (``AnatomicRegionSequence[0].CodeMeaning``); blank
        entries are ignored, so ``"a,,b".split(",")`` is fine.
    base : iterable of str, optional
        The columns to start from (:data:`DEFAULT_COLUMNS`).

    Returns
    -------
    tuple of str
        Column names as given (stripped), duplicates dropped.

    Raises
    ------
    TbpError
        If a column is not a keyword, tag or path (the message names it).
    """
    columns: dict[str, None] = {}
    for text in (*base, *extra):
        column = text.strip()
        if not column:
            continue
        if column != FILE_COLUMN:
            try:
                parse_path(column)
            except TagEditError as exc:
                raise TbpError(f"column {column!r}: {exc}") from exc
        columns[column] = None
    return tuple(columns)


def _element(container: Dataset, tag: BaseTag) -> DataElement | RawDataElement | None:
    """An element of a dataset without reading a deferred value (file meta for group 2)."""
    if tag.group == 0x0002:
        container = getattr(container, "file_meta", None) or Dataset()
    if tag not in container:
        return None
    found: DataElement | RawDataElement = container.get_item(tag, keep_deferred=True)
    return found


def _text(element: DataElement | RawDataElement, container: Dataset) -> str:
    """The value text of an element; deferred and Pixel Data values by their size."""
    unread = deferred_size(element)
    if unread is not None or element.tag in vrs.PIXEL_DATA_TAGS:
        vr = element.VR or "UN"
        if unread == _UNDEFINED_LENGTH or getattr(element, "is_undefined_length", False):
            return f"<{vr}, encapsulated>"
        if unread is None:
            return value_text(container[element.tag])
        return f"<{vr}, {size_text(unread)}>"
    return value_text(container[element.tag])


def column_value(ds: Dataset, column: str) -> str | None:
    """The text of one column in one dataset.

    Parameters
    ----------
    ds : Dataset
        A dataset (file meta columns are read from its ``file_meta``).
    column : str
        A keyword, ``(gggg,eeee)`` tag or path. A sequence on the way without
        an index means its first item.

    Returns
    -------
    str or None
        The value as text (multiple values joined by a backslash, a sequence as
        ``"n items"``), or None when the element or an item on the way is absent.

    Raises
    ------
    TbpError
        If the column is not a keyword, tag or path.
    """
    try:
        steps = parse_path(column)
    except TagEditError as exc:
        raise TbpError(f"column {column!r}: {exc}") from exc
    container = ds
    for tag, index in steps[:-1]:
        if _element(container, tag) is None:
            return None
        sequence = container[tag]
        items = sequence.value if sequence.VR == "SQ" else None
        position = index or 0
        if not items or not 0 <= position < len(items):
            return None
        container = items[position]
    tag, index = steps[-1]
    element = _element(container, tag)
    if element is None:
        return None
    if index is not None:
        items = container[tag].value or []
        return f"item {index} of {len(items)}" if 0 <= index < len(items) else None
    target = container if tag.group != 0x0002 else ds.file_meta
    return _text(element, target)


def is_dicomdir(ds: Dataset) -> bool:
    """True when a dataset is a DICOMDIR (Media Storage Directory), not an instance.

    Parameters
    ----------
    ds : Dataset

    Returns
    -------
    bool
    """
    meta = getattr(ds, "file_meta", None)
    media_class = meta.get("MediaStorageSOPClassUID") if meta is not None else None
    return str(media_class or "") == _DICOMDIR_SOP_CLASS or _DIRECTORY_RECORDS in ds


def _row(name: str, ds: Dataset, columns: tuple[str, ...], notes: tuple[str, ...]) -> InstanceRow:
    values = {
        column: (name if column == FILE_COLUMN else column_value(ds, column)) for column in columns
    }
    hierarchy = {keyword: column_value(ds, keyword) for keyword in HIERARCHY_KEYWORDS}
    return InstanceRow(file=name, values=values, hierarchy=hierarchy, notes=notes)


def index_datasets(
    named: Iterable[tuple[str, Dataset]], columns: Iterable[str] = DEFAULT_COLUMNS
) -> tuple[InstanceRow, ...]:
    """Rows for datasets already read (the app's documents), in the order given.

    Parameters
    ----------
    named : iterable of (str, Dataset)
        Each dataset with the name to show for it.
    columns : iterable of str, optional
        Columns (checked with :func:`parse_columns`, without adding the defaults).

    Returns
    -------
    tuple of InstanceRow
        One row per dataset; DICOMDIRs are skipped (they are not instances).

    Raises
    ------
    TbpError
        If a column is not a keyword, tag or path.
    """
    checked = parse_columns(columns, base=())
    return tuple(_row(name, ds, checked, ()) for name, ds in named if not is_dicomdir(ds))


def _read_source(source: Source) -> dicomio.ReadResult:
    """Read one source, with deferred large values."""
    if source.path is not None:
        return dicomio.read_with_report(source.path, name=source.name)
    assert source.data is not None
    return dicomio.read_with_report(source.data, name=source.name)


def index_paths(
    paths: Iterable[str | Path],
    columns: Iterable[str] = DEFAULT_COLUMNS,
    *,
    limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
) -> Index:
    """Index every DICOM instance in files, directories (recursively) and ZIP archives.

    Parameters
    ----------
    paths : iterable of str or Path
        Files, directories and ZIP archives (read in memory, never extracted).
    columns : iterable of str, optional
        Columns (checked with :func:`parse_columns`, without adding the defaults).
    limits : ArchiveLimits, optional
        Caps on what a ZIP archive may make us read.

    Returns
    -------
    Index
        Each input file once: an instance row, or unreadable with the reason (a
        file that is not DICOM, a damaged one with nothing readable, a DICOMDIR,
        a ZIP member refused by the limits or for an unsafe name).

    Raises
    ------
    TbpError
        If a column is not a keyword, tag or path.
    """
    checked = parse_columns(columns, base=())
    instances: list[InstanceRow] = []
    unreadable: list[Unreadable] = []
    for source in walk_sources(paths, limits):
        if source.error is not None:
            unreadable.append(Unreadable(source.name, source.error))
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = _read_source(source)
                if is_dicomdir(result.dataset):
                    unreadable.append(Unreadable(source.name, DICOMDIR_ERROR))
                    continue
                instances.append(_row(source.name, result.dataset, checked, result.warnings))
        except DicomReadError as exc:
            unreadable.append(Unreadable(source.name, _without_name(str(exc), source.name)))
        except Exception as exc:  # a damaged file must not stop the others
            unreadable.append(
                Unreadable(source.name, f"unexpected input ({type(exc).__name__}: {one_line(exc)})")
            )
    return Index(columns=checked, instances=tuple(instances), unreadable=tuple(unreadable))


def _without_name(message: str, name: str) -> str:
    """A reader's message without the leading quoted file name (the list names the file)."""
    quoted = f"'{name}' "
    return message[len(quoted) :] if message.startswith(quoted) else message
