#!/usr/bin/env bash
# Include rules that CMake link lists cannot express (STYLE.md, "Dependency direction"):
#  - Asio and Beast headers only in http/, emulator/ and the separately compiled asio_impl/
#    (tests may use them to drive coroutines);
#  - the emulator shares no code with providers/ (one misread wire format must not hide in both);
#  - providers/ never reaches into api/, failover/ or app/; routing/ never into api/, providers/
#    or http/; core/ includes nothing of ours but core/; router/ nothing but core/ (routing/
#    depends on it, so it must never reach back).
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
violations() {  # $1: description, rest: grep output
  local what=$1
  shift
  if [[ -n "$*" ]]; then
    echo "check_deps: $what:"
    echo "$*"
    fail=1
  fi
}
violations "Asio/Beast outside http/ and emulator/" "$(grep -rlE '#include <boost/(asio|beast)' src \
  | grep -vE '^src/(http|emulator|asio_impl)/|_test\.cpp$' || true)"
violations "emulator/ uses providers/ or api/" "$(grep -rnE '#include "(providers|api)/' src/emulator || true)"
violations "providers/ uses api/, failover/ or app/" "$(grep -rnE '#include "(api|failover|app)/' src/providers || true)"
violations "routing/ uses api/, providers/ or http/ (it must never know a wire format)" \
  "$(grep -rnE '#include "(api|providers|http)/' src/routing || true)"
violations "router/ uses a module other than core/ (routing/ depends on it)" \
  "$(grep -rnE '#include "[a-z_]+/' src/router | grep -vE '#include "(core|router)/' || true)"
violations "core/ uses other modules" "$(grep -rnE '#include "[a-z_]+/' src/core | grep -v '#include "core/' || true)"
((fail == 0)) && echo "deps: include rules hold"
exit $fail
