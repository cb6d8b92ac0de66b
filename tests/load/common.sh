# Sourced by the scripts of tests/load/ and by tests/release.sh (from the repository root):
# what they all do the same way. The callers set `bin` (the registry binary), `dir` (their
# temporary directory, holding the store r.db) and `port`.

# The id of a new operator named $1 (further arguments go to `admin operator create`).
operator_id() {
    local name=$1
    shift
    $bin --data "$dir/r.db" --json admin operator create --name "$name" "$@" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}

# A new token named $2 for operator $1.
operator_token() {
    $bin --data "$dir/r.db" --json admin token create --operator "$1" --name "$2" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

# `registry serve` on the store, in the background (its pid in `server`, its log in
# $dir/serve.log).
start_server() {
    $bin --data "$dir/r.db" serve --addr 127.0.0.1:$port > "$dir/serve.log" 2>&1 &
    server=$!
}

# Waits until the port answers, polling every 0.1 s at most $1 times.
wait_for_port() {
    for _ in $(seq "$1"); do
        (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break
        sleep 0.1
    done
}

# The table of each Lambda function's bootstrap and zip sizes under $1/lambda/.
lambda_sizes() {
    printf '%-22s %12s %12s\n' function bootstrap zip
    for d in "$1"/lambda/*/; do
        python3 - "$d/bootstrap" "$(basename "$d")" <<'PY'
import os, sys, tempfile, zipfile
path, name = sys.argv[1], sys.argv[2]
with tempfile.TemporaryDirectory() as tmp:
    z = os.path.join(tmp, "f.zip")
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as f:
        f.write(path, "bootstrap")
    print(f"{name:<22} {os.path.getsize(path):>12,} {os.path.getsize(z):>12,}")
PY
    done
}
