# Sourced by bench/run.sh with the server up: the server-side time of each page, one request at
# a time (one connection, so the latency is the server's rendering and queries, not a queue).
# Console pages are read signed in, with a session from the sign-in form.
sample() { # sql -> lines
  if [ "$backend" = postgres ]; then psql "$DATABASE_URL" -Atc "$1"
  else python3 -c "import sqlite3,sys; [print(*r) for r in sqlite3.connect('bench/data/bench.db').execute(sys.argv[1])]" "$1"; fi
}
export BENCH_NUMBERS=bench/data/numbers.txt BENCH_RECORDS=bench/data/records.txt
sample "SELECT c.certificate_number, c.id FROM certifications c ORDER BY random() LIMIT 2000" | tr '|' ' ' > bench/data/certs.txt
cut -d' ' -f1 bench/data/certs.txt > "$BENCH_NUMBERS"
cut -d' ' -f2 bench/data/certs.txt > "$BENCH_RECORDS"
gi=$(sample "SELECT id FROM geographical_indications ORDER BY key LIMIT 1")
# The enterprise with the most products gets a console user: its front page is the largest.
ent=$(sample "SELECT enterprise_id FROM products GROUP BY enterprise_id ORDER BY count(*) DESC LIMIT 1")
REGISTRY_PASSWORD=bench-console-password $bin user add --username bench_ent --role enterprise --enterprise-id "$ent" >/dev/null 2>&1 || true
REGISTRY_PASSWORD=bench-console-password $bin user add --username bench_market --role regulator --agency market_regulation >/dev/null 2>&1 || true
console_session() { # username -> Cookie header value
  local jar; jar=$(mktemp)
  local csrf; csrf=$(curl -fs -c "$jar" "http://127.0.0.1:$PORT/console/login" | sed -nE 's/.*name="csrf" value="([^"]+)".*/\1/p' | head -n1)
  curl -fs -b "$jar" -c "$jar" -o /dev/null -X POST "http://127.0.0.1:$PORT/console/login" \
    --data-urlencode "username=$1" --data-urlencode "password=bench-console-password" --data-urlencode "csrf=$csrf"
  awk '$6 == "registry_session" {print "registry_session=" $7}' "$jar"
  rm -f "$jar"
}
ent_cookie=$(console_session bench_ent)
market_cookie=$(console_session bench_market)
page_run() { # name path [cookie]
  local out
  out=$(BENCH_PAGE="$2" BENCH_COOKIE="${3:-}" wrk -t1 -c1 -d"${PAGE_DURATION:-5}s" --latency -s bench/page.lua "http://127.0.0.1:$PORT" | grep '^RESULT')
  printf '%-26s %s\n' "page $1" "${out#RESULT }"
}
echo "pages (one connection; p50/p99 are the server's time per page):"
page_run home /
page_run home-search "/?q=%E6%9E%B8%E6%9D%9E"
page_run verify "/v/{number}"
page_run product "/p/{id}"
page_run gi "/gi/$gi"
page_run console-enterprise /console/ "$ent_cookie"
page_run console-market /console/ "$market_cookie"
page_run console-record "/console/records/{record}" "$market_cookie"
