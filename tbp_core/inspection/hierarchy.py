"""Patient → Study → Series → Instance: the rows of an index grouped like a PACS shows them.

Pure functions over :class:`~tbp_core.inspection.index.InstanceRow` (the app's
many-file browser draws the tree; ``tbp-dicom index`` could print it).
Patients are keyed by Patient ID and Patient's Name together, studies by Study
Instance UID, series by Series Instance UID; an instance without one of these
goes under an "(unknown)" node of its level instead of being dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tbp_core.inspection.index import InstanceRow

__all__ = ["PatientNode", "SeriesNode", "StudyNode", "group_instances"]

_UNKNOWN = "(unknown)"


@dataclass(frozen=True)
class SeriesNode:
    """One series and its instances (in Instance Number order, then file name)."""

    uid: str
    label: str
    instances: tuple[InstanceRow, ...]


@dataclass(frozen=True)
class StudyNode:
    """One study and its series."""

    uid: str
    label: str
    series: tuple[SeriesNode, ...]

    @property
    def instance_count(self) -> int:
        """Instances in all series of the study."""
        return sum(len(series.instances) for series in self.series)


@dataclass(frozen=True)
class PatientNode:
    """One patient and their studies."""

    key: tuple[str, str]
    label: str
    studies: tuple[StudyNode, ...]

    @property
    def instance_count(self) -> int:
        """Instances in all studies of the patient."""
        return sum(study.instance_count for study in self.studies)


def _value(row: InstanceRow, keyword: str) -> str:
    return (row.hierarchy.get(keyword) or "").strip()


def _label(*parts: str) -> str:
    return " · ".join(part for part in parts if part) or _UNKNOWN


def _instance_order(row: InstanceRow) -> tuple[int, str]:
    number = _value(row, "InstanceNumber")
    try:
        return int(number), row.file
    except ValueError:
        return 2**31, row.file


def _series_order(node: SeriesNode) -> tuple[int, str]:
    number = _value(node.instances[0], "SeriesNumber")
    try:
        return int(number), node.uid
    except ValueError:
        return 2**31, node.uid


def _series(rows: list[InstanceRow]) -> tuple[SeriesNode, ...]:
    groups: dict[str, list[InstanceRow]] = {}
    for row in rows:
        groups.setdefault(_value(row, "SeriesInstanceUID") or _UNKNOWN, []).append(row)
    nodes = []
    for uid, members in groups.items():
        first = members[0]
        number = _value(first, "SeriesNumber")
        label = _label(
            _value(first, "Modality"),
            f"#{number}" if number else "",
            _value(first, "SeriesDescription"),
        )
        nodes.append(SeriesNode(uid, label, tuple(sorted(members, key=_instance_order))))
    return tuple(sorted(nodes, key=_series_order))


def _studies(rows: list[InstanceRow]) -> tuple[StudyNode, ...]:
    groups: dict[str, list[InstanceRow]] = {}
    for row in rows:
        groups.setdefault(_value(row, "StudyInstanceUID") or _UNKNOWN, []).append(row)
    nodes = [
        StudyNode(
            uid,
            _label(_value(members[0], "StudyDate"), _value(members[0], "StudyDescription")),
            _series(members),
        )
        for uid, members in groups.items()
    ]
    return tuple(sorted(nodes, key=lambda node: (node.label, node.uid)))


def group_instances(rows: Iterable[InstanceRow]) -> tuple[PatientNode, ...]:
    """Group index rows Patient → Study → Series → Instance.

    Parameters
    ----------
    rows : iterable of InstanceRow
        Rows from :func:`~tbp_core.inspection.index.index_paths` or
        :func:`~tbp_core.inspection.index.index_datasets`.

    Returns
    -------
    tuple of PatientNode
        Patients in name order; studies by date and description; series by
        Series Number; instances by Instance Number. Every row appears once.
    """
    groups: dict[tuple[str, str], list[InstanceRow]] = {}
    for row in rows:
        key = (_value(row, "PatientID"), _value(row, "PatientName"))
        groups.setdefault(key, []).append(row)
    nodes = [
        PatientNode(key, _label(key[1], key[0]), _studies(members))
        for key, members in groups.items()
    ]
    return tuple(sorted(nodes, key=lambda node: (node.label, node.key)))
