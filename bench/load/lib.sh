#!/usr/bin/env bash
# Helpers the load benchmarks share (run.sh, scaleout.sh). Sourced, not run: it creates the work
# directory ($WORK) and arms the EXIT trap that stops every process spawn() started and removes it
# (KEEP_TMP=1 keeps it). Needs HERE (the bench/load directory) and PIN (1: pin processes to cores).

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sy-bench.XXXXXX")
chmod 755 "$WORK"  # nginx workers run as nobody when we are root
PIDS=()

# shellcheck disable=SC2317  # reached through the EXIT trap
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
  : >"$logfile"  # exists at once, for wait_line
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

# W_requests W_duration_us W_p50_us W_p99_us ...: the figures of the last wrk run (read_wrk).
W_requests=0 W_duration_us=1 W_p50_us=0 W_p99_us=0
W_connect_err=0 W_read_err=0 W_write_err=0 W_timeout_err=0 W_non2xx=0
W_incomplete=0
# read_wrk FILE WHAT: sets the W_* variables from the SYRESULT line post.lua or stream.lua printed.
read_wrk() {
  local line kv
  line=$(grep '^SYRESULT ' "$1" || true)
  [[ -n $line ]] || { cat "$1" >&2; die "wrk against $2 printed no result"; }
  W_incomplete=0
  for kv in ${line#SYRESULT }; do printf -v "W_${kv%%=*}" '%s' "${kv#*=}"; done
}
wrk_errors() { echo $((W_connect_err + W_read_err + W_write_err + W_timeout_err + W_non2xx + W_incomplete)); }

# The gateway under test and its emulated upstream, as run.sh, decompose.sh and callgrind.sh start
# them. The admin token and the emulator's key are the benchmark's own, not secrets.
export SWITCHYARD_ADMIN_TOKEN=bench-admin-token-not-a-secret
export SY_BENCH_EMULATOR_KEY=sk-bench-not-a-secret

# start_emulator CPU: `switchyard emulator` on 127.0.0.1:0; sets EMU_PID and EMU_ADDR (host:port).
start_emulator() {
  spawn "$1" "$WORK/emulator.out" "$SWITCHYARD_BIN" emulator --listen 127.0.0.1:0
  EMU_PID=$SPAWNED
  EMU_ADDR=$(wait_line "$WORK/emulator.out" 'emulator listening on http://([^ /]+)' "$EMU_PID") || {
    cat "$WORK/emulator.out" >&2; die "emulator did not start"; }
}

# put_profile NAME TTFT_MS TOKENS_PER_S: sets an emulator latency profile (0 tokens/s: unlimited).
put_profile() {
  local code
  code=$(curl -s -o "$WORK/profile.out" -w '%{http_code}' --max-time 5 -X PUT \
    -H 'content-type: application/json' -d "{\"ttft_ms\":$2,\"tokens_per_s\":$3}" \
    "http://$EMU_ADDR/_emulator/profiles/$1") || code=000
  [[ $code == 2* ]] || { cat "$WORK/profile.out" >&2; die "emulator profile PUT $1 answered $code"; }
}

# start_gateway CPU AUTH_MODE STREAM_MODEL FIRSTBYTE_MODEL SLOW_MODEL [WRAPPER...]: writes
# gateway.yaml into $WORK/gateway (upstream $UP_PORT, emulator $EMU_ADDR, the emulator profiles
# behind bench-stream, bench-ttft and bench-slow) and starts the gateway on it, under WRAPPER when
# given (valgrind); sets GW_PID, GW_ADDR and GW_LOG. A prefix gw_dir=NAME puts a second gateway's
# config, ledger and log in $WORK/NAME instead.
start_gateway() {
  local cpu=$1 auth=$2 stream=$3 firstbyte=$4 slow=$5 dir=$WORK/${gw_dir:-gateway}
  shift 5
  mkdir -p "$dir"
  sed -e "s|@UPSTREAM_PORT@|$UP_PORT|g" -e "s|@EMULATOR_ADDR@|$EMU_ADDR|g" \
    -e "s|@STREAM_UPSTREAM_MODEL@|$stream|g" -e "s|@FIRSTBYTE_UPSTREAM_MODEL@|$firstbyte|g" \
    -e "s|@SLOW_UPSTREAM_MODEL@|$slow|g" -e "s|@STATE@|$dir|g" \
    -e "s|@AUTH_MODE@|$auth|g" "$HERE/gateway.yaml" >"$dir/gateway.yaml"
  GW_LOG=$dir/out.log
  spawn "$cpu" "$GW_LOG" "$@" "$SWITCHYARD_BIN" serve --config "$dir/gateway.yaml"
  GW_PID=$SPAWNED
  GW_ADDR=$(wait_line "$GW_LOG" 'switchyard listening on http://([^ /]+)' "$GW_PID") || {
    tail -n 50 "$GW_LOG" >&2; die "gateway did not start"; }
}

# bench_key: prints a new client key of the gateway at $GW_ADDR, tenant "bench", whose budget and
# limits are far above what a run spends: checked on every request, never biting.
bench_key() {
  local key
  key=$(curl -s --max-time 30 "http://$GW_ADDR/admin/keys" \
    -H "authorization: Bearer $SWITCHYARD_ADMIN_TOKEN" -H 'content-type: application/json' \
    -d '{"tenant":"bench","budgets":{"usd_per_day":"1000000","usd_per_month":"1000000"},"limits":{"requests_per_minute":1000000000,"tokens_per_minute":1000000000}}' |
    sed -n 's/.*"key":"\(sk-sy-[A-Za-z0-9]*\)".*/\1/p')
  [[ -n $key ]] || { tail -n 20 "$GW_LOG" >&2; die "could not create a client key"; }
  echo "$key"
}
