"""The transfer-syntax choices: the standard's UIDs, listed without importing pydicom."""

from __future__ import annotations

import subprocess
import sys

import pydicom.uid

from tbp_core.building.transfersyntaxes import (
    DEFAULT_TRANSFER_SYNTAX,
    JPEG_PASSTHROUGH,
    TRANSFER_SYNTAXES,
)

# Each choice's UID, by the name pydicom gives the transfer syntax.
PYDICOM_NAMES = {
    "explicit-le": "ExplicitVRLittleEndian",
    "rle": "RLELossless",
    "jpeg-ls": "JPEGLSLossless",
    "jpeg2000": "JPEG2000Lossless",
    "htj2k": "HTJ2KLossless",
    JPEG_PASSTHROUGH: "JPEGBaseline8Bit",
}


def test_each_uid_is_pydicoms_transfer_syntax_of_that_name() -> None:
    assert set(TRANSFER_SYNTAXES) == set(PYDICOM_NAMES)
    for name, choice in TRANSFER_SYNTAXES.items():
        uid = getattr(pydicom.uid, PYDICOM_NAMES[name])
        assert choice.name == name
        assert choice.uid == uid
        assert uid.is_transfer_syntax
        assert choice.description
    assert DEFAULT_TRANSFER_SYNTAX in TRANSFER_SYNTAXES
    assert not pydicom.uid.UID(TRANSFER_SYNTAXES[DEFAULT_TRANSFER_SYNTAX].uid).is_compressed


def test_the_choices_import_neither_pydicom_nor_numpy() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, tbp_core.building.transfersyntaxes; print(sorted(sys.modules))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    loaded = {name.split(".")[0] for name in eval(done.stdout)}  # a printed list literal
    assert not loaded & {"pydicom", "numpy", "PIL"}
