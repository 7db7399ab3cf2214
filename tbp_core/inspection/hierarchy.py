"""Patient → Study → Series → Instance: the rows of an index grouped like a PACS shows them.

Pure functions over :class:`~tbp_core.inspection.index.InstanceRow` (the app's
many-file browser draws the tree; ``tbp-dicom index`` could print it).
Patients are keyed by Patient ID and Patient's Name together, studies by Study
Instance UID, series by Series Instance UID; an instance without one of these
goes under an "(unknown)" node of its level instead of being dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tbp_core.inspection.index import InstanceRow

__all__ = [
    "ALL",
    "PatientNode",
    "Scope",
    "SeriesNode",
    "StudyNode",
    "group_instances",
    "scopes",
]

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


#: The key of the scope that holds every instance.
ALL = "all"


@dataclass(frozen=True)
class Scope:
    """One node of the tree, to be shown on its own: everything, a patient, a study, a series.

    Attributes
    ----------
    key : str
        Stable while the node exists (made of its identifiers, not its position).
    level : {0, 1, 2, 3}
        Everything, patient, study or series.
    label : str
        The node's label (as the tree shows it).
    instances : tuple of InstanceRow
        Every instance under the node.
    """

    key: str
    level: int
    label: str
    instances: tuple[InstanceRow, ...]


def scopes(patients: Sequence[PatientNode]) -> tuple[Scope, ...]:
    """Every node of the tree, in tree order, after the scope of everything.

    Parameters
    ----------
    patients : sequence of PatientNode
        From :func:`group_instances`.

    Returns
    -------
    tuple of Scope
        :data:`ALL` first, then each patient followed by its studies, each
        study followed by its series.
    """
    nodes: list[Scope] = []
    for patient in patients:
        patient_key = "patient:" + "\x1f".join(patient.key)
        patient_rows: list[InstanceRow] = []
        studies: list[Scope] = []
        for study in patient.studies:
            study_key = f"{patient_key}\x1fstudy:{study.uid}"
            series_nodes = [
                Scope(f"{study_key}\x1fseries:{series.uid}", 3, series.label, series.instances)
                for series in study.series
            ]
            study_rows = tuple(row for node in series_nodes for row in node.instances)
            studies += [Scope(study_key, 2, study.label, study_rows), *series_nodes]
            patient_rows += study_rows
        nodes += [Scope(patient_key, 1, patient.label, tuple(patient_rows)), *studies]
    everything = tuple(row for node in nodes if node.level == 1 for row in node.instances)
    return (Scope(ALL, 0, "All documents", everything), *nodes)
