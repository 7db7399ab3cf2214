"""EXIF dates, times and GPS stamps in DICOM form (DA, TM, DT)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from tbp_core.sources.exifconvert import Output, SkipError, as_text, exif_numbers
from tbp_core.sources.exifrules import GPS_DATE_STAMP


@dataclass(frozen=True)
class Shown:
    """A report-only DICOM value: the tag was merged into a value stored elsewhere."""

    text: str


@dataclass(frozen=True)
class Stamp:
    """An EXIF date/time with its optional fraction and UTC offset, in DICOM form."""

    date: str  # YYYYMMDD
    time: str  # HHMMSS[.F...]
    offset: str | None  # +HHMM

    @property
    def dt(self) -> str:
        """The DT value: date, time and UTC offset if known."""
        return self.date + self.time + (self.offset or "")


_EXIF_DATETIME_RE = re.compile(r"(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_OFFSET_RE = re.compile(r"([+-])(\d{2}):?(\d{2})")


def read_stamp(
    ifd: Mapping[int, Any], main: int, subsec: int, offset: int | None
) -> Stamp | str | None:
    """The DICOM form of a date/time tag group; None if absent, a reason if invalid."""
    if main not in ifd:
        return None
    try:
        return _parse_stamp(ifd, main, subsec, offset)
    except SkipError as skip:
        return str(skip)


def _parse_stamp(ifd: Mapping[int, Any], main: int, subsec: int, offset: int | None) -> Stamp | str:
    text = as_text(ifd[main]).strip()
    match = _EXIF_DATETIME_RE.fullmatch(text)
    if match is None:
        return f"{text!r} is not an EXIF date/time (YYYY:MM:DD HH:MM:SS)"
    year, month, day, hour, minute, second = (int(g) for g in match.groups())
    try:
        datetime(year, month, day, hour, minute, second)
    except ValueError:
        return f"{text!r} is not a valid date/time"
    time = f"{hour:02d}{minute:02d}{second:02d}"
    fraction = as_text(ifd.get(subsec, "")).strip()
    if fraction.isdigit():
        time += "." + fraction[:6]
    zone = None
    if offset is not None:
        zone_match = _OFFSET_RE.fullmatch(as_text(ifd.get(offset, "")).strip())
        if zone_match is not None:
            sign, hours, minutes = zone_match.groups()
            total = int(hours) * 60 + int(minutes)
            if int(minutes) < 60 and -12 * 60 <= (-total if sign == "-" else total) <= 14 * 60:
                zone = f"{sign}{hours}{minutes}"
    return Stamp(f"{year:04d}{month:02d}{day:02d}", time, zone)


def acquisition_outputs(
    acquisition: Stamp | str | None, content: Stamp | str | None
) -> list[Output]:
    """Outputs for DateTimeOriginal: acquisition date/time, and content if no valid digitized."""
    if not isinstance(acquisition, Stamp):
        return [(None, None, f"not copied: {acquisition}")]
    outputs: list[Output] = [
        ("AcquisitionDateTime", acquisition.dt, "" if acquisition.offset else "local time"),
        ("AcquisitionDate", acquisition.date, ""),
        ("AcquisitionTime", acquisition.time, ""),
    ]
    if not isinstance(content, Stamp):
        outputs += [
            ("ContentDate", acquisition.date, "no valid DateTimeDigitized"),
            ("ContentTime", acquisition.time, "no valid DateTimeDigitized"),
        ]
    return outputs


def content_outputs(content: Stamp | str | None) -> list[Output]:
    """Outputs for DateTimeDigitized: ContentDate and ContentTime."""
    if not isinstance(content, Stamp):
        return [(None, None, f"not copied: {content}; DateTimeOriginal used if valid")]
    return [("ContentDate", content.date, ""), ("ContentTime", content.time, "")]


def part_outputs(
    stamp: Stamp | str | None,
    what: str,
    keywords: tuple[str, ...] = ("AcquisitionDateTime", "AcquisitionTime"),
) -> list[Output]:
    """Rows for a SubSecTime/OffsetTime tag: shown in the attributes it was merged into."""
    if not isinstance(stamp, Stamp):
        return [(None, None, f"not used: {what}, but that date/time is missing or invalid")]
    rows: list[Output] = []
    for keyword in keywords:
        shown = stamp.dt if keyword.endswith("DateTime") else stamp.time
        rows.append((keyword, Shown(shown), f"{what}: merged into {keyword}"))
    return rows


def gps_date_stamp(raw: Any) -> str:
    """EXIF GPSDateStamp (YYYY:MM:DD) as a DICOM DA."""
    text = as_text(raw).strip()
    match = re.fullmatch(r"(\d{4}):(\d{2}):(\d{2})", text)
    if match is None:
        raise SkipError(f"{text!r} is not an EXIF date (YYYY:MM:DD)")
    year, month, day = (int(g) for g in match.groups())
    try:
        datetime(year, month, day)
    except ValueError:
        raise SkipError(f"{text!r} is not a valid date") from None
    return f"{year:04d}{month:02d}{day:02d}"


def gps_time_stamp(raw: Any, gps: Mapping[int, Any]) -> str:
    """GPS time (h, m, s as UTC) plus GPSDateStamp as a DT with offset +0000."""
    parts = exif_numbers(raw)
    if len(parts) != 3:
        raise SkipError("GPSTimeStamp needs hour, minute and second")
    hour, minute = parts[0], parts[1]
    second = Fraction(parts[2]) if not isinstance(parts[2], float) else Fraction(str(parts[2]))
    if not (int(hour) == hour and int(minute) == minute):
        raise SkipError("hour and minute must be whole numbers")
    if not (0 <= hour < 24 and 0 <= minute < 60 and 0 <= second < 61):
        raise SkipError("time out of range")
    if GPS_DATE_STAMP not in gps:
        raise SkipError("a DICOM DT needs the date; GPSDateStamp is missing")
    date = gps_date_stamp(gps[GPS_DATE_STAMP])
    whole = int(second)
    text = f"{date}{int(hour):02d}{int(minute):02d}{whole:02d}"
    micro = round((second - whole) * 1_000_000)
    if 0 < micro < 1_000_000:
        text += f".{micro:06d}".rstrip("0")
    return text + "+0000"
