#include "common/file_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "common/error.hpp"

namespace duckmesh::fileio {

void UniqueFd::reset() noexcept {
  if (fd_ >= 0) {
    // Linux releases the descriptor even when close() fails; retrying could
    // close a descriptor another thread has just been given.
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

UniqueFd open_file(const std::filesystem::path& path, int flags, unsigned mode) {
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

void pwrite_all(int fd, std::string_view bytes, std::uint64_t offset,
                const std::filesystem::path& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("write", path, errno);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
}

void sync_file(int fd, const std::filesystem::path& path) {
  if (::fsync(fd) != 0) throw_errno("fsync", path, errno);
}

void sync_data(int fd, const std::filesystem::path& path) {
  if (::fdatasync(fd) != 0) throw_errno("fdatasync", path, errno);
}

void sync_dir(const std::filesystem::path& dir) {
  UniqueFd fd = open_file(dir, O_RDONLY | O_DIRECTORY);
  sync_file(fd.get(), dir);
}

void truncate_durably(int fd, std::uint64_t size, const std::filesystem::path& path) {
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) throw_errno("ftruncate", path, errno);
  sync_file(fd, path);
}

namespace {

// Reads buf[0, size) from `offset` on, until it is full or the file ends;
// retries short reads and EINTR. Returns the bytes read.
std::size_t read_full(int fd, char* buf, std::size_t size, std::uint64_t offset,
                      const std::filesystem::path& path) {
  std::size_t have = 0;
  while (have < size) {
    const ssize_t n = ::pread(fd, buf + have, size - have, static_cast<off_t>(offset + have));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("read", path, errno);
    }
    if (n == 0) break;
    have += static_cast<std::size_t>(n);
  }
  return have;
}

}  // namespace

std::string read_all(int fd, const std::filesystem::path& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw_errno("stat", path, errno);
  std::string out(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t have = read_full(fd, out.data(), out.size(), 0, path);
  // The file may have grown since fstat: read on until its end.
  while (have == out.size()) {
    out.resize(out.size() + (1 << 16));
    have += read_full(fd, out.data() + have, out.size() - have, have, path);
  }
  out.resize(have);
  return out;
}

std::string read_at(int fd, std::uint64_t offset, std::size_t size,
                    const std::filesystem::path& path) {
  std::string out(size, '\0');
  out.resize(read_full(fd, out.data(), size, offset, path));
  return out;
}

void make_dir_durably(const std::filesystem::path& dir) {
  if (::mkdir(dir.c_str(), 0755) == 0) {
    sync_dir(dir.parent_path());
    return;
  }
  if (errno == ENOENT && dir.has_parent_path() && dir.parent_path() != dir) {
    make_dir_durably(dir.parent_path());
    make_dir_durably(dir);
    return;
  }
  if (errno != EEXIST) throw_errno("mkdir", dir, errno);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) throw_errno("stat", dir, errno);
  if (!S_ISDIR(st.st_mode)) throw_errno("mkdir", dir, ENOTDIR);
}

}  // namespace duckmesh::fileio
