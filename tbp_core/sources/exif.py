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
GPS tags locate the person photographed, so they are copied only on request.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Any

from PIL import ExifTags, Image
from PIL.TiffImagePlugin import IFDRational
from pydicom.datadict import dictionary_VM, dictionary_VR, tag_for_keyword
from pydicom.valuerep import format_number_as_ds

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


@dataclass(frozen=True)
class _Shown:
    """A report-only DICOM value: the tag was merged into a value stored elsewhere."""

    text: str


class _SkipError(Exception):
    """A tag's value cannot be put into its DICOM attribute; the text says why."""


# --- what goes where ---------------------------------------------------------

_IFD0 = "IFD0"
_EXIF = "Exif"
_INTEROP = "Interop"
_GPS = "GPS"
_IFD_RANK = {_IFD0: 0, _EXIF: 1, _INTEROP: 2, _GPS: 3}


@dataclass(frozen=True)
class _Rule:
    """An EXIF tag with a DICOM home converted by the VR-driven converter."""

    keyword: str
    note: str = ""
    # A fallback rule fills its attribute only when no primary rule did.
    fallback: bool = False


_RULES: dict[tuple[str, int], _Rule] = {
    # General Equipment module.
    (_IFD0, 0x010F): _Rule("Manufacturer"),
    (_IFD0, 0x0110): _Rule("ManufacturerModelName"),
    (_IFD0, 0x0131): _Rule("SoftwareVersions"),
    (_EXIF, 0xA431): _Rule("DeviceSerialNumber"),
    (_IFD0, 0xC62F): _Rule("DeviceSerialNumber", fallback=True),  # DNG CameraSerialNumber
    # VL Photographic Acquisition module.
    (_IFD0, 0x013E): _Rule("WhitePoint"),
    (_IFD0, 0x013F): _Rule("PrimaryChromaticities"),
    (_IFD0, 0x828F): _Rule("BatteryLevel"),
    (_EXIF, 0x828F): _Rule("BatteryLevel"),
    (_EXIF, 0x829A): _Rule(
        "ExposureTimeInSeconds", "seconds; (0018,1150) ExposureTime is X-ray milliseconds"
    ),
    (_EXIF, 0x829D): _Rule("FNumber"),
    (_EXIF, 0x8822): _Rule("ExposureProgram"),
    (_EXIF, 0x8824): _Rule("SpectralSensitivity"),
    (_EXIF, 0x882B): _Rule("SelfTimerMode"),
    (_EXIF, 0x8830): _Rule("SensitivityType"),
    (_EXIF, 0x8831): _Rule("StandardOutputSensitivity"),
    (_EXIF, 0x8832): _Rule("RecommendedExposureIndex"),
    (_EXIF, 0x8833): _Rule("ISOSpeed"),
    (_EXIF, 0x8834): _Rule("ISOSpeedLatitudeyyy"),
    (_EXIF, 0x8835): _Rule("ISOSpeedLatitudezzz"),
    (_EXIF, 0x9000): _Rule("EXIFVersion"),
    (_EXIF, 0x9201): _Rule("ShutterSpeedValue"),
    (_EXIF, 0x9202): _Rule("ApertureValue"),
    (_EXIF, 0x9203): _Rule("BrightnessValue"),
    (_EXIF, 0x9204): _Rule("ExposureBiasValue"),
    (_EXIF, 0x9205): _Rule("MaxApertureValue"),
    (_EXIF, 0x9206): _Rule("SubjectDistance"),
    (_EXIF, 0x9207): _Rule("MeteringMode"),
    (_EXIF, 0x9208): _Rule("LightSource"),
    (_EXIF, 0x920A): _Rule("FocalLength"),
    (_EXIF, 0x920B): _Rule("FlashEnergy", "TIFF/EP tag", fallback=True),
    (_EXIF, 0x9214): _Rule("SubjectArea"),
    (_EXIF, 0x9215): _Rule("PhotographicExposureIndex", "TIFF/EP tag", fallback=True),
    (_EXIF, 0x927C): _Rule(
        "MakerNote", "copied unchanged; vendor offsets may point into the original file"
    ),
    (_EXIF, 0x9400): _Rule("Temperature"),
    (_EXIF, 0x9401): _Rule("Humidity"),
    (_EXIF, 0x9402): _Rule("Pressure"),
    (_EXIF, 0x9403): _Rule("WaterDepth"),
    (_EXIF, 0x9404): _Rule("Acceleration"),
    (_EXIF, 0x9405): _Rule("CameraElevationAngle"),
    (_EXIF, 0xA20B): _Rule("FlashEnergy"),
    (_EXIF, 0xA214): _Rule("SubjectLocation"),
    (_EXIF, 0xA215): _Rule("PhotographicExposureIndex"),
    (_EXIF, 0xA217): _Rule("SensingMethod"),
    (_EXIF, 0xA300): _Rule("FileSource"),
    (_EXIF, 0xA301): _Rule("SceneType"),
    (_EXIF, 0xA401): _Rule("CustomRendered"),
    (_EXIF, 0xA402): _Rule("ExposureMode"),
    (_EXIF, 0xA403): _Rule("WhiteBalance"),
    (_EXIF, 0xA404): _Rule("DigitalZoomRatio"),
    (_EXIF, 0xA405): _Rule("FocalLengthIn35mmFilm"),
    (_EXIF, 0xA406): _Rule("SceneCaptureType"),
    (_EXIF, 0xA407): _Rule("GainControl"),
    (_EXIF, 0xA408): _Rule("Contrast"),
    (_EXIF, 0xA409): _Rule("Saturation"),
    (_EXIF, 0xA40A): _Rule("Sharpness"),
    (_EXIF, 0xA40B): _Rule("DeviceSettingDescription"),
    (_EXIF, 0xA40C): _Rule("SubjectDistanceRange"),
    (_INTEROP, 0x0001): _Rule("InteroperabilityIndex"),
    (_INTEROP, 0x0002): _Rule("InteroperabilityVersion"),
    # VL Photographic Equipment module.
    (_EXIF, 0xA430): _Rule("CameraOwnerName"),
    (_EXIF, 0xA432): _Rule("LensSpecification"),
    (_EXIF, 0xA433): _Rule("LensMake"),
    (_EXIF, 0xA434): _Rule("LensModel"),
    (_EXIF, 0xA435): _Rule("LensSerialNumber"),
}

# VL Photographic Geolocation module: the DICOM keywords are the EXIF GPS tag
# names. GPSTimeStamp and GPSDateStamp need a special conversion (DT values).
_GPS_TIME_STAMP = 0x0007
_GPS_DATE_STAMP = 0x001D
_RULES.update(
    {
        (_GPS, tag): _Rule(name)
        for tag, name in ExifTags.GPSTAGS.items()
        if tag not in (_GPS_TIME_STAMP, _GPS_DATE_STAMP) and tag_for_keyword(name) is not None
    }
)

# IFD pointers: structure, not metadata; left out of the report.
_POINTERS = {(_IFD0, 0x8769), (_IFD0, 0x8825), (_EXIF, 0xA005), (_IFD0, 0xA005)}

# Date and time tags (Exif IFD).
_DATETIME_ORIGINAL = 0x9003
_DATETIME_DIGITIZED = 0x9004
_OFFSET_TIME = 0x9010
_OFFSET_TIME_ORIGINAL = 0x9011
_OFFSET_TIME_DIGITIZED = 0x9012
_SUBSEC_TIME = 0x9290
_SUBSEC_TIME_ORIGINAL = 0x9291
_SUBSEC_TIME_DIGITIZED = 0x9292

_FLASH = 0x9209
_ISO_SPEED_RATINGS = 0x8827
_OECF = 0x8828
_SFR_TIFF_EP = 0x920C
_SFR = 0xA20C
_CFA_PATTERN = 0xA302
_SUBJECT_DISTANCE = 0x9206

_NO_HOME = "no DICOM attribute"
_FREE_TEXT = (
    "no DICOM attribute: free text is not copied (camera boilerplate, may name people); "
    "enter ImageComments yourself if wanted"
)
_NOTES: dict[tuple[str, int], str] = {
    (_IFD0, 0x0112): "applied to the pixels",
    (_IFD0, 0x011A): "no DICOM attribute: print resolution, not pixel spacing",
    (_IFD0, 0x011B): "no DICOM attribute: print resolution, not pixel spacing",
    (_IFD0, 0x0128): "no DICOM attribute: print resolution, not pixel spacing",
    # ImageDescription and UserComment could go to ImageComments (0020,4000), but
    # cameras fill them with boilerplate ("OLYMPUS DIGITAL CAMERA", blank padding)
    # and people type names into them: copying them silently into a clinical
    # object is worse than leaving the choice to the user.
    (_IFD0, 0x010E): _FREE_TEXT,
    (_EXIF, 0x9286): _FREE_TEXT,
    # Artist is who made the picture; OperatorsName (0008,1070) is a PN for the
    # person operating the equipment. Not the same thing, so not copied.
    (_IFD0, 0x013B): "no DICOM attribute: OperatorsName is a person name of the operator",
    (_IFD0, 0x0132): "no DICOM attribute: date and time the file was changed",
    (_EXIF, _OFFSET_TIME): "no DICOM attribute: offset of DateTime (file change time)",
    (_EXIF, _SUBSEC_TIME): "no DICOM attribute: fraction of DateTime (file change time)",
    (_EXIF, 0xA002): "no DICOM attribute: Columns comes from the pixels",
    (_EXIF, 0xA003): "no DICOM attribute: Rows comes from the pixels",
    (_EXIF, 0xA001): "no DICOM attribute: colour is described by the ICC profile",
    (_EXIF, 0xA20E): "no DICOM attribute: sensor resolution, not pixel spacing",
    (_EXIF, 0xA20F): "no DICOM attribute: sensor resolution, not pixel spacing",
    (_EXIF, 0xA210): "no DICOM attribute: sensor resolution, not pixel spacing",
    (_GPS, 0x001F): _NO_HOME,
}

_TAG_NAMES: dict[tuple[str, int], str] = {
    # Pillow names 0x9214 after TIFF/EP; EXIF 2.2 and later call it SubjectArea.
    (_EXIF, 0x9214): "SubjectArea",
    (_EXIF, 0x9400): "Temperature",
    (_INTEROP, 0x0001): "InteroperabilityIndex",
    (_INTEROP, 0x0002): "InteroperabilityVersion",
    (_INTEROP, 0x1000): "RelatedImageFileFormat",
    (_INTEROP, 0x1001): "RelatedImageWidth",
    (_INTEROP, 0x1002): "RelatedImageLength",
}

# Maximum characters per value for the text VRs used here (PS3.5 Table 6.2-1).
_MAX_CHARS = {"SH": 16, "LO": 64, "CS": 16, "ST": 1024, "LT": 10240}
_TEXT_VRS = {"SH", "LO", "CS", "ST", "LT", "UT", "UC"}
# VRs whose values are separated by backslashes, so a value cannot contain one.
_MULTI_VALUE_TEXT_VRS = {"SH", "LO", "CS", "UC"}
_CS_RE = re.compile(r"[A-Z0-9 _]{1,16}")
_INT_RANGES = {
    "US": (0, 2**16 - 1),
    "SS": (-(2**15), 2**15 - 1),
    "UL": (0, 2**32 - 1),
    "SL": (-(2**31), 2**31 - 1),
    "IS": (-(2**31), 2**31 - 1),
}

# EXIF's defined values for its enumerated tags; DICOM's group 0016 attributes
# take the same numbers, so any other number (e.g. 0xFFFF from some cameras)
# is left out with a note rather than written as an unrecognised value.
_ENUMERATED: dict[str, frozenset[int]] = {
    "ExposureProgram": frozenset(range(9)),
    "MeteringMode": frozenset({*range(7), 255}),
    "LightSource": frozenset({*range(5), *range(9, 16), *range(17, 25), 255}),
    "SensingMethod": frozenset({1, 2, 3, 4, 5, 7, 8}),
    "FileSource": frozenset({0, 1, 2, 3}),
    "SceneType": frozenset({1}),
    "CustomRendered": frozenset(range(7)),
    "ExposureMode": frozenset(range(3)),
    "WhiteBalance": frozenset(range(2)),
    "SceneCaptureType": frozenset(range(4)),
    "GainControl": frozenset(range(5)),
    "Contrast": frozenset(range(3)),
    "Saturation": frozenset(range(3)),
    "Sharpness": frozenset(range(3)),
    "SubjectDistanceRange": frozenset(range(4)),
    "SensitivityType": frozenset(range(8)),
}


# --- entry points --------------------------------------------------------------


def map_exif(exif: bytes | None, *, include_gps: bool = False) -> ExifResult:
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
    mapper = _Mapper(include_gps=include_gps, endian=">" if data[:2] == b"MM" else "<")
    try:
        mapper.run(ifds)
    except Exception as exc:  # each tag is guarded; this is the last line of defence
        return _unreadable(exif, f"{type(exc).__name__}: {exc}")
    for ifd_name, reason in problems:
        mapper.add_row(
            _IFD_RANK[ifd_name],
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
    ifds: dict[str, dict[int, Any]] = {_IFD0: {tag: exif[tag] for tag in exif}}
    if not ifds[_IFD0]:
        # Pillow only warns about a corrupt IFD and returns it empty.
        raise ValueError("IFD0 is empty or corrupt")
    problems: list[tuple[str, str]] = []
    for name, ifd_id, pointer_ifd, pointer in (
        (_EXIF, ExifTags.IFD.Exif, _IFD0, 0x8769),
        (_GPS, ExifTags.IFD.GPSInfo, _IFD0, 0x8825),
        (_INTEROP, ExifTags.IFD.Interop, _EXIF, 0xA005),
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


@dataclass(frozen=True)
class _Stamp:
    """An EXIF date/time with its optional fraction and UTC offset, in DICOM form."""

    date: str  # YYYYMMDD
    time: str  # HHMMSS[.F...]
    offset: str | None  # +HHMM

    @property
    def dt(self) -> str:
        return self.date + self.time + (self.offset or "")


class _Mapper:
    """Collects values and report rows for one EXIF block."""

    def __init__(self, *, include_gps: bool, endian: str) -> None:
        self.include_gps = include_gps
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
        name = _tag_name(*where)
        shown = _show_value(raw)
        rank = _IFD_RANK[where[0]]
        for keyword, value, note in outputs:
            if keyword is None or value is None:
                self.add_row(rank, where[1], ExifMapping(name, shown, keyword, None, note))
                continue
            if isinstance(value, _Shown):
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
        exif_ifd = ifds.get(_EXIF, {})
        acquisition = _stamp(
            exif_ifd, _DATETIME_ORIGINAL, _SUBSEC_TIME_ORIGINAL, _OFFSET_TIME_ORIGINAL
        )
        content = _stamp(exif_ifd, _DATETIME_DIGITIZED, _SUBSEC_TIME_DIGITIZED, None)
        entries = [
            (ifd_name, tag, raw)
            for ifd_name in (_IFD0, _EXIF, _INTEROP, _GPS)
            for tag, raw in sorted(ifds.get(ifd_name, {}).items())
            if (ifd_name, tag) not in _POINTERS
        ]
        # Primary rules first so that fallbacks only fill what is still empty.
        deferred = []
        for ifd_name, tag, raw in entries:
            rule = _RULES.get((ifd_name, tag))
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
        acquisition: _Stamp | str | None,
        content: _Stamp | str | None,
    ) -> None:
        where = (ifd_name, tag)
        try:
            outputs = self.outputs(ifd_name, tag, raw, ifds, acquisition, content)
        except _SkipError as skip:
            keyword = _RULES[where].keyword if where in _RULES else None
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
        acquisition: _Stamp | str | None,
        content: _Stamp | str | None,
    ) -> list[tuple[str | None, Any, str]]:
        where = (ifd_name, tag)
        if ifd_name == _GPS:
            if not self.include_gps:
                return [(None, None, GPS_NOTE)]
            if tag == _GPS_TIME_STAMP:
                return [("GPSTimeStamp", _gps_time_stamp(raw, ifds[_GPS]), "UTC")]
            if tag == _GPS_DATE_STAMP:
                return [("GPSDateStamp", _gps_date_stamp(raw), "UTC")]
        if ifd_name == _EXIF:
            special = self.exif_special(tag, raw, acquisition, content)
            if special is not None:
                return special
        rule = _RULES.get(where)
        if rule is None:
            return [(None, None, _NOTES.get(where, _NO_HOME))]
        notes: list[str] = [rule.note] if rule.note else []
        value = _convert(rule.keyword, raw, notes)
        return [(rule.keyword, value, "; ".join(notes))]

    def exif_special(
        self,
        tag: int,
        raw: Any,
        acquisition: _Stamp | str | None,
        content: _Stamp | str | None,
    ) -> list[tuple[str | None, Any, str]] | None:
        """Outputs for Exif IFD tags that need more than the VR-driven converter."""
        if tag == _FLASH:
            return _flash(raw)
        if tag == _ISO_SPEED_RATINGS:
            return _iso_speed_ratings(raw)
        if tag == _SUBJECT_DISTANCE:
            _check_subject_distance(raw)
            return None
        if tag == _CFA_PATTERN:
            return _cfa_pattern(raw, self.endian)
        if tag == _OECF:
            return _conversion_table(raw, self.endian, "OECF", signed=True)
        if tag in (_SFR, _SFR_TIFF_EP):
            if tag == _SFR_TIFF_EP and "SpatialFrequencyResponseValues" in self.values:
                return [(None, None, "not used: EXIF SpatialFrequencyResponse already copied")]
            return _conversion_table(raw, self.endian, "SpatialFrequencyResponse", signed=False)
        if tag == _DATETIME_ORIGINAL:
            return _acquisition_outputs(acquisition, content)
        if tag == _SUBSEC_TIME_ORIGINAL:
            return _part_outputs(acquisition, "fraction of a second of DateTimeOriginal")
        if tag == _OFFSET_TIME_ORIGINAL:
            return _part_outputs(
                acquisition, "UTC offset of DateTimeOriginal", keywords=("AcquisitionDateTime",)
            )
        if tag == _DATETIME_DIGITIZED:
            return _content_outputs(content)
        if tag == _SUBSEC_TIME_DIGITIZED:
            return _part_outputs(
                content,
                "fraction of a second of DateTimeDigitized",
                keywords=("ContentTime",),
            )
        if tag == _OFFSET_TIME_DIGITIZED:
            return [
                (
                    None,
                    None,
                    "no DICOM attribute: ContentDate/ContentTime carry no UTC offset "
                    "(TimezoneOffsetFromUTC would apply to the whole dataset)",
                )
            ]
        return None


# --- VR-driven conversion --------------------------------------------------------


def _convert(keyword: str, raw: Any, notes: list[str]) -> Any:
    """Convert an EXIF value to a value valid for ``keyword``'s VR and VM."""
    vr = dictionary_VR(keyword)
    if vr == "OB":
        return _as_bytes(raw)
    if vr in _INT_RANGES or vr in ("DS", "FL", "FD"):
        items: list[Any] = [_format_number(vr, n) for n in _numbers(raw)]
    elif vr in _TEXT_VRS:
        items = [_clean_text(vr, _as_text(raw), notes)]
    else:
        raise _SkipError(f"no converter for VR {vr}")
    _check_vm(keyword, len(items))
    allowed = _ENUMERATED.get(keyword)
    if allowed is not None and any(item not in allowed for item in items):
        raise _SkipError(f"{items} is not one of EXIF's defined values {sorted(allowed)}")
    return items[0] if len(items) == 1 else items


def _numbers(raw: Any) -> list[Fraction | float | int]:
    """The numbers in an EXIF value (rationals exact); n/0 and non-finite values refused."""
    if isinstance(raw, bytes):
        return list(raw)
    items = raw if isinstance(raw, tuple | list) else (raw,)
    out: list[Fraction | float | int] = []
    for item in items:
        if isinstance(item, IFDRational):
            if item.denominator == 0:
                raise _SkipError(f"{item.numerator}/0 means unknown")
            numerator = item.numerator
            if isinstance(numerator, int):
                out.append(Fraction(numerator, item.denominator))
            else:
                out.append(float(numerator) / item.denominator)
        elif isinstance(item, int):
            out.append(item)
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise _SkipError(f"{item} is not a finite number")
            out.append(item)
        elif isinstance(item, str | bytes):
            text = _as_text(item).strip()
            try:
                number = float(text)
            except ValueError:
                raise _SkipError(f"{text!r} is not a number") from None
            if not math.isfinite(number):
                raise _SkipError(f"{text!r} is not a finite number")
            out.append(number)
        else:
            raise _SkipError(f"unexpected value type {type(item).__name__}")
    if not out:
        raise _SkipError("empty value")
    return out


def _format_number(vr: str, number: Fraction | float | int) -> Any:
    if vr == "DS":
        return _ds(number)
    if vr in ("FL", "FD"):
        return float(number)
    if isinstance(number, Fraction) and number.denominator == 1:
        number = int(number)
    if isinstance(number, float) and number.is_integer():
        number = int(number)
    if not isinstance(number, int):
        raise _SkipError(f"{float(number):g} is not a whole number ({vr})")
    low, high = _INT_RANGES[vr]
    if not low <= number <= high:
        raise _SkipError(f"{number} is outside the {vr} range {low}..{high}")
    return str(number) if vr == "IS" else number


def _ds(number: Fraction | float | int) -> str:
    """A DS string of at most 16 characters, e.g. 1/125 -> '0.008'."""
    if isinstance(number, int) or (isinstance(number, Fraction) and number.denominator == 1):
        text = str(int(number))
        if len(text) <= 16:
            return text
    value = float(number)
    if not math.isfinite(value):
        raise _SkipError(f"{value} is not a finite number")
    return format_number_as_ds(value)


def _check_vm(keyword: str, count: int) -> None:
    vm = dictionary_VM(keyword)
    low_text, _, high_text = vm.partition("-")
    low = int(low_text)
    high = None if high_text == "n" else int(high_text or low_text)
    if count < low or (high is not None and count > high):
        raise _SkipError(f"EXIF has {count} value(s), DICOM {keyword} takes {vm}")


def _as_text(raw: Any) -> str:
    """Text of an EXIF value; Pillow decodes ASCII as Latin-1, UTF-8 is recovered."""
    if isinstance(raw, bytes):
        text = raw.split(b"\x00", 1)[0].decode("latin-1")
    elif isinstance(raw, str):
        text = raw.split("\x00", 1)[0]
    elif isinstance(raw, tuple | list):
        return ", ".join(_as_text(item) for item in raw)
    elif isinstance(raw, IFDRational | int | float):
        return _ds(_numbers(raw)[0])
    else:
        raise _SkipError(f"unexpected value type {type(raw).__name__}")
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _clean_text(vr: str, text: str, notes: list[str]) -> str:
    keep = "\r\n\t\f" if vr in ("ST", "LT", "UT") else ""
    cleaned = "".join(
        ch if ch in keep or (ch.isprintable() or ch == " ") else " " for ch in text
    ).strip()
    if cleaned != text.strip():
        notes.append("control characters replaced by spaces")
    if vr in _MULTI_VALUE_TEXT_VRS and "\\" in cleaned:
        cleaned = cleaned.replace("\\", "/")
        notes.append("backslash replaced by '/' (it separates DICOM values)")
    if not cleaned:
        raise _SkipError("empty value")
    if vr == "CS":
        if not _CS_RE.fullmatch(cleaned):
            raise _SkipError(f"{cleaned!r} is not a valid CS value (A-Z, 0-9, space, _; 16 chars)")
        return cleaned
    limit = _MAX_CHARS.get(vr)
    if limit is not None and len(cleaned) > limit:
        cleaned = cleaned[:limit].rstrip()
        notes.append(f"cut to {limit} characters ({vr})")
    return cleaned


def _as_bytes(raw: Any) -> bytes:
    if isinstance(raw, bytes):
        data = raw
    elif isinstance(raw, str):
        data = raw.encode("latin-1", "replace")
    elif isinstance(raw, int) and 0 <= raw <= 255:
        data = bytes([raw])
    elif isinstance(raw, tuple | list) and all(isinstance(b, int) and 0 <= b <= 255 for b in raw):
        data = bytes(raw)
    else:
        raise _SkipError(f"unexpected value type {type(raw).__name__} for OB")
    if not data:
        raise _SkipError("empty value")
    return data


# --- special tags ----------------------------------------------------------------


def _flash(raw: Any) -> list[tuple[str | None, Any, str]]:
    """Split the EXIF Flash bit field into the five DICOM flash attributes.

    DICOM keeps the EXIF codes: firing status is bit 0, return status bits
    1-2 (0, 2 or 3; 1 is reserved), mode bits 3-4, function present bit 5
    (0 = present), red-eye mode bit 6.
    """
    bits = _numbers(raw)
    if len(bits) != 1 or not isinstance(bits[0], int):
        raise _SkipError("Flash is not a single whole number")
    value = bits[0]
    if not 0 <= value <= 0xFFFF:
        raise _SkipError(f"{value} is not a 16-bit value")
    parts = [
        ("FlashFiringStatus", value & 1, "bit 0"),
        ("FlashReturnStatus", (value >> 1) & 3, "bits 1-2"),
        ("FlashMode", (value >> 3) & 3, "bits 3-4"),
        ("FlashFunctionPresent", (value >> 5) & 1, "bit 5 (0 = flash function present)"),
        ("FlashRedEyeMode", (value >> 6) & 1, "bit 6"),
    ]
    outputs: list[tuple[str | None, Any, str]] = []
    for keyword, part, note in parts:
        if keyword == "FlashReturnStatus" and part == 1:
            outputs.append((keyword, None, "not copied: return status 1 is reserved in EXIF"))
        else:
            outputs.append((keyword, part, note))
    return outputs


def _iso_speed_ratings(raw: Any) -> list[tuple[str | None, Any, str]]:
    numbers = _numbers(raw)
    notes = [] if len(numbers) == 1 else [f"first of {len(numbers)} values"]
    value = _format_number(dictionary_VR("PhotographicSensitivity"), numbers[0])
    return [("PhotographicSensitivity", value, "; ".join(notes))]


def _check_subject_distance(raw: Any) -> None:
    if isinstance(raw, IFDRational):
        if raw.numerator == 0:
            raise _SkipError("0 means the distance is unknown")
        if raw.numerator == 0xFFFFFFFF:
            raise _SkipError("infinity cannot be written as DS")


def _cfa_pattern(raw: Any, endian: str) -> list[tuple[str | None, Any, str]]:
    """EXIF CFAPattern: columns and rows (SHORT each), then one byte per cell."""
    if not isinstance(raw, bytes) or len(raw) < 5:
        raise _SkipError("not a CFA pattern block")
    for order in (endian, "<" if endian == ">" else ">"):
        columns, rows = struct.unpack(order + "HH", raw[:4])
        if columns * rows == len(raw) - 4 and columns and rows:
            cells = [_ds(b) for b in raw[4:]]
            return [
                ("ColorFilterArrayPatternColumns", str(columns), ""),
                ("ColorFilterArrayPatternRows", str(rows), ""),
                ("ColorFilterArrayPatternValues", cells, "colour codes, row by row"),
            ]
    raise _SkipError("size does not match its columns x rows")


def _conversion_table(
    raw: Any, endian: str, prefix: str, *, signed: bool
) -> list[tuple[str | None, Any, str]]:
    """OECF / SFR: columns, rows (SHORT), column names (NUL-ended), then rationals."""
    if not isinstance(raw, bytes) or len(raw) < 4:
        raise _SkipError("not an OECF/SFR table")
    columns, rows = struct.unpack(endian + "HH", raw[:4])
    if not columns or not rows:
        raise _SkipError("table has no rows or columns")
    names = []
    pos = 4
    for _ in range(columns):
        end = raw.find(b"\x00", pos)
        if end < 0:
            raise _SkipError("column names are not NUL-terminated")
        names.append(_as_text(raw[pos:end]).strip())
        pos = end + 1
    count = columns * rows
    if len(raw) - pos != 8 * count:
        raise _SkipError(f"expected {count} rationals after the column names")
    ints = struct.unpack(f"{endian}{2 * count}{'l' if signed else 'L'}", raw[pos:])
    values = []
    for numerator, denominator in zip(ints[::2], ints[1::2], strict=True):
        if denominator == 0:
            raise _SkipError(f"{numerator}/0 in the table")
        values.append(_ds(Fraction(numerator, denominator)))
    outputs: list[tuple[str | None, Any, str]] = [
        (f"{prefix}Rows", str(rows), ""),
        (f"{prefix}Columns", str(columns), ""),
    ]
    clean = [n.replace("\\", "/") for n in names]
    if all(clean):
        outputs.append((f"{prefix}ColumnNames", clean if len(clean) > 1 else clean[0], ""))
    else:
        outputs.append((f"{prefix}ColumnNames", None, "not copied: a column name is empty"))
    outputs.append((f"{prefix}Values", values if len(values) > 1 else values[0], "row by row"))
    return outputs


# --- dates and times -------------------------------------------------------------

_EXIF_DATETIME_RE = re.compile(r"(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_OFFSET_RE = re.compile(r"([+-])(\d{2}):?(\d{2})")


def _stamp(
    ifd: Mapping[int, Any], main: int, subsec: int, offset: int | None
) -> _Stamp | str | None:
    """The DICOM form of a date/time tag group; None if absent, a reason if invalid."""
    if main not in ifd:
        return None
    try:
        return _parse_stamp(ifd, main, subsec, offset)
    except _SkipError as skip:
        return str(skip)


def _parse_stamp(
    ifd: Mapping[int, Any], main: int, subsec: int, offset: int | None
) -> _Stamp | str:
    text = _as_text(ifd[main]).strip()
    match = _EXIF_DATETIME_RE.fullmatch(text)
    if match is None:
        return f"{text!r} is not an EXIF date/time (YYYY:MM:DD HH:MM:SS)"
    year, month, day, hour, minute, second = (int(g) for g in match.groups())
    try:
        datetime(year, month, day, hour, minute, second)
    except ValueError:
        return f"{text!r} is not a valid date/time"
    time = f"{hour:02d}{minute:02d}{second:02d}"
    fraction = _as_text(ifd.get(subsec, "")).strip()
    if fraction.isdigit():
        time += "." + fraction[:6]
    zone = None
    if offset is not None:
        zone_match = _OFFSET_RE.fullmatch(_as_text(ifd.get(offset, "")).strip())
        if zone_match is not None:
            sign, hours, minutes = zone_match.groups()
            total = int(hours) * 60 + int(minutes)
            if int(minutes) < 60 and -12 * 60 <= (-total if sign == "-" else total) <= 14 * 60:
                zone = f"{sign}{hours}{minutes}"
    return _Stamp(f"{year:04d}{month:02d}{day:02d}", time, zone)


def _acquisition_outputs(
    acquisition: _Stamp | str | None, content: _Stamp | str | None
) -> list[tuple[str | None, Any, str]]:
    if not isinstance(acquisition, _Stamp):
        return [(None, None, f"not copied: {acquisition}")]
    outputs: list[tuple[str | None, Any, str]] = [
        ("AcquisitionDateTime", acquisition.dt, "" if acquisition.offset else "local time"),
        ("AcquisitionDate", acquisition.date, ""),
        ("AcquisitionTime", acquisition.time, ""),
    ]
    if not isinstance(content, _Stamp):
        outputs += [
            ("ContentDate", acquisition.date, "no valid DateTimeDigitized"),
            ("ContentTime", acquisition.time, "no valid DateTimeDigitized"),
        ]
    return outputs


def _content_outputs(content: _Stamp | str | None) -> list[tuple[str | None, Any, str]]:
    if not isinstance(content, _Stamp):
        return [(None, None, f"not copied: {content}; DateTimeOriginal used if valid")]
    return [("ContentDate", content.date, ""), ("ContentTime", content.time, "")]


def _part_outputs(
    stamp: _Stamp | str | None,
    what: str,
    keywords: tuple[str, ...] = ("AcquisitionDateTime", "AcquisitionTime"),
) -> list[tuple[str | None, Any, str]]:
    """Rows for a SubSecTime/OffsetTime tag: shown in the attributes it was merged into."""
    if not isinstance(stamp, _Stamp):
        return [(None, None, f"not used: {what}, but that date/time is missing or invalid")]
    rows: list[tuple[str | None, Any, str]] = []
    for keyword in keywords:
        shown = stamp.dt if keyword.endswith("DateTime") else stamp.time
        rows.append((keyword, _Shown(shown), f"{what}: merged into {keyword}"))
    return rows


def _gps_date_stamp(raw: Any) -> str:
    text = _as_text(raw).strip()
    match = re.fullmatch(r"(\d{4}):(\d{2}):(\d{2})", text)
    if match is None:
        raise _SkipError(f"{text!r} is not an EXIF date (YYYY:MM:DD)")
    year, month, day = (int(g) for g in match.groups())
    try:
        datetime(year, month, day)
    except ValueError:
        raise _SkipError(f"{text!r} is not a valid date") from None
    return f"{year:04d}{month:02d}{day:02d}"


def _gps_time_stamp(raw: Any, gps: Mapping[int, Any]) -> str:
    """GPS time (h, m, s as UTC) plus GPSDateStamp as a DT with offset +0000."""
    parts = _numbers(raw)
    if len(parts) != 3:
        raise _SkipError("GPSTimeStamp needs hour, minute and second")
    hour, minute = parts[0], parts[1]
    second = Fraction(parts[2]) if not isinstance(parts[2], float) else Fraction(str(parts[2]))
    if not (int(hour) == hour and int(minute) == minute):
        raise _SkipError("hour and minute must be whole numbers")
    if not (0 <= hour < 24 and 0 <= minute < 60 and 0 <= second < 61):
        raise _SkipError("time out of range")
    if _GPS_DATE_STAMP not in gps:
        raise _SkipError("a DICOM DT needs the date; GPSDateStamp is missing")
    date = _gps_date_stamp(gps[_GPS_DATE_STAMP])
    whole = int(second)
    text = f"{date}{int(hour):02d}{int(minute):02d}{whole:02d}"
    micro = round((second - whole) * 1_000_000)
    if 0 < micro < 1_000_000:
        text += f".{micro:06d}".rstrip("0")
    return text + "+0000"


# --- display helpers -------------------------------------------------------------


def _tag_name(ifd_name: str, tag: int) -> str:
    if (ifd_name, tag) in _TAG_NAMES:
        return _TAG_NAMES[(ifd_name, tag)]
    names = ExifTags.GPSTAGS if ifd_name == _GPS else ExifTags.TAGS
    return names.get(tag) or f"0x{tag:04X}"


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
