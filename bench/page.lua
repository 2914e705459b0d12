-- GET one page, as a reader's browser would: BENCH_PAGE is a path in which `{id}` becomes a
-- sampled product id, `{number}` a sampled certificate number and `{record}` a sampled
-- certificate id; BENCH_COOKIE (if set) is sent as the Cookie header (a console session).
wrk.headers["X-API-Key"] = os.getenv("BENCH_KEY")
wrk.headers["Accept-Language"] = "zh-CN"
local cookie = os.getenv("BENCH_COOKIE")
if cookie and cookie ~= "" then wrk.headers["Cookie"] = cookie end
local page = os.getenv("BENCH_PAGE")
local function lines(file)
  local t = {}
  for line in io.lines(file) do t[#t + 1] = line end
  return t
end
local ids, numbers, records = lines(os.getenv("BENCH_IDS")), lines(os.getenv("BENCH_NUMBERS")), lines(os.getenv("BENCH_RECORDS"))
request = function()
  local path = page:gsub("{id}", ids[math.random(1, #ids)])
  path = path:gsub("{number}", numbers[math.random(1, #numbers)])
  path = path:gsub("{record}", records[math.random(1, #records)])
  return wrk.format("GET", path)
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f requests=%d non2xx=%d socket_errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
