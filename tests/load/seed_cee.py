#!/usr/bin/env python3
"""Seeds an embedded store with N standardized CEE applications (long, operator 1) written
exactly as the registry writes them: the application item and its two lock items (identity
key and licence), keyed hashes with the same secret. For the history-search benchmark only.

Usage: python3 tests/load/seed_cee.py DB_FILE N [HASH_SECRET]
Person n has licence SEED<n, 9 digits> and identity key sha256("seed-<n>").
"""
import hashlib, hmac, json, random, sqlite3, sys, uuid

db, n = sys.argv[1], int(sys.argv[2])
secret = (sys.argv[3] if len(sys.argv) > 3 else "local-development-secret-change-me").encode()


def keyed(*parts):
    return hmac.new(secret, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()


def fnv1a(s):
    h = 0x811C9DC5
    for b in s.encode():
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def row(pk, sk, attrs):
    return (pk, sk, json.dumps(attrs, separators=(",", ":")), None, None, fnv1a(pk))


con = sqlite3.connect(db)
con.execute("PRAGMA journal_mode=WAL")
con.execute("PRAGMA synchronous=OFF")
random.seed(1)
batch = []
for i in range(n):
    licence = f"SEED{i:09d}"
    identity = hashlib.sha256(f"seed-{i}".encode()).hexdigest()
    id_hash = keyed("cee-identity", identity)
    lic_hash = keyed("cee-licence", licence)
    app_uuid = str(uuid.UUID(int=random.getrandbits(128), version=4))
    day = random.randrange(0, 600)
    dt = f"2023-{1 + day // 50 % 12:02d}-{1 + day % 28:02d}T10:00:00.000Z"
    entries = json.dumps([{"uuid": app_uuid, "operator_id": 1, "datetime": dt}], separators=(",", ":"))
    lock = {"version": {"N": 1}, "entries": {"S": entries}, "latest": {"S": dt}}
    batch.append(row(f"CEE#{app_uuid}", "APPLICATION", {
        "operator_id": {"N": 1}, "journey_type": {"S": "long"},
        "datetime": {"S": dt}, "token": {"S": "x" * 684}, "applied_at": {"S": dt},
        "created_at": {"S": dt}, "id_hash": {"S": id_hash}, "lic_hash": {"S": lic_hash}}))
    batch.append(row(f"CEEID#long#{id_hash}", "LOCK", lock))
    batch.append(row(f"CEELIC#long#{lic_hash}", "LOCK", lock))
    if len(batch) >= 30000:
        con.executemany("INSERT OR REPLACE INTO items (pk, sk, attrs, gsi1pk, gsi1sk, h) VALUES (?,?,?,?,?,?)", batch)
        con.commit()
        batch = []
con.executemany("INSERT OR REPLACE INTO items (pk, sk, attrs, gsi1pk, gsi1sk, h) VALUES (?,?,?,?,?,?)", batch)
con.commit()
print(f"seeded {n} applications ({3 * n} items) into {db}")
