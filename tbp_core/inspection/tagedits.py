"""Tag edits: what an edit is, the path it is addressed by, and undoing it.

A *path* names an element or a sequence item: ``PatientName``,
``AnatomicRegionSequence[0].CodeValue``, ``(0011,1010)``,
``Seq[0].(0011,1010)``; ``Seq[0]`` names an item. File meta elements
(group 0002) are addressed by keyword at the top level.

An applied edit (:func:`tbp_core.inspection.tagapply.apply_edit`) gives a
:class:`Change` (old → new text) that :func:`undo` reverts; undo changes in the
reverse order they were applied.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydicom import datadict
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.tag import BaseTag, Tag

from tbp_core.errors import TagEditError
from tbp_core.standard.formatting import tag_text

__all__ = [
    "AddElement",
    "AddItem",
    "Change",
    "DeleteElement",
    "Edit",
    "EditResult",
    "ElementStep",
    "ItemStep",
    "RegenerateUID",
    "RemoveItem",
    "SetValue",
    "Step",
    "container_of",
    "parent_item",
    "parse_cli_edits",
    "parse_path",
    "undo",
]

_TOKEN = re.compile(
    r"(?:(?P<keyword>[A-Za-z][A-Za-z0-9]*)|\((?P<group>[0-9A-Fa-f]{4}),(?P<elem>[0-9A-Fa-f]{4})\))"
    r"(?:\[(?P<index>\d+)\])?"
)


# ------------------------------------------------------------------ edits


@dataclass(frozen=True)
class SetValue:
    r"""Set an element's value from text (``\\`` separates values).

    A public element absent from its dataset is added with its dictionary VR.
    """

    path: str
    text: str


@dataclass(frozen=True)
class AddElement:
    """Add an element to the dataset (``""``) or to the item at ``path_of_parent_item``.

    ``keyword_or_tag`` is a keyword or ``(gggg,eeee)``; a private tag (odd group)
    needs ``private_creator``: its block is reserved and the element goes at the
    block's slot for the low byte of ``eeee``. ``vr`` is needed when the
    dictionary does not know the element.
    """

    path_of_parent_item: str
    keyword_or_tag: str
    vr: str | None
    text: str
    private_creator: str | None = None


@dataclass(frozen=True)
class DeleteElement:
    """Delete the element at ``path``."""

    path: str


@dataclass(frozen=True)
class AddItem:
    """Append an empty item to the sequence at ``sequence_path`` (created when absent)."""

    sequence_path: str


@dataclass(frozen=True)
class RemoveItem:
    """Remove item ``index`` (from 0) of the sequence at ``sequence_path``."""

    sequence_path: str
    index: int


@dataclass(frozen=True)
class RegenerateUID:
    """Give the UI element at ``path`` a fresh UID (SOP Instance UID also updates file meta)."""

    path: str


Edit = SetValue | AddElement | DeleteElement | AddItem | RemoveItem | RegenerateUID


@dataclass(frozen=True)
class ElementStep:
    """Undo step: put ``element`` back at ``tag`` of ``container`` (or delete it if None)."""

    container: Dataset
    tag: BaseTag
    element: DataElement | RawDataElement | None


@dataclass(frozen=True)
class ItemStep:
    """Undo step: delete item ``index`` (``item`` None) or insert ``item`` at ``index``."""

    sequence: DicomSequence
    index: int
    item: Dataset | None


Step = ElementStep | ItemStep


@dataclass(frozen=True)
class Change:
    """One applied edit, for a change log and :func:`undo`.

    ``old_text`` is None when the element or item did not exist, ``new_text``
    None when it was removed.
    """

    path: str
    tag: str
    keyword: str
    old_text: str | None
    new_text: str | None
    steps: tuple[Step, ...] = field(default=(), repr=False, compare=False)


@dataclass(frozen=True)
class EditResult:
    """Outcome of :func:`apply_edit`: applied or refused, with a one-line message."""

    applied: bool
    message: str
    change: Change | None = None


# ------------------------------------------------------------------ paths


@dataclass(frozen=True)
class _PathStep:
    """One step of a path: an element, and the item of it when it is a sequence."""

    tag: BaseTag
    index: int | None


def _parse_path(path: str) -> list[_PathStep]:
    """The steps of a path, or a TagEditError naming what is wrong with it."""
    text = path.strip()
    steps: list[_PathStep] = []
    position = 0
    while True:
        match = _TOKEN.match(text, position)
        if match is None:
            raise TagEditError(
                f"path {path!r} is not valid: use Keyword, Seq[0].Keyword or (gggg,eeee)"
            )
        if match["keyword"]:
            tag_value = datadict.tag_for_keyword(match["keyword"])
            if tag_value is None:
                raise TagEditError(
                    f"path {path!r}: {match['keyword']!r} is not a DICOM keyword; "
                    "check the spelling or use (gggg,eeee)"
                )
            tag = Tag(tag_value)
        else:
            tag = Tag(int(match["group"], 16), int(match["elem"], 16))
        index = int(match["index"]) if match["index"] is not None else None
        steps.append(_PathStep(tag, index))
        position = match.end()
        if position == len(text):
            return steps
        if text[position] != ".":
            raise TagEditError(f"path {path!r}: expected '.' after {text[:position]!r}")
        position += 1


def parse_path(path: str) -> tuple[tuple[BaseTag, int | None], ...]:
    """The steps of a path: each element's tag and, for a sequence, its item index.

    Parameters
    ----------
    path : str
        E.g. ``"PatientName"``, ``"(0010,0010)"`` or
        ``"AnatomicRegionSequence[0].CodeMeaning"``.

    Returns
    -------
    tuple of (BaseTag, int or None)

    Raises
    ------
    TagEditError
        If the path is not valid (it names what is wrong).
    """
    return tuple((step.tag, step.index) for step in _parse_path(path))


def _item_at(ds: Dataset, steps: list[_PathStep], path: str) -> Dataset:
    """Walk sequence steps (each with an index) down to an item dataset."""
    current = ds
    for step in steps:
        if step.index is None:
            raise TagEditError(f"path {path!r}: a sequence needs an item index, e.g. Seq[0]")
        if step.tag not in current:
            raise TagEditError(f"path {path!r}: {tag_text(step.tag)} is not present")
        element = current[step.tag]
        if element.VR != "SQ":
            raise TagEditError(f"path {path!r}: {tag_text(step.tag)} is not a sequence")
        items = element.value or []
        if not 0 <= step.index < len(items):
            raise TagEditError(
                f"path {path!r}: item {step.index} does not exist ({len(items)} item(s))"
            )
        current = items[step.index]
    return current


def container_of(ds: Dataset, path: str) -> tuple[Dataset, BaseTag, int | None]:
    """Where a path leads: the dataset holding its last step, that step's tag and index.

    Parameters
    ----------
    ds : Dataset
        The top-level dataset (file meta paths lead to its ``file_meta``).
    path : str
        E.g. ``"PatientName"``, ``"AnatomicRegionSequence[0].CodeValue"``,
        ``"AnatomicRegionSequence[0]"``.

    Returns
    -------
    tuple of (Dataset, BaseTag, int or None)
        The item index is None unless the path ends with ``[n]``.

    Raises
    ------
    TagEditError
        If the path is not valid or an item on the way does not exist.
    """
    steps = _parse_path(path)
    last = steps[-1]
    if last.tag.group == 0x0002:
        if len(steps) > 1:
            raise TagEditError(f"path {path!r}: file meta elements are never nested")
        meta = getattr(ds, "file_meta", None)
        if meta is None:
            raise TagEditError(f"path {path!r}: the dataset has no file meta")
        return meta, last.tag, last.index
    return _item_at(ds, steps[:-1], path), last.tag, last.index


def parent_item(ds: Dataset, path: str) -> Dataset:
    """The item a path names (``"Seq[0]"``), or ``ds`` itself for ``""``.

    Parameters
    ----------
    ds : Dataset
    path : str

    Returns
    -------
    Dataset

    Raises
    ------
    TagEditError
        If the path is not valid or names no existing item.
    """
    if not path.strip():
        return ds
    return _item_at(ds, _parse_path(path), path)


# ------------------------------------------------------------------ undo and the CLI


def undo(ds: Dataset, change: Change) -> None:
    """Revert an applied change (undo changes in the reverse order they were made).

    Parameters
    ----------
    ds : Dataset
        The dataset the change was applied to (changed in place).
    change : Change
        A change from :func:`apply_edit`.
    """
    del ds  # the steps hold the datasets and sequences they changed
    for step in reversed(change.steps):
        if isinstance(step, ItemStep):
            if step.item is None:
                del step.sequence[step.index]
            else:
                step.sequence.insert(step.index, step.item)
        elif step.element is None:
            if step.tag in step.container:
                del step.container[step.tag]
        else:
            step.container[step.tag] = step.element


def parse_cli_edits(sets: Iterable[str], deletes: Iterable[str]) -> list[Edit]:
    """Turn ``--set PATH=VALUE`` and ``--delete PATH`` arguments into edits.

    Parameters
    ----------
    sets : iterable of str
        ``KEYWORD=VALUE`` or ``PATH=VALUE`` (``Seq[0].CodeValue=...``); an
        absent public element is added by :class:`SetValue`.
    deletes : iterable of str
        Paths to delete.

    Returns
    -------
    list of Edit
        The set edits first, then the deletions, in the given order.

    Raises
    ------
    TagEditError
        If an argument has no ``=`` or an empty path.
    """
    edits: list[Edit] = []
    for text in sets:
        path, sep, value = text.partition("=")
        if not sep or not path.strip():
            raise TagEditError(
                f"--set {text!r}: expected KEYWORD=VALUE, e.g. --set PatientName=Doe^Jane"
            )
        edits.append(SetValue(path.strip(), value))
    for text in deletes:
        if not text.strip():
            raise TagEditError("--delete needs a keyword or path, e.g. --delete PatientComments")
        edits.append(DeleteElement(text.strip()))
    return edits
