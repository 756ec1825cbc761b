#!/usr/bin/env bash
# Switchyard load benchmark: the gateway against nginx as a plain keep-alive reverse proxy, both in
# front of the same fast upstream (nginx returning a fixed chat.completion), on one pinned core.
#
#   bench/load/run.sh [--quick] [--strict] [--out FILE] [--soak [SECS]]
#
#   --quick        a short run (~85 s instead of ~4 min), for checking the script, not for figures
#   --strict       exit 1 when any target row is FAIL
#   --out FILE     where to write the Markdown report (default bench/results/latest.md, git-ignored)
#   --soak [SECS]  after everything else, a soak of SECS seconds (600 when no value is given; the
#                  SOAK_SECS environment variable does the same); off by default
#
# Measures, in interleaved rounds (direct, gateway, nginx, then direct, nginx, gateway, ...):
#   1-connection latency p50/p99 and the latency each proxy ADDS over going direct to the upstream;
#   one-core throughput (wrk -c32); CPU time per request and peak RSS of the proxy process;
#   the same at MID_CONNS connections, and with one request per connection (CLOSE_CONNS
#   connections, each request sending `Connection: close`: a connection's accept, setup and
#   close in every request, which keep-alive runs never show); information, not targets;
#   the gateway once more with translation (OpenAI client -> Anthropic-kind model) and once with
#   "model": "auto" (classified and routed by a policy), each against its concrete-model self.
# Then, against the slow streaming emulator (`switchyard emulator`):
#   added time to the first streamed byte, in µs. Per try and per path (direct to the emulator,
#   gateway, nginx), ONE curl process sends FIRSTBYTE_REQUESTS short streamed requests (profile
#   ttft FIRSTBYTE_TTFT_MS, unlimited tokens/s, max_tokens FIRSTBYTE_TOKENS) one after another on
#   one keep-alive connection, with `--trace-ascii --trace-time` (µs timestamps). Each request's
#   time runs from curl's "Send header" to the arrival of the first body byte: the first "Recv"
#   event of the run of Recv events (closer than a quarter of the ttft to each other: one read)
#   that holds the first "Recv data". The emulator and nginx send the response head at once and
#   the first chunk after the ttft; the gateway sends its head with the first chunk: this rule
#   keeps curl's header parsing (~6 µs a header line when traced) out of every path's figure.
#   No process start is timed; curl's overhead is the same on every path. Median per try, the
#   direct median subtracted ("added"), then the median over FIRSTBYTE_TRIES tries (paths
#   interleaved).
#   The no-buffering check on a longer stream (ttft TTFT_MS, TOKENS_PER_S): the first SSE line
#   must come near the ttft, long before the stream ends.
#   256 slow streams: STREAMS concurrent streamed requests (one curl --parallel, all started at
#   once) through the gateway, then through nginx, on a profile with ttft 500 ms and 50 tokens/s
#   (a chunk of 1-3 tokens every 20-60 ms), each lasting ~STREAMS_SECS, so all STREAMS are in flight
#   together for that long. The proxy's VmRSS and open fds are sampled every 0.5 s (and for 1 s
#   after the last stream ends); its VmHWM is reset before the phase (/proc/PID/clear_refs), so
#   the reported VmHWM is the phase's own peak, between samples included.
#   Every stream must answer 2xx and end with "data: [DONE]". (The emulator's prose answers stop
#   at 20-60 tokens whatever max_tokens says, so these requests ask for a JSON-schema answer with
#   a long string: max_tokens then sets the length.)
#   Soak (--soak): the gateway only, wrk -c8 non-streaming flat out plus SOAK_STREAMS background
#   slow streams (wrk, stream.lua, ~5 s each) for SECS seconds; VmRSS sampled every 10 s (every
#   SECS/30 s, at least 1 s, when SECS < 300). Warm-up W = min(30 s, SECS/4); window L =
#   min(60 s, (SECS - W)/3). "Flat" when the mean of the samples in the last L seconds is at most
#   the mean of the samples in the first L seconds after the warm-up plus max(10 %, 4 MiB).
#   Also the ledger DB+WAL size at the start and the end, and requests and errors.
# Prints a Markdown table and writes it to bench/results/latest.md (git-ignored).
#
# Loopback only. Every process it starts is stopped on exit; every wrk and curl is time-bounded.
# Default run ~4.5 min, --quick ~85 s; --soak adds its SECS (and a few seconds).
# Needs: nginx (Debian nginx-light or nginx), wrk, curl >= 7.75 (--parallel, %{exitcode}),
# taskset (util-linux), awk, bash >= 5. Node.js is used, when present, only to pick free ports.
#
# Environment (all optional):
#   SWITCHYARD_BIN   gateway binary (default: <repo>/build/switchyard; build it Release)
#   ROUNDS LAT_SECS TPUT_SECS TPUT_CONNS WARM_SECS STREAM_TRIES   run shape: default 3 4 6 32 2 3,
#                                                                 quick 1 3 4 32 1 1
#   MID_CONNS (4; 0: off)  the throughput phase again at moderate load (info rows)
#   LOADGEN_CPU (0) PROXY_CPU (1) UPSTREAM_CPU (0)                core pinning
#   TTFT_MS (100) TOKENS_PER_S (20) STREAM_TOKENS (30)              no-buffering stream profile
#   FIRSTBYTE_TRIES (5; quick 3) FIRSTBYTE_REQUESTS (200; quick 100) per path per try
#   FIRSTBYTE_TTFT_MS (2) FIRSTBYTE_TOKENS (3)                    first-byte stream profile
#   ADD99_FLOOR_US (50)  nginx's added p99 is taken as at least this in the p99 target
#   STREAMS (256, at most 300) STREAMS_SECS (15; quick 8) RSS_TARGET_MIB (64)  slow streams
#   SOAK_SECS (0: off) SOAK_CONNS (8) SOAK_STREAMS (32)           soak
#   KEEP_TMP=1       keep the temp dir (configs, logs, wrk outputs) for inspection
#   KEYS (1)         1: the gateway requires client keys (one with a budget and rate limits);
#                    0: keyless, as before issue 19
#
# Targets (issue 20; --strict exits 1 on any FAIL): CPU per request <= 1.8x nginx's; throughput
# >= 0.55x nginx's; added p50 (1 connection) <= 1.5x nginx's added p50; added p99 <= 5x
# max(nginx's added p99, ADD99_FLOOR_US); added time to first streamed byte <= nginx's + 100 µs;
# "auto" within 10 % of the concrete model (added p50 and CPU per request ratios <= 1.10); no
# buffering; no errors; with 256 slow streams, peak RSS (sampled and VmHWM) <= 64 MiB and every
# stream complete; soak RSS flat and no errors.
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

QUICK=0
STRICT=0
OUT="$ROOT/bench/results/latest.md"
while (($#)); do
  case $1 in
    --quick) QUICK=1 ;;
    --strict) STRICT=1 ;;  # exit 1 when a target is missed
    --out) OUT=$2; shift ;;
    --soak)  # --soak [SECS]: 600 s when no number follows
      if [[ ${2:-} =~ ^[0-9]+$ ]]; then SOAK_SECS=$2; shift; else SOAK_SECS=600; fi ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

if ((QUICK)); then
  : "${ROUNDS:=1}" "${LAT_SECS:=3}" "${TPUT_SECS:=4}" "${WARM_SECS:=1}" "${STREAM_TRIES:=1}"
  : "${FIRSTBYTE_TRIES:=3}" "${FIRSTBYTE_REQUESTS:=100}" "${STREAMS_SECS:=8}"
else
  # LAT_SECS 4 and TPUT_SECS 6 (5 and 8 before issue 20) keep the default run near 3.5 min with
  # the first-byte and slow-stream phases added.
  : "${ROUNDS:=3}" "${LAT_SECS:=4}" "${TPUT_SECS:=6}" "${WARM_SECS:=2}" "${STREAM_TRIES:=3}"
  : "${FIRSTBYTE_TRIES:=5}" "${FIRSTBYTE_REQUESTS:=200}" "${STREAMS_SECS:=15}"
fi
: "${TPUT_CONNS:=32}" "${MID_CONNS:=4}" "${CLOSE_CONNS:=8}" "${LOADGEN_CPU:=0}" "${PROXY_CPU:=1}" "${UPSTREAM_CPU:=0}"
: "${TTFT_MS:=100}" "${TOKENS_PER_S:=20}" "${STREAM_TOKENS:=30}"
: "${FIRSTBYTE_TTFT_MS:=2}" "${FIRSTBYTE_TOKENS:=3}" "${ADD99_FLOOR_US:=50}"
: "${STREAMS:=256}" "${RSS_TARGET_MIB:=64}"
: "${SOAK_SECS:=0}" "${SOAK_CONNS:=8}" "${SOAK_STREAMS:=32}"
# The slow streams' profile (issue 20: 256 streams at ttft 500 ms, 50 tokens/s).
SLOW_TTFT_MS=500 SLOW_TOKENS_PER_S=50
SWITCHYARD_BIN=${SWITCHYARD_BIN:-$ROOT/build/switchyard}
# KEYS=1 (default): the gateway requires client keys and the benchmark's key has a budget and rate
# limits, so every request is authenticated, admitted, reserved against and settled, as in
# production. KEYS=0 runs keyless, as the benchmark did before issue 19.
: "${KEYS:=1}"
STREAM_PROFILE=bench-stream
FIRSTBYTE_PROFILE=bench-ttft
SLOW_PROFILE=bench-slow

# shellcheck source=bench/load/lib.sh
source "$HERE/lib.sh"

# ---- preflight -----------------------------------------------------------------------------
((BASH_VERSINFO[0] >= 5)) || die "bash 5 needed (EPOCHREALTIME)"
for tool in nginx wrk curl taskset awk sed timeout; do
  command -v "$tool" >/dev/null || die "$tool not found (Debian: apt-get install nginx-light wrk curl util-linux)"
done
for knob in ROUNDS LAT_SECS TPUT_SECS TPUT_CONNS MID_CONNS WARM_SECS STREAM_TRIES FIRSTBYTE_TRIES \
  FIRSTBYTE_REQUESTS FIRSTBYTE_TTFT_MS FIRSTBYTE_TOKENS ADD99_FLOOR_US STREAMS STREAMS_SECS \
  RSS_TARGET_MIB SOAK_SECS SOAK_CONNS SOAK_STREAMS; do
  [[ ${!knob} =~ ^[0-9]+$ ]] || die "$knob must be a whole number (is '${!knob}')"
done
((STREAMS >= 1 && STREAMS <= 300)) || die "STREAMS must be 1..300 (curl --parallel-max allows 300)"
((STREAMS_SECS >= 2)) || die "STREAMS_SECS must be at least 2"
((SOAK_SECS == 0 || SOAK_SECS >= 20)) || die "a soak needs at least 20 s (SOAK_SECS=$SOAK_SECS)"
((FIRSTBYTE_TRIES >= 1 && FIRSTBYTE_REQUESTS >= 1)) || die "FIRSTBYTE_TRIES and FIRSTBYTE_REQUESTS must be >= 1"
CURL_VERSION=$(curl -V | awk 'NR == 1 { print $2 }')
[[ $(printf '%s\n' 7.75.0 "$CURL_VERSION" | sort -V | head -n 1) == 7.75.0 ]] ||
  die "curl $CURL_VERSION is too old: 7.75 or newer needed (--parallel, %{exitcode})"
[[ -x $SWITCHYARD_BIN ]] || die "no gateway binary at $SWITCHYARD_BIN (build: cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release && cmake --build build; or set SWITCHYARD_BIN)"
NCPU=$(nproc)
PIN=1
if ((NCPU < 2)); then log "only $NCPU core: running without core pinning"; PIN=0; fi
CLK_TCK=$(getconf CLK_TCK)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v l="${LOAD_START%% *}" 'BEGIN { exit !(l > 1.0) }'; then
  log "WARNING: load average is $LOAD_START before the run; figures will be noisy"
fi

# ---- 1. fast upstream ------------------------------------------------------------------------
log "work dir $WORK; $NCPU cores; load average $LOAD_START"
start_nginx upstream nginx-upstream.conf "$UPSTREAM_CPU"
UP_PORT=$NGINX_PORT
log "upstream nginx on 127.0.0.1:$UP_PORT (core $UPSTREAM_CPU)"

# ---- slow streaming emulator -----------------------------------------------------------------
start_emulator "$UPSTREAM_CPU"
put_profile "$STREAM_PROFILE" "$TTFT_MS" "$TOKENS_PER_S"
put_profile "$FIRSTBYTE_PROFILE" "$FIRSTBYTE_TTFT_MS" 0
put_profile "$SLOW_PROFILE" "$SLOW_TTFT_MS" "$SLOW_TOKENS_PER_S"
log "emulator on $EMU_ADDR, profiles $STREAM_PROFILE (ttft ${TTFT_MS} ms, ${TOKENS_PER_S} tokens/s)," \
  "$FIRSTBYTE_PROFILE (ttft ${FIRSTBYTE_TTFT_MS} ms, unlimited), $SLOW_PROFILE (ttft ${SLOW_TTFT_MS} ms, ${SLOW_TOKENS_PER_S} tokens/s)"

# ---- 2. the gateway ---------------------------------------------------------------------------
AUTH_MODE=keys
((KEYS)) || AUTH_MODE=off
start_gateway "$PROXY_CPU" "$AUTH_MODE" "$STREAM_PROFILE" "$FIRSTBYTE_PROFILE" "$SLOW_PROFILE"
log "switchyard on $GW_ADDR (core $PROXY_CPU, server.threads 1)"
# The client key every request to the gateway carries (post.lua reads SY_BENCH_KEY), with a
# budget and rate limits (lib.sh's bench_key).
GW_KEY=$SY_BENCH_EMULATOR_KEY
if ((KEYS)); then
  GW_KEY=$(bench_key)
  log "client key created (tenant bench, budget and rate limits on)"
fi
export SY_BENCH_KEY=$GW_KEY

# ---- 3. nginx as the baseline proxy ----------------------------------------------------------
start_nginx proxy nginx-proxy.conf "$PROXY_CPU" -e "s|@UPSTREAM_PORT@|$UP_PORT|g" \
  -e "s|@EMULATOR_ADDR@|$EMU_ADDR|g"
NG_MASTER=$NGINX_PID NG_PORT=$NGINX_PORT
NG_PID=$(nginx_worker "$NG_MASTER")
log "nginx proxy on 127.0.0.1:$NG_PORT (core $PROXY_CPU, worker pid $NG_PID)"

declare -A URL=(
  [direct]="http://127.0.0.1:$UP_PORT/v1/chat/completions"
  [gw]="http://$GW_ADDR/v1/chat/completions"
  [ng]="http://127.0.0.1:$NG_PORT/v1/chat/completions"
)
URL[gwx]=${URL[gw]}
URL[gwa]=${URL[gw]}
declare -A PID_OF=([gw]=$GW_PID [ng]=$NG_PID [gwx]=$GW_PID [gwa]=$GW_PID)
declare -A NAME=([direct]="upstream (direct)" [gw]=switchyard [ng]=nginx
  [gwx]="switchyard translated" [gwa]="switchyard auto")
# gwx: the same gateway, an OpenAI client and a model behind an Anthropic-kind provider, so every
# request and answer is translated. nginx cannot translate: it is compared with gw, not ng.
# gwa: the same gateway routing "model": "auto" through the policy in gateway.yaml (classify,
# match rules, decide), which lands on bench-fast: the routing path's cost over a concrete model.
declare -A MODEL_OF=([direct]=bench-fast [gw]=bench-fast [ng]=bench-fast [gwx]=bench-claude
  [gwa]=auto)

# Smoke test: every target must answer 200 with a chat.completion before anything is timed.
for t in direct gw ng gwx gwa; do
  body='{"model":"'${MODEL_OF[$t]}'","messages":[{"role":"user","content":"Say hello in five words."}],"max_tokens":16}'
  code=$(curl -s -o "$WORK/smoke-$t.out" -w '%{http_code}' --max-time 5 \
    -H "authorization: Bearer $GW_KEY" \
    -H 'content-type: application/json' -d "$body" "${URL[$t]}") || code=000
  if [[ $code != 200 ]] || ! grep -q '"chat.completion"' "$WORK/smoke-$t.out"; then
    head -c 2000 "$WORK/smoke-$t.out" >&2; echo >&2
    [[ $t == gw* ]] && tail -n 50 "$WORK/gateway/out.log" >&2
    die "${NAME[$t]} smoke request answered HTTP $code"
  fi
done
log "smoke requests OK"

# ---- 4. wrk rounds ---------------------------------------------------------------------------
declare -A R        # results: R[<metric>,<target>,<round>]
declare -A ERRORS=([direct]=0 [gw]=0 [ng]=0 [gwx]=0 [gwa]=0)

# run_wrk TARGET CONNS SECS: sets W_requests W_duration_us W_p50_us W_p99_us ... (lib.sh's read_wrk).
LOADGEN_PIN=()
((PIN)) && LOADGEN_PIN=(taskset -c "$LOADGEN_CPU")

# WRK_CLOSE=1: every request asks for its connection to be closed after it (post.lua).
WRK_CLOSE=0
run_wrk() {
  local t=$1 conns=$2 secs=$3 out
  out=$WORK/wrk-$t-c$conns-$RANDOM.out
  SY_BENCH_MODEL=${MODEL_OF[$t]} SY_BENCH_CLOSE=$WRK_CLOSE timeout $((secs + 30)) \
    "${LOADGEN_PIN[@]}" wrk -t1 -c"$conns" -d"${secs}s" --timeout 5s --latency \
    -s "$HERE/post.lua" "${URL[$t]}" >"$out" 2>&1 || true
  read_wrk "$out" "${NAME[$t]}"
  local errs
  errs=$(wrk_errors)
  ERRORS[$t]=$((ERRORS[$t] + errs))
  ((errs == 0)) || log "  ${NAME[$t]}: $errs errors/non-2xx in this run (see $out)"
}

log "warm-up ${WARM_SECS}s per target"
for t in direct gw ng gwx gwa; do run_wrk "$t" "$TPUT_CONNS" "$WARM_SECS"; done

log "latency: $ROUNDS round(s) x ${LAT_SECS}s per target, 1 connection"
# `auto` and its concrete-model self run next to each other, each first in every other round:
# a run's cost moved by 10-30% with its place in the round (after the translated run it cost
# more), which compared them across positions rather than paths.
for ((r = 1; r <= ROUNDS; r++)); do
  if ((r % 2)); then order=(direct gw gwa ng gwx); else order=(direct gwx ng gwa gw); fi
  for t in "${order[@]}"; do
    run_wrk "$t" 1 "$LAT_SECS"
    R[p50,$t,$r]=$W_p50_us R[p99,$t,$r]=$W_p99_us
    log "  round $r ${NAME[$t]}: p50 ${W_p50_us} us, p99 ${W_p99_us} us ($W_requests requests)"
  done
  for t in gw ng gwx gwa; do
    R[add50,$t,$r]=$((R[p50,$t,$r] - R[p50,direct,$r]))
    R[add99,$t,$r]=$((R[p99,$t,$r] - R[p99,direct,$r]))
  done
done

# tput_run TARGET CONNS: one throughput run of TPUT_SECS seconds; sets TP_RPS (req/s) and TP_CPU
# (µs of the proxy process's CPU per completed request).
tput_run() {
  local t=$1 conns=$2 pid=${PID_OF[$1]} c0 c1
  c0=$(cpu_ticks "$pid")
  run_wrk "$t" "$conns" "$TPUT_SECS"
  c1=$(cpu_ticks "$pid")
  TP_RPS=$(calc "$W_requests / ($W_duration_us / 1e6)" 0)
  TP_CPU=$(calc "($c1 - $c0) * 1e6 / $CLK_TCK / ($W_requests > 0 ? $W_requests : 1)" 2)
}

log "throughput: $ROUNDS round(s) x ${TPUT_SECS}s per proxy, $TPUT_CONNS connections"
for ((r = 1; r <= ROUNDS; r++)); do
  if ((r % 2)); then order=(gw gwa ng gwx); else order=(gwx ng gwa gw); fi  # paired, as above
  for t in "${order[@]}"; do
    tput_run "$t" "$TPUT_CONNS"
    R[rps,$t,$r]=$TP_RPS R[cpu,$t,$r]=$TP_CPU R[tp99,$t,$r]=$W_p99_us
    log "  round $r ${NAME[$t]}: ${R[rps,$t,$r]} req/s, ${R[cpu,$t,$r]} us CPU/request, p99 ${W_p99_us} us"
  done
done
run_wrk direct "$TPUT_CONNS" "$TPUT_SECS"
DIRECT_RPS=$(calc "$W_requests / ($W_duration_us / 1e6)" 0)
log "  upstream direct (reference): $DIRECT_RPS req/s"

# paired_rounds KEY CONNS: ROUNDS throughput runs of the gateway and nginx at CONNS connections,
# each first in every other round; sets R[<KEY>rps,...] and R[<KEY>cpu,...].
paired_rounds() {
  local key=$1 conns=$2 r t order
  for ((r = 1; r <= ROUNDS; r++)); do
    if ((r % 2)); then order=(gw ng); else order=(ng gw); fi
    for t in "${order[@]}"; do
      tput_run "$t" "$conns"
      R[${key}rps,$t,$r]=$TP_RPS R[${key}cpu,$t,$r]=$TP_CPU
      log "  round $r ${NAME[$t]}: $TP_RPS req/s, $TP_CPU us CPU/request"
    done
  done
}

# Moderate load: a change can pay at 32 connections, where every round of the event loop has
# many requests ready, and cost at a few, where it has one (issue 20: batching the writes of a
# round saved 7% of CPU at 32 and cost 20% at 4). Information, not a target.
if ((MID_CONNS > 0)); then
  log "moderate load: $ROUNDS round(s) x ${TPUT_SECS}s per proxy, $MID_CONNS connections"
  paired_rounds m "$MID_CONNS"
fi

# One request per connection. Information, not a target: a cost paid once per connection (issue
# 20's eleventh pass found a 64 KiB buffer allocated and zeroed at every close) is invisible above.
if ((CLOSE_CONNS > 0)); then
  log "one request per connection: $ROUNDS round(s) x ${TPUT_SECS}s per proxy, $CLOSE_CONNS connections"
  WRK_CLOSE=1
  paired_rounds c "$CLOSE_CONNS"
  WRK_CLOSE=0
fi

# ---- 4e. streaming without buffering ----------------------------------------------------------
# stream_probe URL MODEL KEY: prints "<first line ms> <total ms> <data lines>", timed from the
# request.
stream_probe() {
  local url=$1 model=$2 key=$3 t0 body
  body="{\"model\":\"$model\",\"stream\":true,\"max_tokens\":$STREAM_TOKENS,\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a long story about a river.\"}]}"
  t0=$EPOCHREALTIME
  curl -sS -N --max-time 20 -H 'content-type: application/json' \
    -H "authorization: Bearer $key" -d "$body" "$url" 2>>"$WORK/stream-curl.err" |
    {
      local first="" n=0 line
      while IFS= read -r line; do
        [[ -z $first && -n ${line//$'\r'/} ]] && first=$EPOCHREALTIME
        [[ $line == data:* ]] && n=$((n + 1))
      done
      local end=$EPOCHREALTIME
      [[ -n $first ]] || first=$end
      awk -v a="$t0" -v f="$first" -v e="$end" -v n="$n" \
        'BEGIN { printf "%.1f %.1f %d\n", (f - a) * 1000, (e - a) * 1000, n }'
    }
}

log "streaming: $STREAM_TRIES request(s) per path, profile ttft ${TTFT_MS} ms, $STREAM_TOKENS tokens"
declare -A SURL=(
  [direct]="http://$EMU_ADDR/v1/chat/completions"
  [gw]="http://$GW_ADDR/v1/chat/completions"
  [ng]="http://127.0.0.1:$NG_PORT/stream/v1/chat/completions"
)
declare -A SMODEL=([direct]=$STREAM_PROFILE [gw]=bench-stream [ng]=$STREAM_PROFILE)
declare -A SKEY=([direct]=$SY_BENCH_EMULATOR_KEY [gw]=$GW_KEY [ng]=$SY_BENCH_EMULATOR_KEY)
for ((r = 1; r <= STREAM_TRIES; r++)); do
  for t in direct gw ng; do
    read -r f tot n < <(stream_probe "${SURL[$t]}" "${SMODEL[$t]}" "${SKEY[$t]}")
    R[sfirst,$t,$r]=$f R[stotal,$t,$r]=$tot R[slines,$t,$r]=$n
    log "  ${NAME[$t]}: first line ${f} ms, end ${tot} ms, $n data lines"
  done
done

# ---- 4f. added time to the first streamed byte, in µs -------------------------------------------
# first_byte_try TARGET: one curl, FIRSTBYTE_REQUESTS short streamed requests in a row on one
# keep-alive connection, traced with timestamps; sets FB_MEDIAN (µs, "Send header" to the first
# "Recv data" of each request, the median of the try) and FB_OK (requests that answered 2xx, ended
# cleanly and streamed to "data: [DONE]").
# Recv events closer than this belong to one read (a quarter of the ttft: the response head that
# the emulator and nginx send at once arrives well apart from the first chunk).
FIRSTBYTE_GAP_US=$((FIRSTBYTE_TTFT_MS * 250))
FIRSTBYTE_BODY="{\"model\":\"$FIRSTBYTE_PROFILE\",\"stream\":true,\"max_tokens\":$FIRSTBYTE_TOKENS,\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a long story about a river.\"}]}"
first_byte_try() {
  local t=$1 base i urls=()
  base=$WORK/firstbyte-$t-$RANDOM
  for ((i = 0; i < FIRSTBYTE_REQUESTS; i++)); do urls+=("${SURL[$t]}"); done
  TZ=UTC timeout $((FIRSTBYTE_REQUESTS / 5 + 30)) "${LOADGEN_PIN[@]}" curl -sS -N --no-progress-meter \
    --max-time 10 --trace-ascii "$base.trace" --trace-time \
    -w '%{stderr}SYW %{http_code} %{exitcode}\n' -H 'content-type: application/json' \
    -H "authorization: Bearer ${SKEY[$t]}" -d "$FIRSTBYTE_BODY" "${urls[@]}" \
    >"$base.body" 2>"$base.err" || true
  local good done_count
  good=$(awk '$1 == "SYW" && $2 ~ /^2/ && $3 == 0 { n++ } END { print n + 0 }' "$base.err")
  done_count=$(grep -cF 'data: [DONE]' "$base.body" || true)
  FB_OK=$((good < done_count ? good : done_count))
  # A "burst" is a run of Recv events less than FIRSTBYTE_GAP_US apart: what curl made of one read.
  # The first byte arrived at the start of the burst that holds the first body byte.
  FB_MEDIAN=$(awk -v gap="$FIRSTBYTE_GAP_US" '
    function secs(ts, a) { split(ts, a, ":"); return a[1] * 3600 + a[2] * 60 + a[3] }
    $2 == "=>" && $3 == "Send" && $4 == "header," { t0 = secs($1); armed = 1; burst = ""; next }
    armed && $2 == "<=" && $3 == "Recv" {
      t = secs($1)
      if (burst == "" || (t - last) * 1e6 >= gap) burst = t
      last = t
      if ($4 == "data,") {
        d = burst - t0; if (d < 0) d += 86400; printf "%.0f\n", d * 1e6; armed = 0
      }
    }' "$base.trace" | sort -g | awk '{ a[NR] = $1 } END {
      if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
  [[ ${KEEP_TMP:-0} == 1 ]] || rm -f "$base.trace" "$base.body"
}

log "first streamed byte: $FIRSTBYTE_TRIES tries x $FIRSTBYTE_REQUESTS requests per path, profile ttft ${FIRSTBYTE_TTFT_MS} ms, max_tokens $FIRSTBYTE_TOKENS"
declare -A FB_FAILED=([direct]=0 [gw]=0 [ng]=0)
for ((r = 1; r <= FIRSTBYTE_TRIES; r++)); do
  if ((r % 2)); then order=(direct gw ng); else order=(direct ng gw); fi
  for t in "${order[@]}"; do
    first_byte_try "$t"
    R[fb,$t,$r]=$FB_MEDIAN
    FB_FAILED[$t]=$((FB_FAILED[$t] + FIRSTBYTE_REQUESTS - FB_OK))
    ((FB_OK == FIRSTBYTE_REQUESTS)) ||
      log "  ${NAME[$t]}: only $FB_OK of $FIRSTBYTE_REQUESTS first-byte requests completed"
  done
  for t in gw ng; do R[fbadd,$t,$r]=$(calc "${R[fb,$t,$r]} - ${R[fb,direct,$r]}" 0); done
  log "  try $r: first byte direct ${R[fb,direct,$r]} us; switchyard ${R[fb,gw,$r]} us (+${R[fbadd,gw,$r]}); nginx ${R[fb,ng,$r]} us (+${R[fbadd,ng,$r]})"
done

# The whole-run peak RSS of each proxy, read before the slow-streams phase resets VmHWM.
declare -A M
for t in gw ng gwx gwa; do M[rss,$t]=$(calc "$(vm_hwm_kib "${PID_OF[$t]}") / 1024" 1); done

# ---- 4g. 256 slow streams ------------------------------------------------------------------------
# long_stream_body MODEL TOKENS: a streamed request for a JSON-schema answer with a long string, so
# that the emulator generates TOKENS tokens (its prose answers stop at 20-60 tokens).
long_stream_body() {
  printf '{"model":"%s","stream":true,"max_tokens":%d,%s,"messages":[{"role":"user","content":"Tell me a long story about a river."}]}' \
    "$1" "$2" "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"story\",\"schema\":{\"type\":\"object\",\"properties\":{\"story\":{\"type\":\"string\",\"minLength\":$(($2 * 4 + 64))}},\"required\":[\"story\"]}}}"
}
vm_rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
fd_count() { local fds=("/proc/$1/fd"/*); echo "${#fds[@]}"; }
# forget_pid PID: a transient process that has been waited for leaves the cleanup list.
forget_pid() {
  local i
  for i in "${!PIDS[@]}"; do [[ ${PIDS[i]} == "$1" ]] && unset 'PIDS[i]'; done
  PIDS=("${PIDS[@]}")
}
kib_to_mib() { calc "$1 / 1024" 1; }

# Tokens for a stream of ~STREAMS_SECS at the slow profile (the ttft first, then the tokens).
STREAMS_TOKENS=$(calc "($STREAMS_SECS - $SLOW_TTFT_MS / 1000) * $SLOW_TOKENS_PER_S" 0)
declare -A S  # S[<metric>,<target>]
# streams_phase TARGET: STREAMS concurrent slow streams through the proxy TARGET (gw or ng).
streams_phase() {
  local t=$1 pid=${PID_OF[$1]} dir=$WORK/streams-$1 i urls=() cpid rc=0 body
  mkdir -p "$dir"
  body=$(long_stream_body "${SMODEL_SLOW[$t]}" "$STREAMS_TOKENS")
  for ((i = 1; i <= STREAMS; i++)); do urls+=(-o "$dir/$i.sse" "${SURL[$t]}"); done
  S[reset,$t]=0
  if echo 5 >"/proc/$pid/clear_refs" 2>/dev/null; then S[reset,$t]=1; fi
  local c0 rss fds maxrss=0 maxfds=0 n=0 series=""
  c0=$(cpu_ticks "$pid")
  timeout $((STREAMS_SECS + 45)) "${LOADGEN_PIN[@]}" curl -sS -N --no-progress-meter \
    --parallel --parallel-immediate --parallel-max "$STREAMS" --max-time $((STREAMS_SECS + 30)) \
    -w '%{http_code} %{exitcode} %{time_total} %{filename_effective}\n' \
    -H 'content-type: application/json' -H "authorization: Bearer ${SKEY[$t]}" -d "$body" \
    "${urls[@]}" >"$dir/curl.out" 2>"$dir/curl.err" &
  cpid=$!
  PIDS+=("$cpid")
  local tail=0  # two more samples after the last stream ends: the streams' settling counts too
  while ((tail < 2)); do
    kill -0 "$cpid" 2>/dev/null || tail=$((tail + 1))
    rss=$(vm_rss_kib "$pid") fds=$(fd_count "$pid")
    ((rss > maxrss)) && maxrss=$rss
    ((fds > maxfds)) && maxfds=$fds
    series+="$(kib_to_mib "$rss") "
    n=$((n + 1))
    sleep 0.5
  done
  S[rssend,$t]=$(kib_to_mib "$rss")
  wait "$cpid" || rc=$?
  forget_pid "$cpid"
  ((rc == 0)) || log "  ${NAME[$t]}: curl exited $rc (see $dir/curl.err)"
  S[cpu,$t]=$(calc "($(cpu_ticks "$pid") - $c0) / $CLK_TCK" 2)
  S[rss,$t]=$(kib_to_mib "$maxrss") S[hwm,$t]=$(kib_to_mib "$(vm_hwm_kib "$pid")")
  S[fds,$t]=$maxfds S[samples,$t]=$n S[series,$t]=${series% }
  local code ec tt file ok=0 times=()
  while read -r code ec tt file; do
    [[ -n ${file:-} ]] || continue
    times+=("$tt")
    if [[ $code == 2* && $ec == 0 ]] && grep -qF 'data: [DONE]' "$file"; then ok=$((ok + 1)); fi
  done <"$dir/curl.out"
  S[ok,$t]=$ok S[errors,$t]=$((STREAMS - ok))
  S[dur50,$t]=nan S[durmax,$t]=nan
  if ((${#times[@]})); then
    S[dur50,$t]=$(calc "$(median "${times[@]}")" 2)
    S[durmax,$t]=$(calc "$(printf '%s\n' "${times[@]}" | sort -g | tail -n 1)" 2)
  fi
  rm -f "$dir"/*.sse
  log "  ${NAME[$t]}: $ok/$STREAMS streams complete; max VmRSS ${S[rss,$t]} MiB, VmHWM ${S[hwm,$t]} MiB, max fds $maxfds; stream p50 ${S[dur50,$t]} s, max ${S[durmax,$t]} s"
}

declare -A SMODEL_SLOW=([gw]=bench-slow [ng]=$SLOW_PROFILE)
log "slow streams: $STREAMS concurrent, ~${STREAMS_SECS}s each ($STREAMS_TOKENS tokens at ${SLOW_TOKENS_PER_S}/s after ${SLOW_TTFT_MS} ms), gateway then nginx"
for t in gw ng; do
  streams_phase "$t"
  kill -0 "$EMU_PID" 2>/dev/null || die "the emulator died during the slow streams through ${NAME[$t]}"
done
curl -s -o /dev/null --max-time 5 "http://$EMU_ADDR/" || die "the emulator does not answer after the slow streams"

# ---- 4h. soak (--soak / SOAK_SECS) ---------------------------------------------------------------
ledger_bytes() {
  local f total=0
  for f in "$WORK/gateway/ledger.db" "$WORK/gateway/ledger.db-wal"; do
    [[ -f $f ]] && total=$((total + $(stat -c %s "$f")))
  done
  echo "$total"
}
if ((SOAK_SECS > 0)); then
  SOAK_EVERY=10
  ((SOAK_SECS >= 300)) || SOAK_EVERY=$((SOAK_SECS / 30 > 1 ? SOAK_SECS / 30 : 1))
  SOAK_WARM=$((SOAK_SECS / 4 < 30 ? SOAK_SECS / 4 : 30))
  SOAK_WINDOW=$(((SOAK_SECS - SOAK_WARM) / 3 < 60 ? (SOAK_SECS - SOAK_WARM) / 3 : 60))
  # Background streams of ~5 s each at the slow profile.
  SOAK_STREAM_TOKENS=$(calc "(5 - $SLOW_TTFT_MS / 1000) * $SLOW_TOKENS_PER_S" 0)
  log "soak: ${SOAK_SECS}s on the gateway: wrk -c$SOAK_CONNS non-streaming + $SOAK_STREAMS slow streams; VmRSS every ${SOAK_EVERY}s"
  SOAK_LEDGER0=$(ledger_bytes)
  SOAK_C0=$(cpu_ticks "$GW_PID")
  SY_BENCH_MODEL=bench-fast timeout $((SOAK_SECS + 60)) "${LOADGEN_PIN[@]}" \
    wrk -t1 -c"$SOAK_CONNS" -d"${SOAK_SECS}s" --timeout 5s --latency -s "$HERE/post.lua" \
    "${URL[gw]}" >"$WORK/soak-fast.out" 2>&1 &
  SOAK_FAST_PID=$!
  PIDS+=("$SOAK_FAST_PID")
  SY_BENCH_BODY=$(long_stream_body bench-slow "$SOAK_STREAM_TOKENS") timeout $((SOAK_SECS + 60)) \
    "${LOADGEN_PIN[@]}" wrk -t1 -c"$SOAK_STREAMS" -d"${SOAK_SECS}s" --timeout 30s --latency \
    -s "$HERE/stream.lua" "${URL[gw]}" >"$WORK/soak-streams.out" 2>&1 &
  SOAK_STREAMS_PID=$!
  PIDS+=("$SOAK_STREAMS_PID")
  SOAK_T=() SOAK_RSS=()  # elapsed s, VmRSS KiB
  soak_start=$EPOCHREALTIME
  for ((k = 0; ; k++)); do
    # Sleep to the k-th tick (no drift), stopping when both loads are done.
    wait_s=$(awk -v s="$soak_start" -v now="$EPOCHREALTIME" -v k="$k" -v e="$SOAK_EVERY" \
      'BEGIN { w = s + k * e - now; printf "%.3f", (w > 0 ? w : 0) }')
    sleep "$wait_s"
    kill -0 "$SOAK_FAST_PID" 2>/dev/null || kill -0 "$SOAK_STREAMS_PID" 2>/dev/null || break
    SOAK_T+=($((k * SOAK_EVERY))) SOAK_RSS+=("$(vm_rss_kib "$GW_PID")")
    ((k % (60 / SOAK_EVERY > 0 ? 60 / SOAK_EVERY : 1))) ||
      log "  soak ${SOAK_T[-1]}s: VmRSS $(kib_to_mib "${SOAK_RSS[-1]}") MiB"
  done
  for p in "$SOAK_FAST_PID" "$SOAK_STREAMS_PID"; do wait "$p" || true; forget_pid "$p"; done
  SOAK_CPU=$(calc "($(cpu_ticks "$GW_PID") - $SOAK_C0) / $CLK_TCK" 1)
  SOAK_LEDGER1=$(ledger_bytes)
  read_wrk "$WORK/soak-fast.out" "switchyard (soak)"
  SOAK_REQS=$W_requests SOAK_RPS=$(calc "$W_requests / ($W_duration_us / 1e6)" 0)
  SOAK_ERRS=$(wrk_errors)
  read_wrk "$WORK/soak-streams.out" "switchyard (soak streams)"
  SOAK_SREQS=$W_requests SOAK_SP50=$(calc "$W_p50_us / 1e6" 2)
  SOAK_ERRS=$((SOAK_ERRS + $(wrk_errors)))
  # The samples' summary: first after the warm-up, last, max, the early and late window means.
  read -r SOAK_FIRST SOAK_LAST SOAK_MAX SOAK_EARLY SOAK_LATE SOAK_NEARLY SOAK_NLATE < <(
    paste -d' ' <(printf '%s\n' "${SOAK_T[@]}") <(printf '%s\n' "${SOAK_RSS[@]}") |
      awk -v w="$SOAK_WARM" -v l="$SOAK_WINDOW" '
        { t[NR] = $1; v[NR] = $2 / 1024; if ($1 >= w && v[NR] > max) max = v[NR]; end = $1 }
        END {
          for (i = 1; i <= NR; i++) {
            if (first == "" && t[i] >= w) first = v[i]
            if (t[i] >= w && t[i] < w + l) { es += v[i]; en++ }
            if (t[i] > end - l) { ls += v[i]; ln++ }
          }
          printf "%.1f %.1f %.1f %s %s %d %d\n", first, v[NR], max,
            en ? sprintf("%.2f", es / en) : "nan", ln ? sprintf("%.2f", ls / ln) : "nan", en, ln
        }')
  SOAK_SERIES=$(for v in "${SOAK_RSS[@]}"; do kib_to_mib "$v"; printf ' '; done)
  log "  soak done: $SOAK_REQS requests + $SOAK_SREQS streams, $SOAK_ERRS errors; VmRSS after the warm-up: first $SOAK_FIRST, last $SOAK_LAST, max $SOAK_MAX MiB"
fi

# ---- 5. report --------------------------------------------------------------------------------
med() {  # med METRIC TARGET COUNT
  local vals=() i
  for ((i = 1; i <= $3; i++)); do vals+=("${R[$1,$2,$i]}"); done
  median "${vals[@]}"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }'; }
verdict() { if awk "BEGIN { exit !($1) }"; then echo PASS; else echo FAIL; fi; }

for t in direct gw ng; do
  M[p50,$t]=$(med p50 "$t" "$ROUNDS") M[p99,$t]=$(med p99 "$t" "$ROUNDS")
  M[sfirst,$t]=$(med sfirst "$t" "$STREAM_TRIES") M[stotal,$t]=$(med stotal "$t" "$STREAM_TRIES")
  M[slines,$t]=$(med slines "$t" "$STREAM_TRIES")
  M[fb,$t]=$(med fb "$t" "$FIRSTBYTE_TRIES")
done
for t in gw ng; do M[fbadd,$t]=$(med fbadd "$t" "$FIRSTBYTE_TRIES"); done
for t in gw ng gwx gwa; do
  for m in add50 add99 rps cpu tp99; do M[$m,$t]=$(med "$m" "$t" "$ROUNDS"); done
done
M[p50,gwx]=$(med p50 gwx "$ROUNDS")
info_metrics=()
((MID_CONNS > 0)) && info_metrics+=(mrps mcpu)
((CLOSE_CONNS > 0)) && info_metrics+=(crps ccpu)
for t in gw ng; do
  for m in "${info_metrics[@]}"; do M[$m,$t]=$(med "$m" "$t" "$ROUNDS"); done
done
M[p50,gwa]=$(med p50 gwa "$ROUNDS")
# nginx's added p99 as the target's base: floored, so that a zero or negative difference from
# direct (noise at 1 connection) does not make the target impossible.
M[add99base,ng]=$(awk -v a="${M[add99,ng]}" -v f="$ADD99_FLOOR_US" 'BEGIN { print (a > f ? a : f) }')

# No buffering: the first SSE line arrives near the profile's ttft, long before the stream ends.
stream_ok() {  # stream_ok TARGET
  verdict "${M[sfirst,$1]} <= $TTFT_MS + 150 && ${M[sfirst,$1]} < 0.5 * ${M[stotal,$1]} && ${M[slines,$1]} >= 2"
}
hwm_label() { if ((S[reset,$1])); then echo "phase peak"; else echo "process lifetime: clear_refs refused"; fi; }

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
GIT_DIRTY=""
[[ -z $(git -C "$ROOT" status --porcelain 2>/dev/null) ]] || GIT_DIRTY=" (dirty tree)"
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)

# The moderate-load rows, each after a line break (nothing when MID_CONNS is 0), for the end of
# the table row before them: a blank line would end the Markdown table.
mid_rows() {
  ((MID_CONNS > 0)) || return 0
  printf '\n| throughput, 1 core, %s conns (req/s) | %s | %s | %s | | info |' "$MID_CONNS" \
    "${M[mrps,gw]}" "${M[mrps,ng]}" "$(ratio "${M[mrps,gw]}" "${M[mrps,ng]}")"
  printf '\n| CPU per request at %s conns (µs) | %s | %s | %s | | info |' "$MID_CONNS" \
    "${M[mcpu,gw]}" "${M[mcpu,ng]}" "$(ratio "${M[mcpu,gw]}" "${M[mcpu,ng]}")"
}

# The one-request-per-connection rows, as mid_rows.
close_rows() {
  ((CLOSE_CONNS > 0)) || return 0
  printf '\n| throughput, 1 request per connection, %s conns (req/s) | %s | %s | %s | | info |' \
    "$CLOSE_CONNS" "${M[crps,gw]}" "${M[crps,ng]}" "$(ratio "${M[crps,gw]}" "${M[crps,ng]}")"
  printf '\n| CPU per request, 1 request per connection (µs) | %s | %s | %s | | info |' \
    "${M[ccpu,gw]}" "${M[ccpu,ng]}" "$(ratio "${M[ccpu,gw]}" "${M[ccpu,ng]}")"
}

report() {
  local add_ok add99_ok tput_ok cpu_ok err_ok gw_stream ng_stream fb_ok auto_add_ok auto_cpu_ok
  local rss_ok hwm_ok streams_ok
  add_ok=$(verdict "${M[add50,gw]} <= 1.5 * (${M[add50,ng]} > 1 ? ${M[add50,ng]} : 1)")
  add99_ok=$(verdict "${M[add99,gw]} <= 5 * ${M[add99base,ng]}")
  tput_ok=$(verdict "${M[rps,gw]} >= 0.55 * ${M[rps,ng]}")
  cpu_ok=$(verdict "${M[cpu,gw]} <= 1.8 * ${M[cpu,ng]}")
  err_ok=$(verdict "${ERRORS[gw]} + ${ERRORS[gwx]} + ${ERRORS[gwa]} == 0")
  fb_ok=$(verdict "${M[fbadd,gw]} <= ${M[fbadd,ng]} + 100 && ${FB_FAILED[gw]} == 0")
  auto_add_ok=$(verdict "${M[add50,gwa]} <= 1.10 * ${M[add50,gw]}")
  auto_cpu_ok=$(verdict "${M[cpu,gwa]} <= 1.10 * ${M[cpu,gw]}")
  gw_stream=$(stream_ok gw)
  ng_stream=$(stream_ok ng)
  rss_ok=$(verdict "${S[rss,gw]} <= $RSS_TARGET_MIB")
  hwm_ok=$(verdict "${S[hwm,gw]} <= $RSS_TARGET_MIB")
  streams_ok=$(verdict "${S[ok,gw]} == $STREAMS")
  cat <<REPORT
# Switchyard load benchmark

$(date -u '+%Y-%m-%d %H:%M UTC'), git $GIT_REV$GIT_DIRTY, $( ((QUICK)) && echo "--quick" || echo "default") run: $ROUNDS round(s),
latency ${LAT_SECS} s per target per round (1 connection), throughput ${TPUT_SECS} s per proxy per round
($TPUT_CONNS connections), medians over rounds.
Machine: $NCPU cores ($CPU_MODEL); load average $LOAD_START at start, $LOAD_END at end.
The gateway runs with client keys $( ((KEYS)) && echo "on (a key with a budget and rate limits on every request)" || echo "off (KEYS=0)" ), metrics and the ledger on.
**wrk and the servers share this $NCPU-core machine**: wrk on core $LOADGEN_CPU, the upstream nginx and the
emulator on core $UPSTREAM_CPU, the proxy under test (switchyard \`server.threads: 1\`, or one nginx worker) on core $PROXY_CPU.

| metric | switchyard | nginx | ratio (sy/nginx) | target | result |
|---|---:|---:|---:|---|---|
| latency p50, 1 conn (µs) | ${M[p50,gw]} | ${M[p50,ng]} | $(ratio "${M[p50,gw]}" "${M[p50,ng]}") | | info |
| latency p99, 1 conn (µs) | ${M[p99,gw]} | ${M[p99,ng]} | $(ratio "${M[p99,gw]}" "${M[p99,ng]}") | | info |
| **added latency p50** vs direct (µs) | ${M[add50,gw]} | ${M[add50,ng]} | $(ratio "${M[add50,gw]}" "${M[add50,ng]}") | ≤ 1.5× nginx | $add_ok |
| **added latency p99** vs direct (µs) | ${M[add99,gw]} | ${M[add99,ng]} | $(ratio "${M[add99,gw]}" "${M[add99,ng]}") | ≤ 5× nginx (nginx taken as ≥ ${ADD99_FLOOR_US}) | $add99_ok |
| **throughput**, 1 core, $TPUT_CONNS conns (req/s) | ${M[rps,gw]} | ${M[rps,ng]} | $(ratio "${M[rps,gw]}" "${M[rps,ng]}") | ≥ 0.55× nginx | $tput_ok |
| latency p99 under load (µs) | ${M[tp99,gw]} | ${M[tp99,ng]} | $(ratio "${M[tp99,gw]}" "${M[tp99,ng]}") | | info |
| **CPU per request**, proxy process (µs) | ${M[cpu,gw]} | ${M[cpu,ng]} | $(ratio "${M[cpu,gw]}" "${M[cpu,ng]}") | ≤ 1.8× nginx | $cpu_ok |$(mid_rows)$(close_rows)
| peak RSS, VmHWM, before the slow streams (MiB) | ${M[rss,gw]} | ${M[rss,ng]} | $(ratio "${M[rss,gw]}" "${M[rss,ng]}") | | info |
| errors + non-2xx, all wrk runs | ${ERRORS[gw]} | ${ERRORS[ng]} | | 0 | $err_ok |
| **added time to first streamed byte** vs direct (µs) | ${M[fbadd,gw]} | ${M[fbadd,ng]} | $(ratio "${M[fbadd,gw]}" "${M[fbadd,ng]}") | ≤ nginx + 100 µs | $fb_ok |
| time to first streamed byte (µs) | ${M[fb,gw]} | ${M[fb,ng]} | $(ratio "${M[fb,gw]}" "${M[fb,ng]}") | | info |
| **stream: first SSE line** (ms) | ${M[sfirst,gw]} | ${M[sfirst,ng]} | $(ratio "${M[sfirst,gw]}" "${M[sfirst,ng]}") | ≈ ttft ${TTFT_MS} ms (≤ +150), no buffering | $gw_stream |
| stream: last byte (ms) | ${M[stotal,gw]} | ${M[stotal,ng]} | $(ratio "${M[stotal,gw]}" "${M[stotal,ng]}") | | info |

Direct to the upstream (no proxy): p50 ${M[p50,direct]} µs, p99 ${M[p99,direct]} µs, ${DIRECT_RPS} req/s with $TPUT_CONNS connections.
First streamed byte: $FIRSTBYTE_TRIES tries × $FIRSTBYTE_REQUESTS requests per path (profile ttft ${FIRSTBYTE_TTFT_MS} ms, max_tokens $FIRSTBYTE_TOKENS,
one keep-alive connection, curl's trace timestamps from sending the request to the first body byte); direct to the
emulator ${M[fb,direct]} µs; failed requests: switchyard ${FB_FAILED[gw]}, nginx ${FB_FAILED[ng]}, direct ${FB_FAILED[direct]}.
Direct to the emulator: first SSE line ${M[sfirst,direct]} ms, last byte ${M[stotal,direct]} ms, ${M[slines,direct]} data lines
(gateway ${M[slines,gw]}, nginx ${M[slines,ng]}); nginx streaming (\`proxy_buffering off\`): $ng_stream.
Stream no-buffering verdict (switchyard): $gw_stream.

$STREAMS slow streams held together (profile ttft ${SLOW_TTFT_MS} ms, ${SLOW_TOKENS_PER_S} tokens/s, $STREAMS_TOKENS tokens: ~${STREAMS_SECS} s each;
one \`curl --parallel\`; the proxy's VmRSS and open fds sampled every 0.5 s and for 1 s after, VmHWM reset before the phase;
the targets are switchyard's, nginx is there for comparison):

| metric | switchyard | nginx | ratio (sy/nginx) | target | result |
|---|---:|---:|---:|---|---|
| **max sampled VmRSS** (MiB) | ${S[rss,gw]} | ${S[rss,ng]} | $(ratio "${S[rss,gw]}" "${S[rss,ng]}") | ≤ ${RSS_TARGET_MIB} MiB | $rss_ok |
| **VmHWM** (MiB; switchyard: $(hwm_label gw)) | ${S[hwm,gw]} | ${S[hwm,ng]} | $(ratio "${S[hwm,gw]}" "${S[hwm,ng]}") | ≤ ${RSS_TARGET_MIB} MiB | $hwm_ok |
| **streams complete** (2xx, ended with \`[DONE]\`) | ${S[ok,gw]}/$STREAMS | ${S[ok,ng]}/$STREAMS | | all | $streams_ok |
| errors (not 2xx, cut, or no \`[DONE]\`) | ${S[errors,gw]} | ${S[errors,ng]} | | | info |
| VmRSS 1 s after the last stream (MiB) | ${S[rssend,gw]} | ${S[rssend,ng]} | | | info |
| max open fds of the proxy (clients + upstreams) | ${S[fds,gw]} | ${S[fds,ng]} | | | info |
| stream duration p50 / max (s) | ${S[dur50,gw]} / ${S[durmax,gw]} | ${S[dur50,ng]} / ${S[durmax,ng]} | | | info |
| proxy CPU time over the phase (s) | ${S[cpu,gw]} | ${S[cpu,ng]} | $(ratio "${S[cpu,gw]}" "${S[cpu,ng]}") | | info |

VmRSS samples (MiB, every 0.5 s): switchyard ${S[series,gw]}; nginx ${S[series,ng]}.

Translation (an OpenAI client, a model behind an Anthropic-kind provider: request and answer
translated; compared with the same gateway passing through, as nginx cannot translate):

| metric | switchyard translated | switchyard pass-through | ratio |
|---|---:|---:|---:|
| added latency p50 vs direct (µs) | ${M[add50,gwx]} | ${M[add50,gw]} | $(ratio "${M[add50,gwx]}" "${M[add50,gw]}") |
| throughput, 1 core, $TPUT_CONNS conns (req/s) | ${M[rps,gwx]} | ${M[rps,gw]} | $(ratio "${M[rps,gwx]}" "${M[rps,gw]}") |
| CPU per request (µs) | ${M[cpu,gwx]} | ${M[cpu,gw]} | $(ratio "${M[cpu,gwx]}" "${M[cpu,gw]}") |
| errors + non-2xx | ${ERRORS[gwx]} | ${ERRORS[gw]} | |

Routing (\`"model": "auto"\`: the prompt classified and the policy's rules matched on every request,
landing on the same model; compared with the same gateway given that model by name):

| metric | switchyard auto | switchyard concrete model | ratio | target | result |
|---|---:|---:|---:|---|---|
| **added latency p50** vs direct (µs) | ${M[add50,gwa]} | ${M[add50,gw]} | $(ratio "${M[add50,gwa]}" "${M[add50,gw]}") | ≤ 1.10 | $auto_add_ok |
| throughput, 1 core, $TPUT_CONNS conns (req/s) | ${M[rps,gwa]} | ${M[rps,gw]} | $(ratio "${M[rps,gwa]}" "${M[rps,gw]}") | | info |
| **CPU per request** (µs) | ${M[cpu,gwa]} | ${M[cpu,gw]} | $(ratio "${M[cpu,gwa]}" "${M[cpu,gw]}") | ≤ 1.10 | $auto_cpu_ok |
| errors + non-2xx | ${ERRORS[gwa]} | ${ERRORS[gw]} | | | info |

REPORT
  soak_report
  echo
  echo "Per round (µs; added = proxy − direct in the same round):"
  local r
  for ((r = 1; r <= ROUNDS; r++)); do
    echo "- round $r: direct p50 ${R[p50,direct,$r]}; switchyard p50 ${R[p50,gw,$r]} (+${R[add50,gw,$r]}), ${R[rps,gw,$r]} req/s, ${R[cpu,gw,$r]} µs CPU/req; nginx p50 ${R[p50,ng,$r]} (+${R[add50,ng,$r]}), ${R[rps,ng,$r]} req/s, ${R[cpu,ng,$r]} µs CPU/req"
  done
  for ((r = 1; r <= FIRSTBYTE_TRIES; r++)); do
    echo "- first byte, try $r: direct ${R[fb,direct,$r]}; switchyard ${R[fb,gw,$r]} (+${R[fbadd,gw,$r]}); nginx ${R[fb,ng,$r]} (+${R[fbadd,ng,$r]})"
  done
}

soak_report() {
  if ((SOAK_SECS == 0)); then
    echo "Soak: not run (\`--soak [SECS]\` or SOAK_SECS)."
    return
  fi
  local flat_ok soak_err_ok allowed
  allowed=$(awk -v e="$SOAK_EARLY" 'BEGIN { g = 0.10 * e; printf "%.2f", (g > 4 ? g : 4) }')
  flat_ok=$(verdict "$SOAK_NEARLY > 0 && $SOAK_NLATE > 0 && $SOAK_LATE <= $SOAK_EARLY + $allowed")
  soak_err_ok=$(verdict "$SOAK_ERRS == 0")
  cat <<REPORT
Soak, ${SOAK_SECS} s on the gateway only: wrk -c$SOAK_CONNS non-streaming flat out (bench-fast) plus
wrk -c$SOAK_STREAMS slow streams (~5 s each); VmRSS sampled every ${SOAK_EVERY} s; warm-up ${SOAK_WARM} s,
windows of ${SOAK_WINDOW} s ("flat": mean of the last window ≤ mean of the first window after the warm-up + max(10 %, 4 MiB)).

| soak metric | value | target | result |
|---|---:|---|---|
| VmRSS at the start, before the soak's load (MiB) | $(kib_to_mib "${SOAK_RSS[0]:-0}") | | info |
| VmRSS, first sample after the warm-up (MiB) | $SOAK_FIRST | | info |
| VmRSS, last sample (MiB) | $SOAK_LAST | | info |
| VmRSS, max sample after the warm-up (MiB) | $SOAK_MAX | | info |
| **RSS flat**: mean first window → mean last window (MiB) | $SOAK_EARLY → $SOAK_LATE ($SOAK_NEARLY / $SOAK_NLATE samples) | ≤ +$allowed MiB | $flat_ok |
| requests (non-streaming) | $SOAK_REQS ($SOAK_RPS req/s) | | info |
| streams completed | $SOAK_SREQS (p50 $SOAK_SP50 s) | | info |
| **errors** (wrk errors, non-2xx, streams without \`[DONE]\`) | $SOAK_ERRS | 0 | $soak_err_ok |
| gateway CPU time (s) | $SOAK_CPU | | info |
| ledger DB + WAL (MiB), start → end | $(kib_to_mib $((SOAK_LEDGER0 / 1024))) → $(kib_to_mib $((SOAK_LEDGER1 / 1024))) | | info |

VmRSS series (MiB, every ${SOAK_EVERY} s from the start): ${SOAK_SERIES% }
REPORT
}

mkdir -p "$(dirname "$OUT")"
report >"$WORK/report.md"
FAILED=0
grep -q '| FAIL |' "$WORK/report.md" && FAILED=1
cp "$WORK/report.md" "$OUT"
echo
cat "$OUT"
echo
log "written to $OUT"
if ((STRICT && FAILED)); then exit 1; fi
exit 0
