#!/usr/bin/env bash
# Fails when any tracked C++ file differs from clang-format's output (the repo's .clang-format).
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.h' '*.cpp' | while read -r f; do [[ -f "$f" ]] && echo "$f"; done)
((${#files[@]})) || exit 0
clang-format --dry-run --Werror "${files[@]}"
echo "format: ${#files[@]} files clean"
