"""DICOM files in and out: tolerant Part 10 reading, writing, Pixel Data buffers."""
