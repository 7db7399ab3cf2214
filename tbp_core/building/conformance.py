"""The conformance statement of the converter, generated from the builders themselves.

For each IOD we write, :func:`conformance` runs the real builder
(:func:`tbp_core.building.iods.build_instance`) on small probe images — colour
and grey, PNG and JPEG, with and without an ICC profile, with and without an
anatomic region — and records which attributes each build contains. An
attribute in every build is written *always*; one in some builds is written
*when* that probe's condition holds. Sources: ``derived`` (from the pixels,
the IOD or the conversion: :data:`~tbp_core.building.derived.DERIVED_KEYWORDS`
and the IOD's own values), ``default`` (a value or an empty Type 2 the user
may replace), ``EXIF`` (a rule of :mod:`tbp_core.sources.exifrules` fills it
from the camera) and ``template`` (the metadata template or ``--set``; any
other attribute of the IOD's modules may be given there too). Because the
statement is what the builder did, it cannot drift from the code.

Also listed: the transfer syntaxes offered
(:data:`~tbp_core.building.transfersyntaxes.TRANSFER_SYNTAXES`) and the TBP private
block (:mod:`tbp_core.standard.private`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cache
from typing import Any

from pydicom.dataset import Dataset

from tbp_core import standard
from tbp_core.building.derived import DERIVED_KEYWORDS
from tbp_core.building.iods import IODS, IodSpec, build_instance
from tbp_core.building.iods.builder import DERMOSCOPIC_EQUIPMENT, SeriesContext
from tbp_core.building.transfersyntaxes import TRANSFER_SYNTAXES
from tbp_core.sources.exif import map_exif
from tbp_core.sources.exifrules import RULES
from tbp_core.sources.sourceimage import SourceImage
from tbp_core.standard import private
from tbp_core.standard.formatting import tag_text, title_of

__all__ = [
    "ALWAYS",
    "EXIF_WHEN",
    "Conformance",
    "ConformanceAttribute",
    "IodConformance",
    "ModuleConformance",
    "conformance",
    "conformance_json",
    "render_conformance_text",
]

ALWAYS = "always"
EXIF_WHEN = "the source's EXIF gives it"
#: Sources of a value, in the order they are layered by the builder.
DERIVED, DEFAULT, EXIF, TEMPLATE = "derived", "default", "EXIF", "template"

#: Values the probes give for the Type 1 equipment only the user can know.
_EQUIPMENT = {keyword: "probe" for keyword in DERMOSCOPIC_EQUIPMENT}
_REGION = [{"CodeValue": "66643007", "CodingSchemeDesignator": "SCT", "CodeMeaning": "Back"}]
_MOMENT = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class _Probe:
    """One build of the builder, and the condition its difference from the base build shows."""

    present: str  # the condition of the attributes only this build has
    absent: str  # the condition of the base build's attributes this build lacks
    image: SourceImage
    metadata: Mapping[str, Any]


def _probes() -> tuple[_Probe, ...]:
    """The base build (a colour PNG, no template) first, then one variation each."""
    colour = SourceImage(
        name="probe.png", format="PNG", buffer=bytearray(12), rows=2, columns=2,
        samples_per_pixel=3, bits_allocated=8, source_bit_depth=8, source_mode="RGB",
    )  # fmt: skip
    grey = replace(colour, buffer=bytearray(4), samples_per_pixel=1, source_mode="grey")
    jpeg = replace(colour, name="probe.jpg", format="JPEG", lossy=True, file_size=100)
    icc = replace(colour, icc_profile=b"\0" * 128)
    region = {"AnatomicRegionSequence": _REGION}
    camera = replace(colour, exif=_special_exif())
    return (
        _Probe(ALWAYS, ALWAYS, colour, {}),
        _Probe("a grey image", "a colour image", grey, {}),
        _Probe("a JPEG (lossy) source", "a lossless source", jpeg, {}),
        _Probe("the source has an ICC profile", "no ICC profile", icc, {}),
        _Probe(
            "the anatomic region gives the laterality",
            "no anatomic region gives the laterality",
            colour,
            region,
        ),
        _Probe(EXIF_WHEN, ALWAYS, camera, {}),
    )


def _special_exif() -> bytes:
    """An EXIF block with the tags the mapper converts by hand (dates, ISO, flash)."""
    from PIL import Image

    exif = Image.Exif()
    tags = exif.get_ifd(0x8769)  # the Exif IFD
    tags[0x9003] = tags[0x9004] = "2000:01:02 03:04:05"  # DateTimeOriginal, ...Digitized
    tags[0x9291] = tags[0x9292] = "5"  # SubSecTimeOriginal, ...Digitized
    tags[0x9011] = "+01:00"  # OffsetTimeOriginal
    tags[0x8827] = 100  # ISOSpeedRatings
    tags[0x9209] = 1  # Flash
    tags[0x9206] = 1.5  # SubjectDistance
    return exif.tobytes()[len(b"Exif\0\0") :]


@dataclass(frozen=True)
class ConformanceAttribute:
    """An attribute the converter writes at the top level of the dataset.

    Attributes
    ----------
    keyword, tag, name : str
        The attribute (``tag`` as ``(GGGG,EEEE)``).
    sources : tuple of str
        Where its value comes from: ``derived``, ``default``, ``EXIF``, ``template``.
    when : str
        ``"always"``, or the condition under which it is written.
    """

    keyword: str
    tag: str
    name: str
    sources: tuple[str, ...]
    when: str


@dataclass(frozen=True)
class ModuleConformance:
    """A module of the IOD with the attributes the converter writes in it."""

    key: str
    title: str
    usage: str
    information_entity: str
    attributes: tuple[ConformanceAttribute, ...]

    def _repr_html_(self) -> str:
        from tbp_core.inspection.richhtml import module_conformance_html

        return module_conformance_html(self)


@dataclass(frozen=True)
class IodConformance:
    """One IOD the converter writes."""

    name: str
    title: str
    sop_class_uid: str
    modality: str
    modules: tuple[ModuleConformance, ...]

    def keywords(self, when: frozenset[str] = frozenset({ALWAYS})) -> frozenset[str]:
        """Keywords written under the given conditions (``"always"`` ones by default).

        Parameters
        ----------
        when : frozenset of str
            Conditions that hold (include ``"always"``); EXIF-only attributes have
            the condition ``"the source's EXIF gives it"``.

        Returns
        -------
        frozenset of str
        """
        return frozenset(a.keyword for m in self.modules for a in m.attributes if a.when in when)

    def _repr_html_(self) -> str:
        from tbp_core.inspection.richhtml import iod_conformance_html

        return iod_conformance_html(self)


@dataclass(frozen=True)
class Conformance:
    """The whole statement: IODs, transfer syntaxes and the private block."""

    iods: tuple[IodConformance, ...]
    transfer_syntaxes: tuple[tuple[str, str, str], ...]
    private_creator: str
    private_group: int
    private_attributes: tuple[private.PrivateAttribute, ...]

    def _repr_html_(self) -> str:
        from tbp_core.inspection.richhtml import conformance_html

        return conformance_html(self)


def _build(spec: IodSpec, probe: _Probe) -> frozenset[str]:
    metadata = {**(_EQUIPMENT if spec.name == "dermoscopic" else {}), **probe.metadata}
    context = SeriesContext("1.2.3", "1.2.3.4", _MOMENT)
    ds: Dataset = build_instance(probe.image, spec, metadata, context).dataset
    return frozenset(elem.keyword for elem in ds if elem.keyword)


def _exif_keywords(spec: IodSpec) -> frozenset[str]:
    """Attributes EXIF can fill: the table's rules and the hand-converted tags."""
    allowed = standard.top_level_keywords_of_iod(spec.standard_key)
    by_hand = map_exif(_special_exif()).values
    return frozenset(k for k in (*(r.keyword for r in RULES.values()), *by_hand) if k in allowed)


def _sources(
    keyword: str, spec: IodSpec, exif: frozenset[str], defaults: frozenset[str]
) -> tuple[str, ...]:
    if keyword in DERIVED_KEYWORDS or (keyword == "Modality" and spec.name != "secondary-capture"):
        return (DERIVED,)
    found = [DEFAULT] if keyword in defaults else []
    found += [EXIF] if keyword in exif else []
    return (*found, TEMPLATE)


def _conditions(spec: IodSpec) -> tuple[dict[str, str], frozenset[str]]:
    """Keyword → condition it is written under, and the keywords the builder itself fills."""
    probes = _probes()
    builds = [_build(spec, probe) - set(probe.metadata) for probe in probes]
    base = builds[0]
    whens = {keyword: ALWAYS for keyword in base}
    for probe, keywords in zip(probes[1:], builds[1:], strict=True):
        for keyword in base - keywords:
            whens[keyword] = probe.absent
        for keyword in keywords - base:
            whens[keyword] = probe.present
    user_only = DERMOSCOPIC_EQUIPMENT if spec.name == "dermoscopic" else ()
    filled = frozenset().union(*builds[:-1]) - set(user_only)  # the EXIF probe is last
    for keyword in _exif_keywords(spec) - set(whens):
        whens[keyword] = EXIF_WHEN
    return whens, filled


def _iod(spec: IodSpec) -> IodConformance:
    whens, defaults = _conditions(spec)
    exif = _exif_keywords(spec)
    modules: list[ModuleConformance] = []
    placed: set[str] = set()
    for module in standard.modules_of_iod(spec.standard_key):
        rows = []
        for row in standard.attributes_of_module(module.key):
            if row.path or row.keyword in placed or row.keyword not in whens:
                continue
            placed.add(row.keyword)
            info = standard.attribute_info(row.keyword)
            rows.append(
                ConformanceAttribute(
                    keyword=row.keyword,
                    tag=tag_text(info.tag) if info else "",
                    name=info.name if info else row.keyword,
                    sources=_sources(row.keyword, spec, exif, defaults),
                    when=whens[row.keyword],
                )
            )
        if rows:
            modules.append(
                ModuleConformance(
                    module.key,
                    title_of(module.key),
                    module.usage,
                    module.information_entity,
                    tuple(rows),
                )
            )
    return IodConformance(spec.name, spec.title, spec.sop_class_uid, spec.modality, tuple(modules))


@cache
def conformance() -> Conformance:
    """The conformance statement of this version of the converter.

    Returns
    -------
    Conformance
        Per IOD its modules and the attributes written (source, condition);
        the transfer syntaxes offered; the TBP private block.
    """
    return Conformance(
        iods=tuple(_iod(spec) for spec in IODS.values()),
        transfer_syntaxes=tuple(
            (choice.name, str(choice.uid), choice.description)
            for choice in TRANSFER_SYNTAXES.values()
        ),
        private_creator=private.TBP_PRIVATE_CREATOR,
        private_group=private.TBP_GROUP,
        private_attributes=private.TBP_ATTRIBUTES,
    )


def _private_tag(group: int, offset: int) -> str:
    return tag_text((group << 16) | 0x1000 | offset)


def conformance_json(statement: Conformance) -> dict[str, Any]:
    """The statement as JSON (``tbp-dicom conformance --format json``).

    Parameters
    ----------
    statement : Conformance
        From :func:`conformance`.

    Returns
    -------
    dict
        ``{"iods": [{"iod", "title", "sop_class_uid", "modality", "modules": [{"module",
        "title", "usage", "ie", "attributes": [{"keyword", "tag", "name", "sources",
        "when"}]}]}], "transfer_syntaxes": [{"name", "uid", "description"}],
        "private_block": {"creator", "group", "attributes": [...]}}``
    """
    return {
        "iods": [
            {
                "iod": iod.name,
                "title": iod.title,
                "sop_class_uid": iod.sop_class_uid,
                "modality": iod.modality,
                "modules": [
                    {
                        "module": m.key,
                        "title": m.title,
                        "usage": m.usage,
                        "ie": m.information_entity,
                        "attributes": [
                            {
                                "keyword": a.keyword,
                                "tag": a.tag,
                                "name": a.name,
                                "sources": list(a.sources),
                                "when": a.when,
                            }
                            for a in m.attributes
                        ],
                    }
                    for m in iod.modules
                ],
            }
            for iod in statement.iods
        ],
        "transfer_syntaxes": [
            {"name": name, "uid": uid, "description": description}
            for name, uid, description in statement.transfer_syntaxes
        ],
        "private_block": {
            "creator": statement.private_creator,
            "group": f"{statement.private_group:04X}",
            "attributes": [
                {
                    "key": a.key,
                    "tag": _private_tag(statement.private_group, a.offset),
                    "vr": a.vr,
                    "vm": a.vm,
                    "name": a.name,
                    "description": a.description,
                }
                for a in statement.private_attributes
            ],
        },
    }


def render_conformance_text(statement: Conformance) -> str:
    """The statement as text: one table per IOD, then transfer syntaxes and the private block.

    Parameters
    ----------
    statement : Conformance
        From :func:`conformance`.

    Returns
    -------
    str
    """
    lines: list[str] = []
    for iod in statement.iods:
        lines += [f"# {iod.title} ({iod.name}, SOP Class {iod.sop_class_uid}, {iod.modality})", ""]
        for module in iod.modules:
            lines.append(f"## {module.title} [{module.information_entity}, {module.usage}]")
            for a in module.attributes:
                when = "" if a.when == ALWAYS else f"  (when {a.when})"
                lines.append(f"  {a.tag} {a.keyword:<36} {', '.join(a.sources)}{when}")
        lines += [
            "",
            "Any other attribute of these modules may be given in the template or with --set.",
            "",
        ]
    lines.append("# Transfer syntaxes (--transfer-syntax)")
    lines += [f"  {name:<17} {uid:<24} {text}" for name, uid, text in statement.transfer_syntaxes]
    group = statement.private_group
    lines += ["", f"# Private block: creator '{statement.private_creator}' at ({group:04X},0010)"]
    lines += [
        f"  {_private_tag(group, a.offset)} {a.vr} {a.vm:<3} {a.key:<22} {a.name}"
        for a in statement.private_attributes
    ]
    return "\n".join(lines)
