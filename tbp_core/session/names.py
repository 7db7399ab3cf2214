r"""Safe file names for what the app writes: ZIP members and download names.

A name that comes from an upload (or from a file's own values) is untrusted:
it may hold directories (``../``, ``C:\``, ``/etc/``), control characters, or
Unicode bidirectional controls such as RIGHT-TO-LEFT OVERRIDE (U+202E) that make
``gpj.exe`` read as ``exe.jpg``. :func:`safe_basename` keeps only the last
path component and replaces every character that is not safe in a file name.
"""

from __future__ import annotations

import unicodedata

#: Characters replaced although printable: separators and those Windows refuses.
_UNSAFE = frozenset('/\\:*?"<>|')

#: Longest name kept (bytes of UTF-8 are what file systems limit; 255 is common).
MAX_NAME_BYTES = 200


def _safe_char(char: str) -> bool:
    if char in _UNSAFE:
        return False
    # Cc control, Cf format (bidi overrides, zero-width), Cs surrogates, Co private,
    # Cn unassigned, Zl/Zp line and paragraph separators.
    return unicodedata.category(char) not in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def safe_basename(name: str, fallback: str = "file") -> str:
    r"""A file name without directories, control or bidi characters.

    Parameters
    ----------
    name : str
        An untrusted name, possibly a path (``"../../x.dcm"``, ``"C:\a\b.dcm"``).
    fallback : str
        Used when nothing safe is left (``""``, ``".."``, ``"/"``).

    Returns
    -------
    str
        The last path component (``/`` and ``\`` both separate), with unsafe
        characters replaced by ``_``, leading dots and spaces and trailing
        dots and spaces removed, at most :data:`MAX_NAME_BYTES` bytes of UTF-8
        with the suffix kept.
    """
    last = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(c if _safe_char(c) else "_" for c in last)
    cleaned = cleaned.strip(" .")
    if not cleaned.strip("_"):
        return fallback
    return _shortened(cleaned)


def _shortened(name: str) -> str:
    if len(name.encode("utf-8")) <= MAX_NAME_BYTES:
        return name
    stem, dot, suffix = name.rpartition(".")
    if not dot or len(suffix) > 16:
        stem, suffix = name, ""
    tail = f".{suffix}" if suffix else ""
    budget = MAX_NAME_BYTES - len(tail.encode("utf-8"))
    kept = stem.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    return kept + tail


def unique_name(name: str, used: set[str]) -> str:
    """``name``, or ``stem_2.suffix``, ``stem_3.suffix``... when it is in ``used``.

    Compared without case, as on Windows and macOS file systems; the chosen
    name is added to ``used`` (lower case).

    Parameters
    ----------
    name : str
        A safe name (see :func:`safe_basename`).
    used : set of str
        Names already taken, lower case; updated.
    """
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem:
        stem, suffix = name, ""
    tail = f".{suffix}" if suffix else ""
    chosen, counter = name, 2
    while chosen.lower() in used:
        chosen = f"{stem}_{counter}{tail}"
        counter += 1
    used.add(chosen.lower())
    return chosen
