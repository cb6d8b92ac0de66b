#!/usr/bin/env bash
# Release build, outside CI (slow: fat LTO): the local binary, then every Lambda function
# with cargo lambda, and a table of binary and zip sizes.
# Usage: bash tests/release.sh [--arm64]   (arm64 needs the aarch64-unknown-linux-gnu target)
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/load/common.sh
command -v cargo-lambda >/dev/null || python3 -m pip install --quiet cargo-lambda

cargo build --release -p registry-local
# One package at a time, as `sam build` builds each CodeUri: built together, Cargo would
# unify registry-core's features and link the renderer into every function.
cargo lambda build --release -p registry-functions "$@"
cargo lambda build --release -p registry-functions-render "$@"

lambda_sizes target
