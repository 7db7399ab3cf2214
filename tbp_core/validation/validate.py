"""Validate a dataset against its IOD: file meta, modules, Types, conditions, pixels.

:func:`validate` collects :class:`~tbp_core.validation.findings.Finding` objects;
it never raises on a bad dataset and never reads deferred values (Pixel Data
stays on disk). Which attributes are missing or empty comes from
:func:`tbp_core.validation.requirements.evaluate` — the same evaluation the
Structure view shows; values (VR, VM, UIDs, enumerations) are checked by
:func:`tbp_core.validation.values.check_values`; the other checks live in
:mod:`tbp_core.validation.checks` and :mod:`tbp_core.validation.filemeta`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from pydicom.dataset import Dataset

from tbp_core import standard
from tbp_core.boundary import guarded
from tbp_core.validation import checks
from tbp_core.validation.context import Context, field_for, text
from tbp_core.validation.filemeta import check_file_meta
from tbp_core.validation.findings import Finding, ValidationReport, sorted_findings, tag_text
from tbp_core.validation.requirements import AttributeStatus, Evaluation, evaluate
from tbp_core.validation.values import check_values

__all__ = ["validate", "validate_with_evaluation"]

_FIXES = {
    "1": "give it a value",
    "2": "add it (it may be empty)",
    "1C": "give it a value (its condition holds)",
    "2C": "add it, empty if unknown (its condition holds)",
}


def _report(ctx: Context, status: AttributeStatus) -> None:
    key = (status.path, status.keyword)
    if key in ctx.reported:
        return
    ctx.reported.add(key)
    kind = status.problem[4:].split("-")[0].upper()
    empty = status.problem.endswith("-empty")
    fix = _FIXES.get(kind, "fix it")
    if empty and kind == "1C":
        fix = "give it a value, or remove it if its condition does not hold"
    problem = "present but empty" if empty else "missing"
    ctx.add(
        Finding(
            severity="error",
            code=status.problem,
            message=f"{status.path} {tag_text(status.tag)} is {problem}: Type {kind} in module "
            f"{status.module} ({status.information_entity}); {fix}",
            tag=tag_text(status.tag),
            keyword=status.keyword,
            path=status.path,
            module=status.module,
            ie=status.information_entity,
            field=field_for(status.keyword, status.path),
        )
    )


def _once(findings: list[Finding]) -> list[Finding]:
    """Each (code, tag, path) once: a value both unreadable and undecodable is one problem."""
    seen: set[tuple[str, str, str]] = set()
    kept = []
    for finding in findings:
        key = (finding.code, finding.tag, finding.path)
        if finding.path and key in seen:
            continue
        seen.add(key)
        kept.append(finding)
    return kept


def _report_unevaluated(ctx: Context, names: frozenset[str]) -> None:
    if not names:
        return
    ctx.add(
        Finding(
            "info",
            "condition-not-evaluated",
            f"{len(names)} conditions not evaluated (Type 1C/2C attributes absent whose "
            f"condition is not checked here): {', '.join(sorted(names))}",
        )
    )


def _guarded(ctx: Context, check: Callable[[], None], name: str) -> None:
    """Run one check; a crash on a damaged dataset becomes a finding, not an exception."""
    try:
        check()
    except Exception as exc:
        reason = " ".join(str(exc).split())[:160] or type(exc).__name__
        ctx.add(
            Finding(
                "error",
                "unreadable-value",
                f"the {name} check could not read the dataset ({reason}); the file may be damaged",
            )
        )


def _attach_modules(ctx: Context, findings: list[Finding]) -> list[Finding]:
    """Give value findings the module and IE of their top-level attribute."""
    if not ctx.iod:
        return findings
    owners = _module_owners(ctx.iod)
    done = []
    for finding in findings:
        top = finding.path.split(".", 1)[0].split("[", 1)[0]
        if not finding.module and top in owners:
            key, ie = owners[top]
            finding = replace(finding, module=key, ie=ie)
        done.append(finding)
    return done


def _module_owners(iod: str) -> dict[str, tuple[str, str]]:
    owners: dict[str, tuple[str, str]] = {}
    for module in standard.modules_of_iod(iod):
        for path, rows in standard.module_attributes_by_path(module.key):
            if path:
                continue
            for attribute in rows:
                owners.setdefault(attribute.keyword, (module.key, module.information_entity))
    return owners


# --------------------------------------------------------------------------- entry point


@guarded("validate")
def validate(ds: Dataset) -> ValidationReport:
    """Check a dataset against its IOD and the standard's rules.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        The dataset, typically read with deferred large values
        (:func:`tbp_core.fileio.dicomio.read`); deferred values are never read.

    Returns
    -------
    ValidationReport
        The IOD checked against, the SOP Class UID and the findings (errors
        first). Never raises for a bad dataset: unreadable values become
        ``unreadable-value`` findings.
    """
    return validate_with_evaluation(ds)[0]


@guarded("validate")
def validate_with_evaluation(ds: Dataset) -> tuple[ValidationReport, Evaluation | None]:
    """Validate, and return the module evaluation the findings came from.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        Any dataset; deferred values are never read.

    Returns
    -------
    tuple of (ValidationReport, Evaluation or None)
        The report, and the per-module statuses (None when the IOD is unknown or
        the evaluation failed on a damaged dataset) — what the Structure view shows.
    """
    ctx = Context(ds=ds, iod="")
    _guarded(ctx, lambda: check_file_meta(ctx), "file meta")
    try:
        ctx.iod = checks.check_sop_class(ctx)
    except Exception:
        ctx.iod = ""
    evaluation: list[Evaluation] = []
    if ctx.iod:

        def run_modules() -> None:
            evaluation.append(evaluate(ctx))
            for status in evaluation[0].problems:
                _report(ctx, status)
            _report_unevaluated(ctx, evaluation[0].unevaluated)

        _guarded(ctx, run_modules, "module")
    _guarded(ctx, lambda: checks.check_retired_and_iod(ctx), "retired attribute")
    _guarded(ctx, lambda: checks.check_private(ctx, ds, ""), "private element")
    _guarded(ctx, lambda: checks.check_codes(ctx, ds, ""), "code")
    _guarded(ctx, lambda: checks.check_photometric(ctx), "photometric")
    _guarded(ctx, lambda: checks.check_pixel_length(ctx), "pixel data length")
    _guarded(ctx, lambda: checks.check_pixel_vr(ctx), "pixel data VR")
    value_findings: list[Finding] = []

    def run_values() -> None:
        value_findings.extend(check_values(ds, ctx.iod or None))

    _guarded(ctx, run_values, "value")
    findings = _once(ctx.findings + _attach_modules(ctx, value_findings))
    sop_class = ""
    try:
        sop_class = text(ctx, ds, "SOPClassUID")
    except Exception:
        sop_class = ""
    report = ValidationReport(
        iod=ctx.iod, sop_class_uid=sop_class, findings=sorted_findings(findings)
    )
    return report, (evaluation[0] if evaluation else None)
