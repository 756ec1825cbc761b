#!/usr/bin/env bash
# Scale-out benchmark (issue 21): two gateway replicas sharing one PostgreSQL (ledger and client
# keys) and one Redis (budgets and rate limits) against one gateway on its SQLite file, in the
# same run, in front of the same fast upstream (nginx returning a fixed chat.completion, as in
# run.sh).
#
#   bench/load/scaleout.sh [--quick] [--out FILE]
#
#   --quick      a short run (~30 s instead of ~1.5 min), for checking the script, not for figures
#   --out FILE   where to write the Markdown report (default bench/results/scaleout.md, git-ignored)
#
# The setups, each with two request workers in all, both with auth.mode keys on the concrete
# model bench-fast:
#   single   one gateway, server.threads 2; its ledger and keys in its SQLite file (the embedded
#            default), its budgets and rate limits counted in the process
#   pair     two gateways, server.threads 1 each, both recording into and reading keys from one
#            PostgreSQL (database.url), counting budgets and rate limits together in one Redis
#            (shared_state.redis_url, on_failure fail_open)
# Every request carries a client key with a budget and rate limits far above what a run spends
# (as run.sh's), so limits are checked, reserved against and settled on every request but never
# bite. The single gateway's key is created through its admin API; the pair's once, through r1's,
# and r2 must accept it after its keys reload (polled, bounded) before anything is timed.
#
# Measures, in interleaved rounds (single first in odd rounds, pair first in even ones):
#   throughput with CONNS connections in all: one wrk against the single gateway; against the pair,
#     two wrk at once, CONNS/2 connections each, their requests summed over the longer duration;
#   CPU per request: the gateways' CPU time over the throughput run, and for the pair also
#     PostgreSQL's (postmaster and every backend) and redis-server's, each divided by the requests
#     answered, reported apart and summed;
#   1-connection latency p50/p99 to the single gateway and to one replica of the pair, and the
#     latency they add over going to the upstream directly (measured in the same round).
# Then the pair is stopped (SIGTERM: each writes what it holds and reports its last spend to
# Redis) and the rows in PostgreSQL must equal the records the replicas say they wrote: nothing
# lost, nothing doubled. And Redis must hold the key's shared counters (its budget hashes and its
# requests-per-minute bucket); the day budget's `spent` (nano-dollars, each request's cost rounded
# up) is reported next to the ledger's sum(cost_pico) for tenant bench (the key's): spent x 1000
# should lie within 1000 x requests of it. Only a missing budget hash fails the script; the bound
# is reported, and so is the bucket's level. Any error or non-2xx answer in the timed runs fails it
# too, with the pair's refused rows (status, code, message) from PostgreSQL in the log and report.
#
# Nothing is pinned to a core: on this 2-core machine the question is how the same work spreads
# over the cores when it is split into replicas that share PostgreSQL and Redis, load generator
# included. PostgreSQL runs with its default durability (fsync, synchronous_commit on), as in
# production; the ledger commits a batch at a time, so that is one fsync per batch, not per
# request. Redis runs without persistence (save "", appendonly no): it holds nothing that must
# survive it (docs/operations.md).
#
# Environment: SWITCHYARD_BIN (default <repo>/build/switchyard, a Release build), ROUNDS,
# LAT_SECS, TPUT_SECS, CONNS, SY_PG_BINDIR (default: the newest /usr/lib/postgresql/*/bin),
# KEEP_TMP=1 (keep the work directory: configs, logs, wrk outputs).
# Needs nginx, wrk, curl, psql, the PostgreSQL server, redis-server and redis-cli (Debian:
# nginx-light wrk curl postgresql redis-server; scripts/install-deps.sh installs them). Loopback
# only; every process stops when the script ends.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=$ROOT/bench/results/scaleout.md
QUICK=0
while (($#)); do
  case $1 in
    --quick) QUICK=1 ;;
    --out) OUT=$2; shift ;;
    *) echo "usage: $0 [--quick] [--out FILE]" >&2; exit 2 ;;
  esac
  shift
done
if ((QUICK)); then
  : "${ROUNDS:=1}" "${LAT_SECS:=3}" "${TPUT_SECS:=4}"
else
  : "${ROUNDS:=3}" "${LAT_SECS:=4}" "${TPUT_SECS:=8}"
fi
: "${CONNS:=32}"
SWITCHYARD_BIN=${SWITCHYARD_BIN:-$ROOT/build/switchyard}
PIN=0  # see the header: nothing is pinned
export SY_BENCH_EMULATOR_KEY=unused  # gateway.yaml names it for its (unused here) emulator

# shellcheck source=bench/load/lib.sh
source "$HERE/lib.sh"

for tool in nginx wrk curl psql setpriv redis-server redis-cli; do
  command -v "$tool" >/dev/null || die "$tool not found (scripts/install-deps.sh installs it)"
done
[[ -x $SWITCHYARD_BIN ]] || die "no gateway binary at $SWITCHYARD_BIN (build it Release)"
((CONNS >= 2 && CONNS % 2 == 0)) || die "CONNS must be an even number >= 2"
PG_BIN=${SY_PG_BINDIR:-$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)}
[[ -x $PG_BIN/postgres && -x $PG_BIN/initdb ]] || die "no PostgreSQL server binaries in '$PG_BIN'"
CLK_TCK=$(getconf CLK_TCK)
# Secrets of a throwaway run, the same in every gateway: the replicas must share the pepper to
# find each other's keys in PostgreSQL; the admin token opens /admin/keys.
export SWITCHYARD_KEY_PEPPER=bench-pepper-not-a-secret-0123456789abcdef
export SWITCHYARD_ADMIN_TOKEN=bench-admin-token-not-a-secret
# The benchmark's client key (as run.sh's): budgets and rate limits far above what a run spends.
RPM_LIMIT=1000000000
KEY_SPEC='{"tenant":"bench","budgets":{"usd_per_day":"1000000","usd_per_month":"1000000"},"limits":{"requests_per_minute":'$RPM_LIMIT',"tokens_per_minute":1000000000}}'
SMOKE_BODY='{"model":"bench-fast","messages":[{"role":"user","content":"Say hello in five words."}],"max_tokens":16}'

# ---- upstream, PostgreSQL and Redis -----------------------------------------------------------
log "work dir $WORK; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
start_nginx upstream nginx-upstream.conf 0
UP_PORT=$NGINX_PORT
UP_URL=http://127.0.0.1:$UP_PORT/v1/chat/completions

# PostgreSQL refuses to run as root: then initdb and the server run as `postgres` (setpriv execs,
# so the pid spawn() records is the postmaster's own).
AS_PG=()
PG_DIR=$WORK/pg
mkdir -p "$PG_DIR"
if ((EUID == 0)); then
  chown postgres:postgres "$PG_DIR"
  AS_PG=(setpriv --reuid=postgres --regid=postgres --init-groups)
fi
"${AS_PG[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" --auth=trust -U switchyard --encoding=UTF8 \
  --locale=C --no-sync >"$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log" >&2; die "initdb failed"; }
PG_PORT=$(pick_port)
spawn 0 "$WORK/postgres.log" "${AS_PG[@]}" "$PG_BIN/postgres" -D "$PG_DIR/data" \
  -h 127.0.0.1 -p "$PG_PORT" -k "$PG_DIR"
PG_PID=$SPAWNED
wait_line "$WORK/postgres.log" '(ready to accept connections)' "$PG_PID" >/dev/null ||
  { cat "$WORK/postgres.log" >&2; die "PostgreSQL did not start"; }
PG_URL=postgresql://switchyard@127.0.0.1:$PG_PORT/switchyard
psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U switchyard -d postgres -c "CREATE DATABASE switchyard"
pg_query() { psql -X -A -t -h 127.0.0.1 -p "$PG_PORT" -U switchyard -d switchyard -c "$1"; }

# Redis: no persistence, in the foreground (spawn records redis-server's own pid), its files in
# $WORK. Ready when it answers PING and its log says so (a PONG alone could come from another
# server that took the port first); a port taken is retried with another.
REDIS_DIR=$WORK/redis
mkdir -p "$REDIS_DIR"
redis_cli() { timeout 5 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }
start_redis() {
  local deadline
  for _ in 1 2 3; do
    REDIS_PORT=$(pick_port)
    printf '%s\n' "bind 127.0.0.1" "port $REDIS_PORT" "daemonize no" 'save ""' "appendonly no" \
      "dir $REDIS_DIR" "logfile $REDIS_DIR/redis.log" >"$REDIS_DIR/redis.conf"
    : >"$REDIS_DIR/redis.log"
    spawn 0 "$REDIS_DIR/stdout" redis-server "$REDIS_DIR/redis.conf"
    REDIS_PID=$SPAWNED
    deadline=$((SECONDS + 10))
    while ((SECONDS < deadline)) && kill -0 "$REDIS_PID" 2>/dev/null; do
      if [[ $(redis_cli ping 2>/dev/null) == PONG ]] &&
        grep -q 'Ready to accept connections' "$REDIS_DIR/redis.log"; then
        return 0
      fi
      sleep 0.05
    done
    if grep -q 'Address already in use' "$REDIS_DIR/redis.log" "$REDIS_DIR/stdout"; then
      log "redis: port $REDIS_PORT taken, retrying"
      kill -TERM "$REDIS_PID" 2>/dev/null || true
      continue
    fi
    cat "$REDIS_DIR/stdout" "$REDIS_DIR/redis.log" >&2
    die "redis-server did not start"
  done
  die "redis-server: no free port after 3 attempts"
}
start_redis
REDIS_URL=redis://127.0.0.1:$REDIS_PORT
log "upstream nginx on :$UP_PORT; PostgreSQL $("$PG_BIN/postgres" --version | awk '{ print $3 }') on :$PG_PORT;" \
  "Redis $(redis-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p') on :$REDIS_PORT"

# ---- the gateways -----------------------------------------------------------------------------
declare -A GW_BASE GW_URL GW_PID
# start_gateway NAME THREADS [DATABASE_URL REDIS_URL]
start_gateway() {
  local name=$1 threads=$2 url=${3:-} redis=${4:-} dir=$WORK/$1
  mkdir -p "$dir"
  sed -e "s|@UPSTREAM_PORT@|$UP_PORT|g" -e "s|@EMULATOR_ADDR@|127.0.0.1:1|g" \
    -e "s|@[A-Z_]*UPSTREAM_MODEL@|unused|g" -e "s|@STATE@|$dir|g" -e "s|@AUTH_MODE@|keys|g" \
    -e "s|^  threads: 1$|  threads: $threads|" "$HERE/gateway.yaml" >"$dir/gateway.yaml"
  if [[ -n $url ]]; then printf '\ndatabase:\n  url: "%s"\n' "$url" >>"$dir/gateway.yaml"; fi
  if [[ -n $redis ]]; then
    printf '\nshared_state:\n  redis_url: "%s"\n  on_failure: fail_open\n' "$redis" >>"$dir/gateway.yaml"
  fi
  grep -q "^  threads: $threads$" "$dir/gateway.yaml" || die "gateway.yaml has no 'threads: 1' to set"
  spawn 0 "$dir/out.log" "$SWITCHYARD_BIN" serve --config "$dir/gateway.yaml"
  GW_PID[$name]=$SPAWNED
  GW_BASE[$name]=$(wait_line "$dir/out.log" 'switchyard listening on (http://[^ ]+)' "$SPAWNED") ||
    { cat "$dir/out.log" >&2; die "gateway $name did not start"; }
  GW_URL[$name]=${GW_BASE[$name]}/v1/chat/completions
}
start_gateway single 2
start_gateway r1 1 "$PG_URL" "$REDIS_URL"
start_gateway r2 1 "$PG_URL" "$REDIS_URL"
log "single (SQLite) ${GW_URL[single]}; pair (PostgreSQL + Redis) ${GW_URL[r1]} ${GW_URL[r2]}"

# create_key NAME: creates the benchmark's key through NAME's admin API; sets KEY_SECRET, KEY_ID.
create_key() {
  local answer
  answer=$(curl -s --max-time 10 "${GW_BASE[$1]}/admin/keys" \
    -H "authorization: Bearer $SWITCHYARD_ADMIN_TOKEN" -H 'content-type: application/json' \
    -d "$KEY_SPEC") || answer=
  KEY_SECRET=$(sed -n 's/.*"key":"\(sk-sy-[A-Za-z0-9]*\)".*/\1/p' <<<"$answer")
  KEY_ID=$(sed -n 's/.*"id":"\([^"]*\)".*/\1/p' <<<"$answer")
  [[ -n $KEY_SECRET && -n $KEY_ID ]] ||
    { echo "$answer" >&2; tail -n 20 "$WORK/$1/out.log" >&2; die "could not create a client key on $1"; }
}
# wait_key NAME KEY: sends NAME one request with KEY until it is not refused with 401 (another
# replica's key appears after its keys reload), 15 s at most; then it must be a 200
# chat.completion. Sets WAITED_MS to the milliseconds it took and REFUSED to the 401s meanwhile.
wait_key() {
  local name=$1 key=$2 code t0=$EPOCHREALTIME deadline=$((SECONDS + 15))
  REFUSED=0
  while :; do
    code=$(curl -s -o "$WORK/$name/smoke.out" -w '%{http_code}' --max-time 5 \
      -H "authorization: Bearer $key" -H 'content-type: application/json' -d "$SMOKE_BODY" \
      "${GW_URL[$name]}") || code=000
    if [[ $code != 401 ]] || ((SECONDS >= deadline)); then break; fi
    REFUSED=$((REFUSED + 1))
    sleep 0.05
  done
  if [[ $code != 200 ]] || ! grep -q '"chat.completion"' "$WORK/$name/smoke.out"; then
    head -c 2000 "$WORK/$name/smoke.out" >&2; echo >&2
    tail -n 20 "$WORK/$name/out.log" >&2
    die "gateway $name answered the client key's smoke request with HTTP $code"
  fi
  WAITED_MS=$(calc "($EPOCHREALTIME - $t0) * 1000" 0)
}
create_key single
KEY_SINGLE=$KEY_SECRET
wait_key single "$KEY_SINGLE"
create_key r1
KEY_PAIR=$KEY_SECRET PAIR_KEY_ID=$KEY_ID
wait_key r1 "$KEY_PAIR"
wait_key r2 "$KEY_PAIR"
log "client keys created (tenant bench, budgets and rate limits on); r2 accepted r1's key" \
  "after $WAITED_MS ms ($REFUSED request(s) refused with 401 meanwhile)"
declare -A KEY_OF=([single]=$KEY_SINGLE [r1]=$KEY_PAIR [r2]=$KEY_PAIR)

# ---- measuring --------------------------------------------------------------------------------
# wrk_start URL CONNS SECS OUTFILE [KEY]: a wrk in the background, every request carrying KEY as
# its client key (post.lua; none when empty); sets WRK_PID.
wrk_start() {
  SY_BENCH_MODEL=bench-fast SY_BENCH_KEY=${5:-} timeout $(($3 + 30)) wrk -t1 -c"$2" -d"${3}s" \
    --timeout 5s --latency -s "$HERE/post.lua" "$1" >"$4" 2>&1 &
  WRK_PID=$!
}
# gateways_alive: dies with the log of a gateway that exited (a crash, a sanitizer's report).
gateways_alive() {
  local name code
  for name in single r1 r2; do
    kill -0 "${GW_PID[$name]}" 2>/dev/null && continue
    wait "${GW_PID[$name]}" 2>/dev/null && code=0 || code=$?
    tail -n 60 "$WORK/$name/out.log" >&2
    die "gateway $name (pid ${GW_PID[$name]}) exited with status $code during the run"
  done
}
# wrk_read OUTFILE WHAT: read_wrk, and counts its errors.
ERRORS=0
wrk_read() {
  gateways_alive
  read_wrk "$1" "$2"
  local errs
  errs=$(wrk_errors)
  ERRORS=$((ERRORS + errs))
  ((errs == 0)) || log "  $2: $errs errors/non-2xx (see $1)"
}
pg_ticks() {
  local total=0 pid
  for pid in $PG_PID $(cat "/proc/$PG_PID/task/$PG_PID/children" 2>/dev/null); do
    total=$((total + $(cpu_ticks "$pid" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
# redis-server's process (every thread: /proc/PID/stat sums them).
redis_ticks() { cpu_ticks "$REDIS_PID"; }
declare -A R

latency() {  # latency ROUND TARGET URL [KEY]
  local out=$WORK/lat-$2-$1.out
  wrk_start "$3" 1 "$LAT_SECS" "$out" "${4:-}"
  wait "$WRK_PID" || true
  wrk_read "$out" "$2"
  R[p50,$2,$1]=$W_p50_us R[p99,$2,$1]=$W_p99_us
}

# per_request TICKS REQUESTS: CPU microseconds per request.
per_request() { calc "$1 * 1e6 / $CLK_TCK / ($2 > 0 ? $2 : 1)" 2; }

throughput_single() {  # ROUND
  local out=$WORK/tput-single-$1.out c0 c1
  c0=$(cpu_ticks "${GW_PID[single]}")
  wrk_start "${GW_URL[single]}" "$CONNS" "$TPUT_SECS" "$out" "${KEY_OF[single]}"
  wait "$WRK_PID" || true
  c1=$(cpu_ticks "${GW_PID[single]}")
  wrk_read "$out" single
  R[rps,single,$1]=$(calc "$W_requests / ($W_duration_us / 1e6)" 0)
  R[cpu,single,$1]=$(per_request $((c1 - c0)) "$W_requests")
  R[pgcpu,single,$1]=0 R[rediscpu,single,$1]=0
  R[allcpu,single,$1]=${R[cpu,single,$1]}
}

throughput_pair() {  # ROUND
  local a=$WORK/tput-r1-$1.out b=$WORK/tput-r2-$1.out g0 g1 p0 p1 k0 k1 pa pb requests duration
  g0=$(($(cpu_ticks "${GW_PID[r1]}") + $(cpu_ticks "${GW_PID[r2]}")))
  p0=$(pg_ticks)
  k0=$(redis_ticks)
  wrk_start "${GW_URL[r1]}" $((CONNS / 2)) "$TPUT_SECS" "$a" "${KEY_OF[r1]}"
  pa=$WRK_PID
  wrk_start "${GW_URL[r2]}" $((CONNS / 2)) "$TPUT_SECS" "$b" "${KEY_OF[r2]}"
  pb=$WRK_PID
  wait "$pa" || true
  wait "$pb" || true
  g1=$(($(cpu_ticks "${GW_PID[r1]}") + $(cpu_ticks "${GW_PID[r2]}")))
  p1=$(pg_ticks)
  k1=$(redis_ticks)
  wrk_read "$a" r1
  requests=$W_requests duration=$W_duration_us
  wrk_read "$b" r2
  requests=$((requests + W_requests))
  ((W_duration_us > duration)) && duration=$W_duration_us
  R[rps,pair,$1]=$(calc "$requests / ($duration / 1e6)" 0)
  R[cpu,pair,$1]=$(per_request $((g1 - g0)) "$requests")
  R[pgcpu,pair,$1]=$(per_request $((p1 - p0)) "$requests")
  R[rediscpu,pair,$1]=$(per_request $((k1 - k0)) "$requests")
  R[allcpu,pair,$1]=$(per_request $((g1 - g0 + p1 - p0 + k1 - k0)) "$requests")
}

log "warm-up"
wrk_start "${GW_URL[single]}" "$CONNS" 2 "$WORK/warm-single.out" "${KEY_OF[single]}"
wait "$WRK_PID" || true
wrk_start "${GW_URL[r1]}" $((CONNS / 2)) 2 "$WORK/warm-r1.out" "${KEY_OF[r1]}"; pa=$WRK_PID
wrk_start "${GW_URL[r2]}" $((CONNS / 2)) 2 "$WORK/warm-r2.out" "${KEY_OF[r2]}"; wait "$pa" "$WRK_PID" || true

for ((r = 1; r <= ROUNDS; r++)); do
  if ((r % 2)); then order=(single pair); else order=(pair single); fi
  latency "$r" direct "$UP_URL"
  for s in "${order[@]}"; do
    if [[ $s == single ]]; then
      latency "$r" single "${GW_URL[single]}" "${KEY_OF[single]}"
    else
      latency "$r" pair "${GW_URL[r1]}" "${KEY_OF[r1]}"
    fi
    R[add50,$s,$r]=$((R[p50,$s,$r] - R[p50,direct,$r]))
    R[add99,$s,$r]=$((R[p99,$s,$r] - R[p99,direct,$r]))
  done
  for s in "${order[@]}"; do
    "throughput_$s" "$r"
    log "  round $r $s: ${R[rps,$s,$r]} req/s, ${R[cpu,$s,$r]} us gateway CPU/request" \
      "(+${R[pgcpu,$s,$r]} PostgreSQL, +${R[rediscpu,$s,$r]} Redis), added p50 ${R[add50,$s,$r]} us," \
      "p99 ${R[add99,$s,$r]} us"
  done
done

# ---- nothing lost: PostgreSQL holds exactly what the replicas wrote ---------------------------
# SIGTERM: each replica drains, writes what it holds and reports its last spend to Redis.
written=0
for name in r1 r2; do
  kill -TERM "${GW_PID[$name]}"
  for _ in {1..200}; do kill -0 "${GW_PID[$name]}" 2>/dev/null || break; sleep 0.05; done
  n=$(sed -n 's/.*stopped; \([0-9]*\) ledger records written.*/\1/p' "$WORK/$name/out.log")
  [[ -n $n ]] || { cat "$WORK/$name/out.log" >&2; die "replica $name did not stop cleanly"; }
  written=$((written + n))
done
rows=$(pg_query "SELECT count(*) || ' ' || count(DISTINCT request_id) FROM requests")
by_status=$(pg_query "SELECT string_agg(status || ': ' || n, ', ' ORDER BY status)
  FROM (SELECT status, count(*) AS n FROM requests GROUP BY status) s")
log "PostgreSQL rows (all, distinct): $rows; the replicas wrote $written; by status: $by_status"
# What the pair refused or failed, besides the 401s above and the 499s of connections wrk closed
# at the end of a run with a request in flight.
odd_rows=$(pg_query "SELECT string_agg(status || ' ' || error_code || ' \"' || left(error_message, 160)
  || '\" x' || n, '; ') FROM (SELECT status, error_code, error_message, count(*) AS n FROM requests
  WHERE status NOT IN (200, 401, 499) GROUP BY 1, 2, 3) s")
[[ -z $odd_rows ]] || log "  the pair's other non-2xx rows: $odd_rows"

# ---- the shared counters saw the traffic ------------------------------------------------------
# The key's budget hashes (<prefix>k:<key id>:usd:d:<day> and :usd:m:<month>, field `spent` in
# nano-dollars) and its requests-per-minute bucket (:rpm). spent is summed over day hashes, in
# case the run crossed midnight UTC. Each request's cost is rounded up to the nano-dollar, so
# spent x 1000 - the ledger's pico-dollars lies in [0, 1000 x requests).
KEY_BASE=switchyard:k:$PAIR_KEY_ID
mapfile -t REDIS_KEYS < <(redis_cli --scan --pattern 'switchyard:*' | sort)
DAY_HASHES=() RPM_BUCKET=missing REDIS_SPENT=0
for k in "${REDIS_KEYS[@]}"; do
  case $k in
    "$KEY_BASE":usd:d:*)
      DAY_HASHES+=("$k")
      spent=$(redis_cli hget "$k" spent)
      REDIS_SPENT=$((REDIS_SPENT + ${spent:-0})) ;;
    "$KEY_BASE":rpm)  # level: sub-units, 60000 a request, at its last use
      RPM_BUCKET="present, $(redis_cli hget "$k" level | awk '{ printf "%d", $1 / 60000 }')"
      RPM_BUCKET+=" of $RPM_LIMIT requests left at its last use" ;;
  esac
done
read -r LEDGER_PICO LEDGER_REQUESTS <<<"$(pg_query \
  "SELECT coalesce(sum(cost_pico), 0) || ' ' || count(*) FROM requests WHERE tenant = 'bench'")"
SPENT_DIFF=$((REDIS_SPENT * 1000 - LEDGER_PICO))
if ((SPENT_DIFF >= 0 && SPENT_DIFF < 1000 * LEDGER_REQUESTS)); then
  SPENT_VERDICT="within"
else
  SPENT_VERDICT="OUTSIDE"
fi
# A replica logs "switchyard: shared <what>: <url> is up" when it connects to Redis, and
# "switchyard: shared <what>: <error>" when a Redis call fails.
REDIS_ERRS=$(cat "$WORK/r1/out.log" "$WORK/r2/out.log" | grep -E '^switchyard: shared [a-z]+: ' |
  grep -vc ' is up$' || true)
log "Redis: ${#REDIS_KEYS[@]} switchyard:* keys: ${REDIS_KEYS[*]}"
log "Redis day budget spent $REDIS_SPENT nano-USD (x1000 = $((REDIS_SPENT * 1000)) pico);" \
  "ledger sum(cost_pico) $LEDGER_PICO over $LEDGER_REQUESTS requests: difference $SPENT_DIFF" \
  "pico, $SPENT_VERDICT [0, $((1000 * LEDGER_REQUESTS))); rpm bucket $RPM_BUCKET;" \
  "Redis errors in the replicas' logs: $REDIS_ERRS"

# ---- report -----------------------------------------------------------------------------------
med() {  # med METRIC SETUP
  local vals=() i
  for ((i = 1; i <= ROUNDS; i++)); do vals+=("${R[$1,$2,$i]}"); done
  median "${vals[@]}"
}
# pair / single; "—" when single's figure is not positive (an added p99 can come out negative
# when the direct run's own p99 was the noisier one).
ratio() { if awk -v d="$2" 'BEGIN { exit !(d > 0) }'; then calc "$1 / $2" 2; else echo "—"; fi; }
refused_note=
((REFUSED == 0)) || refused_note=" ($REFUSED 401s: r2 was asked with the key until its keys reloaded)"
odd_note=
[[ -z $odd_rows ]] || odd_note=" The pair's other non-2xx rows (status, code, message, count): $odd_rows."
mkdir -p "$(dirname "$OUT")"
{
  echo "# Scale-out: two replicas on PostgreSQL + Redis vs one gateway on SQLite"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $ROUNDS round(s), medians; $CONNS connections" \
    "in all for throughput (${TPUT_SECS} s), 1 connection for latency (${LAT_SECS} s); nothing pinned." \
    "auth.mode keys: every request carries a client key with a budget and rate limits far above its traffic."
  echo
  echo "| metric | pair: 2 replicas x 1 thread, PostgreSQL + Redis | single: 1 gateway x 2 threads, SQLite | pair / single |"
  echo "|---|---:|---:|---:|"
  local_row() { echo "| $1 | $2 | $3 | $(ratio "$2" "$3") |"; }
  local_row "throughput (req/s)" "$(med rps pair)" "$(med rps single)"
  local_row "gateway CPU per request (µs)" "$(med cpu pair)" "$(med cpu single)"
  echo "| PostgreSQL CPU per request (µs) | $(med pgcpu pair) | — | |"
  echo "| Redis CPU per request (µs) | $(med rediscpu pair) | — | |"
  local_row "CPU per request, all of it (µs)" "$(med allcpu pair)" "$(med allcpu single)"
  local_row "added p50, 1 connection (µs)" "$(med add50 pair)" "$(med add50 single)"
  local_row "added p99, 1 connection (µs)" "$(med add99 pair)" "$(med add99 single)"
  echo
  echo "\"All of it\": the pair's gateways + PostgreSQL + redis-server; the single gateway alone."
  echo
  echo "Nothing lost: PostgreSQL holds $rows (rows, distinct request ids) after the replicas" \
    "stopped; they reported $written records written. Rows by HTTP status: $by_status$refused_note." \
    "Errors and non-2xx answers in the timed runs: $ERRORS.$odd_note"
  echo
  if ((${#DAY_HASHES[@]})); then
    echo "Shared counters: Redis holds ${#REDIS_KEYS[@]} \`switchyard:*\` keys, among them the" \
      "key's day budget hash(es) (${DAY_HASHES[*]}) and its" \
      "requests-per-minute bucket ($RPM_BUCKET). Budget spent $REDIS_SPENT nano-USD" \
      "(x 1000 = $((REDIS_SPENT * 1000)) pico-USD) against the ledger's sum(cost_pico)" \
      "$LEDGER_PICO over $LEDGER_REQUESTS requests of tenant bench: $SPENT_DIFF pico-USD more," \
      "$SPENT_VERDICT the rounding bound [0, 1000 x requests = $((1000 * LEDGER_REQUESTS)))." \
      "Redis errors in the replicas' logs: $REDIS_ERRS."
  else
    echo "Shared counters: NO budget hash for the key in Redis (${#REDIS_KEYS[@]} \`switchyard:*\`" \
      "keys: ${REDIS_KEYS[*]:-none}); the ledger holds $LEDGER_PICO pico-USD over" \
      "$LEDGER_REQUESTS requests of tenant bench. Redis errors in the replicas' logs: $REDIS_ERRS."
  fi
} >"$OUT"
cat "$OUT"
read -r all distinct <<<"$rows"
((all == written && distinct == written)) || die "PostgreSQL holds $rows rows, the replicas wrote $written"
((${#DAY_HASHES[@]})) || die "Redis holds no budget hash for the key ($KEY_BASE:usd:d:*)"
((ERRORS == 0)) || die "$ERRORS errors during the run"
