"""Points on the map: WGS-84, as GPS and Open311 give them, and GCJ-02, as Chinese map apps do.

China's maps are published in GCJ-02, an obfuscated datum that shifts a point by a few hundred
metres in a way that varies over the country; a point picked in such an app and taken as WGS-84
lands on the wrong street. The suite keeps WGS-84 and converts what comes in as GCJ-02. The
forward formula is the published one (also in eviltransform and coordtransform); there is no
closed inverse, so the inverse iterates the forward one until it agrees to a millimetre
(docs/citizens.md, Locations).
"""

from __future__ import annotations

import math
from enum import StrEnum

from pydantic import BaseModel, Field

_A = 6378245.0  # the Krasovsky 1940 ellipsoid GCJ-02 is defined on
_EE = 0.00669342162296594323


class Datum(StrEnum):
    WGS84 = "wgs84"
    GCJ02 = "gcj02"


class Point(BaseModel):
    """A WGS-84 point."""

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class PointIn(BaseModel):
    """A point as given: WGS-84 (GPS, Open311) or GCJ-02 (picked in a Chinese map app)."""

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    datum: Datum = Datum.WGS84

    def wgs84(self) -> Point:
        return to_wgs84(self.lat, self.lon, self.datum)


def outside_china(lat: float, lon: float) -> bool:
    """Where GCJ-02 is the identity (the published rectangle, not the border)."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _shift(lat: float, lon: float) -> tuple[float, float]:
    x, y = lon - 105.0, lat - 35.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    waves = (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    d_lat += waves + (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2 / 3
    d_lat += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2 / 3
    d_lon += waves + (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2 / 3
    d_lon += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2 / 3
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * math.sqrt(magic)) * math.pi)
    d_lon = (d_lon * 180.0) / (_A / math.sqrt(magic) * math.cos(rad) * math.pi)
    return d_lat, d_lon


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    if outside_china(lat, lon):
        return lat, lon
    d_lat, d_lon = _shift(lat, lon)
    return lat + d_lat, lon + d_lon


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """The WGS-84 point whose GCJ-02 image is (lat, lon), to about a millimetre."""
    guess_lat, guess_lon = lat, lon
    for _ in range(30):
        got_lat, got_lon = wgs84_to_gcj02(guess_lat, guess_lon)
        err_lat, err_lon = got_lat - lat, got_lon - lon
        if abs(err_lat) < 1e-9 and abs(err_lon) < 1e-9:
            break
        guess_lat, guess_lon = guess_lat - err_lat, guess_lon - err_lon
    return guess_lat, guess_lon


def to_wgs84(lat: float, lon: float, datum: Datum) -> Point:
    """A point as given in ``datum``, in WGS-84 (what the suite stores)."""
    if datum is Datum.GCJ02:
        lat, lon = gcj02_to_wgs84(lat, lon)
    return Point(lat=round(lat, 7), lon=round(lon, 7))


Ring = list[tuple[float, float]]  # (lon, lat) pairs, as GeoJSON orders them


def in_ring(lon: float, lat: float, ring: Ring) -> bool:
    """Whether the point is inside the ring (even-odd rule, a ray cast to the east)."""
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def in_polygon(lon: float, lat: float, rings: list[Ring]) -> bool:
    """Inside the outer ring and outside every hole."""
    return in_ring(lon, lat, rings[0]) and not any(in_ring(lon, lat, hole) for hole in rings[1:])
