"""Our validator against dciodvfy: recall and precision per (file, attribute) ≥ 95%."""

from __future__ import annotations

from tests.agreement import agreement, default_paths


def test_agreement_with_dciodvfy_on_missing_attributes_and_enumerations() -> None:
    result = agreement(default_paths())
    print(result.summary())  # shown with -s / on failure: the numbers and every disagreement
    assert result.theirs, "no dciodvfy errors of the counted kinds: nothing was compared"
    assert result.recall >= 0.95, result.summary()
    assert result.precision >= 0.95, result.summary()
