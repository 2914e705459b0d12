#!/usr/bin/env bash
# Bulk import benchmark: writes a CSV of ROWS products (default 100,000, valid GTINs) for the demo
# enterprise and times `registry import` into a scratch PostgreSQL database, then imports the same
# file again (every row unchanged).
#
#   bench/import.sh                      # release build, database registry_import_bench
#   PROFILE=debug bench/import.sh        # the debug binary (no release build)
#   ROWS=10000 bench/import.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${ROWS:-100000}"
PROFILE="${PROFILE:-release}"
PG_BASE="${PG_BASE:-postgres://postgres@127.0.0.1:5432}"
DB="${BENCH_DB:-registry_import_bench}"
mkdir -p bench/data
csv="bench/data/import-$ROWS.csv"

if [ "$PROFILE" = release ]; then
  [ "${BUILD:-1}" = 1 ] && cargo build --release --quiet
  bin=target/release/registry
else
  [ "${BUILD:-1}" = 1 ] && cargo build --quiet
  bin=target/debug/registry
fi

python3 - "$ROWS" "$csv" <<'PY'
import sys
rows, path = int(sys.argv[1]), sys.argv[2]
def gtin(n):
    body = f"69{n:010d}"
    s = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(body))
    return body + str((10 - s % 10) % 10)
with open(path, "w", encoding="utf-8") as f:
    f.write("\ufeffname,brand,gtin,sector,category,origin_region_code,ingredients,suitable_for,is_new_product,launched_on\n")
    for i in range(rows):
        f.write(f"柴达木枸杞样品{i},红果源,{gtin(i + 1)},food,goji,632800,枸杞:{90 + i % 10}; 水,一般人群,{'true' if i % 7 == 0 else 'false'},{'2024-05-01' if i % 7 == 0 else ''}\n")
PY

psql "$PG_BASE/postgres" -qc "DROP DATABASE IF EXISTS $DB" -qc "CREATE DATABASE $DB"
export DATABASE_URL="$PG_BASE/$DB" RUST_LOG=warn
"$bin" seed --demo >/dev/null
echo "importing $ROWS rows ($(du -h "$csv" | cut -f1)) with $bin"
time "$bin" import "$csv" --kind products --as enterprise
echo "again (every row unchanged):"
time "$bin" import "$csv" --kind products --as enterprise
"$bin" audit verify | tail -1
