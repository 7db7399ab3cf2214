"""Safe basenames for ZIP members and downloads: no directories, controls or bidi overrides."""

from __future__ import annotations

import pytest

from tbp_core.session.names import MAX_NAME_BYTES, safe_basename, unique_name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("back.dcm", "back.dcm"),
        ("../../etc/passwd", "passwd"),
        ("/abs/path/x.dcm", "x.dcm"),
        ("C:\\Users\\me\\x.dcm", "x.dcm"),
        ("..\\..\\win.ini", "win.ini"),
        ("a\u202egpj.exe", "a_gpj.exe"),  # RIGHT-TO-LEFT OVERRIDE
        ("tab\there\nnew.dcm", "tab_here_new.dcm"),
        ("zero\u200bwidth.dcm", "zero_width.dcm"),
        ('c:o*n?"<x>|.dcm', "c_o_n___x__.dcm"),
        ("..", "file"),
        ("", "file"),
        ("/", "file"),
        ("  .hidden.dcm. ", "hidden.dcm"),
        ("Müller_ß.dcm", "Müller_ß.dcm"),
    ],
)
def test_safe_basename(name: str, expected: str) -> None:
    assert safe_basename(name) == expected


def test_a_long_name_keeps_its_suffix_within_the_limit() -> None:
    name = safe_basename("é" * 300 + ".dcm")
    assert name.endswith(".dcm")
    assert len(name.encode("utf-8")) <= MAX_NAME_BYTES


def test_unique_name_numbers_repeats_without_regard_to_case() -> None:
    used: set[str] = set()
    names = [unique_name(n, used) for n in ("a.dcm", "A.dcm", "a.dcm", "b")]
    assert names == ["a.dcm", "A_2.dcm", "a_3.dcm", "b"]
