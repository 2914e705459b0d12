-- GET /api/v1/products/by-gtin/{gtin} for GTINs of public products sampled by run.sh.
wrk.headers["X-API-Key"] = os.getenv("BENCH_KEY")
local gtins = {}
for line in io.lines(os.getenv("BENCH_GTINS")) do gtins[#gtins + 1] = line end
request = function()
  return wrk.format("GET", "/api/v1/products/by-gtin/" .. gtins[math.random(1, #gtins)])
end
done = function(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f requests=%d non2xx=%d socket_errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, non2xx, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
