#!/usr/bin/env bash
# Installs what Switchyard needs on Debian 12, idempotently: Debian packages for the build, the
# tests and the benchmark, and the pinned npm test clients (tests/clients/package-lock.json).
# Usage: scripts/install-deps.sh [--build-only]
set -euo pipefail
cd "$(dirname "$0")/.."

build_packages=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libboost-system1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libyaml-cpp-dev libsqlite3-dev libcli11-dev libjemalloc-dev
  libboost-regex1.81-dev libvalijson-dev  # verify/: regex and JSON Schema checks
  libbenchmark-dev  # bench/micro (SY_BUILD_BENCH=ON)
  libpq-dev  # ledger/: the ledger on PostgreSQL (database.url)
  libhiredis-dev  # shared/: shared state on Redis
)
test_packages=(
  libgtest-dev libgmock-dev clang-format sqlite3 curl ca-certificates
  json-schema-test-suite  # verify/schema_suite_test.cpp
  prometheus  # promtool: app/gateway_metrics_test.cpp checks the /metrics exposition
  nginx-light wrk
  postgresql  # the scale-out tests start their own server (initdb into a temp dir)
  redis-server  # the scale-out tests start their own server (a free port; never systemd's 6379)
  # tools/fuzz.sh: clang++ with libFuzzer (-fsanitize=fuzzer: libclang_rt.fuzzer and
  # FuzzedDataProvider.h are in libclang-rt-14-dev) and llvm-symbolizer for its stack traces.
  clang libclang-rt-14-dev llvm
)

packages=("${build_packages[@]}")
[[ "${1:-}" == "--build-only" ]] || packages+=("${test_packages[@]}")
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "install-deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [[ "${1:-}" != "--build-only" ]]; then
  # npm ci only when the lockfile changed since the last install.
  for dir in tests/clients; do
    [[ -f "$dir/package-lock.json" ]] || continue
    stamp="$dir/node_modules/.lock-stamp"
    if [[ ! -f "$stamp" ]] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
      cp "$dir/package-lock.json" "$stamp"
    fi
  done
fi
