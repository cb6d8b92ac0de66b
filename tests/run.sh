#!/usr/bin/env bash
# The one command that runs every test: installs what it needs (Python tools in .venv),
# checks formatting and lints, runs all Rust tests (the DynamoDB and SQS adapters against a
# moto server they start themselves) and validates the SAM template.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "python tools (moto, cfn-lint, aws-sam-cli) in .venv"
if [ ! -x .venv/bin/python3 ]; then
    python3 -m venv .venv
fi
.venv/bin/python3 -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt
export PATH="$PWD/.venv/bin:$PATH"

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test"
cargo test --workspace

step "cfn-lint template.yaml"
cfn-lint template.yaml

step "sam validate --lint"
AWS_DEFAULT_REGION=eu-west-3 sam validate --lint --template-file template.yaml

step "all checks passed"
