#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang++, ASan+UBSan) incrementally in build-fuzz/ and runs
# each for a bounded time on a corpus seeded from tests/fixtures/, config/demo.yaml and
# fuzz/seeds/, copied into a temporary directory (the repo is never written to during a run).
# Exits non-zero when any target finds a crash, a leak, UB, a timeout or an out-of-memory, and
# prints the reproducer's path (kept, with the log, in the temporary directory).
#
# Usage: tools/fuzz.sh [--seconds N] [--target NAME]... [--corpus DIR] [--build-only]
#   --seconds N   run each target N seconds (default 10)
#   --target NAME run only fuzz_NAME (repeatable); default: every target
#   --corpus DIR  keep the corpus in DIR/<target>/ across runs instead of a temporary directory
#   --build-only  build, do not run
# Reproduce a crash: build-fuzz/fuzz_NAME <reproducer>  (see docs/fuzzing.md)
set -euo pipefail
cd "$(dirname "$0")/.."

all_targets=(openai_decode responses_decode anthropic_decode translate_request translate_response
             translate_stream sse config verify policy router_model chunk_scan)
seconds=10
targets=()
corpus_root=""
build_only=0
while (($#)); do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --target) targets+=("$2"); shift 2 ;;
    --corpus) corpus_root=$(realpath -m "$2"); shift 2 ;;
    --build-only) build_only=1; shift ;;
    -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "fuzz.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
((${#targets[@]})) || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  [[ -f "fuzz/${t}_fuzz.cpp" ]] || { echo "fuzz.sh: no target $t (fuzz/${t}_fuzz.cpp)" >&2; exit 2; }
done

build=${SY_FUZZ_BUILD_DIR:-build-fuzz}
if [[ ! -f "$build/build.ninja" ]]; then
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S fuzz -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >/dev/null
fi
cmake --build "$build" -j "$(nproc)" --target "${targets[@]/#/fuzz_}"
((build_only)) && exit 0

# Seed files per target (globs relative to the repo root).
seeds_for() {
  local fx=tests/fixtures/translate
  case "$1" in
    openai_decode) echo "$fx/o2a_request_*/request.json" ;;
    responses_decode) echo "$fx/r2o_request_*/request.json $fx/r2a_request_*/request.json" ;;
    anthropic_decode) echo "$fx/a2o_request_*/request.json" ;;
    translate_request) echo "$fx/*_request_*/request.json fuzz/seeds/openai_decode/* fuzz/seeds/anthropic_decode/*" ;;
    translate_response) echo "$fx/*_response_*/upstream.json $fx/*_response_*/expected.json" ;;
    translate_stream | sse) echo "$fx/*_stream_*/upstream.sse $fx/*_stream_*/expected.sse" ;;
    config) echo "config/demo.yaml" ;;
    verify) echo "$fx/*_response_*/upstream.json" ;;
  esac
  echo "fuzz/seeds/$1/*"
}

dicts_for() {
  case "$1" in
    translate_stream) echo fuzz/dict/json.dict fuzz/dict/sse.dict ;;
    sse) echo fuzz/dict/sse.dict ;;
    config) echo fuzz/dict/config.dict ;;
    *) echo fuzz/dict/json.dict ;;
  esac
}

work=$(mktemp -d "${TMPDIR:-/tmp}/sy-fuzz.XXXXXX")
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
failed=()
for t in "${targets[@]}"; do
  corpus=${corpus_root:+$corpus_root/$t}
  corpus=${corpus:-$work/$t/corpus}
  mkdir -p "$corpus" "$work/$t/artifacts"
  i=0
  for f in $(seeds_for "$t"); do
    [[ -f "$f" ]] && cp "$f" "$corpus/seed-$((i++))-$(basename "$f")"
  done
  cat $(dicts_for "$t") >"$work/$t/dict"
  log=$work/$t/log
  echo "== fuzz_$t: ${seconds}s, $(find "$corpus" -type f | wc -l) inputs in the corpus"
  if "$build/fuzz_$t" -max_total_time="$seconds" -max_len=16384 -rss_limit_mb=2048 -timeout=10 \
      -artifact_prefix="$work/$t/artifacts/" -dict="$work/$t/dict" "$corpus" \
      >"$log" 2>&1; then
    grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | sed 's/^/   /' || true
  else
    failed+=("$t")
    tail -n 60 "$log"
    echo "fuzz_$t FAILED; log: $log"
    for a in "$work/$t/artifacts"/*; do
      [[ -f "$a" ]] && echo "reproducer: $a  (run: $build/fuzz_$t $a)"
    done
  fi
done

if ((${#failed[@]})); then
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]} (kept $work)"
  exit 1
fi
rm -rf "$work"
echo "fuzz: ${#targets[@]} target(s) clean, ${seconds}s each"
