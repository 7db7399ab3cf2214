"""The quick fuzz run of ``make test``: 500 cases, no unhandled exception, within limits."""

from __future__ import annotations

from tests.fuzz.runner import GIB, Summary, all_cases, run_cases, warm_up

CASES = 500


def test_quick_fuzz_run_has_no_unhandled_exception_and_stays_in_limits() -> None:
    summary = Summary()
    warm_up()
    for result in run_cases(
        all_cases(CASES, seed=11, bombs=False, max_seed_size=64_000),
        jobs=2,
        time_limit=10.0,
        memory=2 * GIB,
    ):
        summary.add(result)
    assert summary.cases == CASES
    assert summary.signatures == {}, summary.text()
    assert summary.statuses["ok"] == CASES, summary.text()
    # every entry point ran on some case and accepted some input
    assert {e for e, counts in summary.per_entry.items() if counts["ok"]} >= {
        "read",
        "dump",
        "table",
        "structure",
        "validate",
        "preview",
        "edit",
        "export",
        "convert",
    }, summary.text()
