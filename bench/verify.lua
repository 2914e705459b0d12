-- GET /api/v1/verify/{number} for a random green-food certificate of the synthetic register.
local certs = tonumber(os.getenv("BENCH_CERTS") or "300000")
local key = os.getenv("BENCH_KEY")
wrk.headers["X-API-Key"] = key
request = function()
  local n = math.random(0, math.floor(certs / 3) - 1) * 3
  return wrk.format("GET", string.format("/api/v1/verify/SYN-GF-%08d", n))
end
-- Shared summary: one machine-readable line per run.
done = function(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f requests=%d non2xx=%d socket_errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, non2xx, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
