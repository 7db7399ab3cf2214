"""tbp_core's curated public API: every name resolves, and importing the package is cheap."""

from __future__ import annotations

import subprocess
import sys

import tbp_core


def test_every_public_name_resolves_to_its_object() -> None:
    assert len(tbp_core.__all__) >= 20
    for name in tbp_core.__all__:
        value = getattr(tbp_core, name)
        assert value is not None, name
        if name != "__version__":
            assert value.__name__ == name, name  # the thing itself, not a module


def test_unknown_names_raise_attribute_error() -> None:
    try:
        tbp_core.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("an unknown name resolved")


def test_import_loads_no_subpackage() -> None:
    code = (
        "import sys, tbp_core\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('tbp_core.', 'pydicom')))\n"
        "print(loaded)\n"
        "assert loaded == [], loaded\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_round_trip_through_the_public_api(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import DATA

    png = DATA / "png" / "basn2c08.png"
    converted = tbp_core.convert_image(
        png.read_bytes(),
        png.name,
        tbp_core.parse_template(b'{"PatientName": "Doe^Jane"}'),
        tbp_core.new_series_context(),
        options=tbp_core.ConvertOptions(iod=tbp_core.get_iod("vl-photographic")),
    )
    target = tmp_path / "out.dcm"
    tbp_core.write(converted.dataset, target)
    ds = tbp_core.read(target)
    assert str(ds.PatientName) == "Doe^Jane"
    assert tbp_core.validate(ds).errors == ()
