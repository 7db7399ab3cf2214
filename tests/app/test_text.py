"""ui.text: untrusted strings stay text in Markdown and HTML; ui.wording: browser advice."""

from __future__ import annotations

import re

import pytest

from ui.text import code, html_literal, literal, visible
from ui.wording import browser_words

#: CommonMark: a backslash before ASCII punctuation shows the character itself.
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
#: What may start markup (CommonMark, GFM, Streamlit directives, LaTeX) inline.
_MARKUP = set("\\`*_{}[]<>#|~$&:@!+=")
#: What starts a block at a line's start.
_BLOCK = re.compile(r"^\s*([-+=*>#]|\d+[.)](\s|$))", re.MULTILINE)

TEXTS = [
    "**bold** [x](http://e.invalid/) <img src=http://e.invalid/a.png>",
    "![beacon](http://e.invalid/a.png)",
    "<script>alert(1)</script>",
    "&lt;img src=x&gt;",
    "http://e.invalid/ and www.e.invalid and me@e.invalid",
    "# heading\n- item\n1. first\n> quote\n---\n+ plus\n===",
    "a | b | c",
    "`code` _under_ ~strike~ $x^2$",
    ":red[coloured] :material/home: :smile:",
    "C:\\dir\\file.dcm & more",
    "1.2.840.10008.5.1.4.1.1.7 (0010,0010) Patient's Name",
]


def _unescaped(markdown: str) -> str:
    """What is left as markup once every backslash escape is taken out."""
    return _ESCAPE.sub("", markdown)


@pytest.mark.parametrize("text", TEXTS)
def test_no_markup_character_is_left_unescaped(text: str) -> None:
    markdown = literal(text)
    rest = _unescaped(markdown)
    assert not _MARKUP & set(rest), (text, markdown)
    assert not re.search(r"(?i)www\.", rest), markdown
    for line in _ESCAPE.sub("x", markdown).splitlines():
        assert not _BLOCK.match(line) or line.lstrip()[0] == "x", (text, markdown)


@pytest.mark.parametrize("text", TEXTS)
def test_the_text_reads_as_written(text: str) -> None:
    # the word joiner (U+2060) that keeps autolinks text is invisible and has no width
    assert _ESCAPE.sub(r"\1", literal(text)).replace("\u2060", "") == text


@pytest.mark.parametrize(
    "text", ["http://e.invalid/", "see https://e.invalid/a.png", "me@e.invalid"]
)
def test_autolink_literals_are_broken(text: str) -> None:
    """GFM links bare URLs and e-mail addresses after escapes are resolved: none survive."""
    shown = _ESCAPE.sub(r"\1", literal(text))
    assert "://" not in shown and not re.search(r"@[^\u2060]", shown), shown


def test_uids_and_tags_stay_readable_in_the_markdown_itself() -> None:
    assert literal("1.2.840.10008.5.1.4.1.1.7") == "1.2.840.10008.5.1.4.1.1.7"
    assert literal("(0010,0010)") == "(0010,0010)"


def test_invisible_controls_are_shown_by_code_point() -> None:
    assert visible("a\u202egpj.exe\x07") == "a<U+202E>gpj.exe<U+0007>"
    assert visible("two\nlines\tand tab") == "two\nlines\tand tab"
    assert "\u202e" not in literal("x\u202ey")


def test_html_literal_escapes_markup_and_quotes() -> None:
    assert html_literal('<img src="x">') == "&lt;img src=&quot;x&quot;&gt;"


def test_cli_advice_becomes_browser_advice() -> None:
    message = (
        "a Dermoscopic Photography Image needs the dermatoscope's Enhanced General "
        "Equipment values, missing: Manufacturer, ManufacturerModelName — add them to the "
        "template or pass --set Manufacturer=... --set ManufacturerModelName=..."
    )
    words = browser_words(message)
    assert "--set" not in words
    assert words.endswith(
        "fill in Manufacturer, Manufacturer's Model Name on the Metadata page "
        "(Equipment section), or load a template that has them"
    )
    assert browser_words("only 8 bits — use --iod secondary-capture to keep all 16 bits") == (
        "only 8 bits — choose Secondary Capture Image on the Upload page to keep all 16 bits"
    )
    assert browser_words("nothing to change") == "nothing to change"


def test_code_spans_cannot_be_closed_from_inside() -> None:
    assert code("PatientName") == "`PatientName`"
    assert code("a`b") == "``a`b``"
    assert code("`start") == "`` `start ``"
    assert code("a|b") == "`a\\|b`"  # a table cell is not split
    assert code("") == ""
