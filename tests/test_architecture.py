"""House rules that code review alone would miss."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.conftest import ROOT


def test_tbp_core_source_never_imports_streamlit() -> None:
    offenders = []
    sources = sorted((ROOT / "tbp_core").rglob("*.py"))
    assert len(sources) >= 30  # the sweep is not empty
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "streamlit"]
    assert offenders == []


def test_importing_every_core_module_loads_no_streamlit() -> None:
    modules = [
        "tbp_core." + ".".join(p.relative_to(ROOT / "tbp_core").with_suffix("").parts)
        for p in (ROOT / "tbp_core").rglob("*.py")
        if p.name != "__init__.py"
    ]
    assert len(modules) >= 25
    code = "import importlib, sys\n" + "".join(f"importlib.import_module({m!r})\n" for m in modules)
    code += "assert 'streamlit' not in sys.modules, 'streamlit was imported'\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr


def test_pydicom_global_config_is_not_changed_by_the_core() -> None:
    sources = sorted((ROOT / "tbp_core").rglob("*.py"))
    assert len(sources) >= 30  # the sweep is not empty
    for path in sources:
        text = path.read_text(encoding="utf-8")
        assert "config.settings." not in text.replace("validation_mode=config.", ""), path.name
        assert "config.enforce_valid_values" not in text, path.name
