#!/usr/bin/env python3
"""Writes N journey v2 documents (NDJSON) for `registry journeys validate`, mixed valid and
invalid (one in four broken in a different way), ending an hour before now.
Usage: python3 tests/load/make_journeys.py N > journeys.ndjson"""
import datetime
import json
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
now = datetime.datetime.now(datetime.timezone.utc)
start = (now - datetime.timedelta(minutes=90)).isoformat(timespec="seconds")
end = (now - datetime.timedelta(minutes=60)).isoformat(timespec="seconds")


def person(phone, extra):
    p = {"identity": {"phone": phone},
         "start": {"datetime": start, "lat": 48.8566, "lon": 2.3522},
         "end": {"datetime": end, "lat": 48.8049, "lon": 2.1204},
         "incentives": [], "distance": 21500, "duration": 1800}
    p.update(extra)
    return p


breakers = [
    lambda d: d["passenger"].update(seats=9),                       # out of range
    lambda d: d["driver"]["identity"].update(phone="12"),            # not a phone
    lambda d: d["passenger"]["start"].update(datetime="2026-01-01T10:00:00"),  # no offset
    lambda d: d.update(unknown_key=1),                               # additional key
]
out = sys.stdout
for i in range(n):
    doc = {"journey_id": f"bench-{i}", "operator_journey_id": f"trip-{i // 2}", "operator_class": "C",
           "passenger": person("06 12 34 56 78", {"seats": 1, "contribution": 300, "payments": []}),
           "driver": person("+33698765432", {"revenue": 250})}
    if i % 4 == 3:
        breakers[(i // 4) % len(breakers)](doc)
    out.write(json.dumps(doc, separators=(",", ":")))
    out.write("\n")
