-- Filtered GET /api/v1/products: a sector and a region, a common two-character Chinese q, or
-- a two-character q that no product matches (BENCH_SEARCH=filter|chinese|zero).
wrk.headers["X-API-Key"] = os.getenv("BENCH_KEY")
local mode = os.getenv("BENCH_SEARCH") or "filter"
local regions = {"630100", "630200", "632200", "632300", "632500", "632600", "632700", "632800"}
local sectors = {"food", "biomedicine", "light_textile", "ethnic_specialty"}
local terms = {"%E6%9E%B8%E6%9D%9E", "%E7%89%A6%E7%89%9B"} -- 枸杞, 牦牛
local absent = {"%E7%86%8A%E7%8C%AB", "%E4%BC%81%E9%B9%85"} -- 熊猫, 企鹅: no product has them
request = function()
  if mode == "chinese" then
    return wrk.format("GET", "/api/v1/products?limit=20&q=" .. terms[math.random(1, #terms)])
  end
  if mode == "zero" then
    return wrk.format("GET", "/api/v1/products?limit=20&q=" .. absent[math.random(1, #absent)])
  end
  return wrk.format("GET", string.format("/api/v1/products?limit=20&sector=%s&region_code=%s",
    sectors[math.random(1, #sectors)], regions[math.random(1, #regions)]))
end
-- Shared summary: one machine-readable line per run.
done = function(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f requests=%d non2xx=%d socket_errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, non2xx, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
