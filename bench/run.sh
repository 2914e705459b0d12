#!/usr/bin/env bash
# Load benchmark: the registry serving a synthetic register, measured with wrk, and in the same
# run the database ceiling for the verify query with pgbench. Prints req/s, p50/p99, non-2xx,
# peak server RSS, verify ÷ pgbench, and each page's server-side time (bench/pages.sh).
#
#   bench/run.sh postgres     # database $BENCH_DB (registry_bench) on 127.0.0.1:5432 (generated if empty)
#   bench/run.sh sqlite       # bench/data/bench.db
#
# Settings: SCALE (default 1), DURATION (seconds per run, default 20), CONNECTIONS (default 16),
# ANSWER_CACHE_MB (the server's REGISTRY_ANSWER_CACHE_MB; default 24, as shipped; 0 = off), POOL, WORKERS.
set -euo pipefail
cd "$(dirname "$0")/.."
backend="${1:-postgres}"
SCALE="${SCALE:-1}"
DURATION="${DURATION:-20}"
CONNECTIONS="${CONNECTIONS:-16}"
PORT="${PORT:-18090}"
PG_BASE="${PG_BASE:-postgres://postgres@127.0.0.1:5432}"
# A database per scale, so runs at two scales can be compared without regenerating.
BENCH_DB="${BENCH_DB:-registry_bench}"

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 1; }
# BUILD=0 reuses the release binary already built.
[ "${BUILD:-1}" = 1 ] && cargo build --release --quiet
bin=target/release/registry

case "$backend" in
  postgres)
    psql "$PG_BASE/postgres" -qtc "SELECT 1 FROM pg_database WHERE datname = '$BENCH_DB'" | grep -q 1 \
      || psql "$PG_BASE/postgres" -qc "CREATE DATABASE $BENCH_DB"
    export DATABASE_URL="$PG_BASE/$BENCH_DB" ;;
  sqlite)
    mkdir -p bench/data
    export DATABASE_URL="sqlite://bench/data/bench.db" ;;
  *) echo "usage: bench/run.sh postgres|sqlite" >&2; exit 2 ;;
esac

export JWT_SECRET="bench-secret-bench-secret-bench-secret-0000"
export REGISTRY_ENV=development RUST_LOG=warn
# The benchmark's API key gets a quota far above what the machine can serve.
export REGISTRY_API_KEY_RATE_PER_MIN=1000000000 REGISTRY_DB_POOL_SIZE="${POOL:-16}" REGISTRY_WORKERS="${WORKERS:-2}"
export REGISTRY_ANSWER_CACHE_MB="${ANSWER_CACHE_MB:-24}"

$bin migrate >/dev/null
if ! $bin seed --synthetic "$SCALE" 2>bench/generate.log | tee -a bench/generate.log; then
  grep -q already_generated bench/generate.log && echo "synthetic data already present: reusing it"
fi
tail -n 1 bench/generate.log

export REGISTRY_BIND="127.0.0.1:$PORT"
REGISTRY_PASSWORD=bench-admin-password $bin user add --username bench_admin --role admin >/dev/null 2>&1 || true
$bin serve >bench/server.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done

base="http://127.0.0.1:$PORT/api/v1"
token=$(curl -fs -X POST "$base/auth/login" -H 'content-type: application/json' \
  -d '{"username":"bench_admin","password":"bench-admin-password"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
export BENCH_KEY=$(curl -fs -X POST "$base/api-clients" -H "authorization: Bearer $token" -H 'content-type: application/json' \
  -d '{"name":"benchmark","contact":"bench@example.com"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
export BENCH_CERTS=$(python3 -c "print(round(300000*$SCALE))") BENCH_PRODUCTS=$(python3 -c "print(round(1000000*$SCALE))")
export BENCH_IDS=bench/data/product_ids.txt BENCH_GTINS=bench/data/gtins.txt
mkdir -p bench/data
# 5,000 random public products (of active enterprises), with their GTINs.
sample_sql="SELECT p.id, p.gtin FROM products p JOIN enterprises e ON e.id = p.enterprise_id WHERE e.status = 'active' AND p.gtin IS NOT NULL ORDER BY random() LIMIT 5000"
if [ "$backend" = postgres ]; then
  psql "$DATABASE_URL" -Atc "$sample_sql" -F ' ' > bench/data/sample.txt
else
  python3 -c "import sqlite3,sys; [print(*r) for r in sqlite3.connect('bench/data/bench.db').execute(sys.argv[1])]" "$sample_sql" > bench/data/sample.txt
fi
cut -d' ' -f1 bench/data/sample.txt > "$BENCH_IDS"
cut -d' ' -f2 bench/data/sample.txt > "$BENCH_GTINS"

rss_peak() { awk '/VmHWM/ {print $2/1024}' "/proc/$server/status"; }
run() { # name script [env]
  local name=$1 script=$2
  local out
  out=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "bench/$script" "http://127.0.0.1:$PORT" | grep '^RESULT')
  printf '%-22s %s\n' "$name" "${out#RESULT }"
  eval "${name//-/_}_rps=$(echo "$out" | sed -E 's/.*rps=([0-9.]+).*/\1/')"
}

echo "backend=$backend scale=$SCALE duration=${DURATION}s connections=$CONNECTIONS workers=${WORKERS:-2} pool=${POOL:-16} answer_cache_mb=$REGISTRY_ANSWER_CACHE_MB"
if [ "$REGISTRY_ANSWER_CACHE_MB" != 0 ]; then
  run verify-warmup verify.lua   # fills the cache; reported, not compared
fi
run verify verify.lua
run by-gtin gtin.lua
BENCH_SEARCH=filter run search-filtered search.lua
BENCH_SEARCH=chinese run search-chinese-2char search.lua
BENCH_SEARCH=zero run search-zero-hit search.lua
run product-profile product.lua
. bench/pages.sh
echo "peak server RSS: $(rss_peak) MB"
if [ "$backend" = postgres ]; then
  out=$(pgbench -n -M prepared -h 127.0.0.1 -p 5432 -U postgres -c 8 -j 2 -T "$DURATION" -f bench/pgbench_verify.sql "$BENCH_DB" 2>&1)
  pg_tps=$(echo "$out" | sed -nE 's/^tps = ([0-9.]+).*/\1/p' | tail -n1)
  echo "pgbench verify SQL (TCP, prepared, 8 clients, 2 threads): $pg_tps tps"
  python3 -c "print(f'verify / pgbench = {$verify_rps / $pg_tps:.2f}')"
  out=$(pgbench -n -M prepared -h 127.0.0.1 -p 5432 -U postgres -c 8 -j 2 -T "$DURATION" -f bench/pgbench_lookup.sql "$BENCH_DB" 2>&1)
  one_tps=$(echo "$out" | sed -nE 's/^tps = ([0-9.]+).*/\1/p' | tail -n1)
  echo "pgbench one-statement certificate lookup (TCP, prepared, 8 clients, 2 threads): $one_tps tps"
  python3 -c "print(f'verify / one-statement lookup = {$verify_rps / $one_tps:.2f}')"
  out=$(pgbench -n -M prepared -h 127.0.0.1 -p 5432 -U postgres -c 8 -j 2 -T "$DURATION" -f bench/pgbench_gtin.sql "$BENCH_DB" 2>&1)
  gtin_tps=$(echo "$out" | sed -nE 's/^tps = ([0-9.]+).*/\1/p' | tail -n1)
  echo "pgbench one-statement product-by-GTIN lookup (TCP, prepared, 8 clients, 2 threads): $gtin_tps tps"
  python3 -c "print(f'by-gtin / one-statement lookup = {$by_gtin_rps / $gtin_tps:.2f}')"
fi
