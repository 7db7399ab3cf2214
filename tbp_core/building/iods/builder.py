"""Build a DICOM dataset for one image: shared modules plus each IOD's own.

Values are layered, later layers winning: built-in defaults, then EXIF-derived
values (only those the IOD has a home for), then the user's metadata. The
attributes that describe the pixels and the SOP class are derived from the
image and the IOD and cannot be overridden.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import generate_uid

from tbp_core import standard
from tbp_core.building.derived import DERIVED_KEYWORDS
from tbp_core.building.iods.spec import DERMOSCOPIC, SECONDARY_CAPTURE, IodSpec
from tbp_core.building.metadata import apply_metadata
from tbp_core.errors import ConversionError
from tbp_core.fileio.pixelbuffer import PixelBufferReader
from tbp_core.sources.exif import ExifResult, map_exif
from tbp_core.sources.images import SourceImage
from tbp_core.standard import vr as vrs

#: Attributes derived from the pixels, the IOD or the conversion itself.
#: Enhanced General Equipment attributes the Dermoscopic IOD makes Type 1.
DERMOSCOPIC_EQUIPMENT = (
    "Manufacturer",
    "ManufacturerModelName",
    "DeviceSerialNumber",
    "SoftwareVersions",
)

#: Laterality modifier codes (SCT) and the Image Laterality value each implies.
_LATERALITY_BY_CODE = {"24028007": "R", "7771000": "L", "51440002": "B", "66459002": "U"}


@dataclass(frozen=True)
class SeriesContext:
    """What the instances of one conversion share: one study, one series.

    Attributes
    ----------
    study_instance_uid, series_instance_uid : str
        Fresh UIDs unless the user's metadata gives them.
    created : datetime
        When the conversion ran (Study Date/Time and Instance Creation defaults).
    """

    study_instance_uid: str
    series_instance_uid: str
    created: datetime


def new_series_context(now: datetime | None = None) -> SeriesContext:
    """Return a context with fresh Study and Series Instance UIDs.

    Parameters
    ----------
    now : datetime, optional
        The conversion time; defaults to the current local time.

    Returns
    -------
    SeriesContext
    """
    return SeriesContext(
        study_instance_uid=generate_uid(),
        series_instance_uid=generate_uid(),
        created=now or datetime.now().astimezone(),
    )


@dataclass(frozen=True)
class BuiltInstance:
    """A built dataset and what the user should know about how it was built."""

    dataset: Dataset
    exif: ExifResult
    notices: tuple[str, ...] = field(default_factory=tuple)
    #: Type 1 attributes a draft build left out (empty for a complete build).
    missing: tuple[str, ...] = ()
    #: The refusal a complete build would have raised for them, else None.
    problem: str | None = None


def build_instance(
    image: SourceImage,
    iod: IodSpec,
    metadata: Mapping[str, Any],
    context: SeriesContext,
    *,
    instance_number: int = 1,
    include_gps: bool = False,
    include_device_identity: bool = False,
    include_maker_note: bool = False,
    draft: bool = False,
) -> BuiltInstance:
    """Build the dataset of one instance of ``iod`` from an image and metadata.

    Parameters
    ----------
    image : SourceImage
        The decoded, upright image.
    iod : IodSpec
        Which IOD to produce.
    metadata : Mapping
        Normalised keyword → value metadata (see :mod:`tbp_core.building.metadata`);
        ``tbp:`` keys set the TBP private block. ``InstanceNumber`` given here
        is the number of the first instance of the batch.
    context : SeriesContext
        Study/series shared by the batch.
    instance_number : int
        Position of this image in the batch, from 1.
    include_gps : bool
        Whether EXIF GPS data may be written (it identifies places and people).
    include_device_identity : bool
        Whether the camera owner and body/lens serial numbers may be written.
    include_maker_note : bool
        Whether the vendor's opaque EXIF MakerNote may be written.
    draft : bool
        Build even when Type 1 values only the user can give are missing (a
        Dermoscopic image's equipment): they are left out of the dataset and
        named in :attr:`BuiltInstance.missing`, for the user to see (a
        validator reports them as missing Type 1 attributes). A draft is not
        for export.

    Returns
    -------
    BuiltInstance

    Raises
    ------
    ConversionError
        If the image or metadata cannot make a valid instance of ``iod``
        (missing user values only when ``draft`` is False).
    """
    _check_pixels_fit(image, iod)
    _check_user_metadata(metadata, iod)
    missing = _missing_user_values(metadata, iod)
    problem = _missing_problem(missing)
    if problem is not None and not draft:
        raise ConversionError(problem)
    notices = list(image.notices)

    exif = map_exif(
        image.exif,
        include_gps=include_gps,
        include_device_identity=include_device_identity,
        include_maker_note=include_maker_note,
    )
    allowed = standard.top_level_keywords_of_iod(iod.standard_key)
    exif_values = {k: v for k, v in exif.values.items() if k in allowed}
    unplaced = sorted(set(exif.values) - set(exif_values))
    if unplaced:
        notices.append(
            f"EXIF values with no home in the {iod.title} IOD were left out: {', '.join(unplaced)}"
        )

    ds = Dataset()
    _set_defaults(ds, image, iod, context, exif_values)
    _apply_exif(ds, exif_values)
    user_values = dict(metadata)
    first_number = user_values.pop("InstanceNumber", None)
    apply_metadata(ds, user_values, iod_key=iod.standard_key)
    ds.InstanceNumber = _instance_number(first_number, instance_number)

    _set_image_pixel(ds, image)
    _set_compression_history(ds, image)
    _set_laterality(ds)
    if iod is DERMOSCOPIC:
        _set_dermoscopic(ds)
        _set_frame_of_reference(ds)
    if iod is SECONDARY_CAPTURE:
        _set_secondary_capture(ds)
    else:
        _set_vl_image(ds, image)

    ds.SOPClassUID = iod.sop_class_uid
    ds.SOPInstanceUID = generate_uid()
    _set_character_set(ds)
    for keyword in missing:  # a draft: left out (a camera's EXIF Make is not the dermatoscope's)
        if keyword in ds:
            del ds[keyword]
    notices.extend(_foreign_attribute_notices(user_values, allowed, iod))
    return BuiltInstance(
        dataset=ds, exif=exif, notices=tuple(notices), missing=tuple(missing), problem=problem
    )


def _apply_exif(ds: Dataset, values: Mapping[str, Any]) -> None:
    """Set EXIF-derived values: binary ones (MakerNote, versions) as they are.

    Templates may not carry binary values, so those bypass template checks;
    exif.py already validated every value against its VR.
    """
    binary = {k: v for k, v in values.items() if vrs.is_binary(dictionary_VR(k))}
    for keyword, value in binary.items():
        setattr(ds, keyword, value)
    apply_metadata(ds, {k: v for k, v in values.items() if k not in binary})


def _check_pixels_fit(image: SourceImage, iod: IodSpec) -> None:
    """Refuse images the IOD cannot hold."""
    if image.bits_allocated > 8 and not iod.allows_16_bit:
        raise ConversionError(
            f"'{image.name}' has {image.source_bit_depth}-bit samples but the {iod.title} IOD "
            "allows only 8 bits — use --iod secondary-capture to keep all 16 bits"
        )


def _check_user_metadata(metadata: Mapping[str, Any], iod: IodSpec) -> None:
    """Refuse metadata that would contradict the pixels or the SOP class."""
    derived = sorted(k for k in metadata if k in DERIVED_KEYWORDS)
    if derived:
        raise ConversionError(
            f"{', '.join(derived)} cannot be set from metadata: the converter derives "
            "it from the image and the IOD — remove it from the template or --set"
        )
    modality = metadata.get("Modality")
    if modality not in (None, "", iod.modality) and iod is not SECONDARY_CAPTURE:
        raise ConversionError(
            f"Modality '{modality}' is not allowed for {iod.title}: it must be "
            f"'{iod.modality}' — remove Modality from the metadata"
        )


def _missing_user_values(metadata: Mapping[str, Any], iod: IodSpec) -> list[str]:
    """Type 1 attributes only the user can give that ``metadata`` lacks (in table order)."""
    if iod is not DERMOSCOPIC:
        return []
    return [k for k in DERMOSCOPIC_EQUIPMENT if not str(metadata.get(k) or "").strip()]


def _missing_problem(missing: list[str]) -> str | None:
    """The refusal for missing user values, naming them and the fix; None when none are."""
    if not missing:
        return None
    sets = " ".join(f"--set {k}=..." for k in missing)
    return (
        "a Dermoscopic Photography Image needs the dermatoscope's Enhanced General "
        f"Equipment values, missing: {', '.join(missing)} — add them to the "
        f"template or pass {sets}"
    )


def _instance_number(first: Any, position: int) -> int:
    """Instance Number of the image at ``position`` (1-based) in the batch."""
    if first in (None, ""):
        return position
    return int(first) + position - 1


def _date_time(moment: datetime) -> tuple[str, str]:
    """DICOM DA and TM strings for a datetime (to the second)."""
    return moment.strftime("%Y%m%d"), moment.strftime("%H%M%S")


def _set_defaults(
    ds: Dataset,
    image: SourceImage,
    iod: IodSpec,
    context: SeriesContext,
    exif_values: Mapping[str, Any],
) -> None:
    """Set every Type 1 and Type 2 attribute the user may refine later."""
    created_date, created_time = _date_time(context.created)
    # Patient module: Type 2, empty until the user fills them in.
    ds.PatientName = ""
    ds.PatientID = ""
    ds.PatientBirthDate = ""
    ds.PatientSex = ""
    # General Study.
    ds.StudyInstanceUID = context.study_instance_uid
    # The study happened when the picture was taken, when the camera says so.
    ds.StudyDate = exif_values.get("AcquisitionDate") or created_date
    ds.StudyTime = (
        exif_values.get("AcquisitionTime") or created_time
        if exif_values.get("AcquisitionDate")
        else created_time
    )
    ds.ReferringPhysicianName = ""
    ds.StudyID = ""
    ds.AccessionNumber = ""
    # General Series.
    ds.Modality = iod.modality
    ds.SeriesInstanceUID = context.series_instance_uid
    ds.SeriesNumber = 1
    # General Equipment (Type 2); EXIF Make fills it when present.
    ds.Manufacturer = ""
    # General Image.
    ds.PatientOrientation = ""
    content_date = exif_values.get("ContentDate") or created_date
    content_time = exif_values.get("ContentTime") or created_time
    ds.ContentDate = content_date
    ds.ContentTime = content_time
    ds.ImageType = (
        ["ORIGINAL", "PRIMARY"] if iod is not SECONDARY_CAPTURE else ["DERIVED", "SECONDARY"]
    )
    # SOP Common.
    ds.InstanceCreationDate = created_date
    ds.InstanceCreationTime = created_time
    if iod is not SECONDARY_CAPTURE:
        # Acquisition Context module: Type 2, no context items.
        ds.AcquisitionContextSequence = Sequence()
    if image.icc_profile:
        ds.ICCProfile = image.icc_profile


def _set_image_pixel(ds: Dataset, image: SourceImage) -> None:
    """Image Pixel module from the decoded image; Pixel Data shares its buffer."""
    ds.SamplesPerPixel = image.samples_per_pixel
    ds.PhotometricInterpretation = image.photometric_interpretation
    if image.samples_per_pixel > 1:
        ds.PlanarConfiguration = 0
    ds.Rows = image.rows
    ds.Columns = image.columns
    ds.BitsAllocated = image.bits_allocated
    ds.BitsStored = image.bits_allocated
    ds.HighBit = image.bits_allocated - 1
    ds.PixelRepresentation = 0
    vr = "OW" if image.bits_allocated > 8 else "OB"
    ds.add_new(0x7FE00010, vr, PixelBufferReader(image.buffer))


def _set_compression_history(ds: Dataset, image: SourceImage) -> None:
    """Lossy Image Compression: 00 for lossless sources, 01 with ratio for JPEG."""
    if not image.lossy:
        ds.LossyImageCompression = "00"
        return
    ds.LossyImageCompression = "01"
    uncompressed = image.rows * image.columns * image.samples_per_pixel * image.bits_allocated // 8
    ratio = uncompressed / max(image.file_size, 1)
    ds.LossyImageCompressionRatio = [f"{ratio:.2f}"]
    ds.LossyImageCompressionMethod = ["ISO_10918_1"]


def _set_laterality(ds: Dataset) -> None:
    """Image Laterality from the anatomic region, or an empty series Laterality.

    General Series' Laterality is Type 2C: required (possibly empty) unless
    Image Laterality is present. A laterality modifier on the region gives
    R/L/B/U; a region known to be unpaired gives U; otherwise laterality is
    unknown and the series Laterality is written empty.
    """
    if ds.get("ImageLaterality") or "Laterality" in ds:
        return
    regions = list(ds.get("AnatomicRegionSequence", []))
    for region in regions:
        for modifier in region.get("AnatomicRegionModifierSequence", []):
            value = _LATERALITY_BY_CODE.get(str(modifier.get("CodeValue", "")))
            if value:
                ds.ImageLaterality = value
                return
    if not regions:
        ds.Laterality = None
        return
    from tbp_core.standard.anatomy import region_by_code  # pydicom's code tables, when needed

    known = [
        region_by_code(str(r.get("CodeValue", "")), str(r.get("CodingSchemeDesignator", "")))
        for r in regions
    ]
    if known and all(region is not None and not region.paired for region in known):
        ds.ImageLaterality = "U"
        return
    ds.Laterality = None


def _set_vl_image(ds: Dataset, image: SourceImage) -> None:
    """VL Image module conditions: a window for grey images."""
    if image.samples_per_pixel == 1 and "WindowCenter" not in ds:
        ds.WindowCenter = 2 ** (image.bits_allocated - 1)
        ds.WindowWidth = 2**image.bits_allocated


def _set_dermoscopic(ds: Dataset) -> None:
    """Dermoscopic Image module: Type 2 attributes empty unless given."""
    for keyword in (
        "LightSourcePolarization",
        "EmitterColorTemperature",
        "ContactMethod",
        "OpticalMagnificationFactor",
    ):
        if keyword not in ds:
            setattr(ds, keyword, None)
    if "RecognizableVisualFeatures" not in ds:
        ds.RecognizableVisualFeatures = "NO"


def _set_frame_of_reference(ds: Dataset) -> None:
    """Frame of Reference module (the current standard makes it part of the Dermoscopic IOD).

    Each close-up has its own spatial frame, so the UID is fresh per instance.
    """
    if "FrameOfReferenceUID" not in ds:
        ds.FrameOfReferenceUID = generate_uid()
    if "PositionReferenceIndicator" not in ds:
        ds.PositionReferenceIndicator = None


def _set_secondary_capture(ds: Dataset) -> None:
    """SC Equipment module: the image came through a workstation."""
    if "ConversionType" not in ds:
        ds.ConversionType = "WSD"


def _set_character_set(ds: Dataset) -> None:
    """Declare UTF-8 (ISO_IR 192) when any text value is not plain ASCII."""
    if "SpecificCharacterSet" not in ds and _has_non_ascii(ds):
        ds.SpecificCharacterSet = "ISO_IR 192"


def _has_non_ascii(ds: Dataset) -> bool:
    """Whether any text element, nested ones included, holds a non-ASCII character."""
    for element in ds.iterall():
        if (
            element.VR in vrs.STRING_VRS
            and element.value is not None
            and not str(element.value).isascii()
        ):
            return True
    return False


def _foreign_attribute_notices(
    values: Mapping[str, Any], allowed: frozenset[str], iod: IodSpec
) -> list[str]:
    """Notices for user attributes that belong to no module of the IOD."""
    foreign = sorted(k for k in values if not k.startswith("tbp:") and k not in allowed)
    if not foreign:
        return []
    return [f"kept as asked, though not part of the {iod.title} IOD: {', '.join(foreign)}"]
