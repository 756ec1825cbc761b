#!/usr/bin/env bash
# Switchyard load benchmark: the gateway against nginx as a plain keep-alive reverse proxy, both in
# front of the same fast upstream (nginx returning a fixed chat.completion), on one pinned core.
#
#   bench/load/run.sh [--quick] [--strict] [--out FILE]
#
# Measures, in interleaved rounds (direct, gateway, nginx, then direct, nginx, gateway, ...):
#   1-connection latency p50/p99 and the latency each proxy ADDS over going direct to the upstream;
#   one-core throughput (wrk -c32); CPU time per request and peak RSS of the proxy process;
#   time to the first streamed SSE line through each proxy from a slow emulator profile; and the
#   gateway once more with translation (OpenAI client -> Anthropic-kind model) and once with
#   "model": "auto" (classified and routed by a policy), each against its concrete-model self.
# Prints a Markdown table and writes it to bench/results/latest.md (git-ignored).
#
# Loopback only. Every process it starts is stopped on exit. Default run ~2.5 min, --quick ~45 s.
# Needs: nginx (Debian nginx-light or nginx), wrk, curl, taskset (util-linux), awk, bash >= 5.
# Node.js is used, when present, only to pick free ports.
#
# Environment (all optional):
#   SWITCHYARD_BIN   gateway binary (default: <repo>/build/switchyard; build it Release)
#   ROUNDS LAT_SECS TPUT_SECS TPUT_CONNS WARM_SECS STREAM_TRIES   run shape
#   LOADGEN_CPU (0) PROXY_CPU (1) UPSTREAM_CPU (0)                core pinning
#   TTFT_MS (100) TOKENS_PER_S (20) STREAM_TOKENS (30)              slow stream profile
#   KEEP_TMP=1       keep the temp dir (configs, logs, wrk outputs) for inspection
#   KEYS (1)         1: the gateway requires client keys (one with a budget and rate limits);
#                    0: keyless, as before issue 19
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
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

if ((QUICK)); then
  : "${ROUNDS:=1}" "${LAT_SECS:=3}" "${TPUT_SECS:=4}" "${WARM_SECS:=1}" "${STREAM_TRIES:=1}"
else
  : "${ROUNDS:=3}" "${LAT_SECS:=5}" "${TPUT_SECS:=8}" "${WARM_SECS:=2}" "${STREAM_TRIES:=3}"
fi
: "${TPUT_CONNS:=32}" "${LOADGEN_CPU:=0}" "${PROXY_CPU:=1}" "${UPSTREAM_CPU:=0}"
: "${TTFT_MS:=100}" "${TOKENS_PER_S:=20}" "${STREAM_TOKENS:=30}"
SWITCHYARD_BIN=${SWITCHYARD_BIN:-$ROOT/build/switchyard}
# KEYS=1 (default): the gateway requires client keys and the benchmark's key has a budget and rate
# limits, so every request is authenticated, admitted, reserved against and settled, as in
# production. KEYS=0 runs keyless, as the benchmark did before issue 19.
: "${KEYS:=1}"
STREAM_PROFILE=bench-stream
EMULATOR_KEY=sk-bench-not-a-secret

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 2; }

# ---- preflight -----------------------------------------------------------------------------
((BASH_VERSINFO[0] >= 5)) || die "bash 5 needed (EPOCHREALTIME)"
for tool in nginx wrk curl taskset awk sed; do
  command -v "$tool" >/dev/null || die "$tool not found (Debian: apt-get install nginx-light wrk curl util-linux)"
done
[[ -x $SWITCHYARD_BIN ]] || die "no gateway binary at $SWITCHYARD_BIN (build: cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release && cmake --build build; or set SWITCHYARD_BIN)"
NCPU=$(nproc)
PIN=1
if ((NCPU < 2)); then log "only $NCPU core: running without core pinning"; PIN=0; fi
CLK_TCK=$(getconf CLK_TCK)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v l="${LOAD_START%% *}" 'BEGIN { exit !(l > 1.0) }'; then
  log "WARNING: load average is $LOAD_START before the run; figures will be noisy"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sy-bench.XXXXXX")
chmod 755 "$WORK"  # nginx workers run as nobody when we are root
PIDS=()

cleanup() {
  local pid i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[i]}
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in {1..30}; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ ${KEEP_TMP:-0} == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# spawn CPU LOGFILE CMD...: starts CMD in the background pinned to CPU (taskset execs it, so the
# pid is the command's own), records it for cleanup, and sets SPAWNED to its pid.
spawn() {
  local cpu=$1 logfile=$2
  shift 2
  if ((PIN)); then taskset -c "$cpu" "$@" >"$logfile" 2>&1 & else "$@" >"$logfile" 2>&1 & fi
  SPAWNED=$!
  PIDS+=("$SPAWNED")
}

# A free TCP port on 127.0.0.1 (the kernel's choice when Node is present).
pick_port() {
  if command -v node >/dev/null; then
    node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
  else
    local p
    while :; do
      p=$((20000 + RANDOM % 40000))
      (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
  fi
}

# Waits until `curl URL` gets any HTTP answer (bounded), or the process `pid` dies.
wait_http() {
  local url=$1 pid=$2 i
  for i in {1..100}; do
    curl -s -o /dev/null --max-time 1 "$url" && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# Waits for a line matching `regex` in `file`; prints capture group 1.
wait_line() {
  local file=$1 regex=$2 pid=$3 i line
  for i in {1..200}; do
    while IFS= read -r line; do
      if [[ $line =~ $regex ]]; then echo "${BASH_REMATCH[1]}"; return 0; fi
    done <"$file"
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

user_line() { if ((EUID == 0)); then echo "user nobody nogroup;"; fi; }

# start_nginx NAME TEMPLATE CPU [sed-expr...]: sets NGINX_PID and NGINX_PORT.
start_nginx() {
  local name=$1 template=$2 cpu=$3 prefix conf
  shift 3
  prefix=$WORK/$name
  mkdir -p "$prefix"
  for _ in 1 2 3; do
    NGINX_PORT=$(pick_port)
    conf=$prefix/nginx.conf
    sed -e "s|@PREFIX@|$prefix|g" -e "s|@PORT@|$NGINX_PORT|g" -e "s|@USER_LINE@|$(user_line)|" \
      "$@" "$HERE/$template" >"$conf"
    : >"$prefix/error.log"
    spawn "$cpu" "$prefix/stdout" nginx -p "$prefix" -e "$prefix/error.log" -c "$conf"
    NGINX_PID=$SPAWNED
    if wait_http "http://127.0.0.1:$NGINX_PORT/" "$NGINX_PID"; then return 0; fi
    if grep -q "Address already in use" "$prefix/error.log" "$prefix/stdout"; then
      log "$name: port $NGINX_PORT taken, retrying"
      continue
    fi
    cat "$prefix/stdout" "$prefix/error.log" >&2
    die "$name nginx did not start"
  done
  die "$name nginx: no free port after 3 attempts"
}

# The first child of an nginx master: its single worker.
nginx_worker() {
  local master=$1 kids
  kids=$(cat "/proc/$master/task/$master/children" 2>/dev/null || pgrep -P "$master" || true)
  read -r -a kids <<<"$kids"
  [[ -n ${kids[0]:-} ]] || die "no nginx worker under pid $master"
  echo "${kids[0]}"
}

cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
vm_hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }

# ---- 1. fast upstream ------------------------------------------------------------------------
log "work dir $WORK; $NCPU cores; load average $LOAD_START"
start_nginx upstream nginx-upstream.conf "$UPSTREAM_CPU"
UP_PORT=$NGINX_PORT
log "upstream nginx on 127.0.0.1:$UP_PORT (core $UPSTREAM_CPU)"

# ---- slow streaming emulator -----------------------------------------------------------------
spawn "$UPSTREAM_CPU" "$WORK/emulator.out" "$SWITCHYARD_BIN" emulator --listen 127.0.0.1:0
EMU_PID=$SPAWNED
EMU_ADDR=$(wait_line "$WORK/emulator.out" 'emulator listening on http://([^ /]+)' "$EMU_PID") || {
  cat "$WORK/emulator.out" >&2; die "emulator did not start"; }
code=$(curl -s -o "$WORK/profile.out" -w '%{http_code}' --max-time 5 -X PUT \
  -H 'content-type: application/json' \
  -d "{\"ttft_ms\":$TTFT_MS,\"tokens_per_s\":$TOKENS_PER_S}" \
  "http://$EMU_ADDR/_emulator/profiles/$STREAM_PROFILE") || code=000
[[ $code == 2* ]] || { cat "$WORK/profile.out" >&2; die "emulator profile PUT answered $code"; }
log "emulator on $EMU_ADDR, profile $STREAM_PROFILE: ttft ${TTFT_MS} ms, ${TOKENS_PER_S} tokens/s"

# ---- 2. the gateway ---------------------------------------------------------------------------
mkdir -p "$WORK/gateway"
AUTH_MODE=keys
((KEYS)) || AUTH_MODE=off
sed -e "s|@UPSTREAM_PORT@|$UP_PORT|g" -e "s|@EMULATOR_ADDR@|$EMU_ADDR|g" \
  -e "s|@STREAM_UPSTREAM_MODEL@|$STREAM_PROFILE|g" -e "s|@STATE@|$WORK/gateway|g" \
  -e "s|@AUTH_MODE@|$AUTH_MODE|g" "$HERE/gateway.yaml" >"$WORK/gateway/gateway.yaml"
export SWITCHYARD_ADMIN_TOKEN=bench-admin-token-not-a-secret
export SY_BENCH_EMULATOR_KEY=$EMULATOR_KEY
spawn "$PROXY_CPU" "$WORK/gateway/out.log" "$SWITCHYARD_BIN" serve --config "$WORK/gateway/gateway.yaml"
GW_PID=$SPAWNED
GW_ADDR=$(wait_line "$WORK/gateway/out.log" 'switchyard listening on http://([^ /]+)' "$GW_PID") || {
  cat "$WORK/gateway/out.log" >&2; die "gateway did not start"; }
log "switchyard on $GW_ADDR (core $PROXY_CPU, server.threads 1)"
# The client key every request to the gateway carries (post.lua reads SY_BENCH_KEY); its budget
# and limits are far above what a run spends, so they are checked on every request but never bite.
GW_KEY=$EMULATOR_KEY
if ((KEYS)); then
  GW_KEY=$(curl -s --max-time 5 "http://$GW_ADDR/admin/keys" \
    -H "authorization: Bearer $SWITCHYARD_ADMIN_TOKEN" -H 'content-type: application/json' \
    -d '{"tenant":"bench","budgets":{"usd_per_day":"1000000","usd_per_month":"1000000"},"limits":{"requests_per_minute":1000000000,"tokens_per_minute":1000000000}}' |
    sed -n 's/.*"key":"\(sk-sy-[A-Za-z0-9]*\)".*/\1/p')
  [[ -n $GW_KEY ]] || { tail -n 20 "$WORK/gateway/out.log" >&2; die "could not create a client key"; }
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

# run_wrk TARGET CONNS SECS: sets W_requests W_duration_us W_p50_us W_p99_us ... from post.lua's line.
W_requests=0 W_duration_us=1 W_p50_us=0 W_p99_us=0
W_connect_err=0 W_read_err=0 W_write_err=0 W_timeout_err=0 W_non2xx=0
run_wrk() {
  local t=$1 conns=$2 secs=$3 out line kv
  out=$WORK/wrk-$t-c$conns-$RANDOM.out
  local pin=()
  ((PIN)) && pin=(taskset -c "$LOADGEN_CPU")
  SY_BENCH_MODEL=${MODEL_OF[$t]} timeout $((secs + 30)) \
    "${pin[@]}" wrk -t1 -c"$conns" -d"${secs}s" --timeout 5s --latency \
    -s "$HERE/post.lua" "${URL[$t]}" >"$out" 2>&1 || true
  line=$(grep '^SYRESULT ' "$out" || true)
  [[ -n $line ]] || { cat "$out" >&2; die "wrk against ${NAME[$t]} printed no result"; }
  for kv in ${line#SYRESULT }; do printf -v "W_${kv%%=*}" '%s' "${kv#*=}"; done
  local errs=$((W_connect_err + W_read_err + W_write_err + W_timeout_err + W_non2xx))
  ERRORS[$t]=$((ERRORS[$t] + errs))
  ((errs == 0)) || log "  ${NAME[$t]}: $errs errors/non-2xx in this run (see $out)"
}

log "warm-up ${WARM_SECS}s per target"
for t in direct gw ng gwx gwa; do run_wrk "$t" "$TPUT_CONNS" "$WARM_SECS"; done

log "latency: $ROUNDS round(s) x ${LAT_SECS}s per target, 1 connection"
for ((r = 1; r <= ROUNDS; r++)); do
  if ((r % 2)); then order=(direct gw ng gwx gwa); else order=(direct gwa gwx ng gw); fi
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

log "throughput: $ROUNDS round(s) x ${TPUT_SECS}s per proxy, $TPUT_CONNS connections"
for ((r = 1; r <= ROUNDS; r++)); do
  if ((r % 2)); then order=(gw ng gwx gwa); else order=(gwa gwx ng gw); fi
  for t in "${order[@]}"; do
    pid=${PID_OF[$t]}
    c0=$(cpu_ticks "$pid")
    run_wrk "$t" "$TPUT_CONNS" "$TPUT_SECS"
    c1=$(cpu_ticks "$pid")
    R[rps,$t,$r]=$(calc "$W_requests / ($W_duration_us / 1e6)" 0)
    R[cpu,$t,$r]=$(calc "($c1 - $c0) * 1e6 / $CLK_TCK / ($W_requests > 0 ? $W_requests : 1)" 2)
    R[tp99,$t,$r]=$W_p99_us
    log "  round $r ${NAME[$t]}: ${R[rps,$t,$r]} req/s, ${R[cpu,$t,$r]} us CPU/request, p99 ${W_p99_us} us"
  done
done
run_wrk direct "$TPUT_CONNS" "$TPUT_SECS"
DIRECT_RPS=$(calc "$W_requests / ($W_duration_us / 1e6)" 0)
log "  upstream direct (reference): $DIRECT_RPS req/s"

# ---- 4e. time to the first streamed byte -------------------------------------------------------
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
declare -A SKEY=([direct]=$EMULATOR_KEY [gw]=$GW_KEY [ng]=$EMULATOR_KEY)
for ((r = 1; r <= STREAM_TRIES; r++)); do
  for t in direct gw ng; do
    read -r f tot n < <(stream_probe "${SURL[$t]}" "${SMODEL[$t]}" "${SKEY[$t]}")
    R[sfirst,$t,$r]=$f R[stotal,$t,$r]=$tot R[slines,$t,$r]=$n
    log "  ${NAME[$t]}: first line ${f} ms, end ${tot} ms, $n data lines"
  done
done

# ---- 5. report --------------------------------------------------------------------------------
med() {  # med METRIC TARGET COUNT
  local vals=() i
  for ((i = 1; i <= $3; i++)); do vals+=("${R[$1,$2,$i]}"); done
  median "${vals[@]}"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }'; }
verdict() { if awk "BEGIN { exit !($1) }"; then echo PASS; else echo FAIL; fi; }

declare -A M
for t in direct gw ng; do
  M[p50,$t]=$(med p50 "$t" "$ROUNDS") M[p99,$t]=$(med p99 "$t" "$ROUNDS")
  M[sfirst,$t]=$(med sfirst "$t" "$STREAM_TRIES") M[stotal,$t]=$(med stotal "$t" "$STREAM_TRIES")
  M[slines,$t]=$(med slines "$t" "$STREAM_TRIES")
done
for t in gw ng gwx gwa; do
  for m in add50 add99 rps cpu tp99; do M[$m,$t]=$(med "$m" "$t" "$ROUNDS"); done
  M[rss,$t]=$(calc "$(vm_hwm_kib "${PID_OF[$t]}") / 1024" 1)
done
M[p50,gwx]=$(med p50 gwx "$ROUNDS")
M[p50,gwa]=$(med p50 gwa "$ROUNDS")

# No buffering: the first SSE line arrives near the profile's ttft, long before the stream ends.
stream_ok() {  # stream_ok TARGET
  verdict "${M[sfirst,$1]} <= $TTFT_MS + 150 && ${M[sfirst,$1]} < 0.5 * ${M[stotal,$1]} && ${M[slines,$1]} >= 2"
}

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
GIT_DIRTY=""
[[ -z $(git -C "$ROOT" status --porcelain 2>/dev/null) ]] || GIT_DIRTY=" (dirty tree)"
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)

report() {
  local add_ok tput_ok err_ok gw_stream ng_stream
  add_ok=$(verdict "${M[add50,gw]} <= 2 * (${M[add50,ng]} > 1 ? ${M[add50,ng]} : 1)")
  tput_ok=$(verdict "${M[rps,gw]} >= 0.5 * ${M[rps,ng]}")
  err_ok=$(verdict "${ERRORS[gw]} + ${ERRORS[gwx]} + ${ERRORS[gwa]} == 0")
  gw_stream=$(stream_ok gw)
  ng_stream=$(stream_ok ng)
  cat <<EOF
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
| **added latency p50** vs direct (µs) | ${M[add50,gw]} | ${M[add50,ng]} | $(ratio "${M[add50,gw]}" "${M[add50,ng]}") | ≤ 2× nginx | $add_ok |
| added latency p99 vs direct (µs) | ${M[add99,gw]} | ${M[add99,ng]} | $(ratio "${M[add99,gw]}" "${M[add99,ng]}") | | info |
| **throughput**, 1 core, $TPUT_CONNS conns (req/s) | ${M[rps,gw]} | ${M[rps,ng]} | $(ratio "${M[rps,gw]}" "${M[rps,ng]}") | ≥ 0.5× nginx | $tput_ok |
| latency p99 under load (µs) | ${M[tp99,gw]} | ${M[tp99,ng]} | $(ratio "${M[tp99,gw]}" "${M[tp99,ng]}") | | info |
| CPU per request, proxy process (µs) | ${M[cpu,gw]} | ${M[cpu,ng]} | $(ratio "${M[cpu,gw]}" "${M[cpu,ng]}") | | info |
| peak RSS, VmHWM (MiB) | ${M[rss,gw]} | ${M[rss,ng]} | $(ratio "${M[rss,gw]}" "${M[rss,ng]}") | | info |
| errors + non-2xx, all wrk runs | ${ERRORS[gw]} | ${ERRORS[ng]} | | 0 | $err_ok |
| **stream: first SSE line** (ms) | ${M[sfirst,gw]} | ${M[sfirst,ng]} | $(ratio "${M[sfirst,gw]}" "${M[sfirst,ng]}") | ≈ ttft ${TTFT_MS} ms (≤ +150), no buffering | $gw_stream |
| stream: last byte (ms) | ${M[stotal,gw]} | ${M[stotal,ng]} | $(ratio "${M[stotal,gw]}" "${M[stotal,ng]}") | | info |

Direct to the upstream (no proxy): p50 ${M[p50,direct]} µs, p99 ${M[p99,direct]} µs, ${DIRECT_RPS} req/s with $TPUT_CONNS connections.
Direct to the emulator: first SSE line ${M[sfirst,direct]} ms, last byte ${M[stotal,direct]} ms, ${M[slines,direct]} data lines
(gateway ${M[slines,gw]}, nginx ${M[slines,ng]}); nginx streaming (\`proxy_buffering off\`): $ng_stream.
Stream no-buffering verdict (switchyard): $gw_stream.

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

| metric | switchyard auto | switchyard concrete model | ratio | target |
|---|---:|---:|---:|---|
| added latency p50 vs direct (µs) | ${M[add50,gwa]} | ${M[add50,gw]} | $(ratio "${M[add50,gwa]}" "${M[add50,gw]}") | ≤ 1.10 (performance issue) |
| throughput, 1 core, $TPUT_CONNS conns (req/s) | ${M[rps,gwa]} | ${M[rps,gw]} | $(ratio "${M[rps,gwa]}" "${M[rps,gw]}") | |
| CPU per request (µs) | ${M[cpu,gwa]} | ${M[cpu,gw]} | $(ratio "${M[cpu,gwa]}" "${M[cpu,gw]}") | |
| errors + non-2xx | ${ERRORS[gwa]} | ${ERRORS[gw]} | | |

Per round (µs; added = proxy − direct in the same round):
EOF
  local r
  for ((r = 1; r <= ROUNDS; r++)); do
    echo "- round $r: direct p50 ${R[p50,direct,$r]}; switchyard p50 ${R[p50,gw,$r]} (+${R[add50,gw,$r]}), ${R[rps,gw,$r]} req/s, ${R[cpu,gw,$r]} µs CPU/req; nginx p50 ${R[p50,ng,$r]} (+${R[add50,ng,$r]}), ${R[rps,ng,$r]} req/s, ${R[cpu,ng,$r]} µs CPU/req"
  done
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
