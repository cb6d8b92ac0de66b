#!/usr/bin/env bash
# Certificates on `registry serve` (embedded store, loopback): the time to create one for a
# person with 2 000 journeys over 3 years, then the time and memory to render its PDF/PNG.
# Usage: bash tests/load/bench_certificates.sh [DURATION_S]   (needs wrk: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/load/common.sh
duration=${1:-20}
port=${PORT:-18191}

cargo build --release -q -p registry-local
bin=./target/release/registry
dir=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$dir"' EXIT

export RUST_LOG=${RUST_LOG:-warn}
export REGISTRY_OTHER_RATE_LIMIT_PER_MIN=1000000000
op=$(operator_id bench)
export TOKEN=$(operator_token "$op" bench)
$bin --data "$dir/r.db" bench certificate-seed --operator "$op" --journeys 2000 --years 3
start_server
wait_for_port 50

echo "== one certificate: totals"
curl -sf -X POST "http://127.0.0.1:$port/v2/certificates" -H "Authorization: Bearer $TOKEN" \
    -H 'content-type: application/json' \
    -d '{"identity": {"phone": "06 12 34 56 78"}, "start_at": "2000-01-01T00:00:00Z"}' |
    python3 -c 'import json,sys; m=json.load(sys.stdin)["meta"]; print("months", len(m["months"]), "total", m["total"])'

# CPU time of the server process (user + system, clock ticks) around each run.
cpu() { awk '{print $14 + $15}' /proc/$server/stat; }
echo "== POST /v2/certificates, 1 connection (latency), then 4"
for c in 1 4; do
    before=$(cpu)
    wrk -t1 -c$c -d"${duration}s" --latency -s tests/load/certificates.lua "http://127.0.0.1:$port" | tee "$dir/wrk.txt"
    after=$(cpu)
    requests=$(grep -Eo '^ *[0-9]+ requests in' "$dir/wrk.txt" | grep -Eo '[0-9]+')
    if grep -q "Non-2xx" "$dir/wrk.txt"; then echo "some answers were not 201" >&2; exit 1; fi
    python3 -c "import os,sys; t=os.sysconf('SC_CLK_TCK'); b,a,n=map(int,sys.argv[1:]); print(f'server CPU per certificate: {(a-b)/t/n*1000:.2f} ms ({n} certificates)')" "$before" "$after" "$requests"
done
kill $server; wait $server 2>/dev/null || true

echo "== rendering, one core (time per page, user CPU and peak memory of the whole process)"
for format in pdf png; do
    /usr/bin/time -f "$format: %U s user, %e s wall, %M KB max RSS" \
        taskset -c 0 $bin --data "$dir/r.db" bench certificate-render --runs 100 --format $format
done
/usr/bin/time -f "one pdf: %U s user, %e s wall, %M KB max RSS" \
    $bin --data "$dir/r.db" bench certificate-render --runs 1 --format pdf
