"""Convert one image file into a DICOM file on disk, writing its pixels only once.

:func:`convert_to_file` is what ``tbp-dicom convert`` runs for each input.
Most images go the usual way: :func:`~tbp_core.building.convert.convert_image`
decodes into memory and builds the dataset, which is then written. A PNG
written uncompressed whose pixels need no change after decoding (grey or RGB,
no alpha, no EXIF turn: :func:`~tbp_core.sources.pngdirect.pending_png`)
goes straight into the file instead: its dataset is built from the facts its
chunks give, everything before Pixel Data is written, and libpng decodes into
the memory map of the file's Pixel Data value
(:func:`~tbp_core.fileio.mappedpixels.write_mapped_pixels`). The file is the
same, byte for byte apart from its new UIDs and times; 150 MB of pixels are
not copied once more, and the decoded image is not kept in memory as well.

Everything is written through :func:`~tbp_core.fileio.safewrite.write_atomically`:
a damaged PNG found while decoding leaves no file behind. One difference in
order remains: a metadata problem is reported before damaged pixel data when
a file has both, since the dataset is built first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tbp_core.boundary import guarded
from tbp_core.building.convert import (
    Converted,
    ConvertOptions,
    build_and_encode,
    convert_image,
)
from tbp_core.building.iods import SeriesContext
from tbp_core.building.transfersyntaxes import DEFAULT_TRANSFER_SYNTAX
from tbp_core.fileio import dicomio
from tbp_core.fileio.mappedpixels import can_map_pixels, write_mapped_pixels
from tbp_core.fileio.safewrite import write_atomically
from tbp_core.sources.pngdirect import PendingPng, pending_png
from tbp_core.sources.sourceimage import SourceImage

__all__ = ["convert_to_file"]

#: Tag of Pixel Data (7FE0,0010).
_PIXEL_DATA = 0x7FE00010


@guarded("convert")
def convert_to_file(
    data: bytes,
    name: str,
    metadata: Mapping[str, Any],
    context: SeriesContext,
    *,
    target: Path,
    options: ConvertOptions | None = None,
    instance_number: int = 1,
) -> Converted:
    """Convert an image file's bytes and write the DICOM file ``target``.

    Parameters
    ----------
    data : bytes
        The image file (PNG, JPEG or TIFF).
    name : str
        Its file name, for messages.
    metadata : Mapping
        Normalised metadata (template and ``--set`` values merged).
    context : SeriesContext
        Study and series shared by the batch.
    target : Path
        The file to write (replaced only when complete).
    options : ConvertOptions, optional
        As for :func:`~tbp_core.building.convert.convert_image`.
    instance_number : int
        Position of the image in the batch, from 1.

    Returns
    -------
    Converted
        As :func:`~tbp_core.building.convert.convert_image` returns it, except
        when the pixels were decoded into the file: then ``image.buffer`` is
        empty and the dataset has no Pixel Data (both are in ``target``).

    Raises
    ------
    tbp_core.errors.TbpError
        For any problem with the image, the metadata, the codec or the write.
    """
    options = options or ConvertOptions()
    pending = None
    if options.transfer_syntax == DEFAULT_TRANSFER_SYNTAX and can_map_pixels():
        pending = pending_png(data, name, max_pixels=options.max_pixels)
    if pending is None:
        converted = convert_image(
            data, name, metadata, context, options=options, instance_number=instance_number
        )
        ds = converted.dataset
        write_atomically(target, lambda stream: dicomio.write(ds, stream))
        return converted
    return _decode_into_file(pending, metadata, context, options, instance_number, target)


def _decode_into_file(
    pending: PendingPng,
    metadata: Mapping[str, Any],
    context: SeriesContext,
    options: ConvertOptions,
    instance_number: int,
    target: Path,
) -> Converted:
    instance, codec_notices = build_and_encode(
        pending.image, metadata, context, options, instance_number
    )
    ds = instance.dataset
    vr = ds[_PIXEL_DATA].VR  # the builder's choice for these samples (OB or OW)
    del ds[_PIXEL_DATA]  # built over the empty buffer; the file gets the decoded pixels
    decoded: list[SourceImage] = []

    def fill(region: memoryview, written: Callable[[int], None]) -> None:
        decoded.append(pending.decode_into(region, written))

    write_atomically(target, lambda stream: write_mapped_pixels(ds, stream, vr, pending.size, fill))
    image = decoded[0]
    # The builder's notices start with the image's; put the decoder's in their place.
    builder_notices = instance.notices[len(pending.image.notices) :]
    return Converted(
        source_name=image.name,
        image=image,
        instance=instance,
        notices=(*image.notices, *builder_notices, *codec_notices),
    )
