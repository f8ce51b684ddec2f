// Owned POSIX file descriptor and the few checked syscalls the local store
// needs. Every failure becomes a duckmesh::Error naming the operation, the
// path and the errno text.
#pragma once

#include <filesystem>
#include <string_view>
#include <utility>

namespace duckmesh::storage::local {

// Closes the descriptor on destruction. A close() error on a descriptor that
// was fsynced before is harmless and ignored; callers that need durability
// call fsync() themselves before letting go.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  void reset() noexcept;

 private:
  int fd_ = -1;
};

// Throws the Error for a failed syscall: unavailable for conditions that may
// pass (disk full, out of descriptors, I/O error), internal otherwise.
[[noreturn]] void throw_errno(std::string_view op, const std::filesystem::path& path, int err);

// open(2) with O_CLOEXEC added; throws on failure.
UniqueFd open_or_throw(const std::filesystem::path& path, int flags, unsigned mode = 0644);

// Writes all of `bytes`, retrying short writes and EINTR.
void write_all(int fd, std::string_view bytes, const std::filesystem::path& path);

// fsync(2) of an open file; throws on failure.
void fsync_or_throw(int fd, const std::filesystem::path& path);

// Opens `dir` read-only and fsyncs it, making entries created, renamed or
// removed in it durable.
void fsync_dir(const std::filesystem::path& dir);

}  // namespace duckmesh::storage::local
