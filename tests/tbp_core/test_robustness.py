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


#: Corpus files read only in part (each damaged or truncated), and the one that is no DICOM.
CORPUS_PARTIAL = {
    "fodicom__GH1339.dcm",
    "fodicom__GH177_D_CLUNIE_CT1_IVRLE_BigEndian_undefined_length.dcm",
    "pydicom__MR_truncated.dcm",
    "pydicom__rtplan_truncated.dcm",
}
CORPUS_NOT_DICOM = {"SOURCES.md"}
#: Of those, the one whose data set is lost entirely: only its file meta is recovered.
CORPUS_NO_DATA_SET = {"fodicom__GH1339.dcm"}


def _files() -> list[Path]:
    folders = [DATA] + ([CORPUS] if CORPUS.is_dir() else [])
    return [p for folder in folders for p in sorted(folder.iterdir()) if p.is_file()]


def _tag_text(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _inspect(path: Path) -> str:
    """Run every inspection step; return 'ok', 'partial' or 'unreadable'."""
    try:
        result = dicomio.read_with_report(path)
    except DicomReadError as exc:
        assert "\n" not in str(exc) and path.name in str(exc)
        return "unreadable"
    ds = result.dataset
    top = [int(tag) for tag in ds.keys()]  # noqa: SIM118 (iterating would read values)
    meta = getattr(ds, "file_meta", None)
    meta_tags = [int(tag) for tag in meta.keys()] if meta is not None else []  # noqa: SIM118
    assert bool(top) != (path.name in CORPUS_NO_DATA_SET), path.name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = dump.build_tree(ds)
        assert [node.tag for node in tree[0]] == sorted(meta_tags), path.name
        assert [node.tag for node in tree[1]] == sorted(top), path.name
        text = dump.render_text(tree, title=path.name)
        assert text.startswith(path.name + "\n") and "# Dataset" in text
        data = json.loads(json.dumps(dump.to_json(tree)))
        assert [e["tag"] for e in data["dataset"]] == [_tag_text(t) for t in sorted(top)]
        hits = [hit.path_text for hit in dump.search(tree, "PatientName")]
        assert ("PatientName" in hits) == (0x00100010 in top), path.name
        table = tags.to_table(ds)
        assert list(table["tag"][: len(meta_tags)]) == [_tag_text(t) for t in meta_tags]
        rows = table.iloc[len(meta_tags) :]
        pairs = zip(rows["tag"], rows["path"], strict=True)
        top_rows = [tag for tag, where in pairs if "[" not in where]
        assert top_rows == [_tag_text(t) for t in top], path.name  # one row per element
        structure = explain.build_structure(ds)
        shown = {a.tag for a in structure.foreign} | {
            a.tag
            for ie in structure.ies
            for module in ie.modules
            for a in module.attributes
            if "." not in a.path and a.status in ("present", "empty")
        }
        assert shown == {_tag_text(t) for t in top}, path.name  # outside IOD + modules
        report = validate(ds)
        assert report.iod == (structure.iod or ""), path.name
        assert not [f for f in report.findings if f.code == "unreadable-value" and not f.tag]
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
    corpus = CORPUS.is_dir()
    assert set(outcomes["partial"]) == (CORPUS_PARTIAL if corpus else set())
    assert set(outcomes["unreadable"]) == (CORPUS_NOT_DICOM if corpus else set())
    whole = set(outcomes["ok"])
    assert {p.name for p in DATA.iterdir()} <= whole  # every test file is read whole
    assert len(whole) >= (130 if corpus else len(list(DATA.iterdir())))


def test_cli_dump_exits_0_or_2_for_every_file(capsys: pytest.CaptureFixture[str]) -> None:
    codes: dict[int, int] = {}
    refused: set[str] = set()
    for path in _files():
        code = cli.main(["dump", str(path), "--format", "json"])
        out, err = capsys.readouterr()
        assert code in (0, 2), path.name
        codes[code] = codes.get(code, 0) + 1
        if code == 0:
            has_elements = bool(json.loads(out)["dataset"])
            assert has_elements != (path.name in CORPUS_NO_DATA_SET), path.name
        else:
            assert err.count("\n") == 1 and path.name in err, err
            refused.add(path.name)
    print(f"cli dump: {codes}")
    assert refused == (CORPUS_NOT_DICOM if CORPUS.is_dir() else set())
    assert codes.get(0, 0) == len(_files()) - len(refused)


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
