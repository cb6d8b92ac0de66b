#!/usr/bin/env bash
# The one command that runs every test: installs what it needs (Python tools in .venv),
# checks formatting and lints, runs all Rust tests (the DynamoDB and SQS adapters against a
# moto server they start themselves) and validates the SAM template.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "python tools (moto, cfn-lint, aws-sam-cli, schemathesis, playwright) in .venv"
if [ ! -x .venv/bin/python3 ]; then
    python3 -m venv .venv
fi
.venv/bin/python3 -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt
export PATH="$PWD/.venv/bin:$PATH"

step "poppler-utils (pdfinfo, pdftotext, pdftoppm: the certificate tests read PDFs with them)"
if ! command -v pdftotext >/dev/null || ! command -v pdftoppm >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq poppler-utils >/dev/null
    else
        sudo apt-get update -qq && sudo apt-get install -y -qq poppler-utils >/dev/null
    fi
fi
# (sed, not head: head would close the pipe early and pipefail would stop the script)
pdftotext -v 2>&1 | sed -n 1p

step "chromium (the console's browser checks drive it with Playwright; no browser download)"
if ! command -v chromium >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq chromium >/dev/null
    else
        sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null
    fi
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
# The Lambda functions alone build the core without the embedded store: lint that too.
cargo clippy -p registry-functions -- -D warnings
# Only the certificates-attachment function (functions/render) carries the PDF/PNG renderer,
# and only `registry` the OpenAPI generator (utoipa): no Lambda binary carries it.
if cargo tree -p registry-functions -e normal | grep -E ' (resvg|svg2pdf|qrcode|utoipa) '; then
    echo "registry-functions must not depend on the certificate renderer nor on utoipa" >&2
    exit 1
fi
if cargo tree -p registry-functions-render -e normal | grep -E ' utoipa '; then
    echo "registry-functions-render must not depend on utoipa" >&2
    exit 1
fi

step "cargo test"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace 2>&1 | tee "$log"
passed=$(grep -Eo '^test result: .* ([0-9]+) passed' "$log" | grep -Eo '[0-9]+ passed' | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed;' "$log" | awk '{s+=$1} END {print s+0}')

step "schemathesis against registry serve (docs/openapi.json, every route, ${SCHEMATHESIS_EXAMPLES:-25} examples each)"
cargo build -q -p registry-local
python3 tests/schemathesis/run.py

step "the console in headless chromium (tests/browser/run.py; a failure saves a screenshot)"
python3 tests/browser/run.py --screenshots target/browser-failures

step "cfn-lint template.yaml"
cfn-lint template.yaml

step "template.yaml: an errors and a throttles alarm for every function"
python3 tests/check_template.py template.yaml

step "sam validate --lint"
AWS_DEFAULT_REGION=eu-west-3 sam validate --lint --template-file template.yaml

step "all checks passed"
echo "rust tests: $passed passed, $failed failed"
