"""The glossary is in the sidebar of every page, the same everywhere, and can be filtered."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tbp_core.standard.glossary import TERMS
from tests.app.shown import shown
from tests.conftest import ROOT
from ui.glossary import FIND_KEY, LABEL
from ui.layout import PAGE_TITLES


def _app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    return at


def _glossary_text(at: AppTest) -> str:
    expanders = [e for e in at.sidebar.expander if e.label == LABEL]
    assert len(expanders) == 1, [e.label for e in at.sidebar.expander]
    return shown("\n".join(str(block.value) for block in expanders[0].markdown))


@pytest.mark.parametrize("samples", [False, True], ids=["empty", "samples"])
def test_every_page_has_the_whole_glossary(samples: bool) -> None:
    at = _app()
    if samples:
        at.button(key="upload_samples").click().run()
        assert not at.exception, at.exception
    assert len(PAGE_TITLES) == 8
    for page, title in PAGE_TITLES.items():
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        assert [t.value for t in at.title][:1] == [title], page
        text = _glossary_text(at)
        for term in TERMS:
            assert f"**{term.term}** — {term.meaning}" in text, (page, term.term)
            if term.see:
                assert f"]({term.see})" in text, (page, term.term)


def test_the_glossary_filters_by_term_alias_or_word() -> None:
    at = _app()
    at.sidebar.text_input(key=FIND_KEY).input("file meta").run()
    assert not at.exception, at.exception
    text = _glossary_text(at)
    assert "**File meta information**" in text and "**VR**" not in text
    at.sidebar.text_input(key=FIND_KEY).input("DICM").run()
    assert "**Preamble and DICM**" in _glossary_text(at)
    at.sidebar.text_input(key=FIND_KEY).input("no such word at all").run()
    assert not at.exception, at.exception
    assert any("No term contains" in c.value for c in at.sidebar.caption)
