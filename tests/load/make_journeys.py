#!/usr/bin/env python3
"""Writes N journey v2 documents (NDJSON) for `registry journeys validate`, mixed valid and
invalid (one in four broken in a different way), ending an hour before now. Phones are
drawn from PEOPLE carpoolers (default N/5: each travels ~10 times as driver or passenger),
half written in the French national form, half in E.164; PEOPLE=N*2 gives every person
one journey.
Usage: python3 tests/load/make_journeys.py N [PEOPLE] > journeys.ndjson"""
import datetime
import json
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
people = int(sys.argv[2]) if len(sys.argv) > 2 else max(2, n // 5)
rng = random.Random(42)


def phone(person):
    # 060… and 078…: valid French mobile ranges for libphonenumber (person < 10 000 000)
    national = f"6{person:08d}" if person % 2 else f"78{person:07d}"
    if person % 4 < 2:
        return f"0{national[0]} {national[1:3]} {national[3:5]} {national[5:7]} {national[7:9]}"
    return f"+33{national}"

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
           "passenger": person(phone(p := rng.randrange(people)), {"seats": 1, "contribution": 300, "payments": []}),
           "driver": person(phone((p + 1 + rng.randrange(people - 1)) % people), {"revenue": 250})}
    if i % 4 == 3:
        breakers[(i // 4) % len(breakers)](doc)
    out.write(json.dumps(doc, separators=(",", ":")))
    out.write("\n")
