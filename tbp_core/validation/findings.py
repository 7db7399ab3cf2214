"""What a validation reports: findings and the report that holds them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tbp_core.standard.formatting import Severity, severity_rank, tag_text

__all__ = ["Finding", "Severity", "ValidationReport", "sorted_findings", "tag_text"]


@dataclass(frozen=True)
class Finding:
    """One thing the validator noticed about a dataset.

    Attributes
    ----------
    severity : {"error", "warning", "info"}
        ``error``: the file does not conform; ``warning``: it conforms but
        something is dubious; ``info``: a check that could not be made.
    code : str
        Stable identifier of the check, e.g. ``"type1-missing"``.
    message : str
        One line for a person: what is wrong and how to fix it.
    tag : str
        ``"(GGGG,EEEE)"`` of the element concerned, or ``""``.
    keyword : str
        Its keyword (``""`` for private or unknown elements).
    path : str
        Where it is, e.g. ``"AnatomicRegionSequence[0].CodeValue"``.
    module : str
        Module key in the standard's tables (``"general-image"``) or ``""``.
    ie : str
        Information Entity of that module (``"Image"``) or ``""``.
    field : str
        The metadata-template key that fixes it (app hint), or ``""``.
    """

    severity: Severity
    code: str
    message: str
    tag: str = ""
    keyword: str = ""
    path: str = ""
    module: str = ""
    ie: str = ""
    field: str = ""

    def _repr_html_(self) -> str:
        from tbp_core.inspection.richhtml import finding_html

        return finding_html(self)


@dataclass(frozen=True)
class ValidationReport:
    """All findings for one dataset, with what it was checked against."""

    iod: str = ""
    sop_class_uid: str = ""
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def errors(self) -> tuple[Finding, ...]:
        """Findings of severity ``error``."""
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """Findings of severity ``warning``."""
        return tuple(f for f in self.findings if f.severity == "warning")

    @property
    def is_valid(self) -> bool:
        """True when there is no error."""
        return not self.errors

    def _repr_html_(self) -> str:
        from tbp_core.inspection.richhtml import report_html

        return report_html(self)


def sorted_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Errors first, then warnings, then info; stable within a severity.

    Parameters
    ----------
    findings : iterable of Finding

    Returns
    -------
    tuple of Finding
    """
    return tuple(sorted(findings, key=lambda f: severity_rank(f.severity)))
