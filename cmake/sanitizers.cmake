# ASan+UBSan for the whole build (our code and the Asio/Beast translation unit alike), so that
# the test command runs every unit and integration test under them. Any report aborts.
if(SY_SANITIZE)
  set(SY_SAN_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_compile_options(${SY_SAN_FLAGS})
  # Line tables and function names only (-g1, after the build type's -g): all that the
  # sanitizers' stack traces print, and about a quarter less compile time than full debug
  # information for the test command's largest build (measured on a test translation unit:
  # 77 s with -g, 58 s with -g1). A debugger that needs variables wants a build without
  # SY_SANITIZE (CMAKE_BUILD_TYPE=Debug).
  add_compile_options(-g1)
  # -O1 (after the build type's -O2): the sanitizer build is the test command's longest step, and
  # -O1 compiles it about a third faster (measured on app/pipeline.cpp: 33.5 s at -O2, 21.1 s at
  # -O1) while keeping the inlining that makes ASan's checks cheap enough to run every test.
  add_compile_options(-O1)
  add_link_options(-fsanitize=address,undefined)
endif()
