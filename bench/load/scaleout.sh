#!/usr/bin/env bash
# Scale-out benchmark (issue 21): two gateway replicas recording into one PostgreSQL ledger
# against one gateway on its SQLite file, in the same run, in front of the same fast upstream
# (nginx returning a fixed chat.completion, as in run.sh).
#
#   bench/load/scaleout.sh [--quick] [--out FILE]
#
#   --quick      a short run (~25 s instead of ~1.5 min), for checking the script, not for figures
#   --out FILE   where to write the Markdown report (default bench/results/scaleout.md, git-ignored)
#
# The setups, each with two request workers in all:
#   single   one gateway, server.threads 2, its ledger in its SQLite file (the embedded default)
#   pair     two gateways, server.threads 1 each, both recording into one PostgreSQL (database.url)
# Both run keyless (auth.mode off: client keys are not shared between replicas yet, so the
# gateway refuses keys with database.url) on the concrete model bench-fast.
#
# Measures, in interleaved rounds (single first in odd rounds, pair first in even ones):
#   throughput with CONNS connections in all: one wrk against the single gateway; against the pair,
#     two wrk at once, CONNS/2 connections each, their requests summed over the longer duration;
#   CPU per request: the gateways' CPU time over the throughput run, and for the pair also
#     PostgreSQL's (postmaster and every backend), divided by the requests answered;
#   1-connection latency p50/p99 to the single gateway and to one replica of the pair, and the
#     latency they add over going to the upstream directly (measured in the same round).
# Then the pair is stopped (SIGTERM: each writes what it holds) and the rows in PostgreSQL must
# equal the records the replicas say they wrote: nothing lost, nothing doubled.
#
# Nothing is pinned to a core: on this 2-core machine the question is how the same work spreads
# over the cores when it is split into replicas that share PostgreSQL, load generator included.
# PostgreSQL runs with its default durability (fsync, synchronous_commit on), as in production;
# the ledger commits a batch at a time, so that is one fsync per batch, not per request.
#
# Environment: SWITCHYARD_BIN (default <repo>/build/switchyard, a Release build), ROUNDS,
# LAT_SECS, TPUT_SECS, CONNS, SY_PG_BINDIR (default: the newest /usr/lib/postgresql/*/bin).
# Needs nginx, wrk, curl, psql and the PostgreSQL server (Debian: nginx-light wrk curl postgresql;
# scripts/install-deps.sh installs them). Loopback only; every process stops when the script ends.
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

for tool in nginx wrk curl psql setpriv; do
  command -v "$tool" >/dev/null || die "$tool not found (scripts/install-deps.sh installs it)"
done
[[ -x $SWITCHYARD_BIN ]] || die "no gateway binary at $SWITCHYARD_BIN (build it Release)"
((CONNS >= 2 && CONNS % 2 == 0)) || die "CONNS must be an even number >= 2"
PG_BIN=${SY_PG_BINDIR:-$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)}
[[ -x $PG_BIN/postgres && -x $PG_BIN/initdb ]] || die "no PostgreSQL server binaries in '$PG_BIN'"
CLK_TCK=$(getconf CLK_TCK)

# ---- upstream and PostgreSQL ------------------------------------------------------------------
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
log "upstream nginx on :$UP_PORT; PostgreSQL $("$PG_BIN/postgres" --version | awk '{ print $3 }') on :$PG_PORT"

# ---- the gateways -----------------------------------------------------------------------------
declare -A GW_URL GW_PID
# start_gateway NAME THREADS [DATABASE_URL]
start_gateway() {
  local name=$1 threads=$2 url=${3:-} dir=$WORK/$1
  mkdir -p "$dir"
  sed -e "s|@UPSTREAM_PORT@|$UP_PORT|g" -e "s|@EMULATOR_ADDR@|127.0.0.1:1|g" \
    -e "s|@[A-Z_]*UPSTREAM_MODEL@|unused|g" -e "s|@STATE@|$dir|g" -e "s|@AUTH_MODE@|off|g" \
    -e "s|^  threads: 1$|  threads: $threads|" "$HERE/gateway.yaml" >"$dir/gateway.yaml"
  if [[ -n $url ]]; then printf '\ndatabase:\n  url: "%s"\n' "$url" >>"$dir/gateway.yaml"; fi
  grep -q "^  threads: $threads$" "$dir/gateway.yaml" || die "gateway.yaml has no 'threads: 1' to set"
  spawn 0 "$dir/out.log" "$SWITCHYARD_BIN" serve --config "$dir/gateway.yaml"
  GW_PID[$name]=$SPAWNED
  GW_URL[$name]=$(wait_line "$dir/out.log" 'switchyard listening on (http://[^ ]+)' "$SPAWNED") ||
    { cat "$dir/out.log" >&2; die "gateway $name did not start"; }
  GW_URL[$name]+=/v1/chat/completions
}
start_gateway single 2
start_gateway r1 1 "$PG_URL"
start_gateway r2 1 "$PG_URL"
log "single (SQLite) ${GW_URL[single]}; pair (PostgreSQL) ${GW_URL[r1]} ${GW_URL[r2]}"

# ---- measuring --------------------------------------------------------------------------------
# wrk_start URL CONNS SECS OUTFILE: a wrk in the background; sets WRK_PID.
wrk_start() {
  SY_BENCH_MODEL=bench-fast timeout $(($3 + 30)) wrk -t1 -c"$2" -d"${3}s" --timeout 5s --latency \
    -s "$HERE/post.lua" "$1" >"$4" 2>&1 &
  WRK_PID=$!
}
# wrk_read OUTFILE WHAT: read_wrk, and counts its errors.
ERRORS=0
wrk_read() {
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
declare -A R

latency() {  # latency ROUND TARGET URL
  local out=$WORK/lat-$2-$1.out
  wrk_start "$3" 1 "$LAT_SECS" "$out"
  wait "$WRK_PID" || true
  wrk_read "$out" "$2"
  R[p50,$2,$1]=$W_p50_us R[p99,$2,$1]=$W_p99_us
}

throughput_single() {  # ROUND
  local out=$WORK/tput-single-$1.out c0 c1
  c0=$(cpu_ticks "${GW_PID[single]}")
  wrk_start "${GW_URL[single]}" "$CONNS" "$TPUT_SECS" "$out"
  wait "$WRK_PID" || true
  c1=$(cpu_ticks "${GW_PID[single]}")
  wrk_read "$out" single
  R[rps,single,$1]=$(calc "$W_requests / ($W_duration_us / 1e6)" 0)
  R[cpu,single,$1]=$(calc "($c1 - $c0) * 1e6 / $CLK_TCK / ($W_requests > 0 ? $W_requests : 1)" 2)
  R[pgcpu,single,$1]=0
}

throughput_pair() {  # ROUND
  local a=$WORK/tput-r1-$1.out b=$WORK/tput-r2-$1.out g0 g1 p0 p1 pa pb requests duration
  g0=$(($(cpu_ticks "${GW_PID[r1]}") + $(cpu_ticks "${GW_PID[r2]}")))
  p0=$(pg_ticks)
  wrk_start "${GW_URL[r1]}" $((CONNS / 2)) "$TPUT_SECS" "$a"
  pa=$WRK_PID
  wrk_start "${GW_URL[r2]}" $((CONNS / 2)) "$TPUT_SECS" "$b"
  pb=$WRK_PID
  wait "$pa" || true
  wait "$pb" || true
  g1=$(($(cpu_ticks "${GW_PID[r1]}") + $(cpu_ticks "${GW_PID[r2]}")))
  p1=$(pg_ticks)
  wrk_read "$a" r1
  requests=$W_requests duration=$W_duration_us
  wrk_read "$b" r2
  requests=$((requests + W_requests))
  ((W_duration_us > duration)) && duration=$W_duration_us
  R[rps,pair,$1]=$(calc "$requests / ($duration / 1e6)" 0)
  R[cpu,pair,$1]=$(calc "($g1 - $g0) * 1e6 / $CLK_TCK / ($requests > 0 ? $requests : 1)" 2)
  R[pgcpu,pair,$1]=$(calc "($p1 - $p0) * 1e6 / $CLK_TCK / ($requests > 0 ? $requests : 1)" 2)
}

log "warm-up"
wrk_start "${GW_URL[single]}" "$CONNS" 2 "$WORK/warm-single.out"; wait "$WRK_PID" || true
wrk_start "${GW_URL[r1]}" $((CONNS / 2)) 2 "$WORK/warm-r1.out"; pa=$WRK_PID
wrk_start "${GW_URL[r2]}" $((CONNS / 2)) 2 "$WORK/warm-r2.out"; wait "$pa" "$WRK_PID" || true

for ((r = 1; r <= ROUNDS; r++)); do
  if ((r % 2)); then order=(single pair); else order=(pair single); fi
  latency "$r" direct "$UP_URL"
  for s in "${order[@]}"; do
    if [[ $s == single ]]; then latency "$r" single "${GW_URL[single]}"; else latency "$r" pair "${GW_URL[r1]}"; fi
    R[add50,$s,$r]=$((R[p50,$s,$r] - R[p50,direct,$r]))
    R[add99,$s,$r]=$((R[p99,$s,$r] - R[p99,direct,$r]))
  done
  for s in "${order[@]}"; do
    "throughput_$s" "$r"
    log "  round $r $s: ${R[rps,$s,$r]} req/s, ${R[cpu,$s,$r]} us gateway CPU/request" \
      "(+${R[pgcpu,$s,$r]} PostgreSQL), added p50 ${R[add50,$s,$r]} us, p99 ${R[add99,$s,$r]} us"
  done
done

# ---- nothing lost: PostgreSQL holds exactly what the replicas wrote ---------------------------
written=0
for name in r1 r2; do
  kill -TERM "${GW_PID[$name]}"
  for _ in {1..200}; do kill -0 "${GW_PID[$name]}" 2>/dev/null || break; sleep 0.05; done
  n=$(sed -n 's/.*stopped; \([0-9]*\) ledger records written.*/\1/p' "$WORK/$name/out.log")
  [[ -n $n ]] || { cat "$WORK/$name/out.log" >&2; die "replica $name did not stop cleanly"; }
  written=$((written + n))
done
rows=$(psql -X -A -t -h 127.0.0.1 -p "$PG_PORT" -U switchyard -d switchyard \
  -c "SELECT count(*) || ' ' || count(DISTINCT request_id) FROM requests")
log "PostgreSQL rows (all, distinct): $rows; the replicas wrote $written"

# ---- report -----------------------------------------------------------------------------------
med() {  # med METRIC SETUP
  local vals=() i
  for ((i = 1; i <= ROUNDS; i++)); do vals+=("${R[$1,$2,$i]}"); done
  median "${vals[@]}"
}
# pair / single; "—" when single's figure is not positive (an added p99 can come out negative
# when the direct run's own p99 was the noisier one).
ratio() { if awk -v d="$2" 'BEGIN { exit !(d > 0) }'; then calc "$1 / $2" 2; else echo "—"; fi; }
mkdir -p "$(dirname "$OUT")"
{
  echo "# Scale-out: two replicas on PostgreSQL vs one gateway on SQLite"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $ROUNDS round(s), medians; $CONNS connections" \
    "in all for throughput (${TPUT_SECS} s), 1 connection for latency (${LAT_SECS} s); nothing pinned."
  echo
  echo "| metric | pair: 2 replicas x 1 thread, PostgreSQL | single: 1 gateway x 2 threads, SQLite | pair / single |"
  echo "|---|---:|---:|---:|"
  local_row() { echo "| $1 | $2 | $3 | $(ratio "$2" "$3") |"; }
  local_row "throughput (req/s)" "$(med rps pair)" "$(med rps single)"
  local_row "gateway CPU per request (µs)" "$(med cpu pair)" "$(med cpu single)"
  echo "| PostgreSQL CPU per request (µs) | $(med pgcpu pair) | — | |"
  local_row "added p50, 1 connection (µs)" "$(med add50 pair)" "$(med add50 single)"
  local_row "added p99, 1 connection (µs)" "$(med add99 pair)" "$(med add99 single)"
  echo
  echo "Nothing lost: PostgreSQL holds $rows (rows, distinct request ids) after the replicas" \
    "stopped; they reported $written records written. Errors and non-2xx answers: $ERRORS."
} >"$OUT"
cat "$OUT"
read -r all distinct <<<"$rows"
((all == written && distinct == written)) || die "PostgreSQL holds $rows rows, the replicas wrote $written"
((ERRORS == 0)) || die "$ERRORS errors during the run"
