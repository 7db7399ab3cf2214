"""Building DICOM objects: metadata templates, IOD builders, codecs, conversion."""
