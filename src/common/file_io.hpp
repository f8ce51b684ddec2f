// Owned POSIX file descriptors and the checked syscalls of the local
// backends (the log bus and the object store). Every failure becomes a
// duckmesh::Error naming the operation, the path and the errno text.
//
// The functions keep no state of their own; calling them concurrently is as
// safe as the syscalls they wrap on the descriptors passed in.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

namespace duckmesh::fileio {

// Closes the descriptor on destruction. Whoever needs durability syncs
// (sync_file, sync_data) before letting go, so a close() error carries no
// information and is not reported.
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

// open(2) with O_CLOEXEC added, retried on EINTR; throws on failure.
UniqueFd open_file(const std::filesystem::path& path, int flags, unsigned mode = 0644);

// Writes all of `bytes` at the file position, retrying short writes and
// EINTR.
void write_all(int fd, std::string_view bytes, const std::filesystem::path& path);

// Writes all of `bytes` at `offset`, retrying short writes and EINTR.
void pwrite_all(int fd, std::string_view bytes, std::uint64_t offset,
                const std::filesystem::path& path);

// fsync(2) of an open file: its contents and metadata are durable on return;
// throws on failure.
void sync_file(int fd, const std::filesystem::path& path);

// fdatasync(2); throws on failure. After a failure the file's contents are
// unknown (Linux may drop the dirty pages), so callers stop writing to it.
void sync_data(int fd, const std::filesystem::path& path);

// Opens `dir` read-only and fsyncs it, making entries created, renamed or
// removed in it durable.
void sync_dir(const std::filesystem::path& dir);

// Truncates the open file to `size` bytes and syncs the change.
void truncate_durably(int fd, std::uint64_t size, const std::filesystem::path& path);

// The whole content of an open file, read from offset 0.
std::string read_all(int fd, const std::filesystem::path& path);

// Up to `size` bytes of an open file from `offset` (fewer only at its end).
std::string read_at(int fd, std::uint64_t offset, std::size_t size,
                    const std::filesystem::path& path);

// Creates `dir` (and missing parents) if absent; a created directory's parent
// is synced so the directory survives a crash.
void make_dir_durably(const std::filesystem::path& dir);

}  // namespace duckmesh::fileio
