# ASan+UBSan for the whole build (our code and the Asio/Beast translation unit alike), so that
# the test command runs every unit and integration test under them. Any report aborts.
if(SY_SANITIZE)
  set(SY_SAN_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_compile_options(${SY_SAN_FLAGS})
  add_link_options(-fsanitize=address,undefined)
endif()
