#include "storage/local/local_object_store.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "common/error.hpp"
#include "common/file_io.hpp"

namespace duckmesh::storage {
namespace fs = std::filesystem;
using fileio::open_file;
using fileio::read_all;
using fileio::sync_dir;
using fileio::sync_file;
using fileio::throw_errno;
using fileio::UniqueFd;
using fileio::write_all;

namespace {

[[noreturn]] void throw_conflict(const std::string& key) {
  boost::json::object details;
  details["key"] = key;
  throw Error(ErrorCode::conflict,
              "object '" + key + "' already exists; objects are immutable, write under a new key",
              std::move(details));
}

[[noreturn]] void throw_not_found(const std::string& key) {
  boost::json::object details;
  details["key"] = key;
  throw Error(ErrorCode::not_found, "object '" + key + "' does not exist", std::move(details));
}

// True if something (object or directory) already occupies `path`.
bool occupied(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT || errno == ENOTDIR) return false;
  throw_errno("stat", path, errno);
}

std::int64_t mtime_ms(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000 +
         static_cast<std::int64_t>(st.st_mtim.tv_nsec) / 1'000'000;
}

// Copies `source` into the new file `dest` and fsyncs it. Used when the
// source lives on another filesystem and cannot be renamed.
void copy_durably(const fs::path& source, const fs::path& dest) {
  UniqueFd in = open_file(source, O_RDONLY);
  UniqueFd out = open_file(dest, O_WRONLY | O_CREAT | O_EXCL, 0644);
  std::string buffer(1 << 20, '\0');
  for (;;) {
    const ssize_t n = ::read(in.get(), buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("read", source, errno);
    }
    if (n == 0) break;
    write_all(out.get(), std::string_view(buffer.data(), static_cast<std::size_t>(n)), dest);
  }
  sync_file(out.get(), dest);
}

// Walks `dir` (whose key is `dir_key`, "" for the root) collecting regular
// files whose key starts with `prefix`. Entries that vanish while walking
// (concurrent remove) are skipped; any other error throws.
void walk(const fs::path& dir, const std::string& dir_key, const std::string& prefix,
          std::vector<ObjectInfo>& out) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory) return;
    throw_errno("opendir", dir, ec.value());
  }
  for (const fs::directory_iterator end; it != end; it.increment(ec)) {
    if (ec) throw_errno("readdir", dir, ec.value());
    const std::string name = it->path().filename().string();
    if (dir_key.empty() && name == ".tmp") continue;
    const std::string key = dir_key.empty() ? name : dir_key + "/" + name;
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) {
      if (errno == ENOENT) continue;
      throw_errno("stat", it->path(), errno);
    }
    if (S_ISDIR(st.st_mode)) {
      const std::string as_dir = key + "/";
      // Descend only where a matching key can live.
      if (as_dir.starts_with(prefix) || prefix.starts_with(as_dir)) {
        walk(it->path(), key, prefix, out);
      }
    } else if (S_ISREG(st.st_mode) && key.starts_with(prefix)) {
      out.push_back(ObjectInfo{key, static_cast<std::uint64_t>(st.st_size), mtime_ms(st)});
    }
  }
  if (ec) throw_errno("readdir", dir, ec.value());
}

// Absolute, normalized, without a trailing '/', so that keys map to exactly
// one path and relative paths computed from it are clean.
fs::path normalized_root(const fs::path& root) {
  fs::path out = fs::absolute(root).lexically_normal();
  if (!out.has_filename() && out.has_parent_path() && out != out.root_path()) {
    out = out.parent_path();
  }
  return out;
}

}  // namespace

LocalObjectStore::LocalObjectStore(const fs::path& root)
    : root_(normalized_root(root)), tmp_(root_ / ".tmp") {
  for (const fs::path& dir : {root_, tmp_}) {
    if (occupied(dir)) continue;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw_errno("mkdir", dir, ec.value());
    sync_dir(dir.parent_path());
  }
  std::lock_guard lock(durable_dirs_mu_);
  durable_dirs_.insert(root_);
}

fs::path LocalObjectStore::temp_path() const {
  return tmp_ / unique_key("", ".part");
}

void LocalObjectStore::ensure_parents(const fs::path& dest) {
  const fs::path relative = dest.parent_path().lexically_relative(root_);
  fs::path dir = root_;
  for (const fs::path& segment : relative) {
    if (segment.empty() || segment == ".") continue;
    const fs::path parent = dir;
    dir /= segment;
    {
      std::lock_guard lock(durable_dirs_mu_);
      if (durable_dirs_.contains(dir)) continue;
    }
    if (::mkdir(dir.c_str(), 0755) != 0) {
      if (errno != EEXIST) throw_errno("mkdir", dir, errno);
      struct stat st {};
      if (::stat(dir.c_str(), &st) != 0) throw_errno("stat", dir, errno);
      if (!S_ISDIR(st.st_mode)) {
        throw_conflict(dir.lexically_relative(root_).string() +
                       " (an object is in the way of a directory of the key)");
      }
    }
    // Fsync the parent even when the directory already existed: another
    // thread or process may have created it and not yet made it durable, and
    // our object must not depend on its fsync.
    sync_dir(parent);
    std::lock_guard lock(durable_dirs_mu_);
    durable_dirs_.insert(dir);
  }
}

void LocalObjectStore::publish(const fs::path& temp, const std::string& key) {
  const fs::path dest = root_ / key;
  ensure_parents(dest);
  if (::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, dest.c_str(), RENAME_NOREPLACE) != 0) {
    const int err = errno;
    if (err == EEXIST) throw_conflict(key);
    if (err != EINVAL && err != ENOSYS) throw_errno("rename", dest, err);
    // The filesystem has no RENAME_NOREPLACE: link() refuses an existing
    // destination just as atomically.
    if (::link(temp.c_str(), dest.c_str()) != 0) {
      if (errno == EEXIST) throw_conflict(key);
      throw_errno("link", dest, errno);
    }
    // The object is published at this point. A failing unlink leaves a second
    // name of the same immutable file in .tmp/, which gc removes as an
    // orphan; failing the put would make the caller retry into a conflict.
    static_cast<void>(::unlink(temp.c_str()));
  }
  sync_dir(dest.parent_path());
}

void LocalObjectStore::put(const std::string& key, std::string_view bytes) {
  check_key(key);
  if (occupied(root_ / key)) throw_conflict(key);
  const fs::path temp = temp_path();
  try {
    UniqueFd fd = open_file(temp, O_WRONLY | O_CREAT | O_EXCL, 0644);
    write_all(fd.get(), bytes, temp);
    sync_file(fd.get(), temp);
    fd.reset();
    publish(temp, key);
  } catch (...) {
    static_cast<void>(::unlink(temp.c_str()));  // absent if it never got created
    throw;
  }
}

void LocalObjectStore::put_file(const std::string& key, const fs::path& source) {
  check_key(key);
  struct stat st {};
  if (::stat(source.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      throw Error(ErrorCode::not_found, "put_file source " + source.string() + " does not exist");
    }
    throw_errno("stat", source, errno);
  }
  if (!S_ISREG(st.st_mode)) {
    throw Error(ErrorCode::invalid_input,
                "put_file source " + source.string() + " is not a regular file");
  }
  if (occupied(root_ / key)) throw_conflict(key);

  const fs::path temp = temp_path();
  bool moved = false;
  if (::rename(source.c_str(), temp.c_str()) == 0) {
    moved = true;
  } else if (errno != EXDEV) {
    throw_errno("rename", source, errno);
  }
  try {
    if (moved) {
      // The writer may not have fsynced; the object must be durable on return.
      UniqueFd fd = open_file(temp, O_RDONLY);
      sync_file(fd.get(), temp);
    } else {
      copy_durably(source, temp);
    }
    publish(temp, key);
  } catch (...) {
    // Leave the caller's file where it was so a failed put loses nothing.
    if (moved) {
      static_cast<void>(::rename(temp.c_str(), source.c_str()));
    } else {
      static_cast<void>(::unlink(temp.c_str()));
    }
    throw;
  }
  if (!moved && ::unlink(source.c_str()) != 0 && errno != ENOENT) {
    const int err = errno;
    boost::json::object details;
    details["key"] = key;
    details["source"] = source.string();
    throw Error(ErrorCode::internal,
                "object '" + key + "' is stored, but its source " + source.string() +
                    " could not be removed: " + std::generic_category().message(err),
                std::move(details));
  }
}

std::string LocalObjectStore::get(const std::string& key) const {
  check_key(key);
  const fs::path path = root_ / key;
  int raw;
  do {
    raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (raw < 0 && errno == EINTR);
  if (raw < 0) {
    if (errno == ENOENT || errno == ENOTDIR) throw_not_found(key);
    throw_errno("open", path, errno);
  }
  UniqueFd fd(raw);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw_errno("stat", path, errno);
  if (!S_ISREG(st.st_mode)) throw_not_found(key);
  return read_all(fd.get(), path);
}

fs::path LocalObjectStore::local_path(const std::string& key) const {
  check_key(key);
  return root_ / key;
}

fs::path LocalObjectStore::local_directory(const std::string& prefix) const {
  check_key(prefix);
  fs::create_directories(root_ / prefix);
  return root_ / prefix;
}

std::optional<ObjectInfo> LocalObjectStore::stat(const std::string& key) const {
  check_key(key);
  const fs::path path = root_ / key;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    throw_errno("stat", path, errno);
  }
  if (!S_ISREG(st.st_mode)) return std::nullopt;
  return ObjectInfo{key, static_cast<std::uint64_t>(st.st_size), mtime_ms(st)};
}

std::vector<ObjectInfo> LocalObjectStore::list(const std::string& prefix) const {
  if (!prefix.empty()) {
    // A prefix need not be a whole key ("events/2024-0" is fine), but it must
    // not leave the root.
    if (prefix.front() == '/' || prefix.find("..") != std::string::npos ||
        prefix.find('\\') != std::string::npos) {
      throw Error(ErrorCode::invalid_input,
                  "invalid list prefix '" + prefix + "': must be relative, without '..' or '\\'");
    }
  }
  // Start at the deepest directory the prefix pins down.
  const std::size_t slash = prefix.rfind('/');
  const std::string dir_key = slash == std::string::npos ? "" : prefix.substr(0, slash);
  std::vector<ObjectInfo> out;
  if (!dir_key.empty() && dir_key.starts_with(".tmp") &&
      (dir_key.size() == 4 || dir_key[4] == '/')) {
    return out;
  }
  walk(dir_key.empty() ? root_ : root_ / dir_key, dir_key, prefix, out);
  std::sort(out.begin(), out.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

void LocalObjectStore::remove(const std::string& key) {
  check_key(key);
  const fs::path path = root_ / key;
  if (::unlink(path.c_str()) != 0) {
    // Absent, or the key names a directory, which is no object either.
    if (errno == ENOENT || errno == ENOTDIR || errno == EISDIR) return;
    throw_errno("unlink", path, errno);
  }
  sync_dir(path.parent_path());
}

fs::path LocalObjectStore::scratch_dir() const {
  return tmp_;
}

}  // namespace duckmesh::storage
