#!/usr/bin/env bash
# History search on a big store: POST /v2/policies/cee (register, long) on `registry serve`
# after seeding N standardized applications (3N items). Loopback only; needs wrk.
# Usage: bash tests/load/bench_cee.sh [N=1000000] [DURATION_S=30] [CONNECTIONS=4]
# SIMULATE=1: the same persons through /v2/policies/cee/simulate (search only, no signature).
# BENCH_DIR=DIR keeps the seeded store in DIR for the next run; SKIP_BUILD=1 skips cargo.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/load/common.sh
n=${1:-1000000}
duration=${2:-30}
connections=${3:-4}
port=${PORT:-18281}

[ -n "${SKIP_BUILD:-}" ] || cargo build --release -q -p registry-local
bin=./target/release/registry
dir=${BENCH_DIR:-$(mktemp -d)}
trap 'kill $server 2>/dev/null || true; [ -n "${BENCH_DIR:-}" ] || rm -rf "$dir"' EXIT

export RUST_LOG=${RUST_LOG:-warn}
export REGISTRY_CEE_RATE_LIMIT_PER_MIN=1000000000
if [ ! -f "$dir/r.db" ]; then
    operator_id bench --siret 89248032800012 > "$dir/op.id"
    python3 tests/load/seed_cee.py "$dir/r.db" "$n"
fi
# A store seeded before kept the operator as JSON.
[ -f "$dir/op.id" ] || python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$dir/op.json" > "$dir/op.id"
op=$(cat "$dir/op.id")
export TOKEN=$(operator_token "$op" "bench-$RANDOM")
export SEED_COUNT=$n
export RUN_ID=$(date +%s)
start_server
wait_for_port 300
python3 - "$dir/r.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print("applications stored:", c.execute("select count(*) from items where sk = 'APPLICATION'").fetchone()[0])
PY
threads=$(( connections < 2 ? 1 : 2 ))
wrk -t"$threads" -c"$connections" -d"${duration}s" --latency -s tests/load/cee_register.lua "http://127.0.0.1:$port"
