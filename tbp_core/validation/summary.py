"""A validation report summarised for people: findings grouped by module, and counted."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tbp_core.standard.formatting import SEVERITIES, Severity, severity_rank
from tbp_core.validation.findings import Finding, sorted_findings

#: Module key of the findings about the File Meta Information group.
FILE_META_MODULE = "file-meta-information"

_PLURALS: Mapping[Severity, str] = {"error": "errors", "warning": "warnings", "info": "info"}


@dataclass(frozen=True)
class ModuleFindings:
    """The findings about one module, the most severe first.

    Attributes
    ----------
    module : str
        Module key (``"general-series"``), or ``""`` for findings about no module.
    findings : tuple of Finding
        Errors, then warnings, then info; in the validator's order within each.
    """

    module: str
    findings: tuple[Finding, ...]

    @property
    def worst(self) -> Severity:
        """The severity of the most severe finding."""
        return self.findings[0].severity


def by_module(findings: Iterable[Finding]) -> tuple[ModuleFindings, ...]:
    """Group findings by module, the modules with the most severe findings first.

    Parameters
    ----------
    findings : iterable of Finding
        E.g. ``validate(ds).findings``.

    Returns
    -------
    tuple of ModuleFindings
        Modules whose worst finding is an error come first, then those with
        warnings, then info; within a severity by module key, with the
        findings about no module (``""``) last.
    """
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.module, []).append(finding)
    summaries = [ModuleFindings(module, sorted_findings(found)) for module, found in groups.items()]
    return tuple(
        sorted(
            summaries,
            key=lambda s: (severity_rank(s.worst), s.module == "", s.module),
        )
    )


def severity_counts(findings: Iterable[Finding]) -> dict[Severity, int]:
    """How many findings of each severity there are (every severity, zeros included).

    Parameters
    ----------
    findings : iterable of Finding

    Returns
    -------
    dict
        Severity → count, in :data:`SEVERITIES` order.
    """
    counts: dict[Severity, int] = dict.fromkeys(SEVERITIES, 0)
    for finding in findings:
        counts[finding.severity] += 1
    return counts


def count_text(findings: Iterable[Finding]) -> str:
    """The counts as a phrase: ``"2 errors, 1 warning, 0 info"``.

    Parameters
    ----------
    findings : iterable of Finding

    Returns
    -------
    str
    """
    counts = severity_counts(findings)
    return ", ".join(f"{n} {s if n == 1 else _PLURALS[s]}" for s, n in counts.items())


__all__ = [
    "FILE_META_MODULE",
    "SEVERITIES",
    "ModuleFindings",
    "by_module",
    "count_text",
    "severity_counts",
]
