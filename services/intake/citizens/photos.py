"""Citizens' photos: decoded and re-encoded, so what is stored is pixels and nothing else.

A phone's photo carries EXIF: the camera, the time, and often the GPS position of the
citizen's home. Re-encoding drops all of it; the position is read first and handed back only
when the citizen chose to share the place, to become the matter's point — never kept in the
file. A file that does not decode as an image is refused, whatever its name says.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from shared.errors import BadInput
from shared.geo import Point

LONGEST_SIDE = 2560  # enough to read a licence plate; a 12-megapixel original is not needed
Image.MAX_IMAGE_PIXELS = 50_000_000  # a decompression bomb is refused before it is decoded
_GPS_IFD = 0x8825


@dataclass(frozen=True)
class CleanImage:
    content: bytes
    content_type: str
    gps: Point | None  # where the photo says it was taken, if it says


def _degrees(value: tuple[float, float, float], ref: str) -> float:
    degrees = float(value[0]) + float(value[1]) / 60 + float(value[2]) / 3600
    return -degrees if ref in ("S", "W") else degrees


def _gps(image: Image.Image) -> Point | None:
    gps = image.getexif().get_ifd(_GPS_IFD)
    try:
        lat = _degrees(gps[2], gps.get(1, "N"))
        lon = _degrees(gps[4], gps.get(3, "E"))
        return Point(lat=lat, lon=lon)
    except (KeyError, TypeError, ValueError, ZeroDivisionError, IndexError):
        return None


def clean(data: bytes) -> CleanImage:
    """The photo as a fresh JPEG (PNG if it has transparency), turned upright, at most
    LONGEST_SIDE pixels a side, without any metadata."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            gps = _gps(image)
            upright = ImageOps.exif_transpose(image)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as exc:
        raise BadInput(
            "the file is not a photo this service can read (JPEG, PNG, WebP, GIF)",
            zh="文件不是可识别的图片（支持 JPEG、PNG、WebP、GIF）",
        ) from exc
    upright.thumbnail((LONGEST_SIDE, LONGEST_SIDE))
    out = io.BytesIO()
    if upright.mode in ("RGBA", "LA") or "transparency" in upright.info:
        # A fresh image: only pixels are copied, so no chunk of the original comes along.
        fresh = Image.new("RGBA", upright.size)
        fresh.paste(upright.convert("RGBA"))
        fresh.save(out, format="PNG", optimize=True)
        return CleanImage(out.getvalue(), "image/png", gps)
    fresh = Image.new("RGB", upright.size)
    fresh.paste(upright.convert("RGB"))
    fresh.save(out, format="JPEG", quality=85, optimize=True)
    return CleanImage(out.getvalue(), "image/jpeg", gps)
