"""notebooks/dicom-structure.ipynb runs from top to bottom and shows what its text promises.

The notebook is executed with nbclient in a kernel started from this test's own
Python (the project's .venv under ``make test``): a kernelspec written to a
temporary folder names ``sys.executable``, so no kernel installed elsewhere on
the machine is picked up. The checks read the real outputs of tagged cells.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

from tests.conftest import ROOT

NOTEBOOK = ROOT / "notebooks" / "dicom-structure.ipynb"
KERNEL = "tbp-dicom-test"
#: Seconds one cell may take (converting the 1024x768 sample takes about one).
CELL_TIMEOUT = 180


def _snapshot(*folders: Path) -> dict[str, int]:
    """Every file under ``folders`` with its modification time."""
    return {str(p): p.stat().st_mtime_ns for f in folders for p in f.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The notebook run once; tagged cells by tag, plus the kernel's Python."""
    home = tmp_path_factory.mktemp("jupyter")
    spec = home / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": KERNEL, "language": "python"})
    )
    manager = AsyncKernelManager(
        kernel_name=KERNEL, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(spec.parent)])
    )
    nb = nbformat.read(NOTEBOOK, as_version=4)
    probe = nbformat.v4.new_code_cell("import sys; print(sys.executable)")
    nb.cells.append(probe)  # in memory only: the stored notebook is not changed
    before = _snapshot(ROOT / "notebooks", ROOT / "sample_data")
    with pytest.MonkeyPatch.context() as env:  # connection file and IPython history: in tmp
        env.setenv("JUPYTER_RUNTIME_DIR", str(home / "runtime"))
        env.setenv("IPYTHONDIR", str(home / "ipython"))
        NotebookClient(
            nb,
            km=manager,
            timeout=CELL_TIMEOUT,
            resources={"metadata": {"path": str(NOTEBOOK.parent)}},  # as Jupyter runs it
        ).execute()
    after = _snapshot(ROOT / "notebooks", ROOT / "sample_data")
    tagged = {tag: cell for cell in nb.cells for tag in cell.metadata.get("tags", [])}
    return {"cells": tagged, "python": _stdout(nb.cells[-1]).strip(), "wrote": after != before}


def _stdout(cell: Any) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def _html(cell: Any) -> str:
    results = [o for o in cell.outputs if o.output_type in ("execute_result", "display_data")]
    return "".join(o.data.get("text/html", "") for o in results)


def test_the_stored_notebook_has_no_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert len(code) >= 10
    assert all(not cell.outputs and cell.execution_count is None for cell in code)


def test_the_kernel_is_this_python_and_nothing_is_written(executed: dict[str, Any]) -> None:
    assert executed["python"] == sys.executable
    assert not executed["wrote"]  # beside the notebook or in the samples


def test_dump_and_structure_render_as_rich_html(executed: dict[str, Any]) -> None:
    dump = _html(executed["cells"]["dump"])
    assert "<table" in dump and "PatientName" in dump and "Doe^Jane" in dump
    assert "VL Photographic Image Storage" in dump
    structure = _html(executed["cells"]["structure"])
    assert "IOD: VL Photographic Image" in structure
    assert "General Series" in structure and "missing" not in structure.split("</summary>")[0]


def test_the_converted_file_validates_without_errors(executed: dict[str, Any]) -> None:
    cell = executed["cells"]["validate-converted"]
    assert _stdout(cell).startswith("0 errors")
    assert ">valid<" in _html(cell)


def test_breaking_it_gives_the_three_expected_errors(executed: dict[str, Any]) -> None:
    cell = executed["cells"]["validate-broken"]
    lines = _stdout(cell).splitlines()
    assert lines[0] == "3 errors"
    assert sorted(lines[1:]) == [
        "- enumerated-value: PatientSex",
        "- invalid-vr-value: StudyID",
        "- type1-missing: Modality",
    ]
    report = _html(cell)
    assert ">not valid<" in report and "3 errors" in report
    assert "use one of: M, F, O" in report and "maximum length of 16" in report
    module = _html(executed["cells"]["structure-broken"])
    assert " open=" in module and ">missing<" in module and "Modality" in module


def test_fixing_it_gives_no_errors_again(executed: dict[str, Any]) -> None:
    cell = executed["cells"]["validate-fixed"]
    assert _stdout(cell).startswith("0 errors")
    assert ">valid<" in _html(cell)
    listing = _html(executed["cells"]["index"])
    assert "1 instance, 0 unreadable" in listing
    assert "regional_back.dcm" in listing and "TBP-S0001" in listing and ">XC<" in listing
