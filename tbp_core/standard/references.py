"""How one image points at another: purposes of reference and which images may be pointed at.

A dermoscopic close-up names the regional overview it was taken on in its
Referenced Image Sequence (0008,1140), with a Purpose of Reference code from
CID 7201 "Referenced Image Purpose of Reference". The code is written out here
(rather than taken from ``pydicom.sr.codedict``, which costs 50 ms to import)
so that ``tbp-dicom validate`` can check links cheaply; a test compares it with
pydicom's dictionary.
"""

from __future__ import annotations

from dataclasses import dataclass

from tbp_core.standard import tables

__all__ = ["LOCALIZER", "CodedConcept", "is_vl_image"]


@dataclass(frozen=True)
class CodedConcept:
    """A code as a Code Sequence item holds it.

    Attributes
    ----------
    value : str
        Code Value (0008,0100).
    scheme_designator : str
        Coding Scheme Designator (0008,0102).
    meaning : str
        Code Meaning (0008,0104).
    """

    value: str
    scheme_designator: str
    meaning: str


#: Purpose of Reference of a close-up's overview (CID 7201). "Localizer" (121311)
#: is the image that shows where the referencing image was acquired: what a
#: regional overview is to a close-up of one of its lesions. The other candidates
#: fit worse: "Other partial views" (121313) is for views of equal standing,
#: "Biopsy localizer" (121312) implies a biopsy, "Anatomic image" (121314)
#: carries no "where".
LOCALIZER = CodedConcept("121311", "DCM", "Localizer")


def is_vl_image(sop_class_uid: str) -> bool:
    """Whether a SOP Class is one of the standard's VL image IODs (what an overview must be).

    Parameters
    ----------
    sop_class_uid : str
        E.g. VL Photographic Image Storage (1.2.840.10008.5.1.4.1.1.77.1.4).

    Returns
    -------
    bool
        True for the VL Photographic, Endoscopic, Microscopic, Slide-Coordinates
        Microscopic and Whole Slide Microscopy images; False for the others
        (Dermoscopic Photography too: a close-up, not a regional overview).
    """
    iod = tables.iod_for_sop_class(str(sop_class_uid)) or ""
    return iod.startswith("vl-") and iod.endswith("-image")
