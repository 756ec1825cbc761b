#include "core/file.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sy::core {
namespace {

Error FileError(Errc code, std::string_view what, const std::string& path, std::string_view why) {
  return MakeError(code, std::string(what) + " " + path + ": " + std::string(why));
}

std::string ErrnoText(int error) {
  return std::strerror(error);  // NOLINT(concurrency-mt-unsafe): glibc's is thread-safe
}

// Closes the descriptor on every way out of ReadRegularFile.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

Result<std::string> ReadRegularFile(const std::string& path, uint64_t max_bytes,
                                    std::string_view what) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer before fstat could
  // refuse it. It changes nothing for a regular file.
  const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (fd.get() < 0) {
    const int error = errno;
    if (error == ENOENT) return FileError(Errc::kNotFound, what, path, "no such file");
    return FileError(Errc::kNotFound, what, path, "cannot be opened (" + ErrnoText(error) + ")");
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return FileError(Errc::kInvalidRequest, what, path,
                     "cannot be read (" + ErrnoText(errno) + ")");
  }
  if (!S_ISREG(st.st_mode)) {
    return FileError(Errc::kInvalidRequest, what, path, "not a regular file");
  }
  const auto too_large = [&] {
    return FileError(Errc::kPayloadTooLarge, what, path,
                     "larger than " + std::to_string(max_bytes) + " bytes");
  };
  if (static_cast<uint64_t>(st.st_size) > max_bytes) return too_large();
  // The size is a hint only: the file may grow while it is read, so the read itself stops one
  // byte past the limit.
  std::string bytes;
  bytes.reserve(static_cast<size_t>(st.st_size));
  char buffer[64 * 1024];
  while (bytes.size() <= max_bytes) {
    const uint64_t room = max_bytes + 1 - bytes.size();
    const size_t want = room < sizeof buffer ? static_cast<size_t>(room) : sizeof buffer;
    const ssize_t got = ::read(fd.get(), buffer, want);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      return FileError(Errc::kInvalidRequest, what, path,
                       "cannot be read (" + ErrnoText(errno) + ")");
    }
    if (got == 0) return bytes;
    bytes.append(buffer, static_cast<size_t>(got));
  }
  return too_large();
}

}  // namespace sy::core
