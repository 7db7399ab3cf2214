r"""Untrusted text stays text: the one place that escapes strings for Markdown and HTML.

Streamlit renders Markdown in ``st.markdown``, ``st.caption``, ``st.title``,
``st.subheader``, the bodies of ``st.info``/``st.warning``/``st.error``/``st.success``,
expander and widget labels. A value from a file (a name, a UID, a finding that
quotes a value) could otherwise show bold text, links, or an ``<img>`` that
makes the browser fetch a remote address. Every file-derived string goes
through :func:`literal` before it joins Markdown, or :func:`html_literal`
before it joins HTML given to ``st.html``.

:func:`literal` puts a backslash before every character that can start
Markdown, HTML or Streamlit markup inline — ``\ ` * _ { } [ ] < > # | ~ $ & : @ !
+ =`` — (CommonMark shows an escaped punctuation character as itself), and before
what starts a block at a line's start (``-``, ``1. ``) or a ``www.`` autolink, so
no emphasis, link, autolink, image, table cell break, HTML tag, entity,
Streamlit colour directive (``:red[...]``), icon, emoji or LaTeX (``$``) can
start. Dots, dashes, commas and parentheses elsewhere stay as they are, so UIDs,
tags such as ``(0010,0010)`` and dates read normally. Characters that would
change how the text reads without being seen — control characters and Unicode
bidirectional controls such as RIGHT-TO-LEFT OVERRIDE (U+202E) — are shown by
their code point instead.
"""

from __future__ import annotations

import html
import re
import unicodedata

#: Characters that can start Markdown, HTML or Streamlit markup anywhere in a line.
_INLINE = frozenset("\\`*_{}[]<>#|~$&:@!+=")

#: A block marker at a line's start: a list bullet, an ordered list number, a heading rule.
_LINE_START = re.compile(r"^(\s*)([-+=]|\d+[.)](?=\s|$))", re.MULTILINE)

#: The start of a GFM "www." autolink.
_WWW = re.compile(r"(?i)\b(www)\.")

#: What GFM turns into a link on its own, even when escaped: the ':' of '://', and '@'.
_AUTOLINK = re.compile(r"\\:(?=//)|\\@")
_WORD_JOINER = "\u2060"

#: Whitespace kept as it is (other control characters are shown by code point).
_KEPT_CONTROLS = frozenset("\n\t")


def _invisible(char: str) -> bool:
    """Control, format (bidi, zero-width) and line/paragraph separator characters."""
    if char in _KEPT_CONTROLS:
        return False
    return unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp"}


def visible(text: str) -> str:
    """``text`` with invisible controls written as ``<U+202E>``; nothing else changes.

    Parameters
    ----------
    text : str
        Any text.
    """
    return "".join(f"<U+{ord(c):04X}>" if _invisible(c) else c for c in text)


def literal(text: object) -> str:
    r"""``text`` for Markdown, shown exactly as written.

    Parameters
    ----------
    text : object
        Any value; ``str()`` is taken first (``None`` gives ``"None"``).

    Returns
    -------
    str
        Markup characters preceded by a backslash (see the module); invisible
        controls written as ``<U+XXXX>`` (escaped alike); line breaks kept.

    Examples
    --------
    >>> literal("**bold** [x](http://e.invalid/)")
    '\\*\\*bold\\*\\* \\[x\\](http\\:\u2060//e.invalid/)'
    """
    shown = "".join(f"\\{c}" if c in _INLINE else c for c in visible(str(text)))
    shown = _LINE_START.sub(lambda m: f"{m.group(1)}{m.group(2)[:-1]}\\{m.group(2)[-1]}", shown)
    shown = _WWW.sub(r"\1\\.", shown)
    # GFM's autolink literals (http://…, user@host) are found after escapes are
    # resolved: a word joiner (U+2060, invisible, no width) after the ':' of '://'
    # and after '@' keeps them text.
    return _AUTOLINK.sub(lambda m: m.group(0) + _WORD_JOINER, shown)


def html_literal(text: object) -> str:
    """``text`` for HTML (``st.html``), shown exactly as written.

    Parameters
    ----------
    text : object
        Any value; ``str()`` is taken first.

    Returns
    -------
    str
        ``& < > " '`` as character references; invisible controls as ``<U+XXXX>``
        (escaped alike).
    """
    return html.escape(visible(str(text)), quote=True)


def code(text: object) -> str:
    """``text`` as a Markdown code span (shown as written, in monospace), safe in a table.

    Parameters
    ----------
    text : object
        Any value; ``str()`` is taken first.

    Returns
    -------
    str
        Fenced by one backtick more than the longest run of backticks inside, with
        spaces added when it starts or ends with a backtick, and ``|`` escaped (GFM
        splits table cells at a bare ``|`` even inside a code span).
    """
    inner = visible(str(text)).replace("|", "\\|").replace("\n", " ")
    runs = [len(run) for run in re.findall(r"`+", inner)]
    fence = "`" * (max(runs, default=0) + 1)
    if inner.startswith("`") or inner.endswith("`"):
        inner = f" {inner} "
    return f"{fence}{inner}{fence}" if inner else ""


def quoted(text: object) -> str:
    """``text`` between typographic quotes, for Markdown: ``‘name’``.

    Parameters
    ----------
    text : object
        Any value.
    """
    return f"‘{literal(text)}’"
