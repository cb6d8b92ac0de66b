"""Regenerates france.geojson: see README.md in this folder.

Usage: python3 extract_france.py MAP_GEO_JSON > france.geojson
MAP_GEO_JSON is map.geo.json of the npm package @geo-maps/countries-maritime-10m 0.6.0.
"""
import json
import sys

TOLERANCE_DEG = 0.001  # Douglas-Peucker tolerance: ~110 m north-south, ~75 m east-west here


def douglas_peucker(points, tol):
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        a, b = stack.pop()
        (ax, ay), (bx, by) = points[a], points[b]
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        best, best_i = -1.0, -1
        for i in range(a + 1, b):
            px, py = points[i]
            t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length2))
            d = (px - ax - t * dx) ** 2 + (py - ay - t * dy) ** 2
            if d > best:
                best, best_i = d, i
        if best > tol * tol:
            keep[best_i] = True
            stack += [(a, best_i), (best_i, b)]
    return [p for p, k in zip(points, keep) if k]


def main():
    world = json.load(open(sys.argv[1]))
    france = next(f for f in world["features"] if f["properties"].get("A3") == "FRA")
    polygons = []
    for polygon in france["geometry"]["coordinates"]:
        rings = []
        for ring in polygon:
            simple = douglas_peucker(ring, TOLERANCE_DEG)
            if len(simple) >= 4:
                rings.append([[round(x, 5), round(y, 5)] for x, y in simple])
        if rings:
            polygons.append(rings)
    feature = {
        "type": "Feature",
        "properties": {
            "name": "France",
            "source": "OpenStreetMap contributors (ODbL) via @geo-maps/countries-maritime-10m 0.6.0",
            "simplified_tolerance_deg": TOLERANCE_DEG,
        },
        "geometry": {"type": "MultiPolygon", "coordinates": polygons},
    }
    json.dump(feature, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


main()
