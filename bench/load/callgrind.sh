#!/usr/bin/env bash
# Instructions a request, counted by callgrind (issue 20): the measure this VM's noise does not
# reach, for changes too small for run.sh's timings to show (docs/performance.md).
#
#   bench/load/callgrind.sh [--model NAME] [--stream] [--requests N] [--keep FILE]
#
#   --model NAME   the request's model (default bench-fast: a concrete model through the fast
#                  upstream; `auto` routes through gateway.yaml's policy and the learned router;
#                  bench-claude is translated to and from an Anthropic-kind provider)
#   --stream       a streamed request through the emulator instead, run.sh's first-byte probe:
#                  model bench-ttft, ttft 2 ms, five events, each event an HTTP chunk
#   --requests N   the requests counted (default 500)
#   --keep FILE    keep callgrind's output there (for callgrind_annotate); default: deleted
#
# The gateway runs under `valgrind --tool=callgrind` on bench/load/gateway.yaml with a client key
# (budget and rate limits on), as in run.sh. One curl sends 50 requests on one keep-alive
# connection, the counters are zeroed (callgrind_control -z), one curl sends N more, and the
# counters are dumped, each after a second's pause: start-up, the warm-up and shutdown are not
# counted; every thread is (the ledger writer's work for the N requests included). Prints "<instructions> instructions a
# request (<N> requests, <model>)". About a minute; needs valgrind (Debian: valgrind).
#
# Knobs (environment): SWITCHYARD_BIN (<repo>/build/switchyard, built Release), KEEP_TMP=1.
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

MODEL=bench-fast
STREAM=0
REQUESTS=500
KEEP=""
while (($#)); do
  case $1 in
    --model) MODEL=$2; shift ;;
    --stream) STREAM=1 ;;
    --requests) REQUESTS=$2; shift ;;
    --keep) KEEP=$2; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "callgrind.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
((STREAM)) && MODEL=bench-ttft
SWITCHYARD_BIN=${SWITCHYARD_BIN:-$ROOT/build/switchyard}
WARM_REQUESTS=50

# shellcheck source=bench/load/lib.sh
source "$HERE/lib.sh"
PIN=0  # instruction counts do not depend on the core

for tool in nginx curl valgrind callgrind_control awk sed; do
  command -v "$tool" >/dev/null || die "$tool not found (Debian: apt-get install nginx-light curl valgrind)"
done
[[ $REQUESTS =~ ^[1-9][0-9]*$ ]] || die "--requests must be a positive whole number (is '$REQUESTS')"
[[ -x $SWITCHYARD_BIN ]] || die "no gateway binary at $SWITCHYARD_BIN (build it Release, or set SWITCHYARD_BIN)"

# ---- servers ---------------------------------------------------------------------------------
start_nginx upstream nginx-upstream.conf 0
UP_PORT=$NGINX_PORT
start_emulator 0
put_profile bench-ttft 2 0
OUT=$WORK/callgrind.out
start_gateway 1 keys bench-ttft bench-ttft bench-ttft valgrind --tool=callgrind --callgrind-out-file="$OUT"
KEY=$(bench_key)

# ---- requests --------------------------------------------------------------------------------
STREAM_JSON=false
((STREAM)) && STREAM_JSON=true
BODY='{"model":"'$MODEL'","stream":'$STREAM_JSON',"max_tokens":16,"messages":[{"role":"user","content":"Say hello in five words."}]}'
((STREAM)) && BODY='{"model":"bench-ttft","stream":true,"max_tokens":3,"messages":[{"role":"user","content":"Tell me a long story about a river."}]}'
# send N: N requests on one keep-alive connection; fails unless every one answered 2xx.
send() {
  local urls=() i codes
  for ((i = 0; i < $1; i++)); do urls+=(-o /dev/null "http://$GW_ADDR/v1/chat/completions"); done
  codes=$(timeout $(($1 / 5 + 60)) curl -s -N -w '%{http_code}\n' \
    -H "authorization: Bearer $KEY" -H 'content-type: application/json' -d "$BODY" "${urls[@]}") ||
    die "curl failed"
  [[ $(grep -c '^2' <<<"$codes") == "$1" ]] || die "not every request answered 2xx: $(sort <<<"$codes" | uniq -c | tr '\n' ' ')"
}
# The ledger writer commits within its flush interval (200 ms): a second's pause before zeroing
# and before dumping puts the warm-up's rows outside the count and the counted requests' inside.
send "$WARM_REQUESTS"
sleep 1
callgrind_control -z "$GW_PID" >/dev/null 2>&1 || die "callgrind_control could not zero the counters"
send "$REQUESTS"
sleep 1
callgrind_control -d "$GW_PID" >/dev/null 2>&1 || die "callgrind_control could not dump the counters"
DUMP=$(find "$WORK" -maxdepth 1 -name 'callgrind.out.*' | sort | tail -n 1)
[[ -n $DUMP ]] || die "callgrind wrote no dump"
TOTAL=$(awk '/^summary:/ { print $2 }' "$DUMP")
[[ -n $TOTAL ]] || die "no summary line in $DUMP"
[[ -z $KEEP ]] || cp "$DUMP" "$KEEP"
echo "$((TOTAL / REQUESTS)) instructions a request ($REQUESTS requests, $MODEL)"
