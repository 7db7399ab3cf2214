"""Convert image files into DICOM datasets: decode, build, encode.

The single entry point for the CLI and the app. Each call handles one image so
a batch never holds more than one image's pixels at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from pydicom.dataset import Dataset

from tbp_core.boundary import guarded
from tbp_core.building.codecs import encode
from tbp_core.building.iods import (
    VL_PHOTOGRAPHIC,
    BuiltInstance,
    IodSpec,
    SeriesContext,
    build_instance,
)
from tbp_core.building.transfersyntaxes import DEFAULT_TRANSFER_SYNTAX, JPEG_PASSTHROUGH
from tbp_core.sources.images import DEFAULT_MAX_PIXELS, AlphaPolicy, SourceImage, load_image


@dataclass(frozen=True)
class ConvertOptions:
    """How to convert: which IOD, alpha handling, what EXIF may identify, transfer syntax, size.

    ``include_gps``, ``include_device_identity`` (camera owner, body and lens
    serial numbers) and ``include_maker_note`` (the vendor's opaque EXIF
    MakerNote) are off by default: each can identify a person or a device.
    """

    iod: IodSpec = VL_PHOTOGRAPHIC
    alpha: AlphaPolicy = "refuse"
    include_gps: bool = False
    include_device_identity: bool = False
    include_maker_note: bool = False
    transfer_syntax: str = DEFAULT_TRANSFER_SYNTAX
    max_pixels: int = DEFAULT_MAX_PIXELS


@dataclass(frozen=True)
class Converted:
    """One converted image: the dataset plus what was learnt along the way.

    With JPEG passthrough the source's pixels are verified but not kept
    (``image.buffer`` is empty): the JPEG itself is the Pixel Data. A PNG
    that :func:`~tbp_core.building.tofile.convert_to_file` decoded straight
    into its file keeps neither: the pixels are in that file only.
    """

    source_name: str
    image: SourceImage
    instance: BuiltInstance
    notices: tuple[str, ...] = field(default_factory=tuple)

    @property
    def dataset(self) -> Dataset:
        """The finished dataset, ready for :func:`tbp_core.fileio.dicomio.write`."""
        return self.instance.dataset

    @property
    def output_name(self) -> str:
        """File name for the result: the source's stem with ``.dcm``."""
        return dicom_file_name(self.source_name)


def dicom_file_name(source_name: str) -> str:
    """Return ``<stem>.dcm`` for a source file name.

    Parameters
    ----------
    source_name : str
        Name (or path) of the source image.

    Returns
    -------
    str
    """
    stem = PurePath(source_name).stem or "image"
    return f"{stem}.dcm"


@guarded("convert")
def convert_image(
    data: bytes,
    name: str,
    metadata: Mapping[str, Any],
    context: SeriesContext,
    *,
    options: ConvertOptions | None = None,
    instance_number: int = 1,
) -> Converted:
    """Convert one image file's bytes into a DICOM dataset.

    Parameters
    ----------
    data : bytes
        The image file (PNG, JPEG or TIFF).
    name : str
        Its file name, used in messages and for the output name.
    metadata : Mapping
        Normalised metadata (template and ``--set`` values merged).
    context : SeriesContext
        Study and series shared by the batch.
    options : ConvertOptions, optional
        Conversion options; defaults produce a VL Photographic Image in
        explicit VR little endian.
    instance_number : int
        Position of the image in the batch, from 1.

    Returns
    -------
    Converted

    Raises
    ------
    tbp_core.errors.TbpError
        For any problem with the image, the metadata or the codec.
    """
    options = options or ConvertOptions()
    image = load_image(
        data,
        name,
        alpha=options.alpha,
        max_pixels=options.max_pixels,
        jpeg_passthrough=options.transfer_syntax == JPEG_PASSTHROUGH,
    )
    instance, codec_notices = build_and_encode(image, metadata, context, options, instance_number)
    return Converted(
        source_name=name,
        image=image,
        instance=instance,
        notices=(*instance.notices, *codec_notices),
    )


def build_and_encode(
    image: SourceImage,
    metadata: Mapping[str, Any],
    context: SeriesContext,
    options: ConvertOptions,
    instance_number: int,
) -> tuple[BuiltInstance, tuple[str, ...]]:
    """Build the instance of ``image`` as ``options`` say and encode its Pixel Data.

    Parameters
    ----------
    image : SourceImage
        The decoded image (or, for :mod:`~tbp_core.building.tofile`, its facts).
    metadata : Mapping
        Normalised metadata.
    context : SeriesContext
        Study and series shared by the batch.
    options : ConvertOptions
        IOD, what EXIF may identify, transfer syntax.
    instance_number : int
        Position of the image in the batch, from 1.

    Returns
    -------
    tuple
        The built instance and the codec's notices.
    """
    instance = build_instance(
        image,
        options.iod,
        metadata,
        context,
        instance_number=instance_number,
        include_gps=options.include_gps,
        include_device_identity=options.include_device_identity,
        include_maker_note=options.include_maker_note,
    )
    return instance, encode(instance.dataset, image, options.transfer_syntax)
