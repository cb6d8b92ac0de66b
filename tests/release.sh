#!/usr/bin/env bash
# Release build, outside CI (slow: fat LTO): the local binary, then every Lambda function
# with cargo lambda, and a table of binary and zip sizes.
# Usage: bash tests/release.sh [--arm64]   (arm64 needs the aarch64-unknown-linux-gnu target)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-lambda >/dev/null || python3 -m pip install --quiet cargo-lambda

cargo build --release -p registry-local
# One package at a time, as `sam build` builds each CodeUri: built together, Cargo would
# unify registry-core's features and link the renderer into every function.
cargo lambda build --release -p registry-functions "$@"
cargo lambda build --release -p registry-functions-render "$@"

printf '%-22s %12s %12s\n' function bootstrap zip
for dir in target/lambda/*/; do
    name=$(basename "$dir")
    python3 - "$dir/bootstrap" "$name" <<'PY'
import os, sys, tempfile, zipfile
path, name = sys.argv[1], sys.argv[2]
with tempfile.TemporaryDirectory() as tmp:
    z = os.path.join(tmp, "f.zip")
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as f:
        f.write(path, "bootstrap")
    print(f"{name:<22} {os.path.getsize(path):>12,} {os.path.getsize(z):>12,}")
PY
done
