"""A CLI as quick as its job: each command imports only what it needs (issue 10)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import tbp_core
from tests.conftest import DATA

CT = str(DATA / "dicom" / "CT_small.dcm")
PNG = str(DATA / "png" / "basn2c08.png")
# PIL is not listed: pydicom itself imports it (its pixel plugins), so it is in the baseline.
HEAVY = ("pandas", "plotly", "highdicom", "imagecodecs", "streamlit")

_PROBE = """
import contextlib, io, json, sys
from tbp_core.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        status = main(sys.argv[1:])
    except SystemExit as stop:
        status = stop.code
print(json.dumps({
    "status": status,
    "modules": sorted({name.split(".")[0] for name in sys.modules}),
    "highdicom_tables_read": (
        sys.modules["tbp_core.standard.tables"]._load_table.cache_info().currsize
        if "tbp_core.standard.tables" in sys.modules else 0
    ),
}))
"""


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (["dump", CT], 0),
        (["dump", CT, "--format", "json"], 0),
        (["validate", CT], 0),
        (["structure", CT], 0),
        (["index", str(DATA / "dicom")], 0),
        (["--help"], 0),
    ],
)
def test_inspection_commands_import_no_heavy_package(args: list[str], status: int) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["status"] == status
    assert not set(HEAVY) & set(report["modules"]), args
    assert report["highdicom_tables_read"] == 0
    if args == ["--help"]:
        assert "pydicom" not in report["modules"]


def test_convert_help_imports_neither_pydicom_nor_numpy() -> None:
    # The parser of convert lists IODs, transfer syntaxes and limits from light
    # modules, so ``convert`` can read its image while pydicom is imported.
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, "convert", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["status"] == 0
    assert not {"pydicom", "numpy", "PIL", "imagecodecs", *HEAVY} & set(report["modules"])


_READ_AHEAD_PROBE = """
import json, sys
from tbp_core.fileio import readahead
from tbp_core.cli import main

seen = []
start = readahead.ReadAhead.__init__

def recording(self, path):
    seen.append(sorted({"pydicom", "numpy"} & set(sys.modules)))
    start(self, path)

readahead.ReadAhead.__init__ = recording
status = main(sys.argv[1:])
print(json.dumps({"status": status, "loaded_when_reading_started": seen}))
"""


def test_convert_reads_its_image_before_pydicom_and_numpy_are_imported(tmp_path: Path) -> None:
    target = tmp_path / "out.dcm"
    done = subprocess.run(
        [sys.executable, "-c", _READ_AHEAD_PROBE, "convert", PNG, "-o", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    assert report == {"status": 0, "loaded_when_reading_started": [[]]}
    assert target.read_bytes()[128:132] == b"DICM"


def test_import_tbp_core_is_cheap_and_the_public_api_resolves() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import sys, tbp_core; print(sorted(sys.modules))"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    loaded = eval(done.stdout)  # a list literal printed by the child
    assert not [name for name in loaded if name.startswith(("pydicom", "numpy", "tbp_core."))]
    for name in tbp_core.__all__:
        assert getattr(tbp_core, name) is not None, name
    assert sorted(tbp_core.__all__) == sorted(["__version__", *tbp_core._EXPORTS])
    with pytest.raises(AttributeError):
        tbp_core.no_such_name  # noqa: B018
