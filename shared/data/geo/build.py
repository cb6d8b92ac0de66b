#!/usr/bin/env python3
"""Builds communes.bin, the commune index of `shared/src/domain/geo/` (format: README.md).

Inputs: the 2018 commune outlines (communes-2018-geojson.tar.gz, IGN ADMIN EXPRESS COG
2018) and the current Code officiel géographique from the npm package
@etalab/decoupage-administratif 6.0.0 (fetched with `npm pack` when no folder is given).

    python3 shared/data/geo/build.py ../shared/data/communes-2018-geojson.tar.gz [PACKAGE_DIR]

Standard library only. Each 2018 outline is rasterised on rows of ROW_HEIGHT (1e-5 degree
units) of latitude: on each row, the exact longitudes where the outline crosses the row's
middle latitude bound the runs of its current commune.
"""
import json
import os
import struct
import subprocess
import sys
import tarfile
import tempfile
from collections import defaultdict

ROW_HEIGHT = 100  # 0.001 degree of latitude, ~111 m
GAP_FILL = 500  # gaps narrower than 0.005 degree between communes are split between them
KIND = {"commune-actuelle": 0, "commune-deleguee": 1, "commune-associee": 2,
        "arrondissement-municipal": 3}
FORMER = 4


def varint(n, out):
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def package_dir(arg):
    if arg:
        return arg
    tmp = tempfile.mkdtemp()
    subprocess.run(["npm", "pack", "@etalab/decoupage-administratif@6.0.0"], cwd=tmp,
                   check=True, stdout=subprocess.DEVNULL)
    with tarfile.open(os.path.join(tmp, "etalab-decoupage-administratif-6.0.0.tgz")) as t:
        t.extractall(tmp)
    return os.path.join(tmp, "package")


def load_cog(pkg):
    data = lambda name: json.load(open(os.path.join(pkg, "data", name), encoding="utf-8"))
    communes = data("communes.json")
    current = {c["code"]: c for c in communes if c["type"] == "commune-actuelle"}
    codes = {}  # any known code -> (current code, kind)
    for c in communes:
        if c["type"] == "commune-actuelle":
            codes[c["code"]] = (c["code"], 0)
    for c in communes:
        if c["code"] in codes:
            continue
        parent = c.get("chefLieu") or c.get("commune")
        assert parent in current, c
        codes[c["code"]] = (parent, KIND[c["type"]])
    for c in current.values():
        for old in c.get("anciensCodes", []):
            codes.setdefault(old, (c["code"], FORMER))
    epci_of = {}
    epcis = data("epci.json")
    for e in epcis:
        for m in e["membres"]:
            epci_of[m["code"]] = e["code"]
    return current, codes, epcis, epci_of, data("departements.json"), data("regions.json")


def crossings(geometry):
    """row -> longitudes (1e-5 degree) where the outline crosses the row's middle."""
    polys = geometry["coordinates"]
    if geometry["type"] == "Polygon":
        polys = [polys]
    rows = defaultdict(list)
    for poly in polys:
        for ring in poly:
            pts = [(round(x * 1e5), round(y * 1e5)) for x, y, *_ in ring]
            for (x1, y1), (x2, y2) in zip(pts, pts[1:] + pts[:1]):
                if y1 == y2:
                    continue
                lo, hi = min(y1, y2), max(y1, y2)
                # rows r whose middle (r + 0.5) * H lies in [lo, hi)
                r = -((-(2 * lo - ROW_HEIGHT)) // (2 * ROW_HEIGHT))
                while (2 * r + 1) * ROW_HEIGHT < 2 * hi:
                    yc = (r + 0.5) * ROW_HEIGHT
                    rows[r].append(x1 + (yc - y1) * (x2 - x1) / (y2 - y1))
                    r += 1
    return rows


def spans(rows):
    for r, xs in rows.items():
        xs.sort()
        for a, b in zip(xs[0::2], xs[1::2]):
            a, b = round(a), round(b)
            if b > a:
                yield r, a, b


def encode_row(row_spans):
    """[(x_start, id)] boundaries: id 0 is nowhere; overlaps go to the first span."""
    row_spans.sort()
    out = []
    end = None
    for a, b, pid in row_spans:
        if end is not None and a < end:
            a = end
            if b <= a:
                continue
        if end is not None and a > end:
            if a - end <= GAP_FILL:
                mid = (a + end) // 2
                out.append((mid, pid))
            else:
                out.append((end, 0))
                out.append((a, pid))
        else:
            out.append((a, pid))
        end = b
    if end is not None:
        out.append((end, 0))
    return out


def grid(dep_index, features, current_index):
    palette = sorted({current_index[f] for f, _ in features})
    pal = {c: i + 1 for i, c in enumerate(palette)}
    by_row = defaultdict(list)
    for code, geometry in features:
        for r, a, b in spans(crossings(geometry)):
            by_row[r].append((a, b, pal[current_index[code]]))
    row0, row1 = min(by_row), max(by_row)
    x0 = min(a for s in by_row.values() for a, _, _ in s)
    x1 = max(b for s in by_row.values() for _, b, _ in s)
    data = bytearray()
    runs = 0
    for r in range(row0, row1 + 1):
        bounds = encode_row(by_row.get(r, []))
        runs += len(bounds)
        varint(len(bounds), data)
        prev = x0
        for x, pid in bounds:
            varint(x - prev, data)
            varint(pid, data)
            prev = x
    head = struct.pack("<HiIiiH", dep_index, row0, row1 - row0 + 1, x0, x1, len(palette))
    body = struct.pack(f"<{len(palette)}H", *palette) + struct.pack("<I", len(data)) + data
    return head + body, runs


def main():
    tarball, pkg = sys.argv[1], package_dir(sys.argv[2] if len(sys.argv) > 2 else None)
    current, codes, epcis, epci_of, deps, regs = load_cog(pkg)
    strings = bytearray()

    def text(s):
        b = s.encode()
        strings.extend(b)
        return len(strings) - len(b), len(b)

    regs = sorted(regs, key=lambda r: r["code"])
    reg_index = {r["code"]: i for i, r in enumerate(regs)}
    deps = sorted(deps, key=lambda d: d["code"])
    dep_index = {d["code"]: i for i, d in enumerate(deps)}
    epcis = sorted(epcis, key=lambda e: e["code"])
    epci_index = {e["code"]: i for i, e in enumerate(epcis)}
    com_codes = sorted(current)
    current_index = {c: i for i, c in enumerate(com_codes)}
    old_to_index = {old: current_index[cur] for old, (cur, _) in codes.items()}

    tables = bytearray()
    for r in regs:
        tables += r["code"].encode().ljust(3, b"\0") + struct.pack("<IH", *text(r["nom"]))
    for d in deps:
        tables += d["code"].encode().ljust(3, b"\0")
        tables += struct.pack("<HIH", reg_index[d["region"]], *text(d["nom"]))
    for e in epcis:
        tables += e["code"].encode() + struct.pack("<IH", *text(e["nom"]))
    for code in com_codes:
        c = current[code]
        epci = epci_index.get(epci_of.get(code), 0xFFFF)
        tables += code.encode() + struct.pack("<IHHH", *text(c["nom"]), epci,
                                               dep_index[c["departement"]])
    for code in sorted(codes):
        tables += code.encode() + struct.pack("<HB", old_to_index[code], codes[code][1])

    grids, runs = bytearray(), 0
    n_grids = 0
    with tarfile.open(tarball) as t:
        for m in sorted(t.getmembers(), key=lambda m: m.name):
            if not m.name.endswith(".geojson"):
                continue
            fc = json.load(t.extractfile(m))
            features = [(f["properties"]["code"], f["geometry"]) for f in fc["features"]]
            dep = current[old_to_index_code(features[0][0], codes)]["departement"]
            g, n = grid(dep_index[dep], features,
                        {c: old_to_index[c] for c, _ in features})
            grids += g
            runs += n
            n_grids += 1
    head = b"RGEO1\n" + struct.pack("<IIIIIII", len(regs), len(deps), len(epcis),
                                     len(com_codes), len(codes), n_grids, len(strings))
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "communes.bin")
    with open(out, "wb") as f:
        f.write(head + strings + tables + grids)
    print(f"{out}: {os.path.getsize(out)} bytes, {len(com_codes)} communes, "
          f"{len(codes)} codes, {n_grids} grids, {runs} runs", file=sys.stderr)


def old_to_index_code(code, codes):
    return codes[code][0]


if __name__ == "__main__":
    main()
