-- wrk script: one operator per wrk thread (TOKENS, comma-separated), each paced to a rate
-- per minute: RATE for every operator but the last, OVER_RATE for the last one (over its
-- limit on purpose). Pacing is open-loop per thread: delay() hands out send slots
-- 60000/rate ms apart (never catching up in a burst after a slow patch, so a compliant
-- operator never sends more than RATE in any minute). Counts answers by operator.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_usec; } bench_timeval;
  int gettimeofday(bench_timeval *tv, void *tz);
]]
local tv = ffi.new("bench_timeval")
local function now_ms()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) * 1000 + tonumber(tv.tv_usec) / 1000
end

local threads = {}
local tokens = {}
for t in string.gmatch(os.getenv("TOKENS") or "", "[^,]+") do
  table.insert(tokens, t)
end

function setup(thread)
  local n = #threads + 1
  local rate = tonumber(os.getenv("RATE") or "19800")
  if n == #tokens then
    rate = tonumber(os.getenv("OVER_RATE") or "30000")
  end
  thread:set("tid", n)
  thread:set("token", tokens[n])
  thread:set("rate", rate)
  table.insert(threads, thread)
end

local interval
local next_at
local counter = 0
ok = 0
limited = 0
other = 0

function init(args)
  interval = 60000 / rate
  wrk.method = "POST"
  wrk.path = "/v2/journeys"
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Content-Type"] = "application/json"
end

function delay()
  local now = now_ms()
  if next_at == nil or next_at < now then
    next_at = now
  end
  local wait = next_at - now
  next_at = next_at + interval
  return wait
end

-- A complete journey v2 document (registry_core's example_document) that ended an hour ago.
local template = [[{"journey_id":"%s","operator_journey_id":"trip-%s","operator_class":"C",]] ..
  [["passenger":{"identity":{"phone":"+3378%07d","over_18":true},]] ..
  [["start":{"datetime":"%s","lat":48.8566,"lon":2.3522},"end":{"datetime":"%s","lat":48.8049,"lon":2.1204},]] ..
  [["seats":1,"contribution":300,"incentives":[],"payments":[],"distance":21500,"duration":1800},]] ..
  [["driver":{"identity":{"phone":"+3377%07d"},]] ..
  [["start":{"datetime":"%s","lat":48.8566,"lon":2.3522},"end":{"datetime":"%s","lat":48.8049,"lon":2.1204},]] ..
  [["revenue":250,"incentives":[],"distance":21500,"duration":1800}}]]

function request()
  counter = counter + 1
  local now = os.time()
  local start = os.date("!%Y-%m-%dT%H:%M:%SZ", now - 5400)
  local stop = os.date("!%Y-%m-%dT%H:%M:%SZ", now - 3600)
  local id = string.format("op%d-%d-%d", tid, now, counter)
  local person = (tid * 1000003 + counter) % 10000000
  local body = string.format(template, id, id, person, start, stop, (person + 1) % 10000000, start, stop)
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status == 201 then
    ok = ok + 1
  elseif status == 429 then
    limited = limited + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  io.write(string.format("p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
  for i, thread in ipairs(threads) do
    io.write(string.format("operator-thread %d rate %d/min: 201 %d, 429 %d, other %d\n",
      i, thread:get("rate"), thread:get("ok"), thread:get("limited"), thread:get("other")))
  end
end
