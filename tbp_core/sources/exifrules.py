"""Which EXIF tag goes to which DICOM attribute, and why some go nowhere.

The tables here are the mapping's knowledge: the EXIF tags with a DICOM home
(group 0016, General Equipment), the tags converted by special code, the notes
for tags without a home and the display names of tags Pillow does not name.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import ExifTags
from pydicom.datadict import tag_for_keyword

IFD0 = "IFD0"
EXIF_IFD = "Exif"
INTEROP = "Interop"
GPS = "GPS"
IFD_RANK = {IFD0: 0, EXIF_IFD: 1, INTEROP: 2, GPS: 3}


#: Opt-in groups: tags copied only when the user asks (they identify a device or person).
DEVICE_IDENTITY = "device identity"
MAKER_NOTE = "maker note"

#: Report note for a tag left out because its opt-in group was not requested.
OPT_IN_NOTES = {
    DEVICE_IDENTITY: (
        "not copied: identifies the camera or its owner; use --include-device-identity"
    ),
    MAKER_NOTE: (
        "not copied: opaque vendor data that may hold serial numbers, names or places; "
        "use --include-maker-note"
    ),
}


@dataclass(frozen=True)
class Rule:
    """An EXIF tag with a DICOM home converted by the VR-driven converter."""

    keyword: str
    note: str = ""
    # A fallback rule fills its attribute only when no primary rule did.
    fallback: bool = False
    # An opt-in group (DEVICE_IDENTITY, MAKER_NOTE): copied only on request.
    opt_in: str = ""


RULES: dict[tuple[str, int], Rule] = {
    # General Equipment module.
    (IFD0, 0x010F): Rule("Manufacturer"),
    (IFD0, 0x0110): Rule("ManufacturerModelName"),
    (IFD0, 0x0131): Rule("SoftwareVersions"),
    (EXIF_IFD, 0xA431): Rule("DeviceSerialNumber", opt_in=DEVICE_IDENTITY),
    # DNG CameraSerialNumber
    (IFD0, 0xC62F): Rule("DeviceSerialNumber", fallback=True, opt_in=DEVICE_IDENTITY),
    # VL Photographic Acquisition module.
    (IFD0, 0x013E): Rule("WhitePoint"),
    (IFD0, 0x013F): Rule("PrimaryChromaticities"),
    (IFD0, 0x828F): Rule("BatteryLevel"),
    (EXIF_IFD, 0x828F): Rule("BatteryLevel"),
    (EXIF_IFD, 0x829A): Rule(
        "ExposureTimeInSeconds", "seconds; (0018,1150) ExposureTime is X-ray milliseconds"
    ),
    (EXIF_IFD, 0x829D): Rule("FNumber"),
    (EXIF_IFD, 0x8822): Rule("ExposureProgram"),
    (EXIF_IFD, 0x8824): Rule("SpectralSensitivity"),
    (EXIF_IFD, 0x882B): Rule("SelfTimerMode"),
    (EXIF_IFD, 0x8830): Rule("SensitivityType"),
    (EXIF_IFD, 0x8831): Rule("StandardOutputSensitivity"),
    (EXIF_IFD, 0x8832): Rule("RecommendedExposureIndex"),
    (EXIF_IFD, 0x8833): Rule("ISOSpeed"),
    (EXIF_IFD, 0x8834): Rule("ISOSpeedLatitudeyyy"),
    (EXIF_IFD, 0x8835): Rule("ISOSpeedLatitudezzz"),
    (EXIF_IFD, 0x9000): Rule("EXIFVersion"),
    (EXIF_IFD, 0x9201): Rule("ShutterSpeedValue"),
    (EXIF_IFD, 0x9202): Rule("ApertureValue"),
    (EXIF_IFD, 0x9203): Rule("BrightnessValue"),
    (EXIF_IFD, 0x9204): Rule("ExposureBiasValue"),
    (EXIF_IFD, 0x9205): Rule("MaxApertureValue"),
    (EXIF_IFD, 0x9206): Rule("SubjectDistance"),
    (EXIF_IFD, 0x9207): Rule("MeteringMode"),
    (EXIF_IFD, 0x9208): Rule("LightSource"),
    (EXIF_IFD, 0x920A): Rule("FocalLength"),
    (EXIF_IFD, 0x920B): Rule("FlashEnergy", "TIFF/EP tag", fallback=True),
    (EXIF_IFD, 0x9214): Rule("SubjectArea"),
    (EXIF_IFD, 0x9215): Rule("PhotographicExposureIndex", "TIFF/EP tag", fallback=True),
    (EXIF_IFD, 0x927C): Rule(
        "MakerNote",
        "copied unchanged; vendor offsets may point into the original file",
        opt_in=MAKER_NOTE,
    ),
    (EXIF_IFD, 0x9400): Rule("Temperature"),
    (EXIF_IFD, 0x9401): Rule("Humidity"),
    (EXIF_IFD, 0x9402): Rule("Pressure"),
    (EXIF_IFD, 0x9403): Rule("WaterDepth"),
    (EXIF_IFD, 0x9404): Rule("Acceleration"),
    (EXIF_IFD, 0x9405): Rule("CameraElevationAngle"),
    (EXIF_IFD, 0xA20B): Rule("FlashEnergy"),
    (EXIF_IFD, 0xA214): Rule("SubjectLocation"),
    (EXIF_IFD, 0xA215): Rule("PhotographicExposureIndex"),
    (EXIF_IFD, 0xA217): Rule("SensingMethod"),
    (EXIF_IFD, 0xA300): Rule("FileSource"),
    (EXIF_IFD, 0xA301): Rule("SceneType"),
    (EXIF_IFD, 0xA401): Rule("CustomRendered"),
    (EXIF_IFD, 0xA402): Rule("ExposureMode"),
    (EXIF_IFD, 0xA403): Rule("WhiteBalance"),
    (EXIF_IFD, 0xA404): Rule("DigitalZoomRatio"),
    (EXIF_IFD, 0xA405): Rule("FocalLengthIn35mmFilm"),
    (EXIF_IFD, 0xA406): Rule("SceneCaptureType"),
    (EXIF_IFD, 0xA407): Rule("GainControl"),
    (EXIF_IFD, 0xA408): Rule("Contrast"),
    (EXIF_IFD, 0xA409): Rule("Saturation"),
    (EXIF_IFD, 0xA40A): Rule("Sharpness"),
    (EXIF_IFD, 0xA40B): Rule("DeviceSettingDescription"),
    (EXIF_IFD, 0xA40C): Rule("SubjectDistanceRange"),
    (INTEROP, 0x0001): Rule("InteroperabilityIndex"),
    (INTEROP, 0x0002): Rule("InteroperabilityVersion"),
    # VL Photographic Equipment module.
    (EXIF_IFD, 0xA430): Rule("CameraOwnerName", opt_in=DEVICE_IDENTITY),
    (EXIF_IFD, 0xA432): Rule("LensSpecification"),
    (EXIF_IFD, 0xA433): Rule("LensMake"),
    (EXIF_IFD, 0xA434): Rule("LensModel"),
    (EXIF_IFD, 0xA435): Rule("LensSerialNumber", opt_in=DEVICE_IDENTITY),
}

# VL Photographic Geolocation module: the DICOM keywords are the EXIF GPS tag
# names. GPSTimeStamp and GPSDateStamp need a special conversion (DT values).
GPS_TIME_STAMP = 0x0007
GPS_DATE_STAMP = 0x001D
RULES.update(
    {
        (GPS, tag): Rule(name)
        for tag, name in ExifTags.GPSTAGS.items()
        if tag not in (GPS_TIME_STAMP, GPS_DATE_STAMP) and tag_for_keyword(name) is not None
    }
)

# IFD pointers: structure, not metadata; left out of the report.
POINTERS = {(IFD0, 0x8769), (IFD0, 0x8825), (EXIF_IFD, 0xA005), (IFD0, 0xA005)}

# Date and time tags (Exif IFD).
DATETIME_ORIGINAL = 0x9003
DATETIME_DIGITIZED = 0x9004
OFFSET_TIME = 0x9010
OFFSET_TIME_ORIGINAL = 0x9011
OFFSET_TIME_DIGITIZED = 0x9012
SUBSEC_TIME = 0x9290
SUBSEC_TIME_ORIGINAL = 0x9291
SUBSEC_TIME_DIGITIZED = 0x9292

FLASH = 0x9209
ISO_SPEED_RATINGS = 0x8827
OECF = 0x8828
SFR_TIFF_EP = 0x920C
SFR = 0xA20C
CFA_PATTERN = 0xA302
SUBJECT_DISTANCE = 0x9206

NO_HOME = "no DICOM attribute"
_FREE_TEXT = (
    "no DICOM attribute: free text is not copied (camera boilerplate, may name people); "
    "enter ImageComments yourself if wanted"
)
NOTES: dict[tuple[str, int], str] = {
    (IFD0, 0x0112): "applied to the pixels",
    (IFD0, 0x011A): "no DICOM attribute: print resolution, not pixel spacing",
    (IFD0, 0x011B): "no DICOM attribute: print resolution, not pixel spacing",
    (IFD0, 0x0128): "no DICOM attribute: print resolution, not pixel spacing",
    # ImageDescription and UserComment could go to ImageComments (0020,4000), but
    # cameras fill them with boilerplate ("OLYMPUS DIGITAL CAMERA", blank padding)
    # and people type names into them: copying them silently into a clinical
    # object is worse than leaving the choice to the user.
    (IFD0, 0x010E): _FREE_TEXT,
    (EXIF_IFD, 0x9286): _FREE_TEXT,
    # Artist is who made the picture; OperatorsName (0008,1070) is a PN for the
    # person operating the equipment. Not the same thing, so not copied.
    (IFD0, 0x013B): "no DICOM attribute: OperatorsName is a person name of the operator",
    (IFD0, 0x0132): "no DICOM attribute: date and time the file was changed",
    # Copyright names a person or organisation; ImageUniqueID links the picture
    # to the camera's own files. Neither describes the image clinically.
    (IFD0, 0x8298): "no DICOM attribute: copyright holder (may name people), not copied",
    (EXIF_IFD, 0xA420): "no DICOM attribute: the camera's ID for this picture, not copied",
    (EXIF_IFD, OFFSET_TIME): "no DICOM attribute: offset of DateTime (file change time)",
    (EXIF_IFD, SUBSEC_TIME): "no DICOM attribute: fraction of DateTime (file change time)",
    (EXIF_IFD, 0xA002): "no DICOM attribute: Columns comes from the pixels",
    (EXIF_IFD, 0xA003): "no DICOM attribute: Rows comes from the pixels",
    (EXIF_IFD, 0xA001): "no DICOM attribute: colour is described by the ICC profile",
    (EXIF_IFD, 0xA20E): "no DICOM attribute: sensor resolution, not pixel spacing",
    (EXIF_IFD, 0xA20F): "no DICOM attribute: sensor resolution, not pixel spacing",
    (EXIF_IFD, 0xA210): "no DICOM attribute: sensor resolution, not pixel spacing",
    (GPS, 0x001F): NO_HOME,
}

TAG_NAMES: dict[tuple[str, int], str] = {
    # Pillow names 0x9214 after TIFF/EP; EXIF 2.2 and later call it SubjectArea.
    (EXIF_IFD, 0x9214): "SubjectArea",
    (EXIF_IFD, 0x9400): "Temperature",
    (INTEROP, 0x0001): "InteroperabilityIndex",
    (INTEROP, 0x0002): "InteroperabilityVersion",
    (INTEROP, 0x1000): "RelatedImageFileFormat",
    (INTEROP, 0x1001): "RelatedImageWidth",
    (INTEROP, 0x1002): "RelatedImageLength",
}


def tag_name(ifd_name: str, tag: int) -> str:
    """The EXIF name of ``tag`` in IFD ``ifd_name``, or its hex number if unnamed."""
    if (ifd_name, tag) in TAG_NAMES:
        return TAG_NAMES[(ifd_name, tag)]
    names = ExifTags.GPSTAGS if ifd_name == GPS else ExifTags.TAGS
    return names.get(tag) or f"0x{tag:04X}"
