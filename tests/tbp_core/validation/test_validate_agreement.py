"""Our validator against dciodvfy: recall and precision per (file, attribute) ≥ 95%.

The held-out files (tests/agreement_split.json, tests/data/heldout/) were never
used to tune a rule; the tuning files were.
"""

from __future__ import annotations

from tests.agreement import default_paths, split_agreement


def test_agreement_with_dciodvfy_on_tuning_and_heldout_files() -> None:
    results = split_agreement(default_paths())
    for part, result in results.items():
        print(f"== {part}\n{result.summary()}")  # shown with -s / on failure
    heldout = results["heldout"]
    assert heldout.theirs, "no held-out dciodvfy errors of the counted kinds: nothing compared"
    assert heldout.recall >= 0.95, heldout.summary()
    assert heldout.precision >= 0.95, heldout.summary()
    tuning = results["tuning"]
    assert tuning.recall >= 0.95, tuning.summary()
    assert tuning.precision >= 0.95, tuning.summary()
