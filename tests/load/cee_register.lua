-- wrk script: POST /v2/policies/cee (long) with a new person per request; every 10th
-- request names a seeded person (SEED_COUNT of them, see seed_cee.py) and gets a 409.
-- With SIMULATE=1, POST /v2/policies/cee/simulate instead (the same history search, no
-- signature, nothing written). Needs TOKEN and SEED_COUNT in the environment.
local token = os.getenv("TOKEN")
local seeded = tonumber(os.getenv("SEED_COUNT") or "0")
local simulate = os.getenv("SIMULATE") == "1"
-- New people per run too (the store may be kept between runs).
local run = tonumber(os.getenv("RUN_ID") or "0") % 1000000
local counter = 0
-- `thread_id` is a global set by setup() in each thread's own Lua state (a local here would
-- hide it, and both threads would send the same people).
thread_id = 0
local threads = 0

function setup(thread)
  thread:set("thread_id", threads)
  threads = threads + 1
end

function request()
  counter = counter + 1
  local licence, identity
  if seeded > 0 and counter % 10 == 0 then
    -- a seeded person: licence SEED<n>, identity unknown here (the licence is enough)
    licence = string.format("SEED%09d", (counter * 7919 + thread_id) % seeded)
    identity = string.format("%064x", counter * 16 + thread_id + 1)
  else
    licence = string.format("W%06dT%dN%d", run, thread_id, counter)
    identity = string.format("%048x%08x%08x", run, counter, thread_id + 1)
  end
  if simulate then
    local body = string.format(
      '{"journey_type":"long","driving_license":"%s","last_name_trunc":"DUP","phone_trunc":"+336%06d","identity_key":"%s"}',
      licence, (counter * 13 + thread_id) % 1000000, identity)
    return wrk.format("POST", "/v2/policies/cee/simulate", {
      ["authorization"] = "Bearer " .. token,
      ["content-type"] = "application/json",
    }, body)
  end
  local body = string.format(
    '{"journey_type":"long","driving_license":"%s","last_name_trunc":"DUP","phone_trunc":"+336%06d","datetime":"2024-03-15T01:15:00+01:00","application_timestamp":"2025-01-01T00:00:00Z","identity_key":"%s"}',
    licence, (counter * 13 + thread_id) % 1000000, identity)
  return wrk.format("POST", "/v2/policies/cee", {
    ["authorization"] = "Bearer " .. token,
    ["content-type"] = "application/json",
  }, body)
end
