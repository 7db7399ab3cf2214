"""Metadata templates: keyword-JSON (and the DICOM JSON Model) in, keyword-JSON out.

A template is a JSON object mapping DICOM keywords to values (ARCHITECTURE.md
section 5): sequences are lists of objects, TBP private attributes use
``tbp:`` keys (see :mod:`tbp_core.standard.private`). The DICOM JSON Model (PS3.18
F.2) is accepted as input too and turned into the keyword form. Every value
is checked and brought into the normal form of
:func:`tbp_core.building.attributes.normalise_value`, the form
:func:`parse_template` returns and :func:`dataset_to_template` produces.
``--set KEYWORD=VALUE`` arguments (:func:`parse_assignment`) are one-line templates.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydicom.dataset import Dataset

from tbp_core.building.attributes import (
    dataset_values,
    error_for,
    normalise_into,
    normalise_value,
)
from tbp_core.errors import FieldProblem, MetadataError

if TYPE_CHECKING:
    from tbp_core.standard.anatomy import AnatomicRegion

__all__ = [
    "SESSION_TEMPLATES",
    "TBP_SESSION",
    "SessionTemplate",
    "SessionView",
    "dataset_to_template",
    "parse_assignment",
    "parse_template",
    "session_template",
    "template_to_json",
]


def _json_error(error: json.JSONDecodeError) -> MetadataError:
    return MetadataError(
        f"template is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
    )


def _is_json_model(data: Mapping[str, Any]) -> bool:
    return bool(data) and all(
        re.fullmatch(r"[0-9A-Fa-f]{8}", key) and isinstance(value, Mapping)
        for key, value in data.items()
    )


def _from_json_model(data: Mapping[str, Any]) -> dict[str, Any]:
    """Convert a DICOM JSON Model object (PS3.18 F.2) into keyword form (not normalised)."""
    for key, element in data.items():
        if any(name in element for name in ("InlineBinary", "BulkDataURI")):
            raise MetadataError(
                f"{key}: binary values (InlineBinary/BulkDataURI) cannot be used in a template"
            )
    try:
        ds = Dataset.from_json(dict(data))
    except (ValueError, TypeError, KeyError, AttributeError, NotImplementedError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise MetadataError(f"template is not valid DICOM JSON (PS3.18 F.2): {reason}") from None
    problems: list[FieldProblem] = []
    values = dataset_values(ds, None, "", problems, top_level=False, everything=True)
    if problems:
        raise error_for(problems)
    return values


def parse_template(data: str | bytes, *, iod_key: str | None = None) -> dict[str, Any]:
    """Read a metadata template and return its values in normal form.

    Parameters
    ----------
    data : str or bytes
        JSON text (UTF-8 when bytes): either an object mapping keywords and
        ``tbp:`` keys to values (ARCHITECTURE.md section 5) or a DICOM JSON
        Model object (keys such as ``"00100010"``, PS3.18 F.2).
    iod_key : str, optional
        The IOD the template is applied to: its own Enumerated Values apply
        too (e.g. Modality ``XC`` for ``"vl-photographic-image"``).

    Returns
    -------
    dict[str, Any]
        Keyword (or ``tbp:`` key) to normalised value, in the template's order.

    Raises
    ------
    MetadataError
        If the text is not JSON (message with line and column), not an
        object, or any value is invalid. All invalid values are reported at
        once ("3 invalid values: ...; ...; ...") and listed in ``problems``.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise MetadataError(
                f"template is not UTF-8 text (bad byte at position {error.start}); "
                "save it as UTF-8 JSON"
            ) from None
    try:
        parsed = json.loads(data)
    except json.JSONDecodeError as error:
        raise _json_error(error) from None
    if not isinstance(parsed, dict):
        raise MetadataError(
            f"template must be a JSON object of keyword: value pairs, not a {type(parsed).__name__}"
        )
    if _is_json_model(parsed):
        parsed = _from_json_model(parsed)
    problems: list[FieldProblem] = []
    values = {
        str(key): normalise_into(str(key), str(key), value, problems, iod_key=iod_key)
        for key, value in parsed.items()
    }
    if problems:
        raise error_for(problems)
    return values


def parse_assignment(text: str, *, iod_key: str | None = None) -> tuple[str, Any]:
    """Parse a CLI ``--set KEYWORD=VALUE`` argument.

    Parameters
    ----------
    text : str
        ``KEYWORD=VALUE``. A value starting with ``[``, ``{`` or ``"`` is read
        as JSON (lists, sequences, quoted strings); anything else is taken as
        text. An empty value clears the attribute. ``tbp:`` keys are allowed.
    iod_key : str, optional
        The IOD the value is for; its own Enumerated Values apply too.

    Returns
    -------
    tuple[str, Any]
        The keyword and its normalised value.

    Raises
    ------
    MetadataError
        If there is no ``=``, the keyword is empty or unknown, the JSON is
        broken, or the value is invalid.
    """
    keyword, sep, raw = text.partition("=")
    keyword = keyword.strip()
    if not sep or not keyword:
        raise MetadataError(
            f"--set {text!r}: expected KEYWORD=VALUE, e.g. --set PatientName=Doe^Jane "
            'or --set \'AnatomicRegionSequence=[{"CodeValue": "66643007", ...}]\''
        )
    value: Any = raw
    stripped = raw.strip()
    if stripped[:1] in ("[", "{", '"'):
        try:
            value = json.loads(stripped)
        except json.JSONDecodeError as error:
            raise MetadataError(
                f"--set {keyword}: value is not valid JSON: {error.msg} at column {error.colno}; "
                "quote the whole argument in the shell"
            ) from None
    return keyword, normalise_value(keyword, value, iod_key=iod_key)


def dataset_to_template(
    ds: Dataset, keywords: Iterable[str] | None = None, *, skip_invalid: bool = False
) -> dict[str, Any]:
    """Turn a dataset's attributes into template values (the reverse of apply).

    Parameters
    ----------
    ds : Dataset
        A dataset, e.g. read from a file.
    keywords : Iterable[str], optional
        Only these keywords (and ``tbp:`` keys). By default every public
        attribute except pixel data and other binary values, retired
        attributes, repeating groups (overlays, curves), the attributes that
        identify one instance or describe its pixels (SOP, study, series and
        frame of reference UIDs, Rows, Columns, ...), Specific Character Set
        and group lengths; the TBP private values are included as ``tbp:``
        keys, other private attributes are left out. File meta information is
        never included.
    skip_invalid : bool
        If True, attributes whose stored value is invalid (e.g. a date
        ``"1990/01/"`` in an old file) are left out instead of raising; call
        once without it to learn which ones and why.

    Returns
    -------
    dict[str, Any]
        Keyword to normalised value, in tag order, ready for
        :func:`template_to_json`.

    Raises
    ------
    MetadataError
        If a stored value is invalid and `skip_invalid` is False (every
        problem listed in ``problems``).
    """
    problems: list[FieldProblem] = []
    raw = dataset_values(ds, keywords, "", problems, top_level=True)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        found: list[FieldProblem] = []
        normalised = normalise_into(key, key, value, found)
        if found:
            problems.extend(found)
        else:
            values[key] = normalised
    if problems and not skip_invalid:
        raise error_for(problems)
    if skip_invalid:
        bad = {_top_keyword(problem.keyword) for problem in problems}
        values = {key: value for key, value in values.items() if key not in bad}
    return values


def _top_keyword(path: str) -> str:
    """'AnatomicRegionSequence[0].CodeValue' -> 'AnatomicRegionSequence'."""
    return re.split(r"[\[.]", path, maxsplit=1)[0]


def template_to_json(values: Mapping[str, Any]) -> str:
    """Write template values as pretty, UTF-8-friendly JSON text.

    Parameters
    ----------
    values : Mapping[str, Any]
        Template values in normal form.

    Returns
    -------
    str
        Indented JSON ending with a newline; non-ASCII characters kept as is.
    """
    return json.dumps(dict(values), indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------- session templates


@dataclass(frozen=True)
class SessionView:
    """One view of a session template: a regional overview of one body region.

    Attributes
    ----------
    name : str
        The view's short name, also accepted as a region in a manifest and as
        the region part of a file name (``left-arm_overview.png``).
    title : str
        What the photographer frames, in words.
    region_keyword : str
        The pydicom keyword of the site in CID 4029 "Dermatology Anatomic Site".
    laterality : str or None
        ``"L"`` or ``"R"`` for one side of a paired region, else None.
    aliases : tuple of str
        Other names accepted for the view (file names, manifests).
    """

    name: str
    title: str
    region_keyword: str
    laterality: str | None = None
    aliases: tuple[str, ...] = ()

    def metadata(self) -> dict[str, Any]:
        """Return the view's metadata template: its Anatomic Region Sequence.

        Returns
        -------
        dict[str, Any]
            ``{"AnatomicRegionSequence": [...]}`` with the laterality, if any,
            as an Anatomic Region Modifier (CID 244).
        """
        from tbp_core.standard import anatomy

        region = self.region()
        side: anatomy.Laterality | None = None
        if self.laterality == "L":
            side = "L"
        elif self.laterality == "R":
            side = "R"
        return {"AnatomicRegionSequence": [anatomy.anatomic_region_value(region, laterality=side)]}

    def region(self) -> AnatomicRegion:
        """Return the view's anatomic region (from CID 4029, via the anatomy module).

        Returns
        -------
        AnatomicRegion
        """
        from pydicom.sr.codedict import codes

        from tbp_core.standard import anatomy

        code = getattr(codes.cid4029, self.region_keyword)
        found = anatomy.region_by_code(code.value, code.scheme_designator)
        if found is None:  # pragma: no cover - every keyword below is in CID 4029
            raise MetadataError(f"{self.region_keyword} is not in CID 4029")
        return found


@dataclass(frozen=True)
class SessionTemplate:
    """The regional views a TBP session is expected to contain, plus close-ups.

    Attributes
    ----------
    name : str
        The template's name (``tbp-dicom templates`` lists it).
    description : str
        One paragraph for the listing.
    views : tuple of SessionView
        The regional overviews, in shooting order.
    source : str
        Where the views and their codes come from.
    """

    name: str
    description: str
    views: tuple[SessionView, ...]
    source: str

    def view(self, name: str) -> SessionView | None:
        """Return the view called ``name`` (or one of its aliases), else None.

        Parameters
        ----------
        name : str
            Case, spaces, hyphens and underscores do not matter
            (``"Left arm"``, ``"left-arm"``, ``"LEFT_ARM"``).

        Returns
        -------
        SessionView or None
        """
        wanted = _view_key(name)
        for view in self.views:
            if wanted in {_view_key(view.name), *(_view_key(a) for a in view.aliases)}:
                return view
        return None


def _view_key(text: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", text.lower()))


#: The TBP session template: the regional views of a total-body photography
#: session (head, neck, front and back of the trunk, each upper and lower
#: extremity), each coded with its CID 4029 "Dermatology Anatomic Site" concept
#: (PS3.16; codes and meanings from pydicom's copy of the group), plus any
#: number of dermoscopic close-ups of single lesions, each linked to the view
#: it was found on. CID 4029 has no "skin of head and neck", nor a whole-arm or
#: whole-leg concept narrower than an extremity, so head and neck are two views
#: and the limbs are "Skin of upper/lower extremity" with a side.
TBP_SESSION = SessionTemplate(
    name="tbp-session",
    description=(
        "Total body photography session: one regional overview (VL Photographic "
        "Image) per body region below, plus dermoscopic close-ups (Dermoscopic "
        "Photography Image) of single lesions, each linked to its overview."
    ),
    views=(
        SessionView("head", "head and face", "SkinOfHead", aliases=("face", "head-face")),
        SessionView("neck", "neck", "SkinOfNeck"),
        SessionView(
            "anterior-trunk",
            "chest and abdomen",
            "SkinOfAnteriorTrunk",
            aliases=("front", "trunk-front", "chest-abdomen", "anterior-torso"),
        ),
        SessionView(
            "posterior-trunk",
            "back",
            "SkinOfBack",
            aliases=("back", "trunk-back", "posterior-torso"),
        ),
        SessionView("left-arm", "left arm", "SkinOfUpperExtremity", "L", ("left-upper-limb",)),
        SessionView("right-arm", "right arm", "SkinOfUpperExtremity", "R", ("right-upper-limb",)),
        SessionView("left-leg", "left leg", "SkinOfLowerExtremity", "L", ("left-lower-limb",)),
        SessionView("right-leg", "right leg", "SkinOfLowerExtremity", "R", ("right-lower-limb",)),
    ),
    source=(
        "regions: DICOM PS3.16 CID 4029 Dermatology Anatomic Site (SNOMED CT), laterality "
        "as a CID 244 modifier; views: the usual regional division of a TBP session "
        "(head, neck, anterior and posterior trunk, upper and lower extremities)"
    ),
)

#: Every session template, by name.
SESSION_TEMPLATES: dict[str, SessionTemplate] = {TBP_SESSION.name: TBP_SESSION}


def session_template(name: str) -> SessionTemplate:
    """Return the session template called ``name``.

    Parameters
    ----------
    name : str
        E.g. ``"tbp-session"``.

    Returns
    -------
    SessionTemplate

    Raises
    ------
    MetadataError
        Naming the templates there are.
    """
    found = SESSION_TEMPLATES.get(name.strip().lower())
    if found is None:
        raise MetadataError(
            f"no session template {name!r}; there is: {', '.join(SESSION_TEMPLATES)} "
            "(tbp-dicom templates lists them)"
        )
    return found
