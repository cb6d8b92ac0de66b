-- wrk script: POST /v2/journeys with a unique journey_id per request.
-- TOKEN comes from the environment; each wrk thread numbers its own ids.
local token = os.getenv("TOKEN")
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  thread_id = tid
  math.randomseed(tid)
  wrk.method = "POST"
  wrk.path = "/v2/journeys"
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Content-Type"] = "application/json"
end

-- A complete journey v2 document (the shape of registry_core's example_document) that
-- ended an hour ago.
local template = [[{"journey_id":"%s","operator_journey_id":"trip-%d","operator_class":"C",]] ..
  [["passenger":{"identity":{"phone":"%s","over_18":true},]] ..
  [["start":{"datetime":"%s","lat":48.8566,"lon":2.3522},"end":{"datetime":"%s","lat":48.8049,"lon":2.1204},]] ..
  [["seats":1,"contribution":300,"incentives":[],"payments":[],"distance":21500,"duration":1800},]] ..
  [["driver":{"identity":{"phone":"%s"},]] ..
  [["start":{"datetime":"%s","lat":48.8566,"lon":2.3522},"end":{"datetime":"%s","lat":48.8049,"lon":2.1204},]] ..
  [["revenue":250,"incentives":[],"distance":21500,"duration":1800}}]]

-- Carpoolers travel again and again: phones come from a population of PEOPLE (default
-- 20 000), as in tests/load/make_journeys.py, in both the national and the E.164 form.
local people = tonumber(os.getenv("PEOPLE") or "20000")
local function phone(person)
  if person % 2 == 1 then
    local n = string.format("%08d", person)
    return "06 " .. n:sub(1, 2) .. " " .. n:sub(3, 4) .. " " .. n:sub(5, 6) .. " " .. n:sub(7, 8)
  end
  return string.format("+3378%07d", person)
end

function request()
  counter = counter + 1
  local passenger = math.random(0, people - 1)
  local driver = (passenger + math.random(1, people - 1)) % people
  local now = os.time()
  local start = os.date("!%Y-%m-%dT%H:%M:%SZ", now - 5400)
  local stop = os.date("!%Y-%m-%dT%H:%M:%SZ", now - 3600)
  local id = string.format("load-%d-%d-%d", now, thread_id, counter)
  local body = string.format(template, id, counter, phone(passenger), start, stop,
    phone(driver), start, stop)
  return wrk.format(nil, nil, nil, body)
end

local statuses = {}
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  io.write(string.format("p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
