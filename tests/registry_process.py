"""What the Python test drivers (tests/schemathesis/run.py, tests/browser/run.py) share:
the `registry` CLI with JSON output, plain HTTP calls, and a `registry serve` on a free
loopback port of a given data file."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator


def cli(binary: str, data: Path, *args: str) -> dict:
    """`registry --data DATA --json ARGS...`, its JSON answer."""
    out = subprocess.run(
        [binary, "--data", str(data), "--json", *args],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "RUST_LOG": "warn"},
    )
    return json.loads(out.stdout)


def call(base: str, method: str, path: str, token: str | None, body=None) -> tuple[int, object]:
    """One JSON request; the status and the decoded answer (None when empty)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read().decode() or "null")


def must(status_answer: tuple[int, object], expected: int, what: str):
    """The answer of a seeding call; exits when its status is not the expected one."""
    status, answer = status_answer
    if status != expected:
        sys.exit(f"seeding {what}: expected {expected}, got {status}: {answer}")
    return answer


@contextlib.contextmanager
def serve(binary: str, data: Path, log: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """`registry serve` on 127.0.0.1, port chosen by the system; yields its base URL and
    stops it on exit. Its log goes to `log`."""
    env = {**os.environ, "RUST_LOG": "warn", **(env or {})}
    env.pop("REGISTRY_STORE", None)
    with open(log, "w") as log_file:
        server = subprocess.Popen(
            [binary, "--data", str(data), "--json", "serve", "--addr", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            stderr=log_file,
            text=True,
            env=env,
        )
        try:
            assert server.stdout is not None
            yield json.loads(server.stdout.readline())["listening"]
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
