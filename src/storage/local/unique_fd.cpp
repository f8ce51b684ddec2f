#include "storage/local/unique_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

#include "common/error.hpp"

namespace duckmesh::storage::local {

void UniqueFd::reset() noexcept {
  if (fd_ >= 0) {
    // Linux releases the descriptor even when close() reports an error, so
    // retrying would close an unrelated descriptor.
    ::close(fd_);
    fd_ = -1;
  }
}

void throw_errno(std::string_view op, const std::filesystem::path& path, int err) {
  ErrorCode code = ErrorCode::internal;
  switch (err) {
    case ENOSPC:
    case EDQUOT:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
    case EAGAIN:
    case EBUSY:
    case EIO:
    case ETIMEDOUT: code = ErrorCode::unavailable; break;
    default: break;
  }
  boost::json::object details;
  details["path"] = path.string();
  details["errno"] = err;
  throw Error(code,
              std::string(op) + " " + path.string() + ": " + std::generic_category().message(err),
              std::move(details));
}

UniqueFd open_or_throw(const std::filesystem::path& path, int flags, unsigned mode) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, static_cast<mode_t>(mode));
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) throw_errno("open", path, errno);
  return UniqueFd(fd);
}

void write_all(int fd, std::string_view bytes, const std::filesystem::path& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("write", path, errno);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

void fsync_or_throw(int fd, const std::filesystem::path& path) {
  if (::fsync(fd) != 0) throw_errno("fsync", path, errno);
}

void fsync_dir(const std::filesystem::path& dir) {
  UniqueFd fd = open_or_throw(dir, O_RDONLY | O_DIRECTORY);
  fsync_or_throw(fd.get(), dir);
}

}  // namespace duckmesh::storage::local
