"""Read and write DICOM Part 10 files.

Reading defers large values (Pixel Data above all), so a 150 MB file opens in
milliseconds; writing never copies the pixels: Pixel Data holds the decoder's
buffer and pydicom streams it straight to the file.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from pydicom import datadict
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import (  # _read_file_meta_info: pydicom is pinned to 3.0.x
    _read_file_meta_info,
    data_element_generator,
    read_dataset,
    read_partial,
    read_preamble,
)
from pydicom.filewriter import dcmwrite, write_file_meta_info
from pydicom.pixels.decoders.base import get_decoder
from pydicom.tag import BaseTag
from pydicom.uid import UID, DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian, generate_uid

from tbp_core import __version__
from tbp_core.boundary import guarded
from tbp_core.errors import CodecUnavailableError, DicomReadError
from tbp_core.fileio.limits import (
    DEFAULT_LIMITS,
    LimitExceededError,
    ReadLimits,
    count_items,
    element_counter,
    inflate,
)
from tbp_core.fileio.pixelbuffer import split_buffered_pixels, write_pixel_element

if TYPE_CHECKING:
    import numpy

#: Values longer than this many bytes are read only when asked for.
DEFER_SIZE = 1024

#: Identifies files written by this software (deterministic, under pydicom's root).
IMPLEMENTATION_CLASS_UID = generate_uid(entropy_srcs=["TBP DICOM Studio", "tbp-dicom"])
IMPLEMENTATION_VERSION_NAME = f"TBPDICOM_{__version__}"[:16]


def file_meta_for(
    ds: Dataset, transfer_syntax_uid: UID = ExplicitVRLittleEndian
) -> FileMetaDataset:
    """Build the File Meta Information group for a dataset.

    Parameters
    ----------
    ds : Dataset
        A dataset with SOPClassUID and SOPInstanceUID.
    transfer_syntax_uid : str
        The transfer syntax the dataset will be written in.

    Returns
    -------
    FileMetaDataset
    """
    meta = FileMetaDataset()
    meta.FileMetaInformationVersion = b"\x00\x01"
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = transfer_syntax_uid
    meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    # Writing the group once fills in File Meta Information Group Length, so an
    # in-memory dataset validates like the written file.
    write_file_meta_info(DicomBytesIO(), meta, enforce_standard=True)
    return meta


@guarded("write")
def write(ds: Dataset, target: str | Path | BinaryIO) -> None:
    """Write ``ds`` as a DICOM Part 10 file (preamble, ``DICM``, file meta).

    The file meta is built (or refreshed) from the dataset; an existing
    transfer syntax is kept, explicit VR little endian is the default.

    Parameters
    ----------
    ds : Dataset
        The dataset to write.
    target : str, Path or binary file object
        Where to write.
    """
    syntax: UID = ExplicitVRLittleEndian
    existing = getattr(ds, "file_meta", None)
    if existing is not None and "TransferSyntaxUID" in existing:
        syntax = existing.TransferSyntaxUID
    ds.file_meta = file_meta_for(ds, syntax)
    ds.preamble = b"\x00" * 128
    split = split_buffered_pixels(ds) if syntax == ExplicitVRLittleEndian else None
    if split is None:
        dcmwrite(target, ds, enforce_file_format=True)
        return
    if isinstance(target, str | Path):
        with open(target, "wb") as stream:
            dcmwrite(stream, split.head, enforce_file_format=True)
            write_pixel_element(stream, split)
    else:
        dcmwrite(target, split.head, enforce_file_format=True)
        write_pixel_element(target, split)


def to_bytes(ds: Dataset) -> bytes:
    """Return the Part 10 file for ``ds`` as bytes (for downloads).

    Parameters
    ----------
    ds : Dataset
        The dataset to write.

    Returns
    -------
    bytes
    """
    buffer = io.BytesIO()
    write(ds, buffer)
    return buffer.getvalue()


_UNDEFINED = 0xFFFFFFFF

#: Packages that add decoders, by transfer syntax UID prefix (for error messages).
_DECODER_PACKAGES = {
    "1.2.840.10008.1.2.4.5": "pylibjpeg-libjpeg",
    "1.2.840.10008.1.2.4.7": "pylibjpeg-libjpeg",
    "1.2.840.10008.1.2.4.8": "pyjpegls",
    "1.2.840.10008.1.2.4.9": "pylibjpeg-openjpeg",
    "1.2.840.10008.1.2.4.20": "pylibjpeg-openjpeg",
    "1.2.840.10008.1.2.5": "pylibjpeg-rle",
}


@dataclass(frozen=True)
class ReadResult:
    """A dataset read as far as possible, with what went wrong on the way.

    ``stopped_at`` is the byte offset where reading stopped early (None when the
    whole file was read).
    """

    dataset: Dataset
    warnings: tuple[str, ...]
    stopped_at: int | None


def _label(source: bytes | str | Path, name: str) -> str:
    return name or (Path(source).name if not isinstance(source, bytes) else "the file")


def _one_line(exc: object) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _open(source: bytes | str | Path) -> BinaryIO:
    return io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")


def _plausible(ds: Dataset) -> bool:
    """True when the dataset has file meta or at least one standard element."""
    if getattr(ds, "file_meta", None):
        return True
    return any(tag >> 16 != 0 and datadict.dictionary_has_tag(tag) for tag in ds.keys())  # noqa: SIM118


def _truncations(ds: Dataset, size: int | None) -> Iterator[tuple[int, str]]:
    """Yield (offset, message) for top-level values that run past the end of the data."""
    for tag in ds.keys():  # noqa: SIM118
        raw: object = ds.get_item(tag, keep_deferred=True)
        if not isinstance(raw, RawDataElement) or raw.length == _UNDEFINED:
            continue
        if raw.value is None:
            if size is not None and raw.value_tell + raw.length > size:
                yield (
                    size,
                    (
                        f"{BaseTag(tag)} declares {raw.length} bytes at offset {raw.value_tell} "
                        f"but the data ends at byte {size}"
                    ),
                )
        elif len(raw.value) < raw.length:
            end = raw.value_tell + len(raw.value)
            yield (
                end,
                (
                    f"{BaseTag(tag)} declares {raw.length} bytes at offset {raw.value_tell} "
                    f"but only {len(raw.value)} are present (data ends at byte {end})"
                ),
            )


def _decode_elements(ds: Dataset) -> Iterator[tuple[int, str]]:
    """Parse the top-level sequences read so far; drop those that cannot be parsed."""
    for tag in list(ds.keys()):
        raw: object = ds.get_item(tag, keep_deferred=True)
        if not isinstance(raw, RawDataElement) or (raw.value is None and raw.length):
            continue
        known = datadict.dictionary_has_tag(tag)
        if (raw.VR or (datadict.dictionary_VR(tag) if known else None)) != "SQ":
            continue  # only sequences can fail to parse; other values stay raw
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds[tag]
        except Exception as exc:  # damaged sequence or value
            del ds[tag]
            yield (
                raw.value_tell,
                f"{BaseTag(tag)} at offset {raw.value_tell} dropped ({_one_line(exc)})",
            )


def _charset_as_cs(ds: Dataset) -> Iterator[str]:
    """Read a Specific Character Set stored with a wrong VR as CS (pydicom would crash).

    Every text value is decoded through it, so with VR US or OB no element
    could be shown; as CS its bytes name no known character set and text is
    read as the default repertoire, with pydicom's warning.
    """
    raw: object = ds.get_item(0x00080005, keep_deferred=True)
    if isinstance(raw, RawDataElement) and raw.VR not in (None, "CS", "UN"):
        ds[0x00080005] = raw._replace(VR="CS")
        yield (
            f"(0008,0005) Specific Character Set has VR {raw.VR} instead of CS at offset "
            f"{raw.value_tell}; read as CS (text decoded as the default repertoire)"
        )


def _read_bounded(
    source: bytes | str | Path, limits: ReadLimits, label: str
) -> tuple[Dataset, list[str]]:
    """Pydicom's reader within the limits: bounded inflation, item and element caps."""
    notes: list[str] = []
    stream: BinaryIO = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")  # noqa: SIM115
    try:
        # the file meta alone: pydicom's reader would inflate a deflated rest unbounded
        preamble = read_preamble(stream, force=True)
        meta = _read_file_meta_info(stream)
        start = stream.tell()
        stopped: list[int] = []
        counter = element_counter(limits, stopped)
        if meta.get("TransferSyntaxUID") == DeflatedExplicitVRLittleEndian:
            inflated = io.BytesIO(inflate(stream.read(), limits, label))
            _check_items(inflated, 0, limits, label)
            body = read_dataset(inflated, False, True, stop_when=counter)
            ds: Dataset = FileDataset(label, body, preamble, meta, False, True)
        else:
            _check_items(stream, start, limits, label)
            stream.seek(0)
            ds = read_partial(stream, stop_when=counter, defer_size=DEFER_SIZE, force=True)
    finally:
        if not isinstance(source, bytes):
            stream.close()
    if stopped:
        notes.append(
            f"reading stopped after {stopped[0]:,} elements, the limit (TBP_MAX_ELEMENTS); "
            "the elements after it are not shown"
        )
    return ds, notes


def _check_items(stream: BinaryIO, start: int, limits: ReadLimits, label: str) -> None:
    items = count_items(stream, start, limits.max_items)
    if items > limits.max_items:
        raise LimitExceededError(
            f"'{label}' holds more than {limits.max_items:,} sequence items — refused "
            "(a real image has far fewer); raise TBP_MAX_ITEMS if the file is trusted"
        )


def _read_elementwise(
    source: bytes | str | Path, limits: ReadLimits, label: str
) -> tuple[Dataset, int | None, str]:
    """Read elements one by one until the first one that cannot be parsed."""
    with _open(source) as fp:
        head = read_partial(fp, stop_when=lambda *_: True, defer_size=DEFER_SIZE, force=True)
        start = fp.tell()
        data = fp.read()
    meta = getattr(head, "file_meta", None) or FileMetaDataset()
    implicit, little = head.original_encoding
    offset = start
    if meta.get("TransferSyntaxUID") == DeflatedExplicitVRLittleEndian:
        data, offset, implicit, little = inflate(data, limits, label), 0, False, True
    buffer = io.BytesIO(data)
    elements: dict[BaseTag, RawDataElement | DataElement] = {}
    generator = data_element_generator(buffer, bool(implicit), bool(little), defer_size=None)
    stopped: int | None = None
    reason = ""
    while True:
        position = buffer.tell()
        try:
            element = next(generator)
        except StopIteration:
            break
        except Exception as exc:  # pydicom raises many types on damaged data
            stopped, reason = position + offset, _one_line(exc)
            break
        elements[element.tag] = element
    dataset = FileDataset("", Dataset(elements), head.preamble, meta, bool(implicit), bool(little))
    return dataset, stopped, reason


#: How far into a file without preamble and file meta the data set may start.
_HEADERLESS_SCAN = 512

_VRS = frozenset(
    b"AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL "
    b"UN UR US UT UV".split()
)


def _headerless_start(data: bytes) -> tuple[int, bool] | None:
    """Find where a data set without preamble or file meta starts.

    Returns the offset of the first element whose tag is a known group 0008
    attribute and whether it is implicit VR, or None when none is found in the
    first :data:`_HEADERLESS_SCAN` bytes.
    """
    for offset in range(min(len(data) - 8, _HEADERLESS_SCAN)):
        if data[offset : offset + 2] != b"\x08\x00":
            continue
        tag = 0x00080000 | int.from_bytes(data[offset + 2 : offset + 4], "little")
        if not datadict.dictionary_has_tag(tag):
            continue
        if data[offset + 4 : offset + 6] in _VRS:
            return offset, False
        length = int.from_bytes(data[offset + 4 : offset + 8], "little")
        if length < len(data) - offset:
            return offset, True
    return None


def _read_headerless(source: bytes | str | Path) -> tuple[Dataset, int] | None:
    """Read a little endian data set that has no preamble and no file meta."""
    with _open(source) as fp:
        data = fp.read()
    found = _headerless_start(data)
    if found is None:
        return None
    offset, implicit = found
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # read whole: a deferred value could not be found again without file meta
        ds = read_dataset(io.BytesIO(data[offset:]), implicit, True)
    dataset = FileDataset("", ds, b"", FileMetaDataset(), implicit, True)
    return dataset, offset


@guarded("read")
def read_with_report(
    source: bytes | str | Path, *, name: str = "", limits: ReadLimits = DEFAULT_LIMITS
) -> ReadResult:
    """Read a DICOM file as far as possible, reporting where damage stopped it.

    Large values (Pixel Data above all) are not loaded. Truncated values,
    unparseable sequences and elements after a parse failure are reported in
    ``warnings``; only a file with nothing readable raises.

    Parameters
    ----------
    source : bytes, str or Path
        The file's bytes or its path.
    name : str, optional
        Name for messages when ``source`` is bytes.
    limits : ReadLimits, optional
        Caps on inflated size, elements and items (:mod:`tbp_core.fileio.limits`).

    Returns
    -------
    ReadResult

    Raises
    ------
    DicomReadError
        If nothing readable is found, or the file is over a limit
        (:class:`~tbp_core.fileio.limits.LimitExceededError`).
    """
    label = _label(source, name)
    if isinstance(source, bytes) and not source:
        raise DicomReadError(f"'{label}' is empty — choose a DICOM file")
    notes: list[str] = []
    stopped: int | None = None
    try:
        size = len(source) if isinstance(source, bytes) else os.path.getsize(source)
    except OSError as exc:
        raise DicomReadError(f"cannot read '{label}': {exc.strerror or exc}") from exc
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ds, capped = _read_bounded(source, limits, label)
        notes.extend(dict.fromkeys(_one_line(w.message) for w in caught))
        notes.extend(capped)
        if any("End of file" in note for note in notes):
            stopped = size
    except LimitExceededError:
        raise
    except Exception as exc:  # pydicom raises many types on damaged files
        try:
            ds, stopped, reason = _read_elementwise(source, limits, label)
        except Exception as inner:
            raise DicomReadError(
                f"'{label}' is not a readable DICOM file ({_one_line(inner)})"
            ) from exc
        notes.append(f"reading stopped at byte {stopped}: {reason or _one_line(exc)}")
    if (len(ds) == 0 and not getattr(ds, "file_meta", None)) or not _plausible(ds):
        try:
            headerless = _read_headerless(source)
        except Exception:  # the bytes are not a data set either
            headerless = None
        if headerless is not None and _plausible(headerless[0]):
            ds, start = headerless
            notes = [
                "no preamble and no file meta"
                + (f"; the data set starts at byte {start}" if start else "")
                + " — read as "
                + ("implicit" if ds.is_implicit_VR else "explicit")
                + " VR little endian"
            ]
            stopped = None
    if (len(ds) == 0 and not getattr(ds, "file_meta", None)) or not _plausible(ds):
        raise DicomReadError(f"'{label}' holds no DICOM elements — is it a DICOM file?")
    deflated = getattr(ds, "file_meta", {}).get("TransferSyntaxUID") == (
        DeflatedExplicitVRLittleEndian
    )
    for offset, message in _truncations(ds, None if deflated else size):
        stopped = offset if stopped is None else min(stopped, offset)
        notes.append(f"truncated: {message}; reading stopped at byte {offset}")
    for offset, message in _decode_elements(ds):
        stopped = offset if stopped is None else min(stopped, offset)
        notes.append(message)
    notes.extend(_charset_as_cs(ds))
    return ReadResult(dataset=ds, warnings=tuple(notes), stopped_at=stopped)


def read(source: bytes | str | Path, *, name: str = "") -> Dataset:
    """Read a DICOM file without loading its large values.

    Values longer than :data:`DEFER_SIZE` bytes (Pixel Data, large OB/OW
    elements) stay on disk, or in the given bytes, until they are asked for.
    Files without preamble or file meta are read too; a damaged file is read as
    far as possible (see :func:`read_with_report` for the warnings).

    Parameters
    ----------
    source : bytes, str or Path
        The file's bytes or its path.
    name : str, optional
        Name for messages when ``source`` is bytes.

    Returns
    -------
    pydicom.dataset.Dataset

    Raises
    ------
    DicomReadError
        If nothing readable is found.
    """
    return read_with_report(source, name=name).dataset


@guarded("preview")
def pixel_array(ds: Dataset) -> numpy.ndarray:
    """Decode the pixels of a dataset for viewing (RGB for colour images).

    Parameters
    ----------
    ds : Dataset
        A dataset with Pixel Data.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    CodecUnavailableError
        If no installed decoder handles the transfer syntax.
    DicomReadError
        If there is no Pixel Data or it cannot be decoded.
    """
    if "PixelData" not in ds and "FloatPixelData" not in ds and "DoubleFloatPixelData" not in ds:
        raise DicomReadError("the dataset has no Pixel Data — nothing to show")
    meta = getattr(ds, "file_meta", None)
    syntax = UID(meta.get("TransferSyntaxUID", ExplicitVRLittleEndian)) if meta else None
    if syntax is None:
        implicit, little = ds.original_encoding
        syntax = UID("1.2.840.10008.1.2" if implicit else "1.2.840.10008.1.2.1")
        if little is False:
            syntax = UID("1.2.840.10008.1.2.2")
    try:
        decoder = get_decoder(syntax)
    except NotImplementedError as exc:
        raise CodecUnavailableError(
            f"no decoder exists for {syntax.name} ({syntax}) pixel data — "
            "convert the file to another transfer syntax to view it"
        ) from exc
    if not decoder.is_available:
        package = next(
            (pkg for prefix, pkg in _DECODER_PACKAGES.items() if syntax.startswith(prefix)),
            "; ".join(decoder.missing_dependencies) or "a pydicom decoding plugin",
        )
        raise CodecUnavailableError(
            f"no installed decoder for {syntax.name} ({syntax}) pixel data — install {package}"
        )
    try:
        array, _ = decoder.as_array(ds)
    except Exception as exc:  # decoders raise many types on corrupt data
        raise DicomReadError(
            f"the {syntax.name} pixel data cannot be decoded ({_one_line(exc)})"
        ) from exc
    return array
