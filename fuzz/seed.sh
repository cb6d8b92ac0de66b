#!/usr/bin/env bash
# Writes the seed corpus of the journey parser target: the integrators' example, the sample
# Lambda event's document, and a mix of valid and invalid documents from the load tests'
# generator (one in four broken in a different way). Run from anywhere; needs `registry`
# (cargo build -p registry-local).
set -euo pipefail
cd "$(dirname "$0")/.."
out=fuzz/seeds/journey_parser
rm -rf "$out" && mkdir -p "$out"
registry=${REGISTRY_BIN:-target/debug/registry}
"$registry" journeys example --id example-1 > "$out/example.json"
python3 -c 'import json,sys; print(json.load(open("events/journeys-create.json"))["body"])' > "$out/event.json"
i=0
python3 tests/load/make_journeys.py 40 20 | while IFS= read -r line; do
    printf '%s' "$line" > "$out/generated-$i.json"
    i=$((i + 1))
done
ls "$out" | wc -l
