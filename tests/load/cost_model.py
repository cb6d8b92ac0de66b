#!/usr/bin/env python3
"""The cost model of docs/COST.md: AWS cost per million journeys (eu-west-3), from the
prices below and the per-journey quantities measured in this repository (docs/COST.md
gives the command that measured each). Prints the Markdown tables of COST.md.

    python3 tests/load/cost_model.py
"""


# eu-west-3 (Paris), on-demand, USD. See docs/COST.md for the date and the source.
PRICE = {
    "apigw_http_per_m": 1.17,          # HTTP API requests, first 300 M/month
    "lambda_request_per_m": 0.20,
    "lambda_arm_gb_s": 0.0000133334,   # arm64, first tier
    "ddb_wru_per_m": 0.7425,           # on-demand write request units
    "ddb_rru_per_m": 0.1485,           # on-demand read request units
    "ddb_storage_gb_month": 0.297,     # Standard table class
    "sqs_per_m": 0.40,                 # standard queue requests (64 KB chunks)
    "logs_ingest_gb": 0.53,            # CloudWatch Logs, standard class
    "xray_trace_per_m": 5.00,          # X-Ray traces recorded
}

MEMORY_GB = 256 / 1024  # template.yaml Globals MemorySize (journeys-create, queue-consumer)
BATCH = 10              # template.yaml: queue-consumer BatchSize
PLATFORM_LOG_BYTES = 300  # Lambda's START/END/REPORT lines per invocation (text, X-Ray ids)
ACCESS_LOG_BYTES = 220    # the HTTP API access log line (template.yaml AccessLogSettings)

# Measured (docs/COST.md says how).
MEASURED = {
    # Billed duration in AWS, estimated from the CPU time measured per invocation
    # (tests/load/lambda_runtime.py) scaled to the CPU share of 256 MB (1 vCPU at 1 769 MB:
    # 0.145), plus the function's sequential AWS calls at ~5 ms each (DynamoDB and SQS
    # from inside the region); see docs/COST.md.
    "create_ms": 40.0,                    # 3.0 ms CPU -> 21 ms, + 4 calls
    "consumer_ms": {0: 400.0, 2: 1070.0},  # per batch of 10: 21 / 76 ms CPU, + 3 / 8 calls a journey
    "create_log_bytes": 252,              # one JSON line per request
    "consumer_log_bytes": 0,              # no line at info for a processed journey
    # Acceptance: the journey item (with its facts, < 1 KB), its pending-index copy and its
    # keys-only listing-index entry (gsi2); the rate-limit counter is written once per lease
    # (1 to open each minute's window, then up to 100 requests): ~0.1 per journey at the
    # registry's average rate, ~0.01 under load.
    "accept_wru": 3.1, "accept_rru": 1,
    "process_wru": {0: 6, 2: 34}, "process_rru": {0: 2, 2: 8},
    "fraud_rru_per_run": 0.35, "fraud_runs": 8, "fraud_flagged": 0.034,
    "fraud_flag_wru": 8, "fraud_flag_rru": 1,
    # Monthly run, per journey and campaign that drafted it, measured by the Metered store
    # (`registry bench policy-monthly --meter 10000 --json`, docs/BENCHMARKS.md): 13 692.5
    # RRU and 6 911 WRU for 12 078 campaign-journeys.
    "monthly_rru_per_campaign": 13692.5 / 12078,
    "monthly_wru_per_campaign": 6911 / 12078,
    # Stored per journey: journey item 1 KB, fraud evidence 2 x 230 B (45-day TTL),
    # person trip index 2 x 222 B; per campaign: draft 700 B + its index copy 700 B.
    "stored_bytes": {0: 1024 + 460 + 444, 2: 1024 + 460 + 444 + 2 * 1400},
}


def model(m, campaigns):
    rows = []

    def row(part, quantity, unit_price, note):
        rows.append((part, quantity, unit_price, quantity * unit_price, note))

    row("API Gateway HTTP API", 1e6 / 1e6, PRICE["apigw_http_per_m"],
        "1 request per journey")
    row("Lambda requests", 1 + 1 / BATCH, PRICE["lambda_request_per_m"],
        f"journeys-create 1 + queue-consumer 1/{BATCH}")
    consumer_ms = m["consumer_ms"][campaigns]
    gb_s = 1e6 * MEMORY_GB * (m["create_ms"] + consumer_ms / BATCH) / 1000
    row("Lambda duration (arm64, 256 MB)", gb_s, PRICE["lambda_arm_gb_s"],
        f"({m['create_ms']:.0f} ms + {consumer_ms:.0f}/{BATCH} ms) x 0.25 GB x 10^6")
    wru = m["accept_wru"] + m["process_wru"][campaigns]
    rru = m["accept_rru"] + m["process_rru"][campaigns]
    row("DynamoDB writes: acceptance + processing", wru, PRICE["ddb_wru_per_m"],
        f"{m['accept_wru']:g} + {m['process_wru'][campaigns]} WRU")
    row("DynamoDB reads: acceptance + processing", rru, PRICE["ddb_rru_per_m"],
        f"{m['accept_rru']} + {m['process_rru'][campaigns]} RRU")
    fraud_rru = m["fraud_rru_per_run"] * m["fraud_runs"] + m["fraud_flagged"] * m["fraud_flag_rru"]
    fraud_wru = m["fraud_flagged"] * m["fraud_flag_wru"]
    row("DynamoDB: fraud pass reads", fraud_rru, PRICE["ddb_rru_per_m"],
        f"{m['fraud_rru_per_run']} x {m['fraud_runs']} daily runs + {m['fraud_flagged']:.1%} flagged x 1")
    row("DynamoDB: fraud pass writes", fraud_wru, PRICE["ddb_wru_per_m"],
        f"{m['fraud_flagged']:.1%} flagged x {m['fraud_flag_wru']} WRU")
    if campaigns:
        row("DynamoDB: monthly run reads", m["monthly_rru_per_campaign"] * campaigns,
            PRICE["ddb_rru_per_m"], f"{campaigns} x {m['monthly_rru_per_campaign']:.2f} RRU")
        row("DynamoDB: monthly run writes", m["monthly_wru_per_campaign"] * campaigns,
            PRICE["ddb_wru_per_m"], f"{campaigns} x {m['monthly_wru_per_campaign']:.2f} WRU")
    stored_gb = m["stored_bytes"][campaigns] * 1e6 / 1e9
    row("DynamoDB storage, first month", stored_gb, PRICE["ddb_storage_gb_month"],
        f"{m['stored_bytes'][campaigns]} B per journey")
    row("SQS requests", 1 + 2 / BATCH, PRICE["sqs_per_m"],
        f"1 SendMessage + (ReceiveMessage + DeleteMessageBatch)/{BATCH}")
    log_bytes = (ACCESS_LOG_BYTES + m["create_log_bytes"] + PLATFORM_LOG_BYTES
                 + (m["consumer_log_bytes"] + PLATFORM_LOG_BYTES) / BATCH)
    row("CloudWatch Logs ingestion", log_bytes * 1e6 / 1e9, PRICE["logs_ingest_gb"],
        f"{log_bytes:.0f} B per journey: access log {ACCESS_LOG_BYTES} + function "
        f"{m['create_log_bytes']} + platform {PLATFORM_LOG_BYTES} (+ consumer's /{BATCH})")
    rows_without_xray = list(rows)
    # template.yaml with Tracing=Active (staging; prod's default is PassThrough), default sampling (1 request/s + 5 % of the rest): at the
    # registry's volume (1 to 3 million journeys a month, ~0.4 to 1.2/s on average) nearly
    # every invocation is traced.
    row("X-Ray traces (Tracing: Active, default sampling)", 1 + 1 / BATCH,
        PRICE["xray_trace_per_m"], "~every journeys-create and queue-consumer invocation traced")
    return rows, rows_without_xray, stored_gb


def table(rows):
    out = ["| part | quantity per 10^6 journeys | unit price (USD) | USD per 10^6 journeys | arithmetic |",
           "|---|---|---|---|---|"]
    def unit(part):
        for word, u in (("reads", "M RRU"), ("writes", "M WRU"), ("storage", "GB-month"),
                        ("duration", "GB-s"), ("Logs", "GB"), ("X-Ray", "M traces")):
            if word in part:
                return u
        return "M requests"

    for part, q, p, cost, note in rows:
        out.append(f"| {part} | {q:,.3f} {unit(part)} | {p:g} | {cost:.3f} | {note} |")
    total = sum(r[3] for r in rows)
    out.append(f"| **total** | | | **{total:.2f}** | |")
    return "\n".join(out), total


def scenarios():
    """Totals (USD per 10^6 journeys, without X-Ray unless said) after cumulative changes."""
    steps = [
        ("as measured, with `Tracing=Active` (staging)", {}, True),
        ("`Tracing=PassThrough`: the template's default, prod (done)", {}, False),
        ("+ one counter item per (campaign, person, month) holding the day counts (not done)",
         {"process_wru": {0: 6, 2: 30}}, False),
        ("+ `TableCapacityMode=provisioned` (template parameter: auto scaling at 70 % use, ~40 % of the on-demand write price for steady traffic)",
         {"process_wru": {0: 6, 2: 30}, "_wru_factor": 0.4}, False),
    ]
    out = ["| change (cumulative) | no campaign | two campaigns |", "|---|---|---|"]
    for name, change, xray in steps:
        totals = []
        for campaigns in (0, 2):
            m = {**MEASURED, **change}
            saved = PRICE["ddb_wru_per_m"]
            PRICE["ddb_wru_per_m"] = saved * m.get("_wru_factor", 1.0)
            rows, without_xray, _ = model(m, campaigns)
            PRICE["ddb_wru_per_m"] = saved
            totals.append(sum(r[3] for r in (rows if xray else without_xray)))
        out.append(f"| {name} | {totals[0]:.2f} | {totals[1]:.2f} |")
    return "\n".join(out)


def main():
    m = dict(MEASURED)
    for campaigns in (0, 2):
        rows, without_xray, stored_gb = model(m, campaigns)
        text, total = table(rows)
        print(f"\n### {campaigns} campaigns\n")
        print(text)
        rest = sum(r[3] for r in without_xray)
        print(f"\nWithout X-Ray tracing: {rest:.2f} USD. Storage afterwards: {stored_gb:.2f} GB x "
              f"{PRICE['ddb_storage_gb_month']} = {stored_gb * PRICE['ddb_storage_gb_month']:.2f} "
              "USD per month kept.")
    print("\n### What would change it\n")
    print(scenarios())


if __name__ == "__main__":
    main()
