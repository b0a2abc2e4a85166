-- wrk script of the scale benchmarks (bench/scale/run.py).
-- wrk ... -s load.lua URL -- METHOD LINES_FILE DELAY_MS CONTENT_TYPE PREFIX
-- Each line of LINES_FILE is "path<TAB>token<TAB>body" (token "-" for none); the
-- connections take the lines in turn from a random start, so bearer tokens rotate.
-- "{n}" in a body becomes a string unique to the request. DELAY_MS > 0 paces each
-- connection; a 429 or 503 makes the thread's next request wait for its
-- Retry-After, as a well-behaved client does. done() prints one line, "BENCH {json}", with latency percentiles (us)
-- and the count of each status code.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

local lines = {}
local idx = 0
local method = "GET"
local delay_ms = 0
local ctype = "application/x-www-form-urlencoded"
local prefix = ""
local counter = 0
counts = {}

function init(args)
  method = args[1]
  delay_ms = tonumber(args[3]) or 0
  if args[4] and args[4] ~= "" then ctype = args[4] end
  prefix = args[5] or ""
  for line in io.lines(args[2]) do
    local path, token, body = line:match("^([^\t]*)\t([^\t]*)\t?(.*)$")
    table.insert(lines, {path, token, body})
  end
  math.randomseed(os.time() + 7919 * (tid or 0))
  idx = math.random(#lines)
end

function request()
  idx = idx % #lines + 1
  local l = lines[idx]
  local headers = {}
  if l[2] ~= "-" and l[2] ~= "" then headers["Authorization"] = "Bearer " .. l[2] end
  local body = nil
  if method ~= "GET" then
    counter = counter + 1
    body = (l[3]:gsub("{n}", prefix .. "t" .. tid .. "n" .. counter))
    headers["Content-Type"] = ctype
  end
  return wrk.format(method, l[1], headers, body)
end

local pause_ms = 0

function delay()
  local d = math.max(delay_ms, pause_ms)
  pause_ms = 0
  return d
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
  -- Clients honour Retry-After (429, 503): the thread's next request waits for it.
  if status == 429 or status == 503 then
    pause_ms = 1000 * (tonumber(headers["Retry-After"]) or 1)
  end
end

function done(summary, latency, requests)
  local codes = {}
  for _, t in ipairs(threads) do
    local c = t:get("counts")
    if c then
      for k, v in pairs(c) do codes[k] = (codes[k] or 0) + v end
    end
  end
  local parts = {}
  for k, v in pairs(codes) do table.insert(parts, string.format('"%d":%d', k, v)) end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,"read_errors":%d,' ..
    '"write_errors":%d,"status_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"mean_us":%.1f,"codes":{%s}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, table.concat(parts, ",")))
end
