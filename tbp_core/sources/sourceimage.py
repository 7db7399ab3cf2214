"""The decoded source image handed to the DICOM builders, and its option types."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

AlphaPolicy = Literal["refuse", "drop", "white", "black"]
ImageFormat = Literal["PNG", "JPEG", "TIFF"]

#: Largest image accepted, in pixels (rows x columns). Stays below Pillow's
#: decompression-bomb threshold so that guard never has to fire first.
DEFAULT_MAX_PIXELS = 80_000_000


@dataclass(frozen=True)
class SourceImage:
    r"""A decoded image, upright, with everything a DICOM builder needs.

    Attributes
    ----------
    name : str
        The file name the image came from (used for output names and messages).
    format : {"PNG", "JPEG", "TIFF"}
        Container format of the source file.
    buffer : bytearray
        The pixel samples, row by row, samples interleaved (colour-by-pixel),
        little-endian for 16-bit. Written to Pixel Data without copying.
        Empty when a JPEG to be encapsulated as it is was only verified
        (``load_image(..., jpeg_passthrough=True)``; :attr:`original` is set).
    rows, columns : int
        Image size after orientation was applied.
    samples_per_pixel : int
        1 (grey, ``MONOCHROME2``) or 3 (``RGB``).
    bits_allocated : int
        8 or 16: bits per stored sample.
    source_bit_depth : int
        Bits per sample in the file (1, 2, 4, 8 or 16); lower depths are
        scaled to 8 bits as the PNG specification prescribes.
    source_mode : str
        Human-readable description, e.g. ``"palette 4-bit + tRNS"``.
    interlaced : bool
        Whether the source was interlaced/progressive.
    orientation : int
        The EXIF Orientation value that was applied (1 when already upright).
    icc_profile : bytes or None
        Embedded ICC profile.
    exif : bytes or None
        Raw EXIF block starting with the TIFF header (``II*\0`` or ``MM\0*``).
    text : Mapping[str, str]
        Textual metadata (PNG tEXt/zTXt/iTXt, JPEG comment).
    lossy : bool
        True for JPEG sources (lossy compression already happened).
    file_size : int
        Size of the source file in bytes.
    notices : tuple of str
        Things the user should know, e.g. ``"CMYK converted to RGB"``.
    original : bytes or None
        The untouched JPEG bitstream when it can be encapsulated as is
        (baseline/extended JPEG, no orientation change, no CMYK); else None.
    """

    name: str
    format: ImageFormat
    buffer: bytearray = field(repr=False)
    rows: int
    columns: int
    samples_per_pixel: int
    bits_allocated: int
    source_bit_depth: int
    source_mode: str
    interlaced: bool = False
    orientation: int = 1
    icc_profile: bytes | None = field(default=None, repr=False)
    exif: bytes | None = field(default=None, repr=False)
    text: Mapping[str, str] = field(default_factory=dict)
    lossy: bool = False
    file_size: int = 0
    notices: tuple[str, ...] = ()
    original: bytes | None = field(default=None, repr=False)

    @property
    def photometric_interpretation(self) -> str:
        """``"MONOCHROME2"`` for grey images, ``"RGB"`` for colour."""
        return "RGB" if self.samples_per_pixel == 3 else "MONOCHROME2"

    @property
    def pixels(self) -> npt.NDArray[np.uint8] | npt.NDArray[np.uint16]:
        """A zero-copy NumPy view of :attr:`buffer` shaped (rows, columns[, 3])."""
        import numpy as np  # here, so the command line can read the defaults above without it

        dtype = np.dtype("<u2") if self.bits_allocated == 16 else np.dtype(np.uint8)
        shape: tuple[int, ...] = (self.rows, self.columns)
        if self.samples_per_pixel > 1:
            shape = (*shape, self.samples_per_pixel)
        return np.frombuffer(self.buffer, dtype=dtype).reshape(shape)  # type: ignore[return-value]
