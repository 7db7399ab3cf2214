"""What a Markdown body shows: its backslash escapes (ui.text.literal) taken out."""

from __future__ import annotations

import re

#: CommonMark: a backslash before ASCII punctuation shows the character itself.
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def shown(markdown: object) -> str:
    """The text a Markdown body shows, escapes removed (markup characters stay)."""
    return _ESCAPE.sub(r"\1", str(markdown))
