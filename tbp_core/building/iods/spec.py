"""The IODs TBP DICOM Studio produces, described once."""

from __future__ import annotations

from dataclasses import dataclass

from tbp_core.errors import ConversionError


@dataclass(frozen=True)
class IodSpec:
    """What distinguishes one produced IOD from another.

    Attributes
    ----------
    name : str
        Command-line name (``--iod``), e.g. ``"vl-photographic"``.
    sop_class_uid : str
        Its Storage SOP Class UID.
    standard_key : str
        Its key in the standard's tables (:mod:`tbp_core.standard`).
    modality : str
        Modality written to the General Series module.
    allows_16_bit : bool
        Whether the IOD accepts 16-bit samples (VL IODs are 8-bit only).
    summary : str
        One line telling a user when to choose it.
    """

    name: str
    sop_class_uid: str
    standard_key: str
    modality: str
    allows_16_bit: bool
    summary: str

    @property
    def title(self) -> str:
        """The IOD's name in the standard, e.g. ``"VL Photographic Image"``."""
        # Imported here: the standard's tables load pydicom, which the command
        # line does not need to list the IODs.
        from tbp_core.standard.formatting import title_of

        return title_of(self.standard_key)


VL_PHOTOGRAPHIC = IodSpec(
    name="vl-photographic",
    sop_class_uid="1.2.840.10008.5.1.4.1.1.77.1.4",
    standard_key="vl-photographic-image",
    modality="XC",
    allows_16_bit=False,
    summary="Visible-light photograph from a camera: TBP regional and wide-field images.",
)
DERMOSCOPIC = IodSpec(
    name="dermoscopic",
    sop_class_uid="1.2.840.10008.5.1.4.1.1.77.1.7",
    standard_key="dermoscopic-photography-image",
    modality="DMS",
    allows_16_bit=False,
    summary="Close-up taken through a dermatoscope; needs the dermatoscope's make, model, "
    "serial number and software version.",
)
SECONDARY_CAPTURE = IodSpec(
    name="secondary-capture",
    sop_class_uid="1.2.840.10008.5.1.4.1.1.7",
    standard_key="secondary-capture-image",
    modality="OT",
    allows_16_bit=True,
    summary="Any other picture (screenshots, diagrams, 16-bit images, teaching material).",
)

IODS: dict[str, IodSpec] = {
    spec.name: spec for spec in (VL_PHOTOGRAPHIC, DERMOSCOPIC, SECONDARY_CAPTURE)
}


def get_iod(name: str) -> IodSpec:
    """Return the IOD for a command-line name or a title.

    Parameters
    ----------
    name : str
        ``"vl-photographic"``, ``"dermoscopic"``, ``"secondary-capture"`` or a title.

    Returns
    -------
    IodSpec

    Raises
    ------
    ConversionError
        If the name is not one of the produced IODs.
    """
    if name in IODS:  # the usual case; a title needs the standard's names (about 10 ms)
        return IODS[name]
    for spec in IODS.values():
        if name == spec.title:
            return spec
    choices = ", ".join(IODS)
    raise ConversionError(f"unknown IOD '{name}': choose one of {choices}")
