#!/usr/bin/env bash
# One command for every test: installs what is missing, checks formatting, builds the release
# binary and an ASan+UBSan build, and runs all tests (GoogleTest units, integration tests that
# start the real binaries, official-SDK client tests) under the sanitizers with CTest, then a
# bounded libFuzzer run of every fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

echo "== format"
tools/check_format.sh
tools/check_deps.sh

jobs=$(nproc)
echo "== release build"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSY_BUILD_TESTS=OFF -DSY_BUILD_BENCH=ON \
  >/dev/null
cmake --build build -j "$jobs"
# The micro benchmarks must keep building and running; their figures are read in docs, never
# asserted here (timing is not a test).
for bench in build/bench/micro/*_bench; do "$bench" --benchmark_min_time=0.01 >/dev/null; done

echo "== asan+ubsan build"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSY_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$jobs"

echo "== tests (asan+ubsan)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# install-deps.sh installed PostgreSQL and Redis: a test that skips for want of them (or of what
# they should offer) fails its binary here instead of being reported as skipped
# (tests/testutil/server_tests.h).
export SY_REQUIRE_TEST_SERVERS=1
ctest --test-dir build-asan --output-on-failure -j "$jobs" --timeout 600

echo "== fuzz (bounded: 8 s per target; docs/fuzzing.md has the long run)"
tools/fuzz.sh --seconds 8
