-- wrk script for bench/web_load.py: replays the requests of the file named after `--`, and prints one JSON line.
--
-- The file has tab-separated lines: `H <name> <value>` is a header on every request; `R <method> <path> <cookie>
-- <body>` is one request (cookie and body may be empty). Each wrk thread sends them in turn from a random start.
-- Any answer other than 200 is counted (wrk itself counts only >= 400, so a 303 to a sign-in page would pass);
-- which request it was is not known here (response() has no connection), only the first such status.
-- done() prints `WRK_JSON {...}`: latency percentiles in microseconds, requests, non-200 answers, socket errors.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  local headers, lines = {}, {}
  for line in io.lines(args[1]) do
    local fields = {}
    for field in (line .. "\t"):gmatch("([^\t]*)\t") do table.insert(fields, field) end
    if fields[1] == "H" then
      headers[fields[2]] = fields[3]
    elseif fields[1] == "R" then
      table.insert(lines, fields)
    end
  end
  prepared = {}
  for _, f in ipairs(lines) do
    local h = {}
    for k, v in pairs(headers) do h[k] = v end
    if f[4] ~= "" then h["Cookie"] = f[4] end
    local body = f[5] ~= "" and f[5] or nil
    table.insert(prepared, wrk.format(f[2], f[3], h, body))
  end
  if #prepared == 0 then error("no requests in " .. args[1]) end
  math.randomseed(os.time() * 100 + id)
  index = math.random(#prepared)
  bad, first_bad = 0, ""
end

function request()
  index = index % #prepared + 1
  return prepared[index]
end

function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
    if first_bad == "" then first_bad = tostring(status) end
  end
end

function done(summary, latency, requests)
  local bad_total, first = 0, ""
  for _, t in ipairs(threads) do
    bad_total = bad_total + t:get("bad")
    if first == "" then first = t:get("first_bad") end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f, "requests": %d, ' ..
    '"duration_us": %d, "non_200": %d, "first_non_200": "%s", "socket_errors": %d}\n',
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, latency.mean,
    summary.requests, summary.duration, bad_total, first, e.connect + e.read + e.write + e.timeout))
end
