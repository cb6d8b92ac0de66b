#!/usr/bin/env python3
"""Runs a real Lambda binary (`bootstrap`) against a fake Lambda runtime API on loopback,
with DynamoDB and SQS served by moto, and measures:

* init (cold start): from spawning the process to its first `GET .../invocation/next`
  (what Lambda reports as Init Duration: the runtime's set-up, the SDK clients, before any
  event);
* duration of each invocation: from handing the event out (the answer to `next`) to the
  function's `POST .../response` (what Lambda bills), the first one of a process apart;
* log bytes each invocation writes to stdout/stderr (what CloudWatch Logs ingests, before
  the platform's own START/END/REPORT lines);
* CPU time of the function process (user + system, /proc, 10 ms ticks): during init, and
  per warm invocation (averaged over the run).

moto answers on loopback in about a millisecond per call, DynamoDB in a few from inside
its region: durations here are the function's own CPU plus moto, not AWS's latency.

    python3 tests/load/lambda_runtime.py --bootstrap-dir target/rel/release \
        [--invocations 200] [--cold-starts 20] [--campaigns FILE ...] [--json]

`--bootstrap-dir` holds `journeys-create` and `queue-consumer` (cargo build --release
-p registry-functions, or target/lambda/<name>/bootstrap from cargo lambda). `registry`
(REGISTRY_BIN, default target/debug/registry) creates the operator and its token.
"""

import argparse
import json
import os
import queue
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REGION = "eu-west-3"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto():
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("moto did not start")


def aws_env(moto_url):
    return {
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": moto_url,
    }


def create_resources(moto_url, table):
    import boto3

    kw = dict(region_name=REGION, endpoint_url=moto_url,
              aws_access_key_id="testing", aws_secret_access_key="testing")
    ddb = boto3.client("dynamodb", **kw)
    # The shape of DynamoStore::create_table and template.yaml.
    ddb.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"}
                              for n in ("pk", "sk", "gsi1pk", "gsi1sk")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{
            "IndexName": "gsi1",
            "KeySchema": [{"AttributeName": "gsi1pk", "KeyType": "HASH"},
                          {"AttributeName": "gsi1sk", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"},
        }],
    )
    sqs = boto3.client("sqs", **kw)
    dlq = sqs.create_queue(QueueName=f"{table}-dlq")["QueueUrl"]
    work = sqs.create_queue(QueueName=f"{table}-work")["QueueUrl"]
    return work, dlq


def registry(env, *args):
    binary = os.environ.get("REGISTRY_BIN", os.path.join(ROOT, "target/debug/registry"))
    out = subprocess.run([binary, "--json", *args], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


class Runtime:
    """The Lambda runtime API (2018-06-01), serving queued events to one process."""

    def __init__(self):
        self.events = queue.Queue()
        self.lock = threading.Lock()
        self.first_next = None
        self.handed = {}
        self.results = {}
        self.done = threading.Condition(self.lock)
        runtime = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                if not self.path.endswith("/runtime/invocation/next"):
                    self.send_error(404)
                    return
                now = time.perf_counter()
                with runtime.lock:
                    if runtime.first_next is None:
                        runtime.first_next = now
                request_id, event = runtime.events.get()
                body = json.dumps(event).encode()
                self.send_response(200)
                self.send_header("Lambda-Runtime-Aws-Request-Id", request_id)
                self.send_header("Lambda-Runtime-Deadline-Ms",
                                 str(int(time.time() * 1000) + 120_000))
                self.send_header("Lambda-Runtime-Invoked-Function-Arn",
                                 f"arn:aws:lambda:{REGION}:123456789012:function:bench")
                self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with runtime.lock:
                    runtime.handed[request_id] = time.perf_counter()
                self.wfile.write(body)
                self.wfile.flush()

            def do_POST(self):
                end = time.perf_counter()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                parts = self.path.split("/")
                ok = self.path.endswith("/response")
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if "/invocation/" in self.path:
                    request_id = parts[-2]
                    with runtime.lock:
                        runtime.results[request_id] = (end - runtime.handed[request_id], ok, body)
                        runtime.done.notify_all()
                else:
                    sys.stderr.write(f"init error: {body[:500]!r}\n")

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                # A killed function process drops its pending `next` poll: expected.
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.address = f"127.0.0.1:{self.server.server_address[1]}"

    def invoke(self, event, timeout=60):
        request_id = str(uuid.uuid4())
        self.events.put((request_id, event))
        with self.lock:
            if not self.done.wait_for(lambda: request_id in self.results, timeout):
                raise SystemExit("no response from the function")
            return self.results[request_id]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Process:
    """One function process (one Lambda execution environment), its output counted."""

    def __init__(self, bootstrap, name, env, runtime):
        self.output = 0
        full = {**env,
                "AWS_LAMBDA_RUNTIME_API": runtime.address,
                "AWS_LAMBDA_FUNCTION_NAME": name,
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
                "AWS_LAMBDA_LOG_STREAM_NAME": "bench"}
        self.started = time.perf_counter()
        self.proc = subprocess.Popen([bootstrap], env=full, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.lines = []
        threading.Thread(target=self._count, daemon=True).start()

    def _count(self):
        for line in self.proc.stdout:
            self.output += len(line)
            self.lines.append(line)

    def cpu_ms(self):
        """CPU time (user + system) the process has used so far, in ms (10 ms ticks)."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def api_event(template, token, doc):
    event = json.loads(template.replace("REPLACE_WITH_TOKEN", token))
    event["body"] = json.dumps(doc)
    event["requestContext"]["requestId"] = str(uuid.uuid4())
    return event


def sqs_event(template, operator, journey_ids):
    event = json.loads(template)
    record = event["Records"][0]
    event["Records"] = []
    for j in journey_ids:
        r = dict(record)
        r["messageId"] = str(uuid.uuid4())
        r["body"] = json.dumps({"type": "process_journey", "operator_id": operator,
                                "journey_id": j})
        event["Records"].append(r)
    return event


def summary(values):
    values = sorted(values)
    if not values:
        return {}
    pick = lambda q: values[min(len(values) - 1, int(q * len(values)))]
    return {"n": len(values), "mean": round(statistics.mean(values), 3),
            "p50": round(pick(0.5), 3), "p90": round(pick(0.9), 3),
            "p99": round(pick(0.99), 3), "min": round(values[0], 3), "max": round(values[-1], 3)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bootstrap-dir", required=True)
    ap.add_argument("--invocations", type=int, default=200)
    ap.add_argument("--cold-starts", type=int, default=20)
    ap.add_argument("--batch", type=int, default=10, help="SQS records per consumer event")
    ap.add_argument("--campaigns", nargs="*", default=[])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    moto, moto_url = start_moto()
    try:
        table = f"bench-{uuid.uuid4().hex[:8]}"
        work, dlq = create_resources(moto_url, table)
        env = {**os.environ, **aws_env(moto_url),
               "REGISTRY_STORE": "dynamodb", "REGISTRY_TABLE": table,
               "REGISTRY_QUEUE_URL": work, "REGISTRY_DLQ_URL": dlq,
               "REGISTRY_HASH_SECRET": "bench-secret", "REGISTRY_MAX_RECEIVES": "5",
               "REGISTRY_RATE_LIMIT_PER_MIN": "1000000000", "RUST_LOG": "info"}
        operator = registry(env, "admin", "operator", "create", "--name", "bench")["id"]
        token = registry(env, "admin", "token", "create", "--operator", str(operator),
                         "--name", "bench")["token"]
        for path in args.campaigns:
            registry(env, "admin", "campaign", "load", path)
        results = {"date": time.strftime("%Y-%m-%d"), "invocations": args.invocations,
                   "campaigns": len(args.campaigns)}
        api_template = open(os.path.join(ROOT, "events/journeys-create.json")).read()
        sqs_template = open(os.path.join(ROOT, "events/queue-consumer.json")).read()
        example = json.loads(subprocess.run(
            [os.environ.get("REGISTRY_BIN", os.path.join(ROOT, "target/debug/registry")),
             "journeys", "example"], capture_output=True, text=True, check=True).stdout)

        people = iter(range(1, 10_000_000))

        def doc(journey_id):
            # A new couple each time: per-person caps and counters as with real traffic.
            n = next(people)
            d = json.loads(json.dumps(example))
            d["journey_id"] = journey_id
            d["operator_journey_id"] = f"trip-{journey_id}"
            d["passenger"]["identity"]["phone"] = f"+3361{n:07d}"
            d["driver"]["identity"]["phone"] = f"+3378{n:07d}"
            return d

        journey_ids = []
        for name in ("journeys-create", "queue-consumer"):
            bootstrap = os.path.join(args.bootstrap_dir, name)
            if not os.path.exists(bootstrap):
                bootstrap = os.path.join(args.bootstrap_dir, name, "bootstrap")
            # Cold starts: spawn, first poll, first invocation.
            inits, firsts, init_cpu = [], [], []
            for i in range(args.cold_starts):
                runtime = Runtime()
                p = Process(bootstrap, name, env, runtime)
                while runtime.first_next is None:
                    time.sleep(0.001)
                init_cpu.append(p.cpu_ms())
                if name == "journeys-create":
                    jid = f"cold-{i}-{uuid.uuid4().hex[:6]}"
                    event = api_event(api_template, token, doc(jid))
                else:
                    event = sqs_event(sqs_template, operator, [journey_ids.pop()])
                duration, ok, body = runtime.invoke(event)
                if name == "journeys-create":
                    status = json.loads(body).get("statusCode")
                    assert ok and status == 201, body
                    journey_ids.append(jid)
                else:
                    assert ok and json.loads(body).get("batchItemFailures") == [], body
                inits.append((runtime.first_next - p.started) * 1000)
                firsts.append(duration * 1000)
                p.stop()
                runtime.close()
            # Warm invocations on one process.
            runtime = Runtime()
            p = Process(bootstrap, name, env, runtime)
            durations = []
            records = 0
            log_start = None
            n = args.invocations if name == "journeys-create" else max(1, len(journey_ids) // args.batch)
            for i in range(n):
                if name == "journeys-create":
                    jid = f"warm-{i}-{uuid.uuid4().hex[:6]}"
                    event = api_event(api_template, token, doc(jid))
                else:
                    batch = [journey_ids.pop() for _ in range(min(args.batch, len(journey_ids)))]
                    event = sqs_event(sqs_template, operator, batch)
                    records += len(batch)
                duration, ok, body = runtime.invoke(event)
                if name == "journeys-create":
                    assert ok and json.loads(body).get("statusCode") == 201, body
                    journey_ids.append(jid)
                else:
                    assert ok and json.loads(body).get("batchItemFailures") == [], body
                if i == 0:
                    # The first invocation of a process sets up connections: counted with
                    # the cold starts, not here.
                    time.sleep(0.2)
                    log_start = p.output
                    cpu_start = p.cpu_ms()
                    continue
                durations.append(duration * 1000)
            time.sleep(0.5)
            cpu_per_invocation = (p.cpu_ms() - cpu_start) / max(1, n - 1)
            log_bytes = (p.output - log_start) / max(1, n - 1)
            sample = [line.decode(errors="replace").strip() for line in p.lines[-2:]]
            p.stop()
            runtime.close()
            results[name] = {
                "init_ms": summary(inits),
                "init_cpu_ms": summary(init_cpu),
                "warm_cpu_ms_per_invocation": round(cpu_per_invocation, 2),
                "first_invocation_ms": summary(firsts),
                "warm_ms": summary(durations),
                "log_bytes_per_invocation": round(log_bytes, 1),
                "records_per_invocation": (records / n) if name == "queue-consumer" else 1,
                "log_sample": sample,
            }
        if args.json:
            print(json.dumps(results, indent=2))
        else:
            for name in ("journeys-create", "queue-consumer"):
                r = results[name]
                print(f"{name}: init {r['init_ms']}")
                print(f"{name}: first invocation {r['first_invocation_ms']}")
                print(f"{name}: warm {r['warm_ms']} ({r['records_per_invocation']} records each)")
                print(f"{name}: CPU: init {r['init_cpu_ms']}, {r['warm_cpu_ms_per_invocation']} ms per warm invocation")
                sample = r["log_sample"][-1] if r["log_sample"] else "(no line)"
                print(f"{name}: {r['log_bytes_per_invocation']} log bytes per invocation, e.g. {sample}")
    finally:
        moto.kill()
        moto.wait()


if __name__ == "__main__":
    main()
