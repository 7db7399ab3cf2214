"""Which attributes the converter writes itself, and which belong to one instance.

One list for the builder (metadata naming a derived attribute is refused), the
templates (instance attributes are never saved in one) and the validator (a
finding on a derived attribute is not fixed through a form field).
"""

from __future__ import annotations

__all__ = ["DERIVED_KEYWORDS", "INSTANCE_KEYWORDS", "PIXEL_KEYWORDS"]


#: Attributes that describe the pixels: the converter writes them from the image.
PIXEL_KEYWORDS = frozenset(
    {
        "SamplesPerPixel",
        "PhotometricInterpretation",
        "PlanarConfiguration",
        "Rows",
        "Columns",
        "BitsAllocated",
        "BitsStored",
        "HighBit",
        "PixelRepresentation",
        "NumberOfFrames",
        "PixelData",
        "FloatPixelData",
        "DoubleFloatPixelData",
        "ICCProfile",
    }
)

#: Attributes the converter derives from the image and the IOD: metadata naming them is refused.
DERIVED_KEYWORDS = PIXEL_KEYWORDS | frozenset(
    {
        "SOPClassUID",
        "SOPInstanceUID",
        "LossyImageCompression",
        "LossyImageCompressionRatio",
        "LossyImageCompressionMethod",
    }
)

#: Attributes of one instance (derived, or its own UIDs and dates): never in a template.
INSTANCE_KEYWORDS = DERIVED_KEYWORDS | frozenset(
    {
        "StudyInstanceUID",
        "SeriesInstanceUID",
        "FrameOfReferenceUID",
        "MediaStorageSOPInstanceUID",
        "InstanceCreationDate",
        "InstanceCreationTime",
        "SpecificCharacterSet",
    }
)
