"""Findings summarised for people: grouped by module, most severe first, and counted."""

from __future__ import annotations

import pydicom

from tbp_core.validation.findings import Finding, Severity
from tbp_core.validation.summary import (
    SEVERITIES,
    by_module,
    count_text,
    severity_counts,
)
from tbp_core.validation.validate import validate
from tests.conftest import DATA

CT = DATA / "dicom" / "CT_small.dcm"


def _finding(severity: Severity, module: str, code: str = "c") -> Finding:
    return Finding(severity, code, f"{severity} in {module or 'no module'}", module=module)


def test_modules_with_errors_come_first_and_findings_are_sorted() -> None:
    findings = [
        _finding("info", "general-image", "1"),
        _finding("warning", "patient", "2"),
        _finding("info", "", "3"),
        _finding("error", "", "4"),
        _finding("warning", "general-image", "5"),
        _finding("error", "sop-common", "6"),
        _finding("error", "general-image", "7"),
    ]
    groups = by_module(findings)
    assert [g.module for g in groups] == ["general-image", "sop-common", "", "patient"]
    image = groups[0]
    assert [f.code for f in image.findings] == ["7", "5", "1"] and image.worst == "error"
    assert groups[-1].worst == "warning"
    assert sum(len(g.findings) for g in groups) == len(findings)
    assert by_module([]) == ()


def test_counts_name_every_severity() -> None:
    findings = [_finding("error", "a"), _finding("error", "b"), _finding("warning", "a")]
    assert severity_counts(findings) == {"error": 2, "warning": 1, "info": 0}
    assert list(severity_counts([])) == list(SEVERITIES)
    assert count_text(findings) == "2 errors, 1 warning, 0 info"
    assert count_text([_finding("info", "a")]) == "0 errors, 0 warnings, 1 info"


def test_a_real_report_groups_every_finding_once() -> None:
    ds = pydicom.dcmread(CT)
    del ds.Modality
    del ds.PatientName
    report = validate(ds)
    groups = by_module(report.findings)
    assert sorted((f for g in groups for f in g.findings), key=repr) == sorted(
        report.findings, key=repr
    )
    assert groups[0].worst == "error"
    modules = {g.module for g in groups}
    assert {"general-series", "patient"} <= modules
    counts = severity_counts(report.findings)
    assert counts["error"] == len(report.errors) >= 2
