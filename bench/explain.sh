#!/usr/bin/env bash
# The plans PostgreSQL chose for the service's own product-search queries, one per documented
# filter combination, with real row counts (auto_explain, ANALYZE on) — not a hand-written copy
# of the SQL. Run after bench/run.sh has generated registry_bench:
#
#   bench/explain.sh > bench/plans.txt
#
# It turns auto_explain on for registry_bench only while it runs, asks the running service each
# combination once, and prints each plan with the request that caused it.
set -euo pipefail
cd "$(dirname "$0")/.."
PG_BASE="${PG_BASE:-postgres://postgres@127.0.0.1:5432}"
PORT="${PORT:-18091}"
LOG="${PG_LOG:-$(ls /var/log/postgresql/postgresql-*-main.log | head -n1)}"
db="$PG_BASE/registry_bench"
# BUILD=0 reuses the release binary already built.
[ "${BUILD:-1}" = 1 ] && cargo build --release --quiet
psql "$db" -qc "ALTER DATABASE registry_bench SET session_preload_libraries = 'auto_explain'" \
           -c "ALTER DATABASE registry_bench SET auto_explain.log_min_duration = 0" \
           -c "ALTER DATABASE registry_bench SET auto_explain.log_analyze = on" \
           -c "ALTER DATABASE registry_bench SET auto_explain.log_timing = on"
restore() {
  psql "$db" -qc "ALTER DATABASE registry_bench RESET ALL" >/dev/null
  kill "$server" 2>/dev/null || true
}
export DATABASE_URL="$db" JWT_SECRET="bench-secret-bench-secret-bench-secret-0000" REGISTRY_ENV=development
export RUST_LOG=warn REGISTRY_BIND="127.0.0.1:$PORT" REGISTRY_ANSWER_CACHE_MB=0 REGISTRY_PUBLIC_RATE_PER_MIN=1000000
target/release/registry serve >/dev/null 2>&1 &
server=$!
trap restore EXIT
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
gi=$(psql "$db" -Atc "SELECT id FROM geographical_indications WHERE key = 'qaidam_goji_protected_product'")
ent=$(psql "$db" -Atc "SELECT id FROM enterprises WHERE status = 'active' ORDER BY id OFFSET 5000 LIMIT 1")
std=$(psql "$db" -Atc "SELECT code FROM standards ORDER BY code LIMIT 1")
enc() { python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"; }
combos=(
  "sector=food"
  "region_code=632800"
  "certification_kind=green_food"
  "designation_kind=provincial_famous_brand"
  "geographical_indication_id=$gi"
  "standard_code=$(enc "$std")"
  "enterprise_id=$ent"
  "is_new_product=true"
  "launched_from=2026-01-01"
  "q=$(enc 枸杞)"
  "q=$(enc 熊猫)"
  "q=$(enc 牦)"
  "sector=food&region_code=632800"
  "sector=biomedicine&region_code=632200"
  "sector=food&certification_kind=organic"
  "region_code=632800&certification_kind=green_food"
  "region_code=632200&designation_kind=provincial_famous_brand"
  "q=$(enc 枸杞)&region_code=632800"
  "q=$(enc 牦牛)&certification_kind=halal"
  "q=$(enc 藏毯)&sector=light_textile"
  "sector=food&region_code=632800&certification_kind=green_food"
)
for c in "${combos[@]}"; do
  start=$(wc -c < "$LOG")
  curl -fs -o /dev/null "http://127.0.0.1:$PORT/api/v1/products?$c&limit=20"
  sleep 0.3
  echo "=== GET /api/v1/products?$c&limit=20"
  # The plan of the page query (ordered by id), as auto_explain logged it.
  tail -c +"$((start + 1))" "$LOG" | awk '
    /LOG:  duration: .* plan:/ { if (keep) print block; block = $0; keep = 0; next }
    /LOG:|STATEMENT:/ && !/plan:/ { if (keep) print block; block = ""; keep = 0; next }
    { block = block "\n" $0; if ($0 ~ /ORDER BY "products"."id"/) keep = 1 }
    END { if (keep) print block }' | sed -E 's/^[0-9-]+ [0-9:.]+ [A-Z]+ \[[0-9]+\] [^ ]+ //'
done
