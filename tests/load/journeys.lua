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
  wrk.method = "POST"
  wrk.path = "/v2/journeys"
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Content-Type"] = "application/json"
end

-- A complete journey v2 document (the shape of registry_core's example_document) that
-- ended an hour ago.
local template = [[{"journey_id":"%s","operator_journey_id":"trip-%d","operator_class":"C",]] ..
  [["passenger":{"identity":{"phone":"+33612345678","over_18":true},]] ..
  [["start":{"datetime":"%s","lat":48.8566,"lon":2.3522},"end":{"datetime":"%s","lat":48.8049,"lon":2.1204},]] ..
  [["seats":1,"contribution":300,"incentives":[],"payments":[],"distance":21500,"duration":1800},]] ..
  [["driver":{"identity":{"phone":"+33698765432"},]] ..
  [["start":{"datetime":"%s","lat":48.8566,"lon":2.3522},"end":{"datetime":"%s","lat":48.8049,"lon":2.1204},]] ..
  [["revenue":250,"incentives":[],"distance":21500,"duration":1800}}]]

function request()
  counter = counter + 1
  local now = os.time()
  local start = os.date("!%Y-%m-%dT%H:%M:%SZ", now - 5400)
  local stop = os.date("!%Y-%m-%dT%H:%M:%SZ", now - 3600)
  local id = string.format("load-%d-%d-%d", now, thread_id, counter)
  local body = string.format(template, id, counter, start, stop, start, stop)
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
