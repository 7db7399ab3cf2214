"""The glossary: every term a student meets is there, once, explained and linked."""

from __future__ import annotations

import re

import pytest

from tbp_core.inspection import explain
from tbp_core.standard import glossary
from tbp_core.standard.glossary import GLOSSARY, GROUPS, STANDARD, TERMS, lookup

#: The words the issue asks the glossary to explain (any spelling :func:`lookup` knows).
REQUIRED = (
    "SOP Class",
    "SOP Instance",
    "IE",
    "module",
    "macro",
    "item",
    "sequence",
    "data element",
    "file meta",
    "file meta information",
    "preamble",
    "DICM",
    "transfer syntax",
    "VR",
    "VM",
    "Type",
    "private creator",
    "private tag",
    "UID",
    "UID root",
    "IOD",
    "attribute",
    "tag",
    "keyword",
    "Specific Character Set",
    "Pixel Data",
    "multi-frame",
)
SECTION = re.compile(r"^PS3\.(2|3|4|5|6|10)( (§[0-9A-C][0-9.]*|Annex [A-C]))?$")


@pytest.mark.parametrize("name", REQUIRED)
def test_every_required_term_is_explained(name: str) -> None:
    term = lookup(name)
    assert term.meaning.count(".") >= 2, term.term  # at least two sentences
    assert len(term.meaning) >= 100, term.term
    assert term.group in GROUPS


def test_lookup_ignores_case_and_knows_aliases() -> None:
    assert lookup("sop class") is lookup("SOP Class UID")
    assert lookup("FILE META") is lookup("File meta information")
    with pytest.raises(KeyError):
        lookup("no such word")


def test_no_duplicates_and_no_empty_entries() -> None:
    names = [t.term.casefold() for t in TERMS]
    assert len(names) == len(set(names))
    spellings = [n.casefold() for t in TERMS for n in (t.term, *t.aliases)]
    assert len(spellings) == len(set(spellings)), "an alias names two terms"
    assert all(t.term.strip() and t.meaning.strip() for t in TERMS)
    meanings = [t.meaning for t in TERMS]
    assert len(meanings) == len(set(meanings))


def test_links_point_into_the_standard_and_are_cited() -> None:
    for term in TERMS:
        if not term.see:
            continue
        assert term.see.startswith(f"{STANDARD}/part"), term.term
        assert term.see.endswith(".html"), term.term
        assert SECTION.match(term.section), (term.term, term.section)
        part = int(term.see.split("/part")[1][:2])
        assert term.section.startswith(f"PS3.{part}"), (term.term, term.section, term.see)
    assert sum(bool(t.see) for t in TERMS) >= 20


def test_glossary_mapping_follows_terms_and_explain_reexports_it() -> None:
    assert list(GLOSSARY) == [t.term for t in TERMS]
    assert explain.GLOSSARY is glossary.GLOSSARY
    assert [t.group for t in TERMS] == sorted((t.group for t in TERMS), key=GROUPS.index)
