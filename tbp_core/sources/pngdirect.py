"""PNGs whose pixels can be decoded later, straight into a buffer the caller owns.

:func:`~tbp_core.sources.images.load_image` decodes into a new buffer of its
own and then removes alpha and applies the EXIF orientation. A grey or RGB
PNG (no alpha channel, no tRNS) that needs no turning comes out of libpng
exactly as it goes into Pixel Data, so everything about the image but its
pixels is known once its chunks are checked. :func:`pending_png` runs those
checks and returns a :class:`PendingPng`: the image's facts, and
:meth:`PendingPng.decode_into`, which decodes with the very same code as
``load_image`` into any writable buffer of the right size, e.g. the memory
map of the DICOM file being written (:mod:`tbp_core.building.tofile`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from tbp_core.sources import pngchunks
from tbp_core.sources.imagedecoders import (
    ANIMATED_NOTE,
    checked_png,
    decode_png_into,
    exif_orientation,
    png_channels,
    png_sample_bits,
    png_source_image,
)
from tbp_core.sources.sourceimage import SourceImage

__all__ = ["PendingPng", "pending_png"]


@dataclass(frozen=True)
class PendingPng:
    """A checked PNG whose pixels are not decoded yet.

    Attributes
    ----------
    image : SourceImage
        Everything about the image except its pixels: :attr:`~SourceImage.buffer`
        is empty and the notices are those known before decoding.
    size : int
        Bytes the decoded pixels take (rows × columns × samples × bytes per sample).
    """

    image: SourceImage
    size: int
    data: bytes = field(repr=False)
    info: pngchunks.PngInfo = field(repr=False)

    def decode_into(
        self, target: memoryview, progress: Callable[[int], None] | None = None
    ) -> SourceImage:
        """Decode the pixels into ``target`` and return the image with every notice.

        Parameters
        ----------
        target : memoryview
            Writable, C-contiguous, exactly :attr:`size` bytes.
        progress : callable, optional
            Called, possibly from another thread, with how many leading bytes
            of ``target`` are final, as whole rows become so.

        Returns
        -------
        SourceImage
            :attr:`image` with the decoder's notices added, in the order
            ``load_image`` gives them; its buffer stays empty (the pixels are
            in ``target``).

        Raises
        ------
        ImageLoadError
            The image data is damaged (the same message ``load_image`` gives).
        ValueError
            ``target`` has the wrong size.
        """
        if target.nbytes != self.size:
            raise ValueError(f"the target holds {target.nbytes} bytes, not {self.size}")
        image = self.image
        dtype = np.uint16 if image.bits_allocated == 16 else np.uint8
        shape: tuple[int, ...] = (image.rows, image.columns)
        if image.samples_per_pixel > 1:
            shape += (image.samples_per_pixel,)
        array = np.frombuffer(target, dtype).reshape(shape)
        notices = list(self.info.notices)
        row_bytes = self.size // image.rows

        def rows_done(rows: int) -> None:
            if progress is not None:
                progress(rows * row_bytes)

        try:
            decode_png_into(self.data, image.name, self.info, array, notices, rows_done)
        finally:
            del array
        if self.info.animated:
            notices.append(ANIMATED_NOTE)
        return replace(image, notices=tuple(notices))


def pending_png(data: bytes, name: str, *, max_pixels: int) -> PendingPng | None:
    """Check a PNG whose decoded pixels need no further change, without decoding them.

    Parameters
    ----------
    data : bytes
        The whole file.
    name : str
        Its file name, for messages.
    max_pixels : int
        Largest accepted rows × columns.

    Returns
    -------
    PendingPng or None
        None when ``data`` is not a PNG, or when its pixels change after
        decoding (an alpha channel or tRNS to remove, an EXIF orientation to
        apply): ``load_image`` handles those.

    Raises
    ------
    ImageLoadError
        The file's structure is damaged (as ``load_image`` reports it).
    UnsupportedImageError
        The image is larger than ``max_pixels``.
    """
    if not data.startswith(pngchunks.SIGNATURE):
        return None
    info = checked_png(data, name, max_pixels)
    channels = png_channels(info)
    if channels not in (1, 3) or exif_orientation(info.exif) not in (None, 1):
        return None
    header = info.header
    notices = list(info.notices)
    if info.animated:
        notices.append(ANIMATED_NOTE)
    shape = (header.height, header.width, channels)
    image = png_source_image(data, name, info, bytearray(), shape, 1, notices)
    size = header.height * header.width * channels * png_sample_bits(info) // 8
    return PendingPng(image, size, data, info)
