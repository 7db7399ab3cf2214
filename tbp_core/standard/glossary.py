"""The glossary: the DICOM words the app and the CLI use, each explained once.

Every page shows the same glossary (the sidebar's "Glossary", see
``ui/glossary.py``) and help texts point to its terms, so each word is
explained in this one place. A term has a short explanation written for a
student and, where one chapter of the standard is the place to read on, a link
to it (``dicom.nema.org``'s current edition, PS3.3 information objects, PS3.4
services, PS3.5 encoding, PS3.6 data dictionary, PS3.10 files).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "GLOSSARY",
    "GROUPS",
    "STANDARD",
    "TERMS",
    "Term",
    "lookup",
]

#: The current edition of the standard, chapter by chapter (HTML).
STANDARD = "https://dicom.nema.org/medical/dicom/current/output/chtml"


@dataclass(frozen=True)
class Term:
    """One glossary entry.

    Attributes
    ----------
    term : str
        The word as the standard and the app write it, e.g. ``"SOP Class"``.
    meaning : str
        What it means, in two to four sentences.
    group : str
        The heading it is listed under (one of :data:`GROUPS`).
    see : str
        The chapter of the standard to read on (a URL), or ``""``.
    section : str
        How that chapter is cited, e.g. ``"PS3.5 §7.4"``, or ``""``.
    aliases : tuple of str
        Other spellings that find it with :func:`lookup` (``"file meta"``).
    """

    term: str
    meaning: str
    group: str
    see: str = ""
    section: str = ""
    aliases: tuple[str, ...] = ()


#: Headings of the glossary, in the order a student meets them.
MODEL, ENCODING, FILE, MORE = (
    "The information model",
    "Inside the data set",
    "The file",
    "Reports and this app",
)
GROUPS: tuple[str, ...] = (MODEL, ENCODING, FILE, MORE)


def _part(part: int, page: str) -> str:
    return f"{STANDARD}/part{part:02d}/{page}.html"


TERMS: tuple[Term, ...] = (
    # -- The information model ----------------------------------------------------------
    Term(
        "IOD",
        "An Information Object Definition is the blueprint of one kind of DICOM object, "
        "such as a CT Image or a VL Photographic Image. It names the modules the object is "
        "built from, grouped by Information Entity, and says for each module whether it is "
        "mandatory (M), conditional (C) or a user option (U).",
        MODEL,
        _part(3, "chapter_A"),
        "PS3.3 Annex A",
        ("Information Object Definition",),
    ),
    Term(
        "IE",
        "An Information Entity is the real-world thing a group of modules describes: the "
        "patient, the study, the series, the equipment, the frame of reference or the image. "
        "IEs only organise an IOD's tables; nothing in the file marks where one ends.",
        MODEL,
        _part(3, "chapter_7"),
        "PS3.3 §7",
        ("Information Entity",),
    ),
    Term(
        "Module",
        "A module is a named set of attributes that belong together, such as the Patient "
        "module (name, ID, birth date, sex) or the General Series module. Modules are "
        "reused by many IODs; each IOD says how much it needs each one (M, C or U).",
        MODEL,
        _part(3, "chapter_C"),
        "PS3.3 Annex C",
    ),
    Term(
        "Macro",
        "A macro is a reusable table of attributes that the standard writes once and "
        "includes in many modules or sequence items, such as the Code Sequence macro for "
        "coded values. Unlike a module, it is never listed on its own in an IOD.",
        MODEL,
        _part(3, "chapter_10"),
        "PS3.3 §10",
    ),
    Term(
        "Attribute",
        "An attribute is one property of the object, such as Patient's Name or Rows, with "
        "a name, a tag and a keyword. The standard defines attributes in module tables; in "
        "a file each present attribute is stored as one data element.",
        MODEL,
        _part(3, "sect_6.2"),
        "PS3.3 §6.2",
    ),
    Term(
        "Type",
        "The Type says whether an attribute must be there. Type 1: present with a value. "
        "Type 2: present, but it may be empty when the value is unknown. Type 3: optional. "
        "1C and 2C are Type 1 and 2 when their condition holds; otherwise the condition "
        "says whether the attribute may be present.",
        MODEL,
        _part(5, "sect_7.4"),
        "PS3.5 §7.4",
    ),
    Term(
        "SOP Class",
        "A Service-Object Pair Class joins an IOD with a service, such as storing it: "
        "'VL Photographic Image Storage' is the VL Photographic Image IOD sent with the "
        "Storage service. Its UID, the SOP Class UID (0008,0016), tells every reader which "
        "IOD the file claims to follow.",
        MODEL,
        _part(4, "sect_B.5"),
        "PS3.4 §B.5",
        ("SOP Class UID",),
    ),
    Term(
        "SOP Instance",
        "A SOP Instance is one concrete object of a SOP Class: this photograph, that CT "
        "slice. Its SOP Instance UID (0008,0018) identifies it worldwide, so each new "
        "object, including every edited copy, gets a fresh one.",
        MODEL,
        _part(3, "sect_C.12"),
        "PS3.3 §C.12.1",
        ("SOP Instance UID",),
    ),
    Term(
        "UID",
        "A Unique Identifier is a string of numbers and dots, at most 64 characters, that "
        "names one thing once worldwide. The standard's fixed UIDs name SOP Classes and "
        "transfer syntaxes; freshly made UIDs name each study, series and instance.",
        MODEL,
        _part(5, "chapter_9"),
        "PS3.5 §9",
        ("Unique Identifier",),
    ),
    Term(
        "UID root",
        "A UID root is the dotted prefix an organisation owns (obtained from a registration "
        "authority) and puts at the start of the UIDs it makes, which keeps them unique "
        "across organisations. The standard's own UIDs start with 1.2.840.10008; a tool "
        "without its own root can use a UUID-derived one under 2.25.",
        MODEL,
        _part(5, "chapter_B"),
        "PS3.5 Annex B",
        ("root", "org root"),
    ),
    # -- Inside the data set --------------------------------------------------------------
    Term(
        "Data set",
        "The data set is the object's content: its data elements, sorted by tag, each tag "
        "at most once. Sequence items are small data sets of their own.",
        ENCODING,
        _part(5, "chapter_7"),
        "PS3.5 §7",
        ("dataset",),
    ),
    Term(
        "Data element",
        "A data element is how one attribute is stored: its tag, its VR, the length of its "
        "value in bytes, and the value itself. Explicit VR transfer syntaxes write the VR "
        "into every element; Implicit VR leaves it out, and readers look it up by tag.",
        ENCODING,
        _part(5, "sect_7.1"),
        "PS3.5 §7.1",
        ("element",),
    ),
    Term(
        "Tag",
        "A tag is the pair of 16-bit numbers (group, element) that identifies a data "
        "element, written in hexadecimal as (0010,0010) for Patient's Name. Even groups "
        "belong to the standard; odd groups are private.",
        ENCODING,
        _part(6, "chapter_6"),
        "PS3.6 §6",
    ),
    Term(
        "Keyword",
        "A keyword is the attribute's name written as one word without spaces or "
        "punctuation, such as PatientName for Patient's Name. Keywords come from the data "
        "dictionary and are what metadata templates, --set and pydicom use.",
        ENCODING,
        _part(6, "chapter_6"),
        "PS3.6 §6",
    ),
    Term(
        "VR",
        "The Value Representation is the data type of a value: PN person name, DA date, "
        "UI unique identifier, US unsigned 16-bit integer, SQ sequence and so on. It fixes "
        "the encoding, the allowed characters and the maximum length.",
        ENCODING,
        _part(5, "sect_6.2"),
        "PS3.5 §6.2",
        ("Value Representation",),
    ),
    Term(
        "VM",
        "The Value Multiplicity is how many values an attribute holds: 1, 2, 1-n and so on. "
        "Pixel Spacing has VM 2 (row and column spacing); in text the values are separated "
        "by a backslash.",
        ENCODING,
        _part(5, "sect_6.4"),
        "PS3.5 §6.4",
        ("Value Multiplicity",),
    ),
    Term(
        "Sequence",
        "A sequence is a data element of VR SQ whose value is a list of items instead of "
        "text or numbers. It nests structure, for instance a code (value, scheme, meaning) "
        "inside Anatomic Region Sequence.",
        ENCODING,
        _part(5, "sect_7.5"),
        "PS3.5 §7.5",
        ("SQ",),
    ),
    Term(
        "Item",
        "An item is one entry of a sequence: a small data set with its own data elements, "
        "numbered from 0 in paths such as AnatomicRegionSequence[0].CodeValue. A sequence "
        "may hold zero, one or many items.",
        ENCODING,
        _part(5, "sect_7.5"),
        "PS3.5 §7.5",
        ("sequence item",),
    ),
    Term(
        "Private tag",
        "A private tag is a data element in an odd-numbered group that carries data the "
        "standard has no attribute for, defined by a vendor or project. It is only "
        "meaningful together with the private creator that reserved its block.",
        ENCODING,
        _part(5, "sect_7.8"),
        "PS3.5 §7.8",
        ("private element", "private data element"),
    ),
    Term(
        "Private creator",
        "A private creator is an element (gggg,0010) to (gggg,00FF) of an odd group whose "
        "value names the owner of a block of private tags. The creator at (0011,0010) owns "
        "(0011,1000)-(0011,10FF), so two vendors' private data in one group never collide.",
        ENCODING,
        _part(5, "sect_7.8"),
        "PS3.5 §7.8.1",
        ("Private Creator element",),
    ),
    Term(
        "Specific Character Set",
        "Specific Character Set (0008,0005) names the character repertoire used by the text "
        "values of a data set, such as ISO_IR 100 (Latin-1) or ISO_IR 192 (UTF-8). "
        "Without it, text must be plain ASCII.",
        ENCODING,
        _part(5, "sect_6.1"),
        "PS3.5 §6.1",
        ("character set", "charset"),
    ),
    Term(
        "Pixel Data",
        "Pixel Data (7FE0,0010) holds the image itself. How to read it is described by "
        "other attributes of the Image Pixel module (Rows, Columns, Samples per Pixel, Bits "
        "Allocated, Photometric Interpretation); compressed, it is stored as encapsulated "
        "fragments.",
        ENCODING,
        _part(5, "chapter_8"),
        "PS3.5 §8",
    ),
    Term(
        "Multi-frame",
        "A multi-frame object stores several images (frames) of the same size in one "
        "Pixel Data, one after another; Number of Frames (0028,0008) says how many. A "
        "single photograph is one frame.",
        ENCODING,
        _part(3, "sect_C.7.6.6"),
        "PS3.3 §C.7.6.6",
        ("frame", "Number of Frames"),
    ),
    # -- The file -------------------------------------------------------------------------
    Term(
        "Preamble and DICM",
        "A DICOM file starts with a 128-byte preamble (usually zeros, free for other "
        "formats' headers) followed by the four letters DICM, so a program can recognise "
        "the file. The file meta information follows.",
        FILE,
        _part(10, "sect_7.1"),
        "PS3.10 §7.1",
        ("preamble", "DICM", "DICM prefix"),
    ),
    Term(
        "File meta information",
        "The file meta information is the group 0002 header after DICM: the media storage "
        "SOP Class and Instance UIDs, the transfer syntax of the rest of the file and who "
        "wrote it. It is always Explicit VR Little Endian, whatever the data set uses.",
        FILE,
        _part(10, "sect_7.1"),
        "PS3.10 §7.1",
        ("file meta", "meta header", "group 0002"),
    ),
    Term(
        "Transfer syntax",
        "A transfer syntax fixes how the data set is encoded: byte order, explicit or "
        "implicit VR, and whether Pixel Data is compressed (RLE, JPEG, JPEG-LS, JPEG 2000) "
        "or not. It is named by a UID in the file meta information.",
        FILE,
        _part(5, "chapter_10"),
        "PS3.5 §10",
        ("Transfer Syntax UID",),
    ),
    # -- Reports and this app -------------------------------------------------------------
    Term(
        "Content item",
        "A content item is one node of a Structured Report's tree: a value type (TEXT, "
        "CODE, NUM, CONTAINER...), a concept name saying what it is, its value, and the "
        "relationship to its parent (CONTAINS, HAS PROPERTIES...).",
        MORE,
        _part(3, "sect_C.17.3"),
        "PS3.3 §C.17.3",
        ("SR content item", "SR tree"),
    ),
    Term(
        "Conformance statement",
        "A conformance statement tells users which objects a product writes or reads and "
        "how: IODs, attributes filled, transfer syntaxes, private data. This app's own is "
        "on the Conformance page and from tbp-dicom conformance.",
        MORE,
        _part(2, "PS3.2"),
        "PS3.2",
    ),
)

#: Term → meaning, in glossary order (what older callers read).
GLOSSARY: Mapping[str, str] = MappingProxyType({t.term: t.meaning for t in TERMS})

_INDEX: dict[str, Term] = {
    name.casefold(): term for term in TERMS for name in (term.term, *term.aliases)
}


def lookup(name: str) -> Term:
    """The glossary entry for a term or one of its aliases, in any case.

    Parameters
    ----------
    name : str
        E.g. ``"VR"``, ``"file meta"``, ``"sop class"``.

    Returns
    -------
    Term

    Raises
    ------
    KeyError
        When the glossary has no such term (a mistake in the caller).
    """
    return _INDEX[name.casefold()]
