# Warnings are errors on our own targets only; third-party headers come in as SYSTEM.
set(SY_WARNINGS
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual
    -Wimplicit-fallthrough -Wconversion -Wsign-conversion -Wcast-qual
    -Wformat=2 -Wmissing-declarations -Werror
    # GCC 12 at -O3 reports a false -Wrestrict inside libstdc++ string code (GCC PR 105329).
    -Wno-restrict)
# Not in the set: -Wnull-dereference. With GCC 12 at -O2/-O3 it fires inside Asio's inlined
# executor comparison in every file that awaits anything, and cannot be silenced per header.

function(sy_apply_warnings target)
  target_compile_options(${target} PRIVATE ${SY_WARNINGS})
endfunction()
if(SY_SANITIZE)
  # With ASan at -O2, GCC 12 pairs Asio's coroutine-frame operator new (aligned_alloc) with its
  # sized operator delete and reports a mismatch that is not there.
  list(APPEND SY_WARNINGS -Wno-mismatched-new-delete)
endif()
