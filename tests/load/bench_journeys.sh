#!/usr/bin/env bash
# Load benchmark of POST /v2/journeys on `registry serve` (embedded store, durable commit),
# loopback only. Usage: bash tests/load/bench_journeys.sh [DURATION_S] [CONNECTIONS]
# Needs wrk (Debian: apt-get install wrk). Prints wrk's report, then checks that the store
# holds exactly as many journeys as were accepted.
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-20}
connections=${2:-64}
port=${PORT:-18181}

cargo build --release -q -p registry-local
bin=./target/release/registry
dir=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$dir"' EXIT

export RUST_LOG=${RUST_LOG:-warn}
# One operator: lift its per-minute limit so the store, not the limiter, is measured.
export REGISTRY_RATE_LIMIT_PER_MIN=1000000000
op=$($bin --data "$dir/r.db" --json admin operator create --name bench | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
export TOKEN=$($bin --data "$dir/r.db" --json admin token create --operator "$op" --name bench | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
$bin --data "$dir/r.db" serve --addr 127.0.0.1:$port > "$dir/serve.log" 2>&1 &
server=$!
for _ in $(seq 50); do
    (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break
    sleep 0.1
done

wrk -t2 -c"$connections" -d"${duration}s" --latency -s tests/load/journeys.lua "http://127.0.0.1:$port" | tee "$dir/wrk.txt"
sleep 2
kill $server; wait $server 2>/dev/null || true
python3 - "$dir/r.db" "$dir/wrk.txt" <<'PY'
import re, sqlite3, sys
db, report = sys.argv[1], open(sys.argv[2]).read()
total = int(re.search(r"(\d+) requests in", report).group(1))
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", report)
accepted = total - (int(non2xx.group(1)) if non2xx else 0)
c = sqlite3.connect(db)
stored = c.execute("select count(*) from items where sk = 'JOURNEY'").fetchone()[0]
processed = c.execute("select count(*) from items where sk = 'JOURNEY' and json_extract(attrs, '$.status.S') = 'ok'").fetchone()[0]
print(f"requests {total}, accepted {accepted}, stored {stored}, processed {processed}")
# wrk counts requests still in flight when it stops; they may be stored without being counted.
sys.exit(0 if stored >= accepted else 1)
PY
