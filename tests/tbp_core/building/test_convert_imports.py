"""Converting imports neither pandas nor plotly (issue 13): the memory budget by construction."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest

from tests.conftest import DATA, ROOT

# Runs ``python -m tbp_core`` in this process, then reports what was imported.
_WRAPPER = """
import json, runpy, sys
sys.argv = ["tbp_core", *sys.argv[1:]]
try:
    runpy.run_module("tbp_core", run_name="__main__")
except SystemExit as stop:
    status = stop.code
print(json.dumps({"status": status, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def _convert_modules(tmp_path: Path, *extra: str) -> set[str]:
    source = DATA / "png" / "basn2c08.png"
    target = tmp_path / "out.dcm"
    done = subprocess.run(
        [sys.executable, "-c", _WRAPPER, "convert", str(source), "-o", str(target), *extra],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["status"] == 0, done.stderr
    assert pydicom.dcmread(target).Rows == 32
    return set(report["modules"])


@pytest.mark.parametrize("extra", [(), ("--transfer-syntax", "jpeg2000")])
def test_convert_imports_neither_pandas_nor_plotly(tmp_path: Path, extra: tuple[str, ...]) -> None:
    modules = _convert_modules(tmp_path, *extra)
    assert "tbp_core.building.convert" in modules  # the probe did run a conversion
    heavy = sorted(m for m in modules if m.split(".")[0] in ("pandas", "plotly"))
    assert heavy == []


def test_convert_without_codes_skips_pydicoms_code_tables(tmp_path: Path) -> None:
    modules = _convert_modules(tmp_path)
    assert "pydicom.sr.codedict" not in modules
    assert "tbp_core.standard.anatomy" not in modules
