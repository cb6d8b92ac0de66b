#!/usr/bin/env bash
# Load benchmark of POST /v2/journeys on `registry serve` (embedded store, durable commit),
# loopback only. Usage: bash tests/load/bench_journeys.sh [DURATION_S] [CONNECTIONS]
# Needs wrk (Debian: apt-get install wrk). Prints wrk's report, then a summary: accepted/s,
# p99, the share of stored journeys processed when the load stopped and 5 s later (the
# server keeps running meanwhile), the load average before the run; then checks that the
# store holds at least as many journeys as were accepted.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/load/common.sh
duration=${1:-20}
connections=${2:-64}
port=${PORT:-18181}

# REGISTRY_BIN: a binary already built (no build here), e.g. a profiling build.
if [ -n "${REGISTRY_BIN:-}" ]; then
    bin=$REGISTRY_BIN
else
    cargo build --release -q -p registry-local
    bin=${CARGO_TARGET_DIR:-./target}/release/registry
fi
dir=$(mktemp -d)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
trap 'kill $server 2>/dev/null || true; rm -rf "$dir"' EXIT

export RUST_LOG=${RUST_LOG:-warn}
# One operator: lift its per-minute limit so the store, not the limiter, is measured.
export REGISTRY_RATE_LIMIT_PER_MIN=1000000000
op=$(operator_id bench)
export TOKEN=$(operator_token "$op" bench)
start_server
# PERF_OUT: record the server with `perf record -g` (per thread) during the load;
# PERF_ARGS replaces `-g`, e.g. "--call-graph dwarf,16384 -F 499" for full stacks.
if [ -n "${PERF_OUT:-}" ]; then
    perf record ${PERF_ARGS:--g} -s -o "$PERF_OUT" -p $server > /dev/null 2>&1 &
    recorder=$!
fi
wait_for_port 600

# Journeys stored and journeys still pending (the sparse pending index), read while the
# server runs (WAL: readers do not block it).
probe() {
    python3 - "$dir/r.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True, timeout=30)
stored = c.execute("select count(*) from items where pk >= 'JOURNEY#' and pk < 'JOURNEY$' and sk = 'JOURNEY'").fetchone()[0]
pending = c.execute("select count(*) from items where gsi1pk >= 'PENDING#' and gsi1pk < 'PENDING$'").fetchone()[0]
print(stored, pending)
PY
}

wrk -t2 -c"$connections" -d"${duration}s" --latency -s tests/load/journeys.lua "http://127.0.0.1:$port" | tee "$dir/wrk.txt"
at_stop=$(probe)
[ -n "${PERF_OUT:-}" ] && { kill -INT $recorder; wait $recorder || true; }
sleep 5
after_5s=$(probe)
kill $server; wait $server 2>/dev/null || true
python3 - "$dir/wrk.txt" "$at_stop" "$after_5s" "$load_before" <<'PY'
import re, sys
report, at_stop, after, load = sys.argv[1:5]
report = open(report).read()
total = int(re.search(r"(\d+) requests in", report).group(1))
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", report)
accepted = total - (int(non2xx.group(1)) if non2xx else 0)
rate = float(re.search(r"Requests/sec:\s+([\d.]+)", report).group(1))
p99 = re.search(r"99%\s+(\S+)", report).group(1)
def share(probe):
    stored, pending = map(int, probe.split())
    return stored, stored - pending, 100.0 * (stored - pending) / max(stored, 1)
s0, p0, f0 = share(at_stop)
s5, p5, f5 = share(after)
print(f"load average before: {load}")
print(f"accepted/s {rate:.0f} (non-2xx excluded: {accepted} of {total} requests), p99 {p99}")
print(f"processed at stop: {p0} of {s0} stored ({f0:.1f} %); 5 s later: {p5} of {s5} ({f5:.1f} %)")
# wrk counts requests still in flight when it stops; they may be stored without being counted.
sys.exit(0 if s5 >= accepted else 1)
PY
