"""Map EXIF metadata onto DICOM attributes.

EXIF 2.3 and later have a home in DICOM: the VL Photographic Equipment,
VL Photographic Acquisition and VL Photographic Geolocation modules (group
0016), whose keywords mirror the EXIF tag names. A few more tags go to the
General Equipment module (Make, Model, BodySerialNumber, Software) and to the
acquisition and content dates and times.

:func:`map_exif` turns a raw EXIF block into DICOM keyword values, each checked
against the VR and VM that pydicom's data dictionary gives for its keyword,
plus a report that says for every EXIF tag where it went, or why nowhere.
Tags without a true DICOM home are reported, never forced into a near miss.
GPS tags locate the person photographed, so they are copied only on request;
so are the tags that identify the camera or its owner (CameraOwnerName,
BodySerialNumber, CameraSerialNumber, LensSerialNumber: ``include_device_identity``)
and the opaque MakerNote (``include_maker_note``). The report says, for each
tag left out, which option brings it.

The tag tables live in :mod:`~tbp_core.sources.exifrules`, the value
converters in :mod:`~tbp_core.sources.exifconvert` and the date/time
converters in :mod:`~tbp_core.sources.exifdates`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from PIL import ExifTags, Image
from PIL.TiffImagePlugin import IFDRational

from tbp_core.sources.exifconvert import (
    Output,
    SkipError,
    cfa_pattern_outputs,
    check_subject_distance,
    conversion_table_outputs,
    convert_value,
    flash_outputs,
    iso_speed_outputs,
)
from tbp_core.sources.exifdates import (
    Shown,
    Stamp,
    acquisition_outputs,
    content_outputs,
    gps_date_stamp,
    gps_time_stamp,
    part_outputs,
    read_stamp,
)
from tbp_core.sources.exifrules import (
    CFA_PATTERN,
    DATETIME_DIGITIZED,
    DATETIME_ORIGINAL,
    DEVICE_IDENTITY,
    EXIF_IFD,
    FLASH,
    GPS,
    GPS_DATE_STAMP,
    GPS_TIME_STAMP,
    IFD0,
    IFD_RANK,
    INTEROP,
    ISO_SPEED_RATINGS,
    MAKER_NOTE,
    NO_HOME,
    NOTES,
    OECF,
    OFFSET_TIME_DIGITIZED,
    OFFSET_TIME_ORIGINAL,
    OPT_IN_NOTES,
    POINTERS,
    RULES,
    SFR,
    SFR_TIFF_EP,
    SUBJECT_DISTANCE,
    SUBSEC_TIME_DIGITIZED,
    SUBSEC_TIME_ORIGINAL,
    tag_name,
)

__all__ = ["GPS_NOTE", "ExifMapping", "ExifResult", "format_report", "map_exif"]

GPS_NOTE = "GPS not included (location identifies people); use --include-gps"
"""Report note for each GPS tag left out because ``include_gps`` was False."""

UTF8_CHARACTER_SET = "ISO_IR 192"


@dataclass(frozen=True)
class ExifMapping:
    """One line of the mapping report: where one EXIF tag went (or why nowhere).

    A tag that feeds several DICOM attributes (Flash, DateTimeOriginal, ...)
    gets one line per attribute; a tag that feeds none gets one line with
    ``keyword`` None and the reason in ``note``. A value that could not be
    converted keeps its intended ``keyword`` with ``dicom_value`` None and a
    note starting "not copied" (or "not used"); only lines with a
    ``dicom_value`` correspond to entries in :attr:`ExifResult.values`.
    """

    exif_tag: str
    exif_value: str
    keyword: str | None
    dicom_value: str | None
    note: str = ""


@dataclass(frozen=True)
class ExifResult:
    """DICOM values derived from EXIF plus the report explaining each one.

    ``specific_character_set`` is ``"ISO_IR 192"`` when a text value holds
    characters outside ASCII, so the dataset must declare UTF-8 in Specific
    Character Set (0008,0005); otherwise None.
    """

    values: Mapping[str, Any] = field(default_factory=dict)
    report: tuple[ExifMapping, ...] = ()
    specific_character_set: str | None = None


# --- entry points --------------------------------------------------------------


def map_exif(
    exif: bytes | None,
    *,
    include_gps: bool = False,
    include_device_identity: bool = False,
    include_maker_note: bool = False,
) -> ExifResult:
    """Map a raw EXIF block to DICOM keyword values.

    Parameters
    ----------
    exif : bytes or None
        The EXIF block starting with the TIFF header (``II*`` or ``MM*``), as
        found in a JPEG APP1 segment, a PNG eXIf chunk or from
        ``PIL.Image.Exif.tobytes()``; a leading ``Exif`` APP1 identifier is
        accepted. None or empty means no EXIF.
    include_gps : bool, optional
        Copy the GPS tags into the VL Photographic Geolocation attributes.
        Off by default because a location identifies people.
    include_device_identity : bool, optional
        Copy CameraOwnerName and the body and lens serial numbers
        (DeviceSerialNumber, LensSerialNumber). Off by default: they identify
        the camera and its owner.
    include_maker_note : bool, optional
        Copy the vendor's opaque MakerNote. Off by default: it can hold
        serial numbers, names and places nobody can see without vendor tools.

    Returns
    -------
    ExifResult
        ``values`` maps DICOM keywords to values ready to assign to a pydicom
        Dataset (str for DS/IS/DA/TM/DT/CS/LO/UT, int for US, bytes for OB,
        a list of those for several values), each valid for the keyword's VR
        and VM. ``report`` has a line for every EXIF tag found. A block that
        cannot be read gives no values and one report line saying so; this
        function does not raise for bad input.
    """
    if not exif:
        return ExifResult()
    data = re.sub(rb"^(Exif\x00\x00){1,2}", b"", bytes(exif))
    if not data.startswith((b"II*\x00", b"MM\x00*")):
        return _unreadable(exif, "no TIFF header (expected II*\\0 or MM\\0*)")
    try:
        ifds, problems = _read_ifds(data)
    except Exception as exc:  # Pillow raises many types for corrupt data
        return _unreadable(exif, f"{type(exc).__name__}: {exc}")
    opted_in = {DEVICE_IDENTITY} if include_device_identity else set()
    if include_maker_note:
        opted_in.add(MAKER_NOTE)
    mapper = _Mapper(
        include_gps=include_gps,
        opted_in=frozenset(opted_in),
        endian=">" if data[:2] == b"MM" else "<",
    )
    try:
        mapper.run(ifds)
    except Exception as exc:  # each tag is guarded; this is the last line of defence
        return _unreadable(exif, f"{type(exc).__name__}: {exc}")
    for ifd_name, reason in problems:
        mapper.add_row(
            IFD_RANK[ifd_name],
            -1,
            ExifMapping(f"{ifd_name} IFD", "", None, None, f"could not be read: {reason}"),
        )
    return mapper.result()


def format_report(result: ExifResult) -> str:
    """Render the mapping report of an :class:`ExifResult` as a text table.

    Parameters
    ----------
    result : ExifResult
        The result of :func:`map_exif`.

    Returns
    -------
    str
        One header line and one line per report entry, columns separated by
        two spaces; ``"No EXIF metadata."`` when the report is empty.
    """
    if not result.report:
        return "No EXIF metadata."
    header = ("EXIF tag", "EXIF value", "DICOM keyword", "DICOM value", "note")
    rows = [
        (
            m.exif_tag,
            _clip(m.exif_value, 32),
            m.keyword or "-",
            _clip(m.dicom_value, 32) if m.dicom_value is not None else "-",
            m.note,
        )
        for m in result.report
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    lines = []
    for row in [header, *rows]:
        cells = [row[i].ljust(widths[i]) for i in range(4)]
        lines.append("  ".join([*cells, row[4]]).rstrip())
    return "\n".join(lines)


# --- reading -------------------------------------------------------------------


def _unreadable(exif: bytes, reason: str) -> ExifResult:
    note = f"EXIF could not be read ({reason}); no EXIF values were used"
    return ExifResult(report=(ExifMapping("EXIF", _show_value(bytes(exif)), None, None, note),))


def _read_ifds(data: bytes) -> tuple[dict[str, dict[int, Any]], list[tuple[str, str]]]:
    """Read IFD0, Exif, Interop and GPS IFDs; a broken sub-IFD is reported, not fatal."""
    exif = Image.Exif()
    exif.load(data)
    ifds: dict[str, dict[int, Any]] = {IFD0: {tag: exif[tag] for tag in exif}}
    if not ifds[IFD0]:
        # Pillow only warns about a corrupt IFD and returns it empty.
        raise ValueError("IFD0 is empty or corrupt")
    problems: list[tuple[str, str]] = []
    for name, ifd_id, pointer_ifd, pointer in (
        (EXIF_IFD, ExifTags.IFD.Exif, IFD0, 0x8769),
        (GPS, ExifTags.IFD.GPSInfo, IFD0, 0x8825),
        (INTEROP, ExifTags.IFD.Interop, EXIF_IFD, 0xA005),
    ):
        if pointer not in ifds.get(pointer_ifd, {}):
            continue
        try:
            ifds[name] = dict(exif.get_ifd(ifd_id))
        except Exception as exc:  # a corrupt offset or entry in that IFD only
            problems.append((name, f"{type(exc).__name__}: {exc}"))
            continue
        if not ifds[name]:
            problems.append((name, "empty or corrupt"))
    return ifds, problems


# --- mapping -------------------------------------------------------------------


class _Mapper:
    """Collects values and report rows for one EXIF block."""

    def __init__(self, *, include_gps: bool, opted_in: frozenset[str], endian: str) -> None:
        self.include_gps = include_gps
        self.opted_in = opted_in
        self.endian = endian
        self.values: dict[str, Any] = {}
        self.sources: dict[str, str] = {}
        self.rows: list[tuple[int, int, int, ExifMapping]] = []
        self.non_ascii = False

    # -- bookkeeping --

    def add_row(self, rank: int, tag: int, row: ExifMapping) -> None:
        self.rows.append((rank, tag, len(self.rows), row))

    def put(self, keyword: str, value: Any, source: str) -> str:
        """Store a value unless the keyword is already set; return a note if not stored."""
        if keyword in self.values:
            return f"not used: {keyword} already set from {self.sources[keyword]}"
        self.values[keyword] = value
        self.sources[keyword] = source
        if _has_non_ascii(value):
            self.non_ascii = True
        return ""

    def result(self) -> ExifResult:
        self.rows.sort(key=lambda r: (r[0], r[1], r[2]))
        return ExifResult(
            values=dict(self.values),
            report=tuple(r[3] for r in self.rows),
            specific_character_set=UTF8_CHARACTER_SET if self.non_ascii else None,
        )

    def emit(
        self,
        where: tuple[str, int],
        raw: Any,
        outputs: Sequence[tuple[str | None, Any, str]],
    ) -> None:
        """Add report rows (and values) for one EXIF tag.

        ``outputs`` holds ``(keyword, value, note)``; keyword None means no
        value, value None means the conversion failed (the note says why).
        """
        name = tag_name(*where)
        shown = _show_value(raw)
        rank = IFD_RANK[where[0]]
        for keyword, value, note in outputs:
            if keyword is None or value is None:
                self.add_row(rank, where[1], ExifMapping(name, shown, keyword, None, note))
                continue
            if isinstance(value, Shown):
                self.add_row(rank, where[1], ExifMapping(name, shown, keyword, value.text, note))
                continue
            refused = self.put(keyword, value, name)
            if _has_non_ascii(value):
                note = _join(
                    note, f"non-ASCII text: needs SpecificCharacterSet {UTF8_CHARACTER_SET}"
                )
            if refused:
                self.add_row(rank, where[1], ExifMapping(name, shown, keyword, None, refused))
            else:
                dicom = _show_dicom(value)
                self.add_row(rank, where[1], ExifMapping(name, shown, keyword, dicom, note))

    # -- driver --

    def run(self, ifds: Mapping[str, Mapping[int, Any]]) -> None:
        exif_ifd = ifds.get(EXIF_IFD, {})
        acquisition = read_stamp(
            exif_ifd, DATETIME_ORIGINAL, SUBSEC_TIME_ORIGINAL, OFFSET_TIME_ORIGINAL
        )
        content = read_stamp(exif_ifd, DATETIME_DIGITIZED, SUBSEC_TIME_DIGITIZED, None)
        entries = [
            (ifd_name, tag, raw)
            for ifd_name in (IFD0, EXIF_IFD, INTEROP, GPS)
            for tag, raw in sorted(ifds.get(ifd_name, {}).items())
            if (ifd_name, tag) not in POINTERS
        ]
        # Primary rules first so that fallbacks only fill what is still empty.
        deferred = []
        for ifd_name, tag, raw in entries:
            rule = RULES.get((ifd_name, tag))
            if rule is not None and rule.fallback:
                deferred.append((ifd_name, tag, raw))
                continue
            self.one(ifd_name, tag, raw, ifds, acquisition, content)
        for ifd_name, tag, raw in deferred:
            self.one(ifd_name, tag, raw, ifds, acquisition, content)

    def one(
        self,
        ifd_name: str,
        tag: int,
        raw: Any,
        ifds: Mapping[str, Mapping[int, Any]],
        acquisition: Stamp | str | None,
        content: Stamp | str | None,
    ) -> None:
        where = (ifd_name, tag)
        try:
            outputs = self.outputs(ifd_name, tag, raw, ifds, acquisition, content)
        except SkipError as skip:
            keyword = RULES[where].keyword if where in RULES else None
            outputs = [(keyword, None, f"not copied: {skip}")]
        except Exception as exc:  # never let one odd tag break the whole mapping
            outputs = [(None, None, f"not copied: {type(exc).__name__}: {exc}")]
        self.emit(where, raw, outputs)

    def outputs(
        self,
        ifd_name: str,
        tag: int,
        raw: Any,
        ifds: Mapping[str, Mapping[int, Any]],
        acquisition: Stamp | str | None,
        content: Stamp | str | None,
    ) -> list[Output]:
        where = (ifd_name, tag)
        if ifd_name == GPS:
            if not self.include_gps:
                return [(None, None, GPS_NOTE)]
            if tag == GPS_TIME_STAMP:
                return [("GPSTimeStamp", gps_time_stamp(raw, ifds[GPS]), "UTC")]
            if tag == GPS_DATE_STAMP:
                return [("GPSDateStamp", gps_date_stamp(raw), "UTC")]
        if ifd_name == EXIF_IFD:
            special = self.exif_special(tag, raw, acquisition, content)
            if special is not None:
                return special
        rule = RULES.get(where)
        if rule is None:
            return [(None, None, NOTES.get(where, NO_HOME))]
        if rule.opt_in and rule.opt_in not in self.opted_in:
            return [(rule.keyword, None, OPT_IN_NOTES[rule.opt_in])]
        notes: list[str] = [rule.note] if rule.note else []
        value = convert_value(rule.keyword, raw, notes)
        return [(rule.keyword, value, "; ".join(notes))]

    def exif_special(
        self,
        tag: int,
        raw: Any,
        acquisition: Stamp | str | None,
        content: Stamp | str | None,
    ) -> list[Output] | None:
        """Outputs for Exif IFD tags that need more than the VR-driven converter."""
        if tag == FLASH:
            return flash_outputs(raw)
        if tag == ISO_SPEED_RATINGS:
            return iso_speed_outputs(raw)
        if tag == SUBJECT_DISTANCE:
            check_subject_distance(raw)
            return None
        if tag == CFA_PATTERN:
            return cfa_pattern_outputs(raw, self.endian)
        if tag == OECF:
            return conversion_table_outputs(raw, self.endian, "OECF", signed=True)
        if tag in (SFR, SFR_TIFF_EP):
            if tag == SFR_TIFF_EP and "SpatialFrequencyResponseValues" in self.values:
                return [(None, None, "not used: EXIF SpatialFrequencyResponse already copied")]
            return conversion_table_outputs(
                raw, self.endian, "SpatialFrequencyResponse", signed=False
            )
        if tag == DATETIME_ORIGINAL:
            return acquisition_outputs(acquisition, content)
        if tag == SUBSEC_TIME_ORIGINAL:
            return part_outputs(acquisition, "fraction of a second of DateTimeOriginal")
        if tag == OFFSET_TIME_ORIGINAL:
            return part_outputs(
                acquisition, "UTC offset of DateTimeOriginal", keywords=("AcquisitionDateTime",)
            )
        if tag == DATETIME_DIGITIZED:
            return content_outputs(content)
        if tag == SUBSEC_TIME_DIGITIZED:
            return part_outputs(
                content,
                "fraction of a second of DateTimeDigitized",
                keywords=("ContentTime",),
            )
        if tag == OFFSET_TIME_DIGITIZED:
            return [
                (
                    None,
                    None,
                    "no DICOM attribute: ContentDate/ContentTime carry no UTC offset "
                    "(TimezoneOffsetFromUTC would apply to the whole dataset)",
                )
            ]
        return None


# --- display helpers -------------------------------------------------------------


def _show_value(raw: Any) -> str:
    if isinstance(raw, bytes):
        return f"<{len(raw)} bytes>"
    if isinstance(raw, IFDRational):
        if raw.denominator == 1:
            return str(raw.numerator)
        return f"{raw.numerator}/{raw.denominator}"
    if isinstance(raw, tuple | list):
        return _clip(", ".join(_show_value(item) for item in raw), 64)
    if isinstance(raw, str):
        text = raw.split("\x00", 1)[0].strip()
        return _clip("".join(ch if ch.isprintable() else " " for ch in text), 64)
    return _clip(str(raw), 64)


def _show_dicom(value: Any) -> str:
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, list):
        return "\\".join(str(v) for v in value)
    return str(value)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _has_non_ascii(value: Any) -> bool:
    if isinstance(value, str):
        return not value.isascii()
    if isinstance(value, list):
        return any(_has_non_ascii(v) for v in value)
    return False
