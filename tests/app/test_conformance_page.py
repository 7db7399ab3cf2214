"""The Conformance page: every IOD the converter writes, and downloads equal to the CLI's."""

from __future__ import annotations

import json
from pathlib import PurePosixPath

import pytest
from streamlit.testing.v1 import AppTest

from tbp_core.building.conformance import (
    conformance,
    conformance_json,
    render_conformance_text,
)
from tests.app.downloads import Served
from tests.app.shown import shown
from tests.conftest import ROOT
from ui.layout import CONFORMANCE_PAGE


@pytest.fixture
def page(served: Served) -> AppTest:
    """The Conformance page, its downloads recorded in ``served``."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    at.switch_page(CONFORMANCE_PAGE).run()
    assert not at.exception, at.exception
    return at


def _downloaded(at: AppTest, served: Served, label: str) -> tuple[str, str | None]:
    button = next(b for b in at.download_button if b.label == label)
    data, name = served[PurePosixPath(button.proto.url).stem]
    return data.decode("utf-8"), name


def test_every_iod_with_its_modules_and_attributes(page: AppTest) -> None:
    statement = conformance()
    assert page.title[0].value == "Conformance"
    assert [s.value for s in page.subheader] == [iod.title for iod in statement.iods]
    assert [t.label for t in page.tabs] == [
        *(iod.title for iod in statement.iods),
        "Transfer syntaxes",
        "Private block",
    ]
    for tab, iod in zip(page.tabs, statement.iods, strict=False):
        assert any(iod.sop_class_uid in c.value for c in tab.caption), iod.name
        assert len(tab.expander) == len(iod.modules), iod.name
        for module, expander in zip(iod.modules, tab.expander, strict=True):
            assert shown(expander.label).startswith(
                f"**{module.title}** · {module.information_entity}"
            )
            text = shown("\n".join(str(m.value) for m in expander.markdown))
            for a in module.attributes:
                row = f"| `{a.keyword}` | {a.tag} | {', '.join(a.sources)} |"
                assert row in text, (iod.name, a.keyword)


def test_transfer_syntaxes_and_the_private_block(page: AppTest) -> None:
    statement = conformance()
    syntaxes = shown("\n".join(str(m.value) for m in page.tabs[-2].markdown))
    for name, uid, description in statement.transfer_syntaxes:
        assert f"| `{name}` | {uid} | {description} |" in syntaxes
    block = shown("\n".join(str(m.value) for m in page.tabs[-1].markdown))
    assert f"Private creator `{statement.private_creator}` at (0011,0010)" in block
    for a in statement.private_attributes:
        assert f"| (0011,10{a.offset:02X}) | {a.vr} | {a.vm} | `{a.key}` | {a.name} |" in block


def test_downloads_are_the_cli_output(page: AppTest, served: Served) -> None:
    statement = conformance()
    as_json, json_name = _downloaded(page, served, "Download as JSON")
    assert json_name == "tbp-dicom-conformance.json"
    assert json.loads(as_json) == conformance_json(statement)
    as_text, text_name = _downloaded(page, served, "Download as text")
    assert text_name == "tbp-dicom-conformance.txt"
    assert as_text == render_conformance_text(statement) + "\n"
