"""Exceptions raised by the core library.

Every error a user can cause is a :class:`TbpError` whose message names the
problem (the file, value or tag) and the fix, in one line. The CLI prints that
line and exits 2; the app shows it with ``st.error``.
"""

from dataclasses import dataclass


class TbpError(Exception):
    """Base class for problems caused by the input, with a user-facing message."""


class ImageLoadError(TbpError):
    """The image file is unreadable: corrupt, truncated, empty or not an image."""


class UnsupportedImageError(TbpError):
    """The image is readable but cannot be converted as asked (alpha, size, depth)."""


@dataclass(frozen=True)
class FieldProblem:
    """One invalid metadata field, for showing beside that field in a form.

    ``keyword`` is the attribute keyword (or ``tbp:`` key), with a path such as
    ``AnatomicRegionSequence[0].CodeValue`` inside sequences; ``suggestion`` is a
    corrected value when one can be guessed.
    """

    keyword: str
    value: object
    message: str
    suggestion: str | None = None


class MetadataError(TbpError):
    """A metadata value or template is invalid for its DICOM attribute.

    ``problems`` lists every invalid field (empty when the error is not about
    particular fields, e.g. unreadable JSON).
    """

    def __init__(self, message: str, *, problems: tuple[FieldProblem, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


class ConversionError(TbpError):
    """The image and metadata cannot be turned into the requested IOD."""


class CodecUnavailableError(TbpError):
    """No installed codec can encode or decode the requested transfer syntax."""


class TagEditError(TbpError):
    """An edit of a DICOM element was refused; the dataset is unchanged."""


class DicomReadError(TbpError):
    """Nothing readable could be found in a DICOM file."""


def one_line(exc: BaseException) -> str:
    """An exception's message on one line, for quoting inside a user-facing message.

    Parameters
    ----------
    exc : BaseException
        Any exception, often one raised by a library (pydicom, Pillow, libpng).

    Returns
    -------
    str
        Its message with runs of white space (newlines too) folded to one
        space; the exception's type name when the message is empty.
    """
    return " ".join(str(exc).split()) or type(exc).__name__
