"""Make the sample images in this folder (deterministic; run to regenerate).

``.venv/bin/python sample_data/make_samples.py``

The pictures are synthetic: a skin-toned surface with soft shading, naevi
(dark spots) and sensor noise. No real person is shown.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

HERE = Path(__file__).resolve().parent


def synthetic_skin(rows: int, columns: int, *, seed: int, naevi: int) -> np.ndarray:
    """Return an (rows, columns, 3) uint8 skin-like image.

    Parameters
    ----------
    rows, columns : int
        Image size.
    seed : int
        Random seed: the same seed gives the same picture.
    naevi : int
        Number of dark spots.

    Returns
    -------
    numpy.ndarray
    """
    rng = np.random.default_rng(seed)
    y = np.linspace(0.0, 1.0, rows, dtype=np.float32)[:, None]
    x = np.linspace(0.0, 1.0, columns, dtype=np.float32)[None, :]
    shading = 0.82 + 0.18 * np.cos((x - 0.5) * np.pi) * np.cos((y - 0.45) * np.pi * 0.8)
    image = shading[..., None] * np.array([222.0, 176.0, 150.0], dtype=np.float32)
    scale = min(rows, columns) / 1000
    for _ in range(naevi):
        cy, cx = int(rng.integers(0, rows)), int(rng.integers(0, columns))
        radius = float(rng.uniform(4, 28)) * max(scale, 0.5)
        reach = int(3 * radius) + 1
        y0, y1 = max(cy - reach, 0), min(cy + reach, rows)
        x0, x1 = max(cx - reach, 0), min(cx + reach, columns)
        yy, xx = np.ogrid[y0:y1, x0:x1]
        weight = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * radius**2)).astype(np.float32)
        image[y0:y1, x0:x1] *= (1 - 0.55 * weight)[..., None]
    image += rng.normal(0.0, 3.0, size=image.shape).astype(np.float32)
    return np.clip(image, 0, 255).astype(np.uint8)


def camera_exif(
    *,
    model: str,
    exposure: tuple[int, int],
    f_number: tuple[int, int],
    focal_mm: tuple[int, int],
    taken: str,
) -> Image.Exif:
    """EXIF of a fictitious camera, as the TBP capture rig would write it."""
    exif = Image.Exif()
    exif[0x010F] = "Lumo Imaging"  # Make
    exif[0x0110] = model  # Model
    exif[0x0131] = "LumoTrackv1"  # Software
    ifd = exif.get_ifd(0x8769)
    ifd[0x829A] = IFDRational(*exposure)  # ExposureTime
    ifd[0x829D] = IFDRational(*f_number)  # FNumber
    ifd[0x8827] = 100  # ISOSpeedRatings
    ifd[0x9003] = taken  # DateTimeOriginal
    ifd[0x9004] = taken  # DateTimeDigitized
    ifd[0x920A] = IFDRational(*focal_mm)  # FocalLength
    ifd[0xA403] = 1  # WhiteBalance: manual
    ifd[0xA431] = "LT-0042"  # BodySerialNumber
    return exif


def main() -> None:
    """Write regional_back.png and dermoscopic_lesion.png."""
    regional = synthetic_skin(768, 1024, seed=1, naevi=60)
    Image.fromarray(regional, "RGB").save(
        HERE / "regional_back.png",
        exif=camera_exif(
            model="TBP Rig R1",
            exposure=(1, 125),
            f_number=(28, 10),
            focal_mm=(554, 100),
            taken="2024:03:01 10:15:30",
        ),
        optimize=True,
    )
    lesion = synthetic_skin(480, 640, seed=7, naevi=0)
    yy, xx = np.ogrid[:480, :640]
    spot = np.exp(-(((yy - 240) / 90.0) ** 2 + ((xx - 320) / 110.0) ** 2)).astype(np.float32)
    lesion = (lesion * (1 - 0.6 * spot)[..., None]).astype(np.uint8)
    Image.fromarray(lesion, "RGB").save(
        HERE / "dermoscopic_lesion.png",
        exif=camera_exif(
            model="TBP Dermoscope D1",
            exposure=(1, 60),
            f_number=(40, 10),
            focal_mm=(400, 100),
            taken="2024:03:01 10:21:05",
        ),
        optimize=True,
    )


if __name__ == "__main__":
    main()
