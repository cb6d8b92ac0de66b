#!/usr/bin/env bash
# Acquisition at the production limit, loopback only: 10 operators on one `registry serve`
# (embedded store), each limited to 20 000 journeys/min (REGISTRY_RATE_LIMIT_PER_MIN, the
# template's default). Nine send at RATE/min (default 19 800, just under the limit), the
# tenth at OVER_RATE/min (default 30 000, over it). Passes when only the tenth gets 429s,
# every other answer is 201, and every 201 is stored.
# Usage: bash tests/load/bench_operators.sh [DURATION_S (default 75)] [CONNECTIONS_PER_OPERATOR (default 16)]
# Needs wrk (Debian: apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/load/common.sh
duration=${1:-75}
per_operator=${2:-16}
operators=10
port=${PORT:-18191}

# BIN=target/debug/registry LIMIT=600 RATE=500 OVER_RATE=900: a quick check of the script.
bin=${BIN:-./target/release/registry}
[ -n "${BIN:-}" ] || cargo build --release -q -p registry-local
dir=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$dir"' EXIT

export RUST_LOG=${RUST_LOG:-warn}
export REGISTRY_RATE_LIMIT_PER_MIN=${LIMIT:-20000}
tokens=()
ids=()
for i in $(seq $operators); do
    op=$(operator_id "operator $i")
    ids+=("$op")
    tokens+=("$(operator_token "$op" bench)")
done
export TOKENS=$(IFS=,; echo "${tokens[*]}")
start_server
wait_for_port 300

wrk -t$operators -c$((operators * per_operator)) -d"${duration}s" --latency -s tests/load/operators.lua "http://127.0.0.1:$port" | tee "$dir/wrk.txt"
sleep 2
kill $server; wait $server 2>/dev/null || true
server=
python3 - "$dir/r.db" "$dir/wrk.txt" "${ids[@]}" <<'PY'
import re, sqlite3, sys
db, report, ids = sys.argv[1], open(sys.argv[2]).read(), sys.argv[3:]
operators = len(ids)
rows = re.findall(r"operator-thread (\d+) rate (\d+)/min: 201 (\d+), 429 (\d+), other (\d+)", report)
assert len(rows) == operators, f"{len(rows)} operator lines in the wrk report"
stored = dict(sqlite3.connect(db).execute(
    "select json_extract(attrs, '$.operator_id.N'), count(*) from items where sk = 'JOURNEY' group by 1").fetchall())
failed = False
for tid, rate, ok, limited, other in rows:
    tid, ok, limited, other = int(tid), int(ok), int(limited), int(other)
    have = int(stored.get(ids[tid - 1], stored.get(int(ids[tid - 1]), 0)))
    over = tid == operators
    good = other == 0 and (limited > 0 if over else limited == 0) and have >= ok
    failed |= not good
    print(f"operator {ids[tid - 1]}: paced at {rate}/min: 201 {ok}, 429 {limited}, other {other}, stored {have} -> {'ok' if good else 'FAILED'}")
sys.exit(1 if failed else 0)
PY
