# sy_module(NAME <name> DEPS <sy_ modules and third-party targets>)
#
# Builds src/<name>/ as the static library sy_<name> from every .cpp below it except *_test.cpp,
# and, when tests are on, one test executable sy_<name>_test from the *_test.cpp files below it
# and one, sy_<name>_pg_test, from its *_pg_test.cpp files (tests on a real PostgreSQL), and one,
# sy_<name>_redis_test, from its *_redis_test.cpp files (tests on a real Redis); each of those
# two is one ctest (sy_server_test below).
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
                                                         ${ARG_TEST_DEPS} GTest::gmock)
    sy_apply_warnings(sy_${ARG_NAME}_pg_test)
    sy_server_test(NAME ${ARG_NAME}_postgres TARGET sy_${ARG_NAME}_pg_test SERVER postgres)
  endif()
  # *_redis_test.cpp: tests against a real Redis (tests/testutil/redis_server.h), one ctest for
  # the binary likewise.
  if(SY_BUILD_TESTS AND redis_test_sources)
    add_executable(sy_${ARG_NAME}_redis_test ${redis_test_sources})
    target_link_libraries(sy_${ARG_NAME}_redis_test PRIVATE sy_${ARG_NAME} sy_testutil_redis
                                                            ${ARG_TEST_DEPS} GTest::gmock)
    sy_apply_warnings(sy_${ARG_NAME}_redis_test)
    sy_server_test(NAME ${ARG_NAME}_redis TARGET sy_${ARG_NAME}_redis_test SERVER redis)
  endif()
endfunction()

# sy_server_test(NAME <ctest name> TARGET <test executable> SERVER <postgres|redis>)
#
# One ctest for a GoogleTest binary whose tests share a real server. Since ctest sees only the
# binary's exit code, the binary gets tests/testutil/server_test_main.cpp's main() instead of
# gtest_main: 1 when a test failed, or skipped under SY_REQUIRE_TEST_SERVERS (scripts/test.sh);
# 77 (testutil::kSkippedExitCode) when a test skipped otherwise, which ctest shows as skipped;
# 0 only when every test ran and passed (tests/testutil/server_tests.h says why).
# SKIP_REGULAR_EXPRESSION on "[  SKIPPED ]" would not do: it marks the test skipped whatever
# its exit code, so one skip would hide another test's failure.
function(sy_server_test)
  cmake_parse_arguments(ARG "" "NAME;TARGET;SERVER" "" ${ARGN})
  target_link_libraries(${ARG_TARGET} PRIVATE sy_testutil_server_main)
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_TARGET})
  set_tests_properties(${ARG_NAME} PROPERTIES LABELS "unit;${ARG_SERVER}" TIMEOUT 300
                                              SKIP_RETURN_CODE 77)
endfunction()
