"""The core's messages in a browser user's words.

The core (:mod:`tbp_core`) serves the command line too, so some of its advice
names CLI options (``pass --set Manufacturer=...``, ``use --iod
secondary-capture``). :func:`browser_words` rewrites that advice into what to
do in the app; the rest of the message is kept as it is.
"""

from __future__ import annotations

import re

from pydicom.datadict import dictionary_description, tag_for_keyword

_SETS = re.compile(r"(?:add them to the template or )?pass ((?:--set [A-Za-z0-9]+=\.\.\.\s*)+)")
_IOD = re.compile(r"use --iod secondary-capture")
_OR_SET = re.compile(r"remove it from the template or --set\b")
_SET_ANY = re.compile(r"--set ([A-Za-z0-9]+)=\S*")


def attribute_name(keyword: str) -> str:
    """The dictionary name of a keyword (``Manufacturer's Model Name``), else the keyword."""
    tag = tag_for_keyword(keyword)
    return dictionary_description(tag) if tag is not None else keyword


def _fill_in(match: re.Match[str]) -> str:
    keywords = re.findall(r"--set ([A-Za-z0-9]+)=", match.group(1))
    names = ", ".join(attribute_name(k) for k in keywords)
    return (
        f"fill in {names} on the Metadata page (Equipment section), "
        "or load a template that has them"
    ).rstrip()


def browser_words(message: str) -> str:
    """``message`` with command-line advice replaced by what to do in the app.

    Parameters
    ----------
    message : str
        A message of the core (a :class:`~tbp_core.errors.TbpError`'s text).

    Returns
    -------
    str
        The same message; ``pass --set K=...`` becomes "fill in <names> on the
        Metadata page", ``use --iod secondary-capture`` becomes "choose
        Secondary Capture Image on the Upload page", any other ``--set K=V``
        names the attribute to change on the Metadata page.
    """
    text = _SETS.sub(_fill_in, message)
    text = _IOD.sub("choose Secondary Capture Image on the Upload page", text)
    text = _OR_SET.sub("remove it on the Metadata page", text)
    return _SET_ANY.sub(lambda m: f"{attribute_name(m.group(1))} on the Metadata page", text)
