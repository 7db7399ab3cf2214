"""The purpose-of-reference code written out in tbp_core.standard.references is pydicom's."""

from __future__ import annotations

from pydicom.sr.codedict import codes
from pydicom.uid import (
    CTImageStorage,
    DermoscopicPhotographyImageStorage,
    VLPhotographicImageStorage,
    VLWholeSlideMicroscopyImageStorage,
)

from tbp_core.standard import references


def test_localizer_is_the_cid_7201_code_of_pydicoms_dictionary() -> None:
    code = codes.DCM.Localizer
    written = references.LOCALIZER
    assert (written.value, written.scheme_designator, written.meaning) == (
        code.value,
        code.scheme_designator,
        code.meaning,
    )


def test_only_vl_images_may_be_overviews() -> None:
    assert references.is_vl_image(VLPhotographicImageStorage)
    assert references.is_vl_image(VLWholeSlideMicroscopyImageStorage)
    assert not references.is_vl_image(DermoscopicPhotographyImageStorage)
    assert not references.is_vl_image(CTImageStorage)
    assert not references.is_vl_image("1.2.3.4")
