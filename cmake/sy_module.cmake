# sy_module(NAME <name> DEPS <sy_ modules and third-party targets>)
#
# Builds src/<name>/ as the static library sy_<name> from every .cpp below it except *_test.cpp,
# and, when tests are on, one test executable sy_<name>_test from the *_test.cpp files below it
# and one, sy_<name>_pg_test, from its *_pg_test.cpp files (tests on a real PostgreSQL), and one,
# sy_<name>_redis_test, from its *_redis_test.cpp files (tests on a real Redis).
# The DEPS list is the dependency rule made mechanical: a module can only call what it links.
function(sy_module)
  cmake_parse_arguments(ARG "" "NAME" "DEPS;TEST_DEPS" ${ARGN})
  file(GLOB_RECURSE all_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  set(lib_sources ${all_sources})
  list(FILTER lib_sources EXCLUDE REGEX "(_test|_bench|/main)\\.cpp$")
  set(test_sources ${all_sources})
  list(FILTER test_sources INCLUDE REGEX "_test\\.cpp$")
  set(pg_test_sources ${test_sources})
  list(FILTER pg_test_sources INCLUDE REGEX "_pg_test\\.cpp$")
  set(redis_test_sources ${test_sources})
  list(FILTER redis_test_sources INCLUDE REGEX "_redis_test\\.cpp$")
  list(FILTER test_sources EXCLUDE REGEX "_(pg|redis)_test\\.cpp$")

  if(NOT lib_sources)  # a module being written has no sources yet; keep the tree configurable
    set(lib_sources ${CMAKE_CURRENT_BINARY_DIR}/empty.cpp)
    file(WRITE ${lib_sources} "")
  endif()
  add_library(sy_${ARG_NAME} STATIC ${lib_sources})
  target_include_directories(sy_${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(sy_${ARG_NAME} PUBLIC ${ARG_DEPS})
  sy_apply_warnings(sy_${ARG_NAME})

  if(SY_BUILD_TESTS AND test_sources)
    add_executable(sy_${ARG_NAME}_test ${test_sources})
    target_link_libraries(sy_${ARG_NAME}_test PRIVATE sy_${ARG_NAME} sy_testutil ${ARG_TEST_DEPS}
                                                      GTest::gtest_main GTest::gmock)
    sy_apply_warnings(sy_${ARG_NAME}_test)
    gtest_discover_tests(sy_${ARG_NAME}_test DISCOVERY_MODE PRE_TEST
                         PROPERTIES LABELS unit TIMEOUT 120)
  endif()
  # *_pg_test.cpp: tests against a real PostgreSQL (tests/testutil/pg_server.h). One ctest runs
  # the whole binary, so its tests share one server instead of starting one each.
  if(SY_BUILD_TESTS AND pg_test_sources)
    add_executable(sy_${ARG_NAME}_pg_test ${pg_test_sources})
    target_link_libraries(sy_${ARG_NAME}_pg_test PRIVATE sy_${ARG_NAME} sy_testutil_pg
                                                         ${ARG_TEST_DEPS} GTest::gtest_main GTest::gmock)
    sy_apply_warnings(sy_${ARG_NAME}_pg_test)
    add_test(NAME ${ARG_NAME}_postgres COMMAND sy_${ARG_NAME}_pg_test)
    set_tests_properties(${ARG_NAME}_postgres PROPERTIES LABELS "unit;postgres" TIMEOUT 300)
  endif()
  # *_redis_test.cpp: tests against a real Redis (tests/testutil/redis_server.h), one ctest for
  # the binary likewise.
  if(SY_BUILD_TESTS AND redis_test_sources)
    add_executable(sy_${ARG_NAME}_redis_test ${redis_test_sources})
    target_link_libraries(sy_${ARG_NAME}_redis_test PRIVATE sy_${ARG_NAME} sy_testutil_redis
                                                            ${ARG_TEST_DEPS} GTest::gtest_main GTest::gmock)
    sy_apply_warnings(sy_${ARG_NAME}_redis_test)
    add_test(NAME ${ARG_NAME}_redis COMMAND sy_${ARG_NAME}_redis_test)
    set_tests_properties(${ARG_NAME}_redis PROPERTIES LABELS "unit;redis" TIMEOUT 300)
  endif()
endfunction()
