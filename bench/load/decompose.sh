#!/usr/bin/env bash
# Where a proxied request's CPU goes (issue 20): the CPU per request of requests that stop at
# successive layers, the gateway's beside nginx's, in interleaved rounds of one run.
#
#   bench/load/decompose.sh [--quick] [--out FILE]
#
#   --quick      one round (~70 s instead of ~3 min), for checking the script, not for figures
#   --out FILE   where to write the Markdown report (default bench/results/decompose.md, git-ignored)
#
# The rows, each server alone on core 1 (wrk -c32 on core 0, the upstream nginx on core 0):
#   nginx static   nginx answering the benchmark's fixed chat.completion itself
#                  (nginx-upstream.conf): the floor of an HTTP server answering a POST
#   nginx proxy    nginx in front of the upstream (nginx-proxy.conf): run.sh's baseline
#   sy bare proxy  bare_proxy (bench/load/bare_proxy.cpp) in front of the upstream: the gateway's
#                  HTTP server and upstream client with a handler that only passes the body on
#                  and the answer back, the floor under the gateway's pipeline (left out, with a
#                  note, when BARE_PROXY_BIN is not built: SY_BUILD_BENCH=ON, which also needs
#                  Google Benchmark for bench/micro)
#   sy healthz     GET /healthz: the gateway's HTTP server and nothing else
#   sy cache hit   model auto:cached (gateway.yaml's `cached` profile), answered from the response
#                  cache after the first request: client key, decoding, classification, routing,
#                  admission, ledger row and metrics, but no upstream call
#   sy full        model bench-fast through the upstream: run.sh's gateway row
#   sy full, keys off  the same through a second gateway with auth.mode off: what client keys,
#                  budgets and rate limits cost
# So "sy cache hit" minus "sy healthz" is the pipeline around the call, and "sy full" minus
# "sy cache hit" the upstream call (a cache hit's ledger row has no attempt row, so the second
# difference includes one attempt row's insert as well). Two more rows stream: the upstream's
# canned answer of 13 chunks and [DONE] that arrives in one piece (nginx-upstream.conf's /burst),
#   nginx stream   nginx proxying it unbuffered (proxy_buffering off, as for any stream)
#   sy stream      model bench-burst, "stream": true: every chunk decoded, relayed and billed
# and two more stream the emulator's answer (`switchyard emulator` on core 0, profile ttft 0 and
# no token pacing), whose events come as the providers send them, each an HTTP chunk of its
# own, most of them in one segment:
#   nginx chunked  nginx proxying it unbuffered
#   sy chunked     model bench-stream through the gateway
#
# Each row: requests a second, CPU per request of the server process (user and kernel), and for
# the gateway per thread: the request worker (sy-worker) and the ledger writer (sy-ledger).
#
# Knobs (environment): ROUNDS (3; quick 1) SECS (4) WARM_SECS (1) CONNS (32)
#   LOADGEN_CPU (0) PROXY_CPU (1) UPSTREAM_CPU (0) SWITCHYARD_BIN (<repo>/build/switchyard)
#   BARE_PROXY_BIN (bench/load/bare_proxy in SWITCHYARD_BIN's build directory)
#   KEEP_TMP=1 keeps the temp dir.
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

QUICK=0
OUT="$ROOT/bench/results/decompose.md"
while (($#)); do
  case $1 in
    --quick) QUICK=1 ;;
    --out) OUT=$2; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "decompose.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
if ((QUICK)); then : "${ROUNDS:=1}"; else : "${ROUNDS:=3}"; fi
: "${SECS:=4}" "${WARM_SECS:=1}" "${CONNS:=32}" "${LOADGEN_CPU:=0}" "${PROXY_CPU:=1}" "${UPSTREAM_CPU:=0}"
SWITCHYARD_BIN=${SWITCHYARD_BIN:-$ROOT/build/switchyard}
BARE_PROXY_BIN=${BARE_PROXY_BIN:-${SWITCHYARD_BIN%/*}/bench/load/bare_proxy}

# shellcheck source=bench/load/lib.sh
source "$HERE/lib.sh"

for tool in nginx wrk curl taskset awk sed timeout; do
  command -v "$tool" >/dev/null || die "$tool not found (Debian: apt-get install nginx-light wrk curl util-linux)"
done
for knob in ROUNDS SECS WARM_SECS CONNS; do
  [[ ${!knob} =~ ^[1-9][0-9]*$ ]] || die "$knob must be a positive whole number (is '${!knob}')"
done
[[ -x $SWITCHYARD_BIN ]] || die "no gateway binary at $SWITCHYARD_BIN (build it Release, or set SWITCHYARD_BIN)"
(($(nproc) >= 2)) || die "needs 2 cores: the rows compare servers pinned to core $PROXY_CPU"
PIN=1
CLK_TCK=$(getconf CLK_TCK)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
log "work dir $WORK; load average $LOAD_START"

# ---- servers ---------------------------------------------------------------------------------
start_nginx upstream nginx-upstream.conf "$UPSTREAM_CPU"
UP_PORT=$NGINX_PORT
start_nginx static nginx-upstream.conf "$PROXY_CPU"
STATIC_PORT=$NGINX_PORT STATIC_PID=$(nginx_worker "$NGINX_PID")
start_emulator "$UPSTREAM_CPU"
CHUNKED_PROFILE=bench-chunked
put_profile "$CHUNKED_PROFILE" 0 0
start_nginx proxy nginx-proxy.conf "$PROXY_CPU" -e "s|@UPSTREAM_PORT@|$UP_PORT|g" \
  -e "s|@EMULATOR_ADDR@|$EMU_ADDR|g"
PROXY_PORT=$NGINX_PORT PROXY_PID=$(nginx_worker "$NGINX_PID")

# Of the emulator's models only bench-stream is used here (the chunked rows).
start_gateway "$PROXY_CPU" keys "$CHUNKED_PROFILE" unused unused
SY_BENCH_KEY=$(bench_key)
export SY_BENCH_KEY
KEYS_ADDR=$GW_ADDR KEYS_PID=$GW_PID
gw_dir=gateway-keys-off start_gateway "$PROXY_CPU" off "$CHUNKED_PROFILE" unused unused
NOKEYS_ADDR=$GW_ADDR NOKEYS_PID=$GW_PID
GW_ADDR=$KEYS_ADDR GW_PID=$KEYS_PID
BARE_ADDR='' BARE_PID=''
if [[ -x $BARE_PROXY_BIN ]]; then
  spawn "$PROXY_CPU" "$WORK/bare_proxy.log" "$BARE_PROXY_BIN" 127.0.0.1:0 "http://127.0.0.1:$UP_PORT"
  BARE_PID=$SPAWNED
  BARE_ADDR=$(wait_line "$WORK/bare_proxy.log" '^([0-9.]+:[0-9]+)$' "$BARE_PID") ||
    { cat "$WORK/bare_proxy.log" >&2; die "bare_proxy did not start"; }
fi
log "upstream :$UP_PORT (core $UPSTREAM_CPU); nginx static :$STATIC_PORT, nginx proxy :$PROXY_PORT, switchyard $GW_ADDR (core $PROXY_CPU)"

ROWS=(ng-static ng-proxy sy-bare sy-healthz sy-cache-hit sy-full sy-nokeys ng-stream sy-stream ng-chunked
  sy-chunked)
declare -A NAME=([ng-static]="nginx static" [ng-proxy]="nginx proxy" [sy-bare]="sy bare proxy"
  [sy-healthz]="sy healthz"
  [sy-cache-hit]="sy cache hit" [sy-full]="sy full" [sy-nokeys]="sy full, keys off"
  [ng-stream]="nginx stream" [sy-stream]="sy stream"
  [ng-chunked]="nginx chunked" [sy-chunked]="sy chunked")
declare -A URL=([ng-static]="http://127.0.0.1:$STATIC_PORT/v1/chat/completions"
  [ng-proxy]="http://127.0.0.1:$PROXY_PORT/v1/chat/completions" [sy-bare]="http://$BARE_ADDR/v1/chat/completions"
  [sy-healthz]="http://$GW_ADDR/healthz"
  [sy-cache-hit]="http://$GW_ADDR/v1/chat/completions" [sy-full]="http://$GW_ADDR/v1/chat/completions"
  [sy-nokeys]="http://$NOKEYS_ADDR/v1/chat/completions"
  [ng-stream]="http://127.0.0.1:$PROXY_PORT/burst/v1/chat/completions"
  [sy-stream]="http://$GW_ADDR/v1/chat/completions"
  [ng-chunked]="http://127.0.0.1:$PROXY_PORT/stream/v1/chat/completions"
  [sy-chunked]="http://$GW_ADDR/v1/chat/completions")
# nginx passes the body on as it is, so its chunked row names the emulator's profile itself.
declare -A MODEL=([sy-cache-hit]=auto:cached [ng-stream]=bench-burst [sy-stream]=bench-burst
  [ng-chunked]=$CHUNKED_PROFILE [sy-chunked]=bench-stream)
declare -A METHOD=([sy-healthz]=GET)
declare -A STREAMED=([ng-stream]=1 [sy-stream]=1 [ng-chunked]=1 [sy-chunked]=1)
declare -A PID_OF=([ng-static]=$STATIC_PID [ng-proxy]=$PROXY_PID [sy-bare]=$BARE_PID [sy-healthz]=$GW_PID
  [sy-cache-hit]=$GW_PID [sy-full]=$GW_PID [sy-nokeys]=$NOKEYS_PID [ng-stream]=$PROXY_PID [sy-stream]=$GW_PID
  [ng-chunked]=$PROXY_PID [sy-chunked]=$GW_PID)

# The body a row posts: stream.lua's for the streamed rows (it also counts streams cut short).
body_of() {
  local stream=''
  [[ -n ${STREAMED[$1]:-} ]] && stream='"stream":true,'
  echo '{"model":"'"${MODEL[$1]:-bench-fast}"'",'"$stream"'"messages":[{"role":"user","content":"Say hello in five words."}],"max_tokens":16}'
}
script_of() { if [[ -n ${STREAMED[$1]:-} ]]; then echo "$HERE/stream.lua"; else echo "$HERE/post.lua"; fi; }

if [[ -z $BARE_ADDR ]]; then
  log "no $BARE_PROXY_BIN (build with -DSY_BUILD_BENCH=ON): the sy bare proxy row is left out"
  kept=()
  for row in "${ROWS[@]}"; do [[ $row == sy-bare ]] || kept+=("$row"); done
  ROWS=("${kept[@]}")
fi
log "bare proxy ${BARE_ADDR:-(none)}, switchyard with keys off $NOKEYS_ADDR (core $PROXY_CPU)"

# Every row must answer 200 before anything is timed (the cache-hit row's first answer fills
# the cache).
for row in "${ROWS[@]}"; do
  args=(-H "authorization: Bearer $SY_BENCH_KEY")
  if [[ ${METHOD[$row]:-POST} == POST ]]; then
    args+=(-H 'content-type: application/json' -d "$(body_of "$row")")
  fi
  code=$(curl -s -o "$WORK/smoke-$row.out" -w '%{http_code}' --max-time 5 "${args[@]}" "${URL[$row]}") || code=000
  [[ $code == 200 ]] || { head -c 2000 "$WORK/smoke-$row.out" >&2; die "${NAME[$row]} answered HTTP $code"; }
done

# thread_ticks PID: "<comm> <utime> <stime>" per thread, summed by thread name.
thread_ticks() {
  local t
  for t in /proc/"$1"/task/*; do
    printf '%s %s\n' "$(<"$t/comm")" "$(sed 's/^.*) //' "$t/stat" | awk '{ print $12, $13 }')"
  done | awk '{ u[$1] += $2; s[$1] += $3 } END { for (n in u) print n, u[n], s[n] }' | sort
}

# measure ROW ROUND: one wrk run; sets R[rps|user|kernel|worker|ledger,ROW,ROUND] (µs a request).
declare -A R
measure() {
  local row=$1 r=$2 pid=${PID_OF[$1]} out before after
  export SY_BENCH_MODEL=${MODEL[$row]:-bench-fast} SY_BENCH_METHOD=${METHOD[$row]:-POST}
  SY_BENCH_BODY=$(body_of "$row")
  export SY_BENCH_BODY
  local script
  script=$(script_of "$row")
  taskset -c "$LOADGEN_CPU" wrk -t1 -c"$CONNS" -d"${WARM_SECS}s" -s "$script" "${URL[$row]}" >/dev/null 2>&1 || true
  out=$WORK/wrk-$row-$r.out
  before=$(thread_ticks "$pid")
  timeout $((SECS + 30)) taskset -c "$LOADGEN_CPU" wrk -t1 -c"$CONNS" -d"${SECS}s" --timeout 5s \
    -s "$script" "${URL[$row]}" >"$out" 2>&1 || true
  after=$(thread_ticks "$pid")
  read_wrk "$out" "${NAME[$row]}"
  (($(wrk_errors) == 0)) || die "${NAME[$row]}: $(wrk_errors) errors or non-2xx answers (see $out)"
  local us_per_tick
  us_per_tick=$(calc "1e6 / $CLK_TCK / $W_requests" 6)
  R[rps,$row,$r]=$(calc "$W_requests / ($W_duration_us / 1e6)" 0)
  # Per thread name: µs of user and kernel time a request, over the timed run.
  while read -r name u0 s0 u1 s1; do
    R[user,$row,$r]=$(calc "${R[user,$row,$r]:-0} + ($u1 - $u0) * $us_per_tick" 2)
    R[kernel,$row,$r]=$(calc "${R[kernel,$row,$r]:-0} + ($s1 - $s0) * $us_per_tick" 2)
    case $name in
      sy-worker) R[worker,$row,$r]=$(calc "($u1 - $u0 + $s1 - $s0) * $us_per_tick" 2) ;;
      sy-ledger) R[ledger,$row,$r]=$(calc "($u1 - $u0 + $s1 - $s0) * $us_per_tick" 2) ;;
    esac
  done < <(join <(echo "$before") <(echo "$after"))
  log "  round $r ${NAME[$row]}: ${R[rps,$row,$r]} req/s, user ${R[user,$row,$r]} + kernel ${R[kernel,$row,$r]} us a request"
}

log "$ROUNDS round(s) x ${SECS}s per row, $CONNS connections"
for ((r = 1; r <= ROUNDS; r++)); do
  order=("${ROWS[@]}")
  if ((r % 2 == 0)); then  # even rounds run the rows backwards
    order=()
    for ((i = ${#ROWS[@]} - 1; i >= 0; i--)); do order+=("${ROWS[i]}"); done
  fi
  for row in "${order[@]}"; do measure "$row" "$r"; done
done

# ---- report ----------------------------------------------------------------------------------
med() { local m=$1 row=$2 v=() r; for ((r = 1; r <= ROUNDS; r++)); do v+=("${R[$m,$row,$r]:-0}"); done; median "${v[@]}"; }
mkdir -p "$(dirname "$OUT")"
{
  echo "# Where a request's CPU goes"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'),"
  echo "$ROUNDS round(s) x ${SECS} s per row, wrk -c$CONNS on core $LOADGEN_CPU, each server alone on core $PROXY_CPU,"
  echo "the upstream nginx and the emulator on core $UPSTREAM_CPU; medians over rounds. Load average $LOAD_START at start,"
  echo "$(cut -d' ' -f1-3 /proc/loadavg) at end."
  echo
  echo "| row | req/s | CPU µs a request | user | kernel | request worker | ledger writer |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for row in "${ROWS[@]}"; do
    user=$(med user "$row") kernel=$(med kernel "$row")
    worker='' ledger=''
    if [[ $row == sy-* ]]; then worker=$(med worker "$row"); fi
    # The bare proxy has no ledger writer thread.
    if [[ $row == sy-* && $row != sy-bare ]]; then ledger=$(med ledger "$row"); fi
    echo "| ${NAME[$row]} | $(med rps "$row") | $(calc "$user + $kernel" 2) | $user | $kernel | $worker | $ledger |"
  done
} >"$OUT"
cat "$OUT"
log "report written to $OUT"
