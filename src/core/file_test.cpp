// ReadRegularFile: the size limit and the refusal of what is not a regular file (audit 2,
// finding 5: `serve --config /dev/zero` and friends grew to 7-10 GB).
#include "core/file.h"

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

namespace sy::core {
namespace {

class ReadRegularFileTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "sy-file-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& bytes) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  std::string dir_;
};

TEST_F(ReadRegularFileTest, ReadsAFileUpToTheLimit) {
  const std::string path = Write("ten", "0123456789");
  auto bytes = ReadRegularFile(path, 10, "test file");
  ASSERT_TRUE(bytes) << bytes.error().message;
  EXPECT_EQ(*bytes, "0123456789");
  auto empty = ReadRegularFile(Write("empty", ""), 0, "test file");
  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_EQ(*empty, "");
}

TEST_F(ReadRegularFileTest, RefusesAFileOneByteOverTheLimitNamingPathAndLimit) {
  const std::string path = Write("eleven", "0123456789a");
  auto bytes = ReadRegularFile(path, 10, "test file");
  ASSERT_FALSE(bytes);
  EXPECT_EQ(bytes.error().code, Errc::kPayloadTooLarge);
  EXPECT_EQ(bytes.error().message, "test file " + path + ": larger than 10 bytes");
}

// /proc files are regular files whose size reads 0: the read itself stops past the limit.
TEST_F(ReadRegularFileTest, StopsReadingOneBytePastTheLimitWhateverTheSizeSays) {
  auto bytes = ReadRegularFile("/proc/self/status", 16, "test file");
  ASSERT_FALSE(bytes);
  EXPECT_EQ(bytes.error().code, Errc::kPayloadTooLarge);
  EXPECT_EQ(bytes.error().message, "test file /proc/self/status: larger than 16 bytes");
}

TEST_F(ReadRegularFileTest, FollowsASymlinkToARegularFile) {
  const std::string target = Write("target", "yes");
  const std::string link = dir_ + "/link";
  std::filesystem::create_symlink(target, link);
  auto bytes = ReadRegularFile(link, 10, "test file");
  ASSERT_TRUE(bytes) << bytes.error().message;
  EXPECT_EQ(*bytes, "yes");
}

TEST_F(ReadRegularFileTest, RefusesAMissingFile) {
  auto bytes = ReadRegularFile(dir_ + "/missing", 10, "test file");
  ASSERT_FALSE(bytes);
  EXPECT_EQ(bytes.error().code, Errc::kNotFound);
  EXPECT_EQ(bytes.error().message, "test file " + dir_ + "/missing: no such file");
}

// Each would be read until memory ran out (a device), or block for ever (a FIFO with no writer):
// they are refused before a byte is read.
TEST_F(ReadRegularFileTest, RefusesWhatIsNotARegularFileUnread) {
  const std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  for (const std::string& path : {fifo, dir_, std::string("/dev/zero")}) {
    auto bytes = ReadRegularFile(path, 1 << 20, "test file");
    ASSERT_FALSE(bytes) << path;
    EXPECT_EQ(bytes.error().code, Errc::kInvalidRequest) << path;
    EXPECT_EQ(bytes.error().message, "test file " + path + ": not a regular file");
  }
}

}  // namespace
}  // namespace sy::core
