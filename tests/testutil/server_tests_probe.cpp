// A test binary with server_test_main.cpp's main(), run by server_tests_test.cpp: which of its
// tests run is chosen with --gtest_filter.
#include <gtest/gtest.h>

namespace {

TEST(Probe, Passes) { EXPECT_TRUE(true); }

TEST(Probe, Skips) { GTEST_SKIP() << "the probe's skip"; }

TEST(Probe, Fails) { EXPECT_TRUE(false) << "the probe's failure"; }

}  // namespace
