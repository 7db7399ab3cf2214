"""Checks outside the module tables.

SOP class, retired and foreign attributes, private creators, obsolete codes,
photometric interpretation, Pixel Data length.
"""

from __future__ import annotations

from pydicom.datadict import dictionary_has_tag, dictionary_is_retired, keyword_for_tag
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import UID

from tbp_core import standard
from tbp_core.validation.context import (
    Context,
    element,
    field_for,
    has,
    integer,
    items_by_tag,
    join_path,
    raw_element,
    text,
    top_level_tags,
    transfer_syntax,
)
from tbp_core.validation.findings import Finding, tag_text

#: Transfer syntaxes whose Pixel Data is native (not encapsulated).
_NATIVE_SYNTAXES = frozenset(
    {
        "1.2.840.10008.1.2",
        "1.2.840.10008.1.2.1",
        "1.2.840.10008.1.2.1.99",
        "1.2.840.10008.1.2.2",
    }
)


#: Retired attributes with an obvious replacement.
_REPLACEMENTS = {
    "ImagePosition": "ImagePositionPatient (0020,0032) with a FrameOfReferenceUID",
    "ImageOrientation": "ImageOrientationPatient (0020,0037) with a FrameOfReferenceUID",
    "Location": "SliceLocation (0020,1041)",
    "OtherPatientIDs": "OtherPatientIDsSequence (0010,1002)",
}

#: Samples per Pixel each Photometric Interpretation needs.
_SAMPLES_FOR_PHOTOMETRIC = {
    "MONOCHROME1": 1,
    "MONOCHROME2": 1,
    "PALETTE COLOR": 1,
    "RGB": 3,
    "HSV": 3,
    "ARGB": 4,
    "CMYK": 4,
    "YBR_FULL": 3,
    "YBR_FULL_422": 3,
    "YBR_PARTIAL_422": 3,
    "YBR_PARTIAL_420": 3,
    "YBR_ICT": 3,
    "YBR_RCT": 3,
}

_OBSOLETE_SCHEMES = frozenset({"SRT", "DAS", "SNM3"})
_PIXEL_DATA = 0x7FE00010


def check_sop_class(ctx: Context) -> str:
    """Check SOP Class UID; return the IOD key it names, or '' (with a finding)."""
    ds = ctx.ds
    if not has(ds, "SOPClassUID") or not text(ctx, ds, "SOPClassUID"):
        ctx.add(
            Finding(
                "error",
                "sop-class-absent",
                "SOPClassUID (0008,0016) is absent or empty; set the SOP Class UID of the "
                "object's IOD (e.g. 1.2.840.10008.5.1.4.1.1.77.1.4)",
                tag="(0008,0016)",
                keyword="SOPClassUID",
                path="SOPClassUID",
            )
        )
        return ""
    uid = text(ctx, ds, "SOPClassUID")
    iod = standard.iod_for_sop_class(uid)
    if iod is None:
        valid = UID(uid).is_valid
        why = "is not a known SOP Class" if valid else "is not a UID (digits and dots)"
        ctx.add(
            Finding(
                "error",
                "sop-class-unknown",
                f"SOPClassUID {uid!r} {why}; use the SOP Class UID of the IOD "
                "(e.g. 1.2.840.10008.5.1.4.1.1.77.1.4 for VL Photographic Image)",
                tag="(0008,0016)",
                keyword="SOPClassUID",
                path="SOPClassUID",
            )
        )
        return ""
    return iod


def check_retired_and_iod(ctx: Context) -> None:
    """Warn about retired top-level attributes and attributes of no module of the IOD."""
    allowed = standard.top_level_keywords_of_iod(ctx.iod) if ctx.iod else frozenset()
    for tag in top_level_tags(ctx.ds):
        group, number = tag >> 16, tag & 0xFFFF
        if group == 0x0002 or group % 2 == 1 or number == 0 or group == 0xFFFC:
            continue
        if not dictionary_has_tag(tag):
            continue
        keyword = keyword_for_tag(tag)
        if dictionary_is_retired(tag):
            replacement = _REPLACEMENTS.get(keyword)
            fix = f"use {replacement} instead" if replacement else "remove it"
            ctx.add(
                Finding(
                    "warning",
                    "retired",
                    f"{keyword} {tag_text(tag)} is retired from the standard; {fix}",
                    tag=tag_text(tag),
                    keyword=keyword,
                    path=keyword,
                    field=field_for(keyword, keyword),
                )
            )
            continue
        if ctx.iod and keyword and keyword not in allowed:
            ctx.add(
                Finding(
                    "warning",
                    "not-in-iod",
                    f"{keyword} {tag_text(tag)} belongs to no module of {ctx.iod}; "
                    "remove it (or use the IOD's own attribute for that information)",
                    tag=tag_text(tag),
                    keyword=keyword,
                    path=keyword,
                    field=field_for(keyword, keyword),
                )
            )


def check_private(ctx: Context, ds: Dataset, prefix: str, depth: int = 0) -> None:
    """Error for private elements without their Private Creator, recursively."""
    if depth > 16:
        return
    tags = top_level_tags(ds)
    present = set(tags)
    for tag in tags:
        group, number = tag >> 16, tag & 0xFFFF
        if group % 2 == 1 and group > 0x0008 and number >= 0x1000:
            creator = (group << 16) | (number >> 8)
            if creator not in present:
                path = join_path(prefix, tag_text(tag))
                ctx.add(
                    Finding(
                        "error",
                        "private-no-creator",
                        f"private element {tag_text(tag)} has no Private Creator at "
                        f"{tag_text(creator)}; add the creator element or remove it",
                        tag=tag_text(tag),
                        path=path,
                    )
                )
        raw = raw_element(ds, tag)
        is_sequence = isinstance(raw, DataElement) and raw.VR == "SQ"
        is_sequence = is_sequence or (isinstance(raw, RawDataElement) and raw.VR == "SQ")
        if is_sequence:
            name = keyword_for_tag(tag) or tag_text(tag)
            elem = element(ctx, ds, tag, join_path(prefix, name))
            if elem is not None and isinstance(elem.value, Sequence):
                for i, item in enumerate(elem.value):
                    check_private(ctx, item, f"{join_path(prefix, name)}[{i}]", depth + 1)


def check_codes(ctx: Context, ds: Dataset, prefix: str, depth: int = 0) -> None:
    """Warn about obsolete SNOMED-RT codes in code items, recursively."""
    if depth > 16:
        return
    if has(ds, "CodeValue") and has(ds, "CodingSchemeDesignator"):
        # imported here: anatomy loads pydicom's SR code tables, which files without codes skip
        from tbp_core.standard.anatomy import is_snomed_rt, sct_for_snomed_rt

        code = text(ctx, ds, "CodeValue")
        scheme = text(ctx, ds, "CodingSchemeDesignator")
        if scheme.upper() in _OBSOLETE_SCHEMES or (code and is_snomed_rt(code, scheme)):
            sct = sct_for_snomed_rt(code)
            fix = f"use CodeValue {sct!r}" if sct else "use the SNOMED CT code"
            ctx.add(
                Finding(
                    "warning",
                    "obsolete-code",
                    f"{join_path(prefix, 'CodeValue')} {code!r} (scheme {scheme!r}) is an obsolete "
                    f"SNOMED-RT code; {fix} with CodingSchemeDesignator 'SCT'",
                    tag="(0008,0100)",
                    keyword="CodeValue",
                    path=join_path(prefix, "CodeValue"),
                )
            )
    for tag in top_level_tags(ds):
        raw = raw_element(ds, tag)
        vr = raw.VR if isinstance(raw, DataElement) else (raw.VR if raw is not None else None)
        if vr != "SQ":
            continue
        name = keyword_for_tag(tag) or tag_text(tag)
        for item_path, item in items_by_tag(ctx, ds, tag, join_path(prefix, name)):
            check_codes(ctx, item, item_path, depth + 1)


def check_photometric(ctx: Context) -> None:
    """Error when Samples per Pixel does not suit the Photometric Interpretation."""
    ds = ctx.ds
    photometric = text(ctx, ds, "PhotometricInterpretation").upper()
    samples = integer(ctx, ds, "SamplesPerPixel")
    needed = _SAMPLES_FOR_PHOTOMETRIC.get(photometric)
    if needed is None or samples is None or samples == needed:
        return
    ctx.add(
        Finding(
            "error",
            "photometric-samples",
            f"SamplesPerPixel (0028,0002) is {samples} but PhotometricInterpretation "
            f"{photometric} needs {needed}; make them agree (RGB/YBR: 3 samples with "
            "PlanarConfiguration, MONOCHROME: 1)",
            tag="(0028,0002)",
            keyword="SamplesPerPixel",
            path="SamplesPerPixel",
            module="image-pixel",
            ie="Image",
        )
    )


def _stored_length(raw: DataElement | RawDataElement) -> int | None:
    """Length of a value without reading it (raw length, bytes or a seekable buffer)."""
    if isinstance(raw, RawDataElement):
        return None if raw.length == 0xFFFFFFFF else int(raw.length)
    value = raw.value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return len(value)
    if hasattr(value, "seek") and hasattr(value, "tell"):
        try:
            position = value.tell()
            end = int(value.seek(0, 2))
            value.seek(position)
            return end - int(position)
        except (OSError, ValueError):
            return None
    return None


def check_pixel_length(ctx: Context) -> None:
    """Error when native Pixel Data's length does not match the image attributes."""
    ds = ctx.ds
    raw = raw_element(ds, _PIXEL_DATA)
    if raw is None:
        return
    syntax = transfer_syntax(ds)
    if syntax and syntax not in _NATIVE_SYNTAXES:
        return
    length = _stored_length(raw)
    dims = [integer(ctx, ds, k) for k in ("Rows", "Columns", "SamplesPerPixel", "BitsAllocated")]
    if length is None or any(d is None or d <= 0 for d in dims):
        return
    rows, columns, samples, bits = (int(d) for d in dims if d is not None)
    frames = integer(ctx, ds, "NumberOfFrames") or 1
    expected = (rows * columns * samples * frames * bits + 7) // 8
    if length in (expected, expected + expected % 2):
        return
    ctx.add(
        Finding(
            "error",
            "pixel-length",
            f"PixelData holds {length} bytes but Rows {rows} × Columns {columns} × "
            f"SamplesPerPixel {samples} × BitsAllocated {bits}/8 × frames {frames} = "
            f"{expected}; fix the image attributes or the pixel data",
            tag=tag_text(_PIXEL_DATA),
            keyword="PixelData",
            path="PixelData",
            module="image-pixel",
            ie="Image",
        )
    )


#: Native transfer syntaxes with explicit VR, where the VR of Pixel Data is written in the file.
_EXPLICIT_NATIVE = _NATIVE_SYNTAXES - {"1.2.840.10008.1.2"}


def check_pixel_vr(ctx: Context) -> None:
    """Error when native Pixel Data is OB though Bits Allocated is over 8 (PS3.5 8.1.2: OW)."""
    ds = ctx.ds
    raw = raw_element(ds, _PIXEL_DATA)
    if raw is None or transfer_syntax(ds) not in _EXPLICIT_NATIVE or raw.VR != "OB":
        return
    bits = integer(ctx, ds, "BitsAllocated")
    if bits is None or bits <= 8:
        return
    ctx.add(
        Finding(
            "error",
            "pixel-data-vr",
            f"PixelData is written with VR OB but BitsAllocated is {bits}; native pixel data "
            "of more than 8 bits must be OW — rewrite the pixel data element with VR OW",
            tag=tag_text(_PIXEL_DATA),
            keyword="PixelData",
            path="PixelData",
            module="image-pixel",
            ie="Image",
        )
    )
