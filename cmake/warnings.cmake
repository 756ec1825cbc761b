# Warnings are errors on our own targets only; third-party headers come in as SYSTEM.
set(SY_WARNINGS
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual
    -Wnull-dereference -Wimplicit-fallthrough -Wconversion -Wsign-conversion -Wcast-qual
    -Wformat=2 -Wmissing-declarations -Werror)

function(sy_apply_warnings target)
  target_compile_options(${target} PRIVATE ${SY_WARNINGS})
endfunction()
