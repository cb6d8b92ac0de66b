#!/usr/bin/env bash
# Lambda figures of docs/BENCHMARKS.md ("Cold start and sizes"):
# * cold start (spawn to first poll of the runtime API), first and warm invocation
#   durations and log bytes per invocation of journeys-create and queue-consumer: the real
#   release binaries behind a fake Lambda runtime API on loopback, DynamoDB and SQS on moto
#   (tests/load/lambda_runtime.py);
# * with --sizes: binary and zip size of every function, built with cargo lambda for arm64
#   as template.yaml deploys them (needs the aarch64-unknown-linux-gnu target and zig,
#   which `pip install cargo-lambda` brings).
# Usage: bash tests/load/bench_lambda.sh [--sizes] [INVOCATIONS [COLD_STARTS [BATCH]]]
# CARGO_TARGET_DIR picks the build directory (release builds are long: keep one apart).
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/load/common.sh
target=${CARGO_TARGET_DIR:-target}
sizes=false
if [ "${1:-}" = --sizes ]; then sizes=true; shift; fi

cargo build --release -p registry-functions --bin journeys-create --bin queue-consumer
# The admin CLI creates the operator and its token in the moto table.
if [ -z "${REGISTRY_BIN:-}" ]; then
    cargo build -p registry-local
    export REGISTRY_BIN="$target/debug/registry"
fi
python3 tests/load/lambda_runtime.py --bootstrap-dir "$target/release" \
    --invocations "${1:-300}" --cold-starts "${2:-20}" --batch "${3:-10}"

if $sizes; then
    command -v cargo-lambda >/dev/null || python3 -m pip install --quiet cargo-lambda
    # One package at a time, as `sam build` builds each CodeUri: built together, Cargo
    # would unify registry-core's features and link the renderer into every function.
    cargo lambda build --release --arm64 -p registry-functions
    cargo lambda build --release --arm64 -p registry-functions-render
    lambda_sizes "$target"
    file "$target"/lambda/journeys-create/bootstrap
fi
