"""Schemathesis against a real `registry serve`, on a fresh data file.

    .venv/bin/python3 tests/schemathesis/run.py [--examples N] [--binary PATH] [-- ST ARGS...]

1. Builds nothing: runs the `registry` binary given (default target/debug/registry).
2. Makes, with the `registry admin` CLI on a new data file: a registry admin token, an
   operator with a SIRET and an application token with every permission, a second
   operator with an operator admin token, and a territory token.
3. Starts `registry serve` on a free loopback port (rate limits raised: the run is one
   operator sending thousands of requests a minute, and 429s would only hide answers).
4. Seeds one resource of each kind through the API (a journey, two campaigns of the
   territory, a certificate, a CEE application) so that the path parameters schemathesis
   draws from its dictionaries hit real resources as well as random ones.
5. Runs `st run` on `/openapi.json` with `schemathesis.toml` beside this file (checks and
   why) plus the tokens and dictionaries made here, and exits with its status.

Destructive operations stay in: they only reach what the run itself owns. The tokens the
run authenticates with cannot be revoked through the API by the run (the operator admin
token belongs to the second operator: revocations only reach the application tokens
schemathesis creates there; registry admin and territory tokens belong to no operator),
and a canceled journey, a closed campaign or a deleted CEE application are answers the
document describes (404, 409, status `canceled`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from registry_process import call, cli, must, serve  # noqa: E402
SIRET = "12345678900011"
TERRITORY = "st-territory"


def campaign(source: str, campaign_id: str, start: str, end: str) -> dict:
    doc = json.loads((ROOT / "examples" / "campaigns" / source).read_text())
    doc.update(id=campaign_id, territory_id=TERRITORY, start=start, end=end)
    return doc


def check_known_valid_documents(binary: str, document: dict) -> None:
    """Documents the validators accept must match their schemas: the journey example of
    `registry journeys example`, the example campaigns, and every example of the document
    (the schemas are meant to be never stricter than the validators)."""
    import jsonschema_rs

    def validate(name: str, value, what: str) -> None:
        schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
        validator = jsonschema_rs.Draft202012Validator(schema, validate_formats=True)
        errors = [f"{e.instance_path}: {e.message}" for e in validator.iter_errors(value)]
        if errors:
            sys.exit(f"{what} does not match the schema {name}: {errors[:5]}")

    journey = json.loads(subprocess.run([binary, "journeys", "example"], check=True, capture_output=True, text=True).stdout)
    validate("JourneyV2", journey, "`registry journeys example`")
    for path in sorted((ROOT / "examples" / "campaigns").glob("*.json")):
        validate("CampaignDocument", json.loads(path.read_text()), str(path.relative_to(ROOT)))
    for name, schema in document["components"]["schemas"].items():
        for example in schema.get("examples", []):
            validate(name, example, f"the example of {name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=int(os.environ.get("SCHEMATHESIS_EXAMPLES", "25")))
    parser.add_argument("--binary", default=str(ROOT / "target" / "debug" / "registry"))
    parser.add_argument("--keep", action="store_true", help="keep the data directory and reports")
    parser.add_argument("st_args", nargs="*", help="more arguments for `st run` (after --)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="schemathesis-"))
    data = work / "registry.db"
    key = subprocess.run(
        ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:4096"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout

    admin = cli(args.binary, data, "admin", "token", "create", "--name", "schemathesis", "--role", "registry-admin")["token"]
    operator = cli(args.binary, data, "admin", "operator", "create", "--name", "Schemathesis", "--siret", SIRET)["id"]
    app = cli(args.binary, data, "admin", "token", "create", "--operator", str(operator), "--name", "schemathesis")["token"]
    playground = cli(args.binary, data, "admin", "operator", "create", "--name", "Token playground")["id"]
    operator_admin = cli(
        args.binary, data, "admin", "token", "create", "--operator", str(playground), "--name", "schemathesis", "--role", "operator-admin"
    )["token"]
    territory = cli(
        args.binary, data, "admin", "token", "create", "--role", "territory", "--territory", TERRITORY, "--name", "schemathesis"
    )["token"]

    env = {
        "REGISTRY_SIGNING_KEY": key,
        "REGISTRY_RATE_LIMIT_PER_MIN": "10000000",
        "REGISTRY_OTHER_RATE_LIMIT_PER_MIN": "10000000",
        "REGISTRY_CEE_RATE_LIMIT_PER_MIN": "10000000",
    }
    try:
        with serve(args.binary, data, work / "serve.log", env) as base:
            now = datetime.now(timezone.utc)
            with urllib.request.urlopen(f"{base}/openapi.json", timeout=30) as response:
                check_known_valid_documents(args.binary, json.loads(response.read()))

            journey = json.loads(
                subprocess.run([args.binary, "journeys", "example", "--id", "st-journey-1"], check=True, capture_output=True, text=True).stdout
            )
            must(call(base, "POST", "/v2/journeys", app, journey), 201, "a journey")
            this_year = now.year
            active = campaign("fixed-plus-per-km.json", "st-active", "2025-01-01", f"{this_year + 5}-12-31")
            must(call(base, "POST", "/v2/campaigns", admin, active), 201, "an active campaign")
            upcoming = campaign("driver-150c-geojson.json", "st-upcoming", f"{this_year + 3}-01-01", f"{this_year + 3}-12-31")
            must(call(base, "POST", "/v2/campaigns", admin, upcoming), 201, "an upcoming campaign")
            period = {"identity": {"phone": "+33612345678"}, "start_at": "2025-01-01T00:00:00Z", "end_at": now.isoformat()}
            certificate = must(call(base, "POST", "/v2/certificates", app, period), 201, "a certificate")
            application = must(
                call(
                    base,
                    "POST",
                    "/v2/policies/cee",
                    app,
                    {
                        "journey_type": "long",
                        # Not the person of the document's example, which then gets its 201.
                        "driving_license": "123456789012",
                        "last_name_trunc": "MAR",
                        "phone_trunc": "+336987654",
                        "datetime": "2024-03-15T01:15:00+01:00",
                        "application_timestamp": (now - timedelta(days=1)).isoformat(),
                        "identity_key": "a" * 64,
                    },
                ),
                201,
                "a CEE application",
            )

            months = sorted({"2025-03", now.strftime("%Y-%m")})
            config = (HERE / "schemathesis.toml").read_text() + f"""
[auth.openapi.registry_admin]
bearer = "${{ST_REGISTRY_ADMIN}}"
[auth.openapi.operator_admin]
bearer = "${{ST_OPERATOR_ADMIN}}"
[auth.openapi.application]
bearer = "${{ST_APPLICATION}}"
[auth.openapi.territory]
bearer = "${{ST_TERRITORY}}"

# Known resources, drawn for the path parameters of these names with this probability
# (the rest are generated: unknown ids, malformed ones).
[dictionaries.operators]
values = [{playground}]
[dictionaries.journeys]
values = ["st-journey-1"]
[dictionaries.campaigns]
values = ["st-active", "st-upcoming"]
[dictionaries.months]
values = {json.dumps(months)}
[dictionaries.uuids]
values = ["{certificate['uuid']}", "{application['uuid']}"]

[parameters]
"path.operator_id" = {{ dictionary = "operators", probability = 0.6 }}
"path.journey_id" = {{ dictionary = "journeys", probability = 0.5 }}
"path.campaign_id" = {{ dictionary = "campaigns", probability = 0.6 }}
"path.uuid" = {{ dictionary = "uuids", probability = 0.5 }}
"query.month" = {{ dictionary = "months", probability = 0.6 }}
"""
            (work / "schemathesis.toml").write_text(config)
            st = shutil.which("st", path=str(ROOT / ".venv" / "bin")) or "st"
            command = [
                st,
                "--config-file",
                str(work / "schemathesis.toml"),
                "run",
                f"{base}/openapi.json",
                "--max-examples",
                str(args.examples),
                "--report",
                "junit",
                "--report-dir",
                str(work / "report"),
                *args.st_args,
            ]
            started = time.monotonic()
            result = subprocess.run(
                command,
                env={
                    **os.environ,
                    "ST_REGISTRY_ADMIN": admin,
                    "ST_OPERATOR_ADMIN": operator_admin,
                    "ST_APPLICATION": app,
                    "ST_TERRITORY": territory,
                },
            )
            print(f"schemathesis: {time.monotonic() - started:.0f} s, exit {result.returncode}")
            return result.returncode
    finally:
        errors = [line for line in (work / "serve.log").read_text().splitlines() if "ERROR" in line]
        if errors:
            print("registry serve logged errors:", *errors[-20:], sep="\n  ")
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
