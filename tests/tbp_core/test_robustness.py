"""Robustness sweep: every DICOM file we have is dumped, tabled, explained and validated.

Runs over ``tests/data/dicom`` always and over ``../shared/corpus/dicom`` when it
is present. Each file either goes through every inspection step or ends with a
one-line :class:`DicomReadError`; anything else escaping is a bug.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from tbp_core import cli
from tbp_core.errors import DicomReadError
from tbp_core.fileio import dicomio
from tbp_core.inspection import dump, explain, tags
from tbp_core.validation.validate import validate

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "dicom"
CORPUS = ROOT.parent / "shared" / "corpus" / "dicom"


def _files() -> list[Path]:
    folders = [DATA] + ([CORPUS] if CORPUS.is_dir() else [])
    return [p for folder in folders for p in sorted(folder.iterdir()) if p.is_file()]


def _inspect(path: Path) -> str:
    """Run every inspection step; return 'ok', 'partial' or 'unreadable'."""
    try:
        result = dicomio.read_with_report(path)
    except DicomReadError as exc:
        assert "\n" not in str(exc) and path.name in str(exc)
        return "unreadable"
    ds = result.dataset
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = dump.build_tree(ds)
        assert dump.render_text(tree, title=path.name)
        json.dumps(dump.to_json(tree))
        dump.search(tree, "PatientName")
        table = tags.to_table(ds)
        assert len(table) >= len(ds) - 1
        explain.build_structure(ds)
        validate(ds)
    return "partial" if result.stopped_at is not None else "ok"


def test_every_file_is_inspected_or_refused_in_one_line() -> None:
    outcomes: dict[str, list[str]] = {"ok": [], "partial": [], "unreadable": []}
    for path in _files():
        outcomes[_inspect(path)].append(path.name)
    print(
        f"robustness sweep: {sum(map(len, outcomes.values()))} files — "
        f"{len(outcomes['ok'])} whole, {len(outcomes['partial'])} partial "
        f"({', '.join(outcomes['partial'])}), {len(outcomes['unreadable'])} unreadable "
        f"({', '.join(outcomes['unreadable'])})"
    )
    assert outcomes["ok"]


def test_cli_dump_exits_0_or_2_for_every_file(capsys: pytest.CaptureFixture[str]) -> None:
    codes: dict[int, int] = {}
    for path in _files():
        code = cli.main(["dump", str(path), "--format", "json"])
        out, err = capsys.readouterr()
        assert code in (0, 2), path.name
        codes[code] = codes.get(code, 0) + 1
        if code == 0:
            assert json.loads(out)["dataset"] is not None
        else:
            assert err.count("\n") == 1 and path.name in err, err
    print(f"cli dump: {codes}")


def _truncated_copy(tmp_path: Path) -> Path:
    whole = (DATA / "CT_small.dcm").read_bytes()
    target = tmp_path / "CT_truncated.dcm"
    target.write_bytes(whole[: len(whole) - 3000])
    return target


def test_cli_dump_of_a_truncated_file_warns_where_it_stopped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = _truncated_copy(tmp_path)
    assert cli.main(["dump", str(target)]) == 0
    out, err = capsys.readouterr()
    assert "PatientName" in out or "Patient's Name" in out
    assert "warning" in err and "stopped at byte" in err


@pytest.mark.parametrize("command", ["dump", "validate", "edit"])
def test_damaged_input_never_prints_a_traceback(command: str, tmp_path: Path) -> None:
    damaged = tmp_path / "garbage.dcm"
    damaged.write_bytes(b"DICM" * 10 + bytes(range(256)) * 3)
    extra = ["-o", str(tmp_path / "out.dcm"), "--set", "PatientID=1"] if command == "edit" else []
    run = subprocess.run(
        [sys.executable, "-m", "tbp_core.cli", command, str(damaged), *extra],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert run.stderr.count("\n") == 1 and "garbage.dcm" in run.stderr
    assert not (tmp_path / "out.dcm").exists()
