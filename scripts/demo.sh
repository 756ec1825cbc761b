#!/usr/bin/env bash
# One command for the demo: installs what is missing, builds a release binary, and runs the
# gateway on its embedded demo configuration (emulated providers, SQLite ledger).
# Extra arguments go to `switchyard demo` (e.g. --listen 127.0.0.1:9000 --state-dir /tmp/sy).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --build-only
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSY_BUILD_TESTS=OFF >/dev/null
cmake --build build --target switchyard
exec build/switchyard demo "$@"
